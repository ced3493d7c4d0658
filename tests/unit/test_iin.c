/* Check digits worked out by hand (weights 1..11, then 3..11,1,2). */
#include "base/date.h"
#include "base/iin.h"
#include "test.h"

static iin_status parse(const char *s, iin_info *info) { return iin_parse(s, strlen(s), info); }

void suite_iin(void) {
    iin_info info;
    TEST_CASE("iin: first weighting") {
        /* 9·1+0·2+0·3+1·4+0·5+1·6+3·7+0+0+0+0 = 40; 40 mod 11 = 7 */
        EXPECT_EQ_INT(parse("900101300007", &info), IIN_OK);
        EXPECT_EQ_INT(info.value, 900101300007LL);
        EXPECT_EQ_INT(info.birth_date, date_from_ymd(1990, 1, 1));
        EXPECT_EQ_INT(info.sex, 'M');
        /* 8+10+0+28+5+30+28+0+9+20+33 = 171; 171 mod 11 = 6; digit 4 = woman, 1900s */
        EXPECT_EQ_INT(parse("850715401236", &info), IIN_OK);
        EXPECT_EQ_INT(info.birth_date, date_from_ymd(1985, 7, 15));
        EXPECT_EQ_INT(info.sex, 'F');
    }
    TEST_CASE("iin: second weighting") {
        /* first: 4+6+35+64 = 109 ≡ 10; second: 6+8+45+80 = 139 ≡ 7 */
        EXPECT_EQ_INT(parse("000101580007", &info), IIN_OK);
        EXPECT_EQ_INT(info.birth_date, date_from_ymd(2000, 1, 1));
        EXPECT_EQ_INT(info.sex, 'M');
        EXPECT_EQ_INT(parse("000101580006", &info), IIN_BAD_CHECKSUM);
    }
    TEST_CASE("iin: both weightings give 10") {
        /* first: 4+6+35+81+60 = 186 ≡ 10; second: 6+8+45+99+6 = 164 ≡ 10 */
        for (char d = '0'; d <= '9'; d++) {
            char s[13] = "00010150960X";
            s[11] = d;
            EXPECT_EQ_INT(parse(s, &info), IIN_BAD_CHECKSUM);
        }
        int digits[11] = {0, 0, 0, 1, 0, 1, 5, 0, 9, 6, 0};
        EXPECT_EQ_INT(iin_check_digit(digits), -1);
    }
    TEST_CASE("iin: format, century and date") {
        EXPECT_EQ_INT(parse("900101300008", &info), IIN_BAD_CHECKSUM);
        EXPECT_EQ_INT(parse("90010130000", &info), IIN_BAD_FORMAT);
        EXPECT_EQ_INT(parse("9001013000071", &info), IIN_BAD_FORMAT);
        EXPECT_EQ_INT(parse("90010130000a", &info), IIN_BAD_FORMAT);
        EXPECT_EQ_INT(parse("900101700007", &info), IIN_BAD_CENTURY);
        EXPECT_EQ_INT(parse("900101000007", &info), IIN_BAD_CENTURY);
        EXPECT_EQ_INT(parse("901301300007", &info), IIN_BAD_DATE);
        EXPECT_EQ_INT(parse("010229500007", &info), IIN_BAD_DATE); /* 2001 not leap */
    }
    TEST_CASE("iin: decode agrees with parse") {
        EXPECT_EQ_INT(parse("850715401236", &info), IIN_OK);
        iin_info d;
        iin_decode(850715401236LL, &d);
        EXPECT_EQ_INT(d.birth_date, info.birth_date);
        EXPECT_EQ_INT(d.sex, 'F');
        iin_decode(101580007LL, &d); /* 000101580007: leading zeros */
        EXPECT_EQ_INT(d.birth_date, date_from_ymd(2000, 1, 1));
        EXPECT_EQ_INT(d.sex, 'M');
    }
}
