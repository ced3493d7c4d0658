/* shuffle.h — sends fixed-size records to the rank that owns them, with
 * MPI_Alltoallv in rounds of bounded size, so that memory for messages
 * stays bounded however large the exchange. Owns the per-destination send
 * buffers. The owner of a key is key_owner(key, nranks): every module that
 * partitions by a key uses that one function, so partitions line up. */
#ifndef ESEP_SHUFFLE_H
#define ESEP_SHUFFLE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

/* Per rank, per round. Each round's send buffer and Open MPI's copies of
 * it come on top of the data being exchanged; at national scale the key
 * checks of persons set the peak memory of a rank, and 16 MiB instead of
 * 64 MiB brought it from 1025 MB to 999 MB (20 M persons, 2 ranks) for a
 * few more rounds of microseconds each. */
#define SHUFFLE_ROUND_BYTES (16u << 20)

typedef struct {
    int nranks;
    size_t record_size;
    char **buf;             /* per destination */
    size_t *len, *cap;      /* bytes */
} shuffle;

/* The rank that owns key among nranks. Cannot fail. */
int key_owner(int64_t key, int nranks);

/* Prepares empty send buffers. 0, or -1 out of memory (then free). */
int shuffle_init(shuffle *s, int nranks, size_t record_size);

/* Makes room for records more records to dest, so a caller that counts
 * first fills each buffer without growing it. 0, or -1 out of memory. */
int shuffle_reserve(shuffle *s, int dest, size_t records);

/* Copies one record into dest's buffer. 0, or -1 out of memory. */
int shuffle_push(shuffle *s, int dest, const void *record);

/* Collective over comm: delivers every pushed record to its destination.
 * On return *recv (malloc'd, caller frees; NULL when none) holds *nrecv
 * records, ordered by round, then by source rank, then push order; the
 * send buffers are emptied. Returns 0, or -1 when out of memory on any
 * rank (all ranks return -1 together). */
int shuffle_exchange(shuffle *s, MPI_Comm comm, void **recv, size_t *nrecv);

/* Collective over comm, like shuffle_exchange, for records already
 * grouped by destination in one array (per_dest[r] records for rank r, in
 * rank order; neither is owned): nothing is copied into send buffers
 * first, so a caller can group its records in place and send them with no
 * second copy of them in memory. Received records are ordered by round,
 * then by source rank, then array order. 0, or -1 when out of memory on
 * any rank (all ranks return -1 together). */
int shuffle_exchange_grouped(MPI_Comm comm, size_t record_size, const void *records, const size_t *per_dest,
                             void **recv, size_t *nrecv);

void shuffle_free(shuffle *s);

#endif
