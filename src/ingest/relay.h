/* relay.h — a single-frame `.csv.zst` (what plain `zstd` writes) read by
 * several ranks with no rank decoding bytes that another parses. A frame
 * can only be decoded from its start, one block after another; parsing
 * and validating its records can go on anywhere. So the last rank decodes
 * the frame and cuts its stream into segments of about segment_bytes,
 * each ending just after a `\n` at even quote parity (the record boundary
 * rule of csv_scanner.h), so each begins a record and knows its first
 * line number. It keeps some segments and sends the others, in turns, to
 * the ranks that parse them: a rank gets the next segment when it has
 * fewer than two on their way, otherwise the last rank parses it itself.
 * So no rank waits while another has work to hand, each rank holds only a
 * few segments at a time, and the turns follow the ranks' speeds.
 *
 * Where the segments fall follows from the bytes and segment_bytes alone;
 * whose they are is recorded in a table that every rank then shares
 * (relay_table_broadcast): the key checks read from it which rank holds
 * which line, and a rank rebuilds its own segments from it by decoding
 * the frame itself (RELAY_LOCAL: the re-scan for late verdicts). What a
 * rank computes from its rows never depends on which rows it got (the
 * reports are the same for any rank count), so the timing-dependent turns
 * change no output. Owns the decoder (sending and local roles), the
 * message buffers and the segment table. */
#ifndef ESEP_RELAY_H
#define ESEP_RELAY_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "csv_scanner.h"
#include "source.h"

/* The longest message: a segment longer than this (a quoted field with
 * newlines that runs on) travels in several. */
#define RELAY_MESSAGE_BYTES ((1u << 20) + (64u << 10))

/* segment_bytes is clamped to this range (a segment ends at the first
 * record boundary after it). */
#define RELAY_SEGMENT_MIN 4096u
#define RELAY_SEGMENT_MAX (1u << 20)

typedef enum {
    RELAY_SEND,     /* the last rank: decodes, keeps its segments, sends the others */
    RELAY_RECEIVE,  /* another rank: receives its segments */
    RELAY_LOCAL     /* any rank: decodes alone and keeps only its own segments */
} relay_role;

typedef struct relay relay;

/* The segments of a frame in line order: rows from first_line[i] up to
 * first_line[i + 1] belong to owner[i]. */
typedef struct {
    int64_t *first_line;
    int32_t *owner;
    size_t n, cap;
} relay_table;

/* Opens rank's side (of nranks). comm carries point-to-point messages
 * only (the caller gives a communicator of its own, so they meet nothing
 * else; unused by RELAY_LOCAL, which may pass MPI_COMM_NULL); f
 * (split_frame) must outlive the relay. Every rank must open with the
 * same segment_bytes, the last rank with RELAY_SEND and the others with
 * RELAY_RECEIVE; or any rank alone with RELAY_LOCAL and replay, the table
 * of the first read (not owned; it must outlive the relay). Returns NULL
 * when out of memory. */
relay *relay_open(const extract_file *f, MPI_Comm comm, int rank, int nranks, relay_role role,
                  size_t segment_bytes, const relay_table *replay);

/* Moves to this rank's next segment and describes where it starts.
 * Returns 1, 0 when this rank has no more segments, or -1 with
 * relay_error (a corrupt or truncated frame, out of memory, a replay that
 * finds other segments); the sending rank's decoding error reaches every
 * rank with the same words. */
int relay_next_segment(relay *r, csv_start *start);

/* Reads up to cap bytes of the current segment. Returns the count, 0 at
 * the segment's end, or -1 with relay_error. */
ssize_t relay_read(relay *r, uint8_t *buf, size_t cap);

const char *relay_error(const relay *r);

/* Fraction of the frame this rank's segments have reached, 0..1. */
double relay_progress(const relay *r);

/* Moves the table of every segment seen so far into *t (empty before):
 * the whole frame's once a sending or local relay has reached its end; a
 * receiving rank sees only its own, so it gets an empty table and learns
 * the whole one from relay_table_broadcast. Cannot fail. */
void relay_take_table(relay *r, relay_table *t);

/* Collective over comm: every rank gets root's table. 0, or -1 when out of
 * memory on any rank (all return -1; t is then empty). */
int relay_table_broadcast(MPI_Comm comm, int root, relay_table *t);

void relay_table_free(relay_table *t);

/* Ends this rank's side on every path. Once relay_next_segment has been
 * called (which every rank must then have done), a receiving rank that
 * stopped early still takes the rest of its messages and a sending rank
 * that stopped early tells every other rank there is no more, so no rank
 * waits; before, nothing is sent or awaited. Frees r; NULL is a no-op. */
void relay_free(relay *r);

#endif
