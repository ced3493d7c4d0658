/* publisher.c — see publisher.h. */
#include "publisher.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "bundle.h"
#include "catalog.h"
#include "disclosure.h"
#include "forms/dashboard.h"
#include "layout.h"
#include "sign.h"

/* Loads the run's key, or creates OUT/keys/esep.key on first use, and
 * (re)publishes the public key. */
static int prepare_key(const publish_args *a, sign_keypair *key, char *err, size_t errlen) {
    char dir[4096], path[4200], pub[4400], pubdir[4200];
    snprintf(dir, sizeof dir, "%s/keys", a->out_dir);
    snprintf(path, sizeof path, "%s/esep.key", dir);
    const char *secret = a->key_path ? a->key_path : path;
    if (access(secret, F_OK) != 0 && !a->key_path) {
        snprintf(pub, sizeof pub, "%s/esep.key.pub", dir);
        if (fs_mkdirs(dir, err, errlen) || chmod(dir, 0700) != 0) return snprintf(err, errlen, "%s: cannot create", dir), -1;
        if (sign_keygen(path, pub, key, err, errlen)) return -1;
        printf("created signing key %s (public key %s)\n", path, pub);
    } else if (sign_load_secret(secret, key, err, errlen)) {
        return -1;
    }
    snprintf(pubdir, sizeof pubdir, "%s/publish", a->out_dir);
    snprintf(pub, sizeof pub, "%s/esep.pub", pubdir);
    return fs_mkdirs(pubdir, err, errlen) || sign_write_public(pub, key->public_key, err, errlen) ||
                   sign_write_stock_public(pubdir, key->public_key, err, errlen)
               ? -1 : 0;
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

/* The next revision: the catalog's, but never one already on disk (a
 * revision file is never replaced, whatever the catalog says). */
static int next_revision(catalog *cat, const publish_args *a, const char *region, int *rev, char *err, size_t errlen) {
    if (catalog_next_revision(cat, region, a->period, rev, err, errlen)) return -1;
    int on_disk = layout_latest_revision(a->out_dir, region, a->period) + 1;
    if (on_disk > *rev) *rev = on_disk;
    return 0;
}

static int publish_region(catalog *cat, int64_t run_id, const publish_args *a, report_table *const *tables,
                          size_t ntables, const sign_keypair *key, const dashboard_history *history, const char *region,
                          char *err, size_t errlen) {
    int revision;
    if (next_revision(cat, a, region, &revision, err, errlen)) return -1;
    bundle_spec spec = {a->out_dir, region, a->period, revision, a->snapshot_date, a->tool_version,
                        (const report_table *const *)tables, ntables, key, history};
    bundle_result r;
    if (bundle_publish(&spec, &r, err, errlen)) return -1;
    r.signature[128] = '\0'; /* the catalog stores the hex digits only */
    catalog_publication p = {run_id, region, a->period, revision, r.name, r.size, r.sha256, r.manifest_sha256,
                             r.signature, 0, "", ""};
    if (catalog_publish(cat, &p, err, errlen)) return -1;
    printf("bundle %s %s r%d  %8lld bytes  %s\n", region, a->period, revision, (long long)r.size, r.path);
    return 0;
}

int publish_reports(const publish_args *a, report_table *const *tables, size_t ntables, char *err, size_t errlen) {
    sign_keypair key;
    char spec[4200], ids[64 * 16] = "";
    snprintf(spec, sizeof spec, "%s/catalog.sqlite", a->out_dir);
    catalog *cat = catalog_open(a->catalog_spec ? a->catalog_spec : spec, err, errlen);
    if (!cat) return -1;
    for (size_t t = 0; t < ntables; t++) snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", t ? "," : "", tables[t]->id);
    catalog_run run = {0, a->snapshot_date, a->period, a->ranks, a->tool_version, ids, NULL, NULL, "running"};
    int64_t run_id = 0;
    int rc = catalog_begin_run(cat, &run, &run_id, err, errlen);
    if (rc == 0) rc = prepare_key(a, &key, err, errlen);
    for (size_t t = 0; rc == 0 && t < ntables; t++) rc = disclosure_apply(tables[t], err, errlen);
    char regions[101][3];
    size_t nregions = rc == 0 ? list_regions(tables, ntables, regions) : 0;
    int published = 0;
    dashboard_history *history = NULL; /* read once for every bundle's dashboard */
    if (rc == 0) rc = dashboard_history_load(a->out_dir, (const report_table *const *)tables, ntables, a->period, &history, err, errlen);
    for (size_t i = 0; rc == 0 && i < nregions; i++) {
        rc = publish_region(cat, run_id, a, tables, ntables, &key, history, regions[i], err, errlen);
        published += rc == 0;
    }
    dashboard_history_free(history);
    sodium_memzero(&key, sizeof key);
    char ignored[256];
    if (run_id) catalog_finish_run(cat, run_id, rc == 0 ? "published" : "failed", ignored, sizeof ignored);
    catalog_close(cat);
    return rc ? -1 : published;
}
