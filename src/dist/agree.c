/* agree.c — see agree.h. An agreement is one MPI_Allreduce of an int; the
 * named ones also read the environment (two getenv calls). */
#include "agree.h"

#include <limits.h>
#include <stdlib.h>
#include <time.h>

#include "../base/stoppoint.h"

int dist_agree(MPI_Comm comm, int local_ok) {
    int ok = local_ok != 0;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    return ok;
}

int dist_agree_at(MPI_Comm comm, const char *point, int local_ok) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (local_ok && fail_point(point, rank)) local_ok = 0;
    return dist_agree(comm, local_ok);
}

int dist_agree_status(MPI_Comm comm, int status, char *msg, int msglen) {
    int worst = status, rank;
    MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, comm);
    if (worst == 0) return 0;
    MPI_Comm_rank(comm, &rank);
    int who = status == worst ? rank : INT_MAX;
    MPI_Allreduce(MPI_IN_PLACE, &who, 1, MPI_INT, MPI_MIN, comm);
    MPI_Bcast(msg, msglen, MPI_CHAR, who, comm);
    return worst;
}

void dist_wait_all(MPI_Comm comm) {
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(comm, &req);
    for (MPI_Test(&req, &done, MPI_STATUS_IGNORE); !done; MPI_Test(&req, &done, MPI_STATUS_IGNORE))
        nanosleep(&(struct timespec){0, 200000}, NULL);
}

int dist_gather_bytes(MPI_Comm comm, const char *point, const void *data, size_t bytes, char **all,
                      size_t *total) {
    int rank, nranks, mine = bytes <= INT_MAX ? (int)bytes : 0, *counts = NULL, *displs = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    *all = NULL;
    if (rank == 0) {
        counts = calloc((size_t)nranks, sizeof *counts);
        displs = calloc((size_t)nranks, sizeof *displs);
    }
    if (!dist_agree_at(comm, point, bytes <= INT_MAX && (rank != 0 || (counts && displs))))
        return free(counts), free(displs), -1;
    MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
    size_t sum = 0;
    for (int r = 0; rank == 0 && r < nranks; r++) displs[r] = (int)(sum <= INT_MAX ? sum : 0), sum += (size_t)counts[r];
    if (rank == 0 && sum <= INT_MAX) *all = malloc(sum + 1);
    if (!dist_agree(comm, rank != 0 || *all)) return free(counts), free(displs), -1;
    MPI_Gatherv(data, mine, MPI_BYTE, *all, counts, displs, MPI_BYTE, 0, comm);
    free(counts), free(displs);
    *total = sum;
    return 0;
}
