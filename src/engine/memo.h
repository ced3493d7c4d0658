/* memo.h — the vectors of one batch that several inputs read. Forms that
 * are variants of one report evaluate the same expressions over the same
 * rows (the same where, kato, dimension source, measure filter); share.c
 * gives each distinct one an id, and the engine evaluates it once per
 * batch into its vector here, where every other input finds it. Owns the
 * vectors, which are kept from batch to batch (no allocation per batch
 * once they have grown). */
#ifndef ESEP_MEMO_H
#define ESEP_MEMO_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t **vec;          /* per id */
    size_t *cap;
    uint64_t *batch;        /* the batch each vector was filled in */
    size_t nids;
    uint64_t now;           /* the current batch, from 1 */
} memo;

/* Room for ids 0 … nids-1. 0, or -1 out of memory. */
int memo_init(memo *m, size_t nids);

void memo_free(memo *m);

/* Starts a batch: every vector becomes stale. Cannot fail. */
void memo_next_batch(memo *m);

/* id's vector if it was filled in this batch, else NULL. Cannot fail. */
const int64_t *memo_get(const memo *m, int id);

/* Room for n values of id in this batch (the caller fills it; it then
 * counts as filled). NULL out of memory. */
int64_t *memo_put(memo *m, int id, size_t n);

#endif
