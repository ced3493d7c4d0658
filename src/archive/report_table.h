/* report_table.h — one computed report for one period, as it is archived,
 * exported and published: dense rows (territory object × dimension values
 * with `_T` totals), exact integer measures. Owns the rows and metadata.
 * The engine builds it; archive/ writes and reads it (HDF5) and renders its
 * CSV form (reports.md "CSV form of a report").
 *
 * Measures are int64 in fixed units, never floating point:
 *   MEASURE_COUNT    plain integer                     CSV `123`
 *   MEASURE_MONEY    tiyn                              CSV `123.45`
 *   MEASURE_DECIMAL1 tenths (a ratio rounded to 0.1)   CSV `12.3`
 * An empty value (a ratio with a zero denominator, a median of nothing) is
 * MEASURE_EMPTY and is written as an empty CSV field. A suppressed value
 * (published bundles only) is MEASURE_SUPPRESSED, written `x`. */
#ifndef ESEP_REPORT_TABLE_H
#define ESEP_REPORT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/measure.h" /* measure_format, MEASURE_EMPTY/SUPPRESSED, REPORT_MAX_DIMS/MEASURES */

#define REPORT_MAX_EXTRACTS 32

typedef struct {
    char name[48];
    char label_kk[REPORT_LABEL_CAP], label_ru[REPORT_LABEL_CAP]; /* "" when the job gives none */
    size_t nvalues;            /* including the final "_T" */
    char (*values)[32];        /* values in CSV sort order (bytes), "_T" last */
    uint8_t listed[256];       /* listed[v]: position of values[v] in the
                                  order the report lists them ("_T" last);
                                  what forms show; rows stay in CSV order */
} report_dimension;

/* A territory object of the table with its names as of the period's last
 * day (the snapshot's kato extract; the republic has fixed names). */
typedef struct {
    int32_t kato;
    int8_t level;
    char name_kk[REPORT_NAME_CAP], name_ru[REPORT_NAME_CAP];
} report_territory;

typedef struct {
    char name[48];
    char label_kk[REPORT_LABEL_CAP], label_ru[REPORT_LABEL_CAP]; /* "" when the job gives none */
    measure_format format;
    int person_count;          /* a person/household count (disclosure) */
    int nfollows;              /* measures it is derived from (disclosure) */
    int follows[REPORT_MAX_MEASURES];
} report_measure;

/* What the archive records about each input extract. */
typedef struct {
    char name[48];
    char sha256[65];           /* hex digest of the file as read */
    char file[128];            /* file name within the snapshot */
    int64_t read, accepted, rejected;
} report_input;

typedef struct {
    char id[16];               /* "SOC-01" */
    char period[8];            /* "2025-03", "2025-Q1", "2025" */
    char title_kk[256], title_ru[256];
    int methodology_version;
    char snapshot_date[9];     /* YYYYMMDD */
    char tool_version[32];
    char addressee[256];       /* the report's addressee (job file) */
    char deadline[11];         /* YYYY-MM-DD: E + the report's deadline days */
    char boundaries[11];       /* "" as of E; YYYY-MM-DD: restated on the
                                  territory of that day (reports.md
                                  "Reprocessing history") */
    char classifier_snapshot[9]; /* restated: the snapshot whose kato gave it */
    size_t nterritories;       /* the objects of the rows, by code */
    report_territory *territories;
    size_t ninputs;
    report_input inputs[REPORT_MAX_EXTRACTS];
    size_t ndims;
    report_dimension dims[REPORT_MAX_DIMS];
    size_t nmeasures;
    report_measure measures[REPORT_MAX_MEASURES];
    size_t nrows;
    int32_t *kato;             /* [nrows] 9-digit code, republic = 0 */
    int8_t *level;             /* [nrows] 0..3 */
    uint8_t *dim_value[REPORT_MAX_DIMS];  /* [nrows] index into dims[d].values */
    int64_t *value[REPORT_MAX_MEASURES];  /* [nrows] per measure */
} report_table;

/* Allocates the row arrays for nrows rows (dims and measures must be set
 * first). Returns 0, or -1 out of memory. */
int report_table_alloc_rows(report_table *t, size_t nrows);

/* The territory entry of kato, or NULL when the table has none (binary
 * search; territories are sorted by code). Cannot fail. */
const report_territory *report_table_territory(const report_table *t, int32_t kato);

/* Every input extract any of the n tables used, once each, in first-seen
 * order, into seen[cap] (pointers into the tables); returns the count (at
 * most cap). Cannot fail. */
size_t report_tables_inputs(const report_table *const *tables, size_t n, const report_input **seen, size_t cap);

/* Frees rows, dimension value lists and territories; the struct may be
 * reused. */
void report_table_free(report_table *t);

/* Writes the CSV form to out: header `kato,level,<dims>,<measures>`, rows
 * in table order (the builder sorts them), `\n` line ends, kato as 9
 * digits. Returns 0, or -1 on a write error or a dimension index outside
 * its value list. */
int report_table_write_csv(const report_table *t, void *out_file /* FILE* */);

/* The columns of the CSV form, cell by cell, for writers that print the
 * same values in another frame (`esep series`). Column c of a table is
 * 0 kato, 1 level, 2 .. 1+ndims the dimensions, then the measures. */
#define REPORT_CELL_CAP 32 /* the longest cell text written into a buffer, NUL included */

/* 2 + ndims + nmeasures. Cannot fail. */
size_t report_table_ncolumns(const report_table *t);

/* The header name of column c ("kato", "level", a dimension or measure
 * name, pointing into t), or NULL when c is out of range. */
const char *report_table_column_name(const report_table *t, size_t c);

/* The text of cell (row r, column c) exactly as the CSV form prints it,
 * before CSV quoting: kato as 9 digits, level, the dimension value,
 * measures rendered from exact integers (count `123`, money `123.45`,
 * decimal1 `12.3`, MEASURE_EMPTY "", MEASURE_SUPPRESSED `x`). Returns buf
 * or a pointer into t's dimension values (valid while t is); NULL when r
 * or c is out of range or a dimension index is outside its value list. */
const char *report_table_cell(const report_table *t, size_t r, size_t c, char buf[REPORT_CELL_CAP]);

/* Writes s to out (a FILE*) as one CSV field: as it is, or quoted (RFC
 * 4180) when it holds a separator, a quote or a line end. Returns 0, or
 * -1 when out has a write error. */
int report_csv_write_field(void *out_file /* FILE* */, const char *s);

#endif
