/* keyfilter.h — the keys an input may probe, shared by every rank as a
 * Bloom filter, so that a join keeps only the rows of its joined extract
 * that can match (LAB-01 joins job seekers to persons: without the filter
 * every persons row travels and is sorted for the few thousand seekers).
 * A Bloom filter has no false negatives, so a dropped row could never have
 * matched and results do not change; false positives only keep a row
 * that the join then ignores. Owns its bit array. */
#ifndef ESEP_KEYFILTER_H
#define ESEP_KEYFILTER_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define KEYFILTER_MAX_BITS (1ull << 27) /* 16 MB, summed over ranks once */
#define KEYFILTER_MAX_SETS 256

typedef struct {
    uint64_t *words;
    uint64_t nbits;               /* a power of two */
} key_filter;

/* Collective over comm: the filter of every rank's keys, given as nsets
 * arrays keys[s][0..n[s]). Returns 0, or -1 when out of memory on any rank
 * (all return -1; free anyway). */
int key_filter_build(key_filter *kf, const int64_t *const *keys, const size_t *n, size_t nsets, MPI_Comm comm);

/* 0 when key is surely not among the keys; 1 when it may be. Cannot fail. */
int key_filter_may_contain(const key_filter *kf, int64_t key);

void key_filter_free(key_filter *kf);

#endif
