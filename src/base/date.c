/* date.c — see date.h. The day-number conversions are the well-known
 * era-based civil calendar formulas (400-year eras of 146097 days), exact
 * for every year without tables. */
#include "date.h"

#include <stdio.h>

int32_t date_from_ymd(int year, int month, int day) {
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int mp = (month + 9) % 12;
    int doy = (153 * mp + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void date_to_ymd(int32_t days, int *year, int *month, int *day) {
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = yoe + era * 400 + (*month <= 2);
}

static int is_leap(int year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int date_is_valid_ymd(int year, int month, int day) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
        return 0;
    int limit = mdays[month - 1] + (month == 2 && is_leap(year));
    return day <= limit;
}

/* Reads n ASCII digits; -1 when any is not a digit. */
static int read_digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) return -1;
        v = v * 10 + (int)d;
    }
    return v;
}

int date_parse(const char *s, size_t len, int32_t *out) {
    if (len != 10 || s[4] != '-' || s[7] != '-') return -1;
    int y = read_digits(s, 4), m = read_digits(s + 5, 2),
        d = read_digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0 || !date_is_valid_ymd(y, m, d)) return -1;
    *out = date_from_ymd(y, m, d);
    return 0;
}

int date_parse_compact(const char *s, size_t len, int32_t *out) {
    if (len != 8) return -1;
    int y = read_digits(s, 4), m = read_digits(s + 4, 2),
        d = read_digits(s + 6, 2);
    if (y < 0 || m < 0 || d < 0 || !date_is_valid_ymd(y, m, d)) return -1;
    *out = date_from_ymd(y, m, d);
    return 0;
}

int month_parse(const char *s, size_t len, int32_t *out) {
    if (len != 7 || s[4] != '-') return -1;
    int y = read_digits(s, 4), m = read_digits(s + 5, 2);
    if (y < 1 || m < 1 || m > 12) return -1;
    *out = y * 12 + (m - 1);
    return 0;
}

void date_format(int32_t days, char out[11]) {
    int y, m, d;
    date_to_ymd(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

int date_age_years_on(int32_t birth, int y, int m, int d) {
    int by, bm, bd;
    date_to_ymd(birth, &by, &bm, &bd);
    int age = y - by;
    if (m < bm || (m == bm && d < bd)) age--;
    return age;
}

int date_age_years(int32_t birth, int32_t day) {
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    return date_age_years_on(birth, y, m, d);
}
