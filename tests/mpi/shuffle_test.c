/* shuffle_test.c — the bounded-round MPI shuffle (src/dist/shuffle.h)
 * under real mpirun (tests/mpi/shuffle.sh runs it on 1, 2 and 3 ranks).
 * Every rank pushes records (key, source rank, sequence, payload derived
 * from them) to key_owner(key); then each rank checks, independently of
 * the module, that it received exactly the records owned by it — counted
 * and fingerprinted by recomputing every rank's pushes locally — with
 * intact payloads, ordered by source rank then push order within each
 * round. Two sizes: many 32-byte records, and 256 KiB records, enough to
 * need several rounds of SHUFFLE_ROUND_BYTES. Prints "shuffle: ok …" per
 * case on rank 0. Then the agreed collectives (src/dist/agree.h): one
 * rank not ok makes every rank's answer 0, the worst status comes with the
 * lowest such rank's message, bytes gather on rank 0 in rank order, and
 * ESEP_FAIL_AT fails a named agreement on the rank ESEP_FAIL_RANK names;
 * prints "agree: ok …". Exits non-zero on any failure. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/agree.h"
#include "dist/shuffle.h"

typedef struct {
    int64_t key;
    int32_t src, seq;
} header;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33, x *= 0xff51afd7ed558ccdULL, x ^= x >> 33, x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static int64_t key_of(int src, int seq) { return (int64_t)(mix((uint64_t)src * 1000003u + (uint64_t)seq) >> 2); }

static unsigned char fill_byte(const header *h, size_t i) { return (unsigned char)(h->seq * 31 + h->src * 7 + i); }

static void make_record(unsigned char *rec, size_t size, int src, int seq) {
    header h = {key_of(src, seq), src, seq};
    memcpy(rec, &h, sizeof h);
    for (size_t i = sizeof h; i < size; i++) rec[i] = fill_byte(&h, i);
}

/* The same records grouped by owner in one array, in push order within
 * each owner, sent with shuffle_exchange_grouped. */
static int exchange_grouped(int me, int n, size_t size, int per_rank, void **got, size_t *ngot) {
    size_t *count = calloc((size_t)n, sizeof *count), *at = calloc((size_t)n, sizeof *at);
    unsigned char *all = malloc(size * (size_t)per_rank), *rec = malloc(size);
    int rc = -1;
    if (count && at && all && rec) {
        for (int q = 0; q < per_rank; q++) count[key_owner(key_of(me, q), n)]++;
        for (int r = 1; r < n; r++) at[r] = at[r - 1] + count[r - 1];
        for (int q = 0; q < per_rank; q++) {
            make_record(rec, size, me, q);
            memcpy(all + size * at[key_owner(key_of(me, q), n)]++, rec, size);
        }
        rc = shuffle_exchange_grouped(MPI_COMM_WORLD, size, all, count, got, ngot);
    }
    free(count), free(at), free(all), free(rec);
    return rc;
}

/* Returns the number of problems found on this rank. */
static int run_case(int me, int n, size_t size, int per_rank, int grouped) {
    shuffle s;
    int problems = 0;
    unsigned char *rec = malloc(size);
    if (!rec || shuffle_init(&s, n, size)) return 1;
    for (int q = 0; !grouped && q < per_rank; q++) {
        make_record(rec, size, me, q);
        header h;
        memcpy(&h, rec, sizeof h);
        if (shuffle_push(&s, key_owner(h.key, n), rec)) problems++;
    }
    void *got = NULL;
    size_t ngot = 0;
    if (grouped ? exchange_grouped(me, n, size, per_rank, &got, &ngot) : shuffle_exchange(&s, MPI_COMM_WORLD, &got, &ngot))
        problems++;
    /* what must arrive: every rank's pushes recomputed here */
    size_t want = 0;
    uint64_t want_sum = 0, got_sum = 0;
    for (int src = 0; src < n; src++)
        for (int q = 0; q < per_rank; q++)
            if (key_owner(key_of(src, q), n) == me) want++, want_sum += mix((uint64_t)key_of(src, q) ^ (uint64_t)src);
    if (ngot != want) problems++, fprintf(stderr, "rank %d: %zu records, want %zu\n", me, ngot, want);
    int last_src = -1, last_seq = -1;
    for (size_t i = 0; i < ngot; i++) {
        const unsigned char *r = (const unsigned char *)got + i * size;
        header h;
        memcpy(&h, r, sizeof h);
        got_sum += mix((uint64_t)h.key ^ (uint64_t)h.src);
        if (key_owner(h.key, n) != me || h.key != key_of(h.src, h.seq)) problems++;
        for (size_t b = sizeof h; b < size; b += 997)
            if (r[b] != fill_byte(&h, b)) {
                problems++;
                break;
            }
        /* within a round: by source, then push order; a new round starts
         * when the source goes back to a lower rank (or repeats lower seq) */
        int new_round = h.src < last_src || (h.src == last_src && h.seq < last_seq);
        if (!new_round && h.src == last_src && h.seq <= last_seq) problems++;
        last_src = h.src, last_seq = h.seq;
    }
    if (got_sum != want_sum) problems++, fprintf(stderr, "rank %d: fingerprint differs\n", me);
    free(got);
    free(rec);
    shuffle_free(&s);
    return problems;
}

/* The agreements on this rank; returns the number of problems found. */
static int agree_case(int me, int n) {
    MPI_Comm w = MPI_COMM_WORLD;
    int problems = 0;
    problems += dist_agree(w, 1) != 1;
    problems += dist_agree(w, me != n - 1) != 0; /* the last rank alone says no */
    char msg[32];
    snprintf(msg, sizeof msg, "rank %d", me);
    int worst = dist_agree_status(w, me == 0 ? 1 : 2, msg, (int)sizeof msg); /* worst: 2 from rank 1 on */
    char want[32];
    snprintf(want, sizeof want, "rank %d", n == 1 ? 0 : 1);
    problems += worst != (n == 1 ? 1 : 2) || strcmp(msg, want);
    snprintf(msg, sizeof msg, "mine");
    problems += dist_agree_status(w, 0, msg, (int)sizeof msg) != 0 || strcmp(msg, "mine");
    char data[16], *all = NULL;
    size_t total = 99;
    memset(data, 'a' + me % 26, sizeof data);
    problems += dist_gather_bytes(w, "gather-test", data, (size_t)me % 4 + 1, &all, &total) != 0;
    size_t off = 0;
    for (int r = 0; me == 0 && all && r < n; r++)
        for (int i = 0; i < r % 4 + 1; i++) problems += all[off++] != 'a' + r % 26;
    problems += me == 0 ? !all || total != off : all != NULL || total != 0;
    free(all);
    problems += dist_agree_at(w, "agree-test", 1) != 1; /* ESEP_FAIL_AT unset */
    char last[16];
    snprintf(last, sizeof last, "%d", n - 1);
    setenv("ESEP_FAIL_AT", "agree-test", 1), setenv("ESEP_FAIL_RANK", last, 1);
    problems += dist_agree_at(w, "agree-test", 1) != 0;
    problems += dist_agree_at(w, "other-point", 1) != 1;
    setenv("ESEP_FAIL_AT", "gather-test", 1);
    problems += dist_gather_bytes(w, "gather-test", data, 1, &all, &total) != -1 || all != NULL;
    unsetenv("ESEP_FAIL_AT"), unsetenv("ESEP_FAIL_RANK");
    return problems;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int me, n, failed = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    struct {
        size_t size;
        int per_rank;
    } cases[] = {{32, 50000}, {256 << 10, 600}}; /* 600 × 256 KiB = 150 MiB a rank: several rounds */
    for (size_t c = 0; c < 4; c++) {
        int grouped = c >= 2;
        int problems = run_case(me, n, cases[c % 2].size, cases[c % 2].per_rank, grouped);
        MPI_Allreduce(MPI_IN_PLACE, &problems, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) printf("shuffle: %s np=%d record=%zu per_rank=%d%s problems=%d\n", problems ? "FAIL" : "ok", n,
                            cases[c % 2].size, cases[c % 2].per_rank, grouped ? " grouped" : "", problems);
        failed |= problems != 0;
    }
    int problems = agree_case(me, n);
    MPI_Allreduce(MPI_IN_PLACE, &problems, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0) printf("agree: %s np=%d problems=%d\n", problems ? "FAIL" : "ok", n, problems);
    failed |= problems != 0;
    MPI_Finalize();
    return failed;
}
