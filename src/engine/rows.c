/* rows.c — see rows.h. */
#include "rows.h"

#include <stdlib.h>
#include <string.h>

int64_t rows_widen(const batch_column *c, size_t row) {
    if (c->i64) return c->i64[row];
    if (c->i32) return c->i32[row] == BATCH_NULL_I32 ? EXPR_NULL : c->i32[row];
    if (c->u8) return c->u8[row] == BATCH_NULL_ENUM ? EXPR_NULL : c->u8[row];
    return EXPR_NULL;
}

int64_t *scratch_vec(scratch *s, size_t i, size_t n) {
    if (i >= s->nvec) {
        size_t count = i + 8;
        int64_t **vec = realloc(s->vec, count * sizeof *vec);
        if (vec) s->vec = vec;
        size_t *len = vec ? realloc(s->len, count * sizeof *len) : NULL;
        if (!len) return NULL;
        s->len = len;
        for (size_t k = s->nvec; k < count; k++) s->vec[k] = NULL, s->len[k] = 0;
        s->nvec = count;
    }
    if (s->len[i] < n || !s->vec[i]) {
        int64_t *g = realloc(s->vec[i], (n ? n : 1) * sizeof *g);
        if (!g) return NULL;
        s->vec[i] = g;
        s->len[i] = n;
    }
    return s->vec[i];
}

void scratch_free(scratch *s) {
    for (size_t k = 0; k < s->nvec; k++) free(s->vec[k]);
    free(s->vec);
    free(s->len);
    memset(s, 0, sizeof *s);
}

int rows_eval(expr_program *p, const expr_input *in, size_t n, int64_t *out) {
    return p ? expr_eval(p, in, n, out) : 0;
}

/* ---- accumulation ------------------------------------------------------ */

int rows_reject(report_plan *rp, int extract, int64_t line, int64_t sign, int reason) {
    int64_t v = reason;
    return facts_push(&rp->rejects, extract, line, sign, &v);
}

void rows_places(const territory *t, const int64_t *kato, size_t n, int64_t *out) {
    for (size_t r = 0; r < n; r++) out[r] = kato[r] == EXPR_NULL ? -1 : territory_place(t, (int32_t)kato[r]);
}

/* Value indexes of one dimension for n rows (declared order, -1 = not a
 * value of the report) from its evaluated source v. */
void rows_dimension_index(const dim_plan *dp, size_t n, const int64_t *v, const row_batch *text_batch,
                            int64_t *out) {
    for (size_t r = 0; r < n; r++) {
        int idx = -1;
        if (dp->edges) {
            for (size_t k = 0; v[r] != EXPR_NULL && k < dp->nedges; k++)
                if (v[r] >= dp->edges[k]) idx = (int)k;
        } else if (dp->is_text && text_batch) {
            const batch_column *c = &text_batch->cols[dp->text_column];
            for (size_t w = 0; c->text_len[r] != BATCH_NULL_TEXT && w < dp->nvalues; w++)
                if (strlen(dp->values[w]) == c->text_len[r] &&
                    !memcmp(dp->values[w], text_batch->text + c->text_off[r], c->text_len[r]))
                    idx = (int)w;
        } else if (v[r] != EXPR_NULL && v[r] >= 0 && v[r] < SCHEMA_MAX_ENUM) {
            idx = dp->enum_map[v[r]];
        }
        out[r] = idx;
    }
}

/* Leaves of n rows from the value indexes of every dimension. */
void rows_leaves(const cube *c, const int64_t *const *index, size_t n, int64_t *out) {
    for (size_t r = 0; r < n; r++) {
        int64_t leaf = 0;
        for (size_t d = 0; d < c->job->ndims && leaf >= 0; d++)
            leaf = index[d][r] < 0 ? -1 : leaf + index[d][r] * (int64_t)c->leaf_stride[d];
        out[r] = leaf;
    }
}

/* Adds n rows (at the key owner) to the tallies of the input's
 * accumulated measures (not the distinct ones): inactive rows are skipped,
 * rows without a place or leaf are rejected. */
int rows_accumulate(report_plan *rp, const input_plan *ip, size_t n, const row_values *rv, const int8_t *sign,
                      const int64_t *line, const unsigned char *active) {
    for (size_t r = 0; r < n; r++) {
        if ((active && !active[r]) || (rv->place[r] >= 0 && rv->leaf[r] >= 0)) continue;
        int reason = rv->place[r] < 0 ? REPORT_REJECT_KATO : REPORT_REJECT_DIMENSION;
        if (rows_reject(rp, ip->extract, line[r], sign[r], reason)) return -1;
    }
    int64_t nleaves = (int64_t)rp->cube.nleaves;
    for (size_t k = 0; k < ip->nmeasures; k++) {
        const measure_plan *mp = &ip->measures[k];
        const int64_t *mask = rv->mask[k], *value = rv->value[k], *place = rv->place, *leaf = rv->leaf;
        if (mp->kind == JM_DISTINCT) continue;
        cube_tally *t = mp->tally;
        for (size_t r = 0; r < n; r++) {
            if ((active && !active[r]) || place[r] < 0 || leaf[r] < 0 || (mask && !mask[r])) continue;
            int64_t v = value ? value[r] : 1, cell = place[r] * nleaves + leaf[r];
            if (v == EXPR_NULL) continue;
            if (!t->observations) t->sum[cell] += mp->kind == JM_COUNT ? sign[r] : sign[r] * v;
            else if (cube_tally_observe(t, (int32_t)cell, v, sign[r])) return -1;
        }
    }
    return 0;
}

/* Places, leaves and the measures' where/value of n rows bound in `in`,
 * evaluated into scratch vectors (at the key owner, over facts). */
int rows_places_at_owner(engine *e, input_plan *ip, const expr_input *in, size_t n, scratch *s, int64_t *place,
                         int64_t *leaf) {
    size_t slot = 100;
    const job *j = ip->report->job;
    int64_t *kato = scratch_vec(s, slot++, n);
    if (!kato || rows_eval(ip->kato, in, n, kato)) return -1;
    rows_places(&e->terr, kato, n, place);
    const int64_t *index[REPORT_MAX_DIMS];
    for (size_t d = 0; d < j->ndims; d++) {
        int64_t *v = scratch_vec(s, slot++, n), *idx = scratch_vec(s, slot++, n);
        if (!v || !idx || rows_eval(ip->dims[d].expr, in, n, v)) return -1;
        rows_dimension_index(&ip->dims[d], n, v, NULL, idx);
        index[d] = idx;
    }
    rows_leaves(&ip->report->cube, index, n, leaf);
    return 0;
}

int rows_measures_at_owner(input_plan *ip, const expr_input *in, size_t n, int only_distinct, scratch *s,
                           row_values *rv) {
    size_t slot = 200;
    for (size_t k = 0; k < ip->nmeasures; k++) {
        int64_t *mask = NULL, *value = NULL;
        rv->mask[k] = rv->value[k] = NULL;
        if (only_distinct && ip->measures[k].kind != JM_DISTINCT) continue;
        if (ip->measures[k].where &&
            (!(mask = scratch_vec(s, slot++, n)) || rows_eval(ip->measures[k].where, in, n, mask)))
            return -1;
        if (ip->measures[k].value &&
            (!(value = scratch_vec(s, slot++, n)) || rows_eval(ip->measures[k].value, in, n, value)))
            return -1;
        rv->mask[k] = mask, rv->value[k] = value;
    }
    return 0;
}

