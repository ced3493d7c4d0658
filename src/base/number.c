/* number.c — see number.h. Digit limits keep every value far inside int64,
 * so no parse can overflow. */
#include "number.h"

#include <stdio.h>

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
    size_t negative = len > 0 && s[0] == '-', i = negative;
    if (len - negative < 1 || len - negative > 18) return -1; /* all of it must be digits */
    int64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) return -1;
        v = v * 10 + d;
    }
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
