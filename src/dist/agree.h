/* agree.h — agreed collectives. Before a collective that some rank may be
 * unable to enter (it ran out of memory, a file would not open), every
 * rank of the communicator learns whether all of them can, so that all
 * enter it or all fail together and none waits in it for ever. Every
 * module that reaches a collective after something that can fail on one
 * rank goes through here: the reader and its key checks, the shuffle, the
 * facts and the engine's keyed stages and reduction, the pipeline's input
 * digests.
 *
 * MPI's own errors are not returned to anyone: esep relies on
 * MPI_ERRORS_ARE_FATAL (main.c sets it), so a failed MPI call aborts every
 * rank with a message. What is agreed here is esep's own failures.
 *
 * Test hook: the agreements taken with dist_agree_at and
 * dist_gather_bytes are named, and ESEP_FAIL_AT=<name> (ESEP_FAIL_RANK=<r>
 * for one rank) makes that rank see a local failure there
 * (base/stoppoint.h). Names: shuffle (the start of every bounded shuffle,
 * key checks included), keyed (after an input's keyed stage), reduce (the
 * gather of a report's observations on rank 0), rejects (a report's
 * rejected rows packed and gathered), digests (before the input digests),
 * publish (the outcomes of the bundles each rank built, gathered on rank 0).
 * One fail point is not an agreement: relay (ingest/reader.c: a rank stops
 * after its first segment of a relayed single frame, while the others are
 * still sending and receiving). */
#ifndef ESEP_DIST_AGREE_H
#define ESEP_DIST_AGREE_H

#include <mpi.h>
#include <stddef.h>

/* Collective over comm: 1 on every rank when local_ok is non-zero on every
 * rank, else 0 on every rank. Cannot fail. */
int dist_agree(MPI_Comm comm, int local_ok);

/* dist_agree at the named point, where ESEP_FAIL_AT can make this rank's
 * local_ok 0 (above). Cannot fail. */
int dist_agree_at(MPI_Comm comm, const char *point, int local_ok);

/* Collective: the largest status over comm (0 is success, larger is
 * worse), returned on every rank. When it is not 0, msg (msglen bytes, the
 * same size on every rank) is replaced on every rank by the message of the
 * lowest rank whose status is the largest, so what is reported does not
 * depend on the number of ranks. Cannot fail. */
int dist_agree_status(MPI_Comm comm, int status, char *msg, int msglen);

/* Returns once every rank of comm has called it, sleeping in 200 µs steps
 * meanwhile: Open MPI's blocking calls busy-poll, and a rank done with its
 * share early would otherwise take CPU from the ranks still working
 * wherever the node is shared or oversubscribed. Cannot fail. */
void dist_wait_all(MPI_Comm comm);

/* Collective: every rank's bytes gathered on rank 0 in rank order, into
 * *all (malloc'd, caller frees; NULL on the other ranks) and *total (0 on
 * the other ranks). Returns 0, or -1 on every rank (nothing to free) when rank 0 is out
 * of memory, the whole would exceed INT_MAX bytes, or ESEP_FAIL_AT names
 * point: agreed before each transfer, so no rank waits for ever. */
int dist_gather_bytes(MPI_Comm comm, const char *point, const void *data, size_t bytes, char **all,
                      size_t *total);

#endif
