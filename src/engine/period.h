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

/* The period of kind that contains day. Cannot fail for days of years
 * 1900..2099 (returns -1 outside them). */
int period_containing(period_kind kind, int32_t day, period *out);

/* The period right after (step 1) or before (step -1) p. Returns -1 when
 * that leaves years 1900..2099. */
int period_step(const period *p, int step, period *out);

/* The period of kind that ended last before day (its E < day). Returns -1
 * outside years 1900..2099. */
int period_last_ended_before(period_kind kind, int32_t day, period *out);

#endif
