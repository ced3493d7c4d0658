/* nightly.c — `esep nightly --snapshots ROOT --out OUT [--on YYYY-MM-DD]`:
 * the one command operators schedule each night (outputs.md "Nightly
 * operations"). Takes OUT's work lock, builds the night's calendar
 * (calendar.h), computes every due or failed item — each snapshot scanned
 * once for all the items that use it, several periods in one scan —
 * publishes from the archive, records the ledger, writes the metrics file
 * and prints a summary. A second run the same night finds nothing to do
 * and says so. Exit status: 0 every due item done (or nothing due); 1 some
 * items failed (the others are done and published); 2 usage; 3 nothing
 * could run (no snapshot under ROOT, or another command holds OUT). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/date.h"
#include "../base/json.h"
#include "../base/log.h"
#include "../dist/agree.h"
#include "../schedule/calendar.h"
#include "../schedule/ledger.h"
#include "../schedule/metrics.h"
#include "jobrun.h"

#ifndef ESEP_VERSION
#define ESEP_VERSION "0.1.0"
#endif

#define EXIT_NOTHING_RAN 3
#define NIGHTLY_MAX_ITEMS 512

static const char *const usage =
    "esep nightly --snapshots ROOT --out OUT [--on YYYY-MM-DD] [--key FILE | --create-key]\n"
    "             [--catalog SPEC] [--wait SECONDS] [--json] [--jobs DIR] [--schemas DIR]";

typedef struct {
    const char *root, *out, *on;
    int json;
    jobrun_common common;
} nightly_options;

static int parse_options(const cli_context *ctx, int argc, char **argv, nightly_options *o) {
    static const struct option longopts[] = {
        {"snapshots", required_argument, 0, 'R'}, {"out", required_argument, 0, 'o'},
        {"on", required_argument, 0, 'd'},        {"json", no_argument, 0, 'j'},
        JOBRUN_COMMON_OPTIONS,                    {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage), -1;
    jobrun_common_init(&o->common);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (jobrun_common_option(&o->common, c, optarg)) continue;
        switch (c) {
        case 'R': o->root = optarg; break;
        case 'o': o->out = optarg; break;
        case 'd': o->on = optarg; break;
        case 'j': o->json = 1; break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!o->root || !o->out) return cli_usage_error(ctx, usage, "--snapshots and --out are required");
    return 0;
}

/* Rank 0: the items of one snapshot (index snap) that the night wants. */
static size_t items_of_snapshot(const calendar *cal, int snap, pipeline_item *items, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < cal->count && n < max; i++) {
        const calendar_item *it = &cal->items[i];
        if (!calendar_item_wanted(it) || it->snapshot != snap) continue;
        memset(&items[n], 0, sizeof items[n]);
        snprintf(items[n].report, sizeof items[n].report, "%s", it->job->id);
        items[n].per = it->per;
        n++;
    }
    return n;
}

typedef struct {
    int done, failed, snapshots;
    metrics_run m;
    long long rejected[64];
} night_totals;

/* Collective: one snapshot's items (rank 0 chose them; all ranks get
 * them), run through the pipeline. */
static void run_snapshot(const cli_context *ctx, pipeline_args *a, const snapshot_root *root, int snap,
                         pipeline_item *items, size_t n, night_totals *tot) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", root->root, root->days[snap].name);
    a->snapshot_dir = dir;
    int missing = jobrun_snapshot(ctx, a, items, n, &tot->m, tot->rejected);
    tot->done += (int)n - missing, tot->failed += missing, tot->snapshots++;
}

/* Rank 0: builds the night's calendar; records its items as due. */
static int night_calendar(const job_set *jobs, const schema_set *set, const snapshot_root *root, int32_t night,
                          catalog *cat, calendar *cal, char *err, size_t errlen) {
    char first[11], on[11];
    int32_t first_night = night;
    date_format(night, on);
    if (ledger_first_night(cat, first, err, errlen)) return -1;
    if (!first[0] && ledger_set_first_night(cat, on, err, errlen)) return -1;
    if (first[0] && date_parse(first, 10, &first_night)) first_night = night;
    if (calendar_build(jobs, set, root, night, first_night, cat, cal, err, errlen)) return -1;
    if (ledger_batch_begin(cat, err, errlen)) return -1;
    for (size_t i = 0; i < cal->count; i++) {
        char deadline[11];
        date_format(cal->items[i].deadline, deadline);
        if (ledger_item_due(cat, cal->items[i].job->id, cal->items[i].per.text, "as-of", deadline, err, errlen))
            return -1;
    }
    return ledger_batch_commit(cat, err, errlen);
}

static void print_summary(const calendar *cal, const night_totals *t, int json, const char *night) {
    int late = 0, waiting = 0, done = 0;
    for (size_t i = 0; i < cal->count; i++) {
        late += cal->items[i].late;
        waiting += cal->items[i].state == ITEM_WAITING;
        done += cal->items[i].state == ITEM_DONE;
    }
    if (json) {
        printf("{\"night\": \"%s\", \"snapshots_read\": %d, \"items_done_now\": %d, \"items_failed\": %d, "
               "\"items_done_total\": %d, \"items_waiting\": %d, \"items_late\": %d, \"late\": [",
               night, t->snapshots, t->done, t->failed, done, waiting, late);
        int first = 1;
        for (size_t i = 0; i < cal->count; i++) {
            if (!cal->items[i].late) continue;
            printf("%s{\"report\": \"%s\", \"period\": \"%s\", \"state\": \"%s\"}", first ? "" : ", ",
                   cal->items[i].job->id, cal->items[i].per.text, calendar_state_name(cal->items[i].state));
            first = 0;
        }
        printf("]}\n");
        return;
    }
    if (t->snapshots == 0) printf("nightly %s: nothing new to do (%d items done, %d waiting for a snapshot)\n", night, done, waiting);
    else printf("nightly %s: %d item%s done, %d failed, from %d snapshot%s; %d waiting for a snapshot\n", night, t->done,
                t->done == 1 ? "" : "s", t->failed, t->snapshots, t->snapshots == 1 ? "" : "s", waiting);
    for (size_t i = 0; i < cal->count; i++) {
        const calendar_item *it = &cal->items[i];
        char deadline[11];
        date_format(it->deadline, deadline);
        if (it->late) printf("LATE  %-8s %-8s deadline %s, %s\n", it->job->id, it->per.text, deadline, calendar_state_name(it->state));
        if (it->state == ITEM_FAILED) printf("FAILED %-8s %-8s %s\n", it->job->id, it->per.text, it->ledger.error);
        if (it->state == ITEM_REFUSED) printf("REFUSED %-8s %-8s %s\n", it->job->id, it->per.text, it->why);
    }
}

/* The whole night on rank 0's calendar; returns the exit status. */
static int run_night(const cli_context *ctx, const nightly_options *o, schema_set *set, job_set *jobs,
                     out_session *s, int32_t night) {
    char err[1024], on[11];
    date_format(night, on);
    snapshot_root root;
    calendar cal = {0};
    int rc = 0;
    if (ctx->rank == 0) {
        rc = snapshot_root_scan(o->root, &root, err, sizeof err);
        if (rc == 0) rc = night_calendar(jobs, set, &root, night, s->cat, &cal, err, sizeof err);
        if (rc) log_msg(LOG_ERROR, "%s", err);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, ctx->comm);
    if (rc) return 1;
    MPI_Bcast(&root, (int)sizeof root, MPI_BYTE, 0, ctx->comm);
    if (ctx->rank != 0) root.days = calloc(root.count ? root.count : 1, sizeof *root.days);
    /* every rank agrees before the collective (an empty root has no list) */
    if (!dist_agree(ctx->comm, root.days != NULL || root.count == 0)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "out of memory (on at least one rank)");
        if (ctx->rank == 0) calendar_free(&cal);
        snapshot_root_free(&root);
        return 1;
    }
    MPI_Bcast(root.days, (int)(root.count * sizeof *root.days), MPI_BYTE, 0, ctx->comm);
    int64_t cmd = 0;
    if (ctx->rank == 0 && ledger_command_begin(s->cat, "nightly", on, s->owner, ctx->nranks, &cmd, err, sizeof err))
        log_msg(LOG_WARN, "%s", err);
    pipeline_args a = {ctx->comm, ctx->rank, ctx->nranks, set, jobs, NULL, o->out, 1,
                       {o->out, o->common.key, o->common.create_key, "esep " ESEP_VERSION, o->common.catalog, ctx->nranks},
                       1, s->cat, cmd, s->owner, "esep " ESEP_VERSION, NULL, 0, NULL, NULL};
    night_totals tot;
    memset(&tot, 0, sizeof tot);
    pipeline_item *items = calloc(NIGHTLY_MAX_ITEMS, sizeof *items);
    /* --json: stdout carries the one JSON summary; the pipeline's lines go
     * to stderr meanwhile */
    int saved_stdout = -1;
    if (o->json && ctx->rank == 0) fflush(stdout), saved_stdout = dup(STDOUT_FILENO), dup2(STDERR_FILENO, STDOUT_FILENO);
    int any_snapshot = snapshot_root_first_after(&root, INT32_MIN, night) >= 0;
    for (size_t snap = 0; items && snap < root.count; snap++) {
        int n = ctx->rank == 0 ? (int)items_of_snapshot(&cal, (int)snap, items, NIGHTLY_MAX_ITEMS) : 0;
        MPI_Bcast(&n, 1, MPI_INT, 0, ctx->comm);
        if (n == 0) continue;
        MPI_Bcast(items, (int)((size_t)n * sizeof *items), MPI_BYTE, 0, ctx->comm);
        run_snapshot(ctx, &a, &root, (int)snap, items, (size_t)n, &tot);
    }
    free(items);
    tot.m.failed_items = tot.failed;
    if (o->json && ctx->rank == 0) fflush(stdout), dup2(saved_stdout, STDOUT_FILENO), close(saved_stdout);
    int status = !any_snapshot ? EXIT_NOTHING_RAN : tot.failed ? 1 : 0;
    if (ctx->rank == 0) {
        if (cmd && ledger_command_end(s->cat, cmd, status == 0 ? "ok" : "failed", tot.done, tot.failed,
                                      any_snapshot ? "" : "no snapshot", err, sizeof err))
            log_msg(LOG_WARN, "%s", err);
        calendar_free(&cal);
        if (night_calendar(jobs, set, &root, night, s->cat, &cal, err, sizeof err) == 0) {
            if (metrics_write(o->out, &cal, s->cat, &tot.m, err, sizeof err)) log_msg(LOG_WARN, "metrics: %s", err);
            if (!any_snapshot) log_msg(LOG_ERROR, "no snapshot under %s dated on or before %s: nothing could run", o->root, on);
            print_summary(&cal, &tot, o->json, on);
        } else {
            log_msg(LOG_ERROR, "%s", err);
        }
        calendar_free(&cal);
    }
    snapshot_root_free(&root);
    return status;
}

int cmd_nightly(const cli_context *ctx, int argc, char **argv) {
    nightly_options o;
    int rc = parse_options(ctx, argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    int32_t night;
    if (jobrun_night(o.on, &night)) return cli_usage_error(ctx, usage, "bad --on '%s' (YYYY-MM-DD)", o.on);
    schema_set *set;
    job_set *jobs;
    if (jobrun_load_specs(ctx, o.common.schemas, o.common.jobs, &set, &jobs)) return 1;
    out_session s;
    rc = jobrun_open_session(ctx, &s, o.out, o.common.catalog, o.common.wait);
    int status = rc == 1 ? EXIT_NOTHING_RAN : rc ? 1 : run_night(ctx, &o, set, jobs, &s, night);
    if (ctx->rank == 0 && rc == 0) out_session_close(&s);
    job_set_free(jobs), schema_set_free(set);
    return status;
}
