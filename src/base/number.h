/* number.h — the two numeric field syntaxes of extracts.md, parsed exactly:
 * integers, and money as decimal tenge with at most two decimals, turned into
 * integer tiyn (1 tenge = 100 tiyn). No floating point anywhere: a sum of
 * money must be the same on every machine and for every rank count. */
#ifndef ESEP_NUMBER_H
#define ESEP_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* Parses an optional '-' and 1..18 decimal digits (no '+', no spaces).
 * Returns 0 and sets *out, or -1. Cannot fail otherwise. */
int number_parse_int(const char *s, size_t len, int64_t *out);

/* Parses money `D+` or `D+.D` or `D+.DD` (optional leading '-', at most 15
 * integer digits) into tiyn. Returns 0 and sets *out, or -1. */
int number_parse_money(const char *s, size_t len, int64_t *out);

/* Reads exactly the 8 bytes at s as decimal digits, all eight at once
 * (SWAR: one 64-bit load, a range test per byte and three multiplies).
 * Returns 0 and sets *out (0..99999999), or -1 when any byte is not
 * '0'..'9'. Cannot fail otherwise. */
int number_parse_digits8(const char *s, uint32_t *out);

/* Writes tiyn as tenge with exactly two decimals (`-12.05`) into out, which
 * must hold 32 bytes; returns the length. Cannot fail. */
int number_format_money(int64_t tiyn, char out[32]);

#endif
