/* json.h — writing JSON strings correctly (escapes, control characters,
 * UTF-8 passed through). esep writes JSON in a few places (check summary,
 * manifests, catalog API); all strings go through here. */
#ifndef ESEP_JSON_H
#define ESEP_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string. Returns 0, or -1 on a write error. */
int json_write_string(FILE *out, const char *s);

/* A parsed JSON value (strict RFC 8259: no comments, no trailing commas,
 * depth at most 32). Strings are NUL-terminated UTF-8 (\u escapes of the
 * BMP decoded; \u0000 refused); numbers are kept as integers only (a
 * manifest has no fractions: a fraction or exponent is refused). */
typedef enum { JSON_NULL, JSON_BOOL, JSON_INT, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_kind;

typedef struct json_value json_value;
struct json_value {
    json_kind kind;
    long long integer;       /* INT, BOOL (0/1) */
    char *string;            /* STRING */
    size_t count;            /* ARRAY items / OBJECT members */
    char **keys;             /* OBJECT */
    json_value **items;      /* ARRAY items / OBJECT values */
};

/* Parses text[0..len). Returns the value (free with json_free), or NULL
 * with a message naming the byte offset in err. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);

void json_free(json_value *v);

/* The member `key` of an object, or NULL. Cannot fail. */
const json_value *json_get(const json_value *object, const char *key);

#endif
