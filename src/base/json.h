/* json.h — writing JSON strings correctly (escapes, control characters,
 * UTF-8 passed through). esep writes JSON in a few places (check summary,
 * manifests, catalog API); all strings go through here. */
#ifndef ESEP_JSON_H
#define ESEP_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string. Returns 0, or -1 on a write error. */
int json_write_string(FILE *out, const char *s);

#endif
