/* Money is integer tiyn: "12345.5" = 12345 tenge 50 tiyn = 1234550. */
#include "base/number.h"
#include "test.h"

static int money(const char *s, int64_t *v) { return number_parse_money(s, strlen(s), v); }
static int integer(const char *s, int64_t *v) { return number_parse_int(s, strlen(s), v); }

void suite_number(void) {
    int64_t v;
    TEST_CASE("money: accepted forms") {
        EXPECT_EQ_INT(money("12345.5", &v), 0);
        EXPECT_EQ_INT(v, 1234550);
        EXPECT_EQ_INT(money("12345.50", &v), 0);
        EXPECT_EQ_INT(v, 1234550);
        EXPECT_EQ_INT(money("7", &v), 0);
        EXPECT_EQ_INT(v, 700);
        EXPECT_EQ_INT(money("0.01", &v), 0);
        EXPECT_EQ_INT(v, 1);
        EXPECT_EQ_INT(money("-3.07", &v), 0);
        EXPECT_EQ_INT(v, -307);
        EXPECT_EQ_INT(money("999999999999999.99", &v), 0);
        EXPECT_EQ_INT(v, 99999999999999999LL);
    }
    TEST_CASE("money: refused forms") {
        const char *bad[] = {"", "7.", ".5", "1.234", "1,5", "+5", "1e3", " 5", "5 ",
                             "1.2.3", "-", "1000000000000000", "12a"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            if (money(bad[i], &v) != -1) test_fail(__FILE__, __LINE__, "accepted '%s'", bad[i]);
    }
    TEST_CASE("money: format") {
        char out[32];
        number_format_money(1234550, out);
        EXPECT_EQ_STR(out, "12345.50");
        number_format_money(-5, out);
        EXPECT_EQ_STR(out, "-0.05");
        number_format_money(0, out);
        EXPECT_EQ_STR(out, "0.00");
    }
    TEST_CASE("int: forms") {
        EXPECT_EQ_INT(integer("42", &v), 0);
        EXPECT_EQ_INT(v, 42);
        EXPECT_EQ_INT(integer("-7", &v), 0);
        EXPECT_EQ_INT(v, -7);
        EXPECT_EQ_INT(integer("", &v), -1);
        EXPECT_EQ_INT(integer("4.0", &v), -1);
        EXPECT_EQ_INT(integer("+4", &v), -1);
        EXPECT_EQ_INT(integer("1234567890123456789", &v), -1); /* 19 digits */
        EXPECT_EQ_INT(integer("123456789012345678", &v), 0);
        EXPECT_EQ_INT(integer("-123456789012345678", &v), 0);
        EXPECT_EQ_INT(v, -123456789012345678LL);
        EXPECT_EQ_INT(integer("-1234567890123456789", &v), -1);
        const char *bad[] = {"-", "--1", "1-2", "12 ", "0x1", "-+1"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            if (integer(bad[i], &v) != -1) test_fail(__FILE__, __LINE__, "accepted '%s'", bad[i]);
    }
    TEST_CASE("number: 8 digits at once agree with a digit loop for every byte at every place") {
        char s[9] = "31415926";
        for (int place = 0; place < 8; place++)
            for (int byte = 0; byte < 256; byte++) {
                char t[9];
                memcpy(t, s, 9);
                t[place] = (char)byte;
                uint32_t want = 0, got = 12345;
                int ok = 1;
                for (int i = 0; i < 8; i++) {
                    unsigned d = (unsigned char)t[i] - '0';
                    ok &= d <= 9;
                    want = want * 10 + d;
                }
                int rc = number_parse_digits8(t, &got);
                if (rc != (ok ? 0 : -1) || (ok && got != want))
                    test_fail(__FILE__, __LINE__, "byte %d at %d: rc %d got %u want %u", byte, place, rc, got, want);
            }
        uint32_t v;
        EXPECT(number_parse_digits8("99999999", &v) == 0 && v == 99999999u);
        EXPECT(number_parse_digits8("00000000", &v) == 0 && v == 0);
        EXPECT(number_parse_digits8("00000010", &v) == 0 && v == 10);
        EXPECT(number_parse_digits8("1234567/", &v) == -1 && number_parse_digits8(":2345678", &v) == -1);
    }
}
