/* keyset.h — a set of int64 keys (IINs, ids, KATO codes) as a sorted array:
 * built once, then only searched. Compact (8 bytes a key) and its contents
 * are independent of insertion order, which keeps results deterministic.
 * A small set (KATO codes, looked up on every row of most extracts) also
 * gets a hash index when sealed, so a lookup is O(1) rather than a binary
 * search; a large one (IINs) keeps its 8 bytes a key and gets a table of
 * where each range of key values starts (half a byte a key), so a lookup
 * searches a few neighbours instead of halving 20 M keys with a cache
 * miss at every step. */
#ifndef ESEP_KEYSET_H
#define ESEP_KEYSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t *keys;
    size_t count, capacity;
    int sorted;
    int64_t *index;           /* open addressing, KEYSET_EMPTY = free slot;
                                 NULL when the set is large or not sealed */
    size_t index_mask;
    int empty_in_set;         /* KEYSET_EMPTY is itself a key */
    uint32_t *range;          /* a large sealed set: range[b] is the first
                                 key with (key - keys[0]) >> range_shift
                                 >= b, range_buckets + 1 entries; NULL
                                 when small, unsealed or out of memory */
    size_t range_buckets;
    int range_shift;
} keyset;

#define KEYSET_INDEX_MAX 65536 /* sets up to this many keys get an index */

/* Appends a key (duplicates allowed until keyset_seal). 0, or -1 out of
 * memory. */
int keyset_add(keyset *s, int64_t key);

/* Takes ownership of keys (malloc'd, n of them, any order, duplicates
 * allowed) as the set's contents, or adds them to a set that has some,
 * then seals. 0, or -1 out of memory (keys freed either way). */
int keyset_adopt(keyset *s, int64_t *keys, size_t n);

/* Sorts and removes duplicates, and indexes a small set; must precede
 * keyset_contains. Cannot fail (without memory for the index, lookups
 * stay binary searches). */
void keyset_seal(keyset *s);

/* True when key is in the sealed set. Cannot fail. */
int keyset_contains(const keyset *s, int64_t key);

/* Frees the keys; the struct may be reused after. */
void keyset_free(keyset *s);

/* Sort helper shared by modules that sort int64 arrays: insertion for a
 * few, radix for many (qsort when the radix buffer cannot be had).
 * Cannot fail. */
void sort_int64(int64_t *v, size_t n);

#endif
