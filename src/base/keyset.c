/* keyset.c — see keyset.h. */
#include "keyset.h"

#include <stdlib.h>

#define KEYSET_EMPTY INT64_MIN

static size_t slot_of(int64_t key, size_t mask) {
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return (size_t)(h >> 32 ^ h) & mask;
}

/* Builds the hash index of a small sealed set; leaves none when out of
 * memory (lookups then search the array). */
static void build_index(keyset *s) {
    free(s->index);
    s->index = NULL;
    s->empty_in_set = 0;
    if (s->count == 0 || s->count > KEYSET_INDEX_MAX) return;
    size_t slots = 16;
    while (slots < 2 * s->count) slots *= 2;
    int64_t *index = malloc(slots * sizeof *index);
    if (!index) return;
    for (size_t i = 0; i < slots; i++) index[i] = KEYSET_EMPTY;
    for (size_t i = 0; i < s->count; i++) {
        if (s->keys[i] == KEYSET_EMPTY) {
            s->empty_in_set = 1;
            continue;
        }
        size_t at = slot_of(s->keys[i], slots - 1);
        while (index[at] != KEYSET_EMPTY) at = (at + 1) & (slots - 1);
        index[at] = s->keys[i];
    }
    s->index = index;
    s->index_mask = slots - 1;
}

static int compare_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void sort_int64(int64_t *v, size_t n) {
    if (n > 24) {
        qsort(v, n, sizeof *v, compare_int64);
        return;
    }
    for (size_t i = 1; i < n; i++) { /* the usual case: a person's few cells */
        int64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

int keyset_add(keyset *s, int64_t key) {
    if (s->count == s->capacity) {
        size_t cap = s->capacity ? s->capacity * 2 : 1024;
        int64_t *grown = realloc(s->keys, cap * sizeof *grown);
        if (!grown) return -1;
        s->keys = grown;
        s->capacity = cap;
    }
    s->keys[s->count++] = key;
    s->sorted = 0;
    free(s->index); /* describes the sealed set only */
    s->index = NULL;
    return 0;
}

void keyset_seal(keyset *s) {
    size_t i = 1; /* keycheck adds keys in order: nothing to sort then */
    while (i < s->count && s->keys[i - 1] <= s->keys[i]) i++;
    if (i < s->count) sort_int64(s->keys, s->count);
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        if (n == 0 || s->keys[n - 1] != s->keys[i]) s->keys[n++] = s->keys[i];
    s->count = n;
    s->sorted = 1;
    build_index(s);
}

int keyset_contains(const keyset *s, int64_t key) {
    if (s->index) {
        if (key == KEYSET_EMPTY) return s->empty_in_set;
        for (size_t at = slot_of(key, s->index_mask);; at = (at + 1) & s->index_mask) {
            if (s->index[at] == key) return 1;
            if (s->index[at] == KEYSET_EMPTY) return 0;
        }
    }
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->keys[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->count && s->keys[lo] == key;
}

void keyset_free(keyset *s) {
    free(s->keys);
    free(s->index);
    s->keys = NULL;
    s->index = NULL;
    s->count = s->capacity = 0;
    s->sorted = 0;
}
