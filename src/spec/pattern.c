/* pattern.c — see pattern.h. */
#include "pattern.h"

#include <stdio.h>
#include <string.h>

static void accept_byte(pattern_element *e, unsigned c) {
    e->accepts[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int element_accepts(const pattern_element *e, unsigned char c) {
    return (e->accepts[c >> 3] >> (c & 7)) & 1;
}

/* Parses `[...]` starting at text[*i] == '['; ranges a-b and single bytes. */
static int parse_class(const char *text, size_t *i, pattern_element *e,
                       char *err, size_t errlen) {
    size_t start = *i;
    (*i)++;
    while (text[*i] && text[*i] != ']') {
        unsigned lo = (unsigned char)text[*i], hi = lo;
        if (text[*i + 1] == '-' && text[*i + 2] && text[*i + 2] != ']') {
            hi = (unsigned char)text[*i + 2];
            *i += 2;
        }
        if (hi < lo) {
            snprintf(err, errlen, "pattern '%s': reversed range at %zu", text, *i);
            return -1;
        }
        for (unsigned c = lo; c <= hi; c++) accept_byte(e, c);
        (*i)++;
    }
    if (text[*i] != ']') {
        snprintf(err, errlen, "pattern '%s': '[' at %zu is not closed", text, start);
        return -1;
    }
    (*i)++;
    return 0;
}

/* Parses an optional `{n}` or `{n,m}` after an element. */
static int parse_repeat(const char *text, size_t *i, pattern_element *e,
                        char *err, size_t errlen) {
    e->min = e->max = 1;
    if (text[*i] != '{') return 0;
    unsigned lo = 0, hi = 0;
    int n = 0;
    if (sscanf(text + *i, "{%u,%u}%n", &lo, &hi, &n) == 2 && n > 0) {
    } else if (sscanf(text + *i, "{%u}%n", &lo, &n) == 1 && n > 0) {
        hi = lo;
    } else {
        snprintf(err, errlen, "pattern '%s': bad repeat at %zu", text, *i);
        return -1;
    }
    if (hi < lo || hi > 4096 || hi == 0) {
        snprintf(err, errlen, "pattern '%s': repeat out of range at %zu", text, *i);
        return -1;
    }
    e->min = (uint16_t)lo;
    e->max = (uint16_t)hi;
    *i += (size_t)n;
    return 0;
}

int pattern_compile(const char *text, pattern *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (text[i]) {
        if (out->count == PATTERN_MAX_ELEMENTS) {
            snprintf(err, errlen, "pattern '%s': more than %d elements", text,
                     PATTERN_MAX_ELEMENTS);
            return -1;
        }
        pattern_element *e = &out->elements[out->count++];
        if (text[i] == '[') {
            if (parse_class(text, &i, e, err, errlen)) return -1;
        } else {
            if (text[i] == '\\' && text[i + 1]) i++;
            accept_byte(e, (unsigned char)text[i++]);
        }
        if (parse_repeat(text, &i, e, err, errlen)) return -1;
    }
    return 0;
}

int pattern_match(const pattern *p, const char *s, size_t len) {
    size_t pos = 0;
    for (int k = 0; k < p->count; k++) {
        const pattern_element *e = &p->elements[k];
        unsigned n = 0;
        while (n < e->max && pos < len && element_accepts(e, (unsigned char)s[pos])) {
            n++;
            pos++;
        }
        if (n < e->min) return 0;
    }
    return pos == len;
}
