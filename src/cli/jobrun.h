/* jobrun.h — what `esep run`, `esep nightly` and `esep backfill` share
 * between their arguments and the pipeline: loading the declarative files,
 * taking OUT's work lock on rank 0 with every rank told the outcome, one
 * pipeline call with its summary printed (rows per extract, a line per
 * item, time per phase and peak memory per rank), and the metrics file. */
#ifndef ESEP_JOBRUN_H
#define ESEP_JOBRUN_H

#include <getopt.h>

#include "../pipeline/pipeline.h"
#include "../pipeline/session.h"
#include "../schedule/metrics.h"
#include "cli.h"

/* The options run, nightly (and backfill) share: where the declarative
 * files are, the key, the catalog, how long to wait for OUT's lock. */
typedef struct {
    const char *key, *catalog;
    int create_key, wait;
    char jobs[4096], schemas[4096];
} jobrun_common;

#define JOBRUN_COMMON_OPTIONS                                                                     \
    {"jobs", required_argument, 0, 'J'}, {"schemas", required_argument, 0, 'S'},                  \
        {"key", required_argument, 0, 'k'}, {"create-key", no_argument, 0, 'K'},                  \
        {"catalog", required_argument, 0, 'c'}, {"wait", required_argument, 0, 'w'}

/* Empties c and sets the default jobs/ and schemas/ directories. Cannot
 * fail. */
void jobrun_common_init(jobrun_common *c);

/* Takes getopt's option opt (with arg) when it is one of
 * JOBRUN_COMMON_OPTIONS. Returns 1 when taken, 0 otherwise. Cannot fail. */
int jobrun_common_option(jobrun_common *c, int opt, const char *arg);

/* Loads schemas and jobs (every rank). 0, or 1 with the error printed on
 * rank 0 (the caller exits 1). */
int jobrun_load_specs(const cli_context *ctx, const char *schemas_dir, const char *jobs_dir, schema_set **set,
                      job_set **jobs);

/* Collective: rank 0 opens the session (session.h); every rank gets its
 * result. Returns 0; 1 when the lock is held; -1 on an error (printed). */
int jobrun_open_session(const cli_context *ctx, out_session *s, const char *out, const char *catalog_spec,
                        int wait_seconds);

/* Collective: runs the pipeline for items on one snapshot and prints the
 * summary on rank 0. When m is not NULL, adds the phase times to it and
 * sets m->rejected (m->schemas) to this snapshot's rejected rows per
 * extract (into rejected[], one per schema extract, at most 64). Returns
 * the number of items not done (0 = all done). */
int jobrun_snapshot(const cli_context *ctx, const pipeline_args *a, pipeline_item *items, size_t n, metrics_run *m,
                    long long *rejected);

/* The night: the day --on names (YYYY-MM-DD), or today (UTC) when on is
 * NULL. Returns 0, or -1 when on is not a date. */
int jobrun_night(const char *on, int32_t *night);

/* Rank 0: one line per item: id, period, rows, rejected, or why not. */
void jobrun_print_items(const pipeline_item *items, size_t n);

#endif
