/* utf8.h — strict UTF-8 validation for hostile input: overlong forms,
 * surrogates, code points above U+10FFFF and NUL bytes are all refused. */
#ifndef ESEP_UTF8_H
#define ESEP_UTF8_H

#include <stddef.h>

/* Returns the offset of the first invalid byte, or len when s[0..len) is
 * valid UTF-8 without NUL. Cannot fail. */
size_t utf8_find_invalid(const char *s, size_t len);

#endif
