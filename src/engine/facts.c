/* facts.c — see facts.h. */
#include "facts.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../dist/agree.h"
#include "../dist/shuffle.h"

int facts_init(fact_table *f, size_t ncols) {
    memset(f, 0, sizeof *f);
    f->ncols = ncols;
    f->col = calloc(ncols + 1, sizeof *f->col);
    return f->col ? 0 : -1;
}

void facts_free(fact_table *f) {
    for (size_t c = 0; f->col && c < f->ncols; c++) free(f->col[c]);
    free(f->col), free(f->key), free(f->line), free(f->sign);
    memset(f, 0, sizeof *f);
}

static int grow(fact_table *f, size_t want) {
    if (want <= f->cap) return 0;
    size_t cap = f->cap ? f->cap : 1024;
    while (cap < want) cap *= 2;
    int64_t **arrays[2] = {&f->key, &f->line};
    for (int a = 0; a < 2; a++) {
        int64_t *g = realloc(*arrays[a], cap * sizeof **arrays[a]);
        if (!g) return -1;
        *arrays[a] = g;
    }
    int8_t *s = realloc(f->sign, cap * sizeof *s);
    if (!s) return -1;
    f->sign = s;
    for (size_t c = 0; c < f->ncols; c++) {
        int64_t *g = realloc(f->col[c], cap * sizeof *g);
        if (!g) return -1;
        f->col[c] = g;
    }
    f->cap = cap;
    return 0;
}

int facts_reserve(fact_table *f, size_t more) { return grow(f, f->n + more); }

int facts_push(fact_table *f, int64_t key, int64_t line, int64_t sign, const int64_t *values) {
    if (grow(f, f->n + 1)) return -1;
    f->key[f->n] = key;
    f->line[f->n] = line;
    f->sign[f->n] = (int8_t)sign;
    for (size_t c = 0; c < f->ncols; c++) f->col[c][f->n] = values[c];
    f->n++;
    return 0;
}

void facts_retain(fact_table *f, int (*keep)(const void *ctx, int64_t key), const void *ctx) {
    size_t kept = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (!keep(ctx, f->key[i])) continue;
        f->key[kept] = f->key[i], f->line[kept] = f->line[i], f->sign[kept] = f->sign[i];
        for (size_t c = 0; c < f->ncols; c++) f->col[c][kept] = f->col[c][i];
        kept++;
    }
    f->n = kept;
    size_t cap = kept ? kept : 1; /* shrinking cannot fail in practice; keep the old block if it does */
    int64_t **arrays[2] = {&f->key, &f->line};
    for (int a = 0; a < 2 && f->cap > cap; a++) {
        int64_t *g = realloc(*arrays[a], cap * sizeof *g);
        if (g) *arrays[a] = g;
    }
    int8_t *s = f->cap > cap ? realloc(f->sign, cap * sizeof *s) : NULL;
    if (s) f->sign = s;
    for (size_t c = 0; c < f->ncols && f->cap > cap; c++) {
        int64_t *g = realloc(f->col[c], cap * sizeof *g);
        if (g) f->col[c] = g;
    }
    if (f->cap > cap) f->cap = cap;
}

/* Row i moved to row `to` (to <= i). */
static void move_row(fact_table *f, size_t to, size_t i) {
    f->key[to] = f->key[i], f->line[to] = f->line[i], f->sign[to] = f->sign[i];
    for (size_t c = 0; c < f->ncols; c++) f->col[c][to] = f->col[c][i];
}

/* Rows that stay remain in the columns, moved up in order (not at all
 * before the first row that leaves); only the others are copied into send
 * buffers and received rows appended, so a table is never held whole in
 * messages as well as in columns: columns, the rows leaving and the rows
 * arriving, about twice the table as when every row went through the
 * buffers and the columns were freed first. */
int facts_shuffle_to(fact_table *f, MPI_Comm comm, int (*dest)(const void *ctx, const fact_table *f, size_t row),
                     const void *ctx) {
    int nranks, me;
    MPI_Comm_size(comm, &nranks);
    MPI_Comm_rank(comm, &me);
    if (nranks == 1) return 0; /* every row is where it goes already */
    size_t width = 3 + f->ncols, kept = 0;
    shuffle sh;
    int failed = shuffle_init(&sh, nranks, width * sizeof(int64_t)) != 0;
    int64_t *rec = malloc(width * sizeof *rec);
    failed |= rec == NULL;
    for (size_t i = 0; !failed && i < f->n; i++) {
        int owner = dest(ctx, f, i);
        if (owner == me) {
            if (kept != i) move_row(f, kept, i);
            kept++;
            continue;
        }
        rec[0] = f->key[i], rec[1] = f->line[i], rec[2] = f->sign[i];
        for (size_t c = 0; c < f->ncols; c++) rec[3 + c] = f->col[c][i];
        failed = shuffle_push(&sh, owner, rec) != 0;
    }
    free(rec);
    failed = !dist_agree(comm, !failed);
    void *got = NULL;
    size_t ngot = 0;
    int rc = failed ? -1 : shuffle_exchange(&sh, comm, &got, &ngot);
    shuffle_free(&sh);
    if (rc == 0) {
        f->n = kept;
        rc = grow(f, kept + ngot);
        const int64_t *r = got;
        for (size_t i = kept; rc == 0 && i < kept + ngot; i++, r += width) {
            f->key[i] = r[0], f->line[i] = r[1], f->sign[i] = (int8_t)r[2];
            for (size_t c = 0; c < f->ncols; c++) f->col[c][i] = r[3 + c];
        }
        if (rc == 0) f->n = kept + ngot;
    }
    free(got);
    return dist_agree(comm, rc == 0) ? 0 : -1;
}

static int owner_of_key(const void *nranks, const fact_table *f, size_t row) {
    return key_owner(f->key[row], *(const int *)nranks);
}

int facts_shuffle(fact_table *f, MPI_Comm comm) {
    int nranks;
    MPI_Comm_size(comm, &nranks);
    return facts_shuffle_to(f, comm, owner_of_key, &nranks);
}

/* Every rank's rows packed row by row (key, line, sign, values). */
static int64_t *pack_rows(const fact_table *f, size_t width) {
    int64_t *out = malloc((f->n * width + 1) * sizeof *out);
    for (size_t i = 0; out && i < f->n; i++) {
        int64_t *r = out + i * width;
        r[0] = f->key[i], r[1] = f->line[i], r[2] = f->sign[i];
        for (size_t c = 0; c < f->ncols; c++) r[3 + c] = f->col[c][i];
    }
    return out;
}

int facts_replicate(fact_table *f, MPI_Comm comm) {
    int nranks;
    MPI_Comm_size(comm, &nranks);
    if (nranks == 1) return 0;
    size_t width = 3 + f->ncols;
    long long mine = (long long)(f->n * width), total = 0;
    long long *count = malloc((size_t)nranks * sizeof *count);
    int *counts = malloc((size_t)nranks * sizeof *counts), *displs = malloc((size_t)nranks * sizeof *displs);
    int64_t *packed = pack_rows(f, width);
    int ok = dist_agree(comm, count && counts && displs && packed);
    if (ok) MPI_Allgather(&mine, 1, MPI_LONG_LONG, count, 1, MPI_LONG_LONG, comm);
    for (int r = 0; ok && r < nranks; r++) total += count[r];
    ok = ok && total <= INT_MAX; /* Allgatherv's displacements are ints (the same total on every rank) */
    for (int r = 0, at = 0; ok && r < nranks; at += counts[r++]) counts[r] = (int)count[r], displs[r] = at;
    int64_t *all = ok ? malloc(((size_t)total + 1) * sizeof *all) : NULL;
    int rc = dist_agree(comm, all != NULL) ? 0 : -1;
    if (rc == 0) MPI_Allgatherv(packed, (int)mine, MPI_INT64_T, all, counts, displs, MPI_INT64_T, comm);
    free(count), free(counts), free(displs), free(packed);
    size_t n = (size_t)total / width;
    if (rc == 0) f->n = 0, rc = grow(f, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const int64_t *r = all + i * width;
        f->key[i] = r[0], f->line[i] = r[1], f->sign[i] = (int8_t)r[2];
        for (size_t c = 0; c < f->ncols; c++) f->col[c][i] = r[3 + c];
    }
    if (rc == 0) f->n = n;
    free(all);
    return dist_agree(comm, rc == 0) ? 0 : -1;
}

/* Sort order (key, line, sign): keys as unsigned with the sign bit
 * flipped, so the byte order is the numeric order; line*2 + (sign > 0) so
 * a withdrawal sorts just before the row it withdraws. */
typedef struct {
    uint64_t key, rank;
    size_t idx;
} sort_item;

/* LSD radix sort on the key, one byte per pass, skipping bytes that are
 * the same in every item (IINs use 5 of 8). Stable. */
static void radix_sort_by_key(sort_item *a, sort_item *tmp, size_t n) {
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) count[((a[i].key >> shift) & 0xFF) + 1]++;
        int constant = 0;
        for (int b = 1; b <= 256; b++) constant |= count[b] == n;
        if (constant) continue;
        for (int b = 1; b <= 256; b++) count[b] += count[b - 1];
        for (size_t i = 0; i < n; i++) tmp[count[(a[i].key >> shift) & 0xFF]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
}

static int compare_rank(const void *x, const void *y) {
    uint64_t a = ((const sort_item *)x)->rank, b = ((const sort_item *)y)->rank;
    return (a > b) - (a < b);
}

/* Within each run of equal keys, order by rank: insertion sort for the
 * usual handful of rows, qsort for large groups (a school's pupils). */
static void sort_groups_by_rank(sort_item *a, size_t n) {
    for (size_t s = 0, e; s < n; s = e) {
        for (e = s + 1; e < n && a[e].key == a[s].key; e++) {}
        if (e - s > 32) {
            qsort(a + s, e - s, sizeof *a, compare_rank);
            continue;
        }
        for (size_t i = s + 1; i < e; i++) {
            sort_item x = a[i];
            size_t j = i;
            for (; j > s && a[j - 1].rank > x.rank; j--) a[j] = a[j - 1];
            a[j] = x;
        }
    }
}

/* Reorders one column by the permutation. */
static void permute(int64_t *v, const size_t *perm, size_t n, int64_t *tmp) {
    for (size_t i = 0; i < n; i++) tmp[i] = v[perm[i]];
    memcpy(v, tmp, n * sizeof *v);
}

/* The same for the sign column, in the first n bytes of tmp. */
static void permute_sign(int8_t *v, const size_t *perm, size_t n, int64_t *tmp) {
    int8_t *t = (int8_t *)tmp;
    for (size_t i = 0; i < n; i++) t[i] = v[perm[i]];
    memcpy(v, t, n);
}

/* Whether the rows are in (key, line, sign) order already (a registry
 * listed by household, say): then there is nothing to move. */
static int in_order(const fact_table *f) {
    for (size_t i = 1; i < f->n; i++) {
        if (f->key[i - 1] != f->key[i]) {
            if (f->key[i - 1] > f->key[i]) return 0;
            continue;
        }
        uint64_t a = (uint64_t)f->line[i - 1] * 2 + (f->sign[i - 1] > 0), b = (uint64_t)f->line[i] * 2 + (f->sign[i] > 0);
        if (a >= b) return 0; /* ties never happen (a row's line is its own); sort to be safe */
    }
    return 1;
}

/* A withdrawn row (−1) sorts just before its original (+1), same key and
 * line: both go. */
static void cancel_withdrawn(fact_table *f) {
    size_t kept = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->sign[i] < 0 && i + 1 < f->n && f->key[i + 1] == f->key[i] && f->line[i + 1] == f->line[i] &&
            f->sign[i + 1] > 0) {
            i++;
            continue;
        }
        f->key[kept] = f->key[i], f->line[kept] = f->line[i], f->sign[kept] = f->sign[i];
        for (size_t c = 0; c < f->ncols; c++) f->col[c][kept] = f->col[c][i];
        kept++;
    }
    f->n = kept;
}

/* Up to this many ascending runs are merged instead of sorted: the rows a
 * rank kept and those it received from each other rank, each part in
 * order (a registry listed by household gives its folded households so). */
enum { MERGE_MAX_RUNS = 16 };

/* Whether row i comes strictly before row j in (key, line, sign) order. */
static int row_before(const fact_table *f, size_t i, size_t j) {
    if (f->key[i] != f->key[j]) return f->key[i] < f->key[j];
    return (uint64_t)f->line[i] * 2 + (f->sign[i] > 0) < (uint64_t)f->line[j] * 2 + (f->sign[j] > 0);
}

/* The starts of f's strictly ascending runs into start (start[nruns] = n):
 * their count, or 0 when there are more than max or two rows are equal
 * (then the sort decides, as it always did). Cannot fail. */
static size_t ascending_runs(const fact_table *f, size_t *start, size_t max) {
    size_t nruns = 1;
    start[0] = 0;
    for (size_t i = 1; i < f->n; i++) {
        if (row_before(f, i - 1, i)) continue;
        if (!row_before(f, i, i - 1) || nruns == max) return 0;
        start[nruns++] = i;
    }
    start[nruns] = f->n;
    return nruns;
}

/* The rows in order, by merging the runs pairwise: perm or spare (both
 * room for n), whichever holds the result. The order is the sort's, since
 * no two rows are equal. Cannot fail. */
static size_t *merge_runs(const fact_table *f, size_t *start, size_t nruns, size_t *perm, size_t *spare) {
    for (size_t i = 0; i < f->n; i++) perm[i] = i;
    while (nruns > 1) {
        size_t m = 0;
        for (size_t r = 0; r < nruns; r += 2) {
            size_t lo = start[r], mid = start[r + 1], hi = r + 2 <= nruns ? start[r + 2] : mid, a = lo, b = mid, o = lo;
            while (a < mid && b < hi) spare[o++] = row_before(f, perm[b], perm[a]) ? perm[b++] : perm[a++];
            while (a < mid) spare[o++] = perm[a++];
            while (b < hi) spare[o++] = perm[b++];
            start[m++] = lo;
        }
        start[m] = f->n, nruns = m;
        size_t *t = perm;
        perm = spare, spare = t;
    }
    return perm;
}

/* Rows in the order of perm. */
static void permute_rows(fact_table *f, const size_t *perm, int64_t *tmp) {
    permute(f->key, perm, f->n, tmp), permute(f->line, perm, f->n, tmp), permute_sign(f->sign, perm, f->n, tmp);
    for (size_t c = 0; c < f->ncols; c++) permute(f->col[c], perm, f->n, tmp);
}

/* A few ascending runs merged into order. 0, or -1 out of memory. */
static int merge_sort_runs(fact_table *f, size_t *start, size_t nruns) {
    size_t *perm = malloc(f->n * sizeof *perm), *spare = malloc(f->n * sizeof *spare);
    int64_t *tmp = malloc(f->n * sizeof *tmp);
    int rc = perm && spare && tmp ? 0 : -1;
    if (rc == 0) permute_rows(f, merge_runs(f, start, nruns, perm, spare), tmp);
    free(perm), free(spare), free(tmp);
    return rc;
}

int facts_sort_and_cancel(fact_table *f) {
    if (f->n == 0) return 0;
    if (in_order(f)) return cancel_withdrawn(f), 0;
    size_t start[MERGE_MAX_RUNS + 1], nruns = ascending_runs(f, start, MERGE_MAX_RUNS);
    if (nruns) {
        if (merge_sort_runs(f, start, nruns)) return -1;
        return cancel_withdrawn(f), 0;
    }
    size_t *perm = malloc(f->n * sizeof *perm);
    int64_t *tmp = malloc(f->n * sizeof *tmp);
    if (!perm || !tmp) {
        free(perm), free(tmp);
        return -1;
    }
    sort_item *items = malloc(f->n * sizeof *items), *spare = malloc(f->n * sizeof *spare);
    if (!items || !spare) {
        free(perm), free(tmp), free(items), free(spare);
        return -1;
    }
    for (size_t i = 0; i < f->n; i++)
        items[i] = (sort_item){(uint64_t)f->key[i] ^ (1ull << 63), (uint64_t)f->line[i] * 2 + (f->sign[i] > 0), i};
    radix_sort_by_key(items, spare, f->n);
    sort_groups_by_rank(items, f->n);
    for (size_t i = 0; i < f->n; i++) perm[i] = items[i].idx;
    free(items), free(spare);
    permute_rows(f, perm, tmp);
    free(perm), free(tmp);
    cancel_withdrawn(f);
    return 0;
}

/* Orders two rows of one key by their values. */
static int compare_values_at(const fact_table *f, size_t a, size_t b) {
    for (size_t c = 0; c < f->ncols; c++)
        if (f->col[c][a] != f->col[c][b]) return f->col[c][a] < f->col[c][b] ? -1 : 1;
    return 0;
}

int facts_compact(fact_table *f) {
    if (f->n < 2) return 0;
    /* rank = the row's values folded into 64 bits: equal values give equal
     * ranks, and rows are then compared exactly within a key and rank */
    sort_item *items = malloc(f->n * sizeof *items), *spare = malloc(f->n * sizeof *spare);
    size_t *perm = malloc(f->n * sizeof *perm);
    int64_t *tmp = malloc(f->n * sizeof *tmp);
    if (!items || !spare || !perm || !tmp) {
        free(items), free(spare), free(perm), free(tmp);
        return -1;
    }
    for (size_t i = 0; i < f->n; i++) {
        uint64_t h = 0x9E3779B97F4A7C15ull;
        for (size_t c = 0; c < f->ncols; c++) h = (h ^ (uint64_t)f->col[c][i]) * 0x100000001B3ull;
        items[i] = (sort_item){(uint64_t)f->key[i] ^ (1ull << 63), h, i};
    }
    radix_sort_by_key(items, spare, f->n);
    sort_groups_by_rank(items, f->n);
    size_t kept = 0;
    for (size_t i = 0; i < f->n; i++) {
        int duplicate = 0;
        /* same key and rank as an earlier kept row of the run: compare exactly */
        for (size_t j = kept; j-- > 0 && items[j].key == items[i].key && items[j].rank == items[i].rank;)
            if (compare_values_at(f, items[j].idx, items[i].idx) == 0) {
                duplicate = 1;
                break;
            }
        if (!duplicate) items[kept++] = items[i];
    }
    for (size_t i = 0; i < kept; i++) perm[i] = items[i].idx;
    permute(f->key, perm, kept, tmp), permute(f->line, perm, kept, tmp), permute_sign(f->sign, perm, kept, tmp);
    for (size_t c = 0; c < f->ncols; c++) permute(f->col[c], perm, kept, tmp);
    f->n = kept;
    free(items), free(spare), free(perm), free(tmp);
    return 0;
}
