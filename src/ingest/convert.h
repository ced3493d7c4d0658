/* convert.h — turns one scanned record into one typed row of a batch, or
 * into a rejection with the reason, the column and a short explanation.
 * Owns the per-extract binding of schema columns to header positions.
 * Everything a single row can be checked for alone is checked here; keys
 * and references need the whole snapshot and are checked in keycheck. */
#ifndef ESEP_CONVERT_H
#define ESEP_CONVERT_H

#include "../base/keyset.h"
#include "batch.h"
#include "csv_scanner.h"
#include "reasons.h"

/* One column's conversion, in header order: what a row needs of the
 * schema, packed so the per-field loop touches one small array. */
typedef struct {
    int col;                  /* schema column index */
    int field;                /* header position */
    column_type type;
    int nullable;
} convert_step;

typedef struct {
    const schema_extract *ext;
    size_t header_fields;     /* fields every record must have */
    int *field_of_column;     /* header position of each schema column */
    convert_step *steps;      /* the schema columns ordered by header position */
    const keyset *kato_codes; /* codes a COL_KATO value must be in */
    uint32_t **value_len;     /* per ENUM column: strlen of each value,
                                 computed once (NULL for other columns) */
} row_converter;

typedef struct {
    reject_reason reason;
    int column;               /* schema column index, or -1 for the row */
    char detail[192];
} row_verdict;

/* Binds ext's columns to the header record. Returns 0, or -1 with a clear
 * whole-file message (missing column, duplicate column, bad header). The
 * caller frees with row_converter_free (also after an error). */
int row_converter_init(row_converter *c, const schema_extract *ext,
                       const csv_record *header, const keyset *kato_codes,
                       char *err, size_t errlen);

void row_converter_free(row_converter *c);

/* The header fields of `header` (the record c was bound to) that are no
 * schema column, ", "-separated into out (ends with "…" when cut short;
 * empty when none). Cannot fail. */
void row_converter_unbound(const row_converter *c, const csv_record *header, char *out, size_t outlen);

/* Converts rec into row b->nrows of b (b must have room). Returns 0 when
 * the row was appended, 1 when rejected (then *v says why and the batch is
 * unchanged). Cannot fail otherwise. */
int row_converter_apply(const row_converter *c, const csv_record *rec,
                        row_batch *b, row_verdict *v);

#endif
