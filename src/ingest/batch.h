/* batch.h — typed columnar batches: what the reader hands to its consumer
 * (the report engine; `esep check` only counts). One array per schema
 * column, in schema order, plus each row's line number, which is the row's
 * identity within its extract. Empty (null) values are sentinels, so a
 * column is a plain array that hot loops read without branches on flags:
 *   int64 columns (iin, money, int, katocode as int64): BATCH_NULL_I64
 *   int32 columns (kato, date, month): BATCH_NULL_I32 (== DATE_NULL)
 *   enum columns (uint8 index into the schema's values): BATCH_NULL_ENUM
 *   text columns: offset/length into the batch's byte arena, length
 *   BATCH_NULL_TEXT for null. */
#ifndef ESEP_BATCH_H
#define ESEP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "../spec/schema.h"

#define BATCH_NULL_I64 INT64_MIN
#define BATCH_NULL_I32 INT32_MIN
#define BATCH_NULL_ENUM UINT8_MAX
#define BATCH_NULL_TEXT UINT32_MAX

typedef struct {
    column_type type;
    int64_t *i64;       /* IIN, MONEY, INT, KATOCODE */
    int32_t *i32;       /* KATO, DATE, MONTH */
    uint8_t *u8;        /* ENUM */
    uint32_t *text_off, *text_len; /* TEXT */
} batch_column;

typedef struct {
    const schema_extract *ext;
    size_t nrows, capacity;
    int64_t *line;
    batch_column *cols;
    char *text;         /* arena for text values */
    size_t text_used, text_cap;
} row_batch;

/* Which storage a column type uses. Cannot fail. */
int batch_type_is_i64(column_type t);
int batch_type_is_i32(column_type t);

/* Allocates a batch of `capacity` rows for ext. NULL when out of memory.
 * The arena holds capacity × the longest text row, so a full batch never
 * needs to grow. */
row_batch *row_batch_new(const schema_extract *ext, size_t capacity);

void row_batch_free(row_batch *b);

/* Empties the batch for reuse. Cannot fail. */
void row_batch_clear(row_batch *b);

#endif
