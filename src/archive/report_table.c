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

int report_csv_write_field(void *out_file, const char *s) {
    FILE *out = out_file;
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, out);
        return ferror(out) ? -1 : 0;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
    return ferror(out) ? -1 : 0;
}

/* Formats tenths with exactly one decimal (`-0.5`) into out[32]. */
static void format_tenths(int64_t tenths, char out[REPORT_CELL_CAP]) {
    uint64_t mag = tenths < 0 ? (uint64_t)0 - (uint64_t)tenths : (uint64_t)tenths;
    snprintf(out, REPORT_CELL_CAP, "%s%llu.%llu", tenths < 0 ? "-" : "",
             (unsigned long long)(mag / 10), (unsigned long long)(mag % 10));
}

/* A measure value's text into buf (empty for MEASURE_EMPTY). */
static const char *format_value(measure_format format, int64_t v, char buf[REPORT_CELL_CAP]) {
    buf[0] = '\0';
    if (v == MEASURE_EMPTY) return buf;
    if (v == MEASURE_SUPPRESSED) return strcpy(buf, "x");
    switch (format) {
    case MEASURE_MONEY: number_format_money(v, buf); break;
    case MEASURE_DECIMAL1: format_tenths(v, buf); break;
    default: snprintf(buf, REPORT_CELL_CAP, "%lld", (long long)v); break;
    }
    return buf;
}

size_t report_table_ncolumns(const report_table *t) {
    return 2 + t->ndims + t->nmeasures;
}

const char *report_table_column_name(const report_table *t, size_t c) {
    if (c >= report_table_ncolumns(t)) return NULL;
    if (c < 2) return c == 0 ? "kato" : "level";
    return c < 2 + t->ndims ? t->dims[c - 2].name : t->measures[c - 2 - t->ndims].name;
}

const char *report_table_cell(const report_table *t, size_t r, size_t c, char buf[REPORT_CELL_CAP]) {
    if (r >= t->nrows || c >= report_table_ncolumns(t)) return NULL;
    if (c == 0) snprintf(buf, REPORT_CELL_CAP, "%09ld", (long)t->kato[r]);
    if (c == 1) snprintf(buf, REPORT_CELL_CAP, "%d", (int)t->level[r]);
    if (c < 2) return buf;
    if (c < 2 + t->ndims) {
        const report_dimension *dim = &t->dims[c - 2];
        size_t v = t->dim_value[c - 2][r];
        return v < dim->nvalues ? dim->values[v] : NULL;
    }
    size_t m = c - 2 - t->ndims;
    return format_value(t->measures[m].format, t->value[m][r], buf);
}

/* Writes the header line, or row `row`'s line; -1 on a write error or a
 * dimension index outside its value list. */
static int write_line(const report_table *t, size_t row, int header, FILE *out) {
    char buf[REPORT_CELL_CAP];
    for (size_t c = 0; c < report_table_ncolumns(t); c++) {
        const char *text = header ? report_table_column_name(t, c) : report_table_cell(t, row, c, buf);
        if (!text) return -1;
        if (c > 0) fputc(',', out);
        if (report_csv_write_field(out, text) != 0) return -1;
    }
    return fputc('\n', out) == EOF ? -1 : 0;
}

int report_table_write_csv(const report_table *t, void *out_file) {
    FILE *out = out_file;
    if (write_line(t, 0, 1, out) != 0) return -1;
    for (size_t r = 0; r < t->nrows; r++)
        if (write_line(t, r, 0, out) != 0) return -1;
    return fflush(out) != 0 || ferror(out) ? -1 : 0;
}
