/* The scanner's block scans (src/ingest/csv_scanner.c) on random hostile
 * streams: the SSE2 masks and the portable loop must give the very same
 * records, and each record is held to rules worked out here without the
 * scanner — a quote-free record's fields are its bytes split on `;`, a
 * record marked ASCII holds no byte >= 0x80 and no NUL, line numbers rise
 * by one plus the record's inner newlines — and the block counts of quotes
 * and newlines (SSE2) must equal a byte-by-byte count at every length and
 * alignment. The streams are several buffers long, so records also cross
 * refills, and mix long runs, many fields, CRLF, NUL, bytes >= 0x80 and
 * stray quotes. */
#include <stdlib.h>
#include <unistd.h>

#include "ingest/csv_scanner.h"
#include "test.h"

static uint64_t next_random(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* A stream of n bytes that looks like CSV with every kind of damage. */
static void fill_hostile(char *data, size_t n, uint64_t seed) {
    static const char alphabet[] = "abcXYZ0123456789-.;;;;;\n\n\r ";
    uint64_t st = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t i = 0;
    while (i < n) {
        uint64_t r = next_random(&st);
        size_t run = 1;
        char c = alphabet[r % (sizeof alphabet - 1)];
        switch ((r >> 8) % 256) {
        case 0: c = '\0'; break;
        case 1: c = (char)0xC3; break;
        case 2: c = (char)0xFF; break;
        case 3: c = (char)0x80; break;
        case 4: run = 100 + (r >> 20) % 100, c = ';'; break; /* too many fields */
        case 5: case 6: c = '"'; break;
        default: break;
        }
        if ((r >> 16) % 65536 == 0) run = (r >> 32) % 140000, c = 'x'; /* maybe over-long */
        for (size_t k = 0; k < run && i < n; k++) data[i++] = c;
    }
}

static int write_temp(const char *data, size_t len, char *path, extract_file *f) {
    strcpy(path, "/tmp/esep-unit-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    int ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    char err[256];
    return ok ? extract_file_open(path, 0, f, err, sizeof err) : -1;
}

/* Folds a record into h (FNV-1a), field by field. */
static uint64_t fold(uint64_t h, const void *p, size_t len) {
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

/* Where the record at *at ends by the rule itself (a `\n` after an even
 * number of quotes since the record began): checks rec's raw bytes against
 * the file's and moves *at past the line end. */
static void check_bounds(const char *data, size_t n, size_t *at, const csv_record *rec) {
    size_t end = *at;
    int parity = 0;
    while (end < n && !(data[end] == '\n' && !parity)) parity ^= data[end++] == '"';
    size_t len = end - *at;
    if (len > 0 && data[end - 1] == '\r') len--;
    if (rec->status == CSV_RECORD_TOO_LONG) len = len > CSV_RAW_KEEP ? CSV_RAW_KEEP : len;
    if (rec->raw_len != len || memcmp(rec->raw, data + *at, len))
        test_fail(__FILE__, __LINE__, "record at byte %zu: %zu bytes, want %zu", *at, rec->raw_len, len);
    *at = end < n ? end + 1 : n;
}

/* Checks one record against the rules above; returns its digest. */
static uint64_t check_record(const csv_record *rec, int64_t *expect_line) {
    uint64_t h = fold(0xCBF29CE484222325ull, &rec->line, sizeof rec->line);
    h = fold(h, &rec->status, sizeof rec->status);
    h = fold(h, &rec->ascii, sizeof rec->ascii);
    h = fold(h, rec->raw, rec->raw_len);
    if (rec->line != *expect_line) test_fail(__FILE__, __LINE__, "line %lld, want %lld", (long long)rec->line, (long long)*expect_line);
    size_t inner = 0;
    for (size_t i = 0; i < rec->raw_len; i++) {
        unsigned char c = (unsigned char)rec->raw[i];
        inner += c == '\n';
        if (rec->ascii && (c == 0 || c >= 0x80)) test_fail(__FILE__, __LINE__, "line %lld marked ASCII", (long long)rec->line);
    }
    *expect_line = rec->line + 1 + (int64_t)inner;
    if (rec->status == CSV_RECORD_TOO_LONG) *expect_line = -1; /* its inner lines are not all kept */
    if (rec->status != CSV_RECORD_OK) return h;
    if (memchr(rec->raw, '"', rec->raw_len)) {
        for (size_t f = 0; f < rec->nfields; f++) h = fold(h, rec->field[f], rec->field_len[f]);
        return h;
    }
    size_t f = 0, start = 0;
    for (size_t i = 0; i <= rec->raw_len; i++) {
        if (i < rec->raw_len && rec->raw[i] != ';') continue;
        if (f >= rec->nfields || rec->field_len[f] != i - start || memcmp(rec->field[f], rec->raw + start, i - start)) {
            test_fail(__FILE__, __LINE__, "line %lld field %zu differs from the split of its bytes", (long long)rec->line, f);
            return h;
        }
        f++, start = i + 1;
    }
    if (f != rec->nfields) test_fail(__FILE__, __LINE__, "line %lld: %zu fields, want %zu", (long long)rec->line, rec->nfields, f);
    return h;
}

/* Digest of every record of the file data[0..n), by one block scan. */
static uint64_t scan_digest(const extract_file *f, const char *data, size_t n, int portable,
                            int64_t *records) {
    csv_start start = {1, 1, 0, 1};
    byte_source *src = byte_source_open(f, 0, n);
    csv_scanner *sc = src ? csv_scanner_new(src, 0, start) : NULL;
    uint64_t h = 0;
    *records = 0;
    if (!sc) {
        EXPECT(0);
        byte_source_free(src);
        return 0;
    }
    if (portable) csv_scanner_use_portable(sc);
    csv_record rec;
    int64_t expect_line = start.first_line;
    size_t at = 0;
    int r;
    while ((r = csv_scanner_next_record(sc, &rec)) == 1) {
        if (expect_line < 0) expect_line = rec.line;
        h = h * 31 + check_record(&rec, &expect_line);
        check_bounds(data, n, &at, &rec);
        ++*records;
    }
    EXPECT_EQ_INT(r, 0);
    csv_scanner_free(sc);
    byte_source_free(src);
    return h;
}

static void stats_at_every_alignment(const char *data, size_t n) {
    for (size_t off = 0; off < 64 && off < n; off++)
        for (size_t len = 0; len + off <= n && len < 700; len += 1 + len / 8) {
            csv_block_stats a = {0, 0, 0, -1}, b = {0, 0, 0, -1};
            csv_block_stats_add(&a, (const uint8_t *)data + off, len);
            csv_block_stats_add_portable(&b, (const uint8_t *)data + off, len);
            if (a.quotes != b.quotes || a.newlines != b.newlines || a.bytes != b.bytes || a.last_byte != b.last_byte)
                test_fail(__FILE__, __LINE__, "block stats differ at offset %zu length %zu", off, len);
        }
    csv_block_stats a = {0, 0, 0, -1}, b = {0, 0, 0, -1};
    csv_block_stats_add(&a, (const uint8_t *)data, n); /* long enough to pass 255 per byte lane */
    csv_block_stats_add_portable(&b, (const uint8_t *)data, n);
    EXPECT_EQ_INT(a.quotes, b.quotes);
    EXPECT_EQ_INT(a.newlines, b.newlines);
}

void suite_csv_blocks(void) {
    const size_t n = 600000; /* several 128 KiB buffers */
    char *data = malloc(n);
    if (!data) {
        EXPECT(0);
        return;
    }
    for (uint64_t seed = 1; seed <= 4; seed++) {
        fill_hostile(data, n, seed);
        char path[64];
        extract_file f;
        if (write_temp(data, n, path, &f)) {
            EXPECT(0);
            break;
        }
        TEST_CASE("csv blocks: SSE2 and portable scans give the same records") {
            int64_t count_simd, count_portable;
            uint64_t simd = scan_digest(&f, data, n, 0, &count_simd);
            uint64_t portable = scan_digest(&f, data, n, 1, &count_portable);
            EXPECT(simd == portable);
            EXPECT_EQ_INT(count_simd, count_portable);
            EXPECT(count_simd > 1000);
        }
        TEST_CASE("csv blocks: block counts equal byte counts") { stats_at_every_alignment(data, n); }
        extract_file_close(&f);
        unlink(path);
    }
    free(data);
}
