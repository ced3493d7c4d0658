/* access.c — `esep access add NAME REGIONS --access FILE`: adds an akimat
 * to the download service's access file (src/publish/access.h) and prints
 * its new token on standard output, once; only the token's SHA-256 is
 * stored. REGIONS is `*` or two-digit codes separated by commas ("75,00").
 * There is no default file: --access is required. Rank 0 only. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../publish/access.h"
#include "cli.h"

static const char *const usage = "esep access add NAME REGIONS --access FILE   (REGIONS: * or 75,00,…)";

int cmd_access(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {{"access", required_argument, 0, 'a'}, {0, 0, 0, 0}};
    const char *path = NULL;
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'a') path = optarg;
        else return cli_usage_error(ctx, usage, "unknown option");
    }
    if (argc - optind != 3 || strcmp(argv[optind], "add"))
        return cli_usage_error(ctx, usage, "expected: add NAME REGIONS");
    if (!path) return cli_usage_error(ctx, usage, "--access is required");
    const char *name = argv[optind + 1], *regions = argv[optind + 2];
    char token[ACCESS_TOKEN_HEX + 1], err[1024];
    if (!access_valid_name(name))
        return cli_usage_error(ctx, usage, "akimat name must be 1-%d characters of A-Z a-z 0-9 _ . -", ACCESS_MAX_NAME);
    if (access_parse_regions(regions, NULL, err, sizeof err)) return cli_usage_error(ctx, usage, "%s", err);
    if (ctx->rank != 0) return 0;
    if (access_add(path, name, regions, token, err, sizeof err)) {
        log_msg(LOG_ERROR, "access: %s", err);
        return 1;
    }
    int failed = printf("%s\n", token) < 0 || fflush(stdout) != 0;
    sodium_memzero(token, sizeof token);
    if (failed) {
        log_msg(LOG_ERROR, "access: cannot write the token to standard output; %s was added to %s anyway — "
                "remove its line and add it again", name, path);
        return 1;
    }
    log_msg(LOG_INFO, "added akimat %s (regions %s) to %s; the token above is shown only this once", name, regions,
            path);
    return 0;
}
