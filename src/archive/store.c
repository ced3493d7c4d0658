/* store.c — see store.h. The new table is written beside the current one
 * under a hidden name, compared by SHA-256, and only then does anything
 * under a final name change: the current table's bytes are linked under
 * history/ (and that directory synced) before the one rename that
 * replaces it. The sync and the rename happen in the caller's fs_batch
 * with the period's other files (every file synced before any rename),
 * so the journal and each directory are synced once for all of them.
 * A crash at any point leaves the current table current or the new one
 * complete in its place, at worst a history copy of it or a hidden file
 * that fs_remove_stale_temps or the next store removes. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/digest.h"
#include "h5archive.h"

/* Keeps the current table's bytes under history/ (a hard link: no copy),
 * durable before any rename of the batch. */
static int keep_in_history(fs_batch *b, const char *dir, const char *id, const char *current, const char *sha,
                           char *err, size_t errlen) {
    char hdir[4300], kept[4500];
    snprintf(hdir, sizeof hdir, "%s/history", dir);
    snprintf(kept, sizeof kept, "%s/%s.%.16s.h5", hdir, id, sha);
    if (fs_mkdirs(hdir, err, errlen)) return -1;
    if (link(current, kept) != 0 && errno != EEXIST)
        return snprintf(err, errlen, "%s: cannot keep the earlier table: %s", kept, strerror(errno)), -1;
    return fs_batch_sync_first(b, hdir, err, errlen);
}

long archive_stage(fs_batch *b, const char *out_dir, const report_table *t, char sha256[65], int *changed,
                   char *err, size_t errlen) {
    char dir[4200], current[4400], fresh[4400], old_sha[65];
    *changed = 0;
    if (t->boundaries[0]) /* restated: apart from the as-of table, one folder per day */
        snprintf(dir, sizeof dir, "%s/archive/%s/restated/%s", out_dir, t->period, t->boundaries);
    else
        snprintf(dir, sizeof dir, "%s/archive/%s", out_dir, t->period);
    snprintf(current, sizeof current, "%s/%s.h5", dir, t->id);
    if (fs_mkdirs(dir, err, errlen)) return -1;
    if (!fs_batch_holds_dir(b, dir)) fs_remove_stale_temps(dir);
    if (h5archive_write_temp(t, current, fresh, sizeof fresh, err, errlen)) return -1;
    if (digest_file_sha256(fresh, sha256, err, errlen)) return unlink(fresh), -1;
    int have_old = access(current, F_OK) == 0;
    if (have_old && digest_file_sha256(current, old_sha, err, errlen)) return unlink(fresh), -1;
    if (have_old && !strcmp(old_sha, sha256)) return unlink(fresh), ARCHIVE_SAME;
    if (have_old && keep_in_history(b, dir, t->id, current, old_sha, err, errlen)) return unlink(fresh), -1;
    *changed = 1;
    return fs_batch_add(b, fresh, current, err, errlen);
}
