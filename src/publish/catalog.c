/* catalog.c — see catalog.h. The backend-neutral half of the catalog: picks
 * the backend from the spec, checks arguments, makes the timestamps, and
 * owns the hash chain (its serialization, sealing new records, verifying
 * stored ones), so that both backends chain records byte for byte alike.
 * SQL lives in catalog_sqlite.c and catalog_pg.c behind catalog_backend. */
#include "catalog.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_internal.h"

const char catalog_genesis_hash[65] = "0000000000000000000000000000000000000000000000000000000000000000";

int catalog_error(const catalog *c, char *err, size_t errlen, const char *op, const char *fmt, ...) {
    int n = snprintf(err, errlen, "%s catalog %s: %s: ", c->be ? c->be->name : "", c->where, op);
    if (n < 0 || (size_t)n >= errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_pg_spec(const char *spec) {
    return !strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11);
}

catalog *catalog_open(const char *spec, char *err, size_t errlen) {
    if (!spec || !*spec) return snprintf(err, errlen, "catalog: empty catalog spec"), NULL;
    if (sodium_init() < 0) return snprintf(err, errlen, "catalog: libsodium cannot start"), NULL;
    catalog *c = calloc(1, sizeof *c);
    if (!c) return snprintf(err, errlen, "catalog: out of memory"), NULL;
    int rc = is_pg_spec(spec) ? catalog_pg_open(c, spec, err, errlen) : catalog_sqlite_open(c, spec, err, errlen);
    if (rc) {
        free(c);
        return NULL;
    }
    return c;
}

void catalog_close(catalog *c) {
    if (!c) return;
    if (c->db) c->be->close(c);
    free(c);
}

const char *catalog_backend_name(const catalog *c) { return c->be->name; }

int catalog_utc_now(char *out, size_t n) {
    struct timespec ts;
    struct tm tm;
    if (clock_gettime(CLOCK_REALTIME, &ts) || !gmtime_r(&ts.tv_sec, &tm)) return -1;
    return strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}

int catalog_begin_run(catalog *c, const catalog_run *run, int64_t *run_id, char *err, size_t errlen) {
    if (!run->snapshot_date || !run->period || !run->tool_version || !run->reports)
        return catalog_error(c, err, errlen, "begin run",
                             "snapshot_date, period, tool_version and reports are required");
    char now[32];
    if (catalog_utc_now(now, sizeof now)) return catalog_error(c, err, errlen, "begin run", "cannot read the clock");
    return c->be->begin_run(c, run, now, run_id, err, errlen);
}

int catalog_finish_run(catalog *c, int64_t run_id, const char *status, char *err, size_t errlen) {
    if (!status || !*status) return catalog_error(c, err, errlen, "finish run", "empty status");
    char now[32];
    if (catalog_utc_now(now, sizeof now)) return catalog_error(c, err, errlen, "finish run", "cannot read the clock");
    return c->be->finish_run(c, run_id, status, now, err, errlen) ? -1 : 0;
}

static int is_hex64(const char *s) {
    if (!s || strlen(s) != 64) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static int is_region(const char *s) {
    return s && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && !s[2];
}

int catalog_next_revision(catalog *c, const char *region, const char *period, int *revision,
                          char *err, size_t errlen) {
    if (!is_region(region)) return catalog_error(c, err, errlen, "next revision", "region must be two digits");
    if (!period || !*period) return catalog_error(c, err, errlen, "next revision", "empty period");
    return c->be->next_revision(c, region, period, revision, err, errlen);
}

/* The argument checks of catalog_publish: NULL when p is acceptable, else
 * what is wrong. */
static const char *publication_problem(const catalog_publication *p) {
    if (!is_region(p->region)) return "region must be two digits";
    if (!p->period || !*p->period) return "empty period";
    if (p->revision < 1) return "revision must be at least 1";
    if (!p->bundle || !*p->bundle) return "empty bundle name";
    if (p->size < 0) return "negative size";
    if (!is_hex64(p->sha256)) return "sha256 must be 64 lowercase hex digits";
    if (!is_hex64(p->manifest_sha256)) return "manifest_sha256 must be 64 lowercase hex digits";
    if (!p->signature || !*p->signature) return "empty signature";
    return NULL;
}

int catalog_publish(catalog *c, catalog_publication *p, char *err, size_t errlen) {
    const char *problem = publication_problem(p);
    if (problem) return catalog_error(c, err, errlen, "publish", "%s", problem);
    int rc = c->be->publish(c, p, err, errlen);
    return rc == 1 ? 1 : rc ? -1 : 0;
}

int catalog_list(catalog *c, const char *region, catalog_record_fn fn, void *data, char *err,
                 size_t errlen) {
    return c->be->list(c, region, fn, data, err, errlen);
}

int catalog_list_runs(catalog *c, catalog_run_fn fn, void *data, char *err, size_t errlen) {
    return c->be->list_runs(c, fn, data, err, errlen);
}

/* ---- the chain ---- */

static void hash_int(crypto_hash_sha256_state *st, const char *name, int64_t v) {
    char buf[96];
    int n = snprintf(buf, sizeof buf, "%s=%" PRId64 "\n", name, v);
    crypto_hash_sha256_update(st, (const unsigned char *)buf, (size_t)n);
}

static void hash_str(crypto_hash_sha256_state *st, const char *name, const char *v) {
    char buf[96];
    size_t len = strlen(v);
    int n = snprintf(buf, sizeof buf, "%s=%zu:", name, len);
    crypto_hash_sha256_update(st, (const unsigned char *)buf, (size_t)n);
    crypto_hash_sha256_update(st, (const unsigned char *)v, len);
    crypto_hash_sha256_update(st, (const unsigned char *)"\n", 1);
}

void catalog_record_hash(const catalog_record *rec, char hex[65]) {
    crypto_hash_sha256_state st;
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)rec->prev_hash, strlen(rec->prev_hash));
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    hash_int(&st, "id", rec->id);
    hash_int(&st, "run_id", rec->run_id);
    hash_str(&st, "region", rec->region);
    hash_str(&st, "period", rec->period);
    hash_int(&st, "revision", rec->revision);
    hash_str(&st, "bundle", rec->bundle);
    hash_int(&st, "size", rec->size);
    hash_str(&st, "sha256", rec->sha256);
    hash_str(&st, "manifest_sha256", rec->manifest_sha256);
    hash_str(&st, "signature", rec->signature);
    crypto_hash_sha256_final(&st, out);
    sodium_bin2hex(hex, 65, out, sizeof out);
}

int catalog_seal(const catalog *c, catalog_publication *p, int64_t head_id, const char *head_hash,
                 char *err, size_t errlen) {
    if (head_id == 0) head_hash = catalog_genesis_hash;
    else if (!is_hex64(head_hash))
        return catalog_error(c, err, errlen, "publish",
                             "the chain is damaged at record %" PRId64 " (record_hash is not a SHA-256); "
                             "run esep verify-catalog",
                             head_id);
    p->id = head_id + 1;
    memcpy(p->prev_hash, head_hash, 65);
    catalog_record rec = {p->id,     p->run_id, p->region,          p->period,       p->revision,
                          p->bundle, p->size,   p->sha256,          p->manifest_sha256,
                          p->signature, p->prev_hash, ""};
    catalog_record_hash(&rec, p->record_hash);
    return 0;
}

int catalog_chain_head(catalog *c, int64_t *id, char hash[65], char *err, size_t errlen) {
    char stored[80];
    if (c->be->head(c, id, stored, sizeof stored, err, errlen)) return -1;
    if (*id == 0) {
        memcpy(hash, catalog_genesis_hash, 65);
        return 0;
    }
    if (!is_hex64(stored))
        return catalog_error(c, err, errlen, "chain head", "record %" PRId64 ": record_hash is not a SHA-256", *id);
    memcpy(hash, stored, 65);
    return 0;
}

/* The walk of catalog_verify_chain: what the next record must be, and the
 * first problem found. */
typedef struct {
    int64_t count, expect_id;
    char prev[65];
    int broken;
    char *msg;
    size_t msglen;
} chain_walk;

static int walk_record(const catalog_record *r, void *data) {
    chain_walk *w = data;
    char want[65];
    if (r->id != w->expect_id) {
        if (r->id > w->expect_id && r->id == w->expect_id + 1)
            snprintf(w->msg, w->msglen, "record %" PRId64 ": gap: record %" PRId64 " is missing", r->id, w->expect_id);
        else if (r->id > w->expect_id)
            snprintf(w->msg, w->msglen, "record %" PRId64 ": gap: records %" PRId64 "–%" PRId64 " are missing", r->id,
                     w->expect_id, r->id - 1);
        else
            snprintf(w->msg, w->msglen, "record %" PRId64 ": gap: ids must run 1, 2, 3, … (expected %" PRId64 ")",
                     r->id, w->expect_id);
    } else if (strcmp(r->prev_hash, w->prev)) {
        snprintf(w->msg, w->msglen,
                 "record %" PRId64 ": prev_hash mismatch: it holds %.80s but the %s is %s", r->id, r->prev_hash,
                 w->count ? "previous record's record_hash" : "chain's genesis hash", w->prev);
    } else if (catalog_record_hash(r, want), strcmp(r->record_hash, want)) {
        snprintf(w->msg, w->msglen,
                 "record %" PRId64 ": record_hash mismatch: it holds %.80s but its fields hash to %s "
                 "(the record was changed)",
                 r->id, r->record_hash, want);
    } else {
        memcpy(w->prev, want, 65);
        w->count++;
        w->expect_id++;
        return 0;
    }
    w->broken = 1;
    return 1;
}

int catalog_verify_chain(catalog *c, char *msg, size_t msglen) {
    chain_walk w = {0, 1, "", 0, msg, msglen};
    memcpy(w.prev, catalog_genesis_hash, 65);
    if (c->be->list(c, NULL, walk_record, &w, msg, msglen)) return -1;
    if (w.broken) return 1;
    snprintf(msg, msglen, "%" PRId64 " publications", w.count);
    return 0;
}

int catalog_query(catalog *c, const char *op, const char *sql, int n, const char *const *params,
                  catalog_row_fn fn, void *data, char *err, size_t errlen) {
    return c->be->query(c, op, sql, n, params, fn, data, err, errlen);
}

int catalog_begin_write(catalog *c, char *err, size_t errlen) { return c->be->begin_write(c, err, errlen); }

int catalog_commit(catalog *c, char *err, size_t errlen) { return c->be->commit(c, err, errlen); }

void catalog_rollback(catalog *c) { c->be->rollback(c); }

int catalog_in_transaction(catalog *c) { return c->be->in_transaction(c); }

int catalog_try_session_lock(catalog *c, int64_t key, int *acquired, char *err, size_t errlen) {
    *acquired = 0;
    return c->be->try_session_lock ? c->be->try_session_lock(c, key, acquired, err, errlen) : 1;
}
