/* error.h — the error convention of every esep function that can fail:
 * it returns -1 and writes one human sentence into a caller's buffer
 * (err, errlen). This is the one helper for writing that sentence. */
#ifndef ESEP_ERROR_H
#define ESEP_ERROR_H

#include <stddef.h>

/* Formats the message into err (truncated to errlen). Always returns -1,
 * so a caller can `return error_set(err, errlen, "…", …);`. */
int error_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
