/* measure.h — how a report measure is stored and printed, shared by the
 * job files (spec/), the engine and the archive: int64 in fixed units,
 * never floating point, with two sentinels. Only definitions; no code.
 *   MEASURE_COUNT    plain integer                     CSV `123`
 *   MEASURE_MONEY    tiyn                              CSV `123.45`
 *   MEASURE_DECIMAL1 tenths (a ratio rounded to 0.1)   CSV `12.3`
 * MEASURE_EMPTY (a ratio with a zero denominator, a median of nothing) is
 * an empty CSV field; MEASURE_SUPPRESSED (published bundles only) is `x`. */
#ifndef ESEP_MEASURE_H
#define ESEP_MEASURE_H

#include <stdint.h>

#define MEASURE_EMPTY INT64_MIN
#define MEASURE_SUPPRESSED (INT64_MIN + 1)
#define REPORT_MAX_DIMS 4
#define REPORT_MAX_MEASURES 32

typedef enum { MEASURE_COUNT, MEASURE_MONEY, MEASURE_DECIMAL1 } measure_format;

#define REPORT_NAME_CAP 201        /* a kato name: text of at most 200 bytes */
#define REPORT_LABEL_CAP 128       /* a measure's or dimension's label (kk, ru) */

#endif
