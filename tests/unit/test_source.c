/* Zstandard sources: several frames cut in the middle of records, a
 * truncated last frame, and a corrupted frame; a single frame (what plain
 * `zstd` writes) cut at every byte, with the start of each share derived
 * from the skipped bytes only. */
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include "ingest/csv_scanner.h"
#include "ingest/source.h"
#include "test.h"

/* Compresses data as one frame per `frame` bytes into path. Returns the
 * compressed size, or 0 on error. */
static size_t write_frames(const char *path, const char *data, size_t len, size_t frame) {
    FILE *f = fopen(path, "wb");
    size_t total = 0;
    for (size_t off = 0; f && off < len; off += frame) {
        size_t n = len - off < frame ? len - off : frame;
        size_t cap = ZSTD_compressBound(n);
        void *out = malloc(cap);
        ZSTD_CCtx *cctx = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
        size_t got = ZSTD_compress2(cctx, out, cap, data + off, n);
        ZSTD_freeCCtx(cctx);
        if (!ZSTD_isError(got)) fwrite(out, 1, got, f), total += got;
        free(out);
    }
    if (f) fclose(f);
    return total;
}

/* One frame, as the zstd command writes it; known_size says whether the
 * frame header declares the content size; window_log (0: zstd's choice)
 * bounds how far back blocks refer. */
static int write_frame_window(const char *path, const char *data, size_t len, int known_size, int window_log) {
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, known_size); /* as `cat f | zstd` */
    if (window_log) ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log);
    size_t cap = ZSTD_compressBound(len) + 64;
    uint8_t *out = malloc(cap);
    ZSTD_inBuffer in = {data, len, 0};
    ZSTD_outBuffer o = {out, cap, 0};
    size_t rc = ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end);
    ZSTD_freeCCtx(cctx);
    FILE *f = fopen(path, "wb");
    int ok = f && rc == 0 && fwrite(out, 1, o.pos, f) == o.pos;
    if (f) fclose(f);
    free(out);
    return ok ? 0 : -1;
}

static int write_one_frame(const char *path, const char *data, size_t len, int known_size) {
    return write_frame_window(path, data, len, known_size, 0);
}

static void count_into(void *ctx, const uint8_t *data, size_t len) {
    csv_block_stats_add(ctx, data, len);
}

/* Reads the records of the split share [begin, end) the way reader.c does
 * (skip, derive the start, scan), appending "line:fields;" to out. */
static int scan_split_share(const extract_file *f, uint64_t begin, uint64_t end, char *out, size_t cap,
                            size_t *used) {
    byte_source *s = byte_source_open(f, begin, end);
    csv_block_stats st = {0, 0, 0, -1};
    if (!s || byte_source_skip(s, count_into, &st)) return byte_source_free(s), -1;
    if (st.bytes != begin) return byte_source_free(s), -1;
    csv_start start = {1 + (int64_t)st.newlines, begin == 0 || (st.last_byte == '\n' && !(st.quotes & 1)),
                       (int)(st.quotes & 1), begin == 0};
    csv_scanner *sc = csv_scanner_new(s, 0, start);
    csv_record rec;
    int r;
    while ((r = csv_scanner_next_record(sc, &rec)) == 1)
        *used += (size_t)snprintf(out + *used, cap - *used, "%lld:%zu:%.*s;", (long long)rec.line, rec.nfields,
                                  (int)(rec.nfields ? rec.field_len[rec.nfields - 1] : 0),
                                  rec.nfields ? rec.field[rec.nfields - 1] : "");
    csv_scanner_free(sc);
    byte_source_free(s);
    return r;
}

static char *read_all(const extract_file *f, uint64_t begin, size_t *len, char *err) {
    byte_source *s = byte_source_open(f, begin, extract_file_units(f));
    size_t cap = 1 << 20, used = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = byte_source_read(s, (uint8_t *)buf + used, cap - used)) > 0) used += (size_t)n;
    if (n < 0) snprintf(err, 256, "%s", byte_source_error(s));
    byte_source_free(s);
    *len = used;
    return buf;
}

/* One frame of data in path: split by bytes when its size is declared
 * (known_size), else one unit; the stream read from unit `begin` is the
 * data from that byte (split) or from the start. */
static void expect_one_frame(const char *path, const char *data, size_t len, int known_size, uint64_t begin) {
    char err[256] = "";
    size_t got_len;
    extract_file f;
    EXPECT_EQ_INT(write_one_frame(path, data, len, known_size), 0);
    EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
    EXPECT_EQ_INT(f.split_frame, known_size);
    EXPECT_EQ_INT(extract_file_units(&f), known_size ? len : 1);
    char *got = read_all(&f, begin, &got_len, err);
    EXPECT_EQ_INT(got_len, len - begin);
    EXPECT(memcmp(got, data + begin, got_len) == 0);
    free(got);
    extract_file_close(&f);
}

static char *sample_csv(size_t *len) {
    size_t cap = 200000, used = 0;
    char *data = malloc(cap);
    for (int i = 0; used + 100 < cap; i++)
        used += (size_t)snprintf(data + used, cap - used, "%d;\"name %d;\n\"\"q\"\"\";%d\n", i, i, i * 7);
    *len = used;
    return data;
}

void suite_source(void) {
    size_t len, got_len;
    char *data = sample_csv(&len);
    char path[] = "/tmp/esep-zst-XXXXXX", err[256] = "";
    close(mkstemp(path));
    TEST_CASE("zstd: many frames read back exactly") {
        EXPECT(write_frames(path, data, len, 4099) > 0);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        EXPECT_EQ_INT(f.nframes, (len + 4098) / 4099);
        char *got = read_all(&f, 0, &got_len, err);
        EXPECT_EQ_INT(got_len, len);
        EXPECT(memcmp(got, data, len) == 0);
        free(got);
        /* a share starting at frame 5 sees the stream from that frame on */
        got = read_all(&f, 5, &got_len, err);
        EXPECT_EQ_INT(got_len, len - 5 * 4099);
        EXPECT(memcmp(got, data + 5 * 4099, got_len) == 0);
        free(got);
        extract_file_close(&f);
    }
    TEST_CASE("zstd: shares by frame give the sequential records") {
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        int64_t records = 0, last_line = -1;
        for (uint64_t u = 0; u < f.nframes; u++) {
            csv_block_stats st = {0, 0, 0, -1};
            csv_block_stats_add(&st, (const uint8_t *)data, u * 4099);
            char prev = u ? data[u * 4099 - 1] : '\n';
            csv_start start = {1 + (int64_t)st.newlines, u == 0 || (prev == '\n' && !(st.quotes & 1)),
                               (int)(st.quotes & 1), u == 0};
            byte_source *s = byte_source_open(&f, u, u + 1);
            csv_scanner *sc = csv_scanner_new(s, 0, start);
            csv_record rec;
            while (csv_scanner_next_record(sc, &rec) == 1) {
                if (rec.status != CSV_RECORD_OK || rec.nfields != 3 || rec.line != last_line + 2) EXPECT(0);
                last_line = rec.line;
                records++;
            }
            csv_scanner_free(sc);
            byte_source_free(s);
        }
        EXPECT_EQ_INT(records * 2, (int64_t)(last_line + 1));
        extract_file_close(&f);
    }
    TEST_CASE("zstd: one frame of known size is split by decompressed bytes") {
        expect_one_frame(path, data, len, 1, 12345); /* the first 12345 bytes skipped unobserved */
    }
    TEST_CASE("zstd: one frame cut anywhere gives the sequential records") {
        /* every record spans two lines and holds quotes, so cuts fall
         * inside quoted fields, on the inner newline and on record ends */
        char *data2 = malloc(3000);
        size_t len2 = 0;
        for (int i = 0; len2 + 60 < 3000; i++)
            len2 += (size_t)snprintf(data2 + len2, 3000 - len2, "%d;\"a\n\"\"b\";%d\n", i, i * 3);
        EXPECT_EQ_INT(write_one_frame(path, data2, len2, 1), 0);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        size_t cap = 1 << 16, whole_len = 0;
        char *whole = malloc(cap), *parts = malloc(cap);
        EXPECT_EQ_INT(scan_split_share(&f, 0, len2, whole, cap, &whole_len), 0);
        EXPECT(whole_len > 0 && strncmp(whole, "1:3:0;3:3:3;5:3:6;", 18) == 0);
        for (uint64_t cut = 1; cut < len2; cut++) {
            size_t parts_len = 0;
            int a = scan_split_share(&f, 0, cut, parts, cap, &parts_len);
            int b = scan_split_share(&f, cut, len2, parts, cap, &parts_len);
            if (a || b || parts_len != whole_len || memcmp(parts, whole, whole_len)) {
                EXPECT(!"records of two shares equal the whole");
                break;
            }
        }
        free(whole), free(parts), free(data2);
        extract_file_close(&f);
    }
    TEST_CASE("zstd: one frame with a 1 KiB window, many times its size, read from any start") {
        /* the ring of decoded blocks wraps hundreds of times here, while
         * blocks keep referring back into the window */
        extract_file f;
        EXPECT_EQ_INT(write_frame_window(path, data, len, 1, 10), 0);
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        static const uint64_t begins[] = {0, 1, 1023, 1024, 70001, 131072, 131073};
        for (size_t i = 0; i < sizeof begins / sizeof *begins; i++) {
            char *got = read_all(&f, begins[i], &got_len, err);
            EXPECT_EQ_INT(got_len, len - begins[i]);
            EXPECT(got_len == len - begins[i] && memcmp(got, data + begins[i], got_len) == 0);
            free(got);
        }
        extract_file_close(&f);
    }
    TEST_CASE("zstd: one frame of unknown size is read whole by one share") {
        expect_one_frame(path, data, len, 0, 0);
    }
    TEST_CASE("zstd: a corrupt single frame fails the share that skips over it") {
        EXPECT_EQ_INT(write_one_frame(path, data, len, 1), 0);
        FILE *fp = fopen(path, "r+b");
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fseek(fp, size / 2, SEEK_SET);
        for (int i = 0; i < 32; i++) fputc(0xA5 ^ i, fp);
        fclose(fp);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        byte_source *s = byte_source_open(&f, len - 10, len);
        EXPECT_EQ_INT(byte_source_skip(s, NULL, NULL), -1);
        EXPECT(strstr(byte_source_error(s), "corrupt zstd frame at byte offset 0") != NULL);
        byte_source_free(s);
        extract_file_close(&f);
    }
    TEST_CASE("zstd: truncated last frame fails the file") {
        size_t size = write_frames(path, data, len, 4099);
        EXPECT_EQ_INT(truncate(path, (off_t)size - 3), 0);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), -1);
        EXPECT(strstr(err, "truncated or corrupt zstd frame at byte offset") != NULL);
        extract_file_close(&f);
    }
    TEST_CASE("zstd: corrupted frame is an error, never silent") {
        size_t size = write_frames(path, data, len, 50000);
        FILE *fp = fopen(path, "r+b");
        fseek(fp, (long)(size / 2), SEEK_SET);
        int c = fgetc(fp);
        fseek(fp, (long)(size / 2), SEEK_SET);
        fputc(c ^ 0x5A, fp);
        fclose(fp);
        extract_file f;
        err[0] = '\0';
        int opened = extract_file_open(path, 1, &f, err, sizeof err);
        if (opened == 0) {
            char *got = read_all(&f, 0, &got_len, err);
            free(got);
        }
        EXPECT(strstr(err, "zstd frame") != NULL);
        extract_file_close(&f);
    }
    TEST_CASE("zstd: not a zstd file") {
        FILE *fp = fopen(path, "wb");
        fputs("iin;kato\n", fp);
        fclose(fp);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), -1);
        extract_file_close(&f);
    }
    unlink(path);
    free(data);
}
