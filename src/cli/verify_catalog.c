/* verify_catalog.c — `esep verify-catalog --out OUT [--catalog SPEC]`:
 * checks the hash chain of the publication catalog (catalog.h), by default
 * the SQLite file OUT/catalog.sqlite, else SPEC (a file path or a
 * postgresql:// URI). Prints "catalog chain intact: N publications" and the
 * head of the chain (worth keeping elsewhere: it is what shows a later
 * removal of the last records), exit 0; or "catalog chain broken: record
 * N: …", exit 1; a catalog that cannot be read is an error, exit 1. Only
 * rank 0 touches the catalog; the other ranks get its exit status. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"
#include "../publish/catalog.h"
#include "cli.h"

static const char *const usage = "esep verify-catalog --out OUT [--catalog SPEC]";

static int is_uri(const char *spec) {
    return !strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11);
}

/* Rank 0's work: 0 intact, 1 broken or unreadable. */
static int verify(const char *spec) {
    char msg[2048];
    if (!is_uri(spec) && access(spec, F_OK)) {
        log_msg(LOG_ERROR, "no catalog at %s", spec);
        return 1;
    }
    catalog *c = catalog_open(spec, msg, sizeof msg);
    if (!c) {
        log_msg(LOG_ERROR, "%s", msg);
        return 1;
    }
    int rc = catalog_verify_chain(c, msg, sizeof msg);
    int64_t head_id = 0;
    char head[65];
    char herr[1024];
    if (rc == 0 && catalog_chain_head(c, &head_id, head, herr, sizeof herr)) {
        snprintf(msg, sizeof msg, "%s", herr);
        rc = -1;
    }
    if (rc == 0) {
        printf("catalog chain intact: %s\n", msg);
        if (head_id) printf("head: record %" PRId64 ", record_hash %s\n", head_id, head);
    } else if (rc == 1) {
        printf("catalog chain broken: %s\n", msg);
    } else {
        log_msg(LOG_ERROR, "%s", msg);
    }
    catalog_close(c);
    return (fflush(stdout) || rc) ? 1 : 0;
}

int cmd_verify_catalog(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {
        {"out", required_argument, 0, 'o'}, {"catalog", required_argument, 0, 'c'}, {0, 0, 0, 0}};
    const char *out = NULL, *spec = NULL;
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'o') out = optarg;
        else if (c == 'c') spec = optarg;
        else return cli_usage_error(ctx, usage, "unknown option");
    }
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_usage_error(ctx, usage, "--out is required");
    char path[4200];
    if (!spec) {
        snprintf(path, sizeof path, "%s/catalog.sqlite", out);
        spec = path;
    }
    int status = ctx->rank == 0 ? verify(spec) : 0;
    MPI_Bcast(&status, 1, MPI_INT, 0, ctx->comm);
    return status;
}
