/* xlsx_form.h — a report of a bundle as the form an akimat office worker
 * opens in Excel or LibreOffice (outputs.md "What akimat staff open"):
 * `xlsx/<ID>.xlsx`, rendered from the bundle's published cut of the table
 * (disclosure control already applied), never from exact values.
 *
 * Workbook layout:
 *   sheet 1 "Түсіндірме-Пояснение"  what the bundle is, every report in it
 *            (id, titles, methodology version, addressee, deadline), where
 *            the data came from (each input file, its SHA-256 and row
 *            counts), what `x`, an empty cell and `_T` mean — in Kazakh
 *            and Russian;
 *   sheet 2 "<ID>"  the form: a title block (titles kk and ru, addressee,
 *            period, methodology version, snapshot date, deadline), then
 *            one header row and a row per table row: KATO code (text),
 *            level, name in Kazakh and in Russian indented by level, the
 *            dimension values (headers: the labels kk / ru of the report
 *            file with the column name in parentheses) (text, so `3-6` never becomes a date), the
 *            measures as numbers (counts `#,##0`, money `#,##0.00`,
 *            ratios `#,##0.0`), `x` (text) where suppressed, an empty cell
 *            where a ratio has a zero denominator; footnotes for `x` and
 *            empty cells below. Rows go by territory code, then by the
 *            dimension values in the order the report lists them
 *            (report_dimension.listed), `_T` last. Frozen header, column
 *            widths, A4 landscape, fit to one page wide, header rows
 *            repeated on every printed page.
 * The same inputs give the same bytes: the document's creation time is
 * the snapshot date (00:00 UTC), nothing else varies. */
#ifndef ESEP_XLSX_FORM_H
#define ESEP_XLSX_FORM_H

#include <stddef.h>

#include "../../archive/report_table.h"

typedef struct {
    const char *region;                /* "00" … "99" */
    const char *period;
    const report_table *const *tables; /* the bundle's cuts, disclosure applied */
    size_t ntables;
} form_bundle;

/* Renders b->tables[which] as an xlsx workbook into a malloc'd buffer
 * (*out, *size; the caller frees it). The workbook is written to an
 * anonymous memory file; libxlsxwriter's part files, unlinked as soon as
 * it creates them, go to /dev/shm when that is a writable memory file
 * system, else to scratch_dir. Where that way fails (no memfd_create or
 * /proc, a full /dev/shm) the workbook is built in a fresh private
 * directory under scratch_dir instead, as the only other way. Returns 0,
 * or -1 with a message in err (nothing is left behind, *out is NULL). */
int xlsx_form_render(const form_bundle *b, size_t which, const char *scratch_dir, char **out, size_t *size,
                     char *err, size_t errlen);

/* The order in which a form lists t's rows: by kato, then by each
 * dimension's listed position. Fills order[t->nrows]. Cannot fail. */
void form_row_order(const report_table *t, size_t *order);

#endif
