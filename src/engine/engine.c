/* engine.c — see engine.h. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/date.h"
#include "../base/progress.h"
#include "../dist/agree.h"
#include "keyfilter.h"
#include "memo.h"
#include "share.h"

const char *engine_reject_reason_name(int reason) {
    switch (reason) {
    case REPORT_REJECT_KATO: return "kato_not_valid_at_period_end";
    case REPORT_REJECT_NO_MATCH: return "no_match_in_joined_extract";
    default: return "dimension_value_not_in_report";
    }
}

static join_plan *canonical(join_plan *jp) { return share_canonical_join(jp); }

int engine_init(engine *e, MPI_Comm comm, const schema_set *schemas, const job_set *jobs, const period *per,
                char *const *ids, size_t nids, char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    e->comm = comm;
    MPI_Comm_rank(comm, &e->rank);
    MPI_Comm_size(comm, &e->nranks);
    e->schemas = schemas;
    if (plan_build(&e->plan, schemas, jobs, per, ids, nids, err, errlen)) return -1;
    if (share_plan(&e->plan) || memo_init(&e->memo, e->plan.nmemo)) return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}

void engine_free(engine *e) {
    plan_free(&e->plan);
    territory_free(&e->terr);
    memo_free(&e->memo);
}

/* ---- evaluation helpers ------------------------------------------------ */

static int64_t widen(const batch_column *c, size_t row) {
    if (c->i64) return c->i64[row];
    if (c->i32) return c->i32[row] == BATCH_NULL_I32 ? EXPR_NULL : c->i32[row];
    if (c->u8) return c->u8[row] == BATCH_NULL_ENUM ? EXPR_NULL : c->u8[row];
    return EXPR_NULL;
}

/* Working vectors of one evaluation round, by slot; growing one slot
 * never moves another, so vectors handed out stay valid. */
typedef struct {
    int64_t **vec;
    size_t *len;
    size_t nvec;
} scratch;

static int64_t *scratch_vec(scratch *s, size_t i, size_t n) {
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

static void scratch_free(scratch *s) {
    for (size_t k = 0; k < s->nvec; k++) free(s->vec[k]);
    free(s->vec);
    free(s->len);
    memset(s, 0, sizeof *s);
}

static int eval(expr_program *p, const expr_input *in, size_t n, int64_t *out) {
    return p ? expr_eval(p, in, n, out) : 0;
}

/* Inputs for a batch's row names: columns from the batch, lets from
 * vectors (filled by the caller as they are computed). */
static void bind_batch(const name_table *names, const row_batch *b, const int64_t *const *lets, expr_input *in) {
    memset(in, 0, names->count * sizeof *in);
    for (size_t i = 0; i < names->count; i++) {
        if (names->source[i] == SRC_LET) {
            in[i].i64 = lets[names->index[i]];
            continue;
        }
        if (names->source[i] != SRC_COLUMN) continue;
        const batch_column *c = &b->cols[names->index[i]];
        in[i] = (expr_input){c->i64, c->i32, c->u8, c->text_off, c->text_len, b->text};
    }
}

/* ---- accumulation ------------------------------------------------------ */

static int record_reject(report_plan *rp, int extract, int64_t line, int64_t sign, int reason) {
    int64_t v = reason;
    return facts_push(&rp->rejects, extract, line, sign, &v);
}

/* What accumulation reads of n rows: each row's place (territory_place;
 * -1: its kato does not count at E) and leaf (cube_leaf_of; -1: a
 * dimension value that is not one of the report's), and per measure of
 * the input its where and value vectors (NULL: none, or not evaluated). */
typedef struct {
    const int64_t *place, *leaf;
    const int64_t *mask[REPORT_MAX_MEASURES];
    const int64_t *value[REPORT_MAX_MEASURES];
} row_values;

static void places_of(const territory *t, const int64_t *kato, size_t n, int64_t *out) {
    for (size_t r = 0; r < n; r++) out[r] = kato[r] == EXPR_NULL ? -1 : territory_place(t, (int32_t)kato[r]);
}

/* Value indexes of one dimension for n rows (declared order, -1 = not a
 * value of the report) from its evaluated source v. */
static void dimension_index(const dim_plan *dp, size_t n, const int64_t *v, const row_batch *text_batch,
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
static void leaves_of(const cube *c, const int64_t *const *index, size_t n, int64_t *out) {
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
static int accumulate(report_plan *rp, const input_plan *ip, size_t n, const row_values *rv, const int64_t *sign,
                      const int64_t *line, const unsigned char *active) {
    for (size_t r = 0; r < n; r++) {
        if ((active && !active[r]) || (rv->place[r] >= 0 && rv->leaf[r] >= 0)) continue;
        int reason = rv->place[r] < 0 ? REPORT_REJECT_KATO : REPORT_REJECT_DIMENSION;
        if (record_reject(rp, ip->extract, line[r], sign[r], reason)) return -1;
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
static int owner_row_values(engine *e, input_plan *ip, const expr_input *in, size_t n, int only_distinct, scratch *s,
                            row_values *rv) {
    size_t slot = 100;
    const job *j = ip->report->job;
    int64_t *kato = scratch_vec(s, slot++, n), *place = scratch_vec(s, slot++, n), *leaf = scratch_vec(s, slot++, n);
    if (!kato || !place || !leaf || eval(ip->kato, in, n, kato)) return -1;
    places_of(&e->terr, kato, n, place);
    const int64_t *index[REPORT_MAX_DIMS];
    for (size_t d = 0; d < j->ndims; d++) {
        int64_t *v = scratch_vec(s, slot++, n), *idx = scratch_vec(s, slot++, n);
        if (!v || !idx || eval(ip->dims[d].expr, in, n, v)) return -1;
        dimension_index(&ip->dims[d], n, v, NULL, idx);
        index[d] = idx;
    }
    leaves_of(&ip->report->cube, index, n, leaf);
    rv->place = place, rv->leaf = leaf;
    for (size_t k = 0; k < ip->nmeasures; k++) {
        int64_t *mask = NULL, *value = NULL;
        rv->mask[k] = rv->value[k] = NULL;
        if (only_distinct && ip->measures[k].kind != JM_DISTINCT) continue;
        if (ip->measures[k].where &&
            (!(mask = scratch_vec(s, slot++, n)) || eval(ip->measures[k].where, in, n, mask)))
            return -1;
        if (ip->measures[k].value &&
            (!(value = scratch_vec(s, slot++, n)) || eval(ip->measures[k].value, in, n, value)))
            return -1;
        rv->mask[k] = mask, rv->value[k] = value;
    }
    return 0;
}

/* ---- the row stage: one batch ----------------------------------------- */

/* What the row-stage programs of an input read over a batch. */
typedef struct {
    const row_batch *b;
    const input_plan *ip;
    const int64_t *const *lets;   /* the input's let vectors computed so far */
    expr_input *in;               /* per row name, bound for each program */
} batch_env;

/* A column of the batch as int64: in place, or widened once per batch into
 * the memo, where every program that reads it finds it. NULL out of memory. */
static const int64_t *batch_column_i64(engine *e, const row_batch *b, int column) {
    const batch_column *c = &b->cols[column];
    if (c->i64) return c->i64;
    int id = e->plan.column_memo[b->ext - e->schemas->extracts] + column;
    const int64_t *v = memo_get(&e->memo, id);
    if (v) return v;
    int64_t *out = memo_put(&e->memo, id, b->nrows);
    if (!out) return NULL;
    for (size_t r = 0; r < b->nrows; r++) out[r] = widen(c, r);
    return out;
}

/* Binds the names program p reads: batch columns, lets. 0, or -1 out of
 * memory. */
static int bind_used(engine *e, const batch_env *env, const expr_program *p) {
    size_t n;
    const size_t *used = expr_used_names(p, &n);
    const name_table *t = &env->ip->row_names;
    for (size_t i = 0; i < n; i++) {
        size_t k = used[i];
        if (k >= t->count || (t->source[k] != SRC_COLUMN && t->source[k] != SRC_LET)) continue;
        expr_input *in = &env->in[k];
        memset(in, 0, sizeof *in);
        const batch_column *c = t->source[k] == SRC_COLUMN ? &env->b->cols[t->index[k]] : NULL;
        if (!c) in->i64 = env->lets[t->index[k]];
        else if (c->text_off) *in = (expr_input){NULL, NULL, NULL, c->text_off, c->text_len, env->b->text};
        else if (!(in->i64 = batch_column_i64(e, env->b, t->index[k]))) return -1;
    }
    return 0;
}

/* A row-stage program's vector for the current batch: the memo's when an
 * input evaluated the same expression already (share.c), else evaluated
 * into the memo now. NULL out of memory. */
static const int64_t *batch_vector(engine *e, const batch_env *env, int id, expr_program *p) {
    const int64_t *v = memo_get(&e->memo, id);
    if (v) return v;
    if (bind_used(e, env, p)) return NULL;
    int64_t *out = memo_put(&e->memo, id, env->b->nrows);
    return out && expr_eval(p, env->in, env->b->nrows, out) == 0 ? out : NULL;
}

/* A where's vector for the current batch: the memo's, or the `and` of its
 * operands' vectors (each from the memo when another where has it: the
 * report's where inside a form's stricter one), or evaluated whole. */
static const int64_t *batch_where(engine *e, const batch_env *env, int id, expr_program *p, const plan_atom *atoms,
                                  size_t natoms) {
    const int64_t *v = memo_get(&e->memo, id);
    if (v || natoms < 2) return v ? v : batch_vector(e, env, id, p);
    size_t n = env->b->nrows;
    int64_t *out = memo_put(&e->memo, id, n);
    for (size_t k = 0; out && k < natoms; k++) {
        const int64_t *a = batch_vector(e, env, atoms[k].memo, atoms[k].program);
        if (!a) return NULL;
        if (k == 0)
            for (size_t r = 0; r < n; r++) out[r] = a[r] != 0;
        else
            for (size_t r = 0; r < n; r++) out[r] &= a[r] != 0;
    }
    return out;
}

/* Lets and the input's where over a batch. Returns the where vector (NULL
 * when the input has none) through *where; lets go to lets[]. */
static int row_stage(engine *e, const batch_env *env, const int64_t **lets, const int64_t **where) {
    const input_plan *ip = env->ip;
    for (size_t l = 0; l < ip->def->nlets; l++)
        if (!(lets[l] = batch_vector(e, env, ip->let_memo[l], ip->lets[l]))) return -1;
    *where = NULL;
    if (ip->where && !(*where = batch_where(e, env, ip->where_memo, ip->where, ip->where_atoms, ip->nwhere_atoms)))
        return -1;
    return 0;
}

/* Places and leaves of a batch's rows, from the memo when another input
 * computed them (the same kato; the same dimension sources and values). */
static int batch_places_leaves(engine *e, const batch_env *env, const int64_t **place_out, const int64_t **leaf_out) {
    const input_plan *ip = env->ip;
    const row_batch *b = env->b;
    size_t n = b->nrows;
    memo *m = &e->memo;
    if (!(*place_out = memo_get(m, ip->place_memo))) {
        const int64_t *kato = batch_vector(e, env, ip->kato_memo, ip->kato);
        int64_t *place = kato ? memo_put(m, ip->place_memo, n) : NULL;
        if (!place) return -1;
        places_of(&e->terr, kato, n, place);
        *place_out = place;
    }
    if (!(*leaf_out = memo_get(m, ip->leaf_memo))) {
        const int64_t *index[REPORT_MAX_DIMS];
        for (size_t d = 0; d < ip->report->job->ndims; d++) {
            const dim_plan *dp = &ip->dims[d];
            if ((index[d] = memo_get(m, dp->index_memo))) continue;
            const int64_t *v = batch_vector(e, env, dp->memo, dp->expr);
            int64_t *idx = v ? memo_put(m, dp->index_memo, n) : NULL;
            if (!idx) return -1;
            dimension_index(dp, n, v, b, idx);
            index[d] = idx;
        }
        int64_t *leaf = memo_put(m, ip->leaf_memo, n);
        if (!leaf) return -1;
        leaves_of(&ip->report->cube, index, n, leaf);
        *leaf_out = leaf;
    }
    return 0;
}

/* The rows of a batch that an input's report rejects, as [count, row,
 * reason, row, reason, …]: the same for every input with the same where,
 * places and leaves, so they come from the memo after the first. NULL out
 * of memory. */
static const int64_t *batch_rejects(engine *e, const batch_env *env, const int64_t *where) {
    const input_plan *ip = env->ip;
    const int64_t *place, *leaf, *v = memo_get(&e->memo, ip->rejects_memo);
    if (v) return v;
    size_t n = env->b->nrows, k = 0;
    int64_t *rejects = batch_places_leaves(e, env, &place, &leaf) ? NULL : memo_put(&e->memo, ip->rejects_memo, 2 * n + 1);
    for (size_t r = 0; rejects && r < n; r++) {
        if ((where && !where[r]) || (place[r] >= 0 && leaf[r] >= 0)) continue;
        rejects[1 + 2 * k] = (int64_t)r;
        rejects[2 + 2 * k++] = place[r] < 0 ? REPORT_REJECT_KATO : REPORT_REJECT_DIMENSION;
    }
    if (rejects) rejects[0] = (int64_t)k;
    return rejects;
}

/* The rows of a batch that an input adds up, as [count, row, leaf cell,
 * row, leaf cell, …], from the memo likewise. NULL out of memory. */
static const int64_t *batch_rows(engine *e, const batch_env *env, const int64_t *where) {
    const input_plan *ip = env->ip;
    const int64_t *place, *leaf, *v = memo_get(&e->memo, ip->rows_memo);
    if (v) return v;
    size_t n = env->b->nrows, k = 0;
    int64_t *rows = batch_places_leaves(e, env, &place, &leaf) ? NULL : memo_put(&e->memo, ip->rows_memo, 2 * n + 1);
    int64_t nleaves = (int64_t)ip->report->cube.nleaves;
    for (size_t r = 0; rows && r < n; r++) {
        if ((where && !where[r]) || place[r] < 0 || leaf[r] < 0) continue;
        rows[1 + 2 * k] = (int64_t)r;
        rows[2 + 2 * k++] = place[r] * nleaves + leaf[r];
    }
    if (rows) rows[0] = (int64_t)k;
    return rows;
}

/* Measures that add up, straight from the batch into their tallies (an
 * input that adds like an earlier one only records its rejects). */
static int accumulate_batch(engine *e, const batch_env *env, const int64_t *where, int64_t sign) {
    const input_plan *ip = env->ip;
    const row_batch *b = env->b;
    report_plan *rp = ip->report;
    const int64_t *rejects = batch_rejects(e, env, where), *rows;
    if (!rejects) return -1;
    for (int64_t i = 0; i < rejects[0]; i++)
        if (record_reject(rp, ip->extract, b->line[rejects[1 + 2 * i]], sign, (int)rejects[2 + 2 * i])) return -1;
    if (ip->adds_like) return 0; /* its tallies have these rows from that input */
    if (!(rows = batch_rows(e, env, where))) return -1;
    for (size_t k = 0; k < ip->nmeasures; k++) {
        const measure_plan *mp = &ip->measures[k];
        if (mp->kind == JM_DISTINCT) continue; /* counted where the keys meet */
        const int64_t *mask = NULL, *value = NULL;
        if (mp->where && !(mask = batch_where(e, env, mp->where_memo, mp->where, mp->where_atoms, mp->nwhere_atoms)))
            return -1;
        if (mp->value && !(value = batch_vector(e, env, mp->value_memo, mp->value))) return -1;
        cube_tally *t = mp->tally;
        for (int64_t i = 0; i < rows[0]; i++) {
            int64_t r = rows[1 + 2 * i], cell = rows[2 + 2 * i];
            if (mask && !mask[r]) continue;
            int64_t v = value ? value[r] : 1;
            if (v == EXPR_NULL) continue;
            if (!t->observations) t->sum[cell] += mp->kind == JM_COUNT ? sign : sign * v;
            else if (cube_tally_observe(t, (int32_t)cell, v, sign)) return -1;
        }
    }
    return 0;
}

/* Facts start below this many rows; a deduplicating group compacts its
 * facts whenever they double past the last compaction. */
#define FACTS_COMPACT_FIRST (1u << 20)

/* The members' bits of a batch's rows, a where (from the memo: every
 * member evaluated its own) at a time. 0, or -1 out of memory. */
static int mark_member_rows(engine *e, fact_group *g, size_t n) {
    if (n > g->batch_cap) {
        int64_t *grown = realloc(g->batch_bits, n * sizeof *grown);
        if (!grown) return -1;
        g->batch_bits = grown;
        g->batch_cap = n;
    }
    memset(g->batch_bits, 0, n * sizeof *g->batch_bits);
    for (size_t c = 0; c < g->nclasses; c++) {
        const int64_t *where = g->classes[c].where_memo < 0 ? NULL : memo_get(&e->memo, g->classes[c].where_memo);
        int64_t bits = g->classes[c].bits;
        if (g->classes[c].where_memo >= 0 && !where) return -1; /* cannot happen: its members ran */
        for (size_t r = 0; r < n; r++)
            if (!where || where[r]) g->batch_bits[r] |= bits;
    }
    return 0;
}

/* Values of a batch column at rows sel[0..n), widened as widen() does. */
static void gather_column(const batch_column *c, const size_t *sel, size_t n, int64_t *out) {
    if (c->i64)
        for (size_t i = 0; i < n; i++) out[i] = c->i64[sel[i]];
    else if (c->i32)
        for (size_t i = 0; i < n; i++) out[i] = c->i32[sel[i]] == BATCH_NULL_I32 ? EXPR_NULL : c->i32[sel[i]];
    else if (c->u8)
        for (size_t i = 0; i < n; i++) out[i] = c->u8[sel[i]] == BATCH_NULL_ENUM ? EXPR_NULL : c->u8[sel[i]];
    else
        for (size_t i = 0; i < n; i++) out[i] = EXPR_NULL;
}

/* Rows at..at+n-1 of f without those equal (key and values) to the row
 * before them — what compaction would collapse anyway; extracts list a
 * person's monthly payments together. Returns the rows left. */
static size_t drop_repeats(fact_table *f, size_t at, size_t n) {
    size_t kept = 0;
    for (size_t i = at; i < at + n; i++) {
        if (kept > 0) {
            size_t last = at + kept - 1;
            int same = f->key[i] == f->key[last];
            for (size_t c = 0; same && c < f->ncols; c++) same = f->col[c][i] == f->col[c][last];
            if (same) continue;
        }
        size_t to = at + kept++;
        f->key[to] = f->key[i], f->line[to] = f->line[i], f->sign[to] = f->sign[i];
        for (size_t c = 0; c < f->ncols; c++) f->col[c][to] = f->col[c][i];
    }
    return kept;
}

/* After the group's last member marked the batch: its rows that some member
 * keeps (and that have a key) become facts, column by column, with the
 * union of the carried values (lets from that member's vectors: members
 * that carry lets have the same lets) and the member bits. */
static int keep_facts(engine *e, input_plan *ip, const row_batch *b, const int64_t *const *lets, int64_t sign) {
    fact_group *g = ip->group;
    fact_table *f = &g->facts;
    const batch_column *key = &b->cols[g->key_column];
    if (mark_member_rows(e, g, b->nrows)) return -1;
    size_t *sel = calloc(b->nrows + 1, sizeof *sel), n = 0; /* calloc: gcc sees no row unset */
    if (!sel) return -1;
    for (size_t r = 0; r < b->nrows; r++)
        if (g->batch_bits[r] && widen(key, r) != EXPR_NULL) sel[n++] = r;
    if (facts_reserve(f, n)) return free(sel), -1;
    size_t at = f->n;
    gather_column(key, sel, n, f->key + at);
    for (size_t i = 0; i < n; i++) f->line[at + i] = b->line[sel[i]], f->sign[at + i] = sign;
    for (size_t k = 0; k < g->ncarried; k++) {
        int name = g->carried[k];
        int64_t *out = f->col[k] + at;
        if (ip->row_names.source[name] == SRC_LET)
            for (size_t i = 0; i < n; i++) out[i] = lets[ip->row_names.index[name]][sel[i]];
        else
            gather_column(&b->cols[ip->row_names.index[name]], sel, n, out);
    }
    for (size_t i = 0; g->nmembers > 1 && i < n; i++) f->col[g->ncarried][at + i] = g->batch_bits[sel[i]];
    free(sel);
    if (g->dedupe) n = drop_repeats(f, at, n);
    f->n += n;
    int rc = 0;
    if (g->dedupe && f->n >= FACTS_COMPACT_FIRST && f->n >= 2 * g->compacted) {
        rc = facts_compact(f);
        g->compacted = f->n;
    }
    return rc;
}

static int input_batch(engine *e, input_plan *ip, const row_batch *b, int64_t sign) {
    const int64_t *lets[JOB_MAX_LETS] = {0}, *where;
    expr_input *in = calloc(ip->row_names.count + 1, sizeof *in);
    batch_env env = {b, ip, lets, in};
    int rc = in ? row_stage(e, &env, lets, &where) : -1;
    if (rc == 0 && (!ip->keyed || ip->distinct_only)) rc = accumulate_batch(e, &env, where, sign);
    if (rc == 0 && ip->keyed && ip == ip->group->members[ip->group->nmembers - 1]) rc = keep_facts(e, ip, b, lets, sign);
    free(in);
    return rc;
}

/* Rows of a joined extract: kept, by key, when they pass the join's where. */
static int join_batch(join_plan *jp, const row_batch *b, int64_t sign, scratch *s) {
    size_t n = b->nrows, kept = 0;
    int64_t *where = NULL;
    expr_input *in = calloc(jp->row_names.count + 1, sizeof *in);
    size_t *sel = calloc(n + 1, sizeof *sel);
    int rc = in && sel ? 0 : -1;
    if (rc == 0) bind_batch(&jp->row_names, b, NULL, in);
    if (rc == 0 && jp->where && (!(where = scratch_vec(s, 62, n)) || expr_eval(jp->where, in, n, where))) rc = -1;
    const batch_column *key = &b->cols[jp->key_column];
    for (size_t r = 0; rc == 0 && r < n; r++)
        if ((!where || where[r]) && widen(key, r) != EXPR_NULL) sel[kept++] = r;
    fact_table *f = &jp->facts;
    if (rc == 0 && (rc = facts_reserve(f, kept)) == 0) { /* column by column */
        gather_column(key, sel, kept, f->key + f->n);
        for (size_t i = 0; i < kept; i++) f->line[f->n + i] = b->line[sel[i]], f->sign[f->n + i] = sign;
        for (size_t v = 0; v < jp->nvalues; v++) gather_column(&b->cols[jp->value_column[v]], sel, kept, f->col[v] + f->n);
        f->n += kept;
    }
    free(in), free(sel);
    return rc;
}

/* A text cell into out[REPORT_NAME_CAP] ("" when null); the schema's
 * text limit (200 bytes) keeps it whole. */
static void copy_text(const row_batch *b, const batch_column *c, size_t r, char *out) {
    uint32_t len = c->text_len[r];
    if (len == BATCH_NULL_TEXT) len = 0;
    if (len > REPORT_NAME_CAP - 1) len = REPORT_NAME_CAP - 1;
    memcpy(out, b->text + (len ? c->text_off[r] : 0), len);
    out[len] = '\0';
}

int engine_use_classifier(engine *e, const territory *classifier, int32_t day) {
    for (size_t i = 0; i < classifier->nrows; i++)
        if (territory_add_row(&e->terr, &classifier->rows[i], +1)) return -1;
    e->classifier_fixed = 1;
    e->territory_day = day;
    return 0;
}

int engine_territory_rows(territory *terr, const row_batch *b, int sign) {
    const schema_extract *x = b->ext;
    int code = schema_find_column(x, "code"), level = schema_find_column(x, "level"),
        from = schema_find_column(x, "valid_from"), to = schema_find_column(x, "valid_to"),
        succ = schema_find_column(x, "successor"), kk = schema_find_column(x, "name_kk"),
        ru = schema_find_column(x, "name_ru");
    if (code < 0 || level < 0 || from < 0 || to < 0 || succ < 0 || kk < 0 || ru < 0) return -1;
    for (size_t r = 0; r < b->nrows; r++) {
        int64_t s = widen(&b->cols[succ], r), t = widen(&b->cols[to], r);
        kato_row row = {(int32_t)widen(&b->cols[code], r), (int32_t)widen(&b->cols[level], r),
                        (int32_t)widen(&b->cols[from], r), t == EXPR_NULL ? -1 : (int32_t)t,
                        s == EXPR_NULL ? -1 : (int32_t)s, b->line[r], "", ""};
        copy_text(b, &b->cols[kk], r, row.name_kk);
        copy_text(b, &b->cols[ru], r, row.name_ru);
        if (territory_add_row(terr, &row, sign)) return -1;
    }
    return 0;
}

/* The kato extract feeds the territory (unless a classifier was given). */
static int kato_batch(engine *e, const row_batch *b, int64_t sign) {
    return e->classifier_fixed ? 0 : engine_territory_rows(&e->terr, b, (int)sign);
}

static int ensure_territory(engine *e) {
    if (e->territory_built) return 0;
    if (territory_build(&e->terr, e->classifier_fixed ? e->territory_day : e->plan.per.end)) return -1;
    for (size_t r = 0; r < e->plan.nreports; r++)
        if (cube_init(&e->plan.reports[r].cube, e->plan.reports[r].job, &e->terr)) return -1;
    for (size_t t = 0; t < e->plan.ntallies; t++)
        if (cube_tally_alloc(e->plan.tallies[t], e->terr.nplaces)) return -1;
    e->territory_built = 1;
    return 0;
}

static int consume(engine *e, const row_batch *b, int64_t sign) {
    if (e->failed) return -1;
    double started = progress_now();
    int extract = (int)(b->ext - e->schemas->extracts);
    scratch s = {0};
    int rc = 0;
    memo_next_batch(&e->memo);
    if (extract == e->schemas->kato_extract) rc = kato_batch(e, b, sign);
    else rc = ensure_territory(e);
    for (size_t r = 0; rc == 0 && r < e->plan.nreports; r++) {
        report_plan *rp = &e->plan.reports[r];
        for (size_t i = 0; rc == 0 && i < rp->ninputs; i++) {
            input_plan *ip = &rp->inputs[i];
            if (ip->extract == extract) rc = input_batch(e, ip, b, sign);
            for (size_t k = 0; rc == 0 && k < ip->njoins; k++)
                if (ip->joins[k].extract == extract && !ip->joins[k].same) rc = join_batch(&ip->joins[k], b, sign, &s);
        }
    }
    scratch_free(&s);
    if (rc) e->failed = 1;
    e->consume_seconds += progress_now() - started;
    return rc;
}

int engine_consume(void *engine_ptr, const row_batch *batch) { return consume(engine_ptr, batch, +1); }

int engine_consume_withdrawn(void *engine_ptr, const row_batch *batch) { return consume(engine_ptr, batch, -1); }

/* ---- keyed stages -------------------------------------------------------- */

static size_t run_slot(int64_t key, size_t mask) {
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29)) & mask;
}

/* A join's runs of equal keys (its facts are sorted), once for every input
 * that uses it: a hash from key to the run's first row, and for a distinct
 * join the number of distinct values of each run (at its first row). 0,
 * or -1 out of memory. */
static int index_runs(join_plan *j) {
    const fact_table *g = &j->facts;
    if (j->run_at) return 0;
    size_t nslots = 16;
    while (nslots < 2 * g->n + 2) nslots *= 2;
    int distinct = j->def->kind == JOIN_DISTINCT;
    int64_t *tmp = distinct ? malloc((g->n + 1) * sizeof *tmp) : NULL;
    j->run_at = malloc(nslots * sizeof *j->run_at);
    j->run_distinct = distinct ? malloc((g->n + 1) * sizeof *j->run_distinct) : NULL;
    if (!j->run_at || (distinct && (!tmp || !j->run_distinct))) return free(tmp), -1;
    j->run_mask = nslots - 1;
    for (size_t s = 0; s < nslots; s++) j->run_at[s] = SIZE_MAX;
    for (size_t a = 0, b; a < g->n; a = b) {
        size_t m = 0;
        for (b = a; b < g->n && g->key[b] == g->key[a]; b++)
            if (distinct) tmp[m++] = g->col[0][b];
        size_t s = run_slot(g->key[a], j->run_mask);
        while (j->run_at[s] != SIZE_MAX) s = (s + 1) & j->run_mask;
        j->run_at[s] = a;
        if (!distinct) continue;
        sort_int64(tmp, m);
        int64_t count = 0;
        for (size_t i = 0; i < m; i++) count += i == 0 || tmp[i] != tmp[i - 1];
        j->run_distinct[a] = count;
    }
    free(tmp);
    return 0;
}

/* The first row of key's run in join j, or SIZE_MAX when it has none. */
static size_t find_run(const join_plan *j, int64_t key) {
    for (size_t s = run_slot(key, j->run_mask);; s = (s + 1) & j->run_mask) {
        size_t a = j->run_at[s];
        if (a == SIZE_MAX || j->facts.key[a] == key) return a;
    }
}

/* Join outputs for every fact of ip (in any order) from the join facts.
 * out[k] is the vector of join output k; no_match[r] is set when a
 * required take-join found nothing. */
static int join_outputs(input_plan *ip, int64_t **out, unsigned char *no_match) {
    const fact_table *f = &ip->group->facts;
    for (size_t k = 0; k < ip->njoins; k++) {
        join_plan *jp = &ip->joins[k], *j = canonical(jp);
        if (index_runs(j)) return -1;
        size_t slot = jp->first_output;
        for (size_t r = 0; r < f->n; r++) {
            size_t a = find_run(j, f->key[r]);
            if (jp->def->kind == JOIN_EXISTS) {
                out[slot][r] = a != SIZE_MAX;
            } else if (jp->def->kind == JOIN_DISTINCT) {
                out[slot][r] = a != SIZE_MAX ? j->run_distinct[a] : 0;
            } else {
                for (size_t v = 0; v < jp->nvalues; v++) out[slot + v][r] = a != SIZE_MAX ? j->facts.col[v][a] : EXPR_NULL;
                if (a == SIZE_MAX && jp->def->required) no_match[r] = 1;
            }
        }
    }
    return 0;
}

static void bind_facts(const name_table *names, const fact_table *f, int64_t *const *join_out, expr_input *in) {
    memset(in, 0, names->count * sizeof *in);
    for (size_t i = 0; i < names->count; i++) {
        if (names->source[i] == SRC_CARRIED) in[i].i64 = f->col[names->index[i]];
        else if (names->source[i] == SRC_JOIN) in[i].i64 = join_out[names->index[i]];
    }
}

/* Distinct measures: per key, each cell counted once. The cell buffer
 * grows with the largest key group, not with the whole table. */
static int count_distinct(report_plan *rp, const input_plan *ip, const fact_table *f, const row_values *rv,
                          const unsigned char *active) {
    cube *c = &rp->cube;
    int64_t *cells = NULL, *leaves = NULL;
    size_t cap = 0;
    int32_t row_cells[CUBE_MAX_CELLS_PER_ROW];
    int64_t nleaves = (int64_t)c->nleaves;
    for (size_t a = 0, b; a < f->n; a = b) {
        for (b = a; b < f->n && f->key[b] == f->key[a]; b++) {}
        size_t need = (b - a) * CUBE_MAX_CELLS_PER_ROW;
        if (need > cap) {
            int64_t *grown = realloc(cells, need * sizeof *grown), *more = grown ? realloc(leaves, need * sizeof *more) : NULL;
            if (grown) cells = grown;
            if (!more) return free(cells), free(leaves), -1;
            leaves = more;
            cap = need;
        }
        for (size_t k = 0; k < ip->nmeasures; k++) {
            const measure_plan *mp = &ip->measures[k];
            if (mp->kind != JM_DISTINCT) continue;
            /* the key's distinct leaf cells first: usually one, whose cells
             * (distinct already) then count once each without a sort */
            size_t nl = 0, n = 0;
            for (size_t r = a; r < b; r++) {
                if ((active && !active[r]) || (rv->mask[k] && !rv->mask[k][r])) continue;
                if (rv->place[r] < 0 || rv->leaf[r] < 0) continue;
                int64_t leaf_cell = rv->place[r] * nleaves + rv->leaf[r];
                if (nl == 0 || leaves[nl - 1] != leaf_cell) leaves[nl++] = leaf_cell;
            }
            if (nl > 1) {
                sort_int64(leaves, nl);
                size_t u = 0;
                for (size_t i = 0; i < nl; i++)
                    if (u == 0 || leaves[i] != leaves[u - 1]) leaves[u++] = leaves[i];
                nl = u;
            }
            for (size_t i = 0; i < nl; i++) {
                size_t m = cube_leaf_cells(c, (int32_t)(leaves[i] / nleaves), (size_t)(leaves[i] % nleaves), row_cells);
                for (size_t j = 0; j < m; j++) cells[n++] = row_cells[j];
            }
            if (nl > 1) sort_int64(cells, n);
            int64_t *acc = c->acc + (size_t)mp->measure * c->ncells;
            for (size_t i = 0; i < n; i++)
                if (i == 0 || cells[i] != cells[i - 1]) acc[cells[i]]++;
        }
    }
    free(cells), free(leaves);
    return 0;
}

/* Brings an input's facts (its group's, once for every member) and its
 * joins' facts to their key owners, sorted. */
static int gather_keyed(engine *e, input_plan *ip) {
    fact_group *g = ip->group;
    int compacted = !g->ready && g->dedupe ? facts_compact(&g->facts) : 0;
    if (!dist_agree(e->comm, compacted == 0)) return -1;
    int rc = g->ready ? 0 : facts_shuffle(&g->facts, e->comm);
    for (size_t k = 0; rc == 0 && k < ip->njoins; k++)
        if (!canonical(&ip->joins[k])->ready) rc = facts_shuffle(&canonical(&ip->joins[k])->facts, e->comm);
    int local = rc == 0 && !g->ready && g->by_key ? facts_sort_and_cancel(&g->facts) : 0;
    g->ready = 1;
    for (size_t k = 0; local == 0 && k < ip->njoins; k++) {
        join_plan *j = canonical(&ip->joins[k]);
        if (!j->ready) local = facts_sort_and_cancel(&j->facts), j->ready = 1;
    }
    return dist_agree(e->comm, local == 0) && rc == 0 ? 0 : -1;
}

/* Whether fact r of ip's group is one of ip's rows. */
static int member_row(const input_plan *ip, size_t r) {
    const fact_group *g = ip->group;
    return g->nmembers == 1 || (g->facts.col[g->ncarried][r] >> ip->member_bit & 1);
}

typedef struct {
    int64_t **join_out;
    unsigned char *no_match;
    expr_input *in;
} owner_state;

static int owner_prepare(input_plan *ip, owner_state *os) {
    size_t n = ip->group->facts.n;
    os->join_out = calloc(ip->njoin_outputs + 1, sizeof *os->join_out);
    os->no_match = calloc(n + 1, 1);
    os->in = calloc(ip->names.count + 1, sizeof *os->in);
    if (!os->join_out || !os->no_match || !os->in) return -1;
    for (size_t k = 0; k < ip->njoin_outputs; k++)
        if (!(os->join_out[k] = malloc((n + 1) * sizeof **os->join_out))) return -1;
    if (join_outputs(ip, os->join_out, os->no_match)) return -1;
    bind_facts(&ip->names, &ip->group->facts, os->join_out, os->in);
    return 0;
}

static void owner_release(input_plan *ip, owner_state *os) {
    for (size_t k = 0; os->join_out && k < ip->njoin_outputs; k++) free(os->join_out[k]);
    free(os->join_out), free(os->no_match), free(os->in);
}

static int keyed_stage(engine *e, input_plan *ip) {
    report_plan *rp = ip->report;
    fact_table *f = &ip->group->facts;
    owner_state os = {0};
    scratch s = {0};
    row_values rv;
    int rc = owner_prepare(ip, &os);
    if (rc == 0) rc = owner_row_values(e, ip, os.in, f->n, ip->distinct_only, &s, &rv);
    unsigned char *active = rc == 0 ? malloc(f->n + 1) : NULL;
    if (rc == 0 && !active) rc = -1;
    for (size_t r = 0; rc == 0 && r < f->n; r++) {
        active[r] = member_row(ip, r) && !os.no_match[r];
        if (member_row(ip, r) && os.no_match[r])
            rc = record_reject(rp, ip->extract, f->line[r], f->sign[r], REPORT_REJECT_NO_MATCH);
    }
    /* distinct-only inputs added everything else at the row stage */
    if (rc == 0 && !ip->distinct_only)
        rc = accumulate(rp, ip, f->n, &rv, f->sign, f->line, active);
    if (rc == 0) rc = count_distinct(rp, ip, f, &rv, active);
    free(active);
    scratch_free(&s);
    owner_release(ip, &os);
    return rc;
}

/* ---- grouped inputs (households) ----------------------------------------- */

/* Member rows → member facts keyed by the group key: oldest, tie, value,
 * eligible, then one column per group value. */
static int build_members(engine *e, input_plan *ip) {
    fact_group *grp = ip->group;
    if (grp->members_built) return 0; /* an identical input built them */
    fact_table *f = &grp->facts, *members = &grp->members_of_groups;
    owner_state os = {0};
    scratch s = {0};
    size_t nv = ip->def->group.nvalues, n = f->n;
    int rc = owner_prepare(ip, &os);
    int64_t *key = NULL, *cols[4 + JOB_MAX_GROUP_VALUES];
    expr_program *progs[4] = {ip->member_oldest, ip->member_tie, ip->member_value, ip->member_where};
    if (rc == 0 && !(key = scratch_vec(&s, 0, n))) rc = -1;
    if (rc == 0) rc = eval(ip->member_key, os.in, n, key);
    for (size_t c = 0; rc == 0 && c < 4 + nv; c++) {
        if (!(cols[c] = scratch_vec(&s, 1 + c, n))) rc = -1;
        else if (c == 3 && !ip->member_where) for (size_t r = 0; r < n; r++) cols[c][r] = 1;
        else rc = eval(c < 4 ? progs[c] : ip->member_values[c - 4], os.in, n, cols[c]);
    }
    if (rc == 0) rc = facts_reserve(members, n);
    for (size_t r = 0; rc == 0 && r < n; r++) { /* in place: room was reserved */
        if (key[r] == EXPR_NULL || !member_row(ip, r)) continue;
        size_t at = members->n++;
        members->key[at] = key[r], members->line[at] = f->line[r], members->sign[at] = f->sign[r];
        for (size_t c = 0; c < 4 + nv; c++) members->col[c][at] = cols[c][r];
    }
    scratch_free(&s);
    owner_release(ip, &os);
    if (!dist_agree(e->comm, rc == 0)) return -1;
    /* without joins the rows were already partitioned by the group key */
    if (ip->njoins && facts_shuffle(members, e->comm)) return -1;
    grp->members_built = 1;
    facts_free(f); /* every member of the group reads the member facts now */
    return facts_sort_and_cancel(members);
}

/* One entity per group: its values, and the territory of its oldest
 * eligible member (tie: the smaller `tie` value). */
static int group_stage(engine *e, input_plan *ip) {
    if (build_members(e, ip)) return -1;
    const fact_table *m = &ip->group->members_of_groups;
    size_t nv = ip->def->group.nvalues, ng = 0;
    for (size_t i = 0; i < m->n; i++) ng += i == 0 || m->key[i] != m->key[i - 1];
    scratch s = {0};
    int64_t *kato = scratch_vec(&s, 0, ng), *line = scratch_vec(&s, 1, ng), *sign = scratch_vec(&s, 2, ng);
    int64_t *gv[JOB_MAX_GROUP_VALUES];
    int rc = kato && line && sign ? 0 : -1;
    for (size_t v = 0; rc == 0 && v < nv; v++) rc = (gv[v] = scratch_vec(&s, 3 + v, ng)) ? 0 : -1;
    size_t g = 0;
    for (size_t a = 0, b; rc == 0 && a < m->n; a = b, g++) {
        long best = -1;
        for (size_t v = 0; v < nv; v++) gv[v][g] = 0;
        for (b = a; b < m->n && m->key[b] == m->key[a]; b++) {
            for (size_t v = 0; v < nv; v++) {
                int64_t x = m->col[4 + v][b] == 1;
                gv[v][g] = ip->def->group.values[v].kind == GROUP_COUNT ? gv[v][g] + x : (gv[v][g] | x);
            }
            if (m->col[3][b] != 1 || m->col[0][b] == EXPR_NULL) continue;
            if (best < 0 || m->col[0][b] < m->col[0][best] ||
                (m->col[0][b] == m->col[0][best] && m->col[1][b] < m->col[1][best]))
                best = (long)b;
        }
        kato[g] = best < 0 ? EXPR_NULL : m->col[2][best];
        line[g] = best < 0 ? m->line[a] : m->line[best];
        sign[g] = 1;
    }
    /* entity where and measures over the entity names */
    expr_input *in = rc == 0 ? calloc(ip->entity_names.count + 1, sizeof *in) : NULL;
    if (rc == 0 && !in) rc = -1;
    for (size_t i = 0; rc == 0 && i < ip->entity_names.count; i++)
        if (ip->entity_names.source[i] == SRC_GROUP) in[i].i64 = gv[ip->entity_names.index[i]];
    int64_t *where = NULL, *masks[REPORT_MAX_MEASURES] = {0}, *values[REPORT_MAX_MEASURES] = {0};
    if (rc == 0 && ip->entity_where && (!(where = scratch_vec(&s, 40, ng)) || eval(ip->entity_where, in, ng, where))) rc = -1;
    for (size_t k = 0; rc == 0 && k < ip->nmeasures; k++) {
        if (ip->measures[k].where && (!(masks[k] = scratch_vec(&s, 41 + 2 * k, ng)) || eval(ip->measures[k].where, in, ng, masks[k])))
            rc = -1;
        if (rc == 0 && ip->measures[k].value &&
            (!(values[k] = scratch_vec(&s, 42 + 2 * k, ng)) || eval(ip->measures[k].value, in, ng, values[k])))
            rc = -1;
    }
    /* an entity lands on its oldest member's place, at the first value of
     * every dimension (a grouped input gives none) */
    unsigned char *active = rc == 0 ? malloc(ng + 1) : NULL;
    int64_t *place = rc == 0 ? scratch_vec(&s, 38, ng) : NULL, *leaf = rc == 0 ? scratch_vec(&s, 39, ng) : NULL;
    if (rc == 0 && (!active || !place || !leaf)) rc = -1;
    for (size_t i = 0; rc == 0 && i < ng; i++) active[i] = !where || where[i], leaf[i] = 0;
    row_values rv = {place, leaf, {0}, {0}};
    if (rc == 0) places_of(&e->terr, kato, ng, place);
    for (size_t k = 0; rc == 0 && k < ip->nmeasures; k++) rv.mask[k] = masks[k], rv.value[k] = values[k];
    if (rc == 0) rc = accumulate(ip->report, ip, ng, &rv, sign, line, active);
    free(active), free(in);
    scratch_free(&s);
    return rc;
}

/* ---- finishing: skipped reports, keyed stages, reduction ----------------- */

static void mark_skipped(engine *e, const snapshot_result *snap) {
    run_plan *p = &e->plan;
    for (size_t r = 0; r < p->nreports; r++) {
        report_plan *rp = &p->reports[r];
        for (size_t i = 0; !rp->skipped && i < rp->ninputs; i++) {
            const input_plan *ip = &rp->inputs[i];
            int failed = snap->extracts[ip->extract].failed ? ip->extract : -1;
            for (size_t k = 0; failed < 0 && k < ip->njoins; k++)
                if (snap->extracts[ip->joins[k].extract].failed) failed = ip->joins[k].extract;
            if (snap->extracts[e->schemas->kato_extract].failed) failed = e->schemas->kato_extract;
            if (failed >= 0) {
                rp->skipped = 1;
                snprintf(rp->skip_reason, sizeof rp->skip_reason, "extract %s failed: %s",
                         e->schemas->extracts[failed].name, snap->extracts[failed].error);
            }
        }
    }
    for (int again = 1; again;) { /* a report whose ratio needs a skipped one */
        again = 0;
        for (size_t r = 0; r < p->nreports; r++) {
            report_plan *rp = &p->reports[r];
            for (size_t m = 0; !rp->skipped && m < rp->job->nmeasures; m++) {
                const char *ops[2] = {rp->job->measures[m].num, rp->job->measures[m].den};
                for (int o = 0; o < 2 && ops[o] && !rp->skipped; o++)
                    for (size_t q = 0; strchr(ops[o], ':') && q < p->nreports; q++)
                        if (p->reports[q].skipped && !strncmp(ops[o], p->reports[q].job->id, strlen(p->reports[q].job->id))) {
                            rp->skipped = again = 1;
                            snprintf(rp->skip_reason, sizeof rp->skip_reason, "needs %s, which could not be computed",
                                     p->reports[q].job->id);
                        }
            }
        }
    }
}

/* Sums the accumulators into rank 0 and gathers observations and rejects.
 * Collective: 0, or -1 on every rank together. */
static int reduce_report(engine *e, report_plan *rp) {
    cube *c = &rp->cube;
    size_t n = rp->job->nmeasures * c->ncells;
    int folded = 0;
    for (size_t i = 0; i < rp->ninputs; i++)
        for (size_t k = 0; folded == 0 && k < rp->inputs[i].nmeasures; k++) {
            measure_plan *mp = &rp->inputs[i].measures[k];
            if (mp->tally) folded = cube_fold_tally(c, mp->measure, mp->tally);
        }
    if (!dist_agree(e->comm, folded == 0)) return -1;
    if (e->rank == 0) MPI_Reduce(MPI_IN_PLACE, c->acc, (int)n, MPI_INT64_T, MPI_SUM, 0, e->comm);
    else MPI_Reduce(c->acc, NULL, (int)n, MPI_INT64_T, MPI_SUM, 0, e->comm);
    char *all;
    size_t bytes;
    if (dist_gather_bytes(e->comm, "reduce", c->values, c->nvalues * sizeof *c->values, &all, &bytes)) return -1;
    if (e->rank == 0) {
        free(c->values);
        c->values = (cube_value *)all;
        c->nvalues = c->values_cap = bytes / sizeof *c->values;
        cube_merge_values(c);
    }
    /* rejects: (extract, line, sign, reason) rows */
    fact_table *rj = &rp->rejects;
    int64_t *packed = malloc((rj->n * 4 + 1) * sizeof *packed);
    if (!dist_agree_at(e->comm, "rejects", packed != NULL)) return free(packed), -1;
    for (size_t i = 0; i < rj->n; i++)
        packed[4 * i] = rj->key[i], packed[4 * i + 1] = rj->line[i], packed[4 * i + 2] = rj->sign[i],
        packed[4 * i + 3] = rj->col[0][i];
    int rc = dist_gather_bytes(e->comm, "rejects", packed, rj->n * 4 * sizeof *packed, &all, &bytes);
    free(packed);
    if (rc) return -1;
    if (e->rank == 0) {
        rj->n = 0;
        const int64_t *q = (const int64_t *)all;
        for (size_t i = 0; rc == 0 && i < bytes / (4 * sizeof *q); i++)
            rc = facts_push(rj, q[4 * i], q[4 * i + 1], q[4 * i + 2], &q[4 * i + 3]);
        free(all);
        if (rc == 0) rc = facts_sort_and_cancel(rj);
    }
    return dist_agree(e->comm, rc == 0) ? 0 : -1; /* rank 0's failure is everyone's: the next report is collective */
}

static int may_be_probed(const void *kf, int64_t key) { return key_filter_may_contain(kf, key); }

/* The fact tables (each once) of every computed input that uses join j's
 * rows; *ninputs counts those inputs. */
static size_t join_probes(run_plan *p, const join_plan *j, const fact_table **out, size_t cap, size_t *ninputs) {
    size_t n = 0;
    *ninputs = 0;
    for (size_t r = 0; r < p->nreports; r++)
        for (size_t i = 0; !p->reports[r].skipped && i < p->reports[r].ninputs; i++)
            for (size_t k = 0; k < p->reports[r].inputs[i].njoins; k++)
                if (canonical(&p->reports[r].inputs[i].joins[k]) == j) {
                    const fact_table *f = &p->reports[r].inputs[i].group->facts;
                    size_t q = 0;
                    while (q < n && out[q] != f) q++;
                    if (q == n && n < cap) out[n++] = f;
                    ++*ninputs;
                    break;
                }
    return n;
}

/* Before any keyed stage, so that no stage runs while the joins still hold
 * rows nobody probes: each join keeps the rows whose key the facts of an
 * input using it (on any rank) may carry. Collective; 0 or -1 out of
 * memory (all ranks). */
static int prune_joins(engine *e) {
    run_plan *p = &e->plan;
    for (size_t r = 0; r < p->nreports; r++)
        for (size_t i = 0; i < p->reports[r].ninputs; i++)
            for (size_t k = 0; k < p->reports[r].inputs[i].njoins; k++) {
                join_plan *j = &p->reports[r].inputs[i].joins[k];
                const fact_table *probes[KEYFILTER_MAX_SETS];
                if (j->same) continue;
                size_t ninputs, n = join_probes(p, j, probes, KEYFILTER_MAX_SETS, &ninputs);
                if (ninputs == (size_t)j->users && n < KEYFILTER_MAX_SETS) { /* else keep every row */
                    const int64_t *keys[KEYFILTER_MAX_SETS];
                    size_t counts[KEYFILTER_MAX_SETS];
                    for (size_t q = 0; q < n; q++) keys[q] = probes[q]->key, counts[q] = probes[q]->n;
                    key_filter kf = {0};
                    int rc = key_filter_build(&kf, keys, counts, n, e->comm);
                    if (rc == 0) facts_retain(&j->facts, may_be_probed, &kf);
                    key_filter_free(&kf);
                    if (rc) return -1;
                }
            }
    return 0;
}

int engine_finish(engine *e, const snapshot_result *snap, char *err, size_t errlen) {
    int failed = e->failed || ensure_territory(e);
    if (!dist_agree(e->comm, !failed))
        return snprintf(err, errlen, "out of memory while computing reports (on at least one rank)"), -1;
    mark_skipped(e, snap);
    int rc = prune_joins(e);
    for (size_t r = 0; rc == 0 && r < e->plan.nreports; r++) {
        report_plan *rp = &e->plan.reports[r];
        for (size_t i = 0; rc == 0 && !rp->skipped && i < rp->ninputs; i++) {
            input_plan *ip = &rp->inputs[i];
            if (!ip->keyed) continue;
            rc = gather_keyed(e, ip);
            int local = rc == 0 ? (ip->grouped ? group_stage(e, ip) : keyed_stage(e, ip)) : -1;
            if (!dist_agree_at(e->comm, "keyed", local == 0)) rc = -1;
            if (--ip->group->users == 0) /* done with them: give the memory back */
                facts_free(&ip->group->facts), facts_free(&ip->group->members_of_groups);
            for (size_t k = 0; k < ip->njoins; k++)
                if (--canonical(&ip->joins[k])->users == 0) {
                    join_plan *j = canonical(&ip->joins[k]);
                    facts_free(&j->facts);
                    free(j->run_distinct), free(j->run_at);
                    j->run_distinct = NULL, j->run_at = NULL;
                }
        }
        if (rc == 0 && reduce_report(e, rp))
            return snprintf(err, errlen, "out of memory in the reduction of %s (on at least one rank)", rp->job->id), -1;
    }
    if (rc) snprintf(err, errlen, "out of memory in the keyed stages (on at least one rank)");
    return rc;
}

static const cube *lookup_cube(void *data, const char *id) {
    engine *e = data;
    for (size_t r = 0; r < e->plan.nreports; r++)
        if (!strcmp(e->plan.reports[r].job->id, id)) return &e->plan.reports[r].cube;
    return NULL;
}

/* The republic is not a row of the kato extract; its names are fixed. */
#define REPUBLIC_KK "Қазақстан Республикасы"
#define REPUBLIC_RU "Республика Казахстан"

/* t->territories: every object of t's rows (rows are ordered by kato, so
 * each object's rows are together) with its names from the classifier. */
static int name_territories(const territory *terr, report_table *t) {
    size_t n = 0;
    for (size_t i = 0; i < t->nrows; i++) n += i == 0 || t->kato[i] != t->kato[i - 1];
    if (!(t->territories = calloc(n ? n : 1, sizeof *t->territories))) return -1;
    for (size_t i = 0; i < t->nrows; i++) {
        if (i > 0 && t->kato[i] == t->kato[i - 1]) continue;
        report_territory *o = &t->territories[t->nterritories++];
        const kato_row *k = t->kato[i] ? territory_row(terr, t->kato[i]) : NULL;
        o->kato = t->kato[i];
        o->level = t->level[i];
        snprintf(o->name_kk, sizeof o->name_kk, "%s", k ? k->name_kk : t->kato[i] ? "" : REPUBLIC_KK);
        snprintf(o->name_ru, sizeof o->name_ru, "%s", k ? k->name_ru : t->kato[i] ? "" : REPUBLIC_RU);
    }
    return 0;
}

int engine_table(engine *e, size_t r, report_table *t, char *err, size_t errlen) {
    const job *j = e->plan.reports[r].job;
    if (cube_to_table(&e->plan.reports[r].cube, lookup_cube, e, &e->terr, t, err, errlen)) return -1;
    snprintf(t->addressee, sizeof t->addressee, "%s", j->addressee ? j->addressee : "");
    date_format(e->plan.per.end + j->deadline_days, t->deadline);
    if (name_territories(&e->terr, t)) return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}

const fact_table *engine_report_rejects(const engine *e, size_t r) { return &e->plan.reports[r].rejects; }
