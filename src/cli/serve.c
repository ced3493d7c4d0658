/* serve.c — `esep serve --out OUT --access FILE [--listen HOST:PORT]
 * [--audit FILE] [--allow-remote]`: runs the bundle download service
 * (src/publish/serve.h) until SIGINT/SIGTERM. It runs on rank 0 only and
 * is normally started without mpirun; other ranks return at once. The
 * default listen address is 127.0.0.1:8080; a non-loopback address needs
 * --allow-remote. The audit log defaults to OUT/audit.log. The connection
 * caps and read deadlines (serve.h, guard.h) have defaults; the flags set
 * them for a site (and let the tests use small values). --portal-ttl sets
 * how long a browser portal session lives (default 1800 s). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "../base/log.h"
#include "../publish/serve.h"
#include "cli.h"

static const char *const usage =
    "esep serve --out OUT --access FILE [--listen HOST:PORT] [--audit FILE] [--allow-remote]\n"
    "           [--max-connections N] [--max-per-address N] [--head-timeout-ms MS] [--body-timeout-ms MS]\n"
    "           [--portal-ttl SECONDS]";

/* A positive integer up to 10^7 into *out. 0, or -1. */
static int positive(const char *s, unsigned *out) {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || s[0] == '-' || v == 0 || v > 10000000) return -1;
    *out = (unsigned)v;
    return 0;
}

int cmd_serve(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                             {"access", required_argument, 0, 'a'},
                                             {"listen", required_argument, 0, 'l'},
                                             {"audit", required_argument, 0, 'u'},
                                             {"allow-remote", no_argument, 0, 'r'},
                                             {"max-connections", required_argument, 0, 'C'},
                                             {"max-per-address", required_argument, 0, 'P'},
                                             {"head-timeout-ms", required_argument, 0, 'H'},
                                             {"body-timeout-ms", required_argument, 0, 'B'},
                                             {"portal-ttl", required_argument, 0, 't'},
                                             {0, 0, 0, 0}};
    serve_options o = {0};
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'o') o.out_dir = optarg;
        else if (c == 'a') o.access_path = optarg;
        else if (c == 'l') o.listen = optarg;
        else if (c == 'u') o.audit_path = optarg;
        else if (c == 'r') o.allow_remote = 1;
        else if (c == 'C' || c == 'P' || c == 'H' || c == 'B') {
            unsigned *field = c == 'C' ? &o.max_connections : c == 'P' ? &o.max_per_addr
                            : c == 'H' ? &o.head_timeout_ms : &o.body_timeout_ms;
            if (positive(optarg, field)) return cli_usage_error(ctx, usage, "'%s' is not a positive number", optarg);
        }
        else if (c == 't' && (o.portal_ttl = atoi(optarg)) <= 0) return cli_usage_error(ctx, usage, "--portal-ttl: seconds > 0");
        else if (c == 't') continue;
        else return cli_usage_error(ctx, usage, "unknown option");
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!o.out_dir || !o.access_path) return cli_usage_error(ctx, usage, "--out and --access are required");
    char err[1024];
    if (o.listen && serve_check_listen(o.listen, err, sizeof err))
        return cli_usage_error(ctx, usage, "%s", err);
    if (ctx->rank != 0) return 0;
    if (serve_run(&o, err, sizeof err)) {
        log_msg(LOG_ERROR, "serve: %s", err);
        return 1;
    }
    return 0;
}
