/* keyset.c — see keyset.h. */
#include "keyset.h"

#include <stdlib.h>
#include <string.h>

#define KEYSET_EMPTY INT64_MIN

static size_t slot_of(int64_t key, size_t mask) {
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return (size_t)(h >> 32 ^ h) & mask;
}

/* Builds the hash index of a small sealed set; leaves none when out of
 * memory (lookups then search the array). */
/* Builds the range table of a large sealed set: about 16 keys a bucket
 * when keys spread evenly (IINs cluster by birth date, so more in some);
 * none when out of memory (lookups then halve the whole array). */
static void build_range(keyset *s) {
    free(s->range);
    s->range = NULL;
    if (s->count <= KEYSET_INDEX_MAX || s->count >= UINT32_MAX) return;
    size_t buckets = 1;
    while (buckets < s->count / 16) buckets *= 2;
    uint64_t span = (uint64_t)s->keys[s->count - 1] - (uint64_t)s->keys[0];
    int shift = 0;
    while (shift < 63 && (span >> shift) >= buckets) shift++;
    buckets = (size_t)(span >> shift) + 1;
    uint32_t *range = malloc((buckets + 1) * sizeof *range);
    if (!range) return;
    size_t b = 0;
    for (size_t i = 0; i < s->count; i++) {
        size_t mine = (size_t)(((uint64_t)s->keys[i] - (uint64_t)s->keys[0]) >> shift);
        while (b <= mine) range[b++] = (uint32_t)i;
    }
    while (b <= buckets) range[b++] = (uint32_t)s->count;
    s->range = range;
    s->range_buckets = buckets;
    s->range_shift = shift;
}

static void build_index(keyset *s) {
    free(s->index);
    s->index = NULL;
    s->empty_in_set = 0;
    build_range(s);
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

/* LSD radix sort of v[0..n) by the bytes of (v[i] - base) below `bits`,
 * tmp as scratch; one read fills every byte's histogram, and a byte that
 * is the same in every key costs no pass. Returns where the result is. */
static int64_t *radix_low_bytes(int64_t *v, int64_t *tmp, size_t n, uint64_t base, int bits) {
    size_t count[8][256] = {{0}};
    int digits = (bits + 7) / 8;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (uint64_t)v[i] - base;
        for (int d = 0; d < digits; d++) count[d][(x >> (8 * d)) & 0xFF]++;
    }
    for (int d = 0; d < digits; d++) {
        size_t *c = count[d], sum = 0;
        int constant = 0;
        for (int b = 0; b < 256; b++) constant |= c[b] == n;
        if (constant) continue;
        for (int b = 0; b < 256; b++) {
            size_t here = c[b];
            c[b] = sum;
            sum += here;
        }
        for (size_t i = 0; i < n; i++) tmp[c[(((uint64_t)v[i] - base) >> (8 * d)) & 0xFF]++] = v[i];
        int64_t *t = v;
        v = tmp, tmp = t;
    }
    return v;
}

/* Sorts v (n keys, tmp as scratch) into v: one pass by the top byte of
 * the keys' span into 256 buckets, then each bucket by its low bytes.
 * For 20 M IINs a bucket is about 80 000 keys, which its passes keep in
 * the cache: two passes over main memory instead of one per byte. */
static void radix_int64(int64_t *v, int64_t *tmp, size_t n) {
    int64_t lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
    uint64_t base = (uint64_t)lo, span = (uint64_t)hi - base;
    if (span == 0) return;
    int bits = 64 - __builtin_clzll(span), shift = bits > 8 ? bits - 8 : 0;
    size_t start[257] = {0};
    for (size_t i = 0; i < n; i++) start[(((uint64_t)v[i] - base) >> shift) + 1]++;
    for (int b = 0; b < 256; b++) start[b + 1] += start[b];
    size_t at[256];
    memcpy(at, start, sizeof at);
    for (size_t i = 0; i < n; i++) tmp[at[((uint64_t)v[i] - base) >> shift]++] = v[i];
    for (int b = 0; b < 256; b++) {
        size_t first = start[b], m = start[b + 1] - first;
        int64_t *sorted = shift && m > 1 ? radix_low_bytes(tmp + first, v + first, m, base, shift) : tmp + first;
        if (sorted != v + first) memcpy(v + first, sorted, m * sizeof *v);
    }
}

void sort_int64(int64_t *v, size_t n) {
    if (n > 4096) { /* a national key set: radix, qsort only without memory */
        int64_t *tmp = malloc(n * sizeof *tmp);
        if (tmp) {
            radix_int64(v, tmp, n);
            free(tmp);
            return;
        }
    }
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
    free(s->index); /* describe the sealed set only */
    free(s->range);
    s->index = NULL;
    s->range = NULL;
    return 0;
}

int keyset_adopt(keyset *s, int64_t *keys, size_t n) {
    if (s->count > 0 || s->keys) {
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) rc = keyset_add(s, keys[i]);
        free(keys);
        if (rc == 0) keyset_seal(s);
        return rc;
    }
    s->keys = keys;
    s->count = s->capacity = n;
    keyset_seal(s);
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
    if (s->range) {
        if (key < s->keys[0] || key > s->keys[s->count - 1]) return 0;
        size_t b = (size_t)(((uint64_t)key - (uint64_t)s->keys[0]) >> s->range_shift);
        lo = s->range[b], hi = s->range[b + 1];
    }
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
    free(s->range);
    s->keys = NULL;
    s->index = NULL;
    s->range = NULL;
    s->count = s->capacity = 0;
    s->sorted = 0;
}
