/* run.c — `esep run --snapshot DIR --period P --out OUT [--reports ID,…]`:
 * one period from one named snapshot, through the pipeline (pipeline.h):
 * one scan, every report in force for P (or those named), archived, then P
 * published from the archive (bundles hold every report of P ever
 * produced; an identical bundle makes no revision). Items are recorded in
 * the ledger like the nightly's. Exit 0 only when every requested report
 * was produced and published; 1 otherwise (the message says why: a failed
 * extract, a period the snapshot cannot describe, another command holding
 * OUT); 2 on a usage error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../schedule/ledger.h"
#include "jobrun.h"

#ifndef ESEP_VERSION
#define ESEP_VERSION "0.1.0"
#endif

static const char *const usage =
    "esep run --snapshot DIR --period YYYY-MM|YYYY-Qn|YYYY --out OUT [--reports ID,…]\n"
    "         [--key FILE | --create-key] [--no-publish] [--catalog SPEC] [--wait SECONDS]\n"
    "         [--jobs DIR] [--schemas DIR]";

typedef struct {
    const char *snapshot, *period, *out;
    int no_publish;
    char *reports;
    jobrun_common common;
} run_options;

static int parse_options(const cli_context *ctx, int argc, char **argv, run_options *o) {
    static const struct option longopts[] = {
        {"snapshot", required_argument, 0, 's'}, {"period", required_argument, 0, 'p'},
        {"out", required_argument, 0, 'o'},      {"reports", required_argument, 0, 'r'},
        {"no-publish", no_argument, 0, 'n'},     JOBRUN_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage), -1;
    jobrun_common_init(&o->common);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (jobrun_common_option(&o->common, c, optarg)) continue;
        switch (c) {
        case 's': o->snapshot = optarg; break;
        case 'p': o->period = optarg; break;
        case 'o': o->out = optarg; break;
        case 'r': o->reports = optarg; break;
        case 'n': o->no_publish = 1; break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!o->snapshot || !o->period || !o->out) return cli_usage_error(ctx, usage, "--snapshot, --period and --out are required");
    return 0;
}

/* Reports of one run at most: the 130 job files of bench/forms are 128
 * monthly forms in one pass (publication still bundles at most 64). */
#define RUN_MAX_REPORTS 256

/* The items: the named reports, or every report in force for per. Returns
 * how many, or 0 with *too_many set when there are more than max (never
 * a silent cut: the rest would simply not be computed). */
static size_t make_items(const job_set *jobs, const period *per, char *list, pipeline_item *items, size_t max,
                         int *too_many) {
    const char *ids[RUN_MAX_REPORTS + 1];
    size_t n = 0, cap = max < RUN_MAX_REPORTS ? max : RUN_MAX_REPORTS;
    for (char *tok = list ? strtok(list, ",") : NULL; tok && n <= cap; tok = strtok(NULL, ",")) ids[n++] = tok;
    if (!list) n = pipeline_reports_in_force(jobs, per, ids, cap + 1);
    if ((*too_many = n > cap)) return 0;
    for (size_t i = 0; i < n; i++) {
        memset(&items[i], 0, sizeof items[i]);
        snprintf(items[i].report, sizeof items[i].report, "%s", ids[i]);
        items[i].per = *per;
    }
    return n;
}

int cmd_run(const cli_context *ctx, int argc, char **argv) {
    run_options o;
    int rc = parse_options(ctx, argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    period per;
    if (period_parse(o.period, &per))
        return cli_usage_error(ctx, usage, "bad period '%s' (YYYY-MM, YYYY-Qn or YYYY)", o.period);
    schema_set *set;
    job_set *jobs;
    if (jobrun_load_specs(ctx, o.common.schemas, o.common.jobs, &set, &jobs)) return 1;
    pipeline_item *items = calloc(RUN_MAX_REPORTS, sizeof *items);
    int too_many = 0;
    size_t n = items ? make_items(jobs, &per, o.reports, items, RUN_MAX_REPORTS, &too_many) : 0;
    if (n == 0) {
        if (ctx->rank == 0 && !items) log_msg(LOG_ERROR, "out of memory");
        else if (ctx->rank == 0 && too_many) log_msg(LOG_ERROR, "more than %d reports for %s in one run", RUN_MAX_REPORTS, per.text);
        else if (ctx->rank == 0) log_msg(LOG_ERROR, "no report is in force for %s", per.text);
        free(items), job_set_free(jobs), schema_set_free(set);
        return 1;
    }
    out_session s;
    if (jobrun_open_session(ctx, &s, o.out, o.common.catalog, o.common.wait)) {
        free(items), job_set_free(jobs), schema_set_free(set);
        return 1;
    }
    int64_t cmd = 0;
    char err[1024];
    if (ctx->rank == 0 && ledger_command_begin(s.cat, "run", "", s.owner, ctx->nranks, &cmd, err, sizeof err))
        log_msg(LOG_WARN, "%s", err);
    pipeline_args a = {ctx->comm, ctx->rank, ctx->nranks, set, jobs, o.snapshot, o.out, !o.no_publish,
                       {o.out, o.common.key, o.common.create_key, "esep " ESEP_VERSION, o.common.catalog, ctx->nranks},
                       1, s.cat, cmd, s.owner, "esep " ESEP_VERSION, NULL, 0, NULL, NULL};
    int missing = jobrun_snapshot(ctx, &a, items, n, NULL, NULL);
    if (ctx->rank == 0 && cmd &&
        ledger_command_end(s.cat, cmd, missing ? "failed" : "ok", (int)n - missing, missing, "", err, sizeof err))
        log_msg(LOG_WARN, "%s", err);
    if (ctx->rank == 0) out_session_close(&s);
    free(items), job_set_free(jobs), schema_set_free(set);
    return missing ? 1 : 0;
}
