/* engine.c — see engine.h. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/date.h"
#include "../base/progress.h"
#include "../dist/agree.h"
#include "keyfilter.h"
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
    if (share_plan(&e->plan)) return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}

void engine_free(engine *e) {
    plan_free(&e->plan);
    territory_free(&e->terr);
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
static void bind_batch(const name_table *names, const row_batch *b, int64_t *const *lets, expr_input *in) {
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

/* Dimension value indexes of n rows (declared order, -1 = not a value of
 * the report) from the evaluated dimension vectors. */
static void dimension_indexes(const input_plan *ip, size_t n, int64_t *const *dimv, const row_batch *text_batch,
                              int *out) {
    const job *j = ip->report->job;
    for (size_t d = 0; d < j->ndims; d++) {
        const dim_plan *dp = &ip->dims[d];
        for (size_t r = 0; r < n; r++) {
            int64_t v = dimv[d][r];
            int idx = -1;
            if (dp->edges) {
                for (size_t k = 0; v != EXPR_NULL && k < dp->nedges; k++)
                    if (v >= dp->edges[k]) idx = (int)k;
            } else if (dp->is_text && text_batch) {
                const batch_column *c = &text_batch->cols[dp->text_column];
                for (size_t w = 0; c->text_len[r] != BATCH_NULL_TEXT && w < dp->nvalues; w++)
                    if (strlen(dp->values[w]) == c->text_len[r] &&
                        !memcmp(dp->values[w], text_batch->text + c->text_off[r], c->text_len[r]))
                        idx = (int)w;
            } else if (v != EXPR_NULL && v >= 0 && v < SCHEMA_MAX_ENUM) {
                idx = dp->enum_map[v];
            }
            out[r * REPORT_MAX_DIMS + d] = idx;
        }
    }
}

/* Adds rows to the cube: non-distinct measures only. masks/values are per
 * measure of ip (NULL entries: no where / no value). */
static int accumulate(report_plan *rp, const input_plan *ip, const territory *terr, size_t n, const int64_t *kato,
                      const int *dims, int64_t *const *masks, int64_t *const *values, const int64_t *sign,
                      const int64_t *line, const unsigned char *active) {
    cube *c = &rp->cube;
    int32_t cells[CUBE_MAX_CELLS_PER_ROW], anc[4];
    for (size_t r = 0; r < n; r++) {
        if (active && !active[r]) continue;
        if (kato[r] == EXPR_NULL || territory_locate(terr, (int32_t)kato[r], anc)) {
            if (record_reject(rp, ip->extract, line[r], sign[r], REPORT_REJECT_KATO)) return -1;
            continue;
        }
        int bad_dim = 0;
        for (size_t d = 0; d < rp->job->ndims; d++) bad_dim |= dims[r * REPORT_MAX_DIMS + d] < 0;
        if (bad_dim) {
            if (record_reject(rp, ip->extract, line[r], sign[r], REPORT_REJECT_DIMENSION)) return -1;
            continue;
        }
        size_t ncells = cube_row_cells(c, anc, dims + r * REPORT_MAX_DIMS, cells);
        for (size_t k = 0; k < ip->nmeasures; k++) {
            const measure_plan *mp = &ip->measures[k];
            if (mp->kind == JM_DISTINCT || (masks[k] && !masks[k][r])) continue;
            int64_t v = values[k] ? values[k][r] : 1;
            if (v == EXPR_NULL) continue;
            int64_t *acc = c->acc + (size_t)mp->measure * c->ncells;
            for (size_t i = 0; i < ncells; i++) {
                if (mp->kind == JM_COUNT) acc[cells[i]] += sign[r];
                else if (mp->kind == JM_SUM) acc[cells[i]] += sign[r] * v;
                else if (cube_add_value(c, cells[i], mp->measure, v, sign[r])) return -1;
            }
        }
    }
    return 0;
}

/* Evaluates kato, dims and the measures' where/value of n rows bound in
 * `in`, then accumulates. Used on batches (unkeyed inputs) and on facts at
 * the key owner (keyed inputs). distinct_cells, when set, receives per row
 * its cells for the distinct measures (NULL rows skipped). */
typedef struct {
    int64_t *kato;
    int64_t *dimv[REPORT_MAX_DIMS];
    int64_t *mask[REPORT_MAX_MEASURES];
    int64_t *value[REPORT_MAX_MEASURES];
    int *dims;
} row_values;

static int evaluate_rows(input_plan *ip, const expr_input *in, size_t n, const row_batch *text_batch,
                         int only_distinct, scratch *s, row_values *rv) {
    size_t slot = 100;
    const job *j = ip->report->job;
    if (!(rv->kato = scratch_vec(s, slot++, n)) || eval(ip->kato, in, n, rv->kato)) return -1;
    for (size_t d = 0; d < j->ndims; d++)
        if (!(rv->dimv[d] = scratch_vec(s, slot++, n)) || eval(ip->dims[d].expr, in, n, rv->dimv[d])) return -1;
    for (size_t k = 0; k < ip->nmeasures; k++) {
        rv->mask[k] = rv->value[k] = NULL;
        if (only_distinct && ip->measures[k].kind != JM_DISTINCT) continue;
        if (ip->measures[k].where &&
            (!(rv->mask[k] = scratch_vec(s, slot++, n)) || eval(ip->measures[k].where, in, n, rv->mask[k])))
            return -1;
        if (ip->measures[k].value &&
            (!(rv->value[k] = scratch_vec(s, slot++, n)) || eval(ip->measures[k].value, in, n, rv->value[k])))
            return -1;
    }
    int64_t *dims = scratch_vec(s, slot++, n * REPORT_MAX_DIMS / 2 + 1);
    if (!dims) return -1;
    rv->dims = (int *)dims;
    dimension_indexes(ip, n, rv->dimv, text_batch, rv->dims);
    return 0;
}

/* ---- the row stage: one batch ----------------------------------------- */

/* Scratch slots: lets take 0 … JOB_MAX_LETS-1; the where vectors 60–62;
 * evaluate_rows from 100 on. */
_Static_assert(JOB_MAX_LETS <= 60, "let vectors must not reach the where slots");

/* Lets and the input's where over a batch. Returns the where vector (NULL
 * when the input has none) through *where; lets go to lets[]. */
static int row_stage(input_plan *ip, const row_batch *b, scratch *s, expr_input *in, int64_t **lets,
                     int64_t **where) {
    size_t n = b->nrows;
    for (size_t l = 0; l < ip->def->nlets; l++) {
        bind_batch(&ip->row_names, b, lets, in);
        if (!(lets[l] = scratch_vec(s, (size_t)l, n)) || expr_eval(ip->lets[l], in, n, lets[l])) return -1;
    }
    bind_batch(&ip->row_names, b, lets, in);
    *where = NULL;
    if (ip->where && (!(*where = scratch_vec(s, 60, n)) || expr_eval(ip->where, in, n, *where))) return -1;
    return 0;
}

/* Measures that add up, straight from the batch into the cube. */
static int accumulate_batch(engine *e, input_plan *ip, const row_batch *b, const expr_input *in, const int64_t *where,
                            int64_t sign, scratch *s) {
    size_t n = b->nrows;
    row_values rv;
    int64_t *signs = scratch_vec(s, 61, n);
    int rc = signs ? evaluate_rows(ip, in, n, b, 0, s, &rv) : -1;
    for (size_t r = 0; rc == 0 && r < n; r++) signs[r] = sign;
    unsigned char *active = NULL;
    if (rc == 0 && where && !(active = malloc(n))) rc = -1;
    for (size_t r = 0; rc == 0 && where && r < n; r++) active[r] = (unsigned char)where[r];
    if (rc == 0) rc = accumulate(ip->report, ip, &e->terr, n, rv.kato, rv.dims, rv.mask, rv.value, signs, b->line, active);
    free(active);
    return rc;
}

/* Facts start below this many rows; a deduplicating group compacts its
 * facts whenever they double past the last compaction. */
#define FACTS_COMPACT_FIRST (1u << 20)

/* A member's where over the batch into its group's bits (the first member
 * of the group starts the batch's bits). 0, or -1 out of memory. */
static int mark_member_rows(input_plan *ip, size_t n, const int64_t *where) {
    fact_group *g = ip->group;
    if (n > g->batch_cap) {
        int64_t *grown = realloc(g->batch_bits, n * sizeof *grown);
        if (!grown) return -1;
        g->batch_bits = grown;
        g->batch_cap = n;
    }
    int64_t bit = (int64_t)1 << ip->member_bit;
    if (ip->member_bit == 0) memset(g->batch_bits, 0, n * sizeof *g->batch_bits);
    for (size_t r = 0; r < n; r++)
        if (!where || where[r]) g->batch_bits[r] |= bit;
    return 0;
}

/* After the group's last member marked the batch: its rows that some member
 * keeps become facts, with the union of the carried values (lets from that
 * member's vectors: members that carry lets have the same lets). */
static int keep_facts(input_plan *ip, const row_batch *b, int64_t *const *lets, int64_t sign) {
    fact_group *g = ip->group;
    int64_t values[PLAN_MAX_CARRIED + 1];
    const batch_column *key = &b->cols[g->key_column];
    int rc = 0;
    for (size_t r = 0; rc == 0 && r < b->nrows; r++) {
        if (!g->batch_bits[r]) continue;
        for (size_t k = 0; k < g->ncarried; k++) {
            int i = g->carried[k];
            values[k] = ip->row_names.source[i] == SRC_LET ? lets[ip->row_names.index[i]][r]
                                                           : widen(&b->cols[ip->row_names.index[i]], r);
        }
        values[g->ncarried] = g->batch_bits[r];
        int64_t kv = widen(key, r);
        if (kv != EXPR_NULL) rc = facts_push(&g->facts, kv, b->line[r], sign, values);
    }
    if (rc == 0 && g->dedupe && g->facts.n >= FACTS_COMPACT_FIRST && g->facts.n >= 2 * g->compacted) {
        rc = facts_compact(&g->facts);
        g->compacted = g->facts.n;
    }
    return rc;
}

static int input_batch(engine *e, input_plan *ip, const row_batch *b, int64_t sign, scratch *s) {
    int64_t *lets[JOB_MAX_LETS] = {0}, *where;
    expr_input *in = calloc(ip->names.count + 1, sizeof *in);
    int rc = in ? row_stage(ip, b, s, in, lets, &where) : -1;
    if (rc == 0 && (!ip->keyed || ip->distinct_only)) rc = accumulate_batch(e, ip, b, in, where, sign, s);
    if (rc == 0 && ip->keyed) rc = mark_member_rows(ip, b->nrows, where);
    if (rc == 0 && ip->keyed && ip == ip->group->members[ip->group->nmembers - 1]) rc = keep_facts(ip, b, lets, sign);
    free(in);
    return rc;
}

/* Rows of a joined extract: kept, by key, when they pass the join's where. */
static int join_batch(join_plan *jp, const row_batch *b, int64_t sign, scratch *s) {
    size_t n = b->nrows;
    int64_t *where = NULL, values[16];
    expr_input *in = calloc(jp->row_names.count + 1, sizeof *in);
    if (!in) return -1;
    bind_batch(&jp->row_names, b, NULL, in);
    int rc = 0;
    if (jp->where && (!(where = scratch_vec(s, 62, n)) || expr_eval(jp->where, in, n, where))) rc = -1;
    for (size_t r = 0; rc == 0 && r < n; r++) {
        if (where && !where[r]) continue;
        int64_t kv = widen(&b->cols[jp->key_column], r);
        for (size_t v = 0; v < jp->nvalues; v++) values[v] = widen(&b->cols[jp->value_column[v]], r);
        if (kv != EXPR_NULL) rc = facts_push(&jp->facts, kv, b->line[r], sign, values);
    }
    free(in);
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
    e->territory_built = 1;
    return 0;
}

static int consume(engine *e, const row_batch *b, int64_t sign) {
    if (e->failed) return -1;
    double started = progress_now();
    int extract = (int)(b->ext - e->schemas->extracts);
    scratch s = {0};
    int rc = 0;
    if (extract == e->schemas->kato_extract) rc = kato_batch(e, b, sign);
    else rc = ensure_territory(e);
    for (size_t r = 0; rc == 0 && r < e->plan.nreports; r++) {
        report_plan *rp = &e->plan.reports[r];
        for (size_t i = 0; rc == 0 && i < rp->ninputs; i++) {
            input_plan *ip = &rp->inputs[i];
            if (ip->extract == extract) rc = input_batch(e, ip, b, sign, &s);
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

/* Join outputs for every (sorted) fact of ip from the (sorted) join facts.
 * out[k] is the vector of join output k; no_match[r] is set when a
 * required take-join found nothing. */
static int join_outputs(input_plan *ip, int64_t **out, unsigned char *no_match) {
    const fact_table *f = &ip->group->facts;
    for (size_t k = 0; k < ip->njoins; k++) {
        join_plan *jp = &ip->joins[k];
        const fact_table *g = &canonical(jp)->facts;
        int64_t *tmp = malloc((g->n + 1) * sizeof *tmp);
        if (!tmp) return -1;
        size_t a = 0;
        for (size_t r = 0; r < f->n; r++) {
            while (a < g->n && g->key[a] < f->key[r]) a++;
            size_t b = a;
            while (b < g->n && g->key[b] == f->key[r]) b++;
            size_t slot = jp->first_output;
            if (jp->def->kind == JOIN_EXISTS) {
                out[slot][r] = b > a;
            } else if (jp->def->kind == JOIN_DISTINCT) {
                size_t m = 0;
                for (size_t i = a; i < b; i++) tmp[m++] = g->col[0][i];
                sort_int64(tmp, m);
                int64_t distinct = 0;
                for (size_t i = 0; i < m; i++) distinct += i == 0 || tmp[i] != tmp[i - 1];
                out[slot][r] = distinct;
            } else {
                for (size_t v = 0; v < jp->nvalues; v++) out[slot + v][r] = b > a ? g->col[v][a] : EXPR_NULL;
                if (b == a && jp->def->required) no_match[r] = 1;
            }
        }
        free(tmp);
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
static int count_distinct(report_plan *rp, const input_plan *ip, const territory *terr, const fact_table *f,
                          const row_values *rv, const unsigned char *active) {
    cube *c = &rp->cube;
    int64_t *cells = NULL;
    size_t cap = 0;
    int32_t anc[4], row_cells[CUBE_MAX_CELLS_PER_ROW];
    for (size_t a = 0, b; a < f->n; a = b) {
        for (b = a; b < f->n && f->key[b] == f->key[a]; b++) {}
        size_t need = (b - a) * CUBE_MAX_CELLS_PER_ROW;
        if (need > cap) {
            int64_t *grown = realloc(cells, need * sizeof *grown);
            if (!grown) {
                free(cells);
                return -1;
            }
            cells = grown;
            cap = need;
        }
        for (size_t k = 0; k < ip->nmeasures; k++) {
            const measure_plan *mp = &ip->measures[k];
            if (mp->kind != JM_DISTINCT) continue;
            size_t n = 0;
            for (size_t r = a; r < b; r++) {
                if ((active && !active[r]) || (rv->mask[k] && !rv->mask[k][r])) continue;
                if (rv->kato[r] == EXPR_NULL || territory_locate(terr, (int32_t)rv->kato[r], anc)) continue;
                int bad = 0;
                for (size_t d = 0; d < rp->job->ndims; d++) bad |= rv->dims[r * REPORT_MAX_DIMS + d] < 0;
                if (bad) continue;
                size_t m = cube_row_cells(c, anc, rv->dims + r * REPORT_MAX_DIMS, row_cells);
                for (size_t i = 0; i < m; i++) cells[n++] = row_cells[i];
            }
            sort_int64(cells, n);
            int64_t *acc = c->acc + (size_t)mp->measure * c->ncells;
            for (size_t i = 0; i < n; i++)
                if (i == 0 || cells[i] != cells[i - 1]) acc[cells[i]]++;
        }
    }
    free(cells);
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
    int local = rc == 0 && !g->ready ? facts_sort_and_cancel(&g->facts) : 0;
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
    if (rc == 0) rc = evaluate_rows(ip, os.in, f->n, NULL, ip->distinct_only, &s, &rv);
    unsigned char *active = rc == 0 ? malloc(f->n + 1) : NULL;
    if (rc == 0 && !active) rc = -1;
    for (size_t r = 0; rc == 0 && r < f->n; r++) {
        active[r] = member_row(ip, r) && !os.no_match[r];
        if (member_row(ip, r) && os.no_match[r])
            rc = record_reject(rp, ip->extract, f->line[r], f->sign[r], REPORT_REJECT_NO_MATCH);
    }
    /* distinct-only inputs added everything else at the row stage */
    if (rc == 0 && !ip->distinct_only)
        rc = accumulate(rp, ip, &e->terr, f->n, rv.kato, rv.dims, rv.mask, rv.value, f->sign, f->line, active);
    if (rc == 0) rc = count_distinct(rp, ip, &e->terr, f, &rv, active);
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
    int64_t row[4 + JOB_MAX_GROUP_VALUES];
    for (size_t r = 0; rc == 0 && r < n; r++) {
        if (key[r] == EXPR_NULL || !member_row(ip, r)) continue;
        for (size_t c = 0; c < 4 + nv; c++) row[c] = cols[c][r];
        rc = facts_push(members, key[r], f->line[r], f->sign[r], row);
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
    unsigned char *active = rc == 0 ? malloc(ng + 1) : NULL;
    int *dims = rc == 0 ? calloc(ng * REPORT_MAX_DIMS + 1, sizeof *dims) : NULL;
    if (rc == 0 && (!active || !dims)) rc = -1;
    for (size_t i = 0; rc == 0 && i < ng; i++) active[i] = !where || where[i];
    if (rc == 0) rc = accumulate(ip->report, ip, &e->terr, ng, kato, dims, masks, values, sign, line, active);
    free(active), free(dims), free(in);
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
                if (--canonical(&ip->joins[k])->users == 0) facts_free(&canonical(&ip->joins[k])->facts);
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
