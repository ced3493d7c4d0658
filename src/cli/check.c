/* check.c — `esep check --snapshot DIR --out OUT [--json] [--stats]`:
 * validates a whole snapshot before the nightly job and says, per extract,
 * rows read / accepted / rejected and rejected counts per reason. Exit 0
 * when every extract was readable (rejected rows or not), 1 when any failed
 * whole. --json prints exactly one JSON object for monitoring:
 *   {"<extract>": {"read": n, "accepted": n, "rejected": n,
 *                  "reasons": {"<reason>": n, …}}, …}
 * or {"error": "<message>"} for an extract that failed whole. Reasons with
 * a zero count are left out; "ignored_columns": "a, b" is added when the
 * header has columns the schema does not know. --stats adds, on stderr, each rank's scan
 * throughput (what the ingest benchmark reads). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/log.h"
#include "../ingest/rejects.h"
#include "../ingest/snapshot.h"
#include "cli.h"

static const char *const usage =
    "esep check --snapshot DIR --out OUT [--json] [--stats] [--schemas DIR]";

typedef struct {
    const char *snapshot, *out;
    char schemas[4096];
    int json, stats;
} check_options;

static int parse_options(const cli_context *ctx, int argc, char **argv, check_options *o) {
    static const struct option longopts[] = {
        {"snapshot", required_argument, 0, 's'}, {"out", required_argument, 0, 'o'},
        {"json", no_argument, 0, 'j'},           {"stats", no_argument, 0, 't'},
        {"schemas", required_argument, 0, 'S'},  {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    cli_default_dir("schemas", o->schemas, sizeof o->schemas);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->snapshot = optarg; break;
        case 'o': o->out = optarg; break;
        case 'j': o->json = 1; break;
        case 't': o->stats = 1; break;
        case 'S': snprintf(o->schemas, sizeof o->schemas, "%s", optarg); break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!o->snapshot || !o->out) return cli_usage_error(ctx, usage, "--snapshot and --out are required");
    return 0;
}

static void print_json(const schema_set *set, const snapshot_result *res) {
    printf("{");
    for (size_t i = 0; i < set->count; i++) {
        const extract_summary *s = &res->extracts[i];
        printf("%s", i ? ", " : "");
        json_write_string(stdout, set->extracts[i].name);
        if (s->failed) {
            printf(": {\"error\": ");
            json_write_string(stdout, s->error);
            printf("}");
            continue;
        }
        printf(": {\"read\": %lld, \"accepted\": %lld, \"rejected\": %lld, \"reasons\": {",
               (long long)s->read, (long long)s->accepted, (long long)s->rejected);
        int first = 1;
        for (int r = 0; r < REJ_COUNT; r++)
            if (s->reasons[r]) {
                printf("%s\"%s\": %lld", first ? "" : ", ", reject_reason_name((reject_reason)r),
                       (long long)s->reasons[r]);
                first = 0;
            }
        printf("}");
        if (s->rejected > REJECTS_MAX_ROWS) /* rejects.h: only the first rows are listed */
            printf(", \"rejects_not_listed\": %lld", (long long)(s->rejected - REJECTS_MAX_ROWS));
        if (s->ignored_columns[0]) {
            printf(", \"ignored_columns\": ");
            json_write_string(stdout, s->ignored_columns);
        }
        printf("}");
    }
    printf("}\n");
}

static void print_table(const schema_set *set, const snapshot_result *res, const check_options *o,
                        int nranks) {
    printf("snapshot %s  (%s, %d rank%s)\n", res->date_text, o->snapshot, nranks, nranks == 1 ? "" : "s");
    cli_print_extracts(set, res);
}

/* Each rank's scan rate per extract, gathered to rank 0 (stderr). */
static void print_stats(const cli_context *ctx, const schema_set *set, const snapshot_result *res) {
    for (size_t i = 0; i < set->count; i++) {
        const extract_summary *e = &res->extracts[i];
        double mine[3] = {(double)e->bytes, e->seconds, e->cpu_seconds};
        double *all = ctx->rank == 0 ? malloc(3 * sizeof *all * (size_t)ctx->nranks) : NULL;
        MPI_Gather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, 0, ctx->comm);
        for (int r = 0; all && r < ctx->nranks; r++)
            fprintf(stderr, "stats: extract=%s rank=%d bytes=%.0f seconds=%.3f cpu=%.3f\n",
                    set->extracts[i].name, r, all[3 * r], all[3 * r + 1], all[3 * r + 2]);
        free(all);
    }
}

int cmd_check(const cli_context *ctx, int argc, char **argv) {
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    check_options o;
    int rc = parse_options(ctx, argc, argv, &o);
    if (rc) return rc;
    char err[1024];
    schema_set *set = NULL;
    if (schema_set_load(o.schemas, &set, err, sizeof err)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
        return 1;
    }
    snapshot_args args = {ctx->comm, ctx->rank, ctx->nranks, set, o.snapshot, o.out, 1, NULL, NULL, NULL};
    snapshot_result res;
    rc = snapshot_read(&args, &res, err, sizeof err);
    if (rc) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
    } else {
        if (o.stats) print_stats(ctx, set, &res);
        if (ctx->rank == 0) o.json ? print_json(set, &res) : print_table(set, &res, &o, ctx->nranks);
        fflush(stdout);
    }
    int status = rc ? 1 : res.failed_extracts ? 1 : 0;
    snapshot_result_free(&res, set->count);
    schema_set_free(set);
    return status;
}
