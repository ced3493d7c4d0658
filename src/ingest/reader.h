/* reader.h — reads one extract of a snapshot on every rank at once: each
 * rank scans its own share of the file (byte ranges of a plain `.csv`,
 * frames of a `.csv.zst`), converts rows into columnar batches for a
 * consumer, writes its rejected rows, and the ranks then settle keys and
 * references together. Owns the whole life of an extract read: planning
 * the shares, the quote-parity pre-pass that lets a rank find its first
 * record, error agreement between ranks, and the summary counts, for which
 * read = accepted + rejected always holds. */
#ifndef ESEP_READER_H
#define ESEP_READER_H

#include <mpi.h>
#include <stdint.h>

#include "../base/keyset.h"
#include "batch.h"
#include "keycheck.h"
#include "reasons.h"

#define READER_BATCH_ROWS 8192

typedef struct {
    int failed;               /* the extract failed whole */
    char error[512];
    int64_t read, accepted, rejected;
    int64_t reasons[REJ_COUNT];
    char ignored_columns[256]; /* header columns the schema does not know,
                                 ", "-separated (empty: none); ignored */
    uint64_t bytes;           /* this rank: decompressed bytes scanned */
    double seconds;           /* this rank: time of its scan */
    double cpu_seconds;       /* this rank: CPU time of its scan (its
                                 thread's clock: what the scan costs,
                                 whatever else shares the cores) */
} extract_summary;

/* Receives each batch of provisionally accepted rows (in line order within
 * the rank). Returns 0, or -1 to abort the read. */
typedef int (*batch_consumer)(void *data, const row_batch *batch);


typedef struct {
    MPI_Comm comm;
    int rank, nranks;
    const schema_set *schemas;
    int extract;                  /* index into schemas */
    const char *path;             /* the file to read */
    int compressed;
    const char *rejects_dir;      /* exists already */
    keyset *keysets;              /* one per extract: keys of accepted rows
                                     (split extracts: the part this rank
                                     owns); this extract's is filled here */
    batch_consumer consume;       /* may be NULL */
    batch_consumer consume_withdrawn; /* after all batches: rows of this
                                     rank that keys or references rejected
                                     afterwards, exactly as they were
                                     delivered; the consumer undoes them */
    void *consumer_data;
    int show_progress;
} extract_read_args;

/* Collective over a->comm. Returns 0 when the extract was read (rows
 * accepted or rejected, *sum filled identically on every rank), 1 when it
 * failed whole (sum->failed, one clear sum->error, no rejects file left),
 * or -1 when esep itself failed (rejects not writable, out of memory), with
 * sum->error. Every rank returns the same value. */
int extract_read(const extract_read_args *a, extract_summary *sum);

#endif
