/* catalog_internal.h — what catalog.c shares with its two backends
 * (catalog_sqlite.c, catalog_pg.c) and nobody else: the handle, the
 * backend vtable and the helpers both backends use. catalog.c owns the
 * argument checks, the timestamps and the chain; a backend owns its
 * connection, its SQL and its transactions. */
#ifndef ESEP_CATALOG_INTERNAL_H
#define ESEP_CATALOG_INTERNAL_H

#include <stdarg.h>

#include "catalog.h"

/* The record_hash before the first record: 64 '0'. */
extern const char catalog_genesis_hash[65];

/* One backend. Every operation returns 0 or -1 with a message in err
 * formatted by catalog_error, except as noted. `now` is an ISO-8601 UTC
 * timestamp computed by catalog.c. */
typedef struct {
    const char *name;  /* "sqlite", "postgresql" */
    int (*begin_run)(catalog *c, const catalog_run *run, const char *now, int64_t *run_id, char *err,
                     size_t errlen);
    /* Returns 1 (message in err) when no running run has that id. */
    int (*finish_run)(catalog *c, int64_t run_id, const char *status, const char *now, char *err,
                      size_t errlen);
    int (*next_revision)(catalog *c, const char *region, const char *period, int *revision, char *err,
                         size_t errlen);
    /* In one transaction under the publication lock: reads the head, calls
     * catalog_seal(p, head id, head hash), inserts p, commits. Returns 1
     * when (region, period, revision) exists. */
    int (*publish)(catalog *c, catalog_publication *p, char *err, size_t errlen);
    /* The last record's id and record_hash as stored (id 0, hash "" when
     * the catalog is empty); hash must hold at least 65 bytes, longer
     * stored values are cut (catalog_seal rejects anything not 64 long). */
    int (*head)(catalog *c, int64_t *id, char *hash, size_t hashlen, char *err, size_t errlen);
    /* Rows in ascending id; region NULL = all. fn's non-zero stops. */
    int (*list)(catalog *c, const char *region, catalog_record_fn fn, void *data, char *err,
                size_t errlen);
    int (*list_runs)(catalog *c, catalog_run_fn fn, void *data, char *err, size_t errlen);
    /* catalog_query: one statement, parameters $1..$n as text. */
    int (*query)(catalog *c, const char *op, const char *sql, int n, const char *const *params,
                 catalog_row_fn fn, void *data, char *err, size_t errlen);
    /* catalog_begin_write / catalog_commit / catalog_rollback. */
    int (*begin_write)(catalog *c, char *err, size_t errlen);
    int (*commit)(catalog *c, char *err, size_t errlen);
    void (*rollback)(catalog *c);
    int (*in_transaction)(catalog *c);
    /* catalog_try_session_lock; NULL when the backend has none. */
    int (*try_session_lock)(catalog *c, int64_t key, int *acquired, char *err, size_t errlen);
    void (*close)(catalog *c);
} catalog_backend;

struct catalog {
    const catalog_backend *be;
    void *db;         /* sqlite3 * or PGconn * */
    char where[512];  /* path, or scheme://host: safe to print */
};

/* Opening a backend: connects, creates the schema, fills c->be, c->db and
 * c->where. On error c->db is NULL (nothing to release). */
int catalog_sqlite_open(catalog *c, const char *path, char *err, size_t errlen);
int catalog_pg_open(catalog *c, const char *uri, char *err, size_t errlen);

/* Writes "<backend> catalog <where>: <op>: <fmt …>" into err. Returns -1,
 * so that backends can `return catalog_error(…)`. */
int catalog_error(const catalog *c, char *err, size_t errlen, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Chains p onto a head (head_id 0 / head_hash "" for an empty catalog):
 * sets p->id, p->prev_hash and p->record_hash. Returns 0, or -1 with a
 * message when the head's record_hash is not 64 lowercase hex (the chain
 * is damaged and must not be extended). */
int catalog_seal(const catalog *c, catalog_publication *p, int64_t head_id, const char *head_hash,
                 char *err, size_t errlen);

#endif
