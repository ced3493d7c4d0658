/* cli.h — what every `esep <command>` shares: the rank context handed from
 * main, option helpers, and where the declarative files live. Each command
 * is one file in src/cli/ with one entry point below. Exit statuses:
 * 0 success, 1 the work could not be completed (message says why),
 * 2 usage error (unknown option, missing or malformed argument, unknown
 * report id, bad period). Every command answers `--help` with its usage
 * on stdout and exit 0. */
#ifndef ESEP_CLI_H
#define ESEP_CLI_H

#include <mpi.h>
#include <stddef.h>

#include "../ingest/snapshot.h"
#include "../spec/job.h"

typedef struct {
    MPI_Comm comm;
    int rank, nranks;
} cli_context;

#define EXIT_USAGE 2

/* The directory `name` (schemas, jobs) beside the installed binary:
 * $ESEP_<NAME> when set, else <dir of bin/esep>/../<name>. Cannot fail
 * (falls back to ./<name>). */
void cli_default_dir(const char *name, char *out, size_t outlen);

/* True when the arguments after the command name ask for help: `--help`
 * or `-h` before any `--`. Cannot fail. */
int cli_wants_help(int argc, char **argv);

/* Prints "usage: <usage>" on stdout (rank 0). Returns 0, the exit status
 * of `esep <command> --help`. */
int cli_help(const cli_context *ctx, const char *usage);

/* Prints a usage error on rank 0. Returns EXIT_USAGE. */
int cli_usage_error(const cli_context *ctx, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when s may become a path component under OUT/archive (a report
 * id, a period, a restated day): 1 to 15 characters, each A-Z, 0-9 or
 * '-', so nothing like `..`, `/` or a hidden name. Cannot fail. */
int cli_safe_component(const char *s);

/* How a period of kind k is written, for messages: "monthly, YYYY-MM",
 * "quarterly, YYYY-Qn", "yearly, YYYY" (static text). Cannot fail. */
const char *cli_period_form(period_kind k);

/* Rows read / accepted / rejected per extract, header columns the schema
 * does not know (ignored), rejected counts per reason, failures with their
 * message, and where the rejects are (stdout; rank 0).
 * Cannot fail. */
void cli_print_extracts(const schema_set *set, const snapshot_result *res);

int cmd_check(const cli_context *ctx, int argc, char **argv);
int cmd_run(const cli_context *ctx, int argc, char **argv);
int cmd_export(const cli_context *ctx, int argc, char **argv);
int cmd_series(const cli_context *ctx, int argc, char **argv);
int cmd_serve(const cli_context *ctx, int argc, char **argv);
int cmd_access(const cli_context *ctx, int argc, char **argv);
int cmd_verify_catalog(const cli_context *ctx, int argc, char **argv);
int cmd_verify(const cli_context *ctx, int argc, char **argv);
int cmd_keygen(const cli_context *ctx, int argc, char **argv);
int cmd_nightly(const cli_context *ctx, int argc, char **argv);
/* backfill.c: past periods for statisticians (reports.md "Reprocessing history"). */
int cmd_backfill(const cli_context *ctx, int argc, char **argv);
int cmd_plan(const cli_context *ctx, int argc, char **argv);
int cmd_status(const cli_context *ctx, int argc, char **argv);

#endif
