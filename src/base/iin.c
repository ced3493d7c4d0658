/* iin.c — see iin.h. The check-digit rule: weights 1..11 on the first 11
 * digits, sum mod 11; when that is 10, weights 3..11,1,2; when that is 10
 * again the number is invalid. */
#include "iin.h"

#include "date.h"
#include "number.h"

int iin_check_digit(const int digits[11]) {
    static const int first[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    static const int second[11] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
    int sum = 0, again = 0;
    for (int i = 0; i < 11; i++) sum += digits[i] * first[i], again += digits[i] * second[i];
    if (sum % 11 != 10) return sum % 11;
    return again % 11 == 10 ? -1 : again % 11;
}

iin_status iin_parse(const char *s, size_t len, iin_info *info) {
    int d[12];
    uint32_t head;
    if (len != 12 || number_parse_digits8(s, &head)) return IIN_BAD_FORMAT;
    int64_t value = head;
    for (int i = 0; i < 8; i++) d[i] = s[i] - '0'; /* digits already */
    for (int i = 8; i < 12; i++) {
        unsigned v = (unsigned char)s[i] - '0';
        if (v > 9) return IIN_BAD_FORMAT;
        d[i] = (int)v;
        value = value * 10 + v;
    }
    int century_digit = d[6];
    if (century_digit < 1 || century_digit > 6) return IIN_BAD_CENTURY;
    int century = 1800 + 100 * ((century_digit - 1) / 2);
    int year = century + d[0] * 10 + d[1];
    int month = d[2] * 10 + d[3], day = d[4] * 10 + d[5];
    if (!date_is_valid_ymd(year, month, day)) return IIN_BAD_DATE;
    if (iin_check_digit(d) != d[11]) return IIN_BAD_CHECKSUM;
    info->value = value;
    info->birth_date = date_from_ymd(year, month, day);
    info->sex = (century_digit % 2) ? 'M' : 'F';
    return IIN_OK;
}

void iin_decode(int64_t value, iin_info *info) {
    int d[12];
    int64_t v = value;
    for (int i = 11; i >= 0; i--, v /= 10) d[i] = (int)(v % 10);
    int century = 1800 + 100 * ((d[6] - 1) / 2);
    info->value = value;
    info->birth_date = date_from_ymd(century + d[0] * 10 + d[1], d[2] * 10 + d[3], d[4] * 10 + d[5]);
    info->sex = (d[6] % 2) ? 'M' : 'F';
}
