/* catalog_tests.c — one suite for both catalog backends (catalog.h):
 *
 *   catalog-tests SPEC               runs every case on SPEC and prints
 *                                    "catalog: N passed, M failed"
 *   catalog-tests --populate N SPEC  empties SPEC and publishes N records
 *                                    (what tests/e2e/catalog.sh feeds to
 *                                    esep verify-catalog)
 *
 * SPEC is a SQLite file path or a postgresql:// URI; the cases drop and
 * recreate the catalog's tables, so SPEC must be a scratch catalog. The
 * chain hashes are recomputed here from the serialization documented in
 * catalog.h (one snprintf, one SHA-256 — not the module's code), pinned by
 * a known answer computed with Python's hashlib. Tampering goes through the
 * backend's own client library (sqlite3 / libpq), as an intruder would. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/test.h"
#include "publish/catalog.h"



#define EXPECT_PREFIX(got, want)                                                            \
    do {                                                                                    \
        const char *g_ = (got), *w_ = (want);                                               \
        if (strncmp(g_, w_, strlen(w_)))                                                    \
            test_fail(__FILE__, __LINE__, "%s = \"%s\", want it to start \"%s\"", #got, g_, w_); \
    } while (0)

static const char *spec;  /* the catalog under test (set once in main) */

static int is_pg(void) { return !strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11); }

/* ---- the backend's own client library, for resetting and tampering ---- */

static void quiet(void *arg, const char *message) { (void)arg, (void)message; }

/* Runs constant SQL straight through sqlite3 / libpq. Returns 0 or -1
 * (with a message on stderr when verbose). */
static int raw_run(const char *sql, int verbose) {
    int rc = 0;
    if (is_pg()) {
        PGconn *conn = PQconnectdb(spec);
        PQsetNoticeProcessor(conn, quiet, NULL);
        PGresult *res = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql) : NULL;
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            if (verbose) fprintf(stderr, "raw libpq: %s: %s", sql, PQerrorMessage(conn));
            rc = -1;
        }
        PQclear(res);
        PQfinish(conn);
    } else {
        sqlite3 *db = NULL;
        char *msg = NULL;
        if (sqlite3_open_v2(spec, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            if (verbose) fprintf(stderr, "raw sqlite3: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
            rc = -1;
        }
        sqlite3_free(msg);
        sqlite3_close(db);
    }
    return rc;
}

static int raw_exec(const char *sql) { return raw_run(sql, 1); }

/* raw_run of a formatted text (test values only: hex, fixed names). */
static int raw_execf(int verbose, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int raw_execf(int verbose, const char *fmt, ...) {
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return raw_run(sql, verbose);
}

static int reset_catalog(void) { return raw_exec("DROP TABLE IF EXISTS publications; DROP TABLE IF EXISTS runs"); }

/* ---- records the tests publish, and their hashes worked out here ---- */

typedef struct {
    int64_t run_id, size, id;
    int revision;
    char region[8], period[64], bundle[96], sha256[65], manifest_sha256[65], signature[160];
    char prev_hash[65], record_hash[65];
} rec_data;

static void hex_of(const char *text, char hex[65]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, 65, h, sizeof h);
}

/* Record i (0-based) of a test chain: regions 00, 10, 11 in turn, one
 * period, revisions counting up per region. */
static void make_rec(rec_data *d, int i, int64_t run_id) {
    static const char *const regions[] = {"00", "10", "11"};
    char text[64];
    memset(d, 0, sizeof *d);
    d->run_id = run_id;
    snprintf(d->region, sizeof d->region, "%s", regions[i % 3]);
    snprintf(d->period, sizeof d->period, "2026-10");
    d->revision = i / 3 + 1;
    snprintf(d->bundle, sizeof d->bundle, "esep-%s-2026-10.r%d.tar.zst", d->region, d->revision);
    d->size = 1000 + 37 * i;
    snprintf(text, sizeof text, "bundle %d", i);
    hex_of(text, d->sha256);
    snprintf(text, sizeof text, "manifest %d", i);
    hex_of(text, d->manifest_sha256);
    snprintf(text, sizeof text, "signature %d", i);
    hex_of(text, d->signature);
}

static catalog_publication pub_of(const rec_data *d) {
    catalog_publication p;
    memset(&p, 0, sizeof p);
    p.run_id = d->run_id;
    p.region = d->region;
    p.period = d->period;
    p.revision = d->revision;
    p.bundle = d->bundle;
    p.size = d->size;
    p.sha256 = d->sha256;
    p.manifest_sha256 = d->manifest_sha256;
    p.signature = d->signature;
    return p;
}

/* The serialization of catalog.h, written out in one go. */
static void expected_hash(const char *prev, int64_t id, const rec_data *d, char hex[65]) {
    char buf[4096];
    int n = snprintf(buf, sizeof buf,
                     "%s\nid=%" PRId64 "\nrun_id=%" PRId64 "\nregion=%zu:%s\nperiod=%zu:%s\nrevision=%d\n"
                     "bundle=%zu:%s\nsize=%" PRId64 "\nsha256=%zu:%s\nmanifest_sha256=%zu:%s\nsignature=%zu:%s\n",
                     prev, id, d->run_id, strlen(d->region), d->region, strlen(d->period), d->period, d->revision,
                     strlen(d->bundle), d->bundle, d->size, strlen(d->sha256), d->sha256,
                     strlen(d->manifest_sha256), d->manifest_sha256, strlen(d->signature), d->signature);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)buf, (size_t)n);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

static const char genesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

static catalog *open_or_fail(void) {
    char err[1024];
    catalog *c = catalog_open(spec, err, sizeof err);
    if (!c) test_fail(__FILE__, __LINE__, "catalog_open: %s", err);
    return c;
}

static int64_t begin_run(catalog *c) {
    char err[1024];
    catalog_run run = {0, "20261101", "2026-10", 2, "0.1.0", "R01,R02", NULL, NULL, NULL};
    int64_t id = 0;
    if (catalog_begin_run(c, &run, &id, err, sizeof err)) test_fail(__FILE__, __LINE__, "begin run: %s", err);
    return id;
}

/* Empties the catalog and publishes n records (recs gets them, with their
 * ids and hashes). Returns 0, or -1 after reporting a failure. */
static int build_chain(int n, rec_data *recs) {
    char err[1024];
    if (reset_catalog()) return test_fail(__FILE__, __LINE__, "reset failed"), -1;
    catalog *c = open_or_fail();
    if (!c) return -1;
    int64_t earlier = begin_run(c), run_id = begin_run(c);  /* two runs: run_id can be tampered with */
    int rc = catalog_finish_run(c, earlier, "failed", err, sizeof err);
    if (rc) test_fail(__FILE__, __LINE__, "finish run: %s", err);
    for (int i = 0; i < n && !rc; i++) {
        make_rec(&recs[i], i, run_id);
        catalog_publication p = pub_of(&recs[i]);
        if ((rc = catalog_publish(c, &p, err, sizeof err))) {
            test_fail(__FILE__, __LINE__, "publish %d: %s", i, err);
            break;
        }
        recs[i].id = p.id;
        memcpy(recs[i].prev_hash, p.prev_hash, 65);
        memcpy(recs[i].record_hash, p.record_hash, 65);
    }
    if (!rc && catalog_finish_run(c, run_id, "ok", err, sizeof err))
        test_fail(__FILE__, __LINE__, "finish run: %s", err), rc = -1;
    catalog_close(c);
    return rc ? -1 : 0;
}

/* Verifies the catalog: EXPECTs return value want and a message starting
 * with prefix. */
static void expect_verify(int want, const char *prefix) {
    catalog *c = open_or_fail();
    if (!c) return;
    char msg[2048];
    int rc = catalog_verify_chain(c, msg, sizeof msg);
    if (rc != want) test_fail(__FILE__, __LINE__, "verify = %d (%s), want %d", rc, msg, want);
    EXPECT_PREFIX(msg, prefix);
    catalog_close(c);
}

/* ---- listing helpers ---- */

typedef struct {
    int count, stop_after;
    rec_data got[64];
} listing;

static int collect(const catalog_record *r, void *data) {
    listing *l = data;
    if (l->count < 64) {
        rec_data *d = &l->got[l->count];
        d->id = r->id, d->run_id = r->run_id, d->revision = r->revision, d->size = r->size;
        snprintf(d->region, sizeof d->region, "%s", r->region);
        snprintf(d->period, sizeof d->period, "%s", r->period);
        snprintf(d->bundle, sizeof d->bundle, "%s", r->bundle);
        snprintf(d->sha256, sizeof d->sha256, "%s", r->sha256);
        snprintf(d->manifest_sha256, sizeof d->manifest_sha256, "%s", r->manifest_sha256);
        snprintf(d->signature, sizeof d->signature, "%s", r->signature);
        snprintf(d->prev_hash, sizeof d->prev_hash, "%s", r->prev_hash);
        snprintf(d->record_hash, sizeof d->record_hash, "%s", r->record_hash);
    }
    l->count++;
    return l->stop_after && l->count >= l->stop_after;
}

/* ---- the cases ---- */

static void case_known_answer(void) {
    catalog_record r = {1, 7, "00", "2026-10", 1, "esep-00-2026-10.r1.tar.zst", 123456,
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                        "sig:\nnext=1:x", genesis, ""};
    char hex[65];
    catalog_record_hash(&r, hex);
    EXPECT_EQ_STR(hex, "bdbafa74d1d01059d1e186d23fe532c102572b2482315b8b30f543fbfc8f8264");
}

static void case_open_twice(void) {
    EXPECT_EQ_INT(reset_catalog(), 0);
    catalog *a = open_or_fail(), *b = open_or_fail();
    if (a) EXPECT_EQ_STR(catalog_backend_name(a), is_pg() ? "postgresql" : "sqlite");
    catalog_close(b);
    catalog_close(a);
    catalog *c = open_or_fail();
    catalog_close(c);
    expect_verify(0, "0 publications");
}

static void case_open_errors(void) {
    char err[1024] = "";
    catalog *c = catalog_open("/nonexistent-dir/x/catalog.sqlite", err, sizeof err);
    EXPECT(c == NULL);
    EXPECT_PREFIX(err, "sqlite catalog /nonexistent-dir/x/catalog.sqlite: open: ");
    c = catalog_open("postgresql://esep:s3cr3t-pw@127.0.0.1:1/esep?sslmode=disable", err, sizeof err);
    EXPECT(c == NULL);
    EXPECT_PREFIX(err, "postgresql catalog postgresql://127.0.0.1: connect: ");
    EXPECT(strstr(err, "s3cr3t") == NULL);
    c = catalog_open("postgres:///esep?host=/nonexistent-socket-dir&password=s3cr3t-pw", err, sizeof err);
    EXPECT(c == NULL);
    EXPECT_PREFIX(err, "postgresql catalog postgres://[/nonexistent-socket-dir]: connect: ");
    EXPECT(strstr(err, "s3cr3t") == NULL);
    c = catalog_open("postgresql://esep:s3cr3t%zz@host/db", err, sizeof err);
    EXPECT(c == NULL);
    EXPECT(strstr(err, "malformed") != NULL);
    EXPECT(strstr(err, "s3cr3t") == NULL);
    catalog_close(c);
}

typedef struct {
    int count;
    catalog_run runs[3];
    char started[3][64], finished[3][64], status[3][64], snapshot[3][64], reports[3][64];
    int finished_null[3];
} run_listing;

static int collect_run(const catalog_run *r, void *data) {
    run_listing *l = data;
    if (l->count < 3) {
        int i = l->count;
        l->runs[i] = *r;
        snprintf(l->started[i], 64, "%s", r->started_at);
        snprintf(l->finished[i], 64, "%s", r->finished_at ? r->finished_at : "");
        l->finished_null[i] = r->finished_at == NULL;
        snprintf(l->status[i], 64, "%s", r->status);
        snprintf(l->snapshot[i], 64, "%s", r->snapshot_date);
        snprintf(l->reports[i], 64, "%s", r->reports);
    }
    l->count++;
    return 0;
}

static int is_iso_utc(const char *s) {
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof shape - 1) return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return 0;
    return 1;
}

static void case_runs(void) {
    char err[1024];
    EXPECT_EQ_INT(reset_catalog(), 0);
    catalog *c = open_or_fail();
    if (!c) return;
    catalog_run run = {0, "20261101", "2026-10", 3, "0.1.0", "R01,R02,R03", NULL, NULL, NULL};
    int64_t a = 0, b = 0;
    EXPECT_EQ_INT(catalog_begin_run(c, &run, &a, err, sizeof err), 0);
    run.snapshot_date = "20261201";
    EXPECT_EQ_INT(catalog_begin_run(c, &run, &b, err, sizeof err), 0);
    EXPECT(a > 0 && b > a);
    EXPECT_EQ_INT(catalog_finish_run(c, a, "ok", err, sizeof err), 0);
    EXPECT_EQ_INT(catalog_finish_run(c, a, "failed", err, sizeof err), -1);
    EXPECT(strstr(err, "no running run") != NULL);
    EXPECT_EQ_INT(catalog_finish_run(c, 99999, "ok", err, sizeof err), -1);
    EXPECT_EQ_INT(catalog_finish_run(c, b, "", err, sizeof err), -1);
    run_listing l;
    memset(&l, 0, sizeof l);
    EXPECT_EQ_INT(catalog_list_runs(c, collect_run, &l, err, sizeof err), 0);
    EXPECT_EQ_INT(l.count, 2);
    EXPECT_EQ_INT(l.runs[0].id, a);
    EXPECT_EQ_INT(l.runs[0].ranks, 3);
    EXPECT_EQ_STR(l.snapshot[0], "20261101");
    EXPECT_EQ_STR(l.snapshot[1], "20261201");
    EXPECT_EQ_STR(l.reports[0], "R01,R02,R03");
    EXPECT_EQ_STR(l.status[0], "ok");
    EXPECT_EQ_STR(l.status[1], "running");
    EXPECT(is_iso_utc(l.started[0]) && is_iso_utc(l.finished[0]) && is_iso_utc(l.started[1]));
    EXPECT(strcmp(l.finished[0], l.started[0]) >= 0);
    EXPECT(l.finished_null[1] && !l.finished_null[0]);
    catalog_close(c);
}

static int next_rev(catalog *c, const char *region, const char *period) {
    char err[1024];
    int rev = -1;
    if (catalog_next_revision(c, region, period, &rev, err, sizeof err))
        test_fail(__FILE__, __LINE__, "next revision: %s", err);
    return rev;
}

static void case_next_revision(void) {
    char err[1024];
    EXPECT_EQ_INT(reset_catalog(), 0);
    catalog *c = open_or_fail();
    if (!c) return;
    int64_t run_id = begin_run(c);
    EXPECT_EQ_INT(next_rev(c, "00", "2026-10"), 1);
    rec_data d;
    for (int i = 0; i < 3; i++) {
        make_rec(&d, 0, run_id);
        d.revision = next_rev(c, "00", "2026-10");
        EXPECT_EQ_INT(d.revision, i + 1);
        catalog_publication p = pub_of(&d);
        EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), 0);
    }
    EXPECT_EQ_INT(next_rev(c, "00", "2026-10"), 4);
    EXPECT_EQ_INT(next_rev(c, "01", "2026-10"), 1);
    EXPECT_EQ_INT(next_rev(c, "00", "2026-Q4"), 1);
    EXPECT_EQ_INT(catalog_next_revision(c, "0", "2026-10", &d.revision, err, sizeof err), -1);
    catalog_close(c);
}

static void case_publish_chain(void) {
    rec_data recs[6];
    if (build_chain(6, recs)) return;
    const char *prev = genesis;
    for (int i = 0; i < 6; i++) {
        char want[65];
        EXPECT_EQ_INT(recs[i].id, i + 1);
        EXPECT_EQ_STR(recs[i].prev_hash, prev);
        expected_hash(prev, i + 1, &recs[i], want);
        EXPECT_EQ_STR(recs[i].record_hash, want);
        prev = recs[i].record_hash;
    }
    catalog *c = open_or_fail();
    if (!c) return;
    int64_t head_id = 0;
    char head[65], err[1024];
    EXPECT_EQ_INT(catalog_chain_head(c, &head_id, head, err, sizeof err), 0);
    EXPECT_EQ_INT(head_id, 6);
    EXPECT_EQ_STR(head, recs[5].record_hash);
    catalog_close(c);
}

static void case_list(void) {
    rec_data recs[7];
    char err[1024];
    if (build_chain(7, recs)) return;
    catalog *c = open_or_fail();
    if (!c) return;
    listing *l = calloc(1, sizeof *l);
    EXPECT_EQ_INT(catalog_list(c, NULL, collect, l, err, sizeof err), 0);
    EXPECT_EQ_INT(l->count, 7);
    for (int i = 0; i < 7 && i < l->count; i++) {
        const rec_data *g = &l->got[i], *w = &recs[i];
        EXPECT_EQ_INT(g->id, i + 1);
        EXPECT_EQ_INT(g->run_id, w->run_id);
        EXPECT_EQ_STR(g->region, w->region);
        EXPECT_EQ_STR(g->period, w->period);
        EXPECT_EQ_INT(g->revision, w->revision);
        EXPECT_EQ_STR(g->bundle, w->bundle);
        EXPECT_EQ_INT(g->size, w->size);
        EXPECT_EQ_STR(g->sha256, w->sha256);
        EXPECT_EQ_STR(g->manifest_sha256, w->manifest_sha256);
        EXPECT_EQ_STR(g->signature, w->signature);
        EXPECT_EQ_STR(g->prev_hash, w->prev_hash);
        EXPECT_EQ_STR(g->record_hash, w->record_hash);
    }
    memset(l, 0, sizeof *l);
    EXPECT_EQ_INT(catalog_list(c, "10", collect, l, err, sizeof err), 0);
    EXPECT_EQ_INT(l->count, 2);
    EXPECT_EQ_INT(l->got[0].id, 2);
    EXPECT_EQ_INT(l->got[1].id, 5);
    memset(l, 0, sizeof *l);
    EXPECT_EQ_INT(catalog_list(c, "99", collect, l, err, sizeof err), 0);
    EXPECT_EQ_INT(l->count, 0);
    memset(l, 0, sizeof *l);
    l->stop_after = 3;
    EXPECT_EQ_INT(catalog_list(c, NULL, collect, l, err, sizeof err), 0);
    EXPECT_EQ_INT(l->count, 3);
    free(l);
    catalog_close(c);
}

static void case_verify_intact(void) {
    rec_data recs[5];
    if (build_chain(5, recs)) return;
    expect_verify(0, "5 publications");
}

/* Tampering by one SQL text: each case rebuilds a 5-record chain, edits it
 * behind the catalog's back and expects verify to name the broken record. */
typedef struct {
    const char *name, *sql, *want;
} tamper;

static const tamper tampers[] = {
    {"tamper: bundle of a middle record", "UPDATE publications SET bundle = 'evil.tar.zst' WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: size of a middle record", "UPDATE publications SET size = size + 1 WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: sha256 of a middle record", "UPDATE publications SET sha256 = manifest_sha256 WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: manifest_sha256 of a middle record", "UPDATE publications SET manifest_sha256 = sha256 WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: signature of a middle record", "UPDATE publications SET signature = 'forged' WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: revision of a middle record", "UPDATE publications SET revision = 7 WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: period of a middle record", "UPDATE publications SET period = '2026-11' WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: region of a middle record", "UPDATE publications SET region = '19' WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: run_id of a middle record", "UPDATE publications SET run_id = run_id - 1 WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: record_hash of a middle record", "UPDATE publications SET record_hash = prev_hash WHERE id = 3",
     "record 3: record_hash mismatch"},
    {"tamper: prev_hash of a middle record", "UPDATE publications SET prev_hash = record_hash WHERE id = 3",
     "record 3: prev_hash mismatch"},
    {"tamper: a middle record deleted", "DELETE FROM publications WHERE id = 3", "record 4: gap: record 3 is missing"},
    {"tamper: the first record deleted", "DELETE FROM publications WHERE id = 1", "record 2: gap: record 1 is missing"},
    {"tamper: two middle records deleted", "DELETE FROM publications WHERE id IN (2, 3)",
     "record 4: gap: records 2–3 are missing"},
    {"tamper: two whole records swapped (ids exchanged)",
     "UPDATE publications SET id = 100 WHERE id = 2; UPDATE publications SET id = 2 WHERE id = 4;"
     " UPDATE publications SET id = 4 WHERE id = 100",
     "record 2: prev_hash mismatch"},
};

static void tamper_body(const tamper *t) {
    rec_data recs[5];
    if (build_chain(5, recs)) return;
    EXPECT_EQ_INT(raw_exec(t->sql), 0);
    expect_verify(1, t->want);
}

static void case_tamper_rehashed(void) {
    rec_data recs[5];
    if (build_chain(5, recs)) return;
    rec_data forged = recs[2];
    snprintf(forged.bundle, sizeof forged.bundle, "evil.tar.zst");
    char hash[65];
    expected_hash(recs[2].prev_hash, 3, &forged, hash);
    EXPECT_EQ_INT(
        raw_execf(1, "UPDATE publications SET bundle = 'evil.tar.zst', record_hash = '%s' WHERE id = 3", hash), 0);
    expect_verify(1, "record 4: prev_hash mismatch");
}

static void case_tamper_swap(void) {
    rec_data recs[5];
    if (build_chain(5, recs)) return;
    EXPECT_EQ_INT(raw_execf(1, "UPDATE publications SET bundle = '%s', sha256 = '%s' WHERE id = 2;"
                            "UPDATE publications SET bundle = '%s', sha256 = '%s' WHERE id = 4",
                            recs[3].bundle, recs[3].sha256, recs[1].bundle, recs[1].sha256),
                  0);
    expect_verify(1, "record 2: record_hash mismatch");
}

static void case_tamper_append(void) {
    rec_data recs[5];
    if (build_chain(5, recs)) return;
    EXPECT_EQ_INT(raw_execf(1, "INSERT INTO publications (id, run_id, region, period, revision, bundle, size, sha256,"
                            " manifest_sha256, signature, prev_hash, record_hash) VALUES (6, %" PRId64
                            ", '00', '2026-10', 9, 'x.tar.zst', 1, '%s', '%s', 'sig', '%s', '%s')",
                            recs[0].run_id, recs[0].sha256, recs[0].sha256, recs[4].record_hash,
                            recs[4].record_hash),
                  0);
    expect_verify(1, "record 6: record_hash mismatch");
    catalog *c = open_or_fail();
    if (!c) return;
    char err[1024];
    rec_data d;
    make_rec(&d, 0, recs[0].run_id);
    d.revision = 50;
    catalog_publication p = pub_of(&d);
    EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), 0); /* the head is still a SHA-256 */
    EXPECT_EQ_INT(raw_exec("UPDATE publications SET record_hash = 'damaged' WHERE id = 7"), 0);
    d.revision = 51;
    p = pub_of(&d);
    EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), -1);
    EXPECT(strstr(err, "chain is damaged at record 7") != NULL);
    catalog_close(c);
}

static void case_unique(void) {
    rec_data recs[3];
    if (build_chain(3, recs)) return;
    catalog *c = open_or_fail();
    if (!c) return;
    char err[1024];
    rec_data d = recs[1];
    snprintf(d.bundle, sizeof d.bundle, "again.tar.zst");
    catalog_publication p = pub_of(&d);
    EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), 1);
    EXPECT(strstr(err, "region 10 period 2026-10 revision 1 is already published") != NULL);
    d.revision = 2;
    p = pub_of(&d);
    EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), 0);
    EXPECT_EQ_INT(p.id, 4);
    EXPECT_EQ_STR(p.prev_hash, recs[2].record_hash);
    catalog_close(c);
    expect_verify(0, "4 publications");
    /* The database itself refuses a duplicate, not only the catalog code. */
    EXPECT(raw_execf(0, "INSERT INTO publications (id, run_id, region, period, revision, bundle, size, sha256,"
                     " manifest_sha256, signature, prev_hash, record_hash) VALUES (5, %" PRId64
                     ", '10', '2026-10', 1, 'x', 1, 'a', 'b', 'c', 'd', 'e')",
                     recs[0].run_id) != 0);
}

static void case_invalid(void) {
    rec_data recs[1];
    if (build_chain(1, recs)) return;
    catalog *c = open_or_fail();
    if (!c) return;
    char err[1024];
    static const char *const regions[] = {"0", "000", "ab", "00'; DROP TABLE publications; --"};
    for (size_t i = 0; i < sizeof regions / sizeof *regions; i++) {
        rec_data d = recs[0];
        snprintf(d.region, sizeof d.region, "%.7s", regions[i]);
        catalog_publication p = pub_of(&d);
        if (i == 3) p.region = regions[i];
        EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), -1);
        EXPECT(strstr(err, "region must be two digits") != NULL);
    }
    rec_data d[4] = {recs[0], recs[0], recs[0], recs[0]};
    d[0].revision = 0;
    d[1].revision = 2, d[1].size = -1;
    d[2].revision = 2, d[2].sha256[0] = 'A';
    d[3].revision = 2, d[3].run_id = 424242; /* no such run */
    for (int i = 0; i < 4; i++) {
        catalog_publication p = pub_of(&d[i]);
        EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), -1);
    }
    EXPECT_PREFIX(err, is_pg() ? "postgresql catalog " : "sqlite catalog ");
    EXPECT(strcasestr(err, "foreign key") != NULL);
    catalog_publication p = pub_of(&d[2]);
    EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), -1);
    EXPECT(strstr(err, "sha256 must be 64 lowercase hex digits") != NULL);
    catalog_close(c);
    expect_verify(0, "1 publications");
}

static void case_injection(void) {
    static const char evil[] = "00'; DROP TABLE publications; --";
    rec_data recs[1];
    if (build_chain(1, recs)) return;
    catalog *c = open_or_fail();
    if (!c) return;
    char err[1024];
    catalog_run run = {0, evil, evil, 1, "'); DELETE FROM runs; --", "R01\"; DROP TABLE runs; --", NULL, NULL,
                       NULL};
    int64_t run_id = 0;
    EXPECT_EQ_INT(catalog_begin_run(c, &run, &run_id, err, sizeof err), 0);
    EXPECT_EQ_INT(catalog_finish_run(c, run_id, evil, err, sizeof err), 0);
    rec_data d = recs[0];
    d.run_id = run_id;
    snprintf(d.period, sizeof d.period, "%s", evil);
    snprintf(d.bundle, sizeof d.bundle, "x'); DELETE FROM publications; --.tar.zst");
    snprintf(d.signature, sizeof d.signature, "\\'\"; DROP TABLE runs; --\nsignature=3:abc");
    d.revision = next_rev(c, "00", evil);
    EXPECT_EQ_INT(d.revision, 1);
    catalog_publication p = pub_of(&d);
    EXPECT_EQ_INT(catalog_publish(c, &p, err, sizeof err), 0);
    EXPECT_EQ_INT(next_rev(c, "00", evil), 2);
    listing *l = calloc(1, sizeof *l);
    EXPECT_EQ_INT(catalog_list(c, NULL, collect, l, err, sizeof err), 0);
    EXPECT_EQ_INT(l->count, 2);
    EXPECT_EQ_STR(l->got[1].period, evil);
    EXPECT_EQ_STR(l->got[1].bundle, d.bundle);
    EXPECT_EQ_STR(l->got[1].signature, d.signature);
    char want[65];
    expected_hash(recs[0].record_hash, 2, &d, want);
    EXPECT_EQ_STR(l->got[1].record_hash, want);
    memset(l, 0, sizeof *l);
    EXPECT_EQ_INT(catalog_list(c, "00' OR '1'='1", collect, l, err, sizeof err), 0);
    EXPECT_EQ_INT(l->count, 0);
    free(l);
    run_listing rl;
    memset(&rl, 0, sizeof rl);
    EXPECT_EQ_INT(catalog_list_runs(c, collect_run, &rl, err, sizeof err), 0);
    EXPECT_EQ_INT(rl.count, 3);
    EXPECT_EQ_STR(rl.snapshot[2], evil);
    EXPECT_EQ_STR(rl.status[2], evil);
    EXPECT_EQ_STR(rl.reports[2], run.reports);
    catalog_close(c);
    expect_verify(0, "2 publications");
}

/* A child process: opens its own handle and publishes n records of
 * (region, period), taking revisions with catalog_next_revision and
 * retrying when another publisher took the same one. Exit status 0 on
 * success. */
static int publisher(int64_t run_id, const char *region, const char *period, int n) {
    char err[1024];
    catalog *c = catalog_open(spec, err, sizeof err);
    if (!c) return fprintf(stderr, "child open: %s\n", err), 1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        for (int attempt = 0;; attempt++) {
            rec_data d;
            make_rec(&d, i, run_id);
            snprintf(d.region, sizeof d.region, "%s", region);
            snprintf(d.period, sizeof d.period, "%s", period);
            if (catalog_next_revision(c, region, period, &d.revision, err, sizeof err)) {
                rc = 1;
                break;
            }
            catalog_publication p = pub_of(&d);
            int r = catalog_publish(c, &p, err, sizeof err);
            if (r == 0) break;
            if (r < 0 || attempt > 1000) {
                rc = 1;
                break;
            }
        }
    }
    if (rc) fprintf(stderr, "child publish: %s\n", err);
    catalog_close(c);
    return rc;
}

typedef struct {
    int count, max_rev, bad;
    int seen[64];
} rev_check;

static int check_revisions(const catalog_record *r, void *data) {
    rev_check *rc = data;
    rc->count++;
    if (r->revision < 1 || r->revision > 63 || rc->seen[r->revision]++) rc->bad++;
    if (r->revision > rc->max_rev) rc->max_rev = r->revision;
    return 0;
}

static void case_concurrent(void) {
    enum { CHILDREN = 4, EACH = 8 };
    EXPECT_EQ_INT(reset_catalog(), 0);
    catalog *c = open_or_fail();
    if (!c) return;
    int64_t run_id = begin_run(c);
    catalog_close(c);
    pid_t pids[CHILDREN];
    fflush(NULL);
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == 0) _exit(publisher(run_id, i % 2 ? "10" : "00", "2026-10", EACH));
        EXPECT(pids[i] > 0);
    }
    for (int i = 0; i < CHILDREN; i++) {
        int st = 0;
        if (pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i]) EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    expect_verify(0, "32 publications");
    if (!(c = open_or_fail())) return;
    char err[1024];
    rev_check a, b;
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    EXPECT_EQ_INT(catalog_list(c, "00", check_revisions, &a, err, sizeof err), 0);
    EXPECT_EQ_INT(catalog_list(c, "10", check_revisions, &b, err, sizeof err), 0);
    EXPECT(a.count == 16 && a.max_rev == 16 && !a.bad);
    EXPECT(b.count == 16 && b.max_rev == 16 && !b.bad);
    catalog_close(c);
}

static int populate(int n) {
    rec_data *recs = calloc((size_t)n + 1, sizeof *recs);
    int rc = recs ? build_chain(n, recs) : -1;
    free(recs);
    if (rc || test_results.current_failed) return 1;
    printf("populated %d publications\n", n);
    return 0;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) return fprintf(stderr, "libsodium cannot start\n"), 1;
    if (argc == 4 && !strcmp(argv[1], "--populate") && atoi(argv[2]) >= 0 && atoi(argv[2]) <= 1000) {
        spec = argv[3];
        test_results.current = "populate";
        return populate(atoi(argv[2]));
    }
    if (argc != 2) {
        fprintf(stderr, "usage: catalog-tests SPEC | catalog-tests --populate N SPEC\n");
        return 2;
    }
    spec = argv[1];
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"serialization: known answer (hashlib)", case_known_answer},
        {"open: schema creation is idempotent", case_open_twice},
        {"open: errors name the backend and hide passwords", case_open_errors},
        {"runs: begin and finish", case_runs},
        {"next_revision: per (region, period), 1 when none", case_next_revision},
        {"publish: chain hashes recomputed independently", case_publish_chain},
        {"list: every record in id order, by region, stopping early", case_list},
        {"verify: intact chain", case_verify_intact},
        {"tamper: a changed record with its own hash recomputed", case_tamper_rehashed},
        {"tamper: two records' fields swapped", case_tamper_swap},
        {"tamper: a record appended behind the catalog's back", case_tamper_append},
        {"publish: (region, period, revision) is unique", case_unique},
        {"publish: invalid publications are refused, nothing written", case_invalid},
        {"values that look like SQL injection are stored verbatim", case_injection},
        {"concurrent publishers do not fork the chain", case_concurrent},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        TEST_CASE(cases[i].name) cases[i].fn();
    for (size_t i = 0; i < sizeof tampers / sizeof *tampers; i++)
        TEST_CASE(tampers[i].name) tamper_body(&tampers[i]);
    printf("catalog: %d passed, %d failed\n", test_results.passed, test_results.failed);
    return test_results.failed ? 1 : 0;
}
