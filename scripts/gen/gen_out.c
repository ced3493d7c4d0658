/* gen_out.c — one output stream per extract.
 *
 * Rows are appended to an in-memory buffer and flushed either straight to
 * the file (--plain) or through libzstd. Compressed output is cut into a
 * new frame after exactly frame_bytes uncompressed bytes, wherever that
 * falls — usually inside a row — because esep's reader must cope with
 * records that span frames. The file lives under "<final>.tmp" until it
 * is complete and synced, then is renamed, so no partial file ever sits
 * under a name esep would read. */
#include "gen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define OUT_BUF_BYTES (1u << 20)
#define ZSTD_LEVEL 3

static int out_fail(out_stream *s, const char *fmt, ...)
{
    if (s->err[0])
        return -1;              /* keep the first, most specific message */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return -1;
}

static char *path_join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

/* Writes all n bytes, retrying short writes and EINTR. */
static int write_all(out_stream *s, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return out_fail(s, "%s: write failed: %s", s->tmp_path,
                            w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
        s->file_bytes += (uint64_t)w;
    }
    return 0;
}

/* Runs one compression step over `in` (possibly empty) with the given end
 * directive until zstd has consumed all input and, for ZSTD_e_end, closed
 * the frame; writes whatever it produced. */
static int zstd_step(out_stream *s, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
    for (;;) {
        ZSTD_outBuffer out = {s->zbuf, s->zcap, 0};
        size_t left = ZSTD_compressStream2(s->cctx, &out, in, mode);
        if (ZSTD_isError(left))
            return out_fail(s, "%s: zstd: %s", s->tmp_path, ZSTD_getErrorName(left));
        if (out.pos && write_all(s, s->zbuf, out.pos) != 0)
            return -1;
        int done = mode == ZSTD_e_end ? left == 0 : in->pos == in->size;
        if (done)
            return 0;
    }
}

static int zstd_end_frame(out_stream *s)
{
    ZSTD_inBuffer none = {NULL, 0, 0};
    if (zstd_step(s, &none, ZSTD_e_end) != 0)
        return -1;
    s->frames++;
    s->frame_left = s->frame_bytes;
    return 0;
}

/* Feeds bytes into the current frame, closing it each time it reaches
 * frame_bytes. */
static int zstd_feed(out_stream *s, const char *data, size_t n)
{
    while (n > 0) {
        size_t chunk = n < s->frame_left ? n : (size_t)s->frame_left;
        ZSTD_inBuffer in = {data, chunk, 0};
        if (zstd_step(s, &in, ZSTD_e_continue) != 0)
            return -1;
        data += chunk;
        n -= chunk;
        s->frame_left -= chunk;
        if (s->frame_left == 0 && zstd_end_frame(s) != 0)
            return -1;
    }
    return 0;
}

int out_flush(out_stream *s)
{
    if (s->err[0])
        return -1;
    int rc = s->cctx ? zstd_feed(s, s->buf, s->len) : write_all(s, s->buf, s->len);
    s->raw_bytes += s->len;
    s->len = 0;
    return rc;
}

static int zstd_setup(out_stream *s)
{
    s->cctx = ZSTD_createCCtx();
    s->zcap = ZSTD_CStreamOutSize();
    s->zbuf = malloc(s->zcap);
    if (!s->cctx || !s->zbuf)
        return out_fail(s, "%s: out of memory for zstd", s->tmp_path);
    size_t r = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(r))
        return out_fail(s, "%s: zstd: %s", s->tmp_path, ZSTD_getErrorName(r));
    return 0;
}

/* Creates "<dir>/<name>.csv[.zst].tmp" and writes the header line.
 * Returns 0, or -1 with s->err set; either way out_finish or out_abort
 * must follow to release what was allocated. */
int out_open(out_stream *s, const char *dir, const char *name, int plain,
             uint64_t frame_bytes, const char *header)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->name = name;
    char file[64];
    snprintf(file, sizeof file, "%s.csv%s", name, plain ? "" : ".zst");
    s->final_path = path_join(dir, file, "");
    s->tmp_path = path_join(dir, file, ".tmp");
    s->cap = OUT_BUF_BYTES + ROW_MAX;
    s->buf = malloc(s->cap);
    s->frame_bytes = s->frame_left = frame_bytes;
    if (!s->final_path || !s->tmp_path || !s->buf)
        return out_fail(s, "%s: out of memory", name);
    s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0)
        return out_fail(s, "%s: cannot create: %s", s->tmp_path, strerror(errno));
    if (!plain && zstd_setup(s) != 0)
        return -1;
    size_t n = strlen(header);
    memcpy(s->buf, header, n);
    s->buf[n] = '\n';
    s->len = n + 1;
    return 0;
}

static void out_release(out_stream *s)
{
    if (!s->name)
        return;                 /* never opened: fields are still zero */
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    ZSTD_freeCCtx(s->cctx);
    s->cctx = NULL;
    free(s->buf);
    free(s->zbuf);
    free(s->final_path);
    free(s->tmp_path);
    s->buf = s->zbuf = NULL;
    s->final_path = s->tmp_path = NULL;
}

/* The other form of the same extract (".csv" vs ".csv.zst") left by an
 * earlier run would make the snapshot ambiguous; remove it. */
static int remove_other_form(out_stream *s)
{
    size_t n = strlen(s->final_path);
    int zst = n > 4 && strcmp(s->final_path + n - 4, ".zst") == 0;
    char *other = malloc(n + 5);
    if (other && zst)
        snprintf(other, n + 5, "%.*s", (int)(n - 4), s->final_path);
    else if (other)
        snprintf(other, n + 5, "%s.zst", s->final_path);
    if (!other)
        return out_fail(s, "%s: out of memory", s->name);
    int rc = 0;
    if (unlink(other) != 0 && errno != ENOENT)
        rc = out_fail(s, "%s: cannot remove: %s", other, strerror(errno));
    free(other);
    return rc;
}

/* Flushes, closes the last frame, syncs, closes and renames the file to
 * its final name. Returns 0, or -1 with s->err set (the temporary file is
 * then removed). Releases the stream in both cases. */
int out_finish(out_stream *s)
{
    int rc = out_flush(s);
    if (rc == 0 && s->cctx && s->frame_left != s->frame_bytes)
        rc = zstd_end_frame(s);
    if (rc == 0 && fsync(s->fd) != 0)
        rc = out_fail(s, "%s: fsync failed: %s", s->tmp_path, strerror(errno));
    if (s->fd >= 0 && close(s->fd) != 0 && rc == 0)
        rc = out_fail(s, "%s: close failed: %s", s->tmp_path, strerror(errno));
    s->fd = -1;
    if (rc == 0 && rename(s->tmp_path, s->final_path) != 0)
        rc = out_fail(s, "%s: rename failed: %s", s->final_path, strerror(errno));
    if (rc == 0)
        rc = remove_other_form(s);
    if (rc != 0 && s->tmp_path)
        unlink(s->tmp_path);
    out_release(s);
    return rc;
}

/* Discards a stream that will not be completed: closes and removes the
 * temporary file and releases memory. Safe on a zeroed or failed stream. */
void out_abort(out_stream *s)
{
    if (s->name && s->fd >= 0 && s->tmp_path)
        unlink(s->tmp_path);
    out_release(s);
}
