/* pipeline.h — snapshot → engine → archive → publication as one library
 * call that `esep run`, `esep nightly` and `esep backfill` share. One call
 * reads ONE snapshot once, on every rank, and computes from that single
 * scan every (report, period) item given — several periods at once, each
 * with its own engine (its own territory at E) fed by the same batches —
 * then, on rank 0, archives each table (archive/store.h: a differing
 * earlier table is kept), writes the rows each report could not use,
 * publishes every touched period from the archive (publisher.h), and
 * records each item in the ledger when one is given. Items are refused
 * before the scan when the snapshot cannot describe their period
 * (calendar_refusal). Owns nothing after it returns but the results. */
#ifndef ESEP_PIPELINE_H
#define ESEP_PIPELINE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/period.h"
#include "../engine/territory.h"
#include "../ingest/snapshot.h"
#include "../publish/catalog.h"
#include "../publish/publisher.h"
#include "../spec/job.h"
#include "../spec/schema.h"

typedef enum { PIPE_PENDING, PIPE_DONE, PIPE_FAILED, PIPE_REFUSED } pipe_status;

typedef struct {
    char report[16];
    period per;
    /* out */
    pipe_status status;
    char error[512];
    int methodology_version;
    size_t rows, rejected;
    int table_changed;          /* the archived table differs from before */
    char table_sha256[65];
    int revision;               /* the republic bundle's revision after it */
} pipeline_item;

typedef struct {
    MPI_Comm comm;
    int rank, nranks;
    const schema_set *schemas;
    const job_set *jobs;
    const char *snapshot_dir;
    const char *out_dir;
    int publish;                /* publish the touched periods */
    publish_args pub;
    int show_progress;
    catalog *ledger;            /* rank 0: record items (NULL: no ledger) */
    int64_t command_id;
    const char *owner;
    const char *tool_version;
    /* Restated boundaries (reports.md "Reprocessing history"): when
     * classifier is set, every table is laid out on its codes valid at
     * restate_day, archived apart with restate_text (YYYY-MM-DD) and
     * classifier_snapshot (YYYYMMDD) in its attributes, and never
     * published; NULL: boundaries as of each period's E. */
    const territory *classifier;
    int32_t restate_day;
    const char *restate_text;
    const char *classifier_snapshot;
} pipeline_args;

typedef struct {
    snapshot_result snap;       /* read/accepted/rejected per extract */
    int snap_ok;                /* snap holds a summary to print */
    double seconds_scan, seconds_keyed, seconds_digests, seconds_archive, seconds_publish;
    double consume_seconds;     /* row stage, summed over engines */
    double seconds_ledger;      /* rank 0: recording the items in the ledger */
    int published, unchanged;   /* bundles over all periods */
} pipeline_result;

/* Collective. Computes items[0..n) from one scan of a->snapshot_dir and
 * sets each item's status (same on every rank). Returns 0 when the call
 * ran (items may still have failed: see their status), or -1 with a
 * message when nothing could be done (unreadable schemas or snapshot
 * directory, out of memory); then every pending item is failed with that
 * message. Free res with pipeline_result_free. */
int pipeline_run(const pipeline_args *a, pipeline_item *items, size_t n, pipeline_result *res, char *err,
                 size_t errlen);

void pipeline_result_free(pipeline_result *res, const schema_set *schemas);

/* The ids of the reports in force for period p (periodicity and validity
 * at E), into ids (max entries). Returns the count. Cannot fail. */
size_t pipeline_reports_in_force(const job_set *jobs, const period *p, const char **ids, size_t max);

#endif
