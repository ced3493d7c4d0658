/* rowstage.c — see rowstage.h. */
#include "rowstage.h"

#include <stdlib.h>
#include <string.h>

#include "memo.h"

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
    for (size_t r = 0; r < b->nrows; r++) out[r] = rows_widen(c, r);
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
        rows_places(&e->terr, kato, n, place);
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
            rows_dimension_index(dp, n, v, b, idx);
            index[d] = idx;
        }
        int64_t *leaf = memo_put(m, ip->leaf_memo, n);
        if (!leaf) return -1;
        rows_leaves(&ip->report->cube, index, n, leaf);
        *leaf_out = leaf;
    }
    return 0;
}

/* The rows of a batch that an input adds up, as [count, row, leaf cell,
 * row, leaf cell, …], and those its report rejects, as [count, row,
 * reason, …]: the same for every input with the same where, places and
 * leaves, so both come from the memo after the first, which sorts the
 * rows into the two in one pass. 0, or -1 out of memory. */
static int batch_rows_rejects(engine *e, const batch_env *env, const int64_t *where, const int64_t **rows_out,
                              const int64_t **rejects_out) {
    const input_plan *ip = env->ip;
    *rows_out = memo_get(&e->memo, ip->rows_memo), *rejects_out = memo_get(&e->memo, ip->rejects_memo);
    if (*rows_out && *rejects_out) return 0; /* the two ids are taken together (share.c) */
    const int64_t *place, *leaf;
    size_t n = env->b->nrows, k = 0, j = 0;
    if (batch_places_leaves(e, env, &place, &leaf)) return -1;
    int64_t *rows = memo_put(&e->memo, ip->rows_memo, 2 * n + 1), *rejects = memo_put(&e->memo, ip->rejects_memo, 2 * n + 1);
    if (!rows || !rejects) return -1;
    int64_t nleaves = (int64_t)ip->report->cube.nleaves;
    for (size_t r = 0; r < n; r++) {
        if (where && !where[r]) continue;
        if (place[r] >= 0 && leaf[r] >= 0) {
            rows[1 + 2 * k] = (int64_t)r;
            rows[2 + 2 * k++] = place[r] * nleaves + leaf[r];
        } else {
            rejects[1 + 2 * j] = (int64_t)r;
            rejects[2 + 2 * j++] = place[r] < 0 ? REPORT_REJECT_KATO : REPORT_REJECT_DIMENSION;
        }
    }
    rows[0] = (int64_t)k, rejects[0] = (int64_t)j;
    *rows_out = rows, *rejects_out = rejects;
    return 0;
}

/* Measures that add up, straight from the batch into their tallies (an
 * input that adds like an earlier one only records its rejects). */
static int accumulate_batch(engine *e, const batch_env *env, const int64_t *where, int64_t sign) {
    const input_plan *ip = env->ip;
    const row_batch *b = env->b;
    report_plan *rp = ip->report;
    const int64_t *rejects, *rows;
    if (batch_rows_rejects(e, env, where, &rows, &rejects)) return -1;
    for (int64_t i = 0; i < rejects[0]; i++)
        if (rows_reject(rp, ip->extract, b->line[rejects[1 + 2 * i]], sign, (int)rejects[2 + 2 * i])) return -1;
    if (ip->adds_like) return 0; /* its tallies have these rows from that input */
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

/* Values of a batch column at rows sel[0..n), widened as rows_widen() does. */
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
        if (g->batch_bits[r] && rows_widen(key, r) != EXPR_NULL) sel[n++] = r;
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

int rowstage_input(engine *e, input_plan *ip, const row_batch *b, int64_t sign) {
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
int rowstage_join(join_plan *jp, const row_batch *b, int64_t sign, scratch *s) {
    size_t n = b->nrows, kept = 0;
    int64_t *where = NULL;
    expr_input *in = calloc(jp->row_names.count + 1, sizeof *in);
    size_t *sel = calloc(n + 1, sizeof *sel);
    int rc = in && sel ? 0 : -1;
    if (rc == 0) bind_batch(&jp->row_names, b, NULL, in);
    if (rc == 0 && jp->where && (!(where = scratch_vec(s, 62, n)) || expr_eval(jp->where, in, n, where))) rc = -1;
    const batch_column *key = &b->cols[jp->key_column];
    for (size_t r = 0; rc == 0 && r < n; r++)
        if ((!where || where[r]) && rows_widen(key, r) != EXPR_NULL) sel[kept++] = r;
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

