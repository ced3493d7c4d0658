/* catalog_sqlite.c — the SQLite backend of the catalog (see catalog.h and
 * catalog_internal.h): one database file, opened read-write and created
 * when missing, with foreign keys enforced and a 10 s busy timeout so that
 * concurrent esep processes wait for each other instead of failing. Every
 * write that must be atomic runs in a BEGIN IMMEDIATE transaction, which
 * takes the database's write lock up front: two publishers can never read
 * the same chain head. Values only ever reach SQL through bound
 * parameters. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"

#define BUSY_TIMEOUT_MS 10000

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY,"
    " snapshot_date TEXT NOT NULL,"
    " period TEXT NOT NULL,"
    " ranks INTEGER NOT NULL,"
    " tool_version TEXT NOT NULL,"
    " started_at TEXT NOT NULL,"
    " finished_at TEXT,"
    " status TEXT NOT NULL,"
    " reports TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS publications ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id),"
    " region CHAR(2) NOT NULL,"
    " period TEXT NOT NULL,"
    " revision INTEGER NOT NULL CHECK (revision >= 1),"
    " bundle TEXT NOT NULL,"
    " size BIGINT NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " manifest_sha256 TEXT NOT NULL,"
    " signature TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " record_hash TEXT NOT NULL,"
    " UNIQUE (region, period, revision));";

#define PUBLICATION_COLUMNS                                                                       \
    "id, run_id, region, period, revision, bundle, size, sha256, manifest_sha256, signature, " \
    "prev_hash, record_hash"

static sqlite3 *db_of(const catalog *c) { return c->db; }

static int sq_fail(const catalog *c, char *err, size_t errlen, const char *op) {
    return catalog_error(c, err, errlen, op, "%s", sqlite3_errmsg(db_of(c)));
}

/* Runs constant SQL (no values in it: transaction control, the schema). */
static int sq_exec(const catalog *c, const char *op, const char *sql, char *err, size_t errlen) {
    return sqlite3_exec(db_of(c), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sq_fail(c, err, errlen, op);
}

/* After a failed step inside a transaction: the error already in err is
 * what the caller needs, and a failed ROLLBACK leaves SQLite rolling back
 * by itself when the handle closes, so its result adds nothing. */
static void sq_rollback(const catalog *c) {
    if (sqlite3_get_autocommit(db_of(c))) return;
    int rc = sqlite3_exec(db_of(c), "ROLLBACK", NULL, NULL, NULL);
    (void)rc;
}

/* Prepares sql and binds the values listed by types, one character per
 * parameter: 't' a const char * (NULL binds NULL), 'i' an int64_t. Returns
 * the statement, or NULL with a message in err. */
static sqlite3_stmt *sq_prepare(const catalog *c, const char *op, char *err, size_t errlen, const char *sql,
                                const char *types, ...) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(c), sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(c, err, errlen, op);
        sqlite3_finalize(st);
        return NULL;
    }
    va_list ap;
    va_start(ap, types);
    int rc = SQLITE_OK;
    for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
        if (types[i] == 'i') rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        else rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
    }
    va_end(ap);
    if (rc != SQLITE_OK) {
        sq_fail(c, err, errlen, op);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Steps a statement that returns no row, and finalizes it. */
static int sq_run(const catalog *c, const char *op, sqlite3_stmt *st, char *err, size_t errlen) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq_fail(c, err, errlen, op);
    sqlite3_finalize(st);
    return rc;
}

static const char *text_or_empty(sqlite3_stmt *st, int col) {
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? (const char *)s : "";
}

static int sq_begin_run(catalog *c, const catalog_run *run, const char *now, int64_t *run_id, char *err,
                        size_t errlen) {
    sqlite3_stmt *st = sq_prepare(c, "begin run", err, errlen,
                                  "INSERT INTO runs (snapshot_date, period, ranks, tool_version, started_at,"
                                  " finished_at, status, reports) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7)",
                                  "ttitttt", run->snapshot_date, run->period, (int64_t)run->ranks,
                                  run->tool_version, now, "running", run->reports);
    if (!st || sq_run(c, "begin run", st, err, errlen)) return -1;
    *run_id = sqlite3_last_insert_rowid(db_of(c));
    return 0;
}

static int sq_finish_run(catalog *c, int64_t run_id, const char *status, const char *now, char *err,
                         size_t errlen) {
    sqlite3_stmt *st = sq_prepare(c, "finish run", err, errlen,
                                  "UPDATE runs SET finished_at = ?1, status = ?2 WHERE id = ?3 AND finished_at IS NULL",
                                  "tti", now, status, run_id);
    if (!st || sq_run(c, "finish run", st, err, errlen)) return -1;
    if (sqlite3_changes(db_of(c)) == 0) {
        catalog_error(c, err, errlen, "finish run", "no running run with id %" PRId64, run_id);
        return 1;
    }
    return 0;
}

static int sq_next_revision(catalog *c, const char *region, const char *period, int *revision, char *err,
                            size_t errlen) {
    sqlite3_stmt *st = sq_prepare(c, "next revision", err, errlen,
                                  "SELECT COALESCE(MAX(revision), 0) FROM publications"
                                  " WHERE region = ?1 AND period = ?2",
                                  "tt", region, period);
    if (!st) return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : sq_fail(c, err, errlen, "next revision");
    int64_t max = rc ? 0 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc) return -1;
    if (max < 0 || max >= INT32_MAX)
        return catalog_error(c, err, errlen, "next revision", "stored revision %" PRId64 " is out of range", max);
    *revision = (int)max + 1;
    return 0;
}

static int sq_head(catalog *c, int64_t *id, char *hash, size_t hashlen, char *err, size_t errlen) {
    sqlite3_stmt *st = sq_prepare(c, "chain head", err, errlen,
                                  "SELECT id, record_hash FROM publications ORDER BY id DESC LIMIT 1", "");
    if (!st) return -1;
    int step = sqlite3_step(st), rc = 0;
    *id = 0;
    hash[0] = '\0';
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(hash, hashlen, "%s", text_or_empty(st, 1));
    } else if (step != SQLITE_DONE) {
        rc = sq_fail(c, err, errlen, "chain head");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Inserts the sealed p. Returns 1 when (region, period, revision) exists. */
static int sq_insert(catalog *c, const catalog_publication *p, char *err, size_t errlen) {
    sqlite3_stmt *st = sq_prepare(c, "publish", err, errlen,
                                  "INSERT INTO publications (" PUBLICATION_COLUMNS ") VALUES"
                                  " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                                  "iittitittttt", p->id, p->run_id, p->region, p->period, (int64_t)p->revision,
                                  p->bundle, p->size, p->sha256, p->manifest_sha256, p->signature, p->prev_hash,
                                  p->record_hash);
    if (!st) return -1;
    int step = sqlite3_step(st), rc = 0;
    if (step != SQLITE_DONE && sqlite3_extended_errcode(db_of(c)) == SQLITE_CONSTRAINT_UNIQUE) {
        catalog_error(c, err, errlen, "publish", "region %s period %s revision %d is already published",
                      p->region, p->period, p->revision);
        rc = 1;
    } else if (step != SQLITE_DONE) {
        rc = sq_fail(c, err, errlen, "publish");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_publish(catalog *c, catalog_publication *p, char *err, size_t errlen) {
    if (sq_exec(c, "publish: begin", "BEGIN IMMEDIATE", err, errlen)) return -1;
    int64_t head_id;
    char head[80];
    int rc = sq_head(c, &head_id, head, sizeof head, err, errlen);
    if (!rc) rc = catalog_seal(c, p, head_id, head, err, errlen);
    if (!rc) rc = sq_insert(c, p, err, errlen);
    if (!rc) rc = sq_exec(c, "publish: commit", "COMMIT", err, errlen);
    if (rc) sq_rollback(c);
    return rc;
}

static int sq_list(catalog *c, const char *region, catalog_record_fn fn, void *data, char *err, size_t errlen) {
    sqlite3_stmt *st = region ? sq_prepare(c, "list", err, errlen,
                                           "SELECT " PUBLICATION_COLUMNS " FROM publications WHERE region = ?1"
                                           " ORDER BY id",
                                           "t", region)
                              : sq_prepare(c, "list", err, errlen,
                                           "SELECT " PUBLICATION_COLUMNS " FROM publications ORDER BY id", "");
    if (!st) return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        catalog_record r = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), text_or_empty(st, 2),
                            text_or_empty(st, 3),        (int)sqlite3_column_int64(st, 4), text_or_empty(st, 5),
                            sqlite3_column_int64(st, 6), text_or_empty(st, 7), text_or_empty(st, 8),
                            text_or_empty(st, 9),        text_or_empty(st, 10), text_or_empty(st, 11)};
        if (fn(&r, data)) {
            step = SQLITE_DONE;
            break;
        }
    }
    int rc = step == SQLITE_DONE ? 0 : sq_fail(c, err, errlen, "list");
    sqlite3_finalize(st);
    return rc;
}

static int sq_list_runs(catalog *c, catalog_run_fn fn, void *data, char *err, size_t errlen) {
    sqlite3_stmt *st = sq_prepare(c, "list runs", err, errlen,
                                  "SELECT id, snapshot_date, period, ranks, tool_version, reports, started_at,"
                                  " finished_at, status FROM runs ORDER BY id",
                                  "");
    if (!st) return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        catalog_run r = {sqlite3_column_int64(st, 0), text_or_empty(st, 1), text_or_empty(st, 2),
                         (int)sqlite3_column_int64(st, 3), text_or_empty(st, 4), text_or_empty(st, 5),
                         text_or_empty(st, 6), (const char *)sqlite3_column_text(st, 7), text_or_empty(st, 8)};
        if (fn(&r, data)) {
            step = SQLITE_DONE;
            break;
        }
    }
    int rc = step == SQLITE_DONE ? 0 : sq_fail(c, err, errlen, "list runs");
    sqlite3_finalize(st);
    return rc;
}

static void sq_close(catalog *c) {
    sqlite3_close(db_of(c));
    c->db = NULL;
}

/* Parameters are named $1 … $n (SQLite's $AAAA form), bound by name so
 * that a statement may use them in any order or more than once. */
static int sq_query(catalog *c, const char *op, const char *sql, int n, const char *const *params,
                    catalog_row_fn fn, void *data, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_of(c), sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return sq_fail(c, err, errlen, op);
    }
    int rc = SQLITE_OK;
    for (int i = 0; i < n && rc == SQLITE_OK; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int at = sqlite3_bind_parameter_index(st, name);
        if (at == 0) continue;
        rc = params[i] ? sqlite3_bind_text(st, at, params[i], -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, at);
    }
    if (rc != SQLITE_OK) {
        sq_fail(c, err, errlen, op);
        sqlite3_finalize(st);
        return -1;
    }
    int step, stopped = 0, ncols = sqlite3_column_count(st);
    const char *values[64];
    if (ncols > 64) ncols = 64;
    while (!stopped && (step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int k = 0; k < ncols; k++) values[k] = (const char *)sqlite3_column_text(st, k);
        stopped = fn && fn(ncols, values, data);
    }
    rc = stopped || step == SQLITE_DONE ? 0 : sq_fail(c, err, errlen, op);
    sqlite3_finalize(st);
    return rc;
}

static int sq_begin_write(catalog *c, char *err, size_t errlen) {
    return sq_exec(c, "begin", "BEGIN IMMEDIATE", err, errlen);
}

static int sq_commit(catalog *c, char *err, size_t errlen) {
    int rc = sq_exec(c, "commit", "COMMIT", err, errlen);
    if (rc) sq_rollback(c);
    return rc;
}

static void sq_rollback_any(catalog *c) { sq_rollback(c); }

static int sq_in_transaction(catalog *c) { return !sqlite3_get_autocommit(db_of(c)); }

static const catalog_backend sqlite_backend = {
    "sqlite", sq_begin_run, sq_finish_run, sq_next_revision, sq_publish, sq_head, sq_list, sq_list_runs,
    sq_query, sq_begin_write, sq_commit, sq_rollback_any, sq_in_transaction, NULL, sq_close,
};

/* WAL: readers (esep status, the download service) never wait for a
 * writer, and a commit costs one fsync of the log. synchronous = NORMAL
 * keeps the database consistent across a crash of the process or the
 * machine; a power cut may lose the last commits, which the next run
 * reconciles from disk (publisher.h). */
static int sq_create_schema(catalog *c, char *err, size_t errlen) {
    if (sq_exec(c, "open: foreign keys", "PRAGMA foreign_keys = ON", err, errlen)) return -1;
    if (sq_exec(c, "open: journal", "PRAGMA journal_mode = WAL", err, errlen)) return -1;
    if (sq_exec(c, "open: synchronous", "PRAGMA synchronous = NORMAL", err, errlen)) return -1;
    if (sq_exec(c, "open: begin", "BEGIN IMMEDIATE", err, errlen)) return -1;
    int rc = sq_exec(c, "open: create schema", schema_sql, err, errlen);
    if (!rc) rc = sq_exec(c, "open: commit", "COMMIT", err, errlen);
    if (rc) sq_rollback(c);
    return rc;
}

int catalog_sqlite_open(catalog *c, const char *path, char *err, size_t errlen) {
    c->be = &sqlite_backend;
    snprintf(c->where, sizeof c->where, "%s", path);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    c->db = db;
    if (rc != SQLITE_OK) {
        if (db) sq_fail(c, err, errlen, "open");
        else catalog_error(c, err, errlen, "open", "out of memory");
        sq_close(c);
        return -1;
    }
    if (sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS) != SQLITE_OK) rc = sq_fail(c, err, errlen, "open: busy timeout");
    else rc = sq_create_schema(c, err, errlen);
    if (rc) sq_close(c);
    return rc;
}
