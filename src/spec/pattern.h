/* pattern.h — the text patterns of schemas/ (`[0-9]{9}`, `[A-Z]{3}`):
 * a sequence of character classes or literal bytes, each with an exact or
 * bounded repeat. Deliberately not a regex engine: no alternation, no
 * backtracking, linear time, so a hostile field costs what its length costs.
 * Matching is greedy per element, which is exact when consecutive elements
 * have disjoint classes (the schema author's job; documented in schemas/). */
#ifndef ESEP_PATTERN_H
#define ESEP_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define PATTERN_MAX_ELEMENTS 32

typedef struct {
    uint8_t accepts[32]; /* bitmap over byte values */
    uint16_t min, max;   /* repeat bounds */
} pattern_element;

typedef struct {
    pattern_element elements[PATTERN_MAX_ELEMENTS];
    int count;
} pattern;

/* Compiles text into *out. Returns 0, or -1 with a message in err naming
 * the offending position. Cannot fail otherwise; nothing to free. */
int pattern_compile(const char *text, pattern *out, char *err, size_t errlen);

/* True when the whole of s[0..len) matches. Cannot fail. */
int pattern_match(const pattern *p, const char *s, size_t len);

#endif
