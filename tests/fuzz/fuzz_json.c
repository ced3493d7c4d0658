/* fuzz_json.c — libFuzzer target for the strict JSON parser
 * (src/base/json.h): any bytes either parse or are refused with a message;
 * a parsed value is walked whole and freed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/json.h"

static size_t walk(const json_value *v) {
    size_t n = 1;
    if (v->kind == JSON_STRING) n += strlen(v->string);
    for (size_t i = 0; (v->kind == JSON_ARRAY || v->kind == JSON_OBJECT) && i < v->count; i++) {
        if (v->kind == JSON_OBJECT) n += strlen(v->keys[i]);
        n += walk(v->items[i]);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    json_value *v = json_parse((const char *)data, size, err, sizeof err);
    if (v) {
        (void)walk(v);
        if (v->kind == JSON_OBJECT) (void)json_get(v, "files");
    } else if (!err[0]) {
        __builtin_trap(); /* a refusal always says why */
    }
    json_free(v);
    return 0;
}
