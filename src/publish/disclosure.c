/* disclosure.c — primary and secondary suppression and the follows relation
 * on a report table, and their verification (reports.md "Disclosure
 * control"; the readings are documented in disclosure.h).
 *
 * The table's rows are strictly ordered by (kato, dimension values as
 * bytes), and dimension value indexes are positions in byte order, so a
 * row is found by binary search on (kato, combo) where combo is the
 * mixed-radix number of its dimension indexes. From that, every row gets
 * the total row of each group it is a member of (its territory parent, and
 * per dimension its `_T` row); the groups are then inverted into member
 * lists (CSR, members in CSV order) indexed by total row. Everything is
 * iterated by row index, so results depend only on the table. */
#include "disclosure.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX
#define NKINDS (1 + REPORT_MAX_DIMS) /* kind 0 territory, kind 1 + d dimension d */

/* Groups of one table: the members of the kind-k group whose total is row
 * T are member[k][start[k][T] .. start[k][T + 1]), in CSV order. */
typedef struct {
    size_t nkinds;
    size_t *start[NKINDS];
    size_t *member[NKINDS];
} group_index;

/* Row lookup by (kato, combo). */
typedef struct {
    const report_table *t;
    uint64_t *combo;          /* [nrows] */
    uint64_t stride[REPORT_MAX_DIMS];
    size_t total_value[REPORT_MAX_DIMS]; /* index of "_T" in dims[d] */
} row_finder;

static void set_error(const report_table *t, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_error(const report_table *t, char *err, size_t errlen, const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (errlen) snprintf(err, errlen, "disclosure: %s %s: %s", t->id, t->period, text);
}

/* Writes "kato 611000000 program=ASP" for row r into out. */
static void describe_row(const report_table *t, size_t r, char *out, size_t outlen) {
    size_t n = (size_t)snprintf(out, outlen, "%09ld", (long)t->kato[r]);
    for (size_t d = 0; d < t->ndims && n < outlen; d++)
        n += (size_t)snprintf(out + n, outlen - n, " %s=%s", t->dims[d].name,
                              t->dims[d].values[t->dim_value[d][r]]);
}

/* ---- validation and row lookup ------------------------------------------------ */

static int check_shape(const report_table *t, row_finder *f, char *err, size_t errlen) {
    if (t->ndims > REPORT_MAX_DIMS || t->nmeasures > REPORT_MAX_MEASURES) {
        set_error(t, err, errlen, "inconsistent table: %zu dimensions, %zu measures", t->ndims, t->nmeasures);
        return -1;
    }
    uint64_t stride = 1;
    for (size_t d = t->ndims; d-- > 0;) {
        const report_dimension *dim = &t->dims[d];
        f->total_value[d] = NONE;
        for (size_t v = 0; v < dim->nvalues; v++)
            if (strcmp(dim->values[v], "_T") == 0) f->total_value[d] = v;
        if (dim->nvalues > 256 || f->total_value[d] == NONE) {
            set_error(t, err, errlen, "inconsistent table: dimension %s has no _T value", dim->name);
            return -1;
        }
        f->stride[d] = stride;
        stride *= dim->nvalues;
    }
    for (size_t m = 0; m < t->nmeasures; m++) {
        const report_measure *rm = &t->measures[m];
        int bad = rm->nfollows < 0 || rm->nfollows > REPORT_MAX_MEASURES;
        for (int i = 0; !bad && i < rm->nfollows; i++)
            bad = rm->follows[i] < 0 || (size_t)rm->follows[i] >= t->nmeasures || (size_t)rm->follows[i] == m;
        if (bad) {
            set_error(t, err, errlen, "inconsistent table: measure %s follows an unknown measure", rm->name);
            return -1;
        }
    }
    return 0;
}

static int compare_keys(int32_t ka, uint64_t ca, int32_t kb, uint64_t cb) {
    if (ka != kb) return ka < kb ? -1 : 1;
    return ca < cb ? -1 : ca > cb;
}

/* Computes every row's combo and checks levels, indexes and order. */
static int index_rows(const report_table *t, row_finder *f, char *err, size_t errlen) {
    for (size_t r = 0; r < t->nrows; r++) {
        uint64_t c = 0;
        for (size_t d = 0; d < t->ndims; d++) {
            if (t->dim_value[d][r] >= t->dims[d].nvalues) {
                set_error(t, err, errlen, "inconsistent table: row %zu: dimension %s index out of range", r,
                          t->dims[d].name);
                return -1;
            }
            c += t->dim_value[d][r] * f->stride[d];
        }
        f->combo[r] = c;
        if (t->level[r] < 0 || t->level[r] > 3) {
            set_error(t, err, errlen, "inconsistent table: row %zu: level %d", r, (int)t->level[r]);
            return -1;
        }
        if (r > 0 && compare_keys(t->kato[r - 1], f->combo[r - 1], t->kato[r], c) >= 0) {
            set_error(t, err, errlen, "inconsistent table: rows %zu and %zu not strictly in CSV order", r - 1, r);
            return -1;
        }
    }
    return 0;
}

static size_t find_row(const row_finder *f, int32_t kato, uint64_t combo) {
    size_t lo = 0, hi = f->t->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (compare_keys(f->t->kato[mid], f->combo[mid], kato, combo) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < f->t->nrows && f->t->kato[lo] == kato && f->combo[lo] == combo ? lo : NONE;
}

/* The row of r's nearest ancestor object in the table, same dimension
 * values; NONE when there is none. */
static size_t territory_parent(const row_finder *f, size_t r) {
    static const int32_t unit[4] = {0, 10000000, 100000, 1000};
    const report_table *t = f->t;
    for (int l = t->level[r] - 1; l >= 0; l--) {
        int32_t code = l == 0 ? 0 : t->kato[r] / unit[l] * unit[l];
        size_t p = find_row(f, code, f->combo[r]);
        if (p != NONE && t->level[p] == l) return p;
    }
    return NONE;
}

/* The `_T` row of dimension d for r's territory and other values; NONE
 * when r is itself that total. */
static size_t dimension_total(const row_finder *f, size_t d, size_t r) {
    size_t v = f->t->dim_value[d][r], tv = f->total_value[d];
    if (v == tv) return NONE;
    uint64_t combo = f->combo[r] - v * f->stride[d] + tv * f->stride[d];
    return find_row(f, f->t->kato[r], combo);
}

/* ---- group index ---------------------------------------------------------------- */

static void group_index_free(group_index *g) {
    for (size_t k = 0; k < NKINDS; k++) free(g->start[k]), free(g->member[k]);
    memset(g, 0, sizeof *g);
}

/* Inverts up[] (each row's total in kind k, or NONE) into member lists. */
static int invert_kind(group_index *g, size_t k, const size_t *up, size_t nrows) {
    size_t *start = g->start[k] = calloc(nrows + 2, sizeof *start);
    size_t *member = g->member[k] = malloc((nrows ? nrows : 1) * sizeof *member);
    if (!start || !member) return -1;
    for (size_t r = 0; r < nrows; r++)
        if (up[r] != NONE) start[up[r] + 2]++;
    for (size_t r = 0; r < nrows; r++) start[r + 2] += start[r + 1];
    for (size_t r = 0; r < nrows; r++) /* start[T + 1] is T's write position */
        if (up[r] != NONE) member[start[up[r] + 1]++] = r;
    return 0;
}

static int build_kinds(group_index *g, const row_finder *f, size_t *up) {
    const report_table *t = f->t;
    for (size_t k = 0; k < g->nkinds; k++) {
        for (size_t r = 0; r < t->nrows; r++)
            up[r] = k == 0 ? territory_parent(f, r) : dimension_total(f, k - 1, r);
        if (invert_kind(g, k, up, t->nrows) != 0) return -1;
    }
    return 0;
}

/* Validates t and builds its groups. 0, or -1 with err set (g then holds
 * nothing to free). */
static int group_index_build(group_index *g, const report_table *t, char *err, size_t errlen) {
    row_finder f = {.t = t};
    memset(g, 0, sizeof *g);
    g->nkinds = 1 + t->ndims;
    if (check_shape(t, &f, err, errlen) != 0) return -1;
    f.combo = malloc((t->nrows ? t->nrows : 1) * sizeof *f.combo);
    size_t *up = malloc((t->nrows ? t->nrows : 1) * sizeof *up);
    int rc = -1;
    if (!f.combo || !up) {
        set_error(t, err, errlen, "out of memory");
    } else if (index_rows(t, &f, err, errlen) == 0) {
        rc = build_kinds(g, &f, up);
        if (rc != 0) set_error(t, err, errlen, "out of memory");
    }
    free(f.combo), free(up);
    if (rc != 0) group_index_free(g);
    return rc;
}

static size_t group_size(const group_index *g, size_t k, size_t total) {
    return g->start[k][total + 1] - g->start[k][total];
}

static const size_t *group_members(const group_index *g, size_t k, size_t total) {
    return g->member[k] + g->start[k][total];
}

/* ---- apply ---------------------------------------------------------------------- */

/* A person count is a number ≥ 0 (or already suppressed). */
static int check_counts(const report_table *t, char *err, size_t errlen) {
    for (size_t m = 0; m < t->nmeasures; m++)
        for (size_t r = 0; t->measures[m].person_count && r < t->nrows; r++) {
            int64_t v = t->value[m][r];
            if (v >= 0 || v == MEASURE_SUPPRESSED) continue;
            char cell[160];
            describe_row(t, r, cell, sizeof cell);
            set_error(t, err, errlen, "inconsistent table: measure %s: person count at %s is %s",
                      t->measures[m].name, cell, v == MEASURE_EMPTY ? "empty" : "negative");
            return -1;
        }
    return 0;
}

static void primary(const report_table *t, size_t m) {
    for (size_t r = 0; r < t->nrows; r++)
        if (t->value[m][r] == 1 || t->value[m][r] == 2) t->value[m][r] = MEASURE_SUPPRESSED;
}

static size_t count_suppressed(const int64_t *v, const size_t *mem, size_t n, size_t *which) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (v[mem[i]] == MEASURE_SUPPRESSED) count++, *which = mem[i];
    return count;
}

/* One group of a person count: when its total is published and exactly one
 * member is suppressed, suppresses one more cell. Returns 1 if it did. */
static int settle_group(int64_t *v, size_t total, const size_t *mem, size_t n) {
    size_t lone = NONE, smallest = NONE, first_zero = NONE;
    if (v[total] == MEASURE_SUPPRESSED || count_suppressed(v, mem, n, &lone) != 1) return 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = mem[i];
        if (r == lone) continue;
        if (v[r] == 0) {
            if (first_zero == NONE) first_zero = r;
        } else if (smallest == NONE || v[r] < v[smallest]) {
            smallest = r;
        }
    }
    size_t pick = smallest != NONE ? smallest : first_zero != NONE ? first_zero : total;
    v[pick] = MEASURE_SUPPRESSED;
    return 1;
}

/* Passes over every group until one changes nothing. */
static void secondary(const report_table *t, const group_index *g, size_t m) {
    int changed;
    do {
        changed = 0;
        for (size_t total = 0; total < t->nrows; total++)
            for (size_t k = 0; k < g->nkinds; k++) {
                size_t n = group_size(g, k, total);
                if (n) changed |= settle_group(t->value[m], total, group_members(g, k, total), n);
            }
    } while (changed);
}

static int any_source_suppressed(const report_table *t, const report_measure *rm, size_t r) {
    for (int i = 0; i < rm->nfollows; i++)
        if (t->value[rm->follows[i]][r] == MEASURE_SUPPRESSED) return 1;
    return 0;
}

/* Applies follows until nothing changes (a chain settles in at most one
 * pass per measure). */
static void follow_sources(const report_table *t) {
    int changed;
    do {
        changed = 0;
        for (size_t m = 0; m < t->nmeasures; m++)
            for (size_t r = 0; r < t->nrows; r++)
                if (t->value[m][r] != MEASURE_SUPPRESSED && any_source_suppressed(t, &t->measures[m], r)) {
                    t->value[m][r] = MEASURE_SUPPRESSED;
                    changed = 1;
                }
    } while (changed);
}

int disclosure_apply(report_table *t, char *err, size_t errlen) {
    group_index g;
    if (group_index_build(&g, t, err, errlen) != 0) return -1;
    if (check_counts(t, err, errlen) != 0) {
        group_index_free(&g);
        return -1;
    }
    for (size_t m = 0; m < t->nmeasures; m++) {
        if (!t->measures[m].person_count) continue;
        primary(t, m);
        secondary(t, &g, m);
    }
    follow_sources(t);
    group_index_free(&g);
    return 0;
}

/* ---- check ---------------------------------------------------------------------- */

static int check_small_counts(const report_table *t, char *err, size_t errlen) {
    for (size_t m = 0; m < t->nmeasures; m++) {
        if (!t->measures[m].person_count) continue;
        for (size_t r = 0; r < t->nrows; r++) {
            if (t->value[m][r] != 1 && t->value[m][r] != 2) continue;
            char cell[160];
            describe_row(t, r, cell, sizeof cell);
            set_error(t, err, errlen, "measure %s: person count %lld published at %s", t->measures[m].name,
                      (long long)t->value[m][r], cell);
            return -1;
        }
    }
    return 0;
}

static int check_follows(const report_table *t, char *err, size_t errlen) {
    for (size_t m = 0; m < t->nmeasures; m++) {
        const report_measure *rm = &t->measures[m];
        for (size_t r = 0; r < t->nrows; r++)
            for (int i = 0; i < rm->nfollows && t->value[m][r] != MEASURE_SUPPRESSED; i++) {
                if (t->value[rm->follows[i]][r] != MEASURE_SUPPRESSED) continue;
                char cell[160];
                describe_row(t, r, cell, sizeof cell);
                set_error(t, err, errlen, "measure %s is published at %s where its source %s is suppressed",
                          rm->name, cell, t->measures[rm->follows[i]].name);
                return -1;
            }
    }
    return 0;
}

static void report_lone_member(const report_table *t, size_t m, size_t k, size_t total, size_t lone,
                               char *err, size_t errlen) {
    char whole[160], cell[160];
    describe_row(t, total, whole, sizeof whole);
    describe_row(t, lone, cell, sizeof cell);
    set_error(t, err, errlen, "measure %s: group %s%s of %s (total published) has exactly one suppressed member: %s",
              t->measures[m].name, k == 0 ? "children" : t->dims[k - 1].name, k == 0 ? "" : " values", whole,
              cell);
}

static int check_groups(const report_table *t, const group_index *g, char *err, size_t errlen) {
    for (size_t m = 0; m < t->nmeasures; m++)
        for (size_t total = 0; total < t->nrows; total++)
            for (size_t k = 0; k < g->nkinds; k++) {
                size_t lone = NONE, n = group_size(g, k, total);
                if (!n || t->value[m][total] == MEASURE_SUPPRESSED) continue;
                if (count_suppressed(t->value[m], group_members(g, k, total), n, &lone) != 1) continue;
                report_lone_member(t, m, k, total, lone, err, errlen);
                return -1;
            }
    return 0;
}

int disclosure_check(const report_table *t, char *err, size_t errlen) {
    group_index g;
    if (group_index_build(&g, t, err, errlen) != 0) return -1;
    int rc = check_small_counts(t, err, errlen) != 0 || check_follows(t, err, errlen) != 0 ||
                     check_groups(t, &g, err, errlen) != 0
                 ? -1
                 : 0;
    group_index_free(&g);
    return rc;
}
