/* territory.c — see territory.h. Resolution is computed once per classifier
 * row at build time; locating a row's code is then a binary search. */
#include "territory.h"

#include <stdlib.h>
#include <string.h>

#define SUCCESSOR_CHAIN_MAX 64 /* a longer chain is a cycle or data error */

int territory_add_row(territory *t, const kato_row *row, int sign) {
    free(t->slot); /* rows change: the hash is rebuilt with the objects */
    t->slot = NULL;
    if (sign < 0) {
        for (size_t i = 0; i < t->nrows; i++)
            if (t->rows[i].line == row->line) {
                t->rows[i] = t->rows[--t->nrows];
                return 0;
            }
        return 0;
    }
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        kato_row *grown = realloc(t->rows, cap * sizeof *grown);
        if (!grown) return -1;
        t->rows = grown;
        t->cap = cap;
    }
    t->rows[t->nrows++] = *row;
    return 0;
}

static int compare_rows(const void *a, const void *b) {
    int32_t x = ((const kato_row *)a)->code, y = ((const kato_row *)b)->code;
    return (x > y) - (x < y);
}

static size_t slot_of(int32_t code, size_t mask) { return (size_t)(((uint32_t)code * 2654435761u) >> 7) & mask; }

/* The row of code after territory_build (the hash), else binary search
 * over the sorted rows (while building). */
static long find_row(const territory *t, int32_t code) {
    if (t->slot) {
        for (size_t s = slot_of(code, t->slot_mask);; s = (s + 1) & t->slot_mask)
            if (t->slot[s].row < 0 || t->slot[s].code == code) return t->slot[s].row;
    }
    size_t lo = 0, hi = t->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->rows[mid].code < code) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->nrows && t->rows[lo].code == code ? (long)lo : -1;
}

static int valid_at(const kato_row *r, int32_t day) {
    return r->valid_from <= day && (r->valid_to < 0 || day <= r->valid_to);
}

static long find_object(const territory *t, int32_t code, int level) {
    size_t lo = 0, hi = t->nobjects;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->object_code[mid] < code) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->nobjects && t->object_code[lo] == code && t->object_level[lo] == level ? (long)lo : -1;
}

/* The code valid at E along the successor chain of row i, or -1. */
static int32_t resolve(const territory *t, long i) {
    for (int step = 0; i >= 0 && step < SUCCESSOR_CHAIN_MAX; step++) {
        if (valid_at(&t->rows[i], t->end)) return t->rows[i].code;
        if (t->rows[i].successor < 0) return -1;
        i = find_row(t, t->rows[i].successor);
    }
    return -1;
}

/* The predecessor rule (reports.md "Reprocessing history"): a code not yet
 * valid at E counts under the one code valid at E that has it on its
 * successor chain. pred[i] becomes that code's row, -1 when no valid code
 * has row i on its chain, -2 when several do (then the row is rejected).
 * Each valid code's chain is walked once: O(rows × chain length). */
static void find_predecessors(const territory *t, long *pred) {
    for (size_t i = 0; i < t->nrows; i++) pred[i] = -1;
    for (size_t x = 0; x < t->nrows; x++) {
        if (!valid_at(&t->rows[x], t->end)) continue;
        long i = (long)x;
        for (int step = 0; step < SUCCESSOR_CHAIN_MAX && t->rows[i].successor >= 0; step++) {
            if ((i = find_row(t, t->rows[i].successor)) < 0) break;
            if (t->rows[i].valid_from <= t->end) continue; /* only codes not yet valid at E */
            if (pred[i] == -1) pred[i] = (long)x;
            else if (pred[i] != (long)x) pred[i] = -2;
        }
    }
}

/* Row i's code as of E: its own or its successor chain's (extracts.md),
 * else its unique predecessor's when it is not yet valid; -1 when none. */
static int32_t resolve_as_of(const territory *t, long i, const long *pred) {
    int32_t c = resolve(t, i);
    if (c < 0 && t->rows[i].valid_from > t->end && pred[i] >= 0) c = t->rows[pred[i]].code;
    return c;
}

static int build_objects(territory *t) {
    t->object_code = malloc((t->nrows + 1) * sizeof *t->object_code);
    t->object_level = malloc(t->nrows + 1);
    if (!t->object_code || !t->object_level) return -1;
    t->object_code[0] = 0;
    t->object_level[0] = 0;
    t->nobjects = 1;
    for (size_t i = 0; i < t->nrows; i++) /* rows are sorted, so objects are too */
        if (t->rows[i].level >= 1 && t->rows[i].level <= 3 && valid_at(&t->rows[i], t->end) && t->rows[i].code != 0) {
            t->object_code[t->nobjects] = t->rows[i].code;
            t->object_level[t->nobjects++] = (int8_t)t->rows[i].level;
        }
    return 0;
}

static int compare_tuples(const void *a, const void *b) {
    const int32_t *x = a, *y = b;
    for (int l = 0; l < 4; l++)
        if (x[l] != y[l]) return (x[l] > y[l]) - (x[l] < y[l]);
    return 0;
}

/* Places from the ancestors of the rows that resolve: the sorted distinct
 * tuples, and each row's index among them (binary search). */
static int build_places(territory *t) {
    t->place = malloc((t->nrows + 1) * sizeof *t->place);
    t->place_ancestors = malloc((t->nrows + 1) * sizeof *t->place_ancestors);
    if (!t->place || !t->place_ancestors) return -1;
    size_t n = 0;
    for (size_t i = 0; i < t->nrows; i++)
        if (t->resolved[i] >= 0) memcpy(t->place_ancestors[n++], t->ancestors[i], sizeof t->ancestors[i]);
    if (n) qsort(t->place_ancestors, n, sizeof *t->place_ancestors, compare_tuples);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || compare_tuples(t->place_ancestors[k - 1], t->place_ancestors[i]))
            memcpy(t->place_ancestors[k++], t->place_ancestors[i], sizeof t->place_ancestors[i]);
    t->nplaces = k;
    for (size_t i = 0; i < t->nrows; i++) {
        t->place[i] = -1;
        if (t->resolved[i] < 0) continue;
        size_t lo = 0, hi = k;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (compare_tuples(t->place_ancestors[mid], t->ancestors[i]) < 0) lo = mid + 1;
            else hi = mid;
        }
        t->place[i] = (int32_t)lo;
    }
    return 0;
}

/* The hash of codes: at least twice as many slots as rows; a code's slot
 * holds its first (lowest) row, as the binary search finds. */
static int build_slots(territory *t) {
    size_t nslots = 16;
    while (nslots < 2 * t->nrows + 2) nslots *= 2;
    territory_slot *slots = malloc(nslots * sizeof *slots);
    if (!slots) return -1;
    for (size_t s = 0; s < nslots; s++) slots[s].code = 0, slots[s].row = -1;
    for (size_t i = 0; i < t->nrows; i++) {
        size_t s = slot_of(t->rows[i].code, nslots - 1);
        while (slots[s].row >= 0 && slots[s].code != t->rows[i].code) s = (s + 1) & (nslots - 1);
        if (slots[s].row < 0) slots[s].code = t->rows[i].code, slots[s].row = (int32_t)i;
    }
    t->slot = slots;
    t->slot_mask = nslots - 1;
    return 0;
}

int territory_build(territory *t, int32_t end) {
    static const int32_t unit[4] = {0, 10000000, 100000, 1000};
    t->end = end;
    if (t->nrows) qsort(t->rows, t->nrows, sizeof *t->rows, compare_rows);
    free(t->object_code), free(t->object_level), free(t->ancestors), free(t->resolved);
    free(t->place), free(t->place_ancestors), free(t->slot);
    t->place = NULL, t->place_ancestors = NULL, t->nplaces = 0, t->slot = NULL;
    t->ancestors = malloc((t->nrows + 1) * sizeof *t->ancestors);
    t->resolved = malloc((t->nrows + 1) * sizeof *t->resolved);
    long *pred = malloc((t->nrows + 1) * sizeof *pred);
    if (!pred || !t->ancestors || !t->resolved || build_objects(t)) {
        free(pred);
        return -1;
    }
    find_predecessors(t, pred);
    for (size_t i = 0; i < t->nrows; i++) {
        int32_t c = t->resolved[i] = resolve_as_of(t, (long)i, pred);
        for (int l = 0; l < 4; l++) t->ancestors[i][l] = -1;
        if (c < 0) continue;
        t->ancestors[i][0] = 0;
        int32_t previous = -1;
        for (int l = 1; l < 4; l++) {
            int32_t prefix = c / unit[l] * unit[l];
            if (prefix != previous) t->ancestors[i][l] = (int32_t)find_object(t, prefix, l);
            previous = prefix;
        }
    }
    free(pred);
    return build_places(t) || build_slots(t) ? -1 : 0;
}

int territory_locate(const territory *t, int32_t code, int32_t anc[4]) {
    long i = find_row(t, code);
    if (i < 0 || t->resolved[i] < 0) return -1;
    memcpy(anc, t->ancestors[i], sizeof t->ancestors[i]);
    return 0;
}

int32_t territory_place(const territory *t, int32_t code) {
    long i = find_row(t, code);
    return i < 0 ? -1 : t->place[i];
}

const kato_row *territory_row(const territory *t, int32_t code) {
    long i = find_row(t, code);
    return i < 0 ? NULL : &t->rows[i];
}

void territory_free(territory *t) {
    free(t->rows), free(t->object_code), free(t->object_level), free(t->ancestors), free(t->resolved);
    free(t->place), free(t->place_ancestors), free(t->slot);
    memset(t, 0, sizeof *t);
}
