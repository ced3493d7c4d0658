/* number.h — the two numeric field syntaxes of extracts.md, parsed exactly:
 * integers, and money as decimal tenge with at most two decimals, turned into
 * integer tiyn (1 tenge = 100 tiyn). No floating point anywhere: a sum of
 * money must be the same on every machine and for every rank count. */
#ifndef ESEP_NUMBER_H
#define ESEP_NUMBER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Parses an optional '-' and 1..18 decimal digits (no '+', no spaces).
 * Returns 0 and sets *out, or -1. Cannot fail otherwise. */
int number_parse_int(const char *s, size_t len, int64_t *out);

/* Parses money `D+` or `D+.D` or `D+.DD` (optional leading '-', at most 15
 * integer digits) into tiyn. Returns 0 and sets *out, or -1. */
int number_parse_money(const char *s, size_t len, int64_t *out);

/* Reads exactly the 8 bytes at s as decimal digits, all eight at once
 * (SWAR: one 64-bit load, a range test per byte and three multiplies).
 * Returns 0 and sets *out (0..99999999), or -1 when any byte is not
 * '0'..'9'. Cannot fail otherwise. Inline: it runs on every KATO code and
 * IIN of every row. */
static inline int number_parse_digits8(const char *s, uint32_t *out) {
    const uint64_t high = 0xF0F0F0F0F0F0F0F0ull, zeros = 0x3030303030303030ull;
    uint64_t v;
    memcpy(&v, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    /* now s[0], the most significant digit, is the low byte */
    /* every byte 0x30..0x3F, and still 0x3_ with 6 added: '0'..'9' */
    if ((v & high) != zeros || ((v + 0x0606060606060606ull) & high) != zeros) return -1;
    v -= zeros;
    v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFull;       /* pairs */
    v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFull;     /* quads */
    *out = (uint32_t)(v * 10000 + (v >> 32));
    return 0;
}

/* Writes tiyn as tenge with exactly two decimals (`-12.05`) into out, which
 * must hold 32 bytes; returns the length. Cannot fail. */
int number_format_money(int64_t tiyn, char out[32]);

#endif
