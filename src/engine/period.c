/* period.c — see period.h. */
#include "period.h"

#include <stdio.h>
#include <string.h>

#include "../base/date.h"

static int read_year(const char *s) {
    int y = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        y = y * 10 + (s[i] - '0');
    }
    return y >= 1900 && y <= 2099 ? y : -1;
}

/* Last day of month m (1..12) of year y. */
static int32_t month_end(int y, int m) {
    return m == 12 ? date_from_ymd(y, 12, 31) : date_from_ymd(y, m + 1, 1) - 1;
}

int period_parse(const char *text, period *out) {
    size_t len = strlen(text);
    int y = len >= 4 ? read_year(text) : -1;
    if (y < 0) return -1;
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "%s", text);
    if (len == 4) {
        out->kind = PERIOD_YEAR;
        out->start = date_from_ymd(y, 1, 1);
        out->end = date_from_ymd(y, 12, 31);
        return 0;
    }
    if (len == 7 && text[4] == '-' && text[5] == 'Q' && text[6] >= '1' && text[6] <= '4') {
        int q = text[6] - '0';
        out->kind = PERIOD_QUARTER;
        out->start = date_from_ymd(y, 3 * q - 2, 1);
        out->end = month_end(y, 3 * q);
        return 0;
    }
    if (len == 7 && text[4] == '-' && text[5] >= '0' && text[5] <= '1' && text[6] >= '0' && text[6] <= '9') {
        int m = (text[5] - '0') * 10 + (text[6] - '0');
        if (m < 1 || m > 12) return -1;
        out->kind = PERIOD_MONTH;
        out->start = date_from_ymd(y, m, 1);
        out->end = month_end(y, m);
        return 0;
    }
    return -1;
}

int period_containing(period_kind kind, int32_t day, period *out) {
    int y, m, d;
    char text[32];
    date_to_ymd(day, &y, &m, &d);
    if (y < 1900 || y > 2099) return -1;
    if (kind == PERIOD_YEAR) snprintf(text, sizeof text, "%04d", y);
    else if (kind == PERIOD_QUARTER) snprintf(text, sizeof text, "%04d-Q%d", y, (m - 1) / 3 + 1);
    else snprintf(text, sizeof text, "%04d-%02d", y, m);
    return period_parse(text, out);
}

int period_step(const period *p, int step, period *out) {
    return period_containing(p->kind, step > 0 ? p->end + 1 : p->start - 1, out);
}

int period_last_ended_before(period_kind kind, int32_t day, period *out) {
    period here;
    if (period_containing(kind, day, &here)) return -1;
    return period_step(&here, -1, out); /* here.end >= day always */
}
