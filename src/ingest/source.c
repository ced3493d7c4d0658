/* source.c — see source.h. Compressed files are mapped rather than read:
 * walking the frame table then touches only frame and block headers, and
 * each rank's decompressor reads straight from the page cache. A single
 * frame is decoded block by block with zstd's buffer-less API into a ring
 * of the frame's window size (ZSTD_decodingBufferSize_min): the relay
 * (relay.h) reads the decoded blocks where they are and copies each byte
 * once, into a segment's message or the caller's buffer. A corrupt frame's
 * message names the frame, not the rank that met it. */
#include "source.h"

#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdint.h>
#define ZSTD_STATIC_LINKING_ONLY /* buffer-less decompression (zstd.h); libzstd exports it */
#include <zstd.h>

/* The largest window a single frame may declare: zstd's own default limit
 * for streaming decoders (ZSTD_WINDOWLOG_LIMIT_DEFAULT), so a hostile
 * header cannot make a rank allocate more. */
#define SPLIT_MAX_WINDOW (1ull << 27)

struct byte_source {
    const extract_file *file;
    uint64_t unit;          /* plain: next byte; compressed: current frame */
    uint64_t begin, end;    /* this source's share, in units */
    uint64_t produced;      /* stream bytes returned so far */
    int end_known;
    uint64_t end_offset;
    size_t frame_pos;       /* compressed: bytes of the current frame consumed */
    int frame_done;         /* split_frame: the frame has been decompressed whole */
    uint8_t *ring;          /* split_frame: decoded blocks, ring_size bytes */
    size_t ring_size, ring_pos, block_max;
    const uint8_t *pending; /* split_frame: decoded bytes not yet handed out */
    size_t pending_len;
    ZSTD_DCtx *dctx;
    relay *relay;           /* set: reads come from the relay's segments */
    char error[256];
};

/* Records frame boundaries; an error names the byte offset of the frame. */
static int walk_frames(extract_file *f, char *err, size_t errlen) {
    size_t cap = 64, n = 0;
    uint64_t pos = 0;
    f->frame_offsets = malloc(cap * sizeof *f->frame_offsets);
    if (!f->frame_offsets) return snprintf(err, errlen, "%s: out of memory", f->path), -1;
    while (pos < f->file_size) {
        size_t size = ZSTD_findFrameCompressedSize(f->map + pos, f->file_size - pos);
        if (ZSTD_isError(size)) {
            snprintf(err, errlen, "%s: truncated or corrupt zstd frame at byte offset %llu (%s)",
                     f->path, (unsigned long long)pos, ZSTD_getErrorName(size));
            return -1;
        }
        if (n + 2 > cap) {
            uint64_t *grown = realloc(f->frame_offsets, (cap *= 2) * sizeof *grown);
            if (!grown) return snprintf(err, errlen, "%s: out of memory", f->path), -1;
            f->frame_offsets = grown;
        }
        f->frame_offsets[n++] = pos;
        pos += size;
    }
    f->frame_offsets[n] = pos;
    f->nframes = n;
    if (n == 1) { /* a header that lies about the size fails decompression */
        unsigned long long size = ZSTD_getFrameContentSize(f->map, f->file_size);
        f->split_frame = size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR;
        f->content_size = f->split_frame ? size : 0;
    }
    return 0;
}

int extract_file_open(const char *path, int compressed, extract_file *f,
                      char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->compressed = compressed;
    if (!(f->path = strdup(path))) return snprintf(err, errlen, "out of memory"), -1;
    struct stat st;
    if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(f->fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) return snprintf(err, errlen, "%s: not a regular file", path), -1;
    f->file_size = (uint64_t)st.st_size;
    if (!compressed || f->file_size == 0) return 0;
    void *map = mmap(NULL, f->file_size, PROT_READ, MAP_PRIVATE, f->fd, 0);
    if (map == MAP_FAILED) return snprintf(err, errlen, "%s: cannot map: %s", path, strerror(errno)), -1;
    f->map = map;
    return walk_frames(f, err, errlen);
}

void extract_file_close(extract_file *f) {
    if (f->map) munmap((void *)f->map, f->file_size);
    if (f->fd >= 0) close(f->fd);
    free(f->frame_offsets);
    free(f->path);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

uint64_t extract_file_units(const extract_file *f) {
    if (f->split_frame) return f->content_size;
    return f->compressed ? f->nframes : f->file_size;
}

uint64_t extract_file_unit_offset(const extract_file *f, uint64_t unit) {
    return f->compressed && !f->split_frame ? f->frame_offsets[unit] : unit;
}

byte_source *byte_source_open(const extract_file *f, uint64_t begin, uint64_t end) {
    byte_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->file = f;
    s->unit = s->begin = begin;
    s->end = end;
    if (begin >= end) s->end_known = 1;  /* an empty share ends at once */
    if (f->split_frame && begin != 0) { /* a frame decodes from its start only: relay.h cuts it */
        free(s);
        return NULL;
    }
    if (f->compressed && !(s->dctx = ZSTD_createDCtx())) {
        byte_source_free(s);
        return NULL;
    }
    return s;
}

byte_source *byte_source_open_relay(relay *r) {
    byte_source *s = calloc(1, sizeof *s);
    if (s) s->relay = r;
    return s;
}

void byte_source_free(byte_source *s) {
    if (!s) return;
    ZSTD_freeDCtx(s->dctx);
    free(s->ring);
    free(s);
}

const char *byte_source_error(const byte_source *s) { return s->relay ? relay_error(s->relay) : s->error; }

int byte_source_chunk_end(const byte_source *s, uint64_t *offset) {
    if (s->end_known) *offset = s->end_offset;
    return s->end_known;
}

double byte_source_progress(const byte_source *s) {
    if (s->relay) return relay_progress(s->relay);
    if (s->end <= s->begin) return 1.0;
    if (s->file->split_frame) {
        double f = (double)s->produced / (double)(s->end - s->begin);
        return f > 1.0 ? 1.0 : f;
    }
    uint64_t done = s->unit > s->end ? s->end : s->unit;
    return (double)(done - s->begin) / (double)(s->end - s->begin);
}

/* Notes the end of the share when the stream reaches it. */
static void mark_if_share_end(byte_source *s) {
    if (!s->end_known && s->unit == s->end) {
        s->end_known = 1;
        s->end_offset = s->produced;
    }
}

static ssize_t read_plain(byte_source *s, uint8_t *buf, size_t cap) {
    uint64_t limit = s->unit < s->end ? s->end : s->file->file_size;
    if (s->unit >= limit) return 0;
    if (cap > limit - s->unit) cap = (size_t)(limit - s->unit);
    ssize_t n;
    do n = pread(s->file->fd, buf, cap, (off_t)s->unit);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(s->error, sizeof s->error, "%s: read error: %s", s->file->path, strerror(errno));
        return -1;
    }
    if (n == 0) {
        snprintf(s->error, sizeof s->error, "%s: file shrank while being read", s->file->path);
        return -1;
    }
    s->unit += (uint64_t)n;
    s->produced += (uint64_t)n;
    mark_if_share_end(s);
    return n;
}

/* Decompresses within the current frame only, so frame (and share)
 * boundaries are seen exactly. */
static ssize_t read_compressed(byte_source *s, uint8_t *buf, size_t cap) {
    const extract_file *f = s->file;
    while (s->unit < f->nframes) {
        uint64_t start = f->frame_offsets[s->unit];
        size_t frame_size = (size_t)(f->frame_offsets[s->unit + 1] - start);
        ZSTD_inBuffer in = {f->map + start, frame_size, s->frame_pos};
        ZSTD_outBuffer out = {buf, cap, 0};
        size_t rc = ZSTD_decompressStream(s->dctx, &out, &in);
        if (ZSTD_isError(rc)) {
            snprintf(s->error, sizeof s->error, "%s: corrupt zstd frame at byte offset %llu (%s)",
                     f->path, (unsigned long long)start, ZSTD_getErrorName(rc));
            return -1;
        }
        s->frame_pos = in.pos;
        s->produced += out.pos;
        if (rc == 0) { /* frame complete */
            s->unit++;
            s->frame_pos = 0;
            mark_if_share_end(s);
        } else if (in.pos == in.size && out.pos < out.size) {
            snprintf(s->error, sizeof s->error, "%s: truncated zstd frame at byte offset %llu",
                     f->path, (unsigned long long)start);
            return -1;
        }
        if (out.pos > 0) return (ssize_t)out.pos;
    }
    return 0;
}

static int split_corrupt(byte_source *s, const char *why) {
    snprintf(s->error, sizeof s->error, "%s: corrupt zstd frame at byte offset 0 (%s)", s->file->path, why);
    return -1;
}

static int split_truncated(byte_source *s) {
    snprintf(s->error, sizeof s->error, "%s: truncated zstd frame at byte offset 0", s->file->path);
    return -1;
}

/* Reads the frame header and allocates the ring. 0 or -1. */
static int split_begin(byte_source *s) {
    const extract_file *f = s->file;
    ZSTD_frameHeader h;
    size_t rc = ZSTD_getFrameHeader(&h, f->map, f->file_size);
    if (ZSTD_isError(rc)) return split_corrupt(s, ZSTD_getErrorName(rc));
    if (rc > 0) return split_truncated(s);
    if (h.windowSize > SPLIT_MAX_WINDOW) return split_corrupt(s, "window larger than 128 MiB");
    size_t ring = ZSTD_decodingBufferSize_min(h.windowSize, h.frameContentSize);
    if (ZSTD_isError(ring)) return split_corrupt(s, ZSTD_getErrorName(ring));
    rc = ZSTD_decompressBegin(s->dctx);
    if (ZSTD_isError(rc)) return split_corrupt(s, ZSTD_getErrorName(rc));
    s->ring_size = ring > h.blockSizeMax ? ring : h.blockSizeMax;
    s->block_max = h.blockSizeMax;
    if (!(s->ring = malloc(s->ring_size ? s->ring_size : 1))) {
        snprintf(s->error, sizeof s->error, "%s: out of memory", f->path);
        return -1;
    }
    return 0;
}

/* Decodes the next block of the single frame into the ring, leaving its
 * bytes pending. Returns their count, 0 once the frame is complete, or
 * -1. A block is written after the previous one until the ring's end has
 * no room for a largest block, then at its start: the window the next
 * blocks refer back to stays intact (zstd.h, buffer-less decompression;
 * the rule of zstd's own streaming decoder). A ring that holds the whole
 * frame never wraps. */
static ssize_t split_next_block(byte_source *s) {
    const extract_file *f = s->file;
    if (!s->ring && split_begin(s)) return -1;
    for (;;) {
        size_t need = ZSTD_nextSrcSizeToDecompress(s->dctx);
        if (need == 0) {
            s->frame_done = 1;
            return 0;
        }
        if (need > f->file_size - s->frame_pos) return split_truncated(s);
        if (s->ring_size < s->file->content_size && s->ring_size - s->ring_pos < s->block_max) s->ring_pos = 0;
        size_t n = ZSTD_decompressContinue(s->dctx, s->ring + s->ring_pos, s->ring_size - s->ring_pos,
                                           f->map + s->frame_pos, need);
        if (ZSTD_isError(n)) return split_corrupt(s, ZSTD_getErrorName(n));
        s->frame_pos += need;
        if (n == 0) continue; /* a header or the checksum */
        s->pending = s->ring + s->ring_pos;
        s->pending_len = n;
        s->ring_pos += n;
        return (ssize_t)n;
    }
}

/* Points *data at up to cap decoded bytes of the frame, consumed. Returns
 * their count, 0 once the frame is complete, or -1. */
static ssize_t split_take(byte_source *s, size_t cap, const uint8_t **data) {
    if (s->pending_len == 0 && !s->frame_done) {
        ssize_t n = split_next_block(s);
        if (n <= 0) return n;
    }
    size_t n = s->pending_len < cap ? s->pending_len : cap;
    *data = s->pending;
    s->pending += n;
    s->pending_len -= n;
    return (ssize_t)n;
}

/* Decompresses the next bytes of the single frame into buf. Returns the
 * count (0 once the frame is complete) or -1. */
static ssize_t decompress_split(byte_source *s, uint8_t *buf, size_t cap) {
    size_t done = 0;
    while (done < cap) {
        const uint8_t *data;
        ssize_t n = split_take(s, cap - done, &data);
        if (n < 0) return -1;
        if (n == 0) break;
        memcpy(buf + done, data, (size_t)n);
        done += (size_t)n;
    }
    return (ssize_t)done;
}

ssize_t byte_source_next_decoded(byte_source *s, const uint8_t **data) {
    return split_take(s, SIZE_MAX, data);
}

/* The split_frame share, stopping once exactly at its end. */
static ssize_t read_split(byte_source *s, uint8_t *buf, size_t cap) {
    uint64_t share = s->end - s->begin;
    if (!s->end_known && cap > share - s->produced) cap = (size_t)(share - s->produced);
    ssize_t n = decompress_split(s, buf, cap);
    if (n <= 0) return n;
    s->produced += (uint64_t)n;
    if (!s->end_known && s->produced == share) s->end_known = 1, s->end_offset = share;
    return n;
}

ssize_t byte_source_read(byte_source *s, uint8_t *buf, size_t cap) {
    if (cap == 0) return 0;
    if (s->relay) return relay_read(s->relay, buf, cap);
    if (s->file->split_frame) return read_split(s, buf, cap);
    return s->file->compressed ? read_compressed(s, buf, cap) : read_plain(s, buf, cap);
}
