/* reasons.h — why a row is rejected. The identifiers are stable: they are
 * the keys of `esep check --json` and the `reason` column of rejects files,
 * which monitoring reads. Add at the end; never rename. */
#ifndef ESEP_REASONS_H
#define ESEP_REASONS_H

typedef enum {
    REJ_FIELD_COUNT,       /* wrong number of fields */
    REJ_BAD_QUOTING,       /* malformed RFC 4180 quoting */
    REJ_INVALID_UTF8,      /* invalid UTF-8 or a NUL byte */
    REJ_RECORD_TOO_LONG,   /* record over the scanner's limit */
    REJ_EMPTY_REQUIRED,    /* empty value in a non-nullable column */
    REJ_BAD_INT,
    REJ_BAD_MONEY,
    REJ_BAD_DATE,
    REJ_BAD_MONTH,
    REJ_BAD_ENUM,
    REJ_BAD_TEXT,          /* does not match the column's pattern */
    REJ_TEXT_TOO_LONG,
    REJ_OUT_OF_RANGE,      /* int/money outside min..max */
    REJ_BAD_KATO,          /* not 9 digits */
    REJ_UNKNOWN_KATO,      /* 9 digits, not in the snapshot's kato */
    REJ_BAD_IIN,           /* not 12 digits, bad century digit or date */
    REJ_IIN_CHECKSUM,      /* wrong check digit */
    REJ_IIN_MISMATCH,      /* birth_date or sex disagree with the IIN */
    REJ_DATE_ORDER,        /* e.g. deregistered_on before registered_on */
    REJ_DUPLICATE_KEY,     /* key seen on an earlier line */
    REJ_UNKNOWN_REFERENCE, /* e.g. job_seekers iin not in persons */
    REJ_COUNT
} reject_reason;

/* The stable identifier, e.g. "iin_checksum". Cannot fail. */
const char *reject_reason_name(reject_reason r);

#endif
