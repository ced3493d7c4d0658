/* report_table.c — the report table's memory (row arrays, dimension value
 * lists) and its CSV form (reports.md "CSV form of a report"). Values are
 * rendered from exact integers only: the text of a report must be the same
 * on every machine and for every rank count. */
#include "report_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/number.h"

/* calloc that never asks for zero bytes, so an empty table still gets
 * distinct non-NULL arrays. */
static void *alloc_zeroed(size_t n, size_t size) {
    return calloc(n ? n : 1, size);
}

int report_table_alloc_rows(report_table *t, size_t nrows) {
    t->nrows = nrows;
    t->kato = alloc_zeroed(nrows, sizeof *t->kato);
    t->level = alloc_zeroed(nrows, sizeof *t->level);
    int failed = !t->kato || !t->level;
    for (size_t d = 0; d < t->ndims; d++)
        failed |= !(t->dim_value[d] = alloc_zeroed(nrows, sizeof *t->dim_value[d]));
    for (size_t m = 0; m < t->nmeasures; m++)
        failed |= !(t->value[m] = alloc_zeroed(nrows, sizeof *t->value[m]));
    if (!failed) return 0;
    /* Release only the rows: the dimension value lists stay the caller's. */
    for (size_t d = 0; d < REPORT_MAX_DIMS; d++) free(t->dim_value[d]), t->dim_value[d] = NULL;
    for (size_t m = 0; m < REPORT_MAX_MEASURES; m++) free(t->value[m]), t->value[m] = NULL;
    free(t->kato), t->kato = NULL;
    free(t->level), t->level = NULL;
    t->nrows = 0;
    return -1;
}

void report_table_free(report_table *t) {
    for (size_t d = 0; d < REPORT_MAX_DIMS; d++) {
        free(t->dims[d].values);
        t->dims[d].values = NULL;
        t->dims[d].nvalues = 0;
        free(t->dim_value[d]);
        t->dim_value[d] = NULL;
    }
    for (size_t m = 0; m < REPORT_MAX_MEASURES; m++) free(t->value[m]), t->value[m] = NULL;
    free(t->kato), t->kato = NULL;
    free(t->level), t->level = NULL;
    t->nrows = 0;
    free(t->territories), t->territories = NULL;
    t->nterritories = 0;
}

size_t report_tables_inputs(const report_table *const *tables, size_t n, const report_input **seen, size_t cap) {
    size_t count = 0;
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < tables[t]->ninputs; i++) {
            const report_input *in = &tables[t]->inputs[i];
            int dup = 0;
            for (size_t k = 0; k < count; k++) dup |= !strcmp(seen[k]->name, in->name);
            if (!dup && count < cap) seen[count++] = in;
        }
    return count;
}

const report_territory *report_table_territory(const report_table *t, int32_t kato) {
    size_t lo = 0, hi = t->nterritories;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->territories[mid].kato < kato) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->nterritories && t->territories[lo].kato == kato ? &t->territories[lo] : NULL;
}

/* Writes a name or dimension value, quoted (RFC 4180) only if it holds a
 * separator, a quote or a line end — the report definitions never do. */
static void write_text(FILE *out, const char *s) {
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* Formats tenths with exactly one decimal (`-0.5`) into out[32]. */
static void format_tenths(int64_t tenths, char out[32]) {
    uint64_t mag = tenths < 0 ? (uint64_t)0 - (uint64_t)tenths : (uint64_t)tenths;
    snprintf(out, 32, "%s%llu.%llu", tenths < 0 ? "-" : "",
             (unsigned long long)(mag / 10), (unsigned long long)(mag % 10));
}

static void write_value(FILE *out, measure_format format, int64_t v) {
    char buf[32];
    if (v == MEASURE_EMPTY) return;
    if (v == MEASURE_SUPPRESSED) {
        fputc('x', out);
        return;
    }
    switch (format) {
    case MEASURE_MONEY: number_format_money(v, buf); break;
    case MEASURE_DECIMAL1: format_tenths(v, buf); break;
    default: snprintf(buf, sizeof buf, "%lld", (long long)v); break;
    }
    fputs(buf, out);
}

static void write_header(const report_table *t, FILE *out) {
    fputs("kato,level", out);
    for (size_t d = 0; d < t->ndims; d++) fputc(',', out), write_text(out, t->dims[d].name);
    for (size_t m = 0; m < t->nmeasures; m++) fputc(',', out), write_text(out, t->measures[m].name);
    fputc('\n', out);
}

/* Writes row r; -1 if a dimension index is outside its value list. */
static int write_row(const report_table *t, size_t r, FILE *out) {
    fprintf(out, "%09ld,%d", (long)t->kato[r], (int)t->level[r]);
    for (size_t d = 0; d < t->ndims; d++) {
        size_t v = t->dim_value[d][r];
        if (v >= t->dims[d].nvalues) return -1;
        fputc(',', out);
        write_text(out, t->dims[d].values[v]);
    }
    for (size_t m = 0; m < t->nmeasures; m++) {
        fputc(',', out);
        write_value(out, t->measures[m].format, t->value[m][r]);
    }
    fputc('\n', out);
    return 0;
}

int report_table_write_csv(const report_table *t, void *out_file) {
    FILE *out = out_file;
    write_header(t, out);
    for (size_t r = 0; r < t->nrows && !ferror(out); r++)
        if (write_row(t, r, out) != 0) return -1;
    return fflush(out) != 0 || ferror(out) ? -1 : 0;
}
