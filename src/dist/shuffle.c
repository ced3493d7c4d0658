/* shuffle.c — see shuffle.h. Each round a rank sends at most
 * SHUFFLE_ROUND_BYTES in total, split evenly over destinations; rounds go
 * on until every rank has sent everything (agreed with one Allreduce). */
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
static int exchange_round(shuffle *s, MPI_Comm comm, size_t *sent, char **recv,
                          size_t *recv_len, size_t *recv_cap) {
    int n = s->nranks;
    size_t slice = SHUFFLE_ROUND_BYTES / (size_t)n / s->record_size * s->record_size;
    if (slice == 0) slice = s->record_size;
    int *scount = calloc((size_t)n, sizeof *scount), *sdispl = calloc((size_t)n, sizeof *sdispl);
    int *rcount = calloc((size_t)n, sizeof *rcount), *rdispl = calloc((size_t)n, sizeof *rdispl);
    char *sbuf = NULL;
    int failed = !scount || !sdispl || !rcount || !rdispl;
    size_t total = 0;
    for (int r = 0; !failed && r < n; r++) {
        size_t left = s->len[r] - sent[r];
        scount[r] = (int)(left < slice ? left : slice);
        sdispl[r] = (int)total;
        total += (size_t)scount[r];
    }
    if (!failed && total && !(sbuf = malloc(total))) failed = 1;
    for (int r = 0; !failed && r < n; r++) {
        if (scount[r]) memcpy(sbuf + sdispl[r], s->buf[r] + sent[r], (size_t)scount[r]);
        sent[r] += (size_t)scount[r];
    }
    int ok = dist_agree_at(comm, "shuffle", !failed);
    if (ok) {
        MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm);
        size_t incoming = 0;
        for (int r = 0; r < n; r++) rdispl[r] = (int)incoming, incoming += (size_t)rcount[r];
        if (*recv_len + incoming > *recv_cap) {
            size_t cap = (*recv_len + incoming) * 3 / 2 + 1;
            char *grown = realloc(*recv, cap);
            if (grown) *recv = grown, *recv_cap = cap;
            else failed = 1;
        }
        ok = dist_agree(comm, !failed);
        if (ok) {
            MPI_Alltoallv(sbuf, scount, sdispl, MPI_BYTE, *recv + *recv_len, rcount, rdispl,
                          MPI_BYTE, comm);
            *recv_len += incoming;
        }
    }
    free(sbuf);
    free(scount);
    free(sdispl);
    free(rcount);
    free(rdispl);
    return ok ? 0 : -1;
}

int shuffle_exchange(shuffle *s, MPI_Comm comm, void **recv, size_t *nrecv) {
    size_t *sent = calloc((size_t)s->nranks, sizeof *sent);
    char *out = NULL;
    size_t out_len = 0, out_cap = 0;
    int rc = sent ? 0 : -1;
    for (;;) {
        int pending = 0;
        for (int r = 0; sent && r < s->nranks; r++) pending |= sent[r] < s->len[r];
        int state[2] = {pending, rc != 0}; /* "more rounds?" and "failed?" agreed in one reduction */
        MPI_Allreduce(MPI_IN_PLACE, state, 2, MPI_INT, MPI_MAX, comm);
        if (state[1]) rc = -1;
        if (!state[0] || rc) break;
        rc = exchange_round(s, comm, sent, &out, &out_len, &out_cap);
    }
    free(sent);
    for (int r = 0; r < s->nranks; r++) s->len[r] = 0;
    if (rc) {
        free(out);
        return -1;
    }
    *recv = out;
    *nrecv = out_len / s->record_size;
    return 0;
}
