/* iin.h — the individual identification number (ИИН), extracts.md "IIN".
 * An IIN is 12 digits: YYMMDD, a century/sex digit, a 4-digit serial and a
 * check digit. esep keeps it as an int64 (never as text past the reader) and
 * never writes it into a published output. */
#ifndef ESEP_IIN_H
#define ESEP_IIN_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    IIN_OK = 0,
    IIN_BAD_FORMAT,   /* not exactly 12 ASCII digits */
    IIN_BAD_CENTURY,  /* 7th digit not 1..6 */
    IIN_BAD_DATE,     /* YYMMDD is not a real date in that century */
    IIN_BAD_CHECKSUM  /* check digit wrong, or both weightings give 10 */
} iin_status;

typedef struct {
    int64_t value;      /* the 12 digits as a number */
    int32_t birth_date; /* day number (date.h) encoded in the IIN */
    char sex;           /* 'M' or 'F' */
} iin_info;

/* Validates the 12 bytes at s (len must be 12). On IIN_OK fills *info;
 * otherwise *info is untouched. Cannot fail otherwise. */
iin_status iin_parse(const char *s, size_t len, iin_info *info);

/* Birth date and sex encoded in an IIN already accepted by iin_parse
 * (stored as its int64 value). Cannot fail. */
void iin_decode(int64_t value, iin_info *info);

/* The check digit for the first 11 digits, or -1 when the IIN scheme has
 * none (both weightings give 10). digits[i] are 0..9. Cannot fail. */
int iin_check_digit(const int digits[11]);

#endif
