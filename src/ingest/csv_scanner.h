/* csv_scanner.h — splits the decompressed stream of an extract into records
 * and fields: `;` separator, RFC 4180 quoting with `"`, `\n` or `\r\n` line
 * ends, a UTF-8 BOM skipped at the start of a file.
 *
 * One rule defines where a record ends, and everything that splits files
 * across ranks relies on it: a record ends at a `\n` preceded by an even
 * number of `"` since the record began (equivalently: since the start of
 * the file, as every record holds an even number). For well-formed input
 * this is exactly RFC 4180; for a stray quote it is still well defined, and
 * the record is then rejected for bad quoting.
 *
 * Memory is the buffer (fixed at creation) plus per-record scratch: a record
 * longer than CSV_MAX_RECORD is skipped to its end and reported as too long
 * with its first CSV_RAW_KEEP bytes, never held whole. */
#ifndef ESEP_CSV_SCANNER_H
#define ESEP_CSV_SCANNER_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

#define CSV_MAX_FIELDS 128
#define CSV_MAX_RECORD (64 * 1024)
#define CSV_RAW_KEEP 4096

typedef enum {
    CSV_RECORD_OK,
    CSV_RECORD_BAD_QUOTING,   /* a quote inside an unquoted field, or text
                                 after a closing quote, or an open quote */
    CSV_RECORD_TOO_LONG,      /* longer than CSV_MAX_RECORD bytes */
    CSV_RECORD_TOO_MANY_FIELDS
} csv_record_status;

typedef struct {
    int64_t line;             /* physical line number of its first byte */
    csv_record_status status;
    const char *raw;          /* the record without its line end */
    size_t raw_len;
    int ascii;                /* 1: raw is known to be ASCII without NUL
                                 (so valid UTF-8); 0: not known */
    size_t nfields;           /* valid when status is OK */
    const char *field[CSV_MAX_FIELDS];
    uint32_t field_len[CSV_MAX_FIELDS];
} csv_record;

typedef struct csv_scanner csv_scanner;

/* Where the scanner's stream starts relative to the file. */
typedef struct {
    int64_t first_line;       /* line number of the stream's first byte */
    int at_record_start;      /* the first byte begins a record */
    int quote_parity;         /* quotes before the first byte, mod 2 */
    int file_start;           /* the stream starts at byte 0 of the file */
} csv_start;

/* Creates a scanner over src (not owned). buffer_size is raised to at
 * least 2 × CSV_MAX_RECORD. Returns NULL when out of memory. */
csv_scanner *csv_scanner_new(byte_source *src, size_t buffer_size, csv_start start);

/* Starts s over on the next bytes of its source as a new stream that
 * begins at start (the source's next segment, relay.h), keeping its
 * buffers. Cannot fail. */
void csv_scanner_restart(csv_scanner *s, csv_start start);

void csv_scanner_free(csv_scanner *s);

/* Makes s find records with the portable block scan (plain C) instead of
 * SSE2, where SSE2 is compiled in: both give the same records, and this
 * lets tests hold one to the other. Without SSE2 the portable scan is the
 * only one. Cannot fail. */
void csv_scanner_use_portable(csv_scanner *s);

/* Reads the next record that begins inside the source's share. Returns 1
 * with *rec filled (its pointers valid until the next call), 0 when no
 * further record begins in the share, or -1 on a read error (message from
 * csv_scanner_error). */
int csv_scanner_next_record(csv_scanner *s, csv_record *rec);

const char *csv_scanner_error(const csv_scanner *s);

/* Quote parity, newline count and last byte of a block: what a rank learns
 * about its share before the shares are reconciled. */
typedef struct {
    uint64_t quotes;
    uint64_t newlines;
    uint64_t bytes;
    int last_byte;            /* -1 when bytes == 0 */
} csv_block_stats;

/* Adds the statistics of data[0..len) to *st (SSE2 where compiled in).
 * Cannot fail. */
void csv_block_stats_add(csv_block_stats *st, const uint8_t *data, size_t len);

/* The same, byte by byte: the reference the SSE2 count is tested against.
 * Cannot fail. */
void csv_block_stats_add_portable(csv_block_stats *st, const uint8_t *data, size_t len);

#endif
