/* fuzz_request.c — libFuzzer target for the download service's request
 * parsing (src/publish/request.h): the route of a raw target, Range,
 * If-None-Match, the Bearer token and the header byte check, on the same
 * hostile bytes. Checks the promises: a route's region and period are
 * valid; a satisfiable range lies inside the file; a token is visible
 * ASCII inside the value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "publish/layout.h"
#include "publish/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    route r = request_route(s, size);
    if ((r.kind == ROUTE_BUNDLE || r.kind == ROUTE_SIGNATURE) &&
        (!r.needs_region || !layout_valid_region(r.region) || !layout_valid_period(r.period)))
        __builtin_trap();
    const char *tok;
    size_t toklen;
    if (request_bearer(s, size, &tok, &toklen) == 1) {
        if (tok < s || tok + toklen > s + size || toklen == 0) __builtin_trap();
        for (size_t i = 0; i < toklen; i++)
            if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f) __builtin_trap();
    }
    (void)request_clean_value(s, size);
    /* the NUL-terminated parsers, as MHD hands headers over */
    char *h = malloc(size + 1);
    if (!h) return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    uint64_t file_size = size ? (uint64_t)data[0] * 977 : 0, first, len;
    if (request_range(h, file_size, &first, &len) == 1 && (len == 0 || first + len > file_size)) __builtin_trap();
    (void)request_none_match(h, "\"00ff\"");
    free(h);
    return 0;
}
