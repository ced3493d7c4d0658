/* export.c — `esep export --out OUT --report ID --period P`: prints the
 * report's CSV form (reports.md) with the exact internal values, read from
 * the archive OUT/archive/<P>/<ID>.h5. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../archive/h5archive.h"
#include "../base/log.h"
#include "cli.h"

static const char *const usage = "esep export --out OUT --report ID --period P";

/* Report ids and periods become path components: only safe characters. */
static int safe_component(const char *s) {
    if (!*s || strlen(s) > 15) return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
    return 1;
}

int cmd_export(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'}, {"report", required_argument, 0, 'r'},
                                             {"period", required_argument, 0, 'p'}, {0, 0, 0, 0}};
    const char *out = NULL, *id = NULL, *per = NULL;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'o') out = optarg;
        else if (c == 'r') id = optarg;
        else if (c == 'p') per = optarg;
        else return cli_usage_error(ctx, usage, "unknown option");
    }
    if (!out || !id || !per) return cli_usage_error(ctx, usage, "--out, --report and --period are required");
    if (!safe_component(id) || !safe_component(per)) return cli_usage_error(ctx, usage, "bad report id or period");
    if (ctx->rank != 0) return 0;
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/archive/%s/%s.h5", out, per, id);
    report_table t;
    memset(&t, 0, sizeof t);
    int rc = h5archive_read(path, &t, err, sizeof err);
    if (rc == 0 && (report_table_write_csv(&t, stdout) || fflush(stdout))) {
        snprintf(err, sizeof err, "cannot write to standard output");
        rc = -1;
    }
    if (rc) log_msg(LOG_ERROR, "%s", err);
    report_table_free(&t);
    return rc ? 1 : 0;
}
