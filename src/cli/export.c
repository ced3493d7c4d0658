/* export.c — `esep export --out OUT --report ID --period P [--boundaries
 * current|YYYY-MM-DD] [--jobs DIR]`: prints the report's CSV form
 * (reports.md) with the exact internal values, read from the archive
 * OUT/archive/<P>/<ID>.h5 — or, with --boundaries, the restated table
 * OUT/archive/<P>/restated/<DAY>/<ID>.h5 (current: the latest day the
 * report was restated on for that period). A period that is none of
 * the three forms is a usage error (exit 2). When the table is not there,
 * the job files say why, so that a typo is a usage error naming what is
 * wrong — an unknown report id, a period of the wrong kind for the report,
 * a report not in force then — rather than a missing file (exit 1, kept
 * for a report not computed yet). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>

#include "../archive/h5archive.h"
#include "../base/date.h"
#include "../base/log.h"
#include "../engine/period.h"
#include "../spec/job.h"
#include "cli.h"

static const char *const usage =
    "esep export --out OUT --report ID --period P [--boundaries current|YYYY-MM-DD] [--jobs DIR]";

/* Why there is no table OUT/archive/<per>/<id>.h5: a usage error
 * (EXIT_USAGE) naming the mistake when id is no report of the job files,
 * is not in force for the period, or is of another periodicity; else 1,
 * "not computed yet". The job files are only consulted here, so that the
 * archived tables of a report since retired stay readable. */
static int explain_missing(const cli_context *ctx, const char *jobs_dir, const char *out, const char *id,
                           const period *p) {
    job_set *jobs = NULL;
    char err[1024];
    if (job_set_load(jobs_dir, &jobs, err, sizeof err)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
        return 1;
    }
    const job *any = NULL;
    for (size_t i = 0; i < jobs->count && !any; i++)
        if (!strcmp(jobs->jobs[i].id, id)) any = &jobs->jobs[i];
    const job *j = job_set_find(jobs, id, p->end);
    int rc = 1;
    if (!any) rc = cli_usage_error(ctx, usage, "unknown report '%s' (no such id in %s)", id, jobs_dir);
    else if (!j) rc = cli_usage_error(ctx, usage, "report %s is not in force for period %s", id, p->text);
    else if (j->periodicity != p->kind)
        rc = cli_usage_error(ctx, usage, "report %s is %s; '%s' is not such a period", id,
                             cli_period_form(j->periodicity), p->text);
    else if (ctx->rank == 0)
        log_msg(LOG_ERROR, "report %s for %s is not in the archive of %s (not computed yet?)", id, p->text, out);
    job_set_free(jobs);
    return rc;
}

/* The latest YYYY-MM-DD folder under dir that holds <id>.h5 into day (11
 * bytes), or "" when there is none: each report is restated on its own
 * days. Cannot fail. */
static void latest_restated_day(const char *dir, const char *id, char day[11]) {
    day[0] = '\0';
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        int32_t n;
        char table[4300];
        if (strlen(de->d_name) != 10 || date_parse(de->d_name, 10, &n) || strcmp(de->d_name, day) <= 0) continue;
        snprintf(table, sizeof table, "%s/%.10s/%.15s.h5", dir, de->d_name, id);
        if (access(table, F_OK) == 0) memcpy(day, de->d_name, 11); /* 10 characters and the NUL */
    }
    if (d) closedir(d);
}

/* The archive file of (id, per) with the boundaries asked for into path.
 * 0, or EXIT_USAGE (printed) for a bad --boundaries, or 1 (printed) when no
 * restated table exists for the period. */
static int table_path(const cli_context *ctx, const char *out, const char *per, const char *id,
                      const char *boundaries, char *path, size_t n) {
    if (!boundaries || !strcmp(boundaries, "as-of")) return snprintf(path, n, "%s/archive/%s/%s.h5", out, per, id), 0;
    char day[11];
    int32_t d;
    if (!strcmp(boundaries, "current")) {
        snprintf(path, n, "%s/archive/%s/restated", out, per);
        latest_restated_day(path, id, day);
        if (!day[0]) {
            if (ctx->rank == 0) log_msg(LOG_ERROR, "no restated table of %s is archived for %s", id, per);
            return 1;
        }
    } else if (strlen(boundaries) == 10 && date_parse(boundaries, 10, &d) == 0) {
        snprintf(day, sizeof day, "%s", boundaries);
    } else {
        return cli_usage_error(ctx, usage, "bad --boundaries '%s' (current or YYYY-MM-DD)", boundaries);
    }
    snprintf(path, n, "%s/archive/%s/restated/%s/%s.h5", out, per, day, id);
    return 0;
}

int cmd_export(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'}, {"report", required_argument, 0, 'r'},
                                             {"period", required_argument, 0, 'p'}, {"jobs", required_argument, 0, 'J'},
                                             {"boundaries", required_argument, 0, 'b'}, {0, 0, 0, 0}};
    const char *out = NULL, *id = NULL, *per = NULL, *boundaries = NULL;
    char jobs_dir[4096];
    cli_default_dir("jobs", jobs_dir, sizeof jobs_dir);
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'o') out = optarg;
        else if (c == 'r') id = optarg;
        else if (c == 'p') per = optarg;
        else if (c == 'J') snprintf(jobs_dir, sizeof jobs_dir, "%s", optarg);
        else if (c == 'b') boundaries = optarg;
        else return cli_usage_error(ctx, usage, "unknown option");
    }
    if (!out || !id || !per) return cli_usage_error(ctx, usage, "--out, --report and --period are required");
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    period p;
    if (!cli_safe_component(per) || period_parse(per, &p))
        return cli_usage_error(ctx, usage, "bad period '%s' (YYYY-MM, YYYY-Qn or YYYY)", per);
    if (!cli_safe_component(id)) return cli_usage_error(ctx, usage, "unknown report '%s'", id);
    char path[4200], err[1024];
    int rc = table_path(ctx, out, per, id, boundaries, path, sizeof path);
    if (rc) return rc;
    if (access(path, F_OK) && boundaries && strcmp(boundaries, "as-of")) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s: no such restated table", path);
        return 1;
    }
    if (access(path, F_OK)) return explain_missing(ctx, jobs_dir, out, id, &p);
    if (ctx->rank != 0) return 0;
    report_table t;
    memset(&t, 0, sizeof t);
    rc = h5archive_read(path, &t, err, sizeof err);
    if (rc == 0 && (report_table_write_csv(&t, stdout) || fflush(stdout))) {
        snprintf(err, sizeof err, "cannot write to standard output");
        rc = -1;
    }
    if (rc) log_msg(LOG_ERROR, "%s", err);
    report_table_free(&t);
    return rc ? 1 : 0;
}
