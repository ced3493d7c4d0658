/* backfill.c — `esep backfill --snapshots ROOT --out OUT --from P1 --to P2`:
 * reprocessing history for statisticians (reports.md "Reprocessing
 * history"). Every period of every selected report's periodicity that lies
 * inside [S of P1, E of P2] is computed from its snapshot — the earliest
 * under ROOT dated after E, or the one --snapshot names — with the
 * methodology version in force at E; all periods that share a snapshot are
 * computed in ONE scan of it (pipeline.h). Each snapshot is a separate
 * pipeline call, so a failing one does not stop the others; failures and
 * refusals are listed at the end and make the exit status 1.
 *
 * --reprocess: `missing` (default) skips an item the ledger has done from
 * the same snapshot with the same methodology version; `failed` computes
 * only items whose last attempt failed; `all` computes everything again.
 * Recomputing never loses anything: the archive keeps a differing earlier
 * table under history/ and publication makes a new bundle revision only
 * when content changed.
 *
 * --boundaries as-of (default) | current | YYYY-MM-DD: restated tables on
 * the territory of day T (current = the newest snapshot's date), from the
 * newest snapshot's classifier (classifier.h); they are archived apart and
 * never published. A day after the newest snapshot is refused: no
 * classifier knows that territory yet.
 *
 * --periods-per-scan N bounds how many periods one scan computes (each has
 * its own engine: memory grows with them); the snapshot is then read once
 * per N periods. Default: all of them in one scan (up to 64, what one
 * pipeline call takes).
 *
 * Readings where the contract is silent: a period in which a report has no
 * methodology in force is not one of its periods (skipped, said once per
 * report); P1 and P2 may be of any kind (they only bound the day range). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/date.h"
#include "../base/log.h"
#include "../base/progress.h"
#include "../dist/agree.h"
#include "../pipeline/classifier.h"
#include "../schedule/calendar.h"
#include "../schedule/ledger.h"
#include "jobrun.h"

#ifndef ESEP_VERSION
#define ESEP_VERSION "0.1.0"
#endif

#define BACKFILL_MAX_ITEMS 4096
#define BACKFILL_MAX_IDS 64
#define BACKFILL_MAX_PERIODS_PER_SCAN 64 /* what one pipeline call takes */

static const char *const usage =
    "esep backfill --snapshots ROOT --out OUT --from P1 --to P2 [--reports ID,…]\n"
    "              [--reprocess missing|failed|all] [--boundaries as-of|current|YYYY-MM-DD]\n"
    "              [--snapshot DIR] [--key FILE | --create-key] [--no-publish] [--periods-per-scan N]\n"
    "              [--catalog SPEC] [--wait SECONDS] [--jobs DIR] [--schemas DIR]";

typedef enum { REPROCESS_MISSING, REPROCESS_FAILED, REPROCESS_ALL } reprocess_mode;

typedef struct {
    const char *root, *out, *from, *to, *pinned, *boundaries;
    char *reports;
    reprocess_mode reprocess;
    int no_publish;
    int periods_per_scan;           /* 0: all periods of a snapshot in one scan */
    jobrun_common common;
} backfill_options;

static int parse_reprocess(const char *s, reprocess_mode *m) {
    if (!strcmp(s, "missing")) *m = REPROCESS_MISSING;
    else if (!strcmp(s, "failed")) *m = REPROCESS_FAILED;
    else if (!strcmp(s, "all")) *m = REPROCESS_ALL;
    else return -1;
    return 0;
}

static int parse_options(const cli_context *ctx, int argc, char **argv, backfill_options *o) {
    static const struct option longopts[] = {
        {"snapshots", required_argument, 0, 'R'}, {"out", required_argument, 0, 'o'},
        {"from", required_argument, 0, 'f'},      {"to", required_argument, 0, 't'},
        {"reports", required_argument, 0, 'r'},   {"reprocess", required_argument, 0, 'x'},
        {"boundaries", required_argument, 0, 'b'}, {"snapshot", required_argument, 0, 's'},
        {"no-publish", no_argument, 0, 'n'},      {"periods-per-scan", required_argument, 0, 'P'},
        JOBRUN_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage), -1;
    jobrun_common_init(&o->common);
    o->boundaries = "as-of";
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (jobrun_common_option(&o->common, c, optarg)) continue;
        switch (c) {
        case 'R': o->root = optarg; break;
        case 'o': o->out = optarg; break;
        case 'f': o->from = optarg; break;
        case 't': o->to = optarg; break;
        case 'r': o->reports = optarg; break;
        case 'b': o->boundaries = optarg; break;
        case 's': o->pinned = optarg; break;
        case 'n': o->no_publish = 1; break;
        case 'P':
            o->periods_per_scan = atoi(optarg);
            if (o->periods_per_scan < 1 || o->periods_per_scan > 64 || strspn(optarg, "0123456789") != strlen(optarg))
                return cli_usage_error(ctx, usage, "bad --periods-per-scan '%s' (1 to 64)", optarg);
            break;
        case 'x':
            if (parse_reprocess(optarg, &o->reprocess))
                return cli_usage_error(ctx, usage, "bad --reprocess '%s' (missing, failed or all)", optarg);
            break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!o->root || !o->out || !o->from || !o->to)
        return cli_usage_error(ctx, usage, "--snapshots, --out, --from and --to are required");
    return 0;
}

/* What the command works on, settled on rank 0 before anything runs. */
typedef struct {
    int32_t first_day, last_day;    /* [S of P1, E of P2] */
    const char *ids[BACKFILL_MAX_IDS];
    size_t nids;
    int restated;
    int32_t restate_day;
    char restate_text[11];
    snapshot_root root;
    int pinned_date;                /* day of --snapshot, or INT32_MIN */
    char pinned_name[9];
} backfill_scope;

/* The report ids: the named ones (each must be a report of jobs/), or
 * every distinct id. 0, or -1 with the unknown id in err. */
static int select_ids(const job_set *jobs, char *list, backfill_scope *sc, char *err, size_t errlen) {
    sc->nids = 0;
    for (size_t i = 0; !list && i < jobs->count && sc->nids < BACKFILL_MAX_IDS; i++)
        if (sc->nids == 0 || strcmp(sc->ids[sc->nids - 1], jobs->jobs[i].id)) sc->ids[sc->nids++] = jobs->jobs[i].id;
    for (char *tok = list ? strtok(list, ",") : NULL; tok; tok = strtok(NULL, ",")) {
        const char *id = NULL;
        for (size_t i = 0; i < jobs->count && !id; i++)
            if (!strcmp(jobs->jobs[i].id, tok)) id = jobs->jobs[i].id;
        if (!id) return snprintf(err, errlen, "unknown report '%s' (no such id in jobs/)", tok), -1;
        if (sc->nids == BACKFILL_MAX_IDS) return snprintf(err, errlen, "more than %d reports", BACKFILL_MAX_IDS), -1;
        sc->ids[sc->nids++] = id;
    }
    return 0;
}

/* --from/--to/--boundaries/--reports into the scope. 0, or a usage error
 * (EXIT_USAGE, printed). */
static int settle_scope(const cli_context *ctx, backfill_options *o, const job_set *jobs, backfill_scope *sc) {
    period p1, p2;
    char err[512];
    if (period_parse(o->from, &p1)) return cli_usage_error(ctx, usage, "bad --from '%s' (YYYY-MM, YYYY-Qn or YYYY)", o->from);
    if (period_parse(o->to, &p2)) return cli_usage_error(ctx, usage, "bad --to '%s' (YYYY-MM, YYYY-Qn or YYYY)", o->to);
    sc->first_day = p1.start, sc->last_day = p2.end;
    if (sc->first_day > sc->last_day) return cli_usage_error(ctx, usage, "--from %s is after --to %s", o->from, o->to);
    if (select_ids(jobs, o->reports, sc, err, sizeof err)) return cli_usage_error(ctx, usage, "%s", err);
    sc->restated = strcmp(o->boundaries, "as-of") != 0;
    if (sc->restated && strcmp(o->boundaries, "current") &&
        (strlen(o->boundaries) != 10 || date_parse(o->boundaries, 10, &sc->restate_day)))
        return cli_usage_error(ctx, usage, "bad --boundaries '%s' (as-of, current or YYYY-MM-DD)", o->boundaries);
    return 0;
}

/* The snapshot root, the pinned snapshot and the restatement day (which
 * needs the root's newest snapshot). 0, or -1 with a message. */
static int settle_snapshots(const backfill_options *o, backfill_scope *sc, char *err, size_t errlen) {
    if (snapshot_root_scan(o->root, &sc->root, err, errlen)) return -1;
    sc->pinned_date = INT32_MIN;
    if (o->pinned && snapshot_parse_dir(o->pinned, &sc->pinned_date, sc->pinned_name, err, errlen)) return -1;
    if (!sc->restated) return 0;
    if (sc->root.count == 0)
        return snprintf(err, errlen, "restated boundaries need the newest snapshot's classifier: no snapshot under %s",
                        o->root), -1;
    int32_t newest = sc->root.days[sc->root.count - 1].date;
    if (!strcmp(o->boundaries, "current")) sc->restate_day = newest;
    if (sc->restate_day > newest)
        return snprintf(err, errlen, "--boundaries %s is after the newest snapshot (%s): no classifier knows that "
                        "territory yet", o->boundaries, sc->root.days[sc->root.count - 1].name), -1;
    date_format(sc->restate_day, sc->restate_text);
    return 0;
}

/* One item to compute, with its snapshot (index into the root, or -1 for
 * the pinned one) — or, when none can describe it, its refusal. */
typedef struct {
    pipeline_item item;
    int snapshot;                   /* -2: no snapshot (refused) */
    const job *job;
} planned_item;

/* Whether the ledger lets mode skip the item (see the top of the file). */
static int ledger_skips(catalog *cat, reprocess_mode mode, const planned_item *pi, const char *boundaries,
                        const char *snapshot_name) {
    if (mode == REPROCESS_ALL) return 0;
    ledger_item li;
    int found = 0;
    char err[512];
    if (ledger_item_get(cat, pi->item.report, pi->item.per.text, boundaries, &li, &found, err, sizeof err)) {
        log_msg(LOG_WARN, "ledger: %s (computing %s %s)", err, pi->item.report, pi->item.per.text);
        return 0;
    }
    if (mode == REPROCESS_FAILED) return !found || strcmp(li.state, "failed") != 0;
    return found && !strcmp(li.state, "done") && !strcmp(li.snapshot_date, snapshot_name) &&
           li.methodology_version == pi->job->version;
}

typedef struct {
    planned_item *items;
    size_t count, skipped, out_of_force;
} backfill_plan;

/* The item of report id for period p, or nothing when the report has no
 * methodology in force at E or the ledger lets it be. */
static int plan_one(const backfill_options *o, const job_set *jobs, const backfill_scope *sc, catalog *cat,
                    const char *id, const period *p, backfill_plan *plan) {
    const job *j = job_set_find(jobs, id, p->end);
    if (!j || j->periodicity != p->kind) return plan->out_of_force += j == NULL, 0;
    if (plan->count == BACKFILL_MAX_ITEMS) return -1;
    planned_item *pi = &plan->items[plan->count];
    memset(pi, 0, sizeof *pi);
    snprintf(pi->item.report, sizeof pi->item.report, "%s", id);
    pi->item.per = *p;
    pi->job = j;
    pi->snapshot = sc->pinned_date != INT32_MIN ? -1 : snapshot_root_first_after(&sc->root, p->end, INT32_MAX);
    if (pi->snapshot == -1 && sc->pinned_date == INT32_MIN) pi->snapshot = -2;
    const char *name = pi->snapshot >= 0 ? sc->root.days[pi->snapshot].name : sc->pinned_name;
    if (pi->snapshot != -2 && ledger_skips(cat, o->reprocess, pi, sc->restated ? sc->restate_text : "as-of", name))
        return plan->skipped++, 0;
    plan->count++;
    return 0;
}

/* Rank 0: every (report, period) of the scope, in period order. */
static int plan_items(const backfill_options *o, const job_set *jobs, const backfill_scope *sc, catalog *cat,
                      backfill_plan *plan, char *err, size_t errlen) {
    static const period_kind kinds[] = {PERIOD_MONTH, PERIOD_QUARTER, PERIOD_YEAR};
    for (size_t k = 0; k < 3; k++) {
        period p;
        if (period_containing(kinds[k], sc->first_day, &p)) continue;
        if (p.start < sc->first_day && period_step(&p, 1, &p)) continue;
        for (; p.end <= sc->last_day; ) {
            for (size_t i = 0; i < sc->nids; i++)
                if (plan_one(o, jobs, sc, cat, sc->ids[i], &p, plan))
                    return snprintf(err, errlen, "more than %d items: narrow --from/--to", BACKFILL_MAX_ITEMS), -1;
            if (period_step(&p, 1, &p)) break;
        }
    }
    return 0;
}

typedef struct {
    size_t done, failed, total;
    long long rows;
    double seconds;                 /* reading and scanning */
} backfill_totals;

/* Collective: the items of one snapshot through the pipeline. */
static void run_one_snapshot(const cli_context *ctx, pipeline_args *a, const char *dir, pipeline_item *items, size_t n,
                             backfill_totals *tot) {
    a->snapshot_dir = dir;
    metrics_run m;
    memset(&m, 0, sizeof m);
    int missing = jobrun_snapshot(ctx, a, items, n, &m, NULL);
    tot->done += n - (size_t)missing, tot->failed += (size_t)missing;
    tot->rows += m.rows_read, tot->seconds += m.scan;
    if (ctx->rank == 0)
        log_msg(LOG_INFO, "backfill: %zu of %zu items settled (%zu failed); read %lld rows at %.0f rows/s",
                tot->done + tot->failed, tot->total, tot->failed, tot->rows,
                tot->seconds > 0 ? (double)tot->rows / tot->seconds : 0.0);
}

/* Collective: rank 0 hands out the items of snapshot s (-1 pinned), the
 * others receive them; returns the count. */
static size_t share_items(const cli_context *ctx, const backfill_plan *plan, int s, pipeline_item *items) {
    int n = 0;
    for (size_t i = 0; ctx->rank == 0 && i < plan->count; i++)
        if (plan->items[i].snapshot == s) items[n++] = plan->items[i].item;
    MPI_Bcast(&n, 1, MPI_INT, 0, ctx->comm);
    if (n) MPI_Bcast(items, (int)((size_t)n * sizeof *items), MPI_BYTE, 0, ctx->comm);
    return (size_t)n;
}

/* Rank 0: copies the outcome of the items of snapshot s back into plan. */
static void settle_items(backfill_plan *plan, int s, const pipeline_item *items) {
    size_t k = 0;
    for (size_t i = 0; i < plan->count; i++)
        if (plan->items[i].snapshot == s) plan->items[i].item = items[k++];
}

/* Rank 0: the end of the command — counts, then every failure and
 * refusal with its reason. Returns the number not done. */
static size_t print_end(const backfill_plan *plan, const backfill_scope *sc) {
    size_t done = 0, failed = 0, refused = 0;
    for (size_t i = 0; i < plan->count; i++) {
        pipe_status st = plan->items[i].item.status;
        done += st == PIPE_DONE, failed += st == PIPE_FAILED, refused += st == PIPE_REFUSED;
    }
    printf("backfill%s%s: %zu item%s done, %zu failed, %zu refused; %zu skipped (done before from the same "
           "snapshot and methodology)\n",
           sc->restated ? " restated on " : "", sc->restated ? sc->restate_text : "", done, done == 1 ? "" : "s",
           failed, refused, plan->skipped);
    for (size_t i = 0; i < plan->count; i++) {
        const pipeline_item *it = &plan->items[i].item;
        if (it->status == PIPE_FAILED) printf("FAILED  %-8s %-8s %s\n", it->report, it->per.text, it->error);
        if (it->status == PIPE_REFUSED) printf("REFUSED %-8s %-8s %s\n", it->report, it->per.text, it->error);
    }
    return plan->count - done;
}

/* Rank 0: refuses the items no snapshot can describe. */
static void refuse_unplaced(backfill_plan *plan, const backfill_options *o, backfill_totals *tot) {
    for (size_t i = 0; i < plan->count; i++) {
        planned_item *pi = &plan->items[i];
        if (pi->snapshot != -2) continue;
        char e[11];
        date_format(pi->item.per.end, e);
        pi->item.status = PIPE_REFUSED;
        snprintf(pi->item.error, sizeof pi->item.error, "no snapshot under %s is dated after E = %s", o->root, e);
        tot->failed++;
    }
}

/* Collective: restated tables need the newest snapshot's classifier. */
static int load_classifier(const cli_context *ctx, const backfill_options *o, const backfill_scope *sc,
                           territory *terr, char dir[4200]) {
    char err[1024];
    snprintf(dir, 4200, "%s/%s", sc->root.root, sc->root.days[sc->root.count - 1].name);
    memset(terr, 0, sizeof *terr);
    if (classifier_load(ctx->comm, ctx->rank, ctx->nranks, o->common.schemas, dir, o->out, terr, err, sizeof err)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
        return -1;
    }
    return 0;
}

/* The end of the run of items from start that spans at most max periods
 * — each period of a scan has its own engine, so the bound
 * caps a scan's memory. Items of one period are adjacent. Cannot fail. */
static size_t chunk_end(const pipeline_item *items, size_t n, size_t start, int max) { /* max ≥ 1 */
    int periods = 0;
    size_t i = start;
    for (; i < n; i++) {
        int fresh = i == start || strcmp(items[i].per.text, items[i - 1].per.text) != 0;
        if (fresh && ++periods > max) break;
    }
    return i;
}

/* Collective: every snapshot's items, the pinned one first. */
static void run_all(const cli_context *ctx, pipeline_args *a, const backfill_options *o, const backfill_scope *sc,
                    backfill_plan *plan, backfill_totals *tot) {
    pipeline_item *items = malloc(BACKFILL_MAX_ITEMS * sizeof *items);
    if (!dist_agree(ctx->comm, items != NULL)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "out of memory");
        free(items);
        return;
    }
    for (int s = -1; s < (int)sc->root.count; s++) {
        size_t n = share_items(ctx, plan, s, items);
        if (n == 0) continue;
        char dir[4200];
        if (s < 0) snprintf(dir, sizeof dir, "%s", o->pinned);
        else snprintf(dir, sizeof dir, "%s/%s", sc->root.root, sc->root.days[s].name);
        for (size_t start = 0, end; start < n; start = end) {
            end = chunk_end(items, n, start, o->periods_per_scan ? o->periods_per_scan : BACKFILL_MAX_PERIODS_PER_SCAN);
            run_one_snapshot(ctx, a, dir, items + start, end - start, tot);
        }
        if (ctx->rank == 0) settle_items(plan, s, items);
    }
    free(items);
}

/* Rank 0: plans the items (the ledger says what is done). 0, or -1. */
static int plan_backfill(const backfill_options *o, const job_set *jobs, const backfill_scope *sc, catalog *cat,
                         backfill_plan *plan, backfill_totals *tot) {
    char err[512];
    plan->items = malloc(BACKFILL_MAX_ITEMS * sizeof *plan->items);
    if (!plan->items) return log_msg(LOG_ERROR, "out of memory"), -1;
    if (plan_items(o, jobs, sc, cat, plan, err, sizeof err)) return log_msg(LOG_ERROR, "%s", err), -1;
    refuse_unplaced(plan, o, tot);
    tot->total = plan->count;
    if (plan->out_of_force)
        log_msg(LOG_INFO, "backfill: %zu (report, period) pairs have no methodology in force and are not periods of "
                "their report", plan->out_of_force);
    log_msg(LOG_INFO, "backfill: %zu items to compute, %zu already done from the same inputs", plan->count,
            plan->skipped);
    return 0;
}

/* Collective, with OUT's session open: the whole backfill. Returns the
 * exit status. */
static int run_backfill(const cli_context *ctx, backfill_options *o, schema_set *set, job_set *jobs, out_session *s,
                        backfill_scope *sc) {
    backfill_plan plan;
    backfill_totals tot;
    memset(&plan, 0, sizeof plan);
    memset(&tot, 0, sizeof tot);
    int rc = ctx->rank == 0 ? plan_backfill(o, jobs, sc, s->cat, &plan, &tot) : 0;
    MPI_Bcast(&rc, 1, MPI_INT, 0, ctx->comm);
    territory terr;
    char classifier_dir[4200] = "";
    if (rc == 0 && sc->restated) rc = load_classifier(ctx, o, sc, &terr, classifier_dir);
    if (rc) {
        free(plan.items);
        return 1;
    }
    char err[1024];
    int64_t cmd = 0;
    if (ctx->rank == 0 && ledger_command_begin(s->cat, "backfill", "", s->owner, ctx->nranks, &cmd, err, sizeof err))
        log_msg(LOG_WARN, "%s", err);
    pipeline_args a = {ctx->comm, ctx->rank, ctx->nranks, set, jobs, NULL, o->out, !o->no_publish,
                       {o->out, o->common.key, o->common.create_key, "esep " ESEP_VERSION, o->common.catalog, ctx->nranks},
                       1, s->cat, cmd, s->owner, "esep " ESEP_VERSION, NULL, 0, NULL, NULL};
    if (sc->restated) {
        a.classifier = &terr, a.restate_day = sc->restate_day, a.restate_text = sc->restate_text;
        a.classifier_snapshot = sc->root.days[sc->root.count - 1].name;
    }
    run_all(ctx, &a, o, sc, &plan, &tot);
    size_t missing = ctx->rank == 0 ? print_end(&plan, sc) : 0;
    if (ctx->rank == 0 && cmd &&
        ledger_command_end(s->cat, cmd, missing ? "failed" : "ok", (int)(plan.count - missing), (int)missing, "", err,
                           sizeof err))
        log_msg(LOG_WARN, "%s", err);
    MPI_Bcast(&missing, sizeof missing, MPI_BYTE, 0, ctx->comm);
    if (sc->restated) territory_free(&terr);
    free(plan.items);
    return missing ? 1 : 0;
}

int cmd_backfill(const cli_context *ctx, int argc, char **argv) {
    backfill_options o;
    int rc = parse_options(ctx, argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    schema_set *set;
    job_set *jobs;
    if (jobrun_load_specs(ctx, o.common.schemas, o.common.jobs, &set, &jobs)) return 1;
    backfill_scope sc;
    memset(&sc, 0, sizeof sc);
    char err[1024];
    int status = settle_scope(ctx, &o, jobs, &sc);
    if (status == 0 && settle_snapshots(&o, &sc, err, sizeof err)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
        status = 1;
    }
    out_session s;
    if (status == 0) {
        rc = jobrun_open_session(ctx, &s, o.out, o.common.catalog, o.common.wait);
        status = rc ? 1 : run_backfill(ctx, &o, set, jobs, &s, &sc);
        if (ctx->rank == 0 && rc == 0) out_session_close(&s);
    }
    snapshot_root_free(&sc.root);
    job_set_free(jobs), schema_set_free(set);
    return status;
}
