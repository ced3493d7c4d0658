/* store.h — the archive's history: OUT/archive/<P>/<ID>.h5 is the current
 * as-of table of (report, period) — what export, series and publication
 * read — and nothing archived is silently overwritten (outputs.md
 * "Publication rules"): a new table that differs from the current one
 * first moves the current one's bytes under
 * OUT/archive/<P>/history/<ID>.<first 16 hex of its SHA-256>.h5, then
 * replaces it by one rename. An identical table changes nothing. The
 * ledger records which SHA-256 is current. A restated table (its
 * boundaries set) lives apart, under OUT/archive/<P>/restated/<DAY>/ with
 * its own history/ there: as-of and restated tables never replace each
 * other, and publication reads only the as-of ones. */
#ifndef ESEP_STORE_H
#define ESEP_STORE_H

#include <stddef.h>

#include "report_table.h"

/* Archives t as the current table of (t->id, t->period) under out_dir.
 * Sets sha256 (65 bytes) to the current file's digest and *changed to 1
 * when the current table is new or differs. Returns 0, or -1 with a
 * message; on error the current table is what it was and no file of t is
 * left (a disk-full write leaves nothing). */
int archive_store(const char *out_dir, const report_table *t, char sha256[65], int *changed, char *err,
                  size_t errlen);

#endif
