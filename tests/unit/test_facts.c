/* Fact tables (src/engine/facts.h): facts_sort_and_cancel orders rows by
 * (key, line) and cancels each withdrawn row with its original, whether the
 * rows come as a few ascending runs (what a shuffle delivers: the rows a
 * rank kept, then each other rank's, each part in order — merged) or in
 * no order at all (radix sorted); both checked against the rows expected
 * to survive, sorted here by qsort. */
#include <stdlib.h>

#include "engine/facts.h"
#include "test.h"

typedef struct {
    int64_t key, line, value;
} row;

static int cmp_row(const void *a, const void *b) {
    const row *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static uint64_t next(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* n rows with keys among few values (and the extremes of int64), line i,
 * value = line * 7; every 11th row is also withdrawn (a −1 twin). The rows
 * and twins go into `runs` groups, each sorted by (key, line, sign), which
 * are then concatenated — or, when runs is 0, into one random order.
 * *want: the rows that survive (no twin), sorted by qsort. */
static void make_rows(fact_table *f, size_t n, size_t runs, uint64_t seed, row *want, size_t *nwant) {
    size_t total = n + n / 11 + 1, m = 0;
    row *all = malloc(total * sizeof *all);
    int8_t *sign = malloc(total);
    size_t *group = malloc(total * sizeof *group);
    *nwant = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next(&seed);
        int64_t key = r % 97 == 0 ? INT64_MIN : r % 89 == 0 ? INT64_MAX : (int64_t)(r % 301) - 150;
        all[m] = (row){key, (int64_t)i + 1, (int64_t)(i + 1) * 7}, sign[m] = 1, group[m++] = runs ? next(&seed) % runs : 0;
        if (i % 11 == 0) all[m] = all[m - 1], sign[m] = -1, group[m++] = runs ? next(&seed) % runs : 0;
        else want[(*nwant)++] = all[m - 1];
    }
    qsort(want, *nwant, sizeof *want, cmp_row);
    /* order of pushing: by group, then (key, line, withdrawn first) within
     * it; with no groups, a shuffle of the rows */
    size_t *order = malloc(m * sizeof *order);
    for (size_t i = 0; i < m; i++) order[i] = i;
    if (runs == 0) {
        for (size_t i = m; i > 1; i--) {
            size_t j = next(&seed) % i, t = order[i - 1];
            order[i - 1] = order[j], order[j] = t;
        }
    } else {
        for (size_t i = 1; i < m; i++) { /* insertion sort: small inputs */
            size_t x = order[i], j = i;
            for (; j > 0; j--) {
                size_t y = order[j - 1];
                int c = group[y] != group[x] ? (group[y] > group[x] ? 1 : -1) : cmp_row(&all[y], &all[x]);
                if (c == 0) c = sign[y] > sign[x] ? 1 : -1;
                if (c < 0) break;
                order[j] = y;
            }
            order[j] = x;
        }
    }
    for (size_t i = 0; i < m; i++) {
        const row *r = &all[order[i]];
        facts_push(f, r->key, r->line, sign[order[i]], &r->value);
    }
    free(all), free(sign), free(group), free(order);
}

static void check_sorted(size_t n, size_t runs, uint64_t seed) {
    fact_table f;
    row *want = malloc(n * sizeof *want);
    size_t nwant;
    EXPECT_EQ_INT(facts_init(&f, 1), 0);
    make_rows(&f, n, runs, seed, want, &nwant);
    EXPECT_EQ_INT(facts_sort_and_cancel(&f), 0);
    EXPECT_EQ_INT(f.n, nwant);
    size_t bad = 0;
    for (size_t i = 0; i < f.n && i < nwant; i++)
        bad += f.key[i] != want[i].key || f.line[i] != want[i].line || f.col[0][i] != want[i].value || f.sign[i] != 1;
    EXPECT_EQ_INT(bad, 0);
    facts_free(&f);
    free(want);
}

void suite_facts(void) {
    TEST_CASE("facts: two ascending runs (kept rows, then another rank's) merge into (key, line) order, withdrawn rows cancel") {
        check_sorted(5000, 2, 88172645463325252ULL);
    }
    TEST_CASE("facts: sixteen ascending runs merge like a sort") {
        check_sorted(20000, 16, 1234567ULL);
    }
    TEST_CASE("facts: seventeen runs and rows in no order are sorted, with the same result") {
        check_sorted(20000, 17, 1234567ULL);
        check_sorted(20000, 0, 99ULL);
    }
    TEST_CASE("facts: rows in order already stay, withdrawn ones cancel") {
        check_sorted(3000, 1, 5ULL);
    }
}
