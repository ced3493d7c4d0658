/* cli.c — see cli.h. */
#include "cli.h"

#include "../ingest/rejects.h"

#include <ctype.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_default_dir(const char *name, char *out, size_t outlen) {
    char env[64], exe[4096];
    size_t i = 0;
    i += (size_t)snprintf(env, sizeof env, "ESEP_");
    for (const char *p = name; *p && i + 1 < sizeof env; p++) env[i++] = (char)toupper((unsigned char)*p);
    env[i] = '\0';
    const char *from_env = getenv(env);
    if (from_env && *from_env) {
        snprintf(out, outlen, "%s", from_env);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, outlen, "%s", name);
        return;
    }
    exe[n] = '\0';
    snprintf(out, outlen, "%s/../%s", dirname(exe), name);
}

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) return 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    }
    return 0;
}

int cli_help(const cli_context *ctx, const char *usage) {
    if (ctx->rank == 0) printf("usage: %s\n", usage), fflush(stdout);
    return 0;
}

int cli_usage_error(const cli_context *ctx, const char *usage, const char *fmt, ...) {
    if (ctx->rank != 0) return EXIT_USAGE;
    va_list ap;
    va_start(ap, fmt);
    fputs("esep: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", usage);
    return EXIT_USAGE;
}

int cli_safe_component(const char *s) {
    if (!*s || strlen(s) > 15) return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
    return 1;
}

const char *cli_period_form(period_kind k) {
    return k == PERIOD_MONTH ? "monthly, YYYY-MM" : k == PERIOD_QUARTER ? "quarterly, YYYY-Qn" : "yearly, YYYY";
}

void cli_print_extracts(const schema_set *set, const snapshot_result *res) {
    printf("%-18s %14s %14s %12s\n", "extract", "read", "accepted", "rejected");
    for (size_t i = 0; i < set->count; i++) {
        const extract_summary *s = &res->extracts[i];
        if (s->failed) {
            printf("%-18s FAILED: %s\n", set->extracts[i].name, s->error);
            continue;
        }
        printf("%-18s %14lld %14lld %12lld\n", set->extracts[i].name, (long long)s->read,
               (long long)s->accepted, (long long)s->rejected);
        if (s->ignored_columns[0]) printf("    ignored extra columns: %s\n", s->ignored_columns);
        for (int r = 0; r < REJ_COUNT; r++)
            if (s->reasons[r])
                printf("    %-32s %12lld\n", reject_reason_name((reject_reason)r), (long long)s->reasons[r]);
        if (s->rejected > REJECTS_MAX_ROWS)
            printf("    (the rejects file lists the first %d rejected rows; %lld more are counted only)\n",
                   REJECTS_MAX_ROWS, (long long)(s->rejected - REJECTS_MAX_ROWS));
    }
    printf("rejected rows: %s/\n", res->rejects_dir);
}
