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
 * A single-frame `.csv.zst` (what plain `zstd` writes) is relayed instead
 * (relay.h): its frame can only be decoded from the start, so the last
 * rank decodes it and sends the other ranks segments that begin at record
 * boundaries with their line numbers; a rank's share is then several
 * segments, each scanned as a stream of its own, and the key checks learn
 * from the segment table which rank holds which line. */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/progress.h"
#include "../base/stoppoint.h"
#include "../dist/agree.h"
#include "convert.h"
#include "csv_scanner.h"
#include "rejects.h"
#include "relay.h"
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
    int relayed;                  /* a split frame read by several ranks */
    MPI_Comm relay_comm;          /* relayed: its messages, apart */
    size_t segment_bytes;         /* relayed: the same on every rank */
    relay_table owners;           /* relayed: every segment's rank */
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

/* Segments of about a megabyte: a few in flight per rank cost little
 * memory, and a message costs microseconds against the milliseconds of
 * parsing it. ESEP_RELAY_SEGMENT_BYTES overrides it (tests make segments
 * small so that shares interleave within a small file). */
#define RELAY_SEGMENT_DEFAULT (1u << 20)

/* Rank 0's segment size, so every rank cuts alike. */
static size_t relay_segment_bytes(MPI_Comm comm, int rank) {
    uint64_t bytes = RELAY_SEGMENT_DEFAULT;
    const char *env = getenv("ESEP_RELAY_SEGMENT_BYTES");
    if (rank == 0 && env && *env) bytes = strtoull(env, NULL, 10);
    MPI_Bcast(&bytes, 1, MPI_UINT64_T, 0, comm);
    return (size_t)bytes;
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
    if (f->split_frame) { /* one rank: all of it; several: relayed */
        st->share_begin = 0;
        st->share_end = units;
        st->relayed = n > 1;
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

/* Where one scan reads from: a byte range or frames of the file, or the
 * segments of a relayed frame. */
typedef struct {
    relay *relay;                 /* relayed only */
    byte_source *src;
    csv_scanner *sc;
} scan_input;

/* Opens the input of a scan; ready says the rest of the scan (its rejects
 * part, its batch) is set up. The first pass of a relayed frame is
 * collective (the last rank sends, the others receive) and agreed on
 * before any message, so no rank waits for one that cannot scan; the
 * re-scan for late verdicts rebuilds this rank's segments alone. ST_OK,
 * or ST_FATAL (out of memory, or not ready on some rank). */
static int open_scan_input(read_state *st, int rescan, int ready, scan_input *in) {
    const extract_read_args *a = st->a;
    memset(in, 0, sizeof *in);
    if (!ready && (!st->relayed || rescan)) return ST_FATAL;
    if (st->relayed) {
        relay_role role = rescan ? RELAY_LOCAL : a->rank == a->nranks - 1 ? RELAY_SEND : RELAY_RECEIVE;
        in->relay = relay_open(&st->file, st->relay_comm, a->rank, a->nranks, role, st->segment_bytes,
                               rescan ? &st->owners : NULL);
        in->src = in->relay ? byte_source_open_relay(in->relay) : NULL;
    } else {
        in->src = byte_source_open(&st->file, st->share_begin, st->share_end);
    }
    in->sc = in->src ? csv_scanner_new(in->src, READER_BUFFER_BYTES, st->start) : NULL;
    int ok = in->sc != NULL && ready;
    if (st->relayed && !rescan) ok = dist_agree(a->comm, ok);
    return ok ? ST_OK : ST_FATAL;
}

/* Moves to the input's next stream: 1 (the scanner restarted on the next
 * segment, or the first and only stream of an unrelayed share), 0 when
 * none is left, -1 with the relay's message in st->msg. */
static int next_stream(read_state *st, scan_input *in, int first) {
    if (!in->relay) return first;
    csv_start start;
    int got = relay_next_segment(in->relay, &start);
    if (got < 0) snprintf(st->msg, sizeof st->msg, "%s", relay_error(in->relay));
    if (got == 1) csv_scanner_restart(in->sc, start);
    return got;
}

/* Ends a scan's input. After a relay's first pass its segment table is
 * kept, for the key checks. */
static void close_scan_input(read_state *st, scan_input *in, int rescan) {
    csv_scanner_free(in->sc);
    byte_source_free(in->src);
    if (in->relay) {
        relay_table t;
        relay_take_table(in->relay, &t);
        if (rescan) relay_table_free(&t);
        else relay_table_free(&st->owners), st->owners = t;
        relay_free(in->relay);
    }
}

typedef struct {
    const verdict_list *late;     /* re-scan: the late verdicts */
    size_t next_late;
    reject_writer *w;
    row_batch *b;
    batch_consumer deliver;
    progress *bar;
} scan_pass;

/* Converts one record, rejects or accepts it, hands full batches on. */
static int scan_record(read_state *st, scan_pass *p, const csv_record *rec, scan_counts *counts,
                       const byte_source *src) {
    const verdict_list *late = p->late;
    row_batch *b = p->b;
    counts->read++;
    counts->bytes += rec->raw_len + 1;
    row_verdict v;
    size_t text_mark = b->text_used;
    int status = ST_OK, rejected = row_converter_apply(&st->conv, rec, b, &v);
    while (late && p->next_late < late->n && late->v[p->next_late].line < rec->line) p->next_late++;
    if (!rejected && late && p->next_late < late->n && late->v[p->next_late].line == rec->line) {
        explain_late(st, &late->v[p->next_late], &v);
        rejected = 1; /* stays in b: handed back as withdrawn */
    } else if (!rejected && late) { /* accepted in both passes: not handed over again */
        b->nrows--;
        b->text_used = text_mark;
    }
    if (rejected) {
        counts->reasons[v.reason]++;
        if (p->w && write_reject(p->w, st, rec, &v)) status = ST_FATAL;
    } else {
        counts->accepted++;
        if (!late && collect_keys(st, b, b->nrows - 1)) status = ST_FATAL;
    }
    if (b->nrows == b->capacity) {
        if (p->deliver && p->deliver(st->a->consumer_data, b)) status = ST_FATAL;
        row_batch_clear(b);
        if (p->bar) progress_update(p->bar, byte_source_progress(src), p->w ? counts->read : 0);
    }
    return status;
}

/* One scan of this rank's share. First pass (late == NULL): batches go to
 * the consumer and keys are collected. Second pass (only when late
 * verdicts exist here): re-derives every rejection in line order, adding
 * the late ones, so the part file is rewritten sorted; the rows that late
 * verdicts withdraw are handed back to the consumer. */
static int scan_share(read_state *st, const verdict_list *late, scan_counts *counts, progress *bar) {
    const extract_read_args *a = st->a;
    char err[512] = "out of memory";
    scan_pass p = {late, 0, NULL, NULL, late ? a->consume_withdrawn : a->consume, bar};
    if (owns_rejects(st)) p.w = reject_writer_open(a->rejects_dir, st->ext->name, a->rank, err, sizeof err);
    p.b = row_batch_new(st->ext, READER_BATCH_ROWS);
    scan_input in;
    int status = open_scan_input(st, late != NULL, (!owns_rejects(st) || p.w) && p.b, &in);
    if (status != ST_OK) {
        snprintf(st->msg, sizeof st->msg, "%s", err);
        if (p.w) reject_writer_close(p.w, err, sizeof err);
        close_scan_input(st, &in, late != NULL);
        row_batch_free(p.b);
        return ST_FATAL;
    }
    memset(counts, 0, sizeof *counts);
    csv_record rec;
    int r = 0, got;
    for (int first = 1; status == ST_OK && (got = next_stream(st, &in, first)) != 0; first = 0) {
        if (got < 0) {
            status = ST_FAILED;
            break;
        }
        while (status == ST_OK && (r = csv_scanner_next_record(in.sc, &rec)) == 1) {
            if (rec.line > KEY_LINE_MAX) { /* the key checks keep lines in 32 bits */
                status = ST_FAILED;
                snprintf(st->msg, sizeof st->msg, "%s: more than %llu lines, too many for one extract", st->file.path,
                         (unsigned long long)KEY_LINE_MAX);
            } else if (rec.line != 1) { /* line 1: the header */
                status = scan_record(st, &p, &rec, counts, in.src);
            }
        }
        if (status == ST_OK && r < 0) status = ST_FAILED, snprintf(st->msg, sizeof st->msg, "%s", csv_scanner_error(in.sc));
        if (status == ST_OK && in.relay && !late && fail_point("relay", a->rank)) /* test hook: mid-relay */
            status = ST_FATAL, snprintf(st->msg, sizeof st->msg, "out of memory while scanning");
    }
    row_batch *b = p.b;
    if (status == ST_OK && b->nrows && p.deliver && p.deliver(a->consumer_data, b)) status = ST_FATAL;
    if (status == ST_FATAL && !st->msg[0]) snprintf(st->msg, sizeof st->msg, "%s: cannot write rejects or out of memory", st->ext->name);
    if (p.w && reject_writer_close(p.w, err, sizeof err) && status == ST_OK)
        status = ST_FATAL, snprintf(st->msg, sizeof st->msg, "%s", err);
    close_scan_input(st, &in, late != NULL);
    row_batch_free(b);
    return status;
}

/* Duplicate keys, then references, decided across ranks. */
static int settle_keys(read_state *st) {
    const extract_read_args *a = st->a;
    const schema_extract *ext = st->ext;
    int rc = st->relayed ? relay_table_broadcast(a->comm, a->nranks - 1, &st->owners) : 0;
    line_owners table = {st->owners.first_line, st->owners.owner, st->owners.n};
    const line_owners *owners = st->relayed ? &table : NULL;
    if (rc == 0 && ext->key_column >= 0)
        rc = keycheck_duplicates(a->comm, ext->replicated, owners, &st->keys, ext->key_column, &st->late,
                                 &a->keysets[a->extract]);
    for (size_t r = 0; rc == 0 && r < ext->nrefs; r++) {
        const schema_extract *target = &a->schemas->extracts[ext->refs[r].extract];
        rc = keycheck_references(a->comm, target->replicated, owners, &st->refs[r], ext->refs[r].column,
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
        int64_t line = key_entry_line(&st->keys.v[i]);
        while (j < st->late.n && st->late.v[j].line < line) j++;
        if (j < st->late.n && st->late.v[j].line == line) continue;
        if (keyset_add(ks, key_entry_key(&st->keys.v[i]))) return ST_FATAL;
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
    relay_table_free(&st->owners);
    if (st->relay_comm != MPI_COMM_NULL) MPI_Comm_free(&st->relay_comm);
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
    if (st->relayed) {
        st->segment_bytes = relay_segment_bytes(st->a->comm, st->a->rank);
        MPI_Comm_dup(st->a->comm, &st->relay_comm);
    }
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
    st.relay_comm = MPI_COMM_NULL;
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
