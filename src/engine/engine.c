/* engine.c — see engine.h. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/date.h"
#include "../base/progress.h"
#include "../dist/agree.h"
#include "keyed.h"
#include "keyfilter.h"
#include "memo.h"
#include "rows.h"
#include "rowstage.h"
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
        int64_t s = rows_widen(&b->cols[succ], r), t = rows_widen(&b->cols[to], r);
        kato_row row = {(int32_t)rows_widen(&b->cols[code], r), (int32_t)rows_widen(&b->cols[level], r),
                        (int32_t)rows_widen(&b->cols[from], r), t == EXPR_NULL ? -1 : (int32_t)t,
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
            if (ip->extract == extract) rc = rowstage_input(e, ip, b, sign);
            for (size_t k = 0; rc == 0 && k < ip->njoins; k++)
                if (ip->joins[k].extract == extract && !ip->joins[k].same) rc = rowstage_join(&ip->joins[k], b, sign, &s);
        }
    }
    scratch_free(&s);
    if (rc) e->failed = 1;
    e->consume_seconds += progress_now() - started;
    return rc;
}

int engine_consume(void *engine_ptr, const row_batch *batch) { return consume(engine_ptr, batch, +1); }

int engine_consume_withdrawn(void *engine_ptr, const row_batch *batch) { return consume(engine_ptr, batch, -1); }

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

/* Whether filtering join j by its probes' keys costs less than keeping
 * it whole: only when the join holds more rows than its probes carry keys
 * (summed over ranks, so every rank answers the same). A month's ASP
 * payments probed by 2 M persons facts are kept whole: building and
 * sharing a filter of 2 M keys costs more than moving the few rows it
 * would drop. The result is the same either way (the filter only drops
 * rows that could never match). Collective. */
static int worth_pruning(const engine *e, const join_plan *j, const fact_table *const *probes, size_t n) {
    long long count[2] = {(long long)j->facts.n, 0};
    for (size_t q = 0; q < n; q++) count[1] += (long long)probes[q]->n;
    MPI_Allreduce(MPI_IN_PLACE, count, 2, MPI_LONG_LONG, MPI_SUM, e->comm);
    return count[0] > count[1];
}

/* Before any keyed stage, so that no stage runs while the joins still hold
 * rows nobody probes: each join worth it keeps the rows whose key the
 * facts of an input using it (on any rank) may carry. Collective; 0 or -1
 * out of memory (all ranks). */
static int prune_joins(engine *e) {
    run_plan *p = &e->plan;
    for (size_t r = 0; r < p->nreports; r++)
        for (size_t i = 0; i < p->reports[r].ninputs; i++)
            for (size_t k = 0; k < p->reports[r].inputs[i].njoins; k++) {
                join_plan *j = &p->reports[r].inputs[i].joins[k];
                const fact_table *probes[KEYFILTER_MAX_SETS];
                if (j->same) continue;
                size_t ninputs, n = join_probes(p, j, probes, KEYFILTER_MAX_SETS, &ninputs);
                if (ninputs == (size_t)j->users && n < KEYFILTER_MAX_SETS && worth_pruning(e, j, probes, n)) {
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
            rc = keyed_gather(e, ip);
            int local = rc == 0 ? keyed_run(e, ip) : -1;
            if (!dist_agree_at(e->comm, "keyed", local == 0)) rc = -1;
            keyed_release(ip); /* done with them: give the memory back */
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
