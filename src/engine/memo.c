/* memo.c — see memo.h. */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

int memo_init(memo *m, size_t nids) {
    memset(m, 0, sizeof *m);
    m->vec = calloc(nids + 1, sizeof *m->vec);
    m->cap = calloc(nids + 1, sizeof *m->cap);
    m->batch = calloc(nids + 1, sizeof *m->batch);
    m->nids = nids;
    m->now = 1;
    return m->vec && m->cap && m->batch ? 0 : -1;
}

void memo_free(memo *m) {
    for (size_t i = 0; m->vec && i < m->nids; i++) free(m->vec[i]);
    free(m->vec), free(m->cap), free(m->batch);
    memset(m, 0, sizeof *m);
}

void memo_next_batch(memo *m) { m->now++; }

const int64_t *memo_get(const memo *m, int id) {
    return id >= 0 && (size_t)id < m->nids && m->batch[id] == m->now ? m->vec[id] : NULL;
}

int64_t *memo_put(memo *m, int id, size_t n) {
    if (id < 0 || (size_t)id >= m->nids) return NULL;
    if (m->cap[id] < n || !m->vec[id]) {
        int64_t *grown = realloc(m->vec[id], (n ? n : 1) * sizeof *grown);
        if (!grown) return NULL;
        m->vec[id] = grown;
        m->cap[id] = n ? n : 1;
    }
    m->batch[id] = m->now;
    return m->vec[id];
}
