/* session.h — a command's hold on OUT: the work lock that keeps two esep
 * commands (run, nightly, backfill) from writing one OUT at once, and the
 * catalog/ledger connection they record into. The lock is two-fold: an
 * flock(2) on OUT/esep.lock (released by the kernel when the holder dies,
 * even by kill -9) and the ledger's lock (ledger.h: a PostgreSQL session
 * advisory lock, or an SQLite lease row), which also covers commands on
 * other hosts sharing a PostgreSQL catalog. Whoever holds both knows that
 * no other command is working, so items a dead command left "running" are
 * marked failed (interrupted) at once. Rank 0 only. */
#ifndef ESEP_SESSION_H
#define ESEP_SESSION_H

#include <stddef.h>

#include "../publish/catalog.h"

typedef struct {
    int lock_fd;
    catalog *cat;
    char owner[128];
    int ledger_locked;
    int reclaimed;            /* items found interrupted */
} out_session;

/* Creates OUT when missing, takes the work lock (waiting up to
 * wait_seconds for it), opens the catalog (spec NULL: OUT/catalog.sqlite)
 * and the ledger, and reclaims interrupted items. Returns 0; 1 when
 * another command holds the lock (err says who, since when); -1 with a
 * message. On a non-zero return nothing is held. */
int out_session_open(out_session *s, const char *out_dir, const char *catalog_spec, int wait_seconds, char *err,
                     size_t errlen);

/* Releases the locks and the catalog. Accepts a session that failed to
 * open. Cannot fail. */
void out_session_close(out_session *s);

#endif
