/* period.h — a reporting period P: a month `YYYY-MM`, a quarter `YYYY-Qn`
 * or a year `YYYY`, with its first day S and last day E (reports.md
 * "Conventions"). */
#ifndef ESEP_PERIOD_H
#define ESEP_PERIOD_H

#include <stdint.h>

#include "../spec/job.h"

typedef struct {
    period_kind kind;
    char text[8];        /* as given: 2025-03, 2025-Q1, 2025 */
    int32_t start, end;  /* S and E, day numbers */
} period;

/* Parses text. Returns 0, or -1 when it is none of the three forms (or the
 * year is outside 1900..2099). Cannot fail otherwise. */
int period_parse(const char *text, period *out);

#endif
