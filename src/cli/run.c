/* run.c — `esep run --snapshot DIR --period P --out OUT [--reports ID,…]`:
 * the nightly job. Reads the snapshot once (every rank its share), feeds
 * every report valid for P, writes each report's table to the archive
 * OUT/archive/<P>/<ID>.h5 and the rows a report could not use to
 * OUT/rejects/<YYYYMMDD>/<ID>-<P>.csv, and prints a summary: reports
 * produced, rows per extract, time per phase. Exit 0 only when every
 * requested report was produced. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../archive/h5archive.h"
#include "../base/digest.h"
#include "../base/fsutil.h"
#include "../base/log.h"
#include "../base/progress.h"
#include "../engine/engine.h"
#include "../publish/publisher.h"
#include "cli.h"

#ifndef ESEP_VERSION
#define ESEP_VERSION "0.1.0"
#endif

/* Reports one run archives and publishes: the 12 regulated ones and room
 * for many more forms (the benchmark computes 128 in one pass). */
#define RUN_MAX_REPORTS 256

static const char *const usage =
    "esep run --snapshot DIR --period YYYY-MM|YYYY-Qn|YYYY --out OUT [--reports ID,…] [--key FILE]\n"
    "         [--no-publish] [--catalog SPEC] [--jobs DIR] [--schemas DIR]";

typedef struct {
    const char *snapshot, *period, *out, *key, *catalog;
    int no_publish;
    char *reports;
    char jobs[4096], schemas[4096];
} run_options;

static int parse_options(const cli_context *ctx, int argc, char **argv, run_options *o) {
    static const struct option longopts[] = {
        {"snapshot", required_argument, 0, 's'}, {"period", required_argument, 0, 'p'},
        {"out", required_argument, 0, 'o'},      {"reports", required_argument, 0, 'r'},
        {"jobs", required_argument, 0, 'J'},     {"schemas", required_argument, 0, 'S'},
        {"key", required_argument, 0, 'k'},      {"no-publish", no_argument, 0, 'n'},
        {"catalog", required_argument, 0, 'c'},  {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    cli_default_dir("jobs", o->jobs, sizeof o->jobs);
    cli_default_dir("schemas", o->schemas, sizeof o->schemas);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        switch (c) {
        case 's': o->snapshot = optarg; break;
        case 'p': o->period = optarg; break;
        case 'o': o->out = optarg; break;
        case 'r': o->reports = optarg; break;
        case 'J': snprintf(o->jobs, sizeof o->jobs, "%s", optarg); break;
        case 'S': snprintf(o->schemas, sizeof o->schemas, "%s", optarg); break;
        case 'k': o->key = optarg; break;
        case 'n': o->no_publish = 1; break;
        case 'c': o->catalog = optarg; break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!o->snapshot || !o->period || !o->out) return cli_usage_error(ctx, usage, "--snapshot, --period and --out are required");
    return 0;
}

/* Splits "A,B,C" in place. */
static size_t split_ids(char *list, char **ids, size_t max) {
    size_t n = 0;
    for (char *tok = list ? strtok(list, ",") : NULL; tok && n < max; tok = strtok(NULL, ",")) ids[n++] = tok;
    return n;
}

/* SHA-256 of every extract file, computed by the ranks in turn. */
static void input_digests(const cli_context *ctx, const schema_set *set, const char *dir, char (*hex)[65],
                          char (*file)[128]) {
    memset(hex, 0, set->count * 65);
    for (size_t i = 0; i < set->count; i++) {
        char path[4096], err[512];
        int compressed;
        file[i][0] = '\0';
        if (snapshot_locate_file(dir, set->extracts[i].name, path, sizeof path, &compressed, err, sizeof err)) continue;
        const char *base = strrchr(path, '/');
        snprintf(file[i], 128, "%.127s", base ? base + 1 : path);
        if ((int)(i % (size_t)ctx->nranks) == ctx->rank && digest_file_sha256(path, hex[i], err, sizeof err))
            hex[i][0] = '\0';
    }
    MPI_Allreduce(MPI_IN_PLACE, hex, (int)(set->count * 65), MPI_UNSIGNED_CHAR, MPI_MAX, ctx->comm);
}

/* Adds extract x to the table's inputs once. */
static void add_input(report_table *t, const schema_set *set, const snapshot_result *snap, int x,
                      char (*hex)[65], char (*file)[128]) {
    for (size_t i = 0; i < t->ninputs; i++)
        if (!strcmp(t->inputs[i].name, set->extracts[x].name)) return;
    report_input *in = &t->inputs[t->ninputs++];
    snprintf(in->name, sizeof in->name, "%s", set->extracts[x].name);
    snprintf(in->file, sizeof in->file, "%s", file[x]);
    snprintf(in->sha256, sizeof in->sha256, "%s", hex[x]);
    in->read = snap->extracts[x].read;
    in->accepted = snap->extracts[x].accepted;
    in->rejected = snap->extracts[x].rejected;
}

static void fill_metadata(report_table *t, const report_plan *rp, const run_plan *plan, const schema_set *set,
                          const snapshot_result *snap, char (*hex)[65], char (*file)[128]) {
    const job *j = rp->job;
    snprintf(t->id, sizeof t->id, "%s", j->id);
    snprintf(t->period, sizeof t->period, "%s", plan->per.text);
    snprintf(t->title_kk, sizeof t->title_kk, "%s", j->title_kk);
    snprintf(t->title_ru, sizeof t->title_ru, "%s", j->title_ru);
    t->methodology_version = j->version;
    snprintf(t->snapshot_date, sizeof t->snapshot_date, "%s", snap->date_text);
    snprintf(t->tool_version, sizeof t->tool_version, "esep %s", ESEP_VERSION);
    add_input(t, set, snap, set->kato_extract, hex, file);
    for (size_t i = 0; i < rp->ninputs; i++) {
        add_input(t, set, snap, rp->inputs[i].extract, hex, file);
        for (size_t k = 0; k < rp->inputs[i].njoins; k++) add_input(t, set, snap, rp->inputs[i].joins[k].extract, hex, file);
    }
}

/* OUT/rejects/<date>/<ID>-<P>.csv: extract,line,reason — rows the report
 * could not use (they are valid rows of their extract). */
static int write_report_rejects(const engine *e, size_t r, const schema_set *set, const char *dir, char *err,
                                size_t errlen) {
    const report_plan *rp = &e->plan.reports[r];
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s-%s.csv", dir, rp->job->id, e->plan.per.text);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return snprintf(err, errlen, "%.900s: cannot create: %m", tmp), -1;
    const fact_table *rj = engine_report_rejects(e, r);
    fputs("extract,line,reason\n", f);
    for (size_t i = 0; i < rj->n; i++)
        fprintf(f, "%s,%lld,%s\n", set->extracts[rj->key[i]].name, (long long)rj->line[i],
                engine_reject_reason_name((int)rj->col[0][i]));
    return fs_commit_file(f, tmp, path, err, errlen);
}

/* Rank 0: archives every requested report; prints a line per report.
 * The produced tables are kept in tables[] (*ntables) for publication. */
static int archive_reports(engine *e, const run_options *o, const schema_set *set, const snapshot_result *snap,
                           char (*hex)[65], char (*file)[128], report_table **tables, size_t *ntables) {
    char dir[4200], err[1024];
    int missing = 0;
    snprintf(dir, sizeof dir, "%s/archive/%s", o->out, e->plan.per.text);
    if (fs_mkdirs(dir, err, sizeof err)) return log_msg(LOG_ERROR, "%s", err), -1;
    printf("%-8s %8s %10s  %s\n", "report", "rows", "rejected", "archive");
    for (size_t r = 0; r < e->plan.nreports; r++) {
        report_plan *rp = &e->plan.reports[r];
        if (!rp->requested) continue;
        if (rp->skipped) {
            printf("%-8s NOT PRODUCED: %s\n", rp->job->id, rp->skip_reason);
            missing++;
            continue;
        }
        report_table *tp = *ntables < RUN_MAX_REPORTS ? calloc(1, sizeof *tp) : NULL;
        if (!tp) return log_msg(LOG_ERROR, "out of memory or more than %d reports", RUN_MAX_REPORTS), -1;
        report_table t;
        memset(&t, 0, sizeof t);
        char path[4300];
        snprintf(path, sizeof path, "%s/%s.h5", dir, rp->job->id);
        int rc = engine_table(e, r, &t, err, sizeof err);
        if (rc == 0) fill_metadata(&t, rp, &e->plan, set, snap, hex, file), rc = h5archive_write(&t, path, err, sizeof err);
        if (rc == 0) rc = write_report_rejects(e, r, set, snap->rejects_dir, err, sizeof err);
        if (rc) {
            printf("%-8s NOT PRODUCED: %s\n", rp->job->id, err);
            missing++;
        } else {
            printf("%-8s %8zu %10zu  %s\n", rp->job->id, t.nrows, engine_report_rejects(e, r)->n, path);
        }
        if (rc == 0) {
            *tp = t;
            tables[(*ntables)++] = tp;
        } else {
            report_table_free(&t);
            free(tp);
        }
    }
    return missing;
}

/* Rank 0: signed bundles for every region and the republic. */
static int publish(const run_options *o, const cli_context *ctx, const snapshot_result *snap, const period *per,
                   report_table **tables, size_t ntables) {
    char err[1024];
    publish_args pa = {o->out, o->key, per->text, snap->date_text, "esep " ESEP_VERSION, o->catalog, ctx->nranks};
    int n = publish_reports(&pa, tables, ntables, err, sizeof err);
    if (n < 0) return log_msg(LOG_ERROR, "publication failed: %s", err), -1;
    printf("published %d bundles under %s/publish/ (public key %s/publish/esep.pub)\n", n, o->out, o->out);
    return 0;
}

/* Per rank: scan time outside the engine (ingest), time in the engine's
 * row stage, keyed stages, and peak resident memory. Printed by rank 0. */
static void print_phases(const cli_context *ctx, double scan, double row_stage, double keyed) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mine[4] = {scan - row_stage, row_stage, keyed, (double)ru.ru_maxrss / 1024.0};
    double *all = ctx->rank == 0 ? malloc(4 * sizeof *all * (size_t)ctx->nranks) : NULL;
    MPI_Gather(mine, 4, MPI_DOUBLE, all, 4, MPI_DOUBLE, 0, ctx->comm);
    for (int r = 0; all && r < ctx->nranks; r++)
        printf("rank %d: ingest %.2f s, compute %.2f s (row stage %.2f s + keyed stages %.2f s), peak memory %.0f MB\n", r,
               all[4 * r], all[4 * r + 1] + all[4 * r + 2], all[4 * r + 1], all[4 * r + 2], all[4 * r + 3]);
    free(all);
}

int cmd_run(const cli_context *ctx, int argc, char **argv) {
    run_options o;
    int rc = parse_options(ctx, argc, argv, &o);
    if (rc) return rc;
    char err[1024], *ids[64];
    size_t nids = split_ids(o.reports, ids, 64);
    schema_set *set = NULL;
    job_set *jobs = NULL;
    period per;
    engine eng;
    memset(&eng, 0, sizeof eng);
    if (schema_set_load(o.schemas, &set, err, sizeof err) || job_set_load(o.jobs, &jobs, err, sizeof err) ||
        (period_parse(o.period, &per) ? (snprintf(err, sizeof err, "bad period '%s' (YYYY-MM, YYYY-Qn or YYYY)", o.period), 1) : 0) ||
        engine_init(&eng, ctx->comm, set, jobs, &per, ids, nids, err, sizeof err)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
        engine_free(&eng), job_set_free(jobs), schema_set_free(set);
        return 1;
    }
    double t0 = progress_now();
    snapshot_args args = {ctx->comm, ctx->rank, ctx->nranks, set, o.snapshot, o.out, 1,
                          engine_consume, engine_consume_withdrawn, &eng};
    snapshot_result snap;
    rc = snapshot_read(&args, &snap, err, sizeof err);
    double t1 = progress_now();
    if (rc == 0) {
        if (ctx->rank == 0) log_msg(LOG_INFO, "snapshot read in %.1f s; keyed stages and reduction…", t1 - t0);
        rc = engine_finish(&eng, &snap, err, sizeof err);
    }
    double t2 = progress_now();
    char (*hex)[65] = calloc(set->count, sizeof *hex);
    char (*file)[128] = calloc(set->count, sizeof *file);
    int missing = 0;
    report_table *tables[RUN_MAX_REPORTS];
    size_t ntables = 0;
    if (rc == 0 && hex && file) {
        input_digests(ctx, set, o.snapshot, hex, file);
        if (ctx->rank == 0) {
            printf("esep run: snapshot %s, period %s, %d rank%s\n", snap.date_text, per.text, ctx->nranks,
                   ctx->nranks == 1 ? "" : "s");
            cli_print_extracts(set, &snap);
            missing = archive_reports(&eng, &o, set, &snap, hex, file, tables, &ntables);
            if (missing >= 0 && !o.no_publish && ntables && publish(&o, ctx, &snap, &per, tables, ntables)) missing++;
            printf("time: read and scan %.2f s, keyed stages and reduction %.2f s, archive and publication %.2f s\n", t1 - t0,
                   t2 - t1, progress_now() - t2);
            fflush(stdout);
        }
        print_phases(ctx, t1 - t0, eng.consume_seconds, t2 - t1);
    } else if (ctx->rank == 0) {
        log_msg(LOG_ERROR, "%s", rc ? err : "out of memory");
    }
    MPI_Bcast(&missing, 1, MPI_INT, 0, ctx->comm);
    int status = rc || !hex || !file || missing ? 1 : 0;
    free(hex), free(file);
    for (size_t i = 0; i < ntables; i++) report_table_free(tables[i]), free(tables[i]);
    if (rc == 0 || snap.extracts) snapshot_result_free(&snap, set->count);
    engine_free(&eng), job_set_free(jobs), schema_set_free(set);
    return status;
}
