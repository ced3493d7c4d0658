/* jobrun.c — see jobrun.h. */
#include "jobrun.h"

#include "../dist/agree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../base/date.h"
#include "../base/log.h"

void jobrun_common_init(jobrun_common *c) {
    memset(c, 0, sizeof *c);
    cli_default_dir("jobs", c->jobs, sizeof c->jobs);
    cli_default_dir("schemas", c->schemas, sizeof c->schemas);
}

int jobrun_common_option(jobrun_common *c, int opt, const char *arg) {
    switch (opt) {
    case 'J': snprintf(c->jobs, sizeof c->jobs, "%s", arg); return 1;
    case 'S': snprintf(c->schemas, sizeof c->schemas, "%s", arg); return 1;
    case 'k': c->key = arg; return 1;
    case 'K': c->create_key = 1; return 1;
    case 'c': c->catalog = arg; return 1;
    case 'w': c->wait = atoi(arg); return 1;
    default: return 0;
    }
}

int jobrun_load_specs(const cli_context *ctx, const char *schemas_dir, const char *jobs_dir, schema_set **set,
                      job_set **jobs) {
    char err[1024];
    *set = NULL, *jobs = NULL;
    if (schema_set_load(schemas_dir, set, err, sizeof err) || job_set_load(jobs_dir, jobs, err, sizeof err)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
        job_set_free(*jobs), schema_set_free(*set);
        *set = NULL, *jobs = NULL;
        return 1;
    }
    return 0;
}

int jobrun_open_session(const cli_context *ctx, out_session *s, const char *out, const char *catalog_spec,
                        int wait_seconds) {
    char err[1024];
    int rc = 0;
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    if (ctx->rank == 0) {
        rc = out_session_open(s, out, catalog_spec, wait_seconds, err, sizeof err);
        if (rc) log_msg(LOG_ERROR, "%s", err);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, ctx->comm);
    return rc;
}

void jobrun_print_items(const pipeline_item *items, size_t n) {
    printf("%-8s %-8s %8s %10s  %s\n", "report", "period", "rows", "rejected", "result");
    for (size_t i = 0; i < n; i++) {
        const pipeline_item *it = &items[i];
        if (it->status == PIPE_DONE)
            printf("%-8s %-8s %8zu %10zu  %s (methodology v%d)%s\n", it->report, it->per.text, it->rows, it->rejected,
                   it->table_changed ? "archived" : "archived, unchanged", it->methodology_version,
                   it->revision ? "" : "");
        else if (it->table_sha256[0])
            printf("%-8s %-8s %8zu %10zu  archived, NOT PUBLISHED: %s\n", it->report, it->per.text, it->rows,
                   it->rejected, it->error);
        else
            printf("%-8s %-8s NOT PRODUCED: %s\n", it->report, it->per.text, it->error);
    }
}

/* Per rank: scan time outside the engines (ingest), row stage, keyed
 * stages and peak resident memory, printed by rank 0. */
static void print_phases(const cli_context *ctx, const pipeline_result *res) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mine[4] = {res->seconds_scan - res->consume_seconds, res->consume_seconds, res->seconds_keyed,
                      (double)ru.ru_maxrss / 1024.0};
    double *all = ctx->rank == 0 ? malloc(4 * sizeof *all * (size_t)ctx->nranks) : NULL;
    if (!dist_agree(ctx->comm, ctx->rank != 0 || all != NULL)) return; /* figures only: skip them */
    MPI_Gather(mine, 4, MPI_DOUBLE, all, 4, MPI_DOUBLE, 0, ctx->comm);
    for (int r = 0; all && r < ctx->nranks; r++)
        printf("rank %d: ingest %.2f s, compute %.2f s (row stage %.2f s + keyed stages %.2f s), peak memory %.0f MB\n", r,
               all[4 * r], all[4 * r + 1] + all[4 * r + 2], all[4 * r + 1], all[4 * r + 2], all[4 * r + 3]);
    free(all);
}

/* The run's figures for the metrics file. */
static void add_figures(const pipeline_args *a, const pipeline_result *res, metrics_run *m, long long *rejected) {
    m->scan += res->seconds_scan, m->keyed += res->seconds_keyed;
    m->archive += res->seconds_archive, m->publish += res->seconds_publish;
    for (size_t i = 0; res->snap_ok && i < a->schemas->count; i++) m->rows_read += (long long)res->snap.extracts[i].read;
    if (!res->snap_ok || !rejected) return;
    for (size_t i = 0; i < a->schemas->count && i < 64; i++) rejected[i] = (long long)res->snap.extracts[i].rejected;
    m->schemas = a->schemas;
    m->rejected = rejected;
}

int jobrun_snapshot(const cli_context *ctx, const pipeline_args *a, pipeline_item *items, size_t n, metrics_run *m,
                    long long *rejected) {
    pipeline_result res;
    char err[1024];
    int rc = pipeline_run(a, items, n, &res, err, sizeof err);
    if (ctx->rank == 0) {
        printf("esep: snapshot %s, %zu item%s, %d rank%s\n", a->snapshot_dir, n, n == 1 ? "" : "s", ctx->nranks,
               ctx->nranks == 1 ? "" : "s");
        if (rc) log_msg(LOG_ERROR, "%s", err);
        if (res.snap_ok) cli_print_extracts(a->schemas, &res.snap);
        jobrun_print_items(items, n);
        for (size_t i = 0; i < n; i++)
            if (items[i].status != PIPE_DONE)
                log_msg(LOG_ERROR, "%s %s not %s: %s", items[i].report, items[i].per.text,
                        items[i].table_sha256[0] ? "published" : "produced", items[i].error);
        printf("time: read and scan %.2f s, keyed stages and reduction %.2f s, input digests %.2f s, archive %.2f s, "
               "publication %.2f s, ledger %.1f ms (%.2f ms per item)\n",
               res.seconds_scan, res.seconds_keyed, res.seconds_digests, res.seconds_archive, res.seconds_publish,
               res.seconds_ledger * 1e3,
               n ? res.seconds_ledger * 1e3 / (double)n : 0.0);
        fflush(stdout);
    }
    if (res.snap_ok || rc == 0) print_phases(ctx, &res);
    if (m) add_figures(a, &res, m, rejected);
    pipeline_result_free(&res, a->schemas);
    int missing = 0;
    for (size_t i = 0; i < n; i++) missing += items[i].status != PIPE_DONE;
    return missing;
}

int jobrun_night(const char *on, int32_t *night) {
    if (on) return date_parse(on, strlen(on), night);
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm)) return -1;
    *night = date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return 0;
}
