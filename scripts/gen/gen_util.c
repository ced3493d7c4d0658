/* gen_util.c — calendar arithmetic, the IIN allocator and the two field
 * formats that need more than a memcpy (quoted text, money).
 *
 * Kept apart from the generators so the rules of extracts.md about dates,
 * IIN check digits and money are written down exactly once. */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>

/* Howard Hinnant's days_from_civil: proleptic Gregorian, any year. */
day_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (day_t)(era * 146097 + doe - 719468);
}

void civil_from_days(day_t z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

day_t add_years(day_t z, int years)
{
    int y, m, d;
    civil_from_days(z, &y, &m, &d);
    return days_from_civil(y + years, m, d);
}

int age_on(day_t birth, day_t day)
{
    int by, bm, bd, y, m, d;
    civil_from_days(birth, &by, &bm, &bd);
    civil_from_days(day, &y, &m, &d);
    int age = y - by;
    if (m < bm || (m == bm && d < bd))
        age--;
    return age;
}

/* Fills the table from DATE_FIRST_YEAR-01-01 to DATE_LAST_YEAR-12-31.
 * Returns 0, or -1 when out of memory. The caller frees it. */
int date_table_init(date_table *t)
{
    t->first = days_from_civil(DATE_FIRST_YEAR, 1, 1);
    t->count = days_from_civil(DATE_LAST_YEAR + 1, 1, 1) - t->first;
    t->text = malloc((size_t)t->count * sizeof *t->text);
    if (!t->text)
        return -1;
    for (int32_t i = 0; i < t->count; i++) {
        int y, m, d;
        civil_from_days(t->first + i, &y, &m, &d);
        char *p = t->text[i];   /* "YYYY-MM-DD", no NUL */
        p[0] = (char)('0' + y / 1000);
        p[1] = (char)('0' + y / 100 % 10);
        p[2] = (char)('0' + y / 10 % 10);
        p[3] = (char)('0' + y % 10);
        p[4] = '-';
        p[5] = (char)('0' + m / 10);
        p[6] = (char)('0' + m % 10);
        p[7] = '-';
        p[8] = (char)('0' + d / 10);
        p[9] = (char)('0' + d % 10);
    }
    return 0;
}

void date_table_free(date_table *t)
{
    free(t->text);
    t->text = NULL;
}

/* The check digit of the first 11 digits, or -1 when the number cannot be
 * a valid IIN (both weightings give 10). */
static int iin_check_digit(const char d[11])
{
    static const int second[11] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
    int sum = 0;
    for (int i = 0; i < 11; i++)
        sum += (d[i] - '0') * (i + 1);
    if (sum % 11 != 10)
        return sum % 11;
    sum = 0;
    for (int i = 0; i < 11; i++)
        sum += (d[i] - '0') * second[i];
    return sum % 11 == 10 ? -1 : sum % 11;
}

/* Serials are handed out per (birth day, sex digit) in increasing order,
 * skipping those whose check digit is invalid, so an IIN is never issued
 * twice — also not to the death records of people missing from persons,
 * which draw from the same counters. */
int iin_assign(gen_ctx *g, day_t birth, char sex, char out[12])
{
    int y, m, d;
    civil_from_days(birth, &y, &m, &d);
    if (y < 1900 || y > 2099) {
        snprintf(g->err, sizeof g->err, "birth year %d outside 1900-2099", y);
        return -1;
    }
    int female = sex == 'F';
    char century = (char)(y < 2000 ? (female ? '4' : '3') : (female ? '6' : '5'));
    size_t slot = (size_t)(birth - g->dates.first) * 2 + (size_t)female;
    out[0] = (char)('0' + y % 100 / 10);
    out[1] = (char)('0' + y % 10);
    out[2] = (char)('0' + m / 10);
    out[3] = (char)('0' + m % 10);
    out[4] = (char)('0' + d / 10);
    out[5] = (char)('0' + d % 10);
    out[6] = century;
    for (;;) {
        unsigned serial = g->iin_serial[slot]++;
        if (serial > 9999) {
            snprintf(g->err, sizeof g->err,
                     "more than 9999 IINs for one birth date and sex (%04d-%02d-%02d);"
                     " use fewer --persons", y, m, d);
            return -1;
        }
        out[7] = (char)('0' + serial / 1000);
        out[8] = (char)('0' + serial / 100 % 10);
        out[9] = (char)('0' + serial / 10 % 10);
        out[10] = (char)('0' + serial % 10);
        int check = iin_check_digit(out);
        if (check >= 0) {
            out[11] = (char)('0' + check);
            return 0;
        }
    }
}

char *put_csv_text(char *p, const char *s)
{
    if (!s[strcspn(s, ";\"\r\n")])
        return put_str(p, s);
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

/* Whole tenge print bare; otherwise the shortest of one or two decimals,
 * except that some half-tenge amounts keep a trailing zero ("12345.50")
 * because registries write both forms and readers must accept both. */
char *put_money(char *p, int64_t tiyn)
{
    p = put_u64(p, (uint64_t)(tiyn / 100));
    int frac = (int)(tiyn % 100);
    if (frac == 0)
        return p;
    *p++ = '.';
    *p++ = (char)('0' + frac / 10);
    if (frac % 10 != 0 || (frac == 50 && tiyn / 100 % 5 == 0))
        *p++ = (char)('0' + frac % 10);
    return p;
}
