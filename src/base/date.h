/* date.h — calendar dates as day numbers. Every date in esep is an int32
 * count of days since 1970-01-01 (proleptic Gregorian), so comparisons and
 * "E − 365 days" are integer arithmetic and nothing depends on time zones.
 * Months (`YYYY-MM`) are int32 `year * 12 + (month − 1)`. */
#ifndef ESEP_DATE_H
#define ESEP_DATE_H

#include <stddef.h>
#include <stdint.h>

#define DATE_NULL INT32_MIN /* the value of an empty date field */

/* Day number of a valid civil date; the caller guarantees validity. */
int32_t date_from_ymd(int year, int month, int day);

/* Splits a day number into year, month (1..12), day (1..31). Cannot fail. */
void date_to_ymd(int32_t days, int *year, int *month, int *day);

/* True when (year, month, day) is a real Gregorian date, year 1..9999. */
int date_is_valid_ymd(int year, int month, int day);

/* Parses exactly `YYYY-MM-DD` (10 bytes, a real date). Returns 0 and sets
 * *out, or -1 on anything else. */
int date_parse(const char *s, size_t len, int32_t *out);

/* Parses exactly `YYYYMMDD` (a snapshot directory name). 0 or -1. */
int date_parse_compact(const char *s, size_t len, int32_t *out);

/* Parses exactly `YYYY-MM` (month 01..12) into year*12+month-1. 0 or -1. */
int month_parse(const char *s, size_t len, int32_t *out);

/* Writes `YYYY-MM-DD` and a NUL into out (11 bytes). Cannot fail. */
void date_format(int32_t days, char out[11]);

/* Completed years between birth and day (age at `day`). Cannot fail. */
int date_age_years(int32_t birth, int32_t day);

/* The same at the day y-m-d (date_to_ymd of it), for many births at one
 * day. Cannot fail. */
int date_age_years_on(int32_t birth, int y, int m, int d);

#endif
