/* Zstandard sources: several frames cut in the middle of records, a
 * truncated last frame, and a corrupted frame; a single frame (what plain
 * `zstd` writes) cut into segments by the relay's local role (relay.h) at
 * many sizes, each segment scanned as a stream of its own, against one
 * sequential scan. */
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include "ingest/csv_scanner.h"
#include "ingest/relay.h"
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

/* Appends "line:fields:last field;" for every record sc gives. */
static int scan_records(csv_scanner *sc, char *out, size_t cap, size_t *used) {
    csv_record rec;
    int r;
    while ((r = csv_scanner_next_record(sc, &rec)) == 1)
        *used += (size_t)snprintf(out + *used, cap - *used, "%lld:%zu:%.*s;", (long long)rec.line, rec.nfields,
                                  (int)(rec.nfields ? rec.field_len[rec.nfields - 1] : 0),
                                  rec.nfields ? rec.field[rec.nfields - 1] : "");
    return r;
}

/* The records of the whole frame, read sequentially. */
static int scan_whole(const extract_file *f, char *out, size_t cap, size_t *used) {
    byte_source *s = byte_source_open(f, 0, extract_file_units(f));
    csv_scanner *sc = s ? csv_scanner_new(s, 0, (csv_start){1, 1, 0, 1}) : NULL;
    int r = sc ? scan_records(sc, out, cap, used) : -1;
    csv_scanner_free(sc);
    byte_source_free(s);
    return r;
}

/* The records of rank's segments (replay: whose each is; NULL: all its
 * own), each segment scanned from the start the relay gives it, the way
 * reader.c does. *table (may be NULL) gets the segments seen. 0, or -1
 * with the relay's message in err. */
static int scan_segments(const extract_file *f, int rank, int nranks, size_t segment, const relay_table *replay,
                         char *out, size_t cap, size_t *used, relay_table *table, char *err) {
    relay *rl = relay_open(f, MPI_COMM_NULL, rank, nranks, RELAY_LOCAL, segment, replay);
    byte_source *s = rl ? byte_source_open_relay(rl) : NULL;
    csv_scanner *sc = s ? csv_scanner_new(s, 0, (csv_start){1, 1, 0, 1}) : NULL;
    csv_start start;
    int got = sc ? 1 : -1, r = 0;
    while (got == 1 && r == 0 && (got = relay_next_segment(rl, &start)) == 1) {
        csv_scanner_restart(sc, start);
        r = scan_records(sc, out, cap, used);
    }
    if (got < 0 || r < 0) snprintf(err, 256, "%s", rl ? relay_error(rl) : "out of memory");
    if (table && rl) relay_take_table(rl, table);
    csv_scanner_free(sc);
    byte_source_free(s);
    relay_free(rl);
    return got < 0 || r < 0 ? -1 : 0;
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
        expect_one_frame(path, data, len, 1, 0);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        EXPECT(byte_source_open(&f, 12345, len) == NULL); /* a frame decodes from its start only */
        extract_file_close(&f);
    }
    TEST_CASE("relay: one frame cut in segments of many sizes gives the sequential records") {
        /* every record spans two lines and holds quotes, so the first
         * newline after a segment's target is often inside a quoted field */
        size_t len2 = 0;
        char *data2 = malloc(300000);
        for (int i = 0; len2 + 60 < 300000; i++)
            len2 += (size_t)snprintf(data2 + len2, 300000 - len2, "%d;\"a\n\"\"b\";%d\n", i, i * 3);
        EXPECT_EQ_INT(write_one_frame(path, data2, len2, 1), 0);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        size_t cap = 1 << 23, whole_len = 0;
        char *whole = malloc(cap), *parts = malloc(cap);
        EXPECT_EQ_INT(scan_whole(&f, whole, cap, &whole_len), 0);
        EXPECT(whole_len > 0 && strncmp(whole, "1:3:0;3:3:3;5:3:6;", 18) == 0);
        for (size_t segment = RELAY_SEGMENT_MIN; segment < RELAY_SEGMENT_MIN + 40; segment++) {
            size_t parts_len = 0;
            relay_table t = {0};
            int rc = scan_segments(&f, 0, 1, segment, NULL, parts, cap, &parts_len, &t, err);
            int rises = t.n > 60 && t.first_line[0] == 1;
            for (size_t i = 1; rises && i < t.n; i++) rises = t.first_line[i] > t.first_line[i - 1] && t.first_line[i] % 2;
            relay_table_free(&t);
            if (rc || !rises || parts_len != whole_len || memcmp(parts, whole, whole_len)) {
                EXPECT(!"the segments' records equal the sequential records");
                break;
            }
        }
        free(whole), free(parts), free(data2);
        extract_file_close(&f);
    }
    TEST_CASE("relay: a replayed table gives each of 3 ranks exactly its segments") {
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        size_t cap = 1 << 23, whole_len = 0, got_len[3] = {0, 0, 0};
        char *whole = malloc(cap), *got[3] = {malloc(cap), malloc(cap), malloc(cap)};
        relay_table t = {0};
        EXPECT_EQ_INT(scan_segments(&f, 0, 1, 5000, NULL, whole, cap, &whole_len, &t, err), 0);
        for (size_t i = 0; i < t.n; i++) t.owner[i] = (int32_t)(i * 7 % 3); /* any turns at all */
        for (int r = 0; r < 3; r++) EXPECT_EQ_INT(scan_segments(&f, r, 3, 5000, &t, got[r], cap, &got_len[r], NULL, err), 0);
        EXPECT_EQ_INT(got_len[0] + got_len[1] + got_len[2], whole_len);
        /* merged by line, the three ranks' records are the whole, once each */
        size_t at[3] = {0, 0, 0}, merged = 0, ok = 1;
        while (ok && merged < whole_len) {
            int best = -1;
            long long best_line = 0;
            for (int r = 0; r < 3; r++) {
                long long line;
                if (at[r] < got_len[r] && sscanf(got[r] + at[r], "%lld:", &line) == 1 && (best < 0 || line < best_line))
                    best = r, best_line = line;
            }
            size_t n = best < 0 ? 0 : (size_t)(strchr(got[best] + at[best], ';') - (got[best] + at[best])) + 1;
            ok = best >= 0 && memcmp(got[best] + at[best], whole + merged, n) == 0;
            if (ok) at[best] += n, merged += n;
        }
        EXPECT(ok && merged == whole_len);
        for (int r = 0; r < 3; r++) /* and each record lies in a segment the table gives its rank */
            for (const char *p = got[r]; ok && p < got[r] + got_len[r]; p = strchr(p, ';') + 1) {
                long long line = strtoll(p, NULL, 10);
                size_t seg = 0;
                while (seg + 1 < t.n && t.first_line[seg + 1] <= line) seg++;
                ok = t.owner[seg] == r;
            }
        EXPECT(ok);
        t.first_line[t.n / 2]++; /* a table of another file */
        size_t ignored = 0;
        EXPECT_EQ_INT(scan_segments(&f, 1, 3, 5000, &t, got[1], cap, &ignored, NULL, err), -1);
        EXPECT(strstr(err, "segments differ") != NULL);
        relay_table_free(&t);
        free(whole), free(got[0]), free(got[1]), free(got[2]);
        extract_file_close(&f);
    }
    TEST_CASE("zstd: one frame with a 1 KiB window, many times its size, read whole and relayed") {
        /* the ring of decoded blocks wraps hundreds of times here, while
         * blocks keep referring back into the window */
        extract_file f;
        EXPECT_EQ_INT(write_frame_window(path, data, len, 1, 10), 0);
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        char *got = read_all(&f, 0, &got_len, err);
        EXPECT(got_len == len && memcmp(got, data, got_len) == 0);
        free(got);
        size_t cap = 1 << 23, whole_len = 0, parts_len = 0;
        char *whole = malloc(cap), *parts = malloc(cap);
        EXPECT_EQ_INT(scan_whole(&f, whole, cap, &whole_len), 0);
        EXPECT_EQ_INT(scan_segments(&f, 0, 1, RELAY_SEGMENT_MIN, NULL, parts, cap, &parts_len, NULL, err), 0);
        EXPECT(whole_len > 0 && parts_len == whole_len && memcmp(parts, whole, whole_len) == 0);
        free(whole), free(parts);
        extract_file_close(&f);
    }
    TEST_CASE("zstd: one frame of unknown size is read whole by one share") {
        expect_one_frame(path, data, len, 0, 0);
    }
    TEST_CASE("relay: a corrupt single frame fails with the frame's message") {
        EXPECT_EQ_INT(write_one_frame(path, data, len, 1), 0);
        FILE *fp = fopen(path, "r+b");
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fseek(fp, size / 2, SEEK_SET);
        for (int i = 0; i < 32; i++) fputc(0xA5 ^ i, fp);
        fclose(fp);
        extract_file f;
        EXPECT_EQ_INT(extract_file_open(path, 1, &f, err, sizeof err), 0);
        size_t cap = 1 << 23, used = 0;
        char *out = malloc(cap);
        EXPECT_EQ_INT(scan_segments(&f, 0, 1, RELAY_SEGMENT_MIN, NULL, out, cap, &used, NULL, err), -1);
        EXPECT(strstr(err, "corrupt zstd frame at byte offset 0") != NULL);
        free(out);
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
