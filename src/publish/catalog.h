/* catalog.h — the catalog of runs and publications: which nightly runs
 * happened, and which bundle revision was published for which region and
 * period, with its size, digests and signature. It is the only place that
 * holds timestamps (bundles never do). One interface, two backends:
 *
 *   SQLite      the embedded default: a file, OUT/catalog.sqlite
 *   PostgreSQL  through libpq, for a shared catalog: the spec is a libpq
 *               connection URI, postgresql://… or postgres://… (a unix
 *               socket directory is given as
 *               postgresql:///dbname?host=/path/to/socketdir)
 *
 * Both hold the same logical schema (created when missing):
 *
 *   runs          id, snapshot_date, period, ranks, tool_version,
 *                 started_at, finished_at (ISO-8601 UTC text,
 *                 "2026-11-01T02:00:00Z"; finished_at NULL while running),
 *                 status ("running", then what catalog_finish_run sets),
 *                 reports (comma-separated report ids)
 *   publications  id, run_id → runs, region (2 digits), period, revision,
 *                 bundle (file name), size, sha256, manifest_sha256,
 *                 signature, prev_hash, record_hash;
 *                 unique (region, period, revision)
 *
 * Every statement is parameterized; no value is ever spliced into SQL.
 *
 * The chain. Publications form one tamper-evident hash chain over the whole
 * catalog, in id order. Ids are 1, 2, 3, … without gaps (assigned by the
 * catalog inside the publishing transaction, not by a sequence). Record n
 * carries prev_hash = the record_hash of record n-1 (64 '0' for record 1)
 * and record_hash = lowercase hex SHA-256 of these bytes:
 *
 *   <prev_hash> "\n"
 *   "id=" <int> "\n"
 *   "run_id=" <int> "\n"
 *   "region=" <str> "\n"
 *   "period=" <str> "\n"
 *   "revision=" <int> "\n"
 *   "bundle=" <str> "\n"
 *   "size=" <int> "\n"
 *   "sha256=" <str> "\n"
 *   "manifest_sha256=" <str> "\n"
 *   "signature=" <str> "\n"
 *
 * where <int> is the value in decimal (optional '-', no leading zeros or
 * '+') and <str> is the byte length of the value in decimal, ':', then the
 * value's bytes as stored (UTF-8, any byte but NUL, newlines included). The
 * length prefix makes the encoding unambiguous whatever the values hold.
 * Changing, deleting or reordering a record breaks the chain at a point
 * catalog_verify_chain names. What the chain cannot show on its own: the
 * removal of the last records (keep the head's record_hash elsewhere —
 * esep verify-catalog prints it), or a rewrite that recomputes every later
 * hash.
 *
 * Concurrency: publications are serialized by a write lock held for the
 * whole publishing transaction (SQLite: BEGIN IMMEDIATE, waiting up to 10 s
 * for a busy database; PostgreSQL: LOCK TABLE publications IN EXCLUSIVE
 * MODE), so concurrent publishers never fork the chain. A handle is used by
 * one thread (in esep, by MPI rank 0 only).
 *
 * Errors: every function that can fail returns -1 (or another documented
 * value) and writes "<backend> catalog <where>: <operation>: <driver
 * message>" to err. <where> is the SQLite path, or for PostgreSQL the
 * scheme and host only: connection URIs may hold passwords and are never
 * printed whole. */
#ifndef ESEP_CATALOG_H
#define ESEP_CATALOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct catalog catalog;

/* One run. catalog_begin_run reads snapshot_date … reports; catalog_list_runs
 * fills every field (strings valid only during the callback). */
typedef struct {
    int64_t id;
    const char *snapshot_date;  /* as the snapshot names it, e.g. 20261101 */
    const char *period;         /* 2026-10, 2026-Q3, 2026 */
    int ranks;                  /* MPI ranks the run used */
    const char *tool_version;
    const char *reports;        /* comma-separated report ids */
    const char *started_at;     /* ISO-8601 UTC, set by catalog_begin_run */
    const char *finished_at;    /* NULL while the run is running */
    const char *status;         /* "running", then catalog_finish_run's */
} catalog_run;

/* One publication to record. The caller fills run_id … signature (strings
 * are copied into the catalog); catalog_publish fills id, prev_hash and
 * record_hash. */
typedef struct {
    int64_t run_id;
    const char *region;            /* two digits, "00" = the republic */
    const char *period;
    int revision;                  /* ≥ 1; see catalog_next_revision */
    const char *bundle;            /* file name, no directory */
    int64_t size;                  /* bundle size in bytes, ≥ 0 */
    const char *sha256;            /* of the bundle: 64 lowercase hex */
    const char *manifest_sha256;   /* of its MANIFEST.json: 64 lowercase hex */
    const char *signature;         /* detached signature of the bundle */
    int64_t id;                    /* out: position in the chain */
    char prev_hash[65];            /* out */
    char record_hash[65];          /* out */
} catalog_publication;

/* One publication as stored, handed to catalog_list callbacks. Every string
 * is exactly what the catalog holds (no NULL) and valid only during the
 * callback. */
typedef struct {
    int64_t id, run_id;
    const char *region, *period;
    int revision;
    const char *bundle;
    int64_t size;
    const char *sha256, *manifest_sha256, *signature;
    const char *prev_hash, *record_hash;
} catalog_record;

/* Callbacks: return 0 to go on, non-zero to stop early (the listing then
 * returns 0 all the same). */
typedef int (*catalog_record_fn)(const catalog_record *rec, void *data);
typedef int (*catalog_run_fn)(const catalog_run *run, void *data);

/* Opens the catalog named by spec: a postgresql:// or postgres:// URI
 * selects PostgreSQL, anything else is a SQLite file path (created when
 * missing; its directory must exist). Creates the schema when missing, in
 * one transaction, so opening is idempotent and safe against concurrent
 * openers. Returns the handle (release with catalog_close), or NULL with a
 * message in err. */
catalog *catalog_open(const char *spec, char *err, size_t errlen);

/* Closes the handle and its connection. Accepts NULL. Cannot fail. */
void catalog_close(catalog *c);

/* "sqlite" or "postgresql". Cannot fail. */
const char *catalog_backend_name(const catalog *c);

/* Records the start of a run (status "running", started_at = now) and
 * stores its id in *run_id. Every string of run read here must be non-NULL.
 * Returns 0, or -1 with a message in err. */
int catalog_begin_run(catalog *c, const catalog_run *run, int64_t *run_id, char *err, size_t errlen);

/* Sets finished_at = now and the final status (non-empty; esep uses "ok"
 * and "failed") of a run that is still running. Returns 0, or -1 with a
 * message in err (also when the run does not exist or already finished). */
int catalog_finish_run(catalog *c, int64_t run_id, const char *status, char *err, size_t errlen);

/* Stores in *revision the revision a new publication of (region, period)
 * should take: the highest published one + 1, or 1 when there is none.
 * Returns 0, or -1 with a message in err (also when region is not two
 * digits or period is empty). Two publishers racing for the same revision
 * are told apart by catalog_publish (returns 1 to the later one). */
int catalog_next_revision(catalog *c, const char *region, const char *period, int *revision,
                          char *err, size_t errlen);

/* Appends p to the chain in one transaction under the publication lock:
 * reads the last record, sets p->id (last id + 1), p->prev_hash and
 * p->record_hash, inserts, commits. Checks p first (region two digits,
 * period/bundle/signature non-empty, revision ≥ 1, size ≥ 0, sha256 and
 * manifest_sha256 64 lowercase hex) and refuses to extend a chain whose last
 * record_hash is not a SHA-256. Returns 0; 1 when (region, period,
 * revision) is already published (nothing written); -1 with a message in
 * err on any other error (nothing written). */
int catalog_publish(catalog *c, catalog_publication *p, char *err, size_t errlen);

/* Calls fn for every publication in chain order (ascending id), or only
 * for those of region when it is not NULL. Returns 0, or -1 with a message
 * in err. */
int catalog_list(catalog *c, const char *region, catalog_record_fn fn, void *data, char *err,
                 size_t errlen);

/* Calls fn for every run in ascending id. Returns 0, or -1 with a message
 * in err. */
int catalog_list_runs(catalog *c, catalog_run_fn fn, void *data, char *err, size_t errlen);

/* Writes into hex the record_hash that rec should carry: the SHA-256 of
 * the serialization above (rec->record_hash is not read). Cannot fail. */
void catalog_record_hash(const catalog_record *rec, char hex[65]);

/* Walks the whole chain in id order and checks, for each record, that its
 * id follows the previous one (ids start at 1, no gap), that its prev_hash
 * is the previous record's record_hash (64 '0' for the first) and that its
 * record_hash recomputes. Returns 0 when intact, with "N publications" in
 * msg; 1 at the first broken record, with msg naming it and saying why:
 * "record 3: record_hash mismatch: …", "record 4: prev_hash mismatch: …",
 * "record 4: gap: record 3 is missing"; -1 when the catalog cannot be read
 * (msg says why). */
int catalog_verify_chain(catalog *c, char *msg, size_t msglen);

/* The head of the chain: the id and record_hash of the last publication
 * (*id = 0 and 64 '0' when there is none). Keeping it outside the catalog
 * is what shows a later removal of the last records. Returns 0, or -1 with
 * a message in err. */
int catalog_chain_head(catalog *c, int64_t *id, char hash[65], char *err, size_t errlen);

/* --- Other tables over the same connection (the run ledger, schedule/).
 * Portable SQL that both SQLite and PostgreSQL accept, parameters written
 * $1 … $n and always passed as text (NULL passes SQL NULL): the server
 * converts them by the column's type. No value is ever spliced into SQL. */

/* The current time as the catalog stores it, "2026-11-01T02:00:00Z", into
 * out (at least 21 bytes). Returns 0, or -1 when the clock cannot be read. */
int catalog_utc_now(char *out, size_t n);

/* One result row: ncols values as text (NULL for SQL NULL), valid only
 * during the call. Return 0 to go on, non-zero to stop. */
typedef int (*catalog_row_fn)(int ncols, const char *const *values, void *data);

/* Runs one statement; fn (may be NULL) gets each row it returns (use
 * RETURNING to learn what an UPDATE changed). op names the step in
 * messages. Returns 0, or -1 with a message in err. */
int catalog_query(catalog *c, const char *op, const char *sql, int n, const char *const *params,
                  catalog_row_fn fn, void *data, char *err, size_t errlen);

/* A write transaction that serializes every writer of the ledger: SQLite
 * BEGIN IMMEDIATE (waiting up to the busy timeout), PostgreSQL BEGIN and a
 * transaction-scoped advisory lock. End it with catalog_commit, or
 * catalog_rollback on error. Returns 0, or -1 with a message in err. */
int catalog_begin_write(catalog *c, char *err, size_t errlen);
int catalog_commit(catalog *c, char *err, size_t errlen);

/* 1 when a transaction is open on this connection. Cannot fail. */
int catalog_in_transaction(catalog *c);

/* Rolls back an open transaction, if any. Cannot fail (a connection that
 * cannot roll back aborts the transaction when it closes). */
void catalog_rollback(catalog *c);

/* A lock held by this connection until it closes or dies (PostgreSQL
 * session advisory lock on key): *acquired = 1 when taken, 0 when another
 * session holds it. Returns 0; 1 when the backend has no such lock
 * (SQLite: the caller keeps a lease row instead); -1 with a message. */
int catalog_try_session_lock(catalog *c, int64_t key, int *acquired, char *err, size_t errlen);

#endif
