/* source.h — the bytes of one extract file, plain or Zstandard, and how
 * they are cut into units that ranks can read independently: bytes for a
 * plain `.csv`, whole frames for a multi-frame `.csv.zst`, and decompressed
 * bytes for a single-frame `.csv.zst` (what the ordinary `zstd` command
 * writes). A frame can only be decompressed from its start, so a source
 * over a single frame always starts there; the ranks share such a frame
 * through relay.h, which hands out its decoded blocks
 * (byte_source_next_decoded) as segments. Owns the file descriptor, the
 * mapping of compressed files and the frame table; a byte_source reads the
 * decompressed stream from a given unit on, to the end of the file. */
#ifndef ESEP_SOURCE_H
#define ESEP_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    char *path;
    int compressed;
    int fd;
    uint64_t file_size;
    const uint8_t *map;       /* compressed: the whole file, read-only */
    uint64_t *frame_offsets;  /* compressed: nframes + 1 entries */
    size_t nframes;
    int split_frame;          /* one frame of known size: units are its
                                 decompressed bytes */
    uint64_t content_size;    /* split_frame: decompressed bytes */
} extract_file;

/* Opens path; for a compressed file also maps it and walks its frames.
 * Returns 0, or -1 with one clear message in err (missing file, not zstd,
 * truncated or corrupt frame at byte offset N). The caller closes with
 * extract_file_close, also after an error. */
int extract_file_open(const char *path, int compressed, extract_file *f,
                      char *err, size_t errlen);

/* Releases everything; safe on a zeroed or half-opened struct. */
void extract_file_close(extract_file *f);

/* Units a file is split in: bytes (plain), frames (multi-frame
 * compressed), or decompressed bytes (split_frame). */
uint64_t extract_file_units(const extract_file *f);

/* Bytes before unit u — compressed bytes for multi-frame files, stream
 * bytes otherwise: the weight used to balance ranks. */
uint64_t extract_file_unit_offset(const extract_file *f, uint64_t unit);

typedef struct byte_source byte_source;
struct relay;

/* A reader of the decompressed stream starting at unit `begin` (0 for a
 * split_frame file). Reads stop exactly at the end of unit `end` once, so
 * the caller learns where its share ends (byte_source_chunk_end); later
 * reads go on to the end of the file. Returns NULL when out of memory or
 * when a split frame is asked for from elsewhere than its start. Free with
 * byte_source_free. */
byte_source *byte_source_open(const extract_file *f, uint64_t begin, uint64_t end);

/* A reader of the segments a relay gives this rank (relay.h): a read
 * returns 0 at the end of each segment, after which relay_next_segment
 * moves to the next; the share's end is never known in advance. r is not
 * owned. Returns NULL when out of memory. */
byte_source *byte_source_open_relay(struct relay *r);

/* Split-frame sources: points *data at the next decoded bytes of the
 * frame, from its first byte on and ignoring the share (valid until the
 * next call; they are consumed). Returns their count, 0 once the frame is
 * complete, or -1 with byte_source_error. For a reader that routes the
 * stream itself (relay.h) and so needs no copy. */
ssize_t byte_source_next_decoded(byte_source *s, const uint8_t **data);

/* Reads up to cap bytes. Returns the count, 0 at end of file, or -1 with a
 * message available from byte_source_error. */
ssize_t byte_source_read(byte_source *s, uint8_t *buf, size_t cap);

/* When the stream offset where unit `end` finishes is known, sets *offset
 * and returns 1; otherwise 0. Offsets count from the start of this source. */
int byte_source_chunk_end(const byte_source *s, uint64_t *offset);

/* Fraction of this source's own share read so far, 0..1, for progress. */
double byte_source_progress(const byte_source *s);

const char *byte_source_error(const byte_source *s);

void byte_source_free(byte_source *s);

#endif
