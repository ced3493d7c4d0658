/* session.c — see session.h. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../schedule/ledger.h"

/* flock on OUT/esep.lock, retried once a second up to wait_seconds. The
 * file says who holds it, for the message of the one who waits. */
static int lock_out(out_session *s, const char *out_dir, int wait_seconds, char *err, size_t errlen) {
    char path[4200], holder[256] = "";
    snprintf(path, sizeof path, "%s/esep.lock", out_dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) return snprintf(err, errlen, "%s: cannot open the lock file: %s", path, strerror(errno)), -1;
    for (int waited = 0;; waited++) {
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0) break;
        if (errno != EWOULDBLOCK) return snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(errno)), -1;
        if (waited >= wait_seconds) {
            ssize_t n = pread(s->lock_fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\n")] = '\0';
            snprintf(err, errlen, "another esep command holds %s (%s); not started", out_dir,
                     holder[0] ? holder : "holder unknown");
            return 1;
        }
        if (waited == 0) log_msg(LOG_INFO, "waiting up to %d s for another esep command on %s", wait_seconds, out_dir);
        sleep(1);
    }
    char line[256], now[32] = "";
    catalog_utc_now(now, sizeof now);
    int n = snprintf(line, sizeof line, "%s since %s\n", s->owner, now);
    if (ftruncate(s->lock_fd, 0) != 0 || pwrite(s->lock_fd, line, (size_t)n, 0) != n)
        log_msg(LOG_WARN, "%s: cannot note the holder: %s", path, strerror(errno));
    return 0;
}

int out_session_open(out_session *s, const char *out_dir, const char *catalog_spec, int wait_seconds, char *err,
                     size_t errlen) {
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    ledger_owner_self(s->owner, sizeof s->owner);
    if (fs_mkdirs(out_dir, err, errlen)) return -1;
    int rc = lock_out(s, out_dir, wait_seconds, err, errlen);
    char spec[4200];
    snprintf(spec, sizeof spec, "%s/catalog.sqlite", out_dir);
    if (rc == 0 && !(s->cat = catalog_open(catalog_spec ? catalog_spec : spec, err, errlen))) rc = -1;
    if (rc == 0) rc = ledger_init(s->cat, err, errlen);
    char holder[256];
    if (rc == 0) {
        /* the flock is held: no other command of this host works on OUT */
        rc = ledger_lock(s->cat, s->owner, 1, holder, sizeof holder, err, errlen);
        if (rc == 1) snprintf(err, errlen, "another esep command holds the ledger of %s: %s; not started", out_dir, holder);
        s->ledger_locked = rc == 0;
    }
    if (rc == 0) rc = ledger_reclaim_interrupted(s->cat, &s->reclaimed, err, errlen);
    if (rc == 0 && s->reclaimed)
        log_msg(LOG_WARN, "%d item%s left running by a command that stopped: marked failed (interrupted), to be redone",
                s->reclaimed, s->reclaimed == 1 ? "" : "s");
    if (rc) out_session_close(s);
    return rc;
}

void out_session_close(out_session *s) {
    char err[512];
    if (s->cat && s->ledger_locked && ledger_unlock(s->cat, s->owner, err, sizeof err))
        log_msg(LOG_WARN, "%s", err);
    catalog_close(s->cat);
    s->cat = NULL;
    s->ledger_locked = 0;
    if (s->lock_fd >= 0) close(s->lock_fd);
    s->lock_fd = -1;
}
