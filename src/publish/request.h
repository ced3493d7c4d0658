/* request.h — parsing the parts of an HTTP request the download service
 * looks at, as pure functions over bytes (no libmicrohttpd, no I/O), so
 * that they can be fuzzed in memory (tests/fuzz/fuzz_request.c) and new
 * endpoints are added in one place: the route table in request.c.
 *
 * Everything here treats its input as hostile: lengths are explicit,
 * nothing is assumed NUL-terminated unless said, and any byte that is not
 * expected makes the request bad (400), never cut or skipped. */
#ifndef ESEP_REQUEST_H
#define ESEP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

/* ROUTE_BAD: not a clean path (400); ROUTE_NONE: clean but no endpoint
 * (404). A new endpoint gets a kind here and a line in request.c's table. */
typedef enum { ROUTE_BAD, ROUTE_NONE, ROUTE_CATALOG, ROUTE_BUNDLE, ROUTE_SIGNATURE } route_kind;

typedef struct {
    route_kind kind;
    int needs_region;   /* region/period below are set and must be allowed */
    char region[3];
    char period[8];
} route;

/* The characters a clean path may hold: [A-Za-z0-9._/-]. Cannot fail. */
int request_path_char(int c);

/* Maps the raw request target raw[0..len) (undecoded; it may hold any
 * byte, NUL included) to an endpoint: only [A-Za-z0-9._/-], no
 * percent-encoding, no query, no empty, `.` or `..` segment, at most
 * SERVE_MAX_PATH bytes, region and period valid. Cannot fail. */
route request_route(const char *raw, size_t len);

/* Digits only, at most 18 of them (so no overflow). 0, or -1. */
int request_parse_u63(const char *s, size_t n, uint64_t *v);

/* Interprets a Range header (NUL-terminated) against size. Returns 1 with
 * [*first, *first + *len) for one satisfiable range, 0 when the whole file
 * is to be sent (another unit, several ranges), -1 when it is malformed or
 * not satisfiable (416). */
int request_range(const char *h, uint64_t size, uint64_t *first, uint64_t *len);

/* True when an If-None-Match list (NUL-terminated) contains etag (weak
 * comparison) or *. Cannot fail. */
int request_none_match(const char *h, const char *etag);

/* 1 when the header value v[0..n) holds only visible ASCII, spaces, tabs
 * and UTF-8 bytes (>= 0x80): no NUL, no other control byte, no DEL.
 * Cannot fail. */
int request_clean_value(const char *v, size_t n);

/* Finds the token of an `Authorization: Bearer <token>` value v[0..n)
 * (scheme case-insensitive, spaces around the token ignored). Returns 1
 * with *tok, *toklen pointing into v; 0 when it is not a Bearer value or
 * the token is empty; -1 when the token holds anything but visible ASCII
 * (a NUL, a control byte, a space inside) — a bad request, not a wrong
 * token. */
int request_bearer(const char *v, size_t n, const char **tok, size_t *toklen);

#endif
