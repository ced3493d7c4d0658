/* shuffle.c — see shuffle.h. Each round a rank sends at most
 * SHUFFLE_ROUND_BYTES in total, split evenly over destinations. The totals
 * are exchanged first, so every rank allocates what it will receive once
 * (at national scale each growth of that buffer was a fresh copy of
 * hundreds of megabytes, and fresh pages are what a VM charges most for)
 * and knows how many rounds there are; a round is then one Alltoallv. */
#include "shuffle.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"

int key_owner(int64_t key, int nranks) {
    uint64_t x = (uint64_t)key + 0x9E3779B97F4A7C15ull; /* splitmix64 finalizer */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (int)(x % (uint64_t)nranks);
}

int shuffle_init(shuffle *s, int nranks, size_t record_size) {
    memset(s, 0, sizeof *s);
    s->nranks = nranks;
    s->record_size = record_size;
    s->buf = calloc((size_t)nranks, sizeof *s->buf);
    s->len = calloc((size_t)nranks, sizeof *s->len);
    s->cap = calloc((size_t)nranks, sizeof *s->cap);
    return s->buf && s->len && s->cap ? 0 : -1;
}

void shuffle_free(shuffle *s) {
    for (int r = 0; s->buf && r < s->nranks; r++) free(s->buf[r]);
    free(s->buf);
    free(s->len);
    free(s->cap);
    memset(s, 0, sizeof *s);
}

int shuffle_reserve(shuffle *s, int dest, size_t records) {
    size_t want = s->len[dest] + records * s->record_size;
    if (want <= s->cap[dest]) return 0;
    char *grown = realloc(s->buf[dest], want);
    if (!grown) return -1;
    s->buf[dest] = grown;
    s->cap[dest] = want;
    return 0;
}

int shuffle_push(shuffle *s, int dest, const void *record) {
    if (s->len[dest] + s->record_size > s->cap[dest]) {
        size_t cap = s->cap[dest] ? s->cap[dest] * 2 : 64 * s->record_size;
        char *grown = realloc(s->buf[dest], cap);
        if (!grown) return -1;
        s->buf[dest] = grown;
        s->cap[dest] = cap;
    }
    memcpy(s->buf[dest] + s->len[dest], record, s->record_size);
    s->len[dest] += s->record_size;
    return 0;
}

/* One round: sends the next slice of every buffer, appends what arrives. */
/* What one exchange knows before its rounds: every source's byte total
 * for this rank (one Alltoall), so what arrives is allocated once and each
 * round's receive counts are computed, not exchanged; and the number of
 * rounds (one Allreduce). */
typedef struct {
    int n;
    size_t slice;             /* bytes per destination per round */
    uint64_t *to, *from;      /* bytes to each destination, from each source */
    int *scount, *sdispl, *rcount, *rdispl;
    char *sbuf;               /* one round's send buffer, reused */
    uint64_t rounds;
} exchange_plan;

static void plan_free(exchange_plan *p) {
    free(p->to), free(p->from);
    free(p->scount), free(p->sdispl), free(p->rcount), free(p->rdispl);
    free(p->sbuf);
}

/* Bytes of a total of `bytes` that go in round k. */
static int round_part(uint64_t bytes, size_t slice, uint64_t k) {
    uint64_t done = k * slice;
    return done >= bytes ? 0 : (int)(bytes - done < slice ? bytes - done : slice);
}

/* Allocates the plan and learns the totals. 0; 1 when some rank is out of
 * memory for the plan (every rank returns 1); -1 when this rank is out of
 * memory for the round buffer (to be agreed). */
static int plan_exchange(MPI_Comm comm, int n, size_t record_size, const size_t *len, exchange_plan *p,
                         size_t *incoming) {
    p->n = n;
    p->slice = SHUFFLE_ROUND_BYTES / (size_t)n / record_size * record_size;
    if (p->slice == 0) p->slice = record_size;
    p->to = calloc((size_t)n, sizeof *p->to), p->from = calloc((size_t)n, sizeof *p->from);
    p->scount = calloc((size_t)n, sizeof *p->scount), p->sdispl = calloc((size_t)n, sizeof *p->sdispl);
    p->rcount = calloc((size_t)n, sizeof *p->rcount), p->rdispl = calloc((size_t)n, sizeof *p->rdispl);
    int ok = p->to && p->from && p->scount && p->sdispl && p->rcount && p->rdispl;
    uint64_t most = 0;
    for (int r = 0; ok && r < n; r++) {
        p->to[r] = len[r];
        if (len[r] > most) most = len[r];
    }
    if (!dist_agree_at(comm, "shuffle", ok)) return 1;
    MPI_Alltoall(p->to, 1, MPI_UINT64_T, p->from, 1, MPI_UINT64_T, comm);
    p->rounds = (most + p->slice - 1) / p->slice;
    MPI_Allreduce(MPI_IN_PLACE, &p->rounds, 1, MPI_UINT64_T, MPI_MAX, comm);
    *incoming = 0;
    for (int r = 0; r < n; r++) *incoming += (size_t)p->from[r];
    p->sbuf = malloc(p->slice * (size_t)n);
    return p->sbuf ? 0 : -1;
}

/* Round k: each destination's next slice, into recv at *at. */
static void exchange_round(const char *const *src, MPI_Comm comm, exchange_plan *p, uint64_t k, char *recv,
                           size_t *at) {
    int total = 0, incoming = 0;
    for (int r = 0; r < p->n; r++) {
        p->scount[r] = round_part(p->to[r], p->slice, k);
        p->sdispl[r] = total;
        if (p->scount[r]) memcpy(p->sbuf + total, src[r] + k * p->slice, (size_t)p->scount[r]);
        total += p->scount[r];
        p->rcount[r] = round_part(p->from[r], p->slice, k);
        p->rdispl[r] = incoming;
        incoming += p->rcount[r];
    }
    MPI_Alltoallv(p->sbuf, p->scount, p->sdispl, MPI_BYTE, recv + *at, p->rcount, p->rdispl, MPI_BYTE, comm);
    *at += (size_t)incoming;
}

/* Sends len[r] bytes from src[r] to each rank r, in rounds. */
static int exchange(MPI_Comm comm, int n, size_t record_size, const char *const *src, const size_t *len,
                    void **recv, size_t *nrecv) {
    exchange_plan p;
    memset(&p, 0, sizeof p);
    size_t incoming = 0, at = 0;
    char *out = NULL;
    int planned = plan_exchange(comm, n, record_size, len, &p, &incoming), failed = planned != 0;
    if (!failed) failed = !(out = malloc(incoming ? incoming : 1));
    if (planned != 1) failed = !dist_agree(comm, !failed);
    for (uint64_t k = 0; !failed && k < p.rounds; k++) exchange_round(src, comm, &p, k, out, &at);
    plan_free(&p);
    if (failed) {
        free(out);
        return -1;
    }
    *recv = out;
    *nrecv = incoming / record_size;
    return 0;
}

int shuffle_exchange(shuffle *s, MPI_Comm comm, void **recv, size_t *nrecv) {
    int rc = exchange(comm, s->nranks, s->record_size, (const char *const *)s->buf, s->len, recv, nrecv);
    for (int r = 0; r < s->nranks; r++) s->len[r] = 0;
    return rc;
}

int shuffle_exchange_grouped(MPI_Comm comm, size_t record_size, const void *records, const size_t *per_dest,
                             void **recv, size_t *nrecv) {
    int n;
    MPI_Comm_size(comm, &n);
    const char **src = calloc((size_t)n, sizeof *src);
    size_t *len = calloc((size_t)n, sizeof *len), at = 0;
    for (int r = 0; src && len && r < n; r++) {
        src[r] = (const char *)records + at;
        len[r] = per_dest[r] * record_size;
        at += len[r];
    }
    int ok = dist_agree(comm, src && len);
    int rc = ok ? exchange(comm, n, record_size, src, len, recv, nrecv) : -1;
    free(src);
    free(len);
    return rc;
}
