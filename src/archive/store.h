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

#include "../base/fsutil.h"
#include "report_table.h"

/* archive_stage's answer when t is the current table already. */
#define ARCHIVE_SAME (-2)

/* Stages t as the current table of (t->id, t->period) under out_dir, to
 * take its place when batch b is committed (fs_batch_commit; the caller
 * reports it archived only when fs_batch_failed says no): t is written
 * under a hidden temporary name (the commit syncs it) and, when a current table differs,
 * that one is linked under history/ first. Sets sha256 (65 bytes) to t's
 * digest and *changed to 1 when the current table is new or differs.
 * Returns t's file index in b; ARCHIVE_SAME when the current table is
 * identical (nothing staged); or -1 with a message, nothing of t left and
 * the current table what it was (a disk-full write leaves nothing). */
long archive_stage(fs_batch *b, const char *out_dir, const report_table *t, char sha256[65], int *changed,
                   char *err, size_t errlen);

#endif
