/* test.h — the unit-test harness: a handful of macros, no dependencies.
 * A test file defines `void suite_<name>(void)` that runs its cases with
 * TEST_CASE and checks with EXPECT_*; tests/unit/main.c calls every suite
 * and prints "unit: N passed, M failed". A case passes when none of its
 * expectations failed. */
#ifndef ESEP_TEST_H
#define ESEP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int passed, failed;
    int current_failed;
    const char *current;
} test_state;

extern test_state test_results;

#define TEST_CASE(name)                                                          \
    for (int test_once_ = (test_begin(name), 1); test_once_; test_once_ = 0, test_end())

void test_begin(const char *name);
void test_end(void);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define EXPECT(cond)                                                             \
    do {                                                                         \
        if (!(cond)) test_fail(__FILE__, __LINE__, "expected %s", #cond);       \
    } while (0)

#define EXPECT_EQ_INT(got, want)                                                 \
    do {                                                                         \
        long long g_ = (long long)(got), w_ = (long long)(want);                 \
        if (g_ != w_) test_fail(__FILE__, __LINE__, "%s = %lld, want %lld", #got, g_, w_); \
    } while (0)

#define EXPECT_EQ_STR(got, want)                                                 \
    do {                                                                         \
        const char *g_ = (got), *w_ = (want);                                    \
        if (strcmp(g_ ? g_ : "(null)", w_))                                      \
            test_fail(__FILE__, __LINE__, "%s = \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)", w_); \
    } while (0)

#endif
