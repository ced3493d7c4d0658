/* convert.c — see convert.h. Columns are converted in header order so the
 * reported column is the leftmost problem, as an operator reads the line.
 * Explanations are formatted only for rejected rows. */
#include "convert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/date.h"
#include "../base/iin.h"
#include "../base/number.h"
#include "../base/utf8.h"

/* The length of every ENUM value, so a row compares lengths first. */
static int measure_values(row_converter *c) {
    const schema_extract *ext = c->ext;
    if (!(c->value_len = calloc(ext->ncolumns, sizeof *c->value_len))) return -1;
    for (size_t col = 0; col < ext->ncolumns; col++) {
        const schema_column *sc = &ext->columns[col];
        if (sc->type != COL_ENUM) continue;
        if (!(c->value_len[col] = malloc((sc->nvalues + 1) * sizeof **c->value_len))) return -1;
        for (size_t i = 0; i < sc->nvalues; i++) c->value_len[col][i] = (uint32_t)strlen(sc->values[i]);
    }
    return 0;
}

int row_converter_init(row_converter *c, const schema_extract *ext,
                       const csv_record *header, const keyset *kato_codes,
                       char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->ext = ext;
    c->kato_codes = kato_codes;
    if (header->status == CSV_RECORD_TOO_MANY_FIELDS)
        return snprintf(err, errlen, "header line has more than %d columns", CSV_MAX_FIELDS), -1;
    if (header->status == CSV_RECORD_TOO_LONG)
        return snprintf(err, errlen, "header line is longer than %d bytes", CSV_MAX_RECORD), -1;
    if (header->status != CSV_RECORD_OK) return snprintf(err, errlen, "header line has bad quoting"), -1;
    if (utf8_find_invalid(header->raw, header->raw_len) != header->raw_len) {
        snprintf(err, errlen, "header line is not valid UTF-8 CSV");
        return -1;
    }
    c->header_fields = header->nfields;
    c->field_of_column = malloc(ext->ncolumns * sizeof *c->field_of_column);
    c->steps = malloc(ext->ncolumns * sizeof *c->steps);
    if (!c->field_of_column || !c->steps) return snprintf(err, errlen, "out of memory"), -1;
    for (size_t col = 0; col < ext->ncolumns; col++) {
        const char *name = ext->columns[col].name;
        int found = -1;
        for (size_t f = 0; f < header->nfields; f++) {
            if (header->field_len[f] != strlen(name) || memcmp(header->field[f], name, header->field_len[f]))
                continue;
            if (found >= 0) return snprintf(err, errlen, "column '%s' appears twice in the header", name), -1;
            found = (int)f;
        }
        if (found < 0) return snprintf(err, errlen, "missing required column '%s'", name), -1;
        c->field_of_column[col] = found;
    }
    size_t n = 0;
    for (size_t f = 0; f < header->nfields; f++)
        for (size_t col = 0; col < ext->ncolumns; col++)
            if (c->field_of_column[col] == (int)f)
                c->steps[n++] = (convert_step){(int)col, (int)f, ext->columns[col].type, ext->columns[col].nullable};
    return measure_values(c) ? (snprintf(err, errlen, "out of memory"), -1) : 0;
}

void row_converter_unbound(const row_converter *c, const csv_record *header, char *out, size_t outlen) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t f = 0; f < header->nfields; f++) {
        int bound = 0;
        for (size_t col = 0; col < c->ext->ncolumns && !bound; col++) bound = c->field_of_column[col] == (int)f;
        if (bound) continue;
        int n = snprintf(out + used, outlen - used, "%s%.*s", used ? ", " : "", (int)header->field_len[f],
                         header->field[f]);
        if (n < 0 || (size_t)n >= outlen - used) { /* cut at a character boundary */
            size_t at = outlen > 4 ? outlen - 4 : 0;
            while (at > 0 && ((unsigned char)out[at] & 0xC0) == 0x80) at--;
            snprintf(out + at, outlen - at, "…");
            return;
        }
        used += (size_t)n;
    }
}

void row_converter_free(row_converter *c) {
    for (size_t col = 0; c->value_len && col < c->ext->ncolumns; col++) free(c->value_len[col]);
    free(c->value_len);
    c->value_len = NULL;
    free(c->field_of_column);
    free(c->steps);
    c->field_of_column = NULL;
    c->steps = NULL;
}

/* Sets a verdict quoting the offending value (shortened). Returns 1. */
static int reject(row_verdict *v, reject_reason reason, int column, const char *value,
                  size_t len, const char *fmt, ...) {
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    v->reason = reason;
    v->column = column;
    if (value) {
        int shown = len > 40 ? 40 : (int)len;
        snprintf(v->detail, sizeof v->detail, "'%.*s%s' %s", shown, value, len > 40 ? "…" : "", what);
    } else {
        snprintf(v->detail, sizeof v->detail, "%s", what);
    }
    return 1;
}

static int read_9_digits(const char *s, size_t len, int32_t *out) {
    unsigned first = (unsigned char)s[0] - '0';
    uint32_t rest;
    if (len != 9 || first > 9 || number_parse_digits8(s + 1, &rest)) return -1;
    *out = (int32_t)(first * 100000000u + rest);
    return 0;
}

static void store_null(batch_column *bc, size_t row) {
    if (batch_type_is_i64(bc->type)) bc->i64[row] = BATCH_NULL_I64;
    else if (batch_type_is_i32(bc->type)) bc->i32[row] = BATCH_NULL_I32;
    else if (bc->type == COL_ENUM) bc->u8[row] = BATCH_NULL_ENUM;
    else bc->text_len[row] = BATCH_NULL_TEXT, bc->text_off[row] = 0;
}

static int check_bounds(const schema_column *sc, int col, int64_t value, const char *s,
                        size_t len, row_verdict *v) {
    if ((sc->has_min && value < sc->min) || (sc->has_max && value > sc->max))
        return reject(v, REJ_OUT_OF_RANGE, col, s, len, "is out of the allowed range");
    return 0;
}

static int convert_iin(int col, const char *s, size_t len, batch_column *bc, size_t row,
                       row_verdict *v, iin_info *info) {
    switch (iin_parse(s, len, info)) {
    case IIN_OK: bc->i64[row] = info->value; return 0;
    case IIN_BAD_CHECKSUM: return reject(v, REJ_IIN_CHECKSUM, col, s, len, "has a wrong check digit");
    case IIN_BAD_CENTURY: return reject(v, REJ_BAD_IIN, col, s, len, "has a century/sex digit outside 1..6");
    case IIN_BAD_DATE: return reject(v, REJ_BAD_IIN, col, s, len, "does not start with a real birth date");
    default: return reject(v, REJ_BAD_IIN, col, s, len, "is not 12 digits");
    }
}

static int convert_text(const schema_column *sc, int col, const char *s, size_t len,
                        row_batch *b, size_t row, row_verdict *v) {
    if (len > sc->max_length)
        return reject(v, REJ_TEXT_TOO_LONG, col, s, len, "is longer than %zu bytes", sc->max_length);
    if (sc->has_pattern && !pattern_match(&sc->text_pattern, s, len))
        return reject(v, REJ_BAD_TEXT, col, s, len, "does not have the required form");
    batch_column *bc = &b->cols[col];
    bc->text_off[row] = (uint32_t)b->text_used;
    bc->text_len[row] = (uint32_t)len;
    memcpy(b->text + b->text_used, s, len);
    b->text_used += len;
    return 0;
}

static int convert_enum(const schema_column *sc, const uint32_t *value_len, int col, const char *s,
                        size_t len, batch_column *bc, size_t row, row_verdict *v) {
    for (size_t i = 0; i < sc->nvalues; i++)
        if (value_len[i] == len && sc->values[i][0] == s[0] && !memcmp(sc->values[i], s, len)) {
            bc->u8[row] = (uint8_t)i;
            return 0;
        }
    return reject(v, REJ_BAD_ENUM, col, s, len, "is not one of the allowed values");
}

/* Converts one non-empty field of a step's column. 0 stored, 1 rejected.
 * An IIN's birth date and sex go to *iin for the row rules. */
static int convert_field(const row_converter *c, const convert_step *st, const char *s, size_t len,
                         row_batch *b, size_t row, row_verdict *v, iin_info *iin) {
    int col = st->col;
    const schema_column *sc = &c->ext->columns[col];
    batch_column *bc = &b->cols[col];
    int64_t i64;
    int32_t i32;
    switch (st->type) {
    case COL_IIN: return convert_iin(col, s, len, bc, row, v, iin);
    case COL_KATO:
    case COL_KATOCODE:
        if (read_9_digits(s, len, &i32)) return reject(v, REJ_BAD_KATO, col, s, len, "is not a 9-digit KATO code");
        if (st->type == COL_KATO && !keyset_contains(c->kato_codes, i32))
            return reject(v, REJ_UNKNOWN_KATO, col, s, len, "is not in the snapshot's kato");
        if (st->type == COL_KATO) bc->i32[row] = i32;
        else bc->i64[row] = i32;
        return 0;
    case COL_DATE:
        if (date_parse(s, len, &i32)) return reject(v, REJ_BAD_DATE, col, s, len, "is not a date YYYY-MM-DD");
        bc->i32[row] = i32;
        return 0;
    case COL_MONTH:
        if (month_parse(s, len, &i32)) return reject(v, REJ_BAD_MONTH, col, s, len, "is not a month YYYY-MM");
        bc->i32[row] = i32;
        return 0;
    case COL_MONEY:
        if (number_parse_money(s, len, &i64))
            return reject(v, REJ_BAD_MONEY, col, s, len, "is not an amount in tenge with at most 2 decimals");
        if (check_bounds(sc, col, i64, s, len, v)) return 1;
        bc->i64[row] = i64;
        return 0;
    case COL_INT:
        if (number_parse_int(s, len, &i64)) return reject(v, REJ_BAD_INT, col, s, len, "is not an integer");
        if (check_bounds(sc, col, i64, s, len, v)) return 1;
        bc->i64[row] = i64;
        return 0;
    case COL_ENUM: return convert_enum(sc, c->value_len[col], col, s, len, bc, row, v);
    case COL_TEXT: return convert_text(sc, col, s, len, b, row, v);
    }
    return reject(v, REJ_BAD_TEXT, col, NULL, 0, "unsupported column type");
}

/* Row rules of the schema (date order, IIN agreement) on a converted row.
 * *iin is what the row's last IIN field parsed to: reused when it is the
 * checked column's value, decoded again otherwise. */
static int apply_checks(const row_converter *c, const row_batch *b, size_t row, row_verdict *v,
                        const iin_info *iin) {
    const schema_extract *ext = c->ext;
    for (size_t k = 0; k < ext->nchecks; k++) {
        const schema_check *ck = &ext->checks[k];
        if (ck->kind == CHECK_DATE_ORDER) {
            int32_t first = b->cols[ck->a].i32[row], then = b->cols[ck->b].i32[row];
            if (first != DATE_NULL && then != DATE_NULL && then < first)
                return reject(v, REJ_DATE_ORDER, ck->b, NULL, 0, "%s is before %s",
                              ext->columns[ck->b].name, ext->columns[ck->a].name);
            continue;
        }
        iin_info info = *iin;
        if (info.value == BATCH_NULL_I64 || info.value != b->cols[ck->a].i64[row])
            iin_decode(b->cols[ck->a].i64[row], &info);
        if (info.birth_date != b->cols[ck->b].i32[row])
            return reject(v, REJ_IIN_MISMATCH, ck->b, NULL, 0, "%s differs from the birth date in the IIN",
                          ext->columns[ck->b].name);
        const char *sex = ext->columns[ck->c].values[b->cols[ck->c].u8[row]];
        if (sex[0] != info.sex || sex[1] != '\0')
            return reject(v, REJ_IIN_MISMATCH, ck->c, NULL, 0, "%s differs from the sex in the IIN",
                          ext->columns[ck->c].name);
    }
    return 0;
}

static int reject_record(const csv_record *rec, size_t want, row_verdict *v) {
    switch (rec->status) {
    case CSV_RECORD_BAD_QUOTING: return reject(v, REJ_BAD_QUOTING, -1, NULL, 0, "malformed quoting");
    case CSV_RECORD_TOO_LONG:
        return reject(v, REJ_RECORD_TOO_LONG, -1, NULL, 0, "record longer than %d bytes", CSV_MAX_RECORD);
    case CSV_RECORD_TOO_MANY_FIELDS:
        return reject(v, REJ_FIELD_COUNT, -1, NULL, 0, "more than %d fields", CSV_MAX_FIELDS);
    default:
        return reject(v, REJ_FIELD_COUNT, -1, NULL, 0, "expected %zu fields, found %zu", want, rec->nfields);
    }
}

int row_converter_apply(const row_converter *c, const csv_record *rec, row_batch *b, row_verdict *v) {
    if (rec->status != CSV_RECORD_OK) return reject_record(rec, c->header_fields, v);
    size_t bad = rec->ascii ? rec->raw_len : utf8_find_invalid(rec->raw, rec->raw_len);
    if (bad != rec->raw_len)
        return reject(v, REJ_INVALID_UTF8, -1, NULL, 0, "invalid UTF-8 or NUL byte at offset %zu", bad);
    if (rec->nfields != c->header_fields) return reject_record(rec, c->header_fields, v);
    size_t row = b->nrows, text_mark = b->text_used;
    iin_info iin = {BATCH_NULL_I64, 0, 0}; /* no IIN parsed yet: never reused */
    size_t n = c->ext->ncolumns;
    for (size_t i = 0; i < n; i++) {
        const convert_step *st = &c->steps[i];
        size_t len = rec->field_len[st->field];
        int failed;
        if (len == 0) {
            failed = st->nullable ? (store_null(&b->cols[st->col], row), 0)
                     : reject(v, REJ_EMPTY_REQUIRED, st->col, NULL, 0, "empty value in a required column");
        } else {
            failed = convert_field(c, st, rec->field[st->field], len, b, row, v, &iin);
        }
        if (failed || (i + 1 == n && apply_checks(c, b, row, v, &iin))) {
            b->text_used = text_mark;
            return 1;
        }
    }
    b->line[row] = rec->line;
    b->nrows++;
    return 0;
}
