#include "spec/pattern.h"
#include "test.h"

static int matches(const char *pat, const char *s) {
    pattern p;
    char err[128];
    if (pattern_compile(pat, &p, err, sizeof err)) return -1;
    return pattern_match(&p, s, strlen(s));
}

void suite_pattern(void) {
    TEST_CASE("pattern: classes and repeats") {
        EXPECT_EQ_INT(matches("[A-Za-z]{3}", "KAZ"), 1);
        EXPECT_EQ_INT(matches("[A-Za-z]{3}", "Kz"), 0);
        EXPECT_EQ_INT(matches("[A-Za-z]{3}", "KAZA"), 0);
        EXPECT_EQ_INT(matches("[A-Za-z]{3}", "K4Z"), 0);
        EXPECT_EQ_INT(matches("[A-Z][0-9]{2}[.0-9]{0,4}", "I21.9"), 1);
        EXPECT_EQ_INT(matches("[A-Z][0-9]{2}[.0-9]{0,4}", "X59"), 1);
        EXPECT_EQ_INT(matches("[A-Z][0-9]{2}[.0-9]{0,4}", "I2"), 0);
        EXPECT_EQ_INT(matches("[0-9]{4}-[0-9]{2}", "2025-03"), 1);
        EXPECT_EQ_INT(matches("a\\{b", "a{b"), 1);
    }
    TEST_CASE("pattern: compile errors") {
        EXPECT_EQ_INT(matches("[A-Z", "A"), -1);
        EXPECT_EQ_INT(matches("[Z-A]", "A"), -1);
        EXPECT_EQ_INT(matches("A{x}", "A"), -1);
        EXPECT_EQ_INT(matches("A{3,1}", "A"), -1);
    }
}
