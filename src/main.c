/* main.c — `esep <command> …`: starts MPI, sets up logging, dispatches to
 * one command of src/cli/, and finishes MPI. Nothing else lives here. The
 * same binary runs as one rank (plain `bin/esep …`) or many
 * (`mpirun -np N bin/esep …`); results never depend on N.
 *
 * MPI errors: esep does not check the return codes of MPI calls. It relies
 * on MPI_ERRORS_ARE_FATAL, the standard's default handler on
 * MPI_COMM_WORLD, which main sets explicitly so that no library or
 * environment can change it: an MPI failure (a lost rank, a broken
 * network) aborts every rank with a message instead of returning an error
 * some ranks would see and others not. What esep does check is its own
 * failures around collectives (out of memory, bad input): every rank learns
 * them through an agreed reduction before the next collective, so that all
 * ranks fail together and none waits for ever (src/dist/agree.h, used by
 * the reader, the shuffle, the engine and the pipeline). */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"

#ifndef ESEP_VERSION
#define ESEP_VERSION "0.1.0"
#endif

static const char *const usage_text =
    "usage: esep <command> [options]\n"
    "commands:\n"
    "  check    --snapshot DIR --out OUT [--json]   validate a registry snapshot\n"
    "  run      --snapshot DIR --period P --out OUT [--reports ID,…]\n"
    "                                               compute reports into the archive\n"
    "  nightly  --snapshots ROOT --out OUT [--on YYYY-MM-DD] [--key FILE | --create-key]\n"
    "                                               compute and publish everything due tonight\n"
    "  backfill --snapshots ROOT --out OUT --from P1 --to P2 [--reports ID,…]\n"
    "           [--reprocess missing|failed|all] [--boundaries as-of|current|YYYY-MM-DD]\n"
    "                                               reprocess past periods, one scan per snapshot\n"
    "  plan     --snapshots ROOT --out OUT [--on YYYY-MM-DD]\n"
    "                                               what is due, running, done, failed, late\n"
    "  status   --out OUT [--on YYYY-MM-DD]         last nights' runs, failed and late items\n"
    "  export   --out OUT --report ID --period P    print a report's CSV form\n"
    "  series   --out OUT --report ID --from P1 --to P2 [--kato CODE] [--boundaries B] [--format csv|json]\n"
    "                                               one long table over the archived periods\n"
    "  verify-catalog --out OUT [--catalog SPEC]    check the publication catalog's hash chain\n"
    "  verify   BUNDLE --pubkey FILE                check a bundle's signatures and files\n"
    "  keygen   --key FILE                          make an Ed25519 signing key pair\n"
    "  serve    --out OUT --access FILE [--listen HOST:PORT] [--audit FILE] [--allow-remote]\n"
    "                                               bundle download service (rank 0)\n"
    "  access   add NAME REGIONS --access FILE      add an akimat, print its token once\n"
    "  version                                      print the version (also --version)\n"
    "`esep <command> --help` prints the command's usage. Exit status: 0 done,\n"
    "1 the work could not be completed (the message says why), 2 usage error.\n";

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL); /* see the top of the file */
    cli_context ctx = {MPI_COMM_WORLD, 0, 1};
    MPI_Comm_rank(ctx.comm, &ctx.rank);
    MPI_Comm_size(ctx.comm, &ctx.nranks);
    log_setup(ctx.rank, !isatty(STDERR_FILENO));
    int status;
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
        if (ctx.rank == 0) fputs(usage_text, argc < 2 ? stderr : stdout);
        status = argc < 2 ? EXIT_USAGE : 0;
    } else if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        if (ctx.rank == 0) printf("esep %s\n", ESEP_VERSION);
        status = 0;
    } else if (!strcmp(argv[1], "check")) {
        status = cmd_check(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "run")) {
        status = cmd_run(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "export")) {
        status = cmd_export(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "series")) {
        status = cmd_series(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "serve")) {
        status = cmd_serve(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "access")) {
        status = cmd_access(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "verify-catalog")) {
        status = cmd_verify_catalog(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "verify")) {
        status = cmd_verify(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "backfill")) {
        status = cmd_backfill(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "nightly")) {
        status = cmd_nightly(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "plan")) {
        status = cmd_plan(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "status")) {
        status = cmd_status(&ctx, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "keygen")) {
        status = cmd_keygen(&ctx, argc - 1, argv + 1);
    } else {
        if (ctx.rank == 0) fprintf(stderr, "esep: unknown command '%s'\n%s", argv[1], usage_text);
        status = EXIT_USAGE;
    }
    MPI_Finalize();
    return status;
}
