/* csv_scanner.c — see csv_scanner.h. The common record (no quote, its
 * line end already in the buffer) is found and split in one pass over
 * 32-byte blocks: each block gives a bit mask of its `;`, `\n` and `"`
 * bytes (and one of its bytes that are not plain ASCII), and the record's
 * fields fall out of the set bits in order. No byte is copied, and a record
 * seen to be plain ASCII needs no UTF-8 check later. SSE2 (the x86-64
 * baseline) computes the masks; a portable loop computes the same masks
 * elsewhere and is tested against it. Any other record — a quote, a line
 * end beyond the buffer — falls back to the general path, which tracks
 * quote parity byte by byte and unescapes `""` into a scratch buffer, so
 * the rules live in one place. */
#include "csv_scanner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define BLOCK 32              /* bytes per mask */
#define BUF_PAD BLOCK         /* readable bytes after the buffer: the last
                                 block may start at its last byte */

struct csv_scanner {
    byte_source *src;
    uint8_t *buf;
    size_t cap, pos, end;     /* unread data is buf[pos..end) */
    uint64_t buf_offset;      /* stream offset of buf[0] */
    int eof;
    csv_start start;
    int positioned;           /* the first record start has been found */
    size_t lead;              /* BOM bytes before the first record: they
                                 belong to it when deciding its share */
    int64_t line;             /* line number of buf[pos] */
    int portable;             /* block masks by the portable loop */
    char *scratch;            /* unescaped quoted fields */
    char *long_raw;           /* kept prefix of an over-long record */
    char error[256];
};

csv_scanner *csv_scanner_new(byte_source *src, size_t buffer_size, csv_start start) {
    csv_scanner *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (buffer_size < 2 * CSV_MAX_RECORD) buffer_size = 2 * CSV_MAX_RECORD;
    s->src = src;
    s->cap = buffer_size;
    s->start = start;
    s->line = start.first_line;
    s->buf = malloc(buffer_size + BUF_PAD);
    s->scratch = malloc(CSV_MAX_RECORD + 1);
    s->long_raw = malloc(CSV_RAW_KEEP);
    if (!s->buf || !s->scratch || !s->long_raw) {
        csv_scanner_free(s);
        return NULL;
    }
    memset(s->buf + buffer_size, 0, BUF_PAD); /* masked off, but defined */
#ifndef __SSE2__
    s->portable = 1;
#endif
    return s;
}

void csv_scanner_restart(csv_scanner *s, csv_start start) {
    s->pos = s->end = 0;
    s->buf_offset = 0;
    s->eof = 0;
    s->start = start;
    s->positioned = 0;
    s->lead = 0;
    s->line = start.first_line;
}

void csv_scanner_use_portable(csv_scanner *s) { s->portable = 1; }

void csv_scanner_free(csv_scanner *s) {
    if (!s) return;
    free(s->buf);
    free(s->scratch);
    free(s->long_raw);
    free(s);
}

const char *csv_scanner_error(const csv_scanner *s) { return s->error; }

/* Moves unread data to the front and reads more. Returns 1 when bytes were
 * added, 0 at end of stream, -1 on error. */
static int refill(csv_scanner *s) {
    if (s->eof) return 0;
    if (s->pos > 0) {
        memmove(s->buf, s->buf + s->pos, s->end - s->pos);
        s->buf_offset += s->pos;
        s->end -= s->pos;
        s->pos = 0;
    }
    if (s->end == s->cap) return 1; /* full: caller handles long records */
    ssize_t n = byte_source_read(s->src, s->buf + s->end, s->cap - s->end);
    if (n < 0) {
        snprintf(s->error, sizeof s->error, "%s", byte_source_error(s->src));
        return -1;
    }
    if (n == 0) {
        s->eof = 1;
        return 0;
    }
    s->end += (size_t)n;
    return 1;
}

/* Skips from a position inside a record to the start of the next one,
 * tracking quote parity; counts the lines passed. 0 or -1. */
static int skip_to_record_start(csv_scanner *s) {
    int parity = s->start.quote_parity;
    for (;;) {
        for (; s->pos < s->end; s->pos++) {
            uint8_t c = s->buf[s->pos];
            if (c == '"') parity ^= 1;
            else if (c == '\n') {
                s->line++;
                if (!parity) {
                    s->pos++;
                    return 0;
                }
            }
        }
        int r = refill(s);
        if (r <= 0) return r;
    }
}

static int skip_bom(csv_scanner *s) {
    while (s->end - s->pos < 3) {
        int r = refill(s);
        if (r < 0) return -1;
        if (r == 0) break;
    }
    if (s->end - s->pos >= 3 && !memcmp(s->buf + s->pos, "\xEF\xBB\xBF", 3)) s->pos += 3, s->lead = 3;
    return 0;
}

static int position_at_first_record(csv_scanner *s) {
    s->positioned = 1;
    if (s->start.file_start) return skip_bom(s);
    if (s->start.at_record_start) return 0;
    return skip_to_record_start(s);
}

/* True when the byte at buf[pos] lies at or past the end of the share. */
static int past_share_end(const csv_scanner *s) {
    uint64_t end_offset;
    return byte_source_chunk_end(s->src, &end_offset) &&
           s->buf_offset + s->pos - s->lead >= end_offset;
}

/* Splits an unquoted record on `;`. */
static void split_plain(csv_record *rec, const char *p, size_t len) {
    const char *end = p + len;
    rec->nfields = 0;
    for (;;) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        if (rec->nfields == CSV_MAX_FIELDS) {
            rec->status = CSV_RECORD_TOO_MANY_FIELDS;
            return;
        }
        rec->field[rec->nfields] = p;
        rec->field_len[rec->nfields++] = (uint32_t)(stop - p);
        if (!semi) return;
        p = semi + 1;
    }
}

/* Splits a record that holds quotes, unescaping into scratch. */
static void split_quoted(csv_record *rec, const char *p, size_t len, char *scratch) {
    size_t i = 0, out = 0;
    rec->nfields = 0;
    for (;;) {
        if (rec->nfields == CSV_MAX_FIELDS) {
            rec->status = CSV_RECORD_TOO_MANY_FIELDS;
            return;
        }
        size_t field_start = out;
        if (i < len && p[i] == '"') {
            for (i++;; i++) {
                if (i == len) {
                    rec->status = CSV_RECORD_BAD_QUOTING; /* never closed */
                    return;
                }
                if (p[i] == '"') {
                    if (i + 1 < len && p[i + 1] == '"') scratch[out++] = '"', i++;
                    else break;
                } else {
                    scratch[out++] = p[i];
                }
            }
            i++; /* closing quote */
            if (i < len && p[i] != ';') {
                rec->status = CSV_RECORD_BAD_QUOTING;
                return;
            }
        } else {
            for (; i < len && p[i] != ';'; i++) {
                if (p[i] == '"') {
                    rec->status = CSV_RECORD_BAD_QUOTING;
                    return;
                }
                scratch[out++] = p[i];
            }
        }
        rec->field[rec->nfields] = scratch + field_start;
        rec->field_len[rec->nfields++] = (uint32_t)(out - field_start);
        if (i >= len) return;
        i++; /* the separator */
    }
}

/* Bit i of each mask is about byte i of a block. */
typedef struct {
    uint32_t structural;      /* `;`, `\n` or `"` */
    uint32_t special;         /* not plain ASCII: >= 0x80, or NUL */
} block_masks;

static inline block_masks masks_portable(const uint8_t *p) {
    block_masks m = {0, 0};
    for (unsigned i = 0; i < BLOCK; i++) {
        uint8_t c = p[i];
        m.structural |= (uint32_t)(c == ';' || c == '\n' || c == '"') << i;
        m.special |= (uint32_t)(c >= 0x80 || c == 0) << i;
    }
    return m;
}

#ifdef __SSE2__
static inline uint32_t structural16(__m128i v) {
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(';')),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
    return (uint32_t)_mm_movemask_epi8(hit);
}

static inline uint32_t special16(__m128i v) {
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, _mm_setzero_si128())));
}

static inline block_masks masks_sse2(const uint8_t *p) {
    __m128i lo = _mm_loadu_si128((const __m128i *)p), hi = _mm_loadu_si128((const __m128i *)(p + 16));
    block_masks m = {structural16(lo) | structural16(hi) << 16, special16(lo) | special16(hi) << 16};
    return m;
}
#define MASKS(p, portable) ((portable) ? masks_portable(p) : masks_sse2(p))
#else
#define MASKS(p, portable) ((void)(portable), masks_portable(p))
#endif

/* The record at pos when it holds no quote and its `\n` is in the buffer:
 * sets *rec_end (index of the `\n`), splits it into rec's fields as
 * split_plain would and notes whether it is plain ASCII. Returns 0 without
 * consuming anything otherwise (the general path takes the record). */
static inline int scan_plain(const csv_scanner *s, csv_record *rec, size_t *rec_end, int portable) {
    const uint8_t *base = s->buf + s->pos, *end = s->buf + s->end, *start = base;
    size_t nsemi = 0;
    uint32_t special = 0;
    for (const uint8_t *block = base; block < end; block += BLOCK) {
        block_masks m = MASKS(block, portable);
        size_t avail = (size_t)(end - block);
        if (avail < BLOCK) {
            uint32_t keep = (1u << avail) - 1;
            m.structural &= keep;
            m.special &= keep;
        }
        for (uint32_t bits = m.structural; bits; bits &= bits - 1) {
            unsigned i = (unsigned)__builtin_ctz(bits);
            const uint8_t *at = block + i;
            if (*at == '"') return 0;
            if (*at == ';') {
                if (nsemi < CSV_MAX_FIELDS) {
                    rec->field[nsemi] = (const char *)start;
                    rec->field_len[nsemi] = (uint32_t)(at - start);
                }
                nsemi++;
                start = at + 1;
                continue;
            }
            size_t len = (size_t)(at - base); /* the `\n` */
            if (len > 0 && base[len - 1] == '\r') len--;
            rec->ascii = !(special | (m.special & ((1u << i) - 1)));
            *rec_end = s->pos + (size_t)(at - base);
            if (nsemi >= CSV_MAX_FIELDS) {
                rec->status = CSV_RECORD_TOO_MANY_FIELDS;
                rec->nfields = CSV_MAX_FIELDS;
            } else {
                rec->field[nsemi] = (const char *)start;
                rec->field_len[nsemi] = (uint32_t)(base + len - start);
                rec->nfields = nsemi + 1;
            }
            return 1;
        }
        special |= m.special;
    }
    return 0;
}

/* Finds the end of the record at pos, refilling as needed. Sets *rec_end
 * (index of its `\n`, or end at EOF) and *inner_lines. Returns 1, or 2
 * when the record is over-long (then the record has been consumed), or -1.
 * The fast path handles a quote-free record in the buffer. */
static int find_record_end(csv_scanner *s, size_t *rec_end, int64_t *inner_lines, int *has_quote) {
    size_t avail = s->end - s->pos;
    const uint8_t *nl = memchr(s->buf + s->pos, '\n', avail);
    if (nl && !memchr(s->buf + s->pos, '"', (size_t)(nl - (s->buf + s->pos)))) {
        *rec_end = (size_t)(nl - s->buf);
        *inner_lines = 0;
        *has_quote = 0;
        return 1;
    }
    int parity = 0;
    size_t i = s->pos;
    int64_t lines = 0;
    *has_quote = 0;
    size_t kept = 0;
    int too_long = 0;
    for (;;) {
        for (; i < s->end; i++) {
            uint8_t c = s->buf[i];
            if (c == '"') parity ^= 1, *has_quote = 1;
            else if (c == '\n') {
                if (!parity) {
                    *rec_end = i;
                    *inner_lines = lines;
                    return too_long ? 2 : 1;
                }
                lines++;
            }
        }
        if (i - s->pos > CSV_MAX_RECORD || too_long) {
            /* over-long: keep a prefix, drop the rest as it streams by */
            if (!too_long) {
                kept = CSV_RAW_KEEP;
                memcpy(s->long_raw, s->buf + s->pos, kept);
                too_long = 1;
            }
            s->pos = i;
        }
        size_t offset = i - s->pos;
        int r = refill(s);
        if (r < 0) return -1;
        i = s->pos + offset;
        if (r == 0) {
            *rec_end = s->end;
            *inner_lines = lines;
            return too_long ? 2 : 1;
        }
    }
}

int csv_scanner_next_record(csv_scanner *s, csv_record *rec) {
    if (!s->positioned && position_at_first_record(s) < 0) return -1;
    if (past_share_end(s)) return 0;
    if (s->pos == s->end) {
        int r = refill(s);
        if (r <= 0) return r;
        if (past_share_end(s)) return 0;
    }
    size_t rec_end;
    rec->status = CSV_RECORD_OK;
    if (s->portable ? scan_plain(s, rec, &rec_end, 1) : scan_plain(s, rec, &rec_end, 0)) {
        size_t len = rec_end - s->pos;
        s->lead = 0;
        rec->line = s->line++;
        rec->raw = (const char *)s->buf + s->pos;
        rec->raw_len = len > 0 && rec->raw[len - 1] == '\r' ? len - 1 : len;
        if (rec->raw_len > CSV_MAX_RECORD) {
            rec->status = CSV_RECORD_TOO_LONG;
            rec->raw_len = CSV_RAW_KEEP;
            rec->nfields = 0;
        }
        s->pos = rec_end + 1;
        return 1;
    }
    rec->ascii = 0;
    int64_t inner_lines;
    int has_quote;
    int found = find_record_end(s, &rec_end, &inner_lines, &has_quote);
    if (found < 0) return -1;
    s->lead = 0;
    rec->line = s->line;
    s->line += 1 + inner_lines;
    size_t next = rec_end < s->end ? rec_end + 1 : rec_end;
    if (found == 2) {
        rec->status = CSV_RECORD_TOO_LONG;
        rec->raw = s->long_raw;
        rec->raw_len = CSV_RAW_KEEP;
        rec->nfields = 0;
        s->pos = next;
        return 1;
    }
    size_t len = rec_end - s->pos;
    const char *p = (const char *)s->buf + s->pos;
    if (len > 0 && p[len - 1] == '\r') len--;
    rec->status = CSV_RECORD_OK;
    rec->raw = p;
    rec->raw_len = len;
    if (len > CSV_MAX_RECORD) {
        rec->status = CSV_RECORD_TOO_LONG;
        rec->raw_len = CSV_RAW_KEEP;
    } else if (has_quote) {
        split_quoted(rec, p, len, s->scratch);
    } else {
        split_plain(rec, p, len);
    }
    s->pos = next;
    return 1;
}

void csv_block_stats_add_portable(csv_block_stats *st, const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        st->newlines += data[i] == '\n';
        st->quotes += data[i] == '"';
    }
    if (len > 0) st->last_byte = data[len - 1];
    st->bytes += len;
}

#ifdef __SSE2__
/* Counts in byte lanes (a match subtracts -1), summed into 64-bit lanes
 * by _mm_sad_epu8 before any lane can pass 255. */
void csv_block_stats_add(csv_block_stats *st, const uint8_t *data, size_t len) {
    size_t i = 0;
    __m128i nl = _mm_set1_epi8('\n'), q = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
    __m128i sum_nl = zero, sum_q = zero;
    while (len - i >= 16) {
        __m128i acc_nl = zero, acc_q = zero;
        for (size_t k = 0; k < 255 && len - i >= 16; k++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(data + i));
            acc_nl = _mm_sub_epi8(acc_nl, _mm_cmpeq_epi8(v, nl));
            acc_q = _mm_sub_epi8(acc_q, _mm_cmpeq_epi8(v, q));
        }
        sum_nl = _mm_add_epi64(sum_nl, _mm_sad_epu8(acc_nl, zero));
        sum_q = _mm_add_epi64(sum_q, _mm_sad_epu8(acc_q, zero));
    }
    uint64_t lanes[2];
    _mm_storeu_si128((__m128i *)lanes, sum_nl);
    st->newlines += lanes[0] + lanes[1];
    _mm_storeu_si128((__m128i *)lanes, sum_q);
    st->quotes += lanes[0] + lanes[1];
    st->bytes += i;
    csv_block_stats_add_portable(st, data + i, len - i);
    if (len > 0) st->last_byte = data[len - 1];
}
#else
void csv_block_stats_add(csv_block_stats *st, const uint8_t *data, size_t len) {
    csv_block_stats_add_portable(st, data, len);
}
#endif
