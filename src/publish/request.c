/* request.c — see request.h. */
#include "request.h"

#include <string.h>
#include <strings.h>

#include "layout.h"
#include "serve.h"

/* ---- request target -------------------------------------------------- */

int request_path_char(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == '/';
}

/* Splits the raw path into segments (in seg, copied). Returns the count,
 * or -1 when the path is not clean. */
static int split_path(const char *raw, size_t len, char seg[5][16]) {
    if (len == 0 || len > SERVE_MAX_PATH || raw[0] != '/') return -1;
    for (size_t i = 0; i < len; i++)
        if (!request_path_char((unsigned char)raw[i])) return -1;
    int n = 0;
    for (size_t i = 1; i <= len;) {
        size_t j = i;
        while (j < len && raw[j] != '/') j++;
        size_t k = j - i;
        if (k == 0 || n == 5 || k >= sizeof seg[0]) return -1;
        memcpy(seg[n], raw + i, k);
        seg[n][k] = '\0';
        if (!strcmp(seg[n], ".") || !strcmp(seg[n], "..")) return -1;
        n++;
        i = j + 1;
    }
    return n;
}

/* The endpoints: the path segments after /v1/ (NULL ends a pattern; "*"
 * is the region, "+" the period). Add a line to add an endpoint. */
static const struct {
    route_kind kind;
    const char *seg[4];
} endpoints[] = {
    {ROUTE_CATALOG, {"catalog", NULL}},
    {ROUTE_BUNDLE, {"bundles", "*", "+", NULL}},
    {ROUTE_SIGNATURE, {"bundles", "*", "+", "signature"}},
};

/* Matches segments seg[1..n) against one endpoint pattern. 1 on a match
 * (region/period copied into r), 0 no match, -1 matched with an invalid
 * region or period. */
static int match_endpoint(size_t e, char seg[5][16], int n, route *r) {
    int k = 0, bad = 0;
    for (; k < 4 && endpoints[e].seg[k]; k++) {
        const char *want = endpoints[e].seg[k], *got = k + 1 < n ? seg[k + 1] : NULL;
        if (!got) return 0;
        if (!strcmp(want, "*")) {
            if (!layout_valid_region(got)) bad = 1;
            else memcpy(r->region, got, 3);
            r->needs_region = 1;
        } else if (!strcmp(want, "+")) {
            if (!layout_valid_period(got)) bad = 1;
            else memcpy(r->period, got, strlen(got) + 1);
        } else if (strcmp(want, got)) {
            return 0;
        }
    }
    if (k + 1 != n) return 0;
    return bad ? -1 : 1;
}

route request_route(const char *raw, size_t len) {
    route r = {ROUTE_BAD, 0, "", ""};
    char seg[5][16];
    int n = split_path(raw, len, seg);
    if (n < 0) return r;
    r.kind = ROUTE_NONE;
    if (n < 2 || strcmp(seg[0], "v1")) return r;
    for (size_t e = 0; e < sizeof endpoints / sizeof *endpoints; e++) {
        route m = {endpoints[e].kind, 0, "", ""};
        int got = match_endpoint(e, seg, n, &m);
        if (got > 0) return m;
        if (got < 0) return r.kind = ROUTE_BAD, r;
    }
    return r;
}

int request_parse_u63(const char *s, size_t n, uint64_t *v) {
    if (n == 0 || n > 18) return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

int request_range(const char *h, uint64_t size, uint64_t *first, uint64_t *len) {
    while (*h == ' ' || *h == '\t') h++;
    if (strncasecmp(h, "bytes=", 6)) return 0;
    const char *spec = h + 6;
    if (strchr(spec, ',')) return 0;
    size_t n = strlen(spec);
    while (n && (spec[n - 1] == ' ' || spec[n - 1] == '\t')) n--;
    while (n && (*spec == ' ' || *spec == '\t')) spec++, n--;
    const char *dash = memchr(spec, '-', n);
    if (!dash) return -1;
    uint64_t a, b;
    if (dash == spec) { /* bytes=-n: the last n bytes */
        if (request_parse_u63(spec + 1, n - 1, &b) || b == 0 || size == 0) return -1;
        if (b > size) b = size;
        *first = size - b, *len = b;
        return 1;
    }
    if (request_parse_u63(spec, (size_t)(dash - spec), &a) || a >= size) return -1;
    size_t rest = n - (size_t)(dash - spec) - 1;
    if (rest == 0) b = size - 1;
    else if (request_parse_u63(dash + 1, rest, &b) || b < a) return -1;
    if (b >= size) b = size - 1;
    *first = a, *len = b - a + 1;
    return 1;
}

int request_none_match(const char *h, const char *etag) {
    size_t elen = strlen(etag);
    for (const char *p = h; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        const char *end = p;
        while (*end && *end != ',') end++;
        size_t n = (size_t)(end - p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        if (n == 1 && *p == '*') return 1;
        if (n > 2 && !strncmp(p, "W/", 2)) p += 2, n -= 2;
        if (n == elen && !memcmp(p, etag, n)) return 1;
        p = end;
    }
    return 0;
}

int request_clean_value(const char *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
    }
    return 1;
}

int request_bearer(const char *v, size_t n, const char **tok, size_t *toklen) {
    if (n < 7 || strncasecmp(v, "Bearer ", 7)) return 0;
    size_t i = 7;
    while (i < n && v[i] == ' ') i++;
    while (n > i && v[n - 1] == ' ') n--;
    for (size_t k = i; k < n; k++)
        if ((unsigned char)v[k] <= 0x20 || (unsigned char)v[k] >= 0x7f) return -1;
    if (i == n) return 0;
    *tok = v + i;
    *toklen = n - i;
    return 1;
}
