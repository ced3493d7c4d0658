/* facts.c — see facts.h. */
#include "facts.h"

#include <stdlib.h>
#include <string.h>

#include "shuffle.h"

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
    int64_t **arrays[3] = {&f->key, &f->line, &f->sign};
    for (int a = 0; a < 3; a++) {
        int64_t *g = realloc(*arrays[a], cap * sizeof **arrays[a]);
        if (!g) return -1;
        *arrays[a] = g;
    }
    for (size_t c = 0; c < f->ncols; c++) {
        int64_t *g = realloc(f->col[c], cap * sizeof *g);
        if (!g) return -1;
        f->col[c] = g;
    }
    f->cap = cap;
    return 0;
}

int facts_push(fact_table *f, int64_t key, int64_t line, int64_t sign, const int64_t *values) {
    if (grow(f, f->n + 1)) return -1;
    f->key[f->n] = key;
    f->line[f->n] = line;
    f->sign[f->n] = sign;
    for (size_t c = 0; c < f->ncols; c++) f->col[c][f->n] = values[c];
    f->n++;
    return 0;
}

int facts_shuffle(fact_table *f, MPI_Comm comm) {
    int nranks;
    MPI_Comm_size(comm, &nranks);
    size_t width = 3 + f->ncols;
    shuffle sh;
    int failed = shuffle_init(&sh, nranks, width * sizeof(int64_t)) != 0;
    int64_t *rec = malloc(width * sizeof *rec);
    failed |= rec == NULL;
    for (size_t i = 0; !failed && i < f->n; i++) {
        rec[0] = f->key[i], rec[1] = f->line[i], rec[2] = f->sign[i];
        for (size_t c = 0; c < f->ncols; c++) rec[3 + c] = f->col[c][i];
        failed = shuffle_push(&sh, key_owner(f->key[i], nranks), rec) != 0;
    }
    free(rec);
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm);
    void *got = NULL;
    size_t ngot = 0;
    int rc = failed ? -1 : shuffle_exchange(&sh, comm, &got, &ngot);
    shuffle_free(&sh);
    if (rc == 0) {
        f->n = 0;
        rc = grow(f, ngot);
        const int64_t *r = got;
        for (size_t i = 0; rc == 0 && i < ngot; i++, r += width) {
            f->key[i] = r[0], f->line[i] = r[1], f->sign[i] = r[2];
            for (size_t c = 0; c < f->ncols; c++) f->col[c][i] = r[3 + c];
        }
        if (rc == 0) f->n = ngot;
    }
    free(got);
    MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, comm);
    return rc;
}

typedef struct {
    const fact_table *f;
} sort_ctx;

static int compare_rows(const void *a, const void *b, void *data) {
    const fact_table *f = data;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (f->key[x] != f->key[y]) return (f->key[x] > f->key[y]) - (f->key[x] < f->key[y]);
    if (f->line[x] != f->line[y]) return (f->line[x] > f->line[y]) - (f->line[x] < f->line[y]);
    return (f->sign[x] > f->sign[y]) - (f->sign[x] < f->sign[y]);
}

/* Reorders one column by the permutation. */
static void permute(int64_t *v, const size_t *perm, size_t n, int64_t *tmp) {
    for (size_t i = 0; i < n; i++) tmp[i] = v[perm[i]];
    memcpy(v, tmp, n * sizeof *v);
}

int facts_sort_and_cancel(fact_table *f) {
    if (f->n == 0) return 0;
    size_t *perm = malloc(f->n * sizeof *perm);
    int64_t *tmp = malloc(f->n * sizeof *tmp);
    if (!perm || !tmp) {
        free(perm), free(tmp);
        return -1;
    }
    for (size_t i = 0; i < f->n; i++) perm[i] = i;
    qsort_r(perm, f->n, sizeof *perm, compare_rows, f);
    permute(f->key, perm, f->n, tmp), permute(f->line, perm, f->n, tmp), permute(f->sign, perm, f->n, tmp);
    for (size_t c = 0; c < f->ncols; c++) permute(f->col[c], perm, f->n, tmp);
    /* a withdrawn row (−1) sorts just before its original (+1), same key and line */
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
    free(perm), free(tmp);
    return 0;
}
