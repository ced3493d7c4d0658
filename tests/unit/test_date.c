/* Day numbers checked against known anchors: 2000-01-01 is day 10957
 * (30 years incl. 7 leap days: 30·365+7), 2000-03-01 is 10957+31+29. */
#include "base/date.h"
#include "test.h"

void suite_date(void) {
    int32_t d;
    TEST_CASE("date: anchors and round trip") {
        EXPECT_EQ_INT(date_from_ymd(1970, 1, 1), 0);
        EXPECT_EQ_INT(date_from_ymd(2000, 1, 1), 10957);
        EXPECT_EQ_INT(date_from_ymd(2000, 3, 1), 11017);
        EXPECT_EQ_INT(date_from_ymd(1969, 12, 31), -1);
        for (int32_t x = -80000; x < 80000; x += 37) {
            int y, m, dd;
            date_to_ymd(x, &y, &m, &dd);
            if (date_from_ymd(y, m, dd) != x) EXPECT(0);
        }
    }
    TEST_CASE("date: parse strictly") {
        EXPECT_EQ_INT(date_parse("2024-02-29", 10, &d), 0);
        EXPECT_EQ_INT(d, date_from_ymd(2024, 2, 29));
        EXPECT_EQ_INT(date_parse("2023-02-29", 10, &d), -1);
        EXPECT_EQ_INT(date_parse("1900-02-29", 10, &d), -1);
        EXPECT_EQ_INT(date_parse("2000-02-29", 10, &d), 0);
        EXPECT_EQ_INT(date_parse("2024-04-31", 10, &d), -1);
        EXPECT_EQ_INT(date_parse("2024-1-01", 9, &d), -1);
        EXPECT_EQ_INT(date_parse("2024/01/01", 10, &d), -1);
        EXPECT_EQ_INT(date_parse("2024-00-10", 10, &d), -1);
        EXPECT_EQ_INT(date_parse("20240101", 8, &d), -1);
        EXPECT_EQ_INT(date_parse_compact("20241122", 8, &d), 0);
        EXPECT_EQ_INT(d, date_from_ymd(2024, 11, 22));
        EXPECT_EQ_INT(date_parse_compact("20241322", 8, &d), -1);
    }
    TEST_CASE("date: months") {
        EXPECT_EQ_INT(month_parse("2025-03", 7, &d), 0);
        EXPECT_EQ_INT(d, 2025 * 12 + 2);
        EXPECT_EQ_INT(month_parse("2025-13", 7, &d), -1);
        EXPECT_EQ_INT(month_parse("2025-00", 7, &d), -1);
        EXPECT_EQ_INT(month_parse("2025-3", 6, &d), -1);
    }
    TEST_CASE("date: completed years") {
        int32_t leapling = date_from_ymd(2000, 2, 29);
        EXPECT_EQ_INT(date_age_years(leapling, date_from_ymd(2001, 2, 28)), 0);
        EXPECT_EQ_INT(date_age_years(leapling, date_from_ymd(2001, 3, 1)), 1);
        EXPECT_EQ_INT(date_age_years(date_from_ymd(2010, 5, 31), date_from_ymd(2025, 5, 31)), 15);
        EXPECT_EQ_INT(date_age_years(date_from_ymd(2010, 5, 31), date_from_ymd(2025, 5, 30)), 14);
        char text[11];
        date_format(date_from_ymd(1999, 12, 31), text);
        EXPECT_EQ_STR(text, "1999-12-31");
    }
}
