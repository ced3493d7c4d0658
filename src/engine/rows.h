/* rows.h — engine-internal (engine.c, rowstage.c, keyed.c): where a row
 * lands and how it adds up. A row lands on a place (territory_place: the
 * objects it rolls up to) and a leaf (cube.h: one value of every
 * dimension), or its report rejects it (the kato does not count at E, a
 * dimension value is not the report's); the accumulated measures of its
 * input (count, sum, min, max, median) then add it to their tallies
 * (cube_tally; shared by identical inputs, share.c). The row stage does
 * this over batches (rowstage.c), the keyed stages over facts at the key
 * owner (keyed.c, and distinct counts there). Also the small helpers both
 * use: a batch column's value as int64, scratch vectors, an optional
 * program's evaluation. */
#ifndef ESEP_ROWS_H
#define ESEP_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* Row `row` of column c as an expression value (nulls: EXPR_NULL). */
int64_t rows_widen(const batch_column *c, size_t row);

/* Working vectors of one evaluation round, by slot; growing one slot
 * never moves another, so vectors handed out stay valid. */
typedef struct {
    int64_t **vec;
    size_t *len;
    size_t nvec;
} scratch;

/* Slot i with room for n values, or NULL out of memory. */
int64_t *scratch_vec(scratch *s, size_t i, size_t n);

void scratch_free(scratch *s);

/* p over n rows into out, or nothing when p is NULL. 0, or -1 out of
 * memory. */
int rows_eval(expr_program *p, const expr_input *in, size_t n, int64_t *out);

/* Records that rp rejects row `line` of extract (sign −1: withdrawn). 0,
 * or -1 out of memory. */
int rows_reject(report_plan *rp, int extract, int64_t line, int64_t sign, int reason);

/* What accumulation reads of n rows: each row's place (-1: its kato does
 * not count at E) and leaf (-1: a dimension value that is not one of the
 * report's), and per measure of the input its where and value vectors
 * (NULL: none, or not evaluated). */
typedef struct {
    const int64_t *place, *leaf;
    const int64_t *mask[REPORT_MAX_MEASURES];
    const int64_t *value[REPORT_MAX_MEASURES];
} row_values;

/* Places of n kato values. Cannot fail. */
void rows_places(const territory *t, const int64_t *kato, size_t n, int64_t *out);

/* Value indexes of one dimension for n rows (declared order, -1 = not a
 * value of the report) from its evaluated source v (a text dimension reads
 * text_batch). Cannot fail. */
void rows_dimension_index(const dim_plan *dp, size_t n, const int64_t *v, const row_batch *text_batch, int64_t *out);

/* Leaves of n rows from the value indexes of every dimension of c's
 * report. Cannot fail. */
void rows_leaves(const cube *c, const int64_t *const *index, size_t n, int64_t *out);

/* Adds n rows at the key owner to the tallies of ip's accumulated
 * measures (not the distinct ones): inactive rows are skipped, rows
 * without a place or leaf rejected. 0, or -1 out of memory. */
int rows_accumulate(report_plan *rp, const input_plan *ip, size_t n, const row_values *rv, const int8_t *sign,
                    const int64_t *line, const unsigned char *active);

/* Places and leaves of n facts bound in `in` into place and leaf (room
 * for n each; kato and dimensions in s's vectors from slot 100 on). 0, or
 * -1 out of memory. */
int rows_places_at_owner(engine *e, input_plan *ip, const expr_input *in, size_t n, scratch *s, int64_t *place,
                         int64_t *leaf);

/* The measures' where and value (only the distinct ones' when
 * only_distinct) of n facts bound in `in` into rv, in s's vectors from
 * slot 200 on. 0, or -1 out of memory. */
int rows_measures_at_owner(input_plan *ip, const expr_input *in, size_t n, int only_distinct, scratch *s,
                           row_values *rv);

#endif
