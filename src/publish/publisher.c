/* publisher.c — see publisher.h. */
#include "publisher.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../archive/h5archive.h"
#include "../base/digest.h"
#include "../base/fsutil.h"
#include "../base/stoppoint.h"
#include "bundle.h"
#include "catalog.h"
#include "disclosure.h"
#include "forms/dashboard.h"
#include "layout.h"
#include "sign.h"

#define PUBLISH_MAX_TABLES 64

/* OUT/keys must be a directory of ours, not a link somewhere else: the
 * secret key is written there and the directory is chmod'ed. */
static int check_keys_dir(const char *dir, char *err, size_t errlen) {
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT) return snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno)), -1;
        if (lstat(dir, &st) != 0) return snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1;
    }
    if (!S_ISDIR(st.st_mode)) return snprintf(err, errlen, "%s: not a directory (a symbolic link?); refused", dir), -1;
    if (st.st_uid != geteuid()) return snprintf(err, errlen, "%s: not owned by this user; refused", dir), -1;
    if ((st.st_mode & 077) && chmod(dir, 0700) != 0)
        return snprintf(err, errlen, "%s: cannot restrict to its owner: %s", dir, strerror(errno)), -1;
    return 0;
}

int publish_prepare_key(const publish_args *a, void *keypair, char *err, size_t errlen) {
    sign_keypair *key = keypair;
    char dir[4096], path[4200], pub[4400], pubdir[4200];
    snprintf(dir, sizeof dir, "%s/keys", a->out_dir);
    snprintf(path, sizeof path, "%s/esep.key", dir);
    const char *secret = a->key_path ? a->key_path : path;
    if (access(secret, F_OK) != 0) {
        if (!a->create_key)
            return snprintf(err, errlen,
                            "no signing key: %.1000s does not exist; make one with `esep keygen --key %.1000s` "
                            "(production keys are never created silently) or pass --create-key",
                            secret, secret),
                   -1;
        if (!a->key_path && check_keys_dir(dir, err, errlen)) return -1;
        snprintf(pub, sizeof pub, "%s.pub", secret);
        if (sign_keygen(secret, pub, key, err, errlen) == 0) printf("created signing key %s (public key %s)\n", secret, pub);
        else if (errno != EEXIST || sign_load_secret(secret, key, err, errlen)) return -1;
    } else if (sign_load_secret(secret, key, err, errlen)) {
        return -1;
    }
    snprintf(pubdir, sizeof pubdir, "%s/publish", a->out_dir);
    snprintf(pub, sizeof pub, "%s/esep.pub", pubdir);
    fs_remove_stale_temps(pubdir);
    uint8_t current[SIGN_PUBLIC_BYTES];
    char ignored[256];
    int same = sign_load_public(pub, current, ignored, sizeof ignored) == 0 && !memcmp(current, key->public_key, sizeof current);
    if (!same && (fs_mkdirs(pubdir, err, errlen) || sign_write_public(pub, key->public_key, err, errlen))) return -1;
    return sign_write_stock_public(pubdir, key->public_key, err, errlen) ? -1 : 0;
}

/* "00" and the two-digit codes of every region row in the tables, sorted. */
static size_t list_regions(report_table *const *tables, size_t n, char regions[101][3]) {
    int present[100] = {0};
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < tables[t]->nrows; r++)
            if (tables[t]->level[r] == 1) present[tables[t]->kato[r] / 10000000 % 100] = 1;
    size_t count = 0;
    for (int ab = 0; ab < 100; ab++)
        if (ab == 0 || present[ab]) {
            regions[count][0] = (char)('0' + ab / 10);
            regions[count][1] = (char)('0' + ab % 10);
            regions[count++][2] = '\0';
        }
    return count;
}

/* Reads the signature file of revision rev (128 hex digits). */
static int read_signature(const char *out_dir, const char *region, const char *period, int rev, char sig[130]) {
    char path[4400];
    if (layout_revision_file(out_dir, region, period, rev, 1, path, sizeof path)) return -1;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, sig, 129);
    close(fd);
    if (n < 128) return -1;
    sig[128] = '\0';
    return 0;
}

/* Records in the catalog a whole revision that is on disk but not in the
 * catalog (a crash came between the rename and the insert). */
static int adopt_revision(catalog *cat, int64_t run_id, const publish_args *a, const char *region, const char *period,
                          int rev, char *err, size_t errlen) {
    char path[4400], name[128], sha[65], content[65], manifest[65], sig[130];
    struct stat st;
    if (layout_revision_file(a->out_dir, region, period, rev, 0, path, sizeof path) ||
        layout_bundle_name(region, period, rev, name, sizeof name) || stat(path, &st) != 0 ||
        bundle_read_content(a->out_dir, region, period, rev, content, manifest) ||
        read_signature(a->out_dir, region, period, rev, sig))
        return snprintf(err, errlen, "%s: revision %d on disk is incomplete; move it aside and rerun", path, rev), -1;
    if (digest_file_sha256(path, sha, err, errlen)) return -1;
    catalog_publication p = {run_id, region, period, rev, name, (int64_t)st.st_size, sha, manifest, sig, 0, "", ""};
    int rc = catalog_publish(cat, &p, err, errlen);
    if (rc == 0) printf("bundle %s %s r%d  recorded in the catalog (published before a crash)\n", region, period, rev);
    return rc < 0 ? -1 : 0;
}

typedef struct {
    catalog *cat;
    int64_t run_id;
    const publish_args *a;
    report_table *const *tables;
    size_t ntables;
    const sign_keypair *key;
    const char *snapshot_date, *period;
    publish_summary *sum;
    const dashboard_history *history;   /* read once for every bundle's dashboard */
} publication;

/* Reconciles (region, P) with the catalog, then publishes its bundle
 * unless it equals the latest revision. */
static int publish_region(publication *pb, const char *region, char *err, size_t errlen) {
    char dir[4096], content[65], manifest[65];
    if (layout_bundle_dir(pb->a->out_dir, region, pb->period, dir, sizeof dir))
        return snprintf(err, errlen, "bad region or period"), -1;
    if (fs_mkdirs(dir, err, errlen)) return -1;
    fs_remove_stale_temps(dir);
    int next, on_disk = layout_latest_revision(pb->a->out_dir, region, pb->period);
    if (catalog_next_revision(pb->cat, region, pb->period, &next, err, errlen)) return -1;
    for (int rev = next; rev <= on_disk; rev++) {
        char rdir[4200];
        struct stat st;
        if (layout_revision_dir(pb->a->out_dir, region, pb->period, rev, rdir, sizeof rdir) || lstat(rdir, &st) != 0)
            continue;
        if (adopt_revision(pb->cat, pb->run_id, pb->a, region, pb->period, rev, err, errlen)) return -1;
        pb->sum->adopted++;
    }
    if (on_disk && bundle_point_latest(pb->a->out_dir, region, pb->period, on_disk, err, errlen)) return -1;
    int have_latest = on_disk && bundle_read_content(pb->a->out_dir, region, pb->period, on_disk, content, manifest) == 0;
    int revision = next > on_disk ? next : on_disk + 1;
    bundle_spec spec = {pb->a->out_dir, region, pb->period, revision, pb->snapshot_date, pb->a->tool_version,
                        (const report_table *const *)pb->tables, pb->ntables, pb->key, have_latest ? content : NULL,
                        pb->history};
    bundle_result r;
    if (bundle_publish(&spec, &r, err, errlen)) return -1;
    if (!r.unchanged) stop_point("bundle", 0);
    if (!strcmp(region, "00")) pb->sum->republic_revision = r.unchanged ? on_disk : revision;
    if (r.unchanged) return pb->sum->unchanged++, 0;
    r.signature[128] = '\0'; /* the catalog stores the hex digits only */
    catalog_publication p = {pb->run_id, region, pb->period, revision, r.name, r.size, r.sha256, r.manifest_sha256,
                             r.signature, 0, "", ""};
    if (catalog_publish(pb->cat, &p, err, errlen)) return -1;
    stop_point("catalog", 0);
    pb->sum->published++;
    printf("bundle %s %s r%d  %8lld bytes  %s\n", region, pb->period, revision, (long long)r.size, r.path);
    return 0;
}

/* Reads the current archived table of each id that has one. */
static int read_tables(const char *out_dir, const char *period, char *const *ids, size_t nids, report_table **tables,
                       size_t *n, char *err, size_t errlen) {
    *n = 0;
    for (size_t i = 0; i < nids; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/archive/%s/%s.h5", out_dir, period, ids[i]);
        if (access(path, F_OK) != 0) continue;
        if (*n == PUBLISH_MAX_TABLES) return snprintf(err, errlen, "more than %d reports", PUBLISH_MAX_TABLES), -1;
        report_table *t = calloc(1, sizeof *t);
        if (!t) return snprintf(err, errlen, "out of memory"), -1;
        if (h5archive_read(path, t, err, errlen)) return free(t), -1;
        tables[(*n)++] = t;
    }
    return 0;
}

/* The newest snapshot any table came from (the manifest's snapshot_date;
 * each report also names its own). */
static const char *newest_snapshot(report_table *const *tables, size_t n) {
    const char *best = "";
    for (size_t i = 0; i < n; i++)
        if (strcmp(tables[i]->snapshot_date, best) > 0) best = tables[i]->snapshot_date;
    return best;
}

static int publish_tables(publication *pb, char *err, size_t errlen) {
    for (size_t t = 0; t < pb->ntables; t++)
        if (disclosure_apply(pb->tables[t], err, errlen)) return -1;
    char regions[101][3];
    size_t nregions = list_regions(pb->tables, pb->ntables, regions);
    dashboard_history *history = NULL;
    if (dashboard_history_load(pb->a->out_dir, (const report_table *const *)pb->tables, pb->ntables, pb->period,
                               &history, err, errlen))
        return -1;
    pb->history = history;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nregions; i++) rc = publish_region(pb, regions[i], err, errlen);
    dashboard_history_free(history);
    pb->history = NULL;
    return rc;
}

int publish_period(const publish_args *a, const char *period, char *const *ids, size_t nids, publish_summary *sum,
                   char *err, size_t errlen) {
    memset(sum, 0, sizeof *sum);
    report_table *tables[PUBLISH_MAX_TABLES];
    size_t ntables = 0;
    int rc = read_tables(a->out_dir, period, ids, nids, tables, &ntables, err, errlen);
    sum->reports = ntables;
    if (rc || ntables == 0) {
        for (size_t i = 0; i < ntables; i++) report_table_free(tables[i]), free(tables[i]);
        return rc;
    }
    char spec[4200], list[PUBLISH_MAX_TABLES * 16] = "";
    snprintf(spec, sizeof spec, "%s/catalog.sqlite", a->out_dir);
    for (size_t t = 0; t < ntables; t++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", t ? "," : "", tables[t]->id);
    sign_keypair key;
    catalog *cat = catalog_open(a->catalog_spec ? a->catalog_spec : spec, err, errlen);
    rc = cat ? publish_prepare_key(a, &key, err, errlen) : -1;
    const char *snapshot = newest_snapshot(tables, ntables);
    catalog_run run = {0, snapshot, period, a->ranks, a->tool_version, list, NULL, NULL, "running"};
    publication pb = {cat, 0, a, tables, ntables, &key, snapshot, period, sum, NULL};
    if (rc == 0) rc = catalog_begin_run(cat, &run, &pb.run_id, err, errlen);
    if (rc == 0) rc = publish_tables(&pb, err, errlen);
    sodium_memzero(&key, sizeof key);
    char ignored[256];
    const char *status = rc ? "failed" : sum->published ? "published" : "unchanged";
    if (pb.run_id) catalog_finish_run(cat, pb.run_id, status, ignored, sizeof ignored);
    catalog_close(cat);
    for (size_t i = 0; i < ntables; i++) report_table_free(tables[i]), free(tables[i]);
    return rc;
}
