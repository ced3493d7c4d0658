/* h5archive.h — the internal archive (outputs.md "Archive"): one report
 * table per HDF5 file, laid out so that h5py and pandas load it in a few
 * lines, and written so that the same table always gives the same bytes.
 *
 * Layout (all strings fixed-length, NUL-padded, UTF-8; integers signed
 * little-endian):
 *   /rows            compound, one record per row: kato (9-byte string),
 *                    level (int8), one string per dimension (its value),
 *                    one int64 per measure in internal units (count, tiyn,
 *                    tenths; MEASURE_EMPTY is INT64_MIN) — members in that
 *                    order, dimensions and measures in table order
 *   /measures        compound: name, format ("count", "money", "decimal1"),
 *                    unit_scale (1, 100, 10: value / unit_scale = display),
 *                    person_count (int32), follows (comma-separated names)
 *   /dimensions/<d>  strings: the values of dimension d in order, "_T" last
 *   /inputs          compound: name, file, sha256, read, accepted, rejected
 *   root attributes  id, period, title_kk, title_ru, snapshot_date,
 *                    tool_version (strings), methodology_version (int32);
 *                    a restated table also boundaries (its day,
 *                    YYYY-MM-DD) and classifier_snapshot (YYYYMMDD)
 * No timestamps are stored and the format is pinned to the earliest HDF5
 * format that holds these features (1.8 at most: libver bounds EARLIEST to
 * V18). Files are built in memory and their image written by esep, so a
 * full disk is a clear error of ours, never a failure inside HDF5. The
 * format is pinned so that files do not change when the library is
 * upgraded. */
#ifndef ESEP_H5ARCHIVE_H
#define ESEP_H5ARCHIVE_H

#include <stddef.h>

#include "report_table.h"

/* Writes t to path atomically: the file is built under a temporary name in
 * the same directory, synced and renamed, so path either keeps its old
 * contents or holds the complete new archive. Checks t first (names,
 * dimension indexes, kato range). Returns 0, or -1 with a message naming
 * path in err; nothing is left under the temporary name on error. */
int h5archive_write(const report_table *t, const char *path, char *err, size_t errlen);

/* The first half of h5archive_write, for files committed together
 * (fs_batch, which syncs them all before renaming any): writes t, checked,
 * to a fresh temporary file beside path (O_EXCL|O_NOFOLLOW, hidden, named
 * as fs_temp_open names them), neither synced nor renamed; its name goes
 * to tmp (tmpcap bytes). The caller syncs and renames or removes it. Returns 0, or -1 with a message naming path in
 * err, with nothing left under the temporary name. */
int h5archive_write_temp(const report_table *t, const char *path, char *tmp, size_t tmpcap, char *err,
                         size_t errlen);

/* Reads the archive at path into t, overwriting it without freeing what it
 * held. On success the caller owns t's rows and dimension value lists and
 * releases them with report_table_free. Returns 0, or -1 with a message
 * naming path in err, with t holding nothing that needs freeing. */
/* Builds several tables as one file image, each in a group named by its
 * report id with the same layout as an archive file (rows, measures,
 * dimensions, inputs, attributes): a bundle's reports.h5, never written
 * to disk by itself. Same determinism as h5archive_write; ids must
 * differ. Returns 0 with a malloc'd image (*image, *size; the caller
 * frees it), or -1 with a message in err and *image NULL. */
int h5archive_bundle_image(const report_table *const *tables, size_t n, unsigned char **image, size_t *size,
                           char *err, size_t errlen);

int h5archive_read(const char *path, report_table *t, char *err, size_t errlen);

#endif
