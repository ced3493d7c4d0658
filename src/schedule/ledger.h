/* ledger.h — the run ledger: what became of every (report, period) item,
 * kept in the publication catalog (SQLite or PostgreSQL) beside the runs
 * and publications, so that operators see due, running, done, failed and
 * late items without SQL (esep plan / status) and the next nightly knows
 * what is left to do.
 *
 * Tables (created when missing, portable SQL, parameters only):
 *   ledger_items     one row per item: report, period, boundaries ("as-of"
 *                    for the published tables), state, snapshot_date,
 *                    snapshot_digest, methodology_version, tool_version,
 *                    revision (of the republic bundle "00" that first held
 *                    the table), table_sha256, started_at, finished_at,
 *                    attempts, error, owner ("host:pid"), heartbeat
 *   ledger_attempts  one row per attempt: command id, item, state reached,
 *                    snapshot, times, error
 *   ledger_commands  one row per esep command that worked on items
 *                    (nightly, run, backfill): night, owner, ranks, times,
 *                    status, items done and failed
 *   ledger_meta      key/value: "first_night" (the night OUT began: older
 *                    periods are reprocessing, not the nightly's)
 *   ledger_lock      who holds OUT's work lock (informational on
 *                    PostgreSQL, where a session advisory lock is the lock;
 *                    the lock itself on SQLite, taken in an immediate
 *                    transaction)
 *
 * States: "due" (known to the calendar, not attempted yet), "running" while a command works on the item, then "done" (archived
 * and published) or "failed" (error says why). An item whose command died
 * stays "running" only until the next command takes the lock: whoever holds
 * the lock knows that no other command is working, so every running item is
 * then marked failed ("interrupted") and is retried. "due" and "late" are
 * not stored: the calendar (calendar.h) derives them.
 *
 * Every function returns 0, or -1 with a message in err, unless noted. */
#ifndef ESEP_LEDGER_H
#define ESEP_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "../publish/catalog.h"

typedef struct {
    char report[16], period[8], boundaries[16];
    char state[12];                 /* running, done, failed */
    char snapshot_date[9];
    char snapshot_digest[65];
    int methodology_version;
    char tool_version[32];
    int revision;
    char table_sha256[65];
    char started_at[24], finished_at[24];
    int attempts;
    char error[512];
    char owner[128];
    char heartbeat[24];
    char deadline[11];              /* YYYY-MM-DD: last day to publish */
} ledger_item;

typedef struct {
    int64_t id;
    char command[16], night[11], owner[128];
    int ranks;
    char started_at[24], finished_at[24], status[16];
    int done, failed;
    char note[256];
} ledger_command;

typedef int (*ledger_item_fn)(const ledger_item *item, void *data);
typedef int (*ledger_command_fn)(const ledger_command *cmd, void *data);

/* Creates the ledger's tables when missing (idempotent, safe against
 * concurrent callers). */
int ledger_init(catalog *c, char *err, size_t errlen);

/* "host:pid" of this process into out. Cannot fail. */
void ledger_owner_self(char *out, size_t n);

/* Takes OUT's work lock for owner. Returns 0 when taken; 1 when another
 * live command holds it (holder describes it: owner and since when);
 * -1 with a message. A lock row left by a dead process of this host (its
 * pid is gone), or one whose heartbeat is older than the lease, is taken
 * over; so is any row of this host when host_exclusive (the caller holds
 * a host-wide lock on OUT, so no other command of this host is working:
 * a killed job's rank may still be dying and answer kill(pid, 0)). */
int ledger_lock(catalog *c, const char *owner, int host_exclusive, char *holder, size_t holderlen, char *err,
                size_t errlen);

/* Releases the lock taken by owner (no-op when owner does not hold it). */
int ledger_unlock(catalog *c, const char *owner, char *err, size_t errlen);

/* With the lock held: marks every item still "running" as failed with
 * "interrupted: <owner> stopped before finishing it"; *count = how many. */
int ledger_reclaim_interrupted(catalog *c, int *count, char *err, size_t errlen);

/* The night OUT's nightly began (YYYY-MM-DD) into night (11 bytes), or ""
 * when none ran yet. */
int ledger_first_night(catalog *c, char night[11], char *err, size_t errlen);

/* Records night as the first night unless one is recorded already. */
int ledger_set_first_night(catalog *c, const char *night, char *err, size_t errlen);

/* Records a command's start; *id is its ledger_commands id. */
int ledger_command_begin(catalog *c, const char *command, const char *night, const char *owner, int ranks,
                         int64_t *id, char *err, size_t errlen);

/* Records the end of command id with its status and counts. */
int ledger_command_end(catalog *c, int64_t id, const char *status, int done, int failed, const char *note,
                       char *err, size_t errlen);

/* Marks item (report, period, boundaries) running for command cmd on
 * snapshot_date: attempts + 1, started_at now, owner, heartbeat now; and
 * opens an attempt row. */
int ledger_item_start(catalog *c, int64_t cmd, const char *report, const char *period, const char *boundaries,
                      const char *snapshot_date, const char *owner, char *err, size_t errlen);

/* Records (report, period, boundaries) as due with its deadline when the
 * ledger does not know it yet (a known item only gets the deadline). */
int ledger_item_due(catalog *c, const char *report, const char *period, const char *boundaries, const char *deadline,
                    char *err, size_t errlen);

/* Ends an item's attempt: state "done" or "failed", with the fields of it
 * that are known (strings may be "" and numbers 0 when not). */
int ledger_item_end(catalog *c, int64_t cmd, const ledger_item *it, char *err, size_t errlen);

/* Refreshes the heartbeat of every item owner is running. */
int ledger_heartbeat(catalog *c, const char *owner, char *err, size_t errlen);

/* Groups the item writes that follow (start, end, due) into one write
 * transaction, ended by ledger_batch_commit: one commit for many items.
 * After an error inside the batch it is rolled back (the commit then does
 * nothing). */
int ledger_batch_begin(catalog *c, char *err, size_t errlen);
int ledger_batch_commit(catalog *c, char *err, size_t errlen);

/* Looks up one item: 0 with *found = 1 and *out filled, or *found = 0. */
int ledger_item_get(catalog *c, const char *report, const char *period, const char *boundaries,
                    ledger_item *out, int *found, char *err, size_t errlen);

/* Calls fn for every item, ordered by period, then report. */
int ledger_items_list(catalog *c, ledger_item_fn fn, void *data, char *err, size_t errlen);

/* Calls fn for the last `limit` commands, newest first. */
int ledger_commands_list(catalog *c, int limit, ledger_command_fn fn, void *data, char *err, size_t errlen);

#endif
