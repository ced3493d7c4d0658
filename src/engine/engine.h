/* engine.h — computes every planned report from one scan of the snapshot.
 * It is the reader's consumer: each batch of an extract feeds every input
 * of every report that reads it (and every join that looks into it), so
 * adding a report adds no scan. Additive measures are accumulated on the
 * spot; rows that need their key's other rows (distinct counts, joins,
 * households, schools) are kept as facts and moved to the rank owning the
 * key once all extracts are read. Cubes are then summed over ranks into
 * rank 0 — integers only, so the result does not depend on the rank count.
 * What several reports compute alike is computed once (share.h): an
 * expression over a batch, the facts of one extract by one key, the tally
 * of forms that differ only in their levels. Owns the plan, the territory,
 * the cubes and the batch memo. */
#ifndef ESEP_ENGINE_H
#define ESEP_ENGINE_H

#include <mpi.h>

#include "../ingest/batch.h"
#include "../ingest/snapshot.h"
#include "../spec/job.h"
#include "../spec/schema.h"
#include "memo.h"
#include "plan.h"
#include "territory.h"

typedef struct {
    MPI_Comm comm;
    int rank, nranks;
    const schema_set *schemas;
    run_plan plan;
    territory terr;
    int territory_built;
    int classifier_fixed;     /* restated: terr came from engine_use_classifier */
    int32_t territory_day;    /* the day terr is built for: E, or the restated T */
    int failed;               /* out of memory while consuming */
    double consume_seconds;   /* time in the row stage (inside the scan) */
    memo memo;                /* the current batch's shared vectors */
} engine;

/* A row a report could not use, with the reason. */
typedef enum { REPORT_REJECT_KATO, REPORT_REJECT_NO_MATCH, REPORT_REJECT_DIMENSION } report_reject_reason;

/* Plans the reports (see plan_build). 0, or -1 with a message. */
int engine_init(engine *e, MPI_Comm comm, const schema_set *schemas, const job_set *jobs, const period *per,
                char *const *ids, size_t nids, char *err, size_t errlen);

/* Before the scan: lays every report out on a copy of classifier's rows
 * as of day T instead of the snapshot's own kato as of E (restated
 * boundaries, reports.md "Reprocessing history"); the snapshot's kato rows
 * are then validated by the reader but not used. Every other date of the
 * methodology stays E. The caller keeps classifier. 0, or -1 out of
 * memory. */
int engine_use_classifier(engine *e, const territory *classifier, int32_t day);

/* Adds (sign +1) or withdraws (-1) the rows of a batch of the kato
 * extract to terr. 0, or -1 out of memory or when the batch lacks a kato
 * column. */
int engine_territory_rows(territory *terr, const row_batch *b, int sign);

/* Reader consumers (batch_consumer): rows accepted, and rows withdrawn
 * afterwards by ingest. Return 0, or -1 out of memory. */
int engine_consume(void *engine_ptr, const row_batch *batch);
int engine_consume_withdrawn(void *engine_ptr, const row_batch *batch);

/* Collective, after the snapshot was read: marks reports whose extracts
 * failed, runs the keyed stages, and sums every cube into rank 0. 0, or -1
 * with a message (all ranks agree). */
int engine_finish(engine *e, const snapshot_result *snap, char *err, size_t errlen);

/* Rank 0: the table of planned report r with its addressee, deadline and
 * the names of its territory objects (the other metadata is left to the
 * caller). 0, or -1 with a message. */
int engine_table(engine *e, size_t r, report_table *t, char *err, size_t errlen);

/* Rank 0 after engine_finish: the rows report r rejected, sorted by
 * extract then line, as facts (key = extract index, col[0] = reason). */
const fact_table *engine_report_rejects(const engine *e, size_t r);

const char *engine_reject_reason_name(int reason);

void engine_free(engine *e);

#endif
