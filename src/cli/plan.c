/* plan.c — `esep plan --snapshots ROOT --out OUT [--on YYYY-MM-DD]`: every
 * (report, period) of the night (default today) with its period end,
 * deadline, snapshot and state — waiting (no snapshot yet), due, running,
 * done, failed, refused — and LATE when past its deadline and not
 * published. Reads the ledger; changes nothing. Exit 0, 1 when the root or
 * the catalog cannot be read, 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../base/date.h"
#include "../base/json.h"
#include "../base/log.h"
#include "../schedule/calendar.h"
#include "../base/fsutil.h"
#include "../schedule/ledger.h"
#include "jobrun.h"

static const char *const usage =
    "esep plan --snapshots ROOT --out OUT [--on YYYY-MM-DD] [--catalog SPEC] [--json] [--jobs DIR] [--schemas DIR]";

static void print_json(const calendar *cal, const snapshot_root *root) {
    printf("[");
    for (size_t i = 0; i < cal->count; i++) {
        const calendar_item *it = &cal->items[i];
        char end[11], deadline[11];
        date_format(it->per.end, end);
        date_format(it->deadline, deadline);
        printf("%s\n  {\"report\": \"%s\", \"period\": \"%s\", \"period_end\": \"%s\", \"deadline\": \"%s\", "
               "\"snapshot\": %s%s%s, \"state\": \"%s\", \"late\": %s, \"methodology_version\": %d, \"attempts\": %d, "
               "\"error\": ",
               i ? "," : "", it->job->id, it->per.text, end, deadline, it->snapshot >= 0 ? "\"" : "",
               it->snapshot >= 0 ? root->days[it->snapshot].name : "null", it->snapshot >= 0 ? "\"" : "",
               calendar_state_name(it->state), it->late ? "true" : "false", it->job->version,
               it->in_ledger ? it->ledger.attempts : 0);
        json_write_string(stdout, it->state == ITEM_REFUSED ? it->why : it->in_ledger ? it->ledger.error : "");
        printf("}");
    }
    printf("\n]\n");
}

static void print_table(const calendar *cal, const snapshot_root *root) {
    printf("%-8s %-8s %-10s %-10s %-8s %-8s %s\n", "report", "period", "ends", "deadline", "snapshot", "state", "");
    for (size_t i = 0; i < cal->count; i++) {
        const calendar_item *it = &cal->items[i];
        char end[11], deadline[11];
        date_format(it->per.end, end);
        date_format(it->deadline, deadline);
        printf("%-8s %-8s %-10s %-10s %-8s %-8s %s%s\n", it->job->id, it->per.text, end, deadline,
               it->snapshot >= 0 ? root->days[it->snapshot].name : "-", calendar_state_name(it->state),
               it->late ? "LATE " : "", it->state == ITEM_REFUSED ? it->why : it->state == ITEM_FAILED ? it->ledger.error : "");
    }
}

int cmd_plan(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {
        {"snapshots", required_argument, 0, 'R'}, {"out", required_argument, 0, 'o'},
        {"on", required_argument, 0, 'd'},        {"catalog", required_argument, 0, 'c'},
        {"json", no_argument, 0, 'j'},            {"jobs", required_argument, 0, 'J'},
        {"schemas", required_argument, 0, 'S'},
        {0, 0, 0, 0}};
    const char *root_dir = NULL, *out = NULL, *on = NULL, *catalog_spec = NULL;
    int json = 0;
    char jobs_dir[4096], schemas_dir[4096];
    cli_default_dir("jobs", jobs_dir, sizeof jobs_dir);
    cli_default_dir("schemas", schemas_dir, sizeof schemas_dir);
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        switch (c) {
        case 'R': root_dir = optarg; break;
        case 'o': out = optarg; break;
        case 'd': on = optarg; break;
        case 'c': catalog_spec = optarg; break;
        case 'j': json = 1; break;
        case 'J': snprintf(jobs_dir, sizeof jobs_dir, "%s", optarg); break;
        case 'S': snprintf(schemas_dir, sizeof schemas_dir, "%s", optarg); break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!root_dir || !out) return cli_usage_error(ctx, usage, "--snapshots and --out are required");
    int32_t night;
    if (jobrun_night(on, &night)) return cli_usage_error(ctx, usage, "bad --on '%s' (YYYY-MM-DD)", on);
    if (ctx->rank != 0) return 0;
    schema_set *set;
    job_set *jobs;
    if (jobrun_load_specs(ctx, schemas_dir, jobs_dir, &set, &jobs)) return 1;
    char err[1024], first[11] = "", spec[4200];
    snprintf(spec, sizeof spec, "%s/catalog.sqlite", out);
    snapshot_root root = {0};
    calendar cal = {0};
    int32_t first_night = night;
    catalog *cat = fs_is_dir(out) ? catalog_open(catalog_spec ? catalog_spec : spec, err, sizeof err) : NULL;
    int rc = out && !fs_is_dir(out) ? 0 : cat ? 0 : -1;
    if (rc == 0 && cat) rc = ledger_init(cat, err, sizeof err) || ledger_first_night(cat, first, err, sizeof err);
    if (rc == 0 && first[0] && date_parse(first, 10, &first_night)) first_night = night;
    if (rc == 0) rc = snapshot_root_scan(root_dir, &root, err, sizeof err);
    if (rc == 0 && !cat) {
        /* a new OUT: the calendar without a ledger */
        catalog *mem = catalog_open(":memory:", err, sizeof err);
        rc = mem ? ledger_init(mem, err, sizeof err) : -1;
        if (rc == 0) rc = calendar_build(jobs, set, &root, night, first_night, mem, &cal, err, sizeof err);
        catalog_close(mem);
    } else if (rc == 0) {
        rc = calendar_build(jobs, set, &root, night, first_night, cat, &cal, err, sizeof err);
    }
    if (rc) log_msg(LOG_ERROR, "%s", err);
    else if (json) print_json(&cal, &root);
    else print_table(&cal, &root);
    calendar_free(&cal);
    snapshot_root_free(&root);
    catalog_close(cat);
    job_set_free(jobs), schema_set_free(set);
    return rc ? 1 : 0;
}
