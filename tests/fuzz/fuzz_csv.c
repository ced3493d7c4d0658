/* fuzz_csv.c — libFuzzer target for the CSV scanner and the extract
 * source (src/ingest/csv_scanner.h, source.h). The input is the file: an
 * in-memory file (memfd) read through the real extract_file/byte_source,
 * plain when the first byte is even, else as a Zstandard file (frames
 * walked, corrupt frames refused). Checks that every record's fields lie
 * inside its raw bytes, line numbers never go back, and the scanner stops;
 * and that the SSE2 and the portable block scans give the very same
 * records, and the SSE2 and byte-by-byte counts of quotes and newlines
 * agree. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ingest/csv_scanner.h"
#include "ingest/source.h"

static int memfd = -1;

/* Reads the next record of ref into *other and compares it with rec. */
static int same_record(const csv_record *rec, csv_scanner *ref, csv_record *other) {
    if (csv_scanner_next_record(ref, other) != 1) return 0;
    if (rec->line != other->line || rec->status != other->status || rec->ascii != other->ascii ||
        rec->raw_len != other->raw_len || memcmp(rec->raw, other->raw, rec->raw_len))
        return 0;
    if (rec->status != CSV_RECORD_OK) return 1;
    if (rec->nfields != other->nfields) return 0;
    for (size_t i = 0; i < rec->nfields; i++)
        if (rec->field_len[i] != other->field_len[i] || memcmp(rec->field[i], other->field[i], rec->field_len[i]))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (memfd < 0 && (memfd = memfd_create("fuzz-csv", 0)) < 0) abort();
    int compressed = data[0] & 1;
    if (ftruncate(memfd, 0) || (size > 1 && pwrite(memfd, data + 1, size - 1, 0) != (ssize_t)(size - 1))) abort();
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    extract_file f;
    if (extract_file_open(path, compressed, &f, err, sizeof err) == 0) {
        uint64_t units = extract_file_units(&f);
        byte_source *src = byte_source_open(&f, 0, units);
        csv_start start = {1, 1, 0, 1};
        byte_source *src2 = byte_source_open(&f, 0, units);
        csv_scanner *sc = src ? csv_scanner_new(src, 1 << 17, start) : NULL;
        csv_scanner *ref = src2 ? csv_scanner_new(src2, 1 << 17, start) : NULL;
        if (ref) csv_scanner_use_portable(ref);
        csv_record rec, other;
        int64_t last = 0;
        int rc;
        for (size_t n = 0; sc && (rc = csv_scanner_next_record(sc, &rec)) == 1; n++) {
            if (ref && !same_record(&rec, ref, &other)) abort();
            if (rec.line < last || n > size + 1) abort();
            last = rec.line;
            if (rec.status == CSV_RECORD_OK) {
                if (rec.nfields == 0 || rec.nfields > CSV_MAX_FIELDS) abort();
                for (size_t i = 0; i < rec.nfields; i++)
                    if (rec.field_len[i] > CSV_MAX_RECORD) abort();
            }
            if (rec.raw_len > CSV_MAX_RECORD && rec.status != CSV_RECORD_TOO_LONG) abort();
        }
        if (ref && sc && csv_scanner_next_record(ref, &other) != rc) abort();
        csv_scanner_free(sc);
        csv_scanner_free(ref);
        byte_source_free(src);
        byte_source_free(src2);
    }
    extract_file_close(&f);
    csv_block_stats st = {0}, bytewise = {0};
    csv_block_stats_add(&st, data, size);
    csv_block_stats_add_portable(&bytewise, data, size);
    if (st.bytes != size || st.quotes != bytewise.quotes || st.newlines != bytewise.newlines ||
        st.last_byte != bytewise.last_byte)
        abort();
    return 0;
}
