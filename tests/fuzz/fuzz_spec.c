/* fuzz_spec.c — libFuzzer target for the declarative files: the YAML tree
 * (src/spec/yaml_doc.h), the schema loader, the job loader, and the
 * expression compiler with its vector VM (src/spec/expr.h). The first byte
 * picks the target; the rest is the file (or the expression). Everything
 * must end in a result or a message, never a crash, a leak or UB. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/expr.h"
#include "spec/job.h"
#include "spec/schema.h"
#include "spec/yaml_doc.h"

#define ROWS 4

static const char *const sexes[] = {"M", "F"};

static void fuzz_expr(const char *text) {
    static const int64_t i64[ROWS] = {7, INT64_MIN, 0, -3};
    static const int32_t i32[ROWS] = {20000, INT32_MIN, 0, 751110000};
    static const uint8_t u8[ROWS] = {0, 1, 255, 0};
    static const uint32_t off[ROWS] = {0, 2, 0, 4}, len[ROWS] = {2, 2, UINT32_MAX, 0};
    expr_name names[] = {
        {"a", EXPR_INT, NULL, 0, 0, 0},      {"m", EXPR_MONEY, NULL, 0, 0, 0}, {"d", EXPR_DATE, NULL, 0, 0, 0},
        {"mo", EXPR_MONTH, NULL, 0, 0, 0},   {"sex", EXPR_ENUM, sexes, 2, 0, 0}, {"t", EXPR_TEXT, NULL, 0, 0, 0},
        {"ok", EXPR_BOOL, NULL, 0, 0, 0},    {"E", EXPR_DATE, NULL, 0, 1, 20000},
    };
    expr_input in[] = {{i64, 0, 0, 0, 0, 0}, {i64, 0, 0, 0, 0, 0}, {0, i32, 0, 0, 0, 0}, {0, i32, 0, 0, 0, 0},
                       {0, 0, u8, 0, 0, 0},  {0, 0, 0, off, len, "I21.9x"}, {i64, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}};
    expr_env env = {names, sizeof names / sizeof *names};
    char err[512];
    expr_program *p = expr_compile(text, &env, err, sizeof err);
    if (!p) return;
    int64_t out[ROWS];
    (void)expr_result_type(p);
    (void)expr_eval(p, in, ROWS, out);
    expr_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[1024];
    switch (data[0] % 4) {
    case 0: {
        ydoc *d = ydoc_parse("fuzz.yaml", text, len, err, sizeof err);
        ydoc_free(d);
        break;
    }
    case 1: {
        char *names[] = {"persons.yaml"};
        const char *texts[] = {text};
        schema_set *set = NULL;
        if (schema_set_parse(names, texts, &len, 1, &set, err, sizeof err) == 0) schema_set_free(set);
        break;
    }
    case 2: {
        char *names[] = {"jobs/FUZ-01.yaml"};
        const char *texts[] = {text};
        job_set *set = NULL;
        if (job_set_parse(names, texts, &len, 1, &set, err, sizeof err) == 0) job_set_free(set);
        break;
    }
    default: {
        char *s = malloc(len + 1); /* expressions are NUL-terminated strings */
        if (!s) return 0;
        memcpy(s, text, len);
        s[len] = '\0';
        if (!memchr(text, '\0', len)) fuzz_expr(s);
        free(s);
    }
    }
    return 0;
}
