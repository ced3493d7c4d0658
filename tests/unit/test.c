/* test.c — the harness behind test.h, shared by every test program
 * (tests/unit, tests/catalog). */
#include <stdarg.h>

#include "test.h"

test_state test_results;

void test_begin(const char *name) {
    test_results.current = name;
    test_results.current_failed = 0;
}

void test_end(void) {
    if (test_results.current_failed) test_results.failed++;
    else test_results.passed++;
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s (%s:%d): ", test_results.current, file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    test_results.current_failed = 1;
}
