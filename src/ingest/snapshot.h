/* snapshot.h — one night's snapshot: a directory named YYYYMMDD holding one
 * file per extract (extracts.md). Reads every extract in dependency order
 * (the kato table first, then what references point at), so that each
 * extract is validated against the ones it needs; an extract that fails
 * whole does not stop the others, except those that need it. Owns the
 * per-extract summaries and key sets that later stages (the engine) use. */
#ifndef ESEP_SNAPSHOT_H
#define ESEP_SNAPSHOT_H

#include <mpi.h>

#include "../base/keyset.h"
#include "../spec/schema.h"
#include "reader.h"

typedef struct {
    MPI_Comm comm;
    int rank, nranks;
    const schema_set *schemas;
    const char *snapshot_dir;
    const char *out_dir;
    int show_progress;
    batch_consumer consume;         /* may be NULL */
    batch_consumer consume_withdrawn;
    void *consumer_data;
} snapshot_args;

typedef struct {
    int32_t date;                   /* day number of the snapshot */
    char date_text[9];              /* YYYYMMDD */
    char rejects_dir[4096];
    extract_summary *extracts;      /* indexed like schemas->extracts */
    keyset *keysets;                /* indexed like schemas->extracts */
    int failed_extracts;
} snapshot_result;

/* Checks that dir is a directory named by a real date. Returns 0 and sets
 * *date and text (9 bytes), or -1 with a message. Cannot fail otherwise. */
int snapshot_parse_dir(const char *dir, int32_t *date, char text[9], char *err, size_t errlen);

/* Finds <name>.csv.zst or <name>.csv in dir; exactly one must exist.
 * Returns 0 with the path and *compressed, or -1 with a message. */
int snapshot_locate_file(const char *dir, const char *name, char *path, size_t n, int *compressed,
                         char *err, size_t errlen);

/* Collective. Reads every extract. Returns 0 (individual extracts may have
 * failed whole: see res->extracts[i].failed), or -1 when the run cannot go
 * on (bad snapshot directory, OUT not writable, out of memory) with err.
 * res is filled in both cases; free with snapshot_result_free. */
int snapshot_read(const snapshot_args *a, snapshot_result *res, char *err, size_t errlen);

void snapshot_result_free(snapshot_result *res, size_t nextracts);

#endif
