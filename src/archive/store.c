/* store.c — see store.h. The new table is written beside the current one
 * under a hidden name (h5archive_write is itself atomic), compared by
 * SHA-256, and only then does anything under a final name change. A crash
 * between the two steps leaves the current table current and, at worst, a
 * history copy of it or a hidden file that fs_remove_stale_temps or the
 * next store removes. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/digest.h"
#include "../base/fsutil.h"
#include "h5archive.h"

/* Keeps the current table's bytes under history/ (a hard link: no copy). */
static int keep_in_history(const char *dir, const char *id, const char *current, const char *sha, char *err,
                           size_t errlen) {
    char hdir[4300], kept[4500];
    snprintf(hdir, sizeof hdir, "%s/history", dir);
    snprintf(kept, sizeof kept, "%s/%s.%.16s.h5", hdir, id, sha);
    if (fs_mkdirs(hdir, err, errlen)) return -1;
    if (link(current, kept) != 0 && errno != EEXIST)
        return snprintf(err, errlen, "%s: cannot keep the earlier table: %s", kept, strerror(errno)), -1;
    return fs_sync_dir(hdir, err, errlen);
}

int archive_store(const char *out_dir, const report_table *t, char sha256[65], int *changed, char *err,
                  size_t errlen) {
    char dir[4200], current[4400], fresh[4400], old_sha[65];
    *changed = 0;
    if (t->boundaries[0]) /* restated: apart from the as-of table, one folder per day */
        snprintf(dir, sizeof dir, "%s/archive/%s/restated/%s", out_dir, t->period, t->boundaries);
    else
        snprintf(dir, sizeof dir, "%s/archive/%s", out_dir, t->period);
    snprintf(current, sizeof current, "%s/%s.h5", dir, t->id);
    if (fs_mkdirs(dir, err, errlen)) return -1;
    fs_remove_stale_temps(dir);
    /* named like fs_temp_open's files, so a crashed writer's is removed */
    snprintf(fresh, sizeof fresh, "%s/.%s.new.%ld.%08x.tmp", dir, t->id, (long)getpid(), (unsigned)random());
    unlink(fresh);
    if (h5archive_write(t, fresh, err, errlen)) return -1;
    if (digest_file_sha256(fresh, sha256, err, errlen)) return unlink(fresh), -1;
    int have_old = access(current, F_OK) == 0;
    if (have_old && digest_file_sha256(current, old_sha, err, errlen)) return unlink(fresh), -1;
    if (have_old && !strcmp(old_sha, sha256)) return unlink(fresh), 0;
    if (have_old && keep_in_history(dir, t->id, current, old_sha, err, errlen)) return unlink(fresh), -1;
    if (rename(fresh, current) != 0) {
        snprintf(err, errlen, "%s: cannot archive: %s", current, strerror(errno));
        unlink(fresh);
        return -1;
    }
    *changed = 1;
    return fs_sync_dir(dir, err, errlen);
}
