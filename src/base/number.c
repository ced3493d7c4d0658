/* number.c — see number.h. Digit limits keep every value far inside int64,
 * so no parse can overflow. */
#include "number.h"

#include <stdio.h>
#include <string.h>

int number_parse_digits8(const char *s, uint32_t *out) {
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

/* Reads 1..max_digits digits from s[0..len); returns how many, or -1. */
static int read_uint(const char *s, size_t len, int max_digits, int64_t *out) {
    int64_t v = 0;
    size_t i = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) break;
        if ((int)i == max_digits) return -1;
        v = v * 10 + d;
    }
    if (i == 0) return -1;
    *out = v;
    return (int)i;
}

int number_parse_int(const char *s, size_t len, int64_t *out) {
    int negative = len > 0 && s[0] == '-';
    int64_t v;
    int n = read_uint(s + negative, len - (size_t)negative, 18, &v);
    if (n < 0 || (size_t)n + (size_t)negative != len) return -1;
    *out = negative ? -v : v;
    return 0;
}

int number_parse_money(const char *s, size_t len, int64_t *out) {
    int negative = len > 0 && s[0] == '-';
    size_t i = (size_t)negative;
    int64_t whole, frac = 0;
    int n = read_uint(s + i, len - i, 15, &whole);
    if (n < 0) return -1;
    i += (size_t)n;
    if (i < len) {
        if (s[i] != '.') return -1;
        i++;
        int m = read_uint(s + i, len - i, 2, &frac);
        if (m < 0 || i + (size_t)m != len) return -1;
        if (m == 1) frac *= 10;
        i += (size_t)m;
    }
    int64_t tiyn = whole * 100 + frac;
    *out = negative ? -tiyn : tiyn;
    return 0;
}

int number_format_money(int64_t tiyn, char out[32]) {
    uint64_t mag = tiyn < 0 ? (uint64_t)0 - (uint64_t)tiyn : (uint64_t)tiyn;
    return snprintf(out, 32, "%s%llu.%02llu", tiyn < 0 ? "-" : "",
                    (unsigned long long)(mag / 100), (unsigned long long)(mag % 100));
}
