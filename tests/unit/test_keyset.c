/* Key sets (src/base/keyset.h): sealing sorts and removes duplicates, the
 * result does not depend on insertion order, membership at the extremes of
 * int64, sort_int64 against qsort on random data, and the lookups of
 * small (hashed) and large (range table) sets against bsearch. */
#include <stdlib.h>

#include "base/keyset.h"
#include "test.h"

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void suite_keyset(void) {
    TEST_CASE("keyset: duplicates removed, order of insertion irrelevant") {
        keyset a = {0}, b = {0};
        const int64_t in[] = {5, -3, 800101300016LL, 5, INT64_MIN, INT64_MAX, -3, 0};
        for (size_t i = 0; i < 8; i++) EXPECT_EQ_INT(keyset_add(&a, in[i]), 0);
        for (size_t i = 8; i-- > 0;) EXPECT_EQ_INT(keyset_add(&b, in[i]), 0);
        keyset_seal(&a), keyset_seal(&b);
        EXPECT_EQ_INT(a.count, 6); /* 5, -3, the IIN, MIN, MAX, 0 */
        EXPECT(a.count == b.count && memcmp(a.keys, b.keys, a.count * sizeof *a.keys) == 0);
        const int64_t want[] = {INT64_MIN, -3, 0, 5, 800101300016LL, INT64_MAX};
        EXPECT(memcmp(a.keys, want, sizeof want) == 0);
        for (size_t i = 0; i < 6; i++) EXPECT(keyset_contains(&a, want[i]));
        EXPECT(!keyset_contains(&a, 4) && !keyset_contains(&a, INT64_MIN + 1) && !keyset_contains(&a, 1));
        keyset_free(&a), keyset_free(&b);
    }
    TEST_CASE("keyset: an empty set contains nothing") {
        keyset e = {0};
        keyset_seal(&e);
        EXPECT(!keyset_contains(&e, 0));
        keyset_free(&e);
    }
    TEST_CASE("keyset: sort_int64 agrees with qsort on 100 000 random keys") {
        size_t n = 100000;
        int64_t *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
        uint64_t s = 88172645463325252ULL;
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            v[i] = w[i] = (int64_t)s >> (i % 3 ? 0 : 40); /* wide and narrow, negative too */
        }
        sort_int64(v, n);
        qsort(w, n, sizeof *w, cmp64);
        EXPECT(memcmp(v, w, n * sizeof *v) == 0);
        free(v), free(w);
    }
    TEST_CASE("keyset: hashed and searched lookups agree with bsearch of the keys") {
        const size_t sizes[] = {1, 7, 6372, KEYSET_INDEX_MAX, KEYSET_INDEX_MAX + 1};
        uint64_t s = 0x2545F4914F6CDD1DULL;
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            keyset a = {0};
            for (size_t i = 0; i < sizes[k]; i++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                keyset_add(&a, 100000000 + (int64_t)(s % 900000000)); /* KATO-like */
            }
            keyset_seal(&a);
            EXPECT((a.index != NULL) == (a.count <= KEYSET_INDEX_MAX));
            for (size_t i = 0; i < 200000; i++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                int64_t probe = i % 2 ? a.keys[s % a.count] : 100000000 + (int64_t)(s % 900000000);
                int want = bsearch(&probe, a.keys, a.count, sizeof *a.keys, cmp64) != NULL;
                if (keyset_contains(&a, probe) != want) {
                    test_fail(__FILE__, __LINE__, "size %zu: key %lld", sizes[k], (long long)probe);
                    break;
                }
            }
            EXPECT_EQ_INT(keyset_add(&a, 5), 0); /* an added key drops the index until sealed */
            EXPECT(a.index == NULL);
            keyset_seal(&a);
            EXPECT(keyset_contains(&a, 5));
            keyset_free(&a);
        }
    }
    TEST_CASE("keyset: a large set's range table agrees with bsearch (IIN-like clusters, int64 extremes)") {
        const int shapes = 3;
        uint64_t s = 0x9E3779B97F4A7C15ULL;
        for (int shape = 0; shape < shapes; shape++) {
            keyset a = {0};
            for (size_t i = 0; i < 300000; i++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                int64_t yymmdd = (int64_t)(s % 100) * 10000 + (int64_t)(1 + s / 100 % 12) * 100 + (int64_t)(1 + s / 1200 % 28);
                int64_t iin = yymmdd * 1000000 + (int64_t)(s >> 40) % 1000000;
                keyset_add(&a, shape == 0 ? iin : shape == 1 ? iin - 400000000000LL : (int64_t)s);
            }
            if (shape == 2) keyset_add(&a, INT64_MIN), keyset_add(&a, INT64_MAX);
            keyset_seal(&a);
            EXPECT(a.range != NULL && a.index == NULL);
            size_t order = 1; /* sealed by the radix sort: strictly rising */
            while (order < a.count && a.keys[order - 1] < a.keys[order]) order++;
            EXPECT(order == a.count);
            for (size_t i = 0; i < 400000; i++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                size_t at = s % a.count;
                int64_t probe = i % 4 == 0 ? a.keys[at] : i % 4 == 1 ? a.keys[at] + 1
                              : i % 4 == 2 ? a.keys[at] - 1 : (int64_t)s;
                int want = bsearch(&probe, a.keys, a.count, sizeof *a.keys, cmp64) != NULL;
                if (keyset_contains(&a, probe) != want) {
                    test_fail(__FILE__, __LINE__, "shape %d: key %lld", shape, (long long)probe);
                    break;
                }
            }
            EXPECT(keyset_contains(&a, a.keys[0]) && keyset_contains(&a, a.keys[a.count - 1]));
            keyset_free(&a);
        }
    }
}
