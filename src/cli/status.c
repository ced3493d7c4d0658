/* status.c — `esep status --out OUT [--on YYYY-MM-DD]`: what operators ask
 * in the morning, without SQL: the last commands (nightly, run, backfill)
 * with their outcome, the items failed or still running, and the items
 * late on that day (default today): past their deadline and not
 * published; --json also lists every item of the ledger with its state.
 * Reads the ledger only. Exit 0; 1 when the catalog cannot be
 * read; 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/date.h"
#include "../base/json.h"
#include "../base/log.h"
#include "../schedule/ledger.h"
#include "jobrun.h"

static const char *const usage = "esep status --out OUT [--on YYYY-MM-DD] [--catalog SPEC] [--json]";

typedef struct {
    int json, count;
    int all;                  /* list every item, not only those needing attention */
    char today[11];
} status_view;

static int print_command(const ledger_command *c, void *data) {
    status_view *v = data;
    if (v->json) {
        printf("%s\n    {\"id\": %lld, \"command\": \"%s\", \"night\": \"%s\", \"started_at\": \"%s\", "
               "\"finished_at\": %s%s%s, \"status\": \"%s\", \"done\": %d, \"failed\": %d}",
               v->count ? "," : "", (long long)c->id, c->command, c->night, c->started_at,
               c->finished_at[0] ? "\"" : "", c->finished_at[0] ? c->finished_at : "null", c->finished_at[0] ? "\"" : "",
               c->finished_at[0] ? c->status : "stopped", c->done, c->failed);
    } else {
        printf("  #%-4lld %-8s %-10s %s → %s  %-8s %d done, %d failed\n", (long long)c->id, c->command,
               c->night[0] ? c->night : "-", c->started_at, c->finished_at[0] ? c->finished_at : "(did not finish)",
               c->finished_at[0] ? c->status : "stopped", c->done, c->failed);
    }
    v->count++;
    return 0;
}

/* 1 when the item is late on v->today. */
static int is_late(const ledger_item *it, const status_view *v) {
    return strcmp(it->state, "done") && it->deadline[0] && strcmp(it->deadline, v->today) < 0;
}

static int print_item(const ledger_item *it, void *data) {
    status_view *v = data;
    int late = is_late(it, v), failed = !strcmp(it->state, "failed"), running = !strcmp(it->state, "running");
    if (!v->all && !late && !failed && !running) return 0;
    if (v->json) {
        printf("%s\n    {\"report\": \"%s\", \"period\": \"%s\", \"state\": \"%s\", \"late\": %s, \"deadline\": \"%s\", "
               "\"attempts\": %d, \"snapshot\": \"%s\", \"methodology_version\": %d, \"revision\": %d, "
               "\"finished_at\": \"%s\", \"error\": ",
               v->count ? "," : "", it->report, it->period, it->state, late ? "true" : "false", it->deadline,
               it->attempts, it->snapshot_date, it->methodology_version, it->revision, it->finished_at);
        json_write_string(stdout, it->error);
        printf("}");
    } else {
        printf("  %-8s %-8s %-8s %s deadline %s, %d attempt%s%s%s\n", it->report, it->period, it->state,
               late ? "LATE" : "    ", it->deadline[0] ? it->deadline : "-", it->attempts, it->attempts == 1 ? "" : "s",
               it->error[0] ? ": " : "", it->error);
    }
    v->count++;
    return 0;
}

static int show(catalog *cat, status_view *v, char *err, size_t errlen) {
    printf(v->json ? "{\"on\": \"%s\", \"commands\": [" : "esep status on %s\nlast commands:\n", v->today);
    v->count = 0;
    if (ledger_commands_list(cat, 10, print_command, v, err, errlen)) return -1;
    if (!v->json && !v->count) printf("  (none yet)\n");
    if (v->json) {
        printf("\n  ],\n  \"items\": [");
        v->count = 0, v->all = 1;
        if (ledger_items_list(cat, print_item, v, err, errlen)) return -1;
        v->all = 0;
    }
    printf(v->json ? "\n  ],\n  \"attention\": [" : "failed, running and late items:\n");
    v->count = 0;
    if (ledger_items_list(cat, print_item, v, err, errlen)) return -1;
    if (!v->json && !v->count) printf("  (none)\n");
    if (v->json) printf("\n  ]}\n");
    return 0;
}

int cmd_status(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'}, {"on", required_argument, 0, 'd'},
                                             {"catalog", required_argument, 0, 'c'}, {"json", no_argument, 0, 'j'}, {0, 0, 0, 0}};
    const char *out = NULL, *on = NULL, *catalog_spec = NULL;
    status_view v = {0, 0, 0, ""};
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'd': on = optarg; break;
        case 'c': catalog_spec = optarg; break;
        case 'j': v.json = 1; break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_usage_error(ctx, usage, "--out is required");
    int32_t night;
    if (jobrun_night(on, &night)) return cli_usage_error(ctx, usage, "bad --on '%s' (YYYY-MM-DD)", on);
    if (ctx->rank != 0) return 0;
    date_format(night, v.today);
    char err[1024], spec[4200];
    snprintf(spec, sizeof spec, "%s/catalog.sqlite", out);
    if (!catalog_spec && access(spec, F_OK) != 0) {
        log_msg(LOG_ERROR, "%s: no catalog: nothing has run on this OUT yet", spec);
        return 1;
    }
    catalog *cat = catalog_open(catalog_spec ? catalog_spec : spec, err, sizeof err);
    int rc = cat ? ledger_init(cat, err, sizeof err) : -1;
    if (rc == 0) rc = show(cat, &v, err, sizeof err);
    if (rc) log_msg(LOG_ERROR, "%s", err);
    catalog_close(cat);
    return rc ? 1 : 0;
}
