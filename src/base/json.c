/* json.c — see json.h. */
#include "json.h"

int json_write_string(FILE *out, const char *s) {
    int failed = fputc('"', out) == EOF;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') failed |= fprintf(out, "\\%c", *p) < 0;
        else if (*p == '\n') failed |= fputs("\\n", out) == EOF;
        else if (*p < 0x20) failed |= fprintf(out, "\\u%04x", *p) < 0;
        else failed |= fputc(*p, out) == EOF;
    }
    failed |= fputc('"', out) == EOF;
    return failed ? -1 : 0;
}
