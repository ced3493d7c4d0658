/* facts.h — rows kept for keyed work (distinct counts, joins, households,
 * schools): per row a key, its line (identity within its extract), a sign
 * (+1 accepted, −1 withdrawn when ingest rejected the row afterwards) and
 * a fixed number of int64 values. Owns the columns; ships rows to the rank
 * owning their key; sorts; cancels withdrawn rows against their originals. */
#ifndef ESEP_FACTS_H
#define ESEP_FACTS_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t ncols;
    size_t n, cap;
    int64_t *key, *line;
    int8_t *sign;               /* +1 or −1: one byte, as a table of persons
                                   facts holds millions of rows per rank */
    int64_t **col;              /* ncols arrays of n values */
} fact_table;

/* Prepares an empty table of ncols value columns. 0, or -1 out of memory. */
int facts_init(fact_table *f, size_t ncols);

void facts_free(fact_table *f);

/* Appends one row (values: ncols of them). 0, or -1 out of memory. */
int facts_push(fact_table *f, int64_t key, int64_t line, int64_t sign, const int64_t *values);

/* Room for `more` rows after the n there are: the caller then writes rows
 * n … n+more-1 of every column itself and adds what it wrote to n (to
 * append a batch column by column). 0, or -1 out of memory. */
int facts_reserve(fact_table *f, size_t more);

/* Keeps the rows whose key keep(ctx, key) accepts, in order, and gives
 * back the memory of the others. Cannot fail. */
void facts_retain(fact_table *f, int (*keep)(const void *ctx, int64_t key), const void *ctx);

/* Collective: every row moves to key_owner(key); the rows a rank owns
 * already stay, first and in their order, and the rows it receives follow
 * (in no order a caller may rely on: sort them). 0, or -1 out of memory on
 * any rank (all return -1; the rows are then lost, the table stays valid
 * to free). */
int facts_shuffle(fact_table *f, MPI_Comm comm);

/* Collective: the same, but row i of f moves to rank dest(ctx, f, i), for
 * rows that belong elsewhere than key_owner (dest is called for each row
 * in order, with that row and the later ones still in place and f->n as
 * it was). */
int facts_shuffle_to(fact_table *f, MPI_Comm comm, int (*dest)(const void *ctx, const fact_table *f, size_t row),
                     const void *ctx);

/* Collective: every rank ends with every rank's rows (its own among them),
 * for a small table that a big one probes where the big one lies instead
 * of moving to the small one's key owners. 0, or -1 out of memory on any
 * rank or past INT_MAX values in all (all return -1; the table stays valid
 * to free). */
int facts_replicate(fact_table *f, MPI_Comm comm);

/* Sorts rows by (key, line, sign) and removes each withdrawn row with the
 * row it withdraws (same line). 0, or -1 out of memory. */
int facts_sort_and_cancel(fact_table *f);

/* Collapses rows with the same key and values into one (keeping the first
 * line), for rows that can never be withdrawn; the result is sorted by key.
 * 0, or -1 out of memory (the table is then unchanged). */
int facts_compact(fact_table *f);

#endif
