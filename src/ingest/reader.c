/* reader.c — see reader.h.
 *
 * How a rank finds its records. Shares are cut without looking at the data,
 * so a share usually begins inside a record. Each rank first counts, over
 * its share only, the quotes (mod 2) and newlines and notes its last byte;
 * an Allgather gives every rank the quote parity and line count at its
 * start. A share starts at a record boundary exactly when the byte before it
 * is a newline at even parity; otherwise the rank skips to the first such
 * newline. A rank reads every record that BEGINS in its share, reading past
 * the share's end to finish the last one. True line numbers follow from the
 * counts. With one rank none of this is needed and the pre-pass is skipped.
 *
 * A single-frame `.csv.zst` (what plain `zstd` writes) is cut by
 * decompressed bytes instead. Its frame can only be decompressed from the
 * start, so every rank decompresses the bytes before its share, counting
 * their quotes and newlines as they pass: the rank then knows its start
 * exactly and needs no pre-pass and no exchange. Ranks further into the
 * file decompress more, so the shares shrink towards the end
 * (split_frame_cut) to give every rank the same work. */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/progress.h"
#include "../dist/agree.h"
#include "convert.h"
#include "csv_scanner.h"
#include "rejects.h"
#include "source.h"

#define READER_BUFFER_BYTES (4u << 20)

enum { ST_OK = 0, ST_FAILED = 1, ST_FATAL = 2 };

/* Everything one extract read holds on this rank. */
typedef struct {
    const extract_read_args *a;
    const schema_extract *ext;
    extract_file file;
    row_converter conv;
    uint64_t share_begin, share_end;
    csv_start start;
    key_entries keys;
    key_entries *refs;            /* one per schema reference */
    verdict_list late;
    char ignored[256];            /* header columns no schema column binds */
    char msg[512];
} read_state;

/* All ranks learn the worst status and the message of the lowest rank
 * that has it (dist/agree.h), after waiting asleep for the slowest. */
static int agree(read_state *st, int status) {
    if (st->a->nranks > 1) dist_wait_all(st->a->comm);
    return dist_agree_status(st->a->comm, status, st->msg, (int)sizeof st->msg);
}

/* Reads the header (line 1) from the start of the file: every rank needs
 * it to bind columns, and reading it is cheap. */
static int read_header(read_state *st) {
    byte_source *src = byte_source_open(&st->file, 0, extract_file_units(&st->file));
    csv_start start = {1, 1, 0, 1};
    csv_scanner *sc = src ? csv_scanner_new(src, 0, start) : NULL;
    int status = ST_FATAL;
    csv_record rec;
    if (!sc) {
        snprintf(st->msg, sizeof st->msg, "out of memory");
    } else {
        int r = csv_scanner_next_record(sc, &rec);
        const keyset *kato = st->a->schemas->kato_extract >= 0
                                 ? &st->a->keysets[st->a->schemas->kato_extract] : NULL;
        char err[400];
        status = ST_FAILED;
        if (r < 0) snprintf(st->msg, sizeof st->msg, "%s", csv_scanner_error(sc));
        else if (r == 0) snprintf(st->msg, sizeof st->msg, "%s: empty file, no header line", st->file.path);
        else if (row_converter_init(&st->conv, st->ext, &rec, kato, err, sizeof err))
            snprintf(st->msg, sizeof st->msg, "%s: %s", st->file.path, err);
        else status = ST_OK, row_converter_unbound(&st->conv, &rec, st->ignored, sizeof st->ignored);
    }
    csv_scanner_free(sc);
    byte_source_free(src);
    return status;
}

/* Decompressing and counting a byte costs about this fraction of parsing
 * and validating it. Only the balance between ranks depends on it, never
 * a result. 0.2 was measured with `make bench` when parsing cost more;
 * after the block scan (2026-12-02, 2 M persons, -np 2) rank 1 spent 5–15 %
 * more scan CPU seconds than rank 0 on persons and social_payments, which
 * the cost model below fits with 0.35. With the ring decoder as well
 * (source.c) and that scan, the CPU seconds of both ranks (check --stats)
 * fit 0.45 (at 0.35 rank 1 spent ~8 % more, at 0.5 rank 0 ~5 % more):
 * decoding a byte costs 0.7–1.4 ns, parsing it 1.3–2.5 ns. */
#define SPLIT_SKIP_COST 0.45

/* What the consumer of the batches (the report engine's row stage) adds
 * to the cost of each byte a rank parses, as a fraction of parsing it:
 * the regulated reports' row stage took 0.50 s against a 0.92 s scan
 * (2 M persons, -np 1, 2026-12-02). A rank that skips bytes hands the
 * engine no rows for them, so with a consumer the skip weighs less; cut
 * for the scan alone, rank 0 ended an `esep run` at 20 M persons with 59 %
 * of persons, the longer row stage and 190 MB more memory than rank 1. */
#define SPLIT_CONSUMER_COST 0.5

/* Where share k of n begins in a split frame of size bytes. Rank r costs
 * skip·c[r] + (1 + skip)·(c[r+1] − c[r]) (it decompresses everything up
 * to its share's end and parses its share); making every rank cost the
 * same gives c[r+1] = a·c[r] + (1 − a)·T with a = 1/(1 + skip) and the
 * total T fixed by c[n] = size: c[k] = size·(1 − a^k)/(1 − a^n). */
static uint64_t split_frame_cut(uint64_t size, uint64_t k, uint64_t n, double skip) {
    if (k >= n) return size;
    double a = 1.0 / (1.0 + skip), ak = 1.0, an = 1.0;
    for (uint64_t i = 0; i < n; i++) an *= a, ak *= i < k ? a : 1.0;
    return (uint64_t)((double)size * (1.0 - ak) / (1.0 - an));
}

/* Cuts the file into nranks shares of about equal work. */
static void plan_share(read_state *st) {
    const extract_file *f = &st->file;
    uint64_t units = extract_file_units(f), r = (uint64_t)st->a->rank, n = (uint64_t)st->a->nranks;
    if (st->ext->replicated) { /* every rank reads all of a small table */
        st->share_begin = 0;
        st->share_end = units;
        return;
    }
    if (f->split_frame) {
        double skip = SPLIT_SKIP_COST / (st->a->consume ? 1.0 + SPLIT_CONSUMER_COST : 1.0);
        st->share_begin = split_frame_cut(units, r, n, skip);
        st->share_end = split_frame_cut(units, r + 1, n, skip);
        return;
    }
    if (!f->compressed) {
        st->share_begin = units * r / n;
        st->share_end = units * (r + 1) / n;
        return;
    }
    uint64_t *cut[2] = {&st->share_begin, &st->share_end};
    for (int k = 0; k < 2; k++) {
        uint64_t target = f->file_size * (r + (uint64_t)k) / n, u = 0;
        while (u < units && extract_file_unit_offset(f, u) < target) u++;
        *cut[k] = u;
    }
}

/* Counts quotes/newlines of this rank's share and derives its start. */
static int plan_start(read_state *st) {
    const extract_read_args *a = st->a;
    st->start = (csv_start){1, 1, 0, st->share_begin == 0};
    if (a->nranks == 1 || st->ext->replicated || st->file.split_frame) return ST_OK;
    csv_block_stats stats = {0, 0, 0, -1};
    int status = ST_OK;
    byte_source *src = byte_source_open(&st->file, st->share_begin, st->share_end);
    uint8_t *buf = malloc(READER_BUFFER_BYTES);
    uint64_t end_offset;
    if (!src || !buf) status = ST_FATAL, snprintf(st->msg, sizeof st->msg, "out of memory");
    while (status == ST_OK && !byte_source_chunk_end(src, &end_offset)) {
        ssize_t n = byte_source_read(src, buf, READER_BUFFER_BYTES);
        if (n < 0) status = ST_FAILED, snprintf(st->msg, sizeof st->msg, "%s", byte_source_error(src));
        else if (n == 0) break;
        else csv_block_stats_add(&stats, buf, (size_t)n);
    }
    free(buf);
    byte_source_free(src);
    uint64_t *all = status == ST_OK ? malloc(3 * sizeof *all * (size_t)a->nranks) : NULL;
    if (status == ST_OK && !all) status = ST_FATAL, snprintf(st->msg, sizeof st->msg, "out of memory");
    if ((status = agree(st, status)) != ST_OK) return free(all), status;
    uint64_t mine[3] = {stats.quotes, stats.newlines, stats.bytes ? (uint64_t)stats.last_byte : 256};
    MPI_Allgather(mine, 3, MPI_UINT64_T, all, 3, MPI_UINT64_T, a->comm);
    uint64_t quotes = 0, lines = 0, last = 256;
    for (int r = 0; r < a->rank; r++) {
        quotes += all[3 * r];
        lines += all[3 * r + 1];
        if (all[3 * r + 2] != 256) last = all[3 * r + 2];
    }
    free(all);
    st->start.first_line = 1 + (int64_t)lines;
    st->start.quote_parity = (int)(quotes & 1);
    st->start.at_record_start = st->start.file_start || (last == '\n' && !(quotes & 1));
    return ST_OK;
}

/* Remembers the key and reference values of an accepted row. */
static int collect_keys(read_state *st, const row_batch *b, size_t row) {
    const schema_extract *ext = st->ext;
    if (ext->key_column >= 0 && key_entries_push(&st->keys, b->cols[ext->key_column].i64[row], b->line[row]))
        return -1;
    for (size_t r = 0; r < ext->nrefs; r++) {
        int64_t v = b->cols[ext->refs[r].column].i64[row];
        if (v != BATCH_NULL_I64 && key_entries_push(&st->refs[r], v, b->line[row])) return -1;
    }
    return 0;
}

static int write_reject(reject_writer *w, const read_state *st, const csv_record *rec,
                        const row_verdict *v) {
    const char *column = v->column >= 0 ? st->ext->columns[v->column].name : "";
    return reject_writer_add(w, rec->line, column, v->reason, v->detail, rec->raw, rec->raw_len);
}

/* Turns a late verdict into the explanation written for its row. */
static void explain_late(const read_state *st, const late_verdict *lv, row_verdict *v) {
    const schema_extract *ext = st->ext;
    v->reason = (reject_reason)lv->reason;
    v->column = lv->column;
    if (lv->reason == REJ_DUPLICATE_KEY)
        snprintf(v->detail, sizeof v->detail, "%s already on line %lld", ext->columns[lv->column].name,
                 (long long)lv->other_line);
    else
        for (size_t r = 0; r < ext->nrefs; r++)
            if (ext->refs[r].column == lv->column)
                snprintf(v->detail, sizeof v->detail, "%s not in %s", ext->columns[lv->column].name,
                         st->a->schemas->extracts[ext->refs[r].extract].name);
}

typedef struct {
    int64_t read, accepted;
    int64_t reasons[REJ_COUNT];
    uint64_t bytes;
} scan_counts;

/* A replicated extract is read whole by every rank: only rank 0 writes
 * its rejects and its counts are not summed over ranks. */
static int owns_rejects(const read_state *st) {
    return !st->ext->replicated || st->a->rank == 0;
}

static void count_skipped(void *ctx, const uint8_t *data, size_t len) {
    csv_block_stats_add(ctx, data, len);
}

/* A split-frame share that begins inside the file: decompresses the bytes
 * before it and derives where the share starts from their counts. */
static int skip_to_share(read_state *st, byte_source *src) {
    if (!st->file.split_frame || st->share_begin == 0 || st->share_begin >= st->share_end) {
        if (st->file.split_frame && st->share_begin >= st->share_end && st->share_begin > 0)
            st->start = (csv_start){1, 1, 0, 0}; /* empty: ends at once, reads nothing */
        return ST_OK;
    }
    csv_block_stats stats = {0, 0, 0, -1};
    if (byte_source_skip(src, count_skipped, &stats)) return ST_FAILED;
    st->start = (csv_start){1 + (int64_t)stats.newlines, stats.last_byte == '\n' && !(stats.quotes & 1),
                            (int)(stats.quotes & 1), 0};
    return ST_OK;
}

/* One scan of this rank's share. First pass (late == NULL): batches go to
 * the consumer and keys are collected. Second pass (only when late
 * verdicts exist here): re-derives every rejection in line order, adding
 * the late ones, so the part file is rewritten sorted; the rows that late
 * verdicts withdraw are handed back to the consumer. */
static int scan_share(read_state *st, const verdict_list *late, scan_counts *counts, progress *bar) {
    const extract_read_args *a = st->a;
    char err[512] = "out of memory";
    int writes_rejects = owns_rejects(st);
    batch_consumer deliver = late ? a->consume_withdrawn : a->consume;
    reject_writer *w = writes_rejects ? reject_writer_open(a->rejects_dir, st->ext->name, a->rank, err, sizeof err) : NULL;
    byte_source *src = byte_source_open(&st->file, st->share_begin, st->share_end);
    int skip = src ? skip_to_share(st, src) : ST_FATAL;
    csv_scanner *sc = skip == ST_OK ? csv_scanner_new(src, READER_BUFFER_BYTES, st->start) : NULL;
    row_batch *b = row_batch_new(st->ext, READER_BATCH_ROWS);
    if ((writes_rejects && !w) || !sc || !b) {
        if (skip == ST_FAILED) snprintf(err, sizeof err, "%s", byte_source_error(src));
        else skip = ST_FATAL;
        snprintf(st->msg, sizeof st->msg, "%s", err);
        if (w) reject_writer_close(w, err, sizeof err);
        csv_scanner_free(sc), byte_source_free(src), row_batch_free(b);
        return skip;
    }
    memset(counts, 0, sizeof *counts);
    size_t next_late = 0;
    int status = ST_OK, r;
    csv_record rec;
    while (status == ST_OK && (r = csv_scanner_next_record(sc, &rec)) == 1) {
        if (rec.line == 1) continue; /* the header */
        counts->read++;
        counts->bytes += rec.raw_len + 1;
        row_verdict v;
        size_t text_mark = b->text_used;
        int rejected = row_converter_apply(&st->conv, &rec, b, &v);
        while (late && next_late < late->n && late->v[next_late].line < rec.line) next_late++;
        if (!rejected && late && next_late < late->n && late->v[next_late].line == rec.line) {
            explain_late(st, &late->v[next_late], &v);
            rejected = 1; /* stays in b: handed back as withdrawn */
        } else if (!rejected && late) { /* accepted in both passes: not handed over again */
            b->nrows--;
            b->text_used = text_mark;
        }
        if (rejected) {
            counts->reasons[v.reason]++;
            if (w && write_reject(w, st, &rec, &v)) status = ST_FATAL;
        } else {
            counts->accepted++;
            if (!late && collect_keys(st, b, b->nrows - 1)) status = ST_FATAL;
        }
        if (b->nrows == b->capacity) {
            if (deliver && deliver(a->consumer_data, b)) status = ST_FATAL;
            row_batch_clear(b);
            if (bar) progress_update(bar, byte_source_progress(src), writes_rejects ? counts->read : 0);
        }
    }
    if (status == ST_OK && r < 0) status = ST_FAILED, snprintf(st->msg, sizeof st->msg, "%s", csv_scanner_error(sc));
    if (status == ST_OK && b->nrows && deliver && deliver(a->consumer_data, b)) status = ST_FATAL;
    if (status == ST_FATAL && !st->msg[0]) snprintf(st->msg, sizeof st->msg, "%s: cannot write rejects or out of memory", st->ext->name);
    if (w && reject_writer_close(w, err, sizeof err) && status == ST_OK)
        status = ST_FATAL, snprintf(st->msg, sizeof st->msg, "%s", err);
    csv_scanner_free(sc);
    byte_source_free(src);
    row_batch_free(b);
    return status;
}

/* Duplicate keys, then references, decided across ranks. */
static int settle_keys(read_state *st) {
    const extract_read_args *a = st->a;
    const schema_extract *ext = st->ext;
    int rc = 0;
    if (ext->key_column >= 0)
        rc = keycheck_duplicates(a->comm, ext->replicated, &st->keys, ext->key_column, &st->late,
                                 &a->keysets[a->extract]);
    for (size_t r = 0; rc == 0 && r < ext->nrefs; r++) {
        const schema_extract *target = &a->schemas->extracts[ext->refs[r].extract];
        rc = keycheck_references(a->comm, target->replicated, &st->refs[r], ext->refs[r].column,
                                 &a->keysets[ext->refs[r].extract], &st->late);
    }
    if (rc) {
        snprintf(st->msg, sizeof st->msg, "out of memory while checking keys");
        return ST_FATAL;
    }
    verdict_list_finish(&st->late);
    return ST_OK;
}

/* A replicated extract's key set must hold only rows finally accepted
 * (a kato row rejected for an unknown successor is not a valid code). */
static int rebuild_replicated_keys(read_state *st) {
    keyset *ks = &st->a->keysets[st->a->extract];
    if (!st->ext->replicated || st->ext->key_column < 0 || st->late.n == 0) return ST_OK;
    keyset_free(ks);
    size_t j = 0;
    for (size_t i = 0; i < st->keys.n; i++) {
        while (j < st->late.n && st->late.v[j].line < st->keys.v[i].line) j++;
        if (j < st->late.n && st->late.v[j].line == st->keys.v[i].line) continue;
        if (keyset_add(ks, st->keys.v[i].key)) return ST_FATAL;
    }
    keyset_seal(ks);
    return ST_OK;
}

static void summarize(read_state *st, const scan_counts *c, extract_summary *sum) {
    int64_t totals[2 + REJ_COUNT];
    totals[0] = c->read;
    totals[1] = c->accepted;
    memcpy(totals + 2, c->reasons, sizeof c->reasons);
    if (!st->ext->replicated)
        MPI_Allreduce(MPI_IN_PLACE, totals, 2 + REJ_COUNT, MPI_INT64_T, MPI_SUM, st->a->comm);
    sum->read = totals[0];
    sum->accepted = totals[1];
    sum->rejected = totals[0] - totals[1];
    memcpy(sum->reasons, totals + 2, sizeof sum->reasons);
}

/* The rows of this rank after the first scan, corrected by late verdicts. */
static int finish_rows(read_state *st, scan_counts *counts) {
    int status = ST_OK;
    if (st->late.n > 0) {
        scan_counts again;
        uint64_t bytes = counts->bytes;
        status = scan_share(st, &st->late, &again, NULL);
        *counts = again;
        counts->bytes = bytes;
    }
    if (status == ST_OK) status = rebuild_replicated_keys(st);
    if (status == ST_FATAL && !st->msg[0]) snprintf(st->msg, sizeof st->msg, "out of memory");
    return agree(st, status);
}

/* Rank 0 joins the rank parts into the final rejects file. */
static int publish_rejects(read_state *st) {
    char err[512];
    MPI_Barrier(st->a->comm); /* every part is closed */
    int status = ST_OK;
    int parts = st->ext->replicated ? 1 : st->a->nranks;
    if (st->a->rank == 0 && rejects_join_parts(st->a->rejects_dir, st->ext->name, parts, err, sizeof err))
        status = ST_FATAL, snprintf(st->msg, sizeof st->msg, "%s", err);
    return agree(st, status);
}

static void state_free(read_state *st) {
    row_converter_free(&st->conv);
    extract_file_close(&st->file);
    key_entries_free(&st->keys);
    for (size_t r = 0; st->refs && r < st->ext->nrefs; r++) key_entries_free(&st->refs[r]);
    free(st->refs);
    verdict_list_free(&st->late);
}

/* Opening, the header and the plan: the steps before any row is read. */
static int prepare(read_state *st) {
    char err[512];
    int status = ST_OK;
    if (!st->refs) status = ST_FATAL, snprintf(st->msg, sizeof st->msg, "out of memory");
    else if (extract_file_open(st->a->path, st->a->compressed, &st->file, err, sizeof err))
        status = ST_FAILED, snprintf(st->msg, sizeof st->msg, "%s", err);
    if ((status = agree(st, status)) != ST_OK) return status;
    if ((status = agree(st, read_header(st))) != ST_OK) return status;
    plan_share(st);
    return plan_start(st);
}

/* CPU seconds of the calling thread (0 when the clock is missing). */
static double thread_cpu_now(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int extract_read(const extract_read_args *a, extract_summary *sum) {
    read_state st;
    memset(&st, 0, sizeof st);
    memset(sum, 0, sizeof *sum);
    st.a = a;
    st.ext = &a->schemas->extracts[a->extract];
    st.refs = calloc(st.ext->nrefs + 1, sizeof *st.refs);
    st.file.fd = -1; /* nothing open yet: safe to close */
    scan_counts counts;
    memset(&counts, 0, sizeof counts);
    int status = prepare(&st);
    if (status == ST_OK) {
        double t0 = progress_now(), cpu0 = thread_cpu_now();
        progress bar; /* of every rank's share; the re-scan for late verdicts is not shown */
        progress_start(&bar, st.ext->name, a->show_progress, a->comm);
        int scanned = scan_share(&st, NULL, &counts, &bar);
        progress_finish(&bar, owns_rejects(&st) ? counts.read : 0); /* replicated: rank 0's rows only */
        status = agree(&st, scanned);
        sum->seconds = progress_now() - t0;
        sum->cpu_seconds = thread_cpu_now() - cpu0;
        sum->bytes = counts.bytes;
    }
    if (status == ST_OK) status = agree(&st, settle_keys(&st));
    if (status == ST_OK) status = finish_rows(&st, &counts);
    if (status == ST_OK) summarize(&st, &counts, sum);
    if (status == ST_OK) memcpy(sum->ignored_columns, st.ignored, sizeof st.ignored);
    if (status == ST_OK) status = publish_rejects(&st);
    if (status != ST_OK) {
        sum->failed = status == ST_FAILED;
        snprintf(sum->error, sizeof sum->error, "%s", st.msg);
        MPI_Barrier(a->comm);
        if (a->rank == 0) rejects_remove(a->rejects_dir, st.ext->name, a->nranks);
        keyset_free(&a->keysets[a->extract]);
    }
    state_free(&st);
    return status == ST_OK ? 0 : status == ST_FAILED ? 1 : -1;
}
