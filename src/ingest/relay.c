/* relay.c — see relay.h.
 *
 * Messages. Each is a header and up to RELAY_MESSAGE_BYTES of payload,
 * sent by the last rank to one other rank on the relay's own communicator;
 * MPI keeps a sender's messages to a receiver in order, so a segment is
 * its messages from one carrying SEG_BEGIN to one carrying SEG_END. A
 * receiving rank keeps RECV_DEPTH receives posted, re-posting each once
 * its payload is parsed, and the sender keeps SEND_DEPTH messages in
 * flight per receiver: a receiver always has the next segments waiting,
 * and the sender blocks only when one falls that far behind, which the
 * weighted turns keep rare. Waits poll and yield the core between polls.
 *
 * Acknowledgements. A message's send completes once its bytes reach one
 * of the receiver's posted buffers, long before the receiver has parsed
 * them, so completions cannot tell the sender how far behind a receiver
 * is. Each receiver therefore sends, on ACK_TAG, the count of messages it
 * has parsed whenever it asks for the next, and ACK_FINAL once it has
 * heard there is no more; the sender counts what it sent to each rank,
 * and the difference is what that rank still has to parse. The sender
 * takes every rank's ACK_FINAL before it lets the relay go, so no
 * acknowledgement is left unreceived on the communicator. */
#include "relay.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dist/agree.h"

#define RELAY_TAG 7
#define ACK_TAG 8
#define ACK_FINAL UINT64_MAX
#define RECV_DEPTH 4
#define SEND_DEPTH 4
/* A receiving rank gets the next segment while fewer than this many of
 * the messages sent to it are unparsed (the one it is parsing included);
 * otherwise it has work queued and the sending rank parses the segment
 * itself. Measured on the 20 M persons file at -np 2, a receiver waited
 * 1.8, 0.44, 0.19 and 0.01 s in all for its next message with 1, 2, 3
 * and 4: while the sender decodes and parses a segment of its own the
 * receiver must still have several. At most RECV_DEPTH, the buffers a
 * receiver has. */
#define QUEUE_AHEAD 4

enum { MSG_DATA = 1, MSG_DONE = 2, MSG_ERROR = 3 };
enum { SEG_BEGIN = 1, SEG_END = 2 };

typedef struct {
    int32_t kind, flags;
    int64_t first_line;       /* SEG_BEGIN: line of the segment's first byte */
    uint64_t offset;          /* stream offset of the payload's first byte */
    uint64_t len;             /* payload bytes (MSG_ERROR: the message) */
} msg_header;

typedef struct {
    uint8_t *buf;             /* header, then payload */
    size_t fill;              /* sending: payload bytes so far */
    MPI_Request req;
} msg_slot;

struct relay {
    const extract_file *file;
    MPI_Comm comm;
    relay_role role;
    int rank, nranks, sender;
    size_t target;
    char error[256];
    msg_slot *slots;          /* receive: RECV_DEPTH; send: SEND_DEPTH per rank */
    size_t nslots;
    int started;              /* relay_next_segment was called */
    int finished;             /* no more segments for this rank */
    uint64_t reached;         /* stream offset this rank's segments reached */
    /* receiving */
    size_t next_slot;         /* the slot the next message arrives in */
    int current_slot;         /* the slot being read, -1 none */
    const uint8_t *data;      /* unread payload of the current message */
    size_t data_len;
    int segment_ends;         /* the current message ends its segment */
    int in_segment;
    /* decoding (send, local) */
    byte_source *src;
    const uint8_t *blk;       /* decoded bytes not yet routed */
    size_t blk_len;
    uint64_t offset, quotes, newlines;
    int open;                 /* a segment has begun and not ended */
    int owner, announced;
    size_t seg_len;
    int seg_sent;             /* send: a message of the segment has gone */
    int filling;              /* send: the slot of the current remote segment */
    uint64_t *sent;           /* send: messages sent, per rank */
    uint64_t *parsed;         /* send: messages parsed, per rank, as acknowledged */
    int finals;               /* send: ranks whose ACK_FINAL came */
    uint64_t ack_in;          /* send: the acknowledgement being received */
    uint64_t ack_out;         /* receive: the count being sent */
    uint64_t consumed;        /* receive: messages parsed */
    uint64_t acked;           /* receive: the last count sent */
    int final_sent;           /* receive: ACK_FINAL has gone */
    MPI_Request ack_req;      /* the acknowledgement on its way (either side) */
    const relay_table *replay; /* local: whose each segment is */
    relay_table table;
};

static int fail(relay *r, const char *msg) {
    if (!r->error[0]) snprintf(r->error, sizeof r->error, "%s", msg);
    return -1;
}

/* Between polls: a rank with a core of its own polls on (a sleep would
 * add its timer slack, tens of microseconds, to every step of a message's
 * hand-over); ranks oversubscribed on a core let the others run. */
static void nap(void) { sched_yield(); }

/* Waits for one request, polling and sleeping. */
static void wait_request(MPI_Request *req) {
    int done = 0;
    for (int spins = 0; MPI_Test(req, &done, MPI_STATUS_IGNORE), !done; spins++)
        if (spins > 16) nap();
}

static int table_push(relay_table *t, int64_t first_line, int32_t owner) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        int64_t *lines = realloc(t->first_line, cap * sizeof *lines);
        if (lines) t->first_line = lines;
        int32_t *owners = lines ? realloc(t->owner, cap * sizeof *owners) : NULL;
        if (!owners) return -1;
        t->owner = owners;
        t->cap = cap;
    }
    t->first_line[t->n] = first_line;
    t->owner[t->n++] = owner;
    return 0;
}

static int post_receive(relay *r, size_t k) {
    return MPI_Irecv(r->slots[k].buf, (int)(sizeof(msg_header) + RELAY_MESSAGE_BYTES), MPI_BYTE, r->sender,
                     RELAY_TAG, r->comm, &r->slots[k].req) == MPI_SUCCESS ? 0 : -1;
}

static int alloc_slots(relay *r, size_t n) {
    r->nslots = n;
    if (!(r->slots = calloc(n, sizeof *r->slots))) return -1;
    for (size_t k = 0; k < n; k++) {
        r->slots[k].req = MPI_REQUEST_NULL;
        if (!(r->slots[k].buf = malloc(sizeof(msg_header) + RELAY_MESSAGE_BYTES))) return -1;
    }
    return 0;
}

relay *relay_open(const extract_file *f, MPI_Comm comm, int rank, int nranks, relay_role role,
                  size_t segment_bytes, const relay_table *replay) {
    relay *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->file = f, r->comm = comm, r->role = role, r->rank = rank, r->nranks = nranks;
    r->sender = nranks - 1;
    r->current_slot = r->filling = -1;
    r->ack_req = MPI_REQUEST_NULL;
    r->target = segment_bytes < RELAY_SEGMENT_MIN ? RELAY_SEGMENT_MIN
              : segment_bytes > RELAY_SEGMENT_MAX ? RELAY_SEGMENT_MAX : segment_bytes;
    int ok = 1;
    if (role == RELAY_RECEIVE) {
        ok = alloc_slots(r, RECV_DEPTH) == 0;
        for (size_t k = 0; ok && k < RECV_DEPTH; k++) ok = post_receive(r, k) == 0;
    } else {
        r->replay = replay;
        r->src = byte_source_open(f, 0, extract_file_units(f));
        ok = r->src != NULL;
        if (ok && role == RELAY_SEND) {
            ok = alloc_slots(r, SEND_DEPTH * (size_t)(nranks - 1)) == 0;
            ok = ok && (r->sent = calloc((size_t)nranks, sizeof *r->sent)) != NULL;
            ok = ok && (r->parsed = calloc((size_t)nranks, sizeof *r->parsed)) != NULL;
            ok = ok && (nranks == 1 || MPI_Irecv(&r->ack_in, 1, MPI_UINT64_T, MPI_ANY_SOURCE, ACK_TAG, comm,
                                                 &r->ack_req) == MPI_SUCCESS);
        }
    }
    if (!ok) {
        relay_free(r);
        return NULL;
    }
    return r;
}

const char *relay_error(const relay *r) { return r->error; }

double relay_progress(const relay *r) {
    uint64_t size = r->file->content_size;
    uint64_t at = r->role == RELAY_RECEIVE ? r->reached : r->offset;
    return size ? (double)at / (double)size : 1.0;
}

/* ---- sending ---------------------------------------------------------- */

/* A slot with no message in flight, waiting for one to complete if every
 * slot is busy. */
static int free_slot(relay *r) {
    for (;;) {
        for (size_t k = 0; k < r->nslots; k++) {
            int done = r->slots[k].req == MPI_REQUEST_NULL;
            if (!done) MPI_Test(&r->slots[k].req, &done, MPI_STATUS_IGNORE);
            if (done) return (int)k;
        }
        nap();
    }
}

static int send_slot(relay *r, int k, int dest, int flags) {
    msg_slot *s = &r->slots[k];
    r->sent[dest]++;
    int64_t first_line = flags & SEG_BEGIN ? r->table.first_line[r->table.n - 1] : 0; /* the current segment's */
    msg_header h = {MSG_DATA, flags, first_line, r->offset - s->fill, s->fill};
    memcpy(s->buf, &h, sizeof h);
    int rc = MPI_Isend(s->buf, (int)(sizeof h + s->fill), MPI_BYTE, dest, RELAY_TAG, r->comm, &s->req);
    s->fill = 0;
    return rc == MPI_SUCCESS ? 0 : fail(r, "relay: cannot send a segment");
}

/* Tells every receiving rank there is no more (kind MSG_DONE) or that
 * decoding failed (MSG_ERROR, with the message every rank reports). */
static void send_end(relay *r, int kind) {
    if (r->role != RELAY_SEND || r->finished) return;
    r->finished = 1;
    size_t len = kind == MSG_ERROR ? strlen(r->error) + 1 : 0;
    uint8_t buf[sizeof(msg_header) + sizeof r->error];
    msg_header h = {kind, 0, 0, r->offset, len};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, r->error, len);
    for (int q = 0; q < r->nranks; q++)
        if (q != r->sender) MPI_Send(buf, (int)(sizeof h + len), MPI_BYTE, q, RELAY_TAG, r->comm);
}

/* ---- decoding and cutting (send, local) ------------------------------- */

/* Makes decoded bytes available: 1, 0 at the end of the frame, -1. */
static int next_block(relay *r) {
    if (r->blk_len) return 1;
    ssize_t n = byte_source_next_decoded(r->src, &r->blk);
    if (n < 0) {
        fail(r, byte_source_error(r->src));
        send_end(r, MSG_ERROR);
        return -1;
    }
    r->blk_len = (size_t)n;
    return n > 0;
}

/* Takes in every acknowledgement that has come, re-posting the receive
 * until each receiving rank's ACK_FINAL is in. */
static void poll_acks(relay *r) {
    while (r->ack_req != MPI_REQUEST_NULL) {
        int done = 0;
        MPI_Status st;
        MPI_Test(&r->ack_req, &done, &st);
        if (!done) return;
        if (r->ack_in == ACK_FINAL) r->finals++;
        else if (r->ack_in > r->parsed[st.MPI_SOURCE]) r->parsed[st.MPI_SOURCE] = r->ack_in;
        if (r->finals < r->nranks - 1)
            MPI_Irecv(&r->ack_in, 1, MPI_UINT64_T, MPI_ANY_SOURCE, ACK_TAG, r->comm, &r->ack_req);
    }
}

/* Whose the next segment is, sending: the receiving rank with the fewest
 * unparsed messages (the lowest on a tie) if it has fewer than
 * QUEUE_AHEAD, else this rank. So a receiving rank never waits while the
 * sending rank parses, and the sending rank parses whatever the others
 * leave: the turns follow the ranks' speeds, and the table records them. */
static int choose_owner(relay *r) {
    int best = r->rank;
    uint64_t fewest = QUEUE_AHEAD;
    poll_acks(r);
    for (int q = 0; q < r->nranks; q++) {
        uint64_t unparsed = r->sent[q] - r->parsed[q];
        if (q != r->rank && unparsed < fewest) best = q, fewest = unparsed;
    }
    return best;
}

/* Starts a segment at the current offset: sending, for choose_owner's
 * rank; local, for the rank the first pass gave it (replay). */
static int begin_segment(relay *r) {
    int64_t first_line = (int64_t)(1 + r->newlines);
    int owner = r->rank;
    if (r->role == RELAY_SEND) owner = choose_owner(r);
    else if (r->replay && r->table.n < r->replay->n && r->replay->first_line[r->table.n] == first_line)
        owner = r->replay->owner[r->table.n];
    else if (r->replay) return fail(r, "relay: the frame's segments differ from the first read");
    r->owner = owner, r->open = 1, r->announced = 0;
    r->seg_len = 0, r->seg_sent = 0;
    if (table_push(&r->table, first_line, owner)) return fail(r, "out of memory");
    if (r->role == RELAY_SEND && owner != r->rank) r->filling = free_slot(r);
    return 0;
}

/* How many of the next (at most cap) decoded bytes belong to the current
 * segment; *ends when it ends after them, just past the first `\n` at
 * even quote parity once it holds target bytes. Counts the stream's
 * quotes and lines as it goes. */
static size_t segment_part(relay *r, size_t cap, int *ends) {
    const uint8_t *p = r->blk;
    size_t len = r->blk_len < cap ? r->blk_len : cap, n = 0;
    *ends = 0;
    if (r->seg_len < r->target) {
        n = r->target - r->seg_len < len ? r->target - r->seg_len : len;
        csv_block_stats st = {0, 0, 0, -1};
        csv_block_stats_add(&st, p, n);
        r->quotes += st.quotes, r->newlines += st.newlines;
    }
    if (r->seg_len + n >= r->target) {
        unsigned parity = (unsigned)(r->quotes & 1);
        while (n < len && !*ends) {
            uint8_t c = p[n++];
            if (c == '"') {
                parity ^= 1;
                r->quotes++;
            } else if (c == '\n') {
                r->newlines++;
                *ends = !parity;
            }
        }
    }
    return n;
}

static void consume(relay *r, size_t n) {
    r->blk += n, r->blk_len -= n;
    r->offset += n, r->seg_len += n;
}

static void end_segment(relay *r) { r->open = 0; }

/* Routes the next bytes of another rank's segment: copied into its
 * message (send) or dropped (local). */
static int route_remote(relay *r) {
    msg_slot *s = r->filling >= 0 ? &r->slots[r->filling] : NULL;
    int ends;
    size_t n = segment_part(r, s ? RELAY_MESSAGE_BYTES - s->fill : SIZE_MAX, &ends);
    if (s) memcpy(s->buf + sizeof(msg_header) + s->fill, r->blk, n), s->fill += n;
    consume(r, n);
    if (ends) end_segment(r);
    if (!s || (!ends && s->fill < RELAY_MESSAGE_BYTES)) return 0;
    int rc = send_slot(r, r->filling, r->owner, (r->seg_sent ? 0 : SEG_BEGIN) | (ends ? SEG_END : 0));
    r->seg_sent = 1;
    r->filling = ends ? -1 : free_slot(r);
    return rc;
}

/* The frame is decoded: the open segment ends with it, then every rank
 * hears there is no more. */
static int finish_frame(relay *r) {
    int rc = 0;
    if (r->open && r->owner != r->rank && r->filling >= 0) {
        rc = send_slot(r, r->filling, r->owner, (r->seg_sent ? 0 : SEG_BEGIN) | SEG_END);
        r->filling = -1;
    }
    if (r->open) end_segment(r);
    send_end(r, MSG_DONE);
    r->finished = 1;
    return rc;
}

static int decoder_next_segment(relay *r, csv_start *start) {
    for (;;) {
        if (r->finished) return r->error[0] ? -1 : 0;
        if (r->open && r->owner == r->rank && !r->announced) {
            r->announced = 1;
            *start = (csv_start){(int64_t)(1 + r->newlines), 1, 0, r->offset == 0};
            return 1;
        }
        int more = next_block(r);
        if (more < 0) return -1;
        if (!more) {
            if (finish_frame(r)) return -1;
            continue;
        }
        if (!r->open) {
            if (begin_segment(r)) return -1;
        } else if (r->owner == r->rank) { /* left before its end: the rest is skipped */
            int ends;
            consume(r, segment_part(r, SIZE_MAX, &ends));
            if (ends) end_segment(r);
        } else if (route_remote(r)) {
            return -1;
        }
    }
}

static ssize_t decoder_read(relay *r, uint8_t *buf, size_t cap) {
    if (!r->open || r->owner != r->rank) return 0;
    int more = next_block(r);
    if (more < 0) return -1;
    if (!more) return finish_frame(r) ? -1 : 0;
    int ends;
    size_t n = segment_part(r, cap, &ends);
    memcpy(buf, r->blk, n);
    consume(r, n);
    if (ends) end_segment(r);
    return (ssize_t)n;
}

/* ---- receiving -------------------------------------------------------- */

/* Tells the sending rank how many messages this rank has parsed (count),
 * or ACK_FINAL; the previous acknowledgement, a few bytes sent eagerly,
 * is complete first. */
static void send_ack(relay *r, uint64_t count) {
    if (r->ack_req != MPI_REQUEST_NULL) MPI_Wait(&r->ack_req, MPI_STATUS_IGNORE);
    r->ack_out = count;
    MPI_Isend(&r->ack_out, 1, MPI_UINT64_T, r->sender, ACK_TAG, r->comm, &r->ack_req);
    if (count != ACK_FINAL) r->acked = count;
}

/* The last acknowledgement, once: after it this rank sends nothing. */
static void send_final_ack(relay *r) {
    if (r->final_sent || !r->started) return;
    r->final_sent = 1;
    send_ack(r, ACK_FINAL);
    MPI_Wait(&r->ack_req, MPI_STATUS_IGNORE);
}

/* Waits for the next message; 1 data, 0 no more, -1 error. */
static int receive_next(relay *r) {
    if (r->current_slot >= 0) {
        if (post_receive(r, (size_t)r->current_slot)) return fail(r, "relay: cannot post a receive");
        r->consumed++;
    }
    if (r->consumed != r->acked) send_ack(r, r->consumed);
    r->current_slot = (int)r->next_slot;
    r->next_slot = (r->next_slot + 1) % r->nslots;
    msg_slot *s = &r->slots[r->current_slot];
    wait_request(&s->req);
    msg_header h;
    memcpy(&h, s->buf, sizeof h);
    if (h.kind == MSG_DATA) {
        r->data = s->buf + sizeof h;
        r->data_len = (size_t)h.len;
        r->segment_ends = (h.flags & SEG_END) != 0;
        r->reached = h.offset + h.len;
        if (h.flags & SEG_BEGIN) r->in_segment = 1;
        return 1;
    }
    r->finished = 1;
    r->in_segment = 0;
    r->data_len = 0;
    send_final_ack(r);
    if (h.kind != MSG_ERROR) return 0;
    char text[sizeof r->error];
    size_t len = h.len < sizeof text ? (size_t)h.len : sizeof text - 1;
    memcpy(text, s->buf + sizeof h, len);
    text[len] = '\0';
    return fail(r, text[0] ? text : "relay: the decoding rank failed");
}

static int receiver_next_segment(relay *r, csv_start *start) {
    for (;;) {
        if (r->finished) return r->error[0] ? -1 : 0;
        int got = receive_next(r);
        if (got <= 0) return got;
        msg_header h;
        memcpy(&h, r->slots[r->current_slot].buf, sizeof h);
        if (h.flags & SEG_BEGIN) {
            *start = (csv_start){h.first_line, 1, 0, h.offset == 0};
            return 1;
        } /* else: the rest of a segment left before its end */
    }
}

static ssize_t receiver_read(relay *r, uint8_t *buf, size_t cap) {
    while (r->data_len == 0) {
        if (r->segment_ends || !r->in_segment || r->finished) {
            r->in_segment = 0;
            return r->error[0] ? -1 : 0;
        }
        int got = receive_next(r);
        if (got < 0) return -1;
        if (got == 0) return 0;
    }
    size_t n = r->data_len < cap ? r->data_len : cap;
    memcpy(buf, r->data, n);
    r->data += n, r->data_len -= n;
    return (ssize_t)n;
}

/* ---- public ----------------------------------------------------------- */

int relay_next_segment(relay *r, csv_start *start) {
    r->started = 1;
    return r->role == RELAY_RECEIVE ? receiver_next_segment(r, start) : decoder_next_segment(r, start);
}

ssize_t relay_read(relay *r, uint8_t *buf, size_t cap) {
    if (cap == 0) return 0;
    return r->role == RELAY_RECEIVE ? receiver_read(r, buf, cap) : decoder_read(r, buf, cap);
}

void relay_take_table(relay *r, relay_table *t) {
    *t = r->table;
    memset(&r->table, 0, sizeof r->table);
}

int relay_table_broadcast(MPI_Comm comm, int root, relay_table *t) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    uint64_t n = t->n;
    MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm);
    int ok = n <= INT32_MAX; /* the count of one broadcast */
    if (ok && rank != root) {
        relay_table_free(t);
        t->first_line = malloc((n ? n : 1) * sizeof *t->first_line);
        t->owner = malloc((n ? n : 1) * sizeof *t->owner);
        ok = t->first_line && t->owner;
        t->n = t->cap = ok ? (size_t)n : 0;
    }
    if (!dist_agree(comm, ok)) return relay_table_free(t), -1;
    MPI_Bcast(t->first_line, (int)n, MPI_INT64_T, root, comm);
    MPI_Bcast(t->owner, (int)n, MPI_INT32_T, root, comm);
    return 0;
}

void relay_table_free(relay_table *t) {
    free(t->first_line);
    free(t->owner);
    memset(t, 0, sizeof *t);
}

/* A receiver takes every message still coming, then withdraws the
 * receives that nothing will match. */
static void drain_receives(relay *r) {
    while (r->started && !r->finished) {
        if (receive_next(r) < 0) break;
    }
    for (size_t k = 0; k < r->nslots; k++) {
        if ((int)k == r->current_slot || r->slots[k].req == MPI_REQUEST_NULL) continue;
        MPI_Cancel(&r->slots[k].req);
        MPI_Wait(&r->slots[k].req, MPI_STATUS_IGNORE);
    }
}

void relay_free(relay *r) {
    if (!r) return;
    if (r->role == RELAY_RECEIVE && r->slots) {
        drain_receives(r);
        send_final_ack(r);
    }
    if (r->role == RELAY_SEND && r->slots) {
        if (r->started) send_end(r, MSG_DONE);
        for (size_t k = 0; k < r->nslots; k++)
            if (r->slots[k].req != MPI_REQUEST_NULL) wait_request(&r->slots[k].req);
        while (r->started && r->ack_req != MPI_REQUEST_NULL) {
            poll_acks(r);
            if (r->ack_req != MPI_REQUEST_NULL) nap();
        }
    }
    if (r->ack_req != MPI_REQUEST_NULL) { /* never started: nothing will come */
        MPI_Cancel(&r->ack_req);
        MPI_Wait(&r->ack_req, MPI_STATUS_IGNORE);
    }
    for (size_t k = 0; r->slots && k < r->nslots; k++) free(r->slots[k].buf);
    free(r->slots);
    byte_source_free(r->src);
    free(r->sent);
    free(r->parsed);
    relay_table_free(&r->table);
    free(r);
}
