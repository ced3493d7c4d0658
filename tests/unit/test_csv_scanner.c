/* The scanner on every quoting edge case, and the property the parallel
 * reader rests on: cutting a file anywhere into shares, and starting each
 * share from the quote parity and line count of the bytes before it, yields
 * exactly the records of one sequential scan, with the same line numbers. */
#include <stdlib.h>
#include <unistd.h>

#include "ingest/csv_scanner.h"
#include "test.h"

/* Writes data to a temp file and opens it as a plain extract. */
static int open_plain(const char *data, size_t len, extract_file *f, char *path) {
    strcpy(path, "/tmp/esep-unit-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) return -1;
    close(fd);
    char err[256];
    return extract_file_open(path, 0, f, err, sizeof err);
}

/* Appends "line|status|field|field…\n" for each record of a share, found
 * by the SSE2 or the portable block scan. */
static void scan_share_with(const extract_file *f, uint64_t begin, uint64_t end, csv_start start,
                            char *out, size_t outlen, int portable) {
    byte_source *src = byte_source_open(f, begin, end);
    csv_scanner *sc = csv_scanner_new(src, 0, start);
    if (portable) csv_scanner_use_portable(sc);
    csv_record rec;
    size_t used = strlen(out);
    while (csv_scanner_next_record(sc, &rec) == 1) {
        used += (size_t)snprintf(out + used, outlen - used, "%lld|%d", (long long)rec.line, rec.status);
        for (size_t i = 0; rec.status == CSV_RECORD_OK && i < rec.nfields; i++)
            used += (size_t)snprintf(out + used, outlen - used, "|%.*s", (int)rec.field_len[i], rec.field[i]);
        used += (size_t)snprintf(out + used, outlen - used, "\n");
    }
    csv_scanner_free(sc);
    byte_source_free(src);
}

static void scan_share(const extract_file *f, uint64_t begin, uint64_t end, csv_start start,
                       char *out, size_t outlen) {
    scan_share_with(f, begin, end, start, out, outlen, 0);
}

static const csv_start whole_file = {1, 1, 0, 1};

static void expect_records(const char *data, const char *want) {
    extract_file f;
    char path[64], got[8192] = "";
    if (open_plain(data, strlen(data), &f, path)) {
        EXPECT(0);
        return;
    }
    scan_share(&f, 0, f.file_size, whole_file, got, sizeof got);
    EXPECT_EQ_STR(got, want);
    got[0] = '\0';
    scan_share_with(&f, 0, f.file_size, whole_file, got, sizeof got, 1);
    EXPECT_EQ_STR(got, want);
    extract_file_close(&f);
    unlink(path);
}

/* Start of a share beginning at k, from the bytes before it. */
static csv_start start_at(const char *data, size_t k) {
    csv_block_stats st = {0, 0, 0, -1};
    csv_block_stats_add(&st, (const uint8_t *)data, k);
    csv_start s = {1 + (int64_t)st.newlines, 0, (int)(st.quotes & 1), k == 0};
    s.at_record_start = k == 0 || (data[k - 1] == '\n' && !(st.quotes & 1));
    return s;
}

static void suite_splits(void) {
    static const char data[] =
        "\xEF\xBB\xBFh1;h2;h3\n"
        "x;\"y\n1\";z\r\n"
        "\"q\"\"u;o\";2;3\n"
        "plain;row;here\n"
        "\"multi\n\nline\";;\n"
        "a\"b;c;d\n"
        "last;\"x\";y";
    size_t len = strlen(data);
    extract_file f;
    char path[64], want[4096] = "";
    if (open_plain(data, len, &f, path)) {
        EXPECT(0);
        return;
    }
    scan_share(&f, 0, len, whole_file, want, sizeof want);
    TEST_CASE("split: every cut into two shares") {
        for (size_t k = 0; k <= len; k++) {
            char got[4096] = "";
            scan_share(&f, 0, k, whole_file, got, sizeof got);
            scan_share(&f, k, len, start_at(data, k), got, sizeof got);
            if (strcmp(got, want)) test_fail(__FILE__, __LINE__, "cut at %zu:\n%s\nwant:\n%s", k, got, want);
        }
    }
    TEST_CASE("split: every cut into three shares") {
        for (size_t a = 0; a <= len; a++)
            for (size_t b = a; b <= len; b++) {
                char got[4096] = "";
                scan_share(&f, 0, a, whole_file, got, sizeof got);
                scan_share(&f, a, b, start_at(data, a), got, sizeof got);
                scan_share(&f, b, len, start_at(data, b), got, sizeof got);
                if (strcmp(got, want)) {
                    test_fail(__FILE__, __LINE__, "cuts at %zu,%zu", a, b);
                    a = b = len + 1;
                }
            }
    }
    extract_file_close(&f);
    unlink(path);
}

/* csv_block_stats_add against a byte-by-byte count, over data that is all
 * newlines (every 16-byte counter reaches its limit), all quotes, and
 * pseudo-random mixes, added in chunks of awkward sizes. */
static void suite_block_stats(void) {
    enum { N = 70000 };
    static uint8_t data[N];
    uint32_t seed = 12345;
    for (int kind = 0; kind < 4; kind++) {
        for (size_t i = 0; i < N; i++) {
            seed = seed * 1103515245u + 12345u;
            uint8_t r = (uint8_t)(seed >> 16);
            data[i] = kind == 0 ? '\n' : kind == 1 ? '"' : kind == 2 ? (uint8_t)"a;\n\"b"[r % 5] : r;
        }
        uint64_t want_nl = 0, want_q = 0;
        for (size_t i = 0; i < N; i++) want_nl += data[i] == '\n', want_q += data[i] == '"';
        csv_block_stats st = {0, 0, 0, -1};
        static const size_t chunks[] = {1, 15, 16, 17, 4079, 4080, 4081, 65536};
        size_t at = 0;
        for (size_t c = 0; at < N; c++) {
            size_t len = chunks[c % 8] < N - at ? chunks[c % 8] : N - at;
            csv_block_stats_add(&st, data + at, len);
            at += len;
        }
        TEST_CASE("block stats: counts equal a byte-by-byte count") {
            EXPECT(st.newlines == want_nl);
            EXPECT(st.quotes == want_q);
            EXPECT(st.bytes == N);
            EXPECT(st.last_byte == data[N - 1]);
        }
    }
}

void suite_csv_scanner(void) {
    TEST_CASE("csv: plain fields") { expect_records("a;b;c\n", "1|0|a|b|c\n"); }
    TEST_CASE("csv: quoted separator") { expect_records("\"a;b\";c\n", "1|0|a;b|c\n"); }
    TEST_CASE("csv: doubled quotes") { expect_records("\"say \"\"hi\"\"\";x\n", "1|0|say \"hi\"|x\n"); }
    TEST_CASE("csv: quoted newline keeps true line numbers") {
        expect_records("\"line1\nline2\";x\nnext;y\n", "1|0|line1\nline2|x\n3|0|next|y\n");
    }
    TEST_CASE("csv: CRLF") { expect_records("a;b\r\nc;d\r\n", "1|0|a|b\n2|0|c|d\n"); }
    TEST_CASE("csv: quoted CRLF is data") { expect_records("\"a\r\nb\";c\r\n", "1|0|a\r\nb|c\n"); }
    TEST_CASE("csv: BOM skipped") { expect_records("\xEF\xBB\xBF" "a;b\n", "1|0|a|b\n"); }
    TEST_CASE("csv: no final newline") { expect_records("a;b\nc;d", "1|0|a|b\n2|0|c|d\n"); }
    TEST_CASE("csv: empty fields and lines") {
        expect_records(";;\n\nb\n", "1|0|||\n2|0|\n3|0|b\n");
    }
    TEST_CASE("csv: quote inside an unquoted field") {
        expect_records("ab\"c;d\"\nok\n", "1|1\n2|0|ok\n");
    }
    TEST_CASE("csv: text after a closing quote") { expect_records("\"ab\"c;d\nok\n", "1|1\n2|0|ok\n"); }
    TEST_CASE("csv: quote never closed runs to the end") {
        expect_records("a;\"bc\nd;e\n", "1|1\n");
    }
    TEST_CASE("csv: empty quoted field") { expect_records("\"\";x\n", "1|0||x\n"); }
    TEST_CASE("csv: too many fields") {
        char line[400];
        memset(line, ';', 200);
        strcpy(line + 200, "\nok\n");
        expect_records(line, "1|3\n2|0|ok\n");
    }
    TEST_CASE("csv: over-long records are skipped whole") {
        size_t n = CSV_MAX_RECORD + 5000;
        char *data = malloc(2 * n + 64);
        memset(data, 'x', n);
        strcpy(data + n, "\nok;1\n\"");
        memset(data + n + 7, 'y', n);
        memcpy(data + n + 7 + 100, "\n\n", 2); /* newlines inside quotes */
        strcpy(data + 2 * n + 7, "\"\nend\n");
        expect_records(data, "1|2\n2|0|ok|1\n3|2\n6|0|end\n");
        free(data);
    }
    suite_splits();
    suite_block_stats();
}
