/* ledger.c — see ledger.h. All SQL here is the subset that SQLite and
 * PostgreSQL both accept (text and bigint columns, INSERT … ON CONFLICT,
 * RETURNING), so one text serves both backends through catalog_query. */
#include "ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A lock row whose heartbeat is older than this belongs to a command that
 * stopped (on another host, where its pid cannot be probed). */
#define LEDGER_LEASE_SECONDS (15 * 60)
/* The PostgreSQL session lock that is OUT's work lock. */
#define LEDGER_SESSION_LOCK 6568471634LL

static const char *const schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS ledger_items ("
    " report text NOT NULL, period text NOT NULL, boundaries text NOT NULL,"
    " state text NOT NULL, snapshot_date text, snapshot_digest text,"
    " methodology_version bigint, tool_version text, revision bigint, table_sha256 text,"
    " started_at text, finished_at text, attempts bigint NOT NULL, error text,"
    " owner text, heartbeat text, deadline text,"
    " PRIMARY KEY (report, period, boundaries))",
    "CREATE TABLE IF NOT EXISTS ledger_attempts ("
    " command_id bigint NOT NULL, report text NOT NULL, period text NOT NULL,"
    " boundaries text NOT NULL, state text NOT NULL, snapshot_date text,"
    " started_at text NOT NULL, finished_at text, error text)",
    "CREATE TABLE IF NOT EXISTS ledger_commands ("
    " id bigint PRIMARY KEY, command text NOT NULL, night text NOT NULL, owner text NOT NULL,"
    " ranks bigint NOT NULL, started_at text NOT NULL, finished_at text, status text NOT NULL,"
    " done bigint NOT NULL, failed bigint NOT NULL, note text)",
    "CREATE TABLE IF NOT EXISTS ledger_meta (key text PRIMARY KEY, value text NOT NULL)",
    ("CREATE TABLE IF NOT EXISTS ledger_lock ("
     " name text PRIMARY KEY, owner text NOT NULL, since text NOT NULL, heartbeat text NOT NULL)"),
};

/* One statement inside a write transaction that the caller opened. */
static int exec(catalog *c, const char *op, const char *sql, int n, const char *const *params, char *err,
                size_t errlen) {
    return catalog_query(c, op, sql, n, params, NULL, NULL, err, errlen);
}

/* Runs statements as one write transaction, or inside the caller's
 * (ledger_batch_begin). */
static int exec_write(catalog *c, const char *op, const char *const *sql, const int *n,
                      const char *const *const *params, size_t count, char *err, size_t errlen) {
    int own = !catalog_in_transaction(c);
    if (own && catalog_begin_write(c, err, errlen)) return -1;
    for (size_t i = 0; i < count; i++)
        if (exec(c, op, sql[i], n[i], params[i], err, errlen)) return catalog_rollback(c), -1;
    return own ? catalog_commit(c, err, errlen) : 0;
}

int ledger_batch_begin(catalog *c, char *err, size_t errlen) { return catalog_begin_write(c, err, errlen); }

int ledger_batch_commit(catalog *c, char *err, size_t errlen) {
    return catalog_in_transaction(c) ? catalog_commit(c, err, errlen) : 0;
}

int ledger_init(catalog *c, char *err, size_t errlen) {
    size_t count = sizeof schema_sql / sizeof *schema_sql;
    int n[sizeof schema_sql / sizeof *schema_sql] = {0};
    const char *const *params[sizeof schema_sql / sizeof *schema_sql] = {0};
    return exec_write(c, "ledger: create tables", schema_sql, n, params, count, err, errlen);
}

void ledger_owner_self(char *out, size_t n) {
    char host[256];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(out, n, "%.100s:%ld", host, (long)getpid());
}

static int copy_first(int ncols, const char *const *v, void *data) {
    char *out = data;
    snprintf(out, 512, "%s", ncols > 0 && v[0] ? v[0] : "");
    return 1;
}

/* Seconds since an ISO-8601 UTC stamp, or a large number when unreadable. */
static double age_of(const char *stamp) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!stamp || !strptime(stamp, "%Y-%m-%dT%H:%M:%SZ", &tm)) return 1e18;
    return difftime(time(NULL), timegm(&tm));
}

/* Whether the owner "host:pid" of a lock row may still be working. */
static int owner_alive(const char *owner, const char *heartbeat, int host_exclusive) {
    char self[128];
    ledger_owner_self(self, sizeof self);
    const char *colon = strrchr(owner, ':'), *self_colon = strrchr(self, ':');
    if (colon && self_colon && colon - owner == self_colon - self && !strncmp(owner, self, (size_t)(colon - owner))) {
        long pid = strtol(colon + 1, NULL, 10);
        if (pid <= 0 || host_exclusive) return 0;
        return kill((pid_t)pid, 0) == 0 || errno == EPERM;
    }
    return age_of(heartbeat) < LEDGER_LEASE_SECONDS;
}

typedef struct {
    int found;
    char owner[128], since[24], heartbeat[24];
} lock_row;

static int read_lock_row(int ncols, const char *const *v, void *data) {
    lock_row *r = data;
    if (ncols < 3) return 1;
    r->found = 1;
    snprintf(r->owner, sizeof r->owner, "%s", v[0] ? v[0] : "");
    snprintf(r->since, sizeof r->since, "%s", v[1] ? v[1] : "");
    snprintf(r->heartbeat, sizeof r->heartbeat, "%s", v[2] ? v[2] : "");
    return 1;
}

/* Inside a write transaction: reads the lock row; takes it when free or
 * stale (or, with session_locked, whatever the row says: PostgreSQL has
 * already decided). Returns 0 taken, 1 held (holder filled), -1 error. */
static int take_lock_row(catalog *c, const char *owner, int session_locked, int host_exclusive, char *holder,
                         size_t holderlen, char *err, size_t errlen) {
    lock_row row = {0};
    const char *name[] = {"out"};
    if (catalog_query(c, "ledger: read lock", "SELECT owner, since, heartbeat FROM ledger_lock WHERE name = $1", 1,
                      name, read_lock_row, &row, err, errlen))
        return -1;
    if (row.found && !session_locked && strcmp(row.owner, owner) && owner_alive(row.owner, row.heartbeat, host_exclusive)) {
        snprintf(holder, holderlen, "%s (since %s)", row.owner, row.since);
        return 1;
    }
    char now[32];
    if (catalog_utc_now(now, sizeof now)) return snprintf(err, errlen, "ledger: cannot read the clock"), -1;
    const char *params[] = {"out", owner, now};
    return exec(c, "ledger: take lock",
                "INSERT INTO ledger_lock (name, owner, since, heartbeat) VALUES ($1, $2, $3, $3)"
                " ON CONFLICT (name) DO UPDATE SET owner = $2, since = $3, heartbeat = $3",
                3, params, err, errlen);
}

int ledger_lock(catalog *c, const char *owner, int host_exclusive, char *holder, size_t holderlen, char *err,
                size_t errlen) {
    int acquired = 0;
    int session = catalog_try_session_lock(c, LEDGER_SESSION_LOCK, &acquired, err, errlen);
    if (session < 0) return -1;
    if (session == 0 && !acquired) {
        lock_row row = {0};
        const char *name[] = {"out"};
        if (catalog_query(c, "ledger: read lock", "SELECT owner, since, heartbeat FROM ledger_lock WHERE name = $1",
                          1, name, read_lock_row, &row, err, errlen))
            return -1;
        snprintf(holder, holderlen, "%s (since %s)", row.found ? row.owner : "another session",
                 row.found ? row.since : "unknown");
        return 1;
    }
    if (catalog_begin_write(c, err, errlen)) return -1;
    int rc = take_lock_row(c, owner, session == 0, host_exclusive, holder, holderlen, err, errlen);
    if (rc) return catalog_rollback(c), rc;
    return catalog_commit(c, err, errlen);
}

int ledger_unlock(catalog *c, const char *owner, char *err, size_t errlen) {
    const char *params[] = {"out", owner};
    const char *sql[] = {"DELETE FROM ledger_lock WHERE name = $1 AND owner = $2"};
    int n[] = {2};
    const char *const *p[] = {params};
    return exec_write(c, "ledger: release lock", sql, n, p, 1, err, errlen);
}

static int count_rows(int ncols, const char *const *v, void *data) {
    (void)ncols, (void)v;
    ++*(int *)data;
    return 0;
}

int ledger_reclaim_interrupted(catalog *c, int *count, char *err, size_t errlen) {
    char now[32];
    *count = 0;
    if (catalog_utc_now(now, sizeof now)) return snprintf(err, errlen, "ledger: cannot read the clock"), -1;
    const char *params[] = {now};
    if (catalog_begin_write(c, err, errlen)) return -1;
    int rc = catalog_query(c, "ledger: reclaim",
                           "UPDATE ledger_items SET state = 'failed', finished_at = $1,"
                           " error = 'interrupted: ' || COALESCE(owner, 'a command') || ' stopped before finishing it'"
                           " WHERE state = 'running' RETURNING report",
                           1, params, count_rows, count, err, errlen);
    if (!rc) rc = exec(c, "ledger: reclaim attempts",
                       "UPDATE ledger_attempts SET state = 'failed', finished_at = $1, error = 'interrupted'"
                       " WHERE state = 'running'",
                       1, params, err, errlen);
    if (rc) return catalog_rollback(c), -1;
    return catalog_commit(c, err, errlen);
}

int ledger_first_night(catalog *c, char night[11], char *err, size_t errlen) {
    char value[512] = "";
    const char *params[] = {"first_night"};
    if (catalog_query(c, "ledger: first night", "SELECT value FROM ledger_meta WHERE key = $1", 1, params, copy_first,
                      value, err, errlen))
        return -1;
    snprintf(night, 11, "%.10s", value);
    return 0;
}

int ledger_set_first_night(catalog *c, const char *night, char *err, size_t errlen) {
    const char *params[] = {"first_night", night};
    const char *sql[] = {"INSERT INTO ledger_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"};
    int n[] = {2};
    const char *const *p[] = {params};
    return exec_write(c, "ledger: first night", sql, n, p, 1, err, errlen);
}

static int read_id(int ncols, const char *const *v, void *data) {
    if (ncols > 0 && v[0]) *(int64_t *)data = strtoll(v[0], NULL, 10);
    return 1;
}

int ledger_command_begin(catalog *c, const char *command, const char *night, const char *owner, int ranks,
                         int64_t *id, char *err, size_t errlen) {
    char now[32], nranks[16];
    if (catalog_utc_now(now, sizeof now)) return snprintf(err, errlen, "ledger: cannot read the clock"), -1;
    snprintf(nranks, sizeof nranks, "%d", ranks);
    const char *params[] = {command, night, owner, nranks, now};
    *id = 0;
    if (catalog_begin_write(c, err, errlen)) return -1;
    int rc = catalog_query(c, "ledger: begin command",
                           "INSERT INTO ledger_commands (id, command, night, owner, ranks, started_at, status, done,"
                           " failed) SELECT COALESCE(MAX(id), 0) + 1, CAST($1 AS text), CAST($2 AS text), CAST($3 AS text),"
                           " CAST($4 AS bigint), CAST($5 AS text), 'running', 0, 0"
                           " FROM ledger_commands RETURNING id",
                           5, params, read_id, id, err, errlen);
    if (rc) return catalog_rollback(c), -1;
    return catalog_commit(c, err, errlen);
}

int ledger_command_end(catalog *c, int64_t id, const char *status, int done, int failed, const char *note,
                       char *err, size_t errlen) {
    char now[32], sid[24], sdone[16], sfailed[16];
    if (catalog_utc_now(now, sizeof now)) return snprintf(err, errlen, "ledger: cannot read the clock"), -1;
    snprintf(sid, sizeof sid, "%" PRId64, id);
    snprintf(sdone, sizeof sdone, "%d", done);
    snprintf(sfailed, sizeof sfailed, "%d", failed);
    const char *params[] = {now, status, sdone, sfailed, note ? note : "", sid};
    const char *sql[] = {"UPDATE ledger_commands SET finished_at = $1, status = $2, done = $3, failed = $4, note = $5"
                         " WHERE id = $6"};
    int n[] = {6};
    const char *const *p[] = {params};
    return exec_write(c, "ledger: end command", sql, n, p, 1, err, errlen);
}

int ledger_item_start(catalog *c, int64_t cmd, const char *report, const char *period, const char *boundaries,
                      const char *snapshot_date, const char *owner, char *err, size_t errlen) {
    char now[32], scmd[24];
    if (catalog_utc_now(now, sizeof now)) return snprintf(err, errlen, "ledger: cannot read the clock"), -1;
    snprintf(scmd, sizeof scmd, "%" PRId64, cmd);
    const char *item[] = {report, period, boundaries, snapshot_date, now, owner};
    const char *attempt[] = {scmd, report, period, boundaries, snapshot_date, now};
    const char *sql[] = {
        "INSERT INTO ledger_items (report, period, boundaries, state, snapshot_date, started_at, attempts, owner,"
        " heartbeat) VALUES ($1, $2, $3, 'running', $4, $5, 1, $6, $5)"
        " ON CONFLICT (report, period, boundaries) DO UPDATE SET state = 'running', snapshot_date = $4,"
        " started_at = $5, finished_at = NULL, error = NULL, owner = $6, heartbeat = $5,"
        " attempts = ledger_items.attempts + 1",
        "INSERT INTO ledger_attempts (command_id, report, period, boundaries, state, snapshot_date, started_at)"
        " VALUES ($1, $2, $3, $4, 'running', $5, $6)"};
    int n[] = {6, 6};
    const char *const *p[] = {item, attempt};
    return exec_write(c, "ledger: start item", sql, n, p, 2, err, errlen);
}

int ledger_item_due(catalog *c, const char *report, const char *period, const char *boundaries, const char *deadline,
                    char *err, size_t errlen) {
    const char *params[] = {report, period, boundaries, deadline};
    const char *sql[] = {"INSERT INTO ledger_items (report, period, boundaries, state, attempts, deadline)"
                         " VALUES ($1, $2, $3, 'due', 0, $4) ON CONFLICT (report, period, boundaries)"
                         " DO UPDATE SET deadline = $4"};
    int n[] = {4};
    const char *const *p[] = {params};
    return exec_write(c, "ledger: due item", sql, n, p, 1, err, errlen);
}

int ledger_item_end(catalog *c, int64_t cmd, const ledger_item *it, char *err, size_t errlen) {
    char now[32], scmd[24], version[16], revision[16];
    if (catalog_utc_now(now, sizeof now)) return snprintf(err, errlen, "ledger: cannot read the clock"), -1;
    snprintf(scmd, sizeof scmd, "%" PRId64, cmd);
    snprintf(version, sizeof version, "%d", it->methodology_version);
    snprintf(revision, sizeof revision, "%d", it->revision);
    const char *error = it->error[0] ? it->error : NULL;
    const char *item[] = {it->state,   it->snapshot_digest, version, it->tool_version, revision, it->table_sha256,
                          now,         error,               it->report, it->period, it->boundaries};
    const char *attempt[] = {it->state, now, error, scmd, it->report, it->period, it->boundaries};
    const char *sql[] = {
        "UPDATE ledger_items SET state = $1, snapshot_digest = $2, methodology_version = $3, tool_version = $4,"
        " revision = $5, table_sha256 = $6, finished_at = $7, error = $8, heartbeat = $7"
        " WHERE report = $9 AND period = $10 AND boundaries = $11",
        "UPDATE ledger_attempts SET state = $1, finished_at = $2, error = $3"
        " WHERE command_id = $4 AND report = $5 AND period = $6 AND boundaries = $7 AND state = 'running'"};
    int n[] = {11, 7};
    const char *const *p[] = {item, attempt};
    return exec_write(c, "ledger: end item", sql, n, p, 2, err, errlen);
}

int ledger_heartbeat(catalog *c, const char *owner, char *err, size_t errlen) {
    char now[32];
    if (catalog_utc_now(now, sizeof now)) return snprintf(err, errlen, "ledger: cannot read the clock"), -1;
    const char *params[] = {now, owner};
    const char *sql[] = {"UPDATE ledger_items SET heartbeat = $1 WHERE state = 'running' AND owner = $2",
                         "UPDATE ledger_lock SET heartbeat = $1 WHERE owner = $2"};
    int n[] = {2, 2};
    const char *const *p[] = {params, params};
    return exec_write(c, "ledger: heartbeat", sql, n, p, 2, err, errlen);
}

#define ITEM_COLUMNS                                                                                   \
    "report, period, boundaries, state, snapshot_date, snapshot_digest, methodology_version, tool_version," \
    " revision, table_sha256, started_at, finished_at, attempts, error, owner, heartbeat, deadline"

static const char *or_empty(const char *s) { return s ? s : ""; }

static void item_from_row(const char *const *v, ledger_item *it) {
    memset(it, 0, sizeof *it);
    snprintf(it->report, sizeof it->report, "%s", or_empty(v[0]));
    snprintf(it->period, sizeof it->period, "%s", or_empty(v[1]));
    snprintf(it->boundaries, sizeof it->boundaries, "%s", or_empty(v[2]));
    snprintf(it->state, sizeof it->state, "%s", or_empty(v[3]));
    snprintf(it->snapshot_date, sizeof it->snapshot_date, "%s", or_empty(v[4]));
    snprintf(it->snapshot_digest, sizeof it->snapshot_digest, "%s", or_empty(v[5]));
    it->methodology_version = (int)strtol(or_empty(v[6]), NULL, 10);
    snprintf(it->tool_version, sizeof it->tool_version, "%s", or_empty(v[7]));
    it->revision = (int)strtol(or_empty(v[8]), NULL, 10);
    snprintf(it->table_sha256, sizeof it->table_sha256, "%s", or_empty(v[9]));
    snprintf(it->started_at, sizeof it->started_at, "%s", or_empty(v[10]));
    snprintf(it->finished_at, sizeof it->finished_at, "%s", or_empty(v[11]));
    it->attempts = (int)strtol(or_empty(v[12]), NULL, 10);
    snprintf(it->error, sizeof it->error, "%s", or_empty(v[13]));
    snprintf(it->owner, sizeof it->owner, "%s", or_empty(v[14]));
    snprintf(it->heartbeat, sizeof it->heartbeat, "%s", or_empty(v[15]));
    snprintf(it->deadline, sizeof it->deadline, "%s", or_empty(v[16]));
}

typedef struct {
    ledger_item_fn fn;
    void *data;
    ledger_item *one;
    int found;
} item_visit;

static int visit_item(int ncols, const char *const *v, void *data) {
    item_visit *iv = data;
    if (ncols < 17) return 1;
    ledger_item local, *it = iv->one ? iv->one : &local;
    item_from_row(v, it);
    iv->found = 1;
    return iv->fn ? iv->fn(it, iv->data) : 1;
}

int ledger_item_get(catalog *c, const char *report, const char *period, const char *boundaries,
                    ledger_item *out, int *found, char *err, size_t errlen) {
    item_visit iv = {NULL, NULL, out, 0};
    const char *params[] = {report, period, boundaries};
    int rc = catalog_query(c, "ledger: item",
                           "SELECT " ITEM_COLUMNS " FROM ledger_items WHERE report = $1 AND period = $2 AND boundaries = $3",
                           3, params, visit_item, &iv, err, errlen);
    *found = iv.found;
    return rc;
}

int ledger_items_list(catalog *c, ledger_item_fn fn, void *data, char *err, size_t errlen) {
    item_visit iv = {fn, data, NULL, 0};
    return catalog_query(c, "ledger: items", "SELECT " ITEM_COLUMNS " FROM ledger_items ORDER BY period, report, boundaries",
                         0, NULL, visit_item, &iv, err, errlen);
}

typedef struct {
    ledger_command_fn fn;
    void *data;
} command_visit;

static int visit_command(int ncols, const char *const *v, void *data) {
    command_visit *cv = data;
    if (ncols < 11) return 1;
    ledger_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.id = strtoll(or_empty(v[0]), NULL, 10);
    snprintf(cmd.command, sizeof cmd.command, "%s", or_empty(v[1]));
    snprintf(cmd.night, sizeof cmd.night, "%s", or_empty(v[2]));
    snprintf(cmd.owner, sizeof cmd.owner, "%s", or_empty(v[3]));
    cmd.ranks = (int)strtol(or_empty(v[4]), NULL, 10);
    snprintf(cmd.started_at, sizeof cmd.started_at, "%s", or_empty(v[5]));
    snprintf(cmd.finished_at, sizeof cmd.finished_at, "%s", or_empty(v[6]));
    snprintf(cmd.status, sizeof cmd.status, "%s", or_empty(v[7]));
    cmd.done = (int)strtol(or_empty(v[8]), NULL, 10);
    cmd.failed = (int)strtol(or_empty(v[9]), NULL, 10);
    snprintf(cmd.note, sizeof cmd.note, "%s", or_empty(v[10]));
    return cv->fn(&cmd, cv->data);
}

int ledger_commands_list(catalog *c, int limit, ledger_command_fn fn, void *data, char *err, size_t errlen) {
    char slimit[16];
    snprintf(slimit, sizeof slimit, "%d", limit);
    const char *params[] = {slimit};
    command_visit cv = {fn, data};
    return catalog_query(c, "ledger: commands",
                         "SELECT id, command, night, owner, ranks, started_at, finished_at, status, done, failed, note"
                         " FROM ledger_commands ORDER BY id DESC LIMIT $1",
                         1, params, visit_command, &cv, err, errlen);
}
