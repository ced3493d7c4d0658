/* batch.c — see batch.h. */
#include "batch.h"

#include <stdlib.h>

int batch_type_is_i64(column_type t) {
    return t == COL_IIN || t == COL_MONEY || t == COL_INT || t == COL_KATOCODE;
}

int batch_type_is_i32(column_type t) {
    return t == COL_KATO || t == COL_DATE || t == COL_MONTH;
}

static int column_alloc(batch_column *c, column_type type, size_t n) {
    c->type = type;
    if (batch_type_is_i64(type)) return (c->i64 = malloc(n * sizeof *c->i64)) ? 0 : -1;
    if (batch_type_is_i32(type)) return (c->i32 = malloc(n * sizeof *c->i32)) ? 0 : -1;
    if (type == COL_ENUM) return (c->u8 = malloc(n)) ? 0 : -1;
    c->text_off = malloc(n * sizeof *c->text_off);
    c->text_len = malloc(n * sizeof *c->text_len);
    return c->text_off && c->text_len ? 0 : -1;
}

row_batch *row_batch_new(const schema_extract *ext, size_t capacity) {
    row_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->ext = ext;
    b->capacity = capacity;
    size_t text_per_row = 0;
    for (size_t i = 0; i < ext->ncolumns; i++)
        if (ext->columns[i].type == COL_TEXT) text_per_row += ext->columns[i].max_length;
    b->text_cap = text_per_row * capacity;
    b->line = malloc(capacity * sizeof *b->line);
    b->cols = calloc(ext->ncolumns, sizeof *b->cols);
    b->text = b->text_cap ? malloc(b->text_cap) : NULL;
    int failed = !b->line || !b->cols || (b->text_cap && !b->text);
    for (size_t i = 0; !failed && i < ext->ncolumns; i++)
        failed = column_alloc(&b->cols[i], ext->columns[i].type, capacity) != 0;
    if (failed) {
        row_batch_free(b);
        return NULL;
    }
    return b;
}

void row_batch_free(row_batch *b) {
    if (!b) return;
    for (size_t i = 0; b->cols && i < b->ext->ncolumns; i++) {
        free(b->cols[i].i64);
        free(b->cols[i].i32);
        free(b->cols[i].u8);
        free(b->cols[i].text_off);
        free(b->cols[i].text_len);
    }
    free(b->cols);
    free(b->line);
    free(b->text);
    free(b);
}

void row_batch_clear(row_batch *b) {
    b->nrows = 0;
    b->text_used = 0;
}
