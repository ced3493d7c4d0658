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
#include "../dist/agree.h"
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

/* The secret key's file: key_path, or OUT/keys/esep.key written into buf. */
static const char *publish_key_path(const publish_args *a, char *buf, size_t n) {
    if (a->key_path) return a->key_path;
    snprintf(buf, n, "%s/keys/esep.key", a->out_dir);
    return buf;
}

int publish_prepare_key(const publish_args *a, void *keypair, char *err, size_t errlen) {
    sign_keypair *key = keypair;
    char dir[4096], path[4200], pub[4400], pubdir[4200];
    snprintf(dir, sizeof dir, "%s/keys", a->out_dir);
    const char *secret = publish_key_path(a, path, sizeof path);
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
    catalog *cat;                       /* rank 0 only */
    int64_t run_id;
    const publish_args *a;
    report_table *const *tables;
    size_t ntables;
    const sign_keypair *key;
    const char *snapshot_date, *period;
    publish_summary *sum;
    const dashboard_history *history;   /* read once for every bundle's dashboard */
} publication;

/* What rank 0 settled for one region before any bundle is built: the
 * catalog reconciled with the disk, and the revision a changed bundle
 * takes. Sent to every rank, so it holds no pointers. */
typedef struct {
    char region[3];
    int on_disk;                        /* latest revision on disk, 0: none */
    int revision;                       /* what a changed bundle becomes */
    int have_latest;
    char content[65];                   /* the latest revision's CONTENT */
} region_plan;

/* What the rank that built a region's bundle tells rank 0. */
typedef struct {
    int index;                          /* into the plans */
    int rc;
    char err[512];
    bundle_result r;
} region_outcome;

/* Rank 0: reconciles (region, P) with the catalog — records revisions a
 * crash left on disk unrecorded, points `latest` at the newest — and
 * plans the next revision. */
static int plan_region(publication *pb, const char *region, region_plan *plan, char *err, size_t errlen) {
    char dir[4096], manifest[65];
    memset(plan, 0, sizeof *plan);
    memcpy(plan->region, region, 3);
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
    plan->on_disk = on_disk;
    plan->have_latest = on_disk && bundle_read_content(pb->a->out_dir, region, pb->period, on_disk, plan->content,
                                                       manifest) == 0;
    plan->revision = next > on_disk ? next : on_disk + 1;
    return 0;
}

/* Any rank: builds the planned bundle unless it equals the latest
 * revision (bundle_publish). Cannot fail: the outcome carries the error. */
static void build_region(const publication *pb, const region_plan *plan, int rank, region_outcome *out) {
    bundle_spec spec = {pb->a->out_dir, plan->region, pb->period, plan->revision, pb->snapshot_date,
                        pb->a->tool_version, (const report_table *const *)pb->tables, pb->ntables, pb->key,
                        plan->have_latest ? plan->content : NULL, pb->history};
    out->rc = bundle_publish(&spec, &out->r, out->err, sizeof out->err);
    if (out->rc == 0 && !out->r.unchanged) stop_point("bundle", rank);
}

/* Rank 0: records a built bundle in the catalog and says so. */
static int record_region(publication *pb, const region_plan *plan, region_outcome *o, char *err, size_t errlen) {
    if (o->rc) return snprintf(err, errlen, "%.500s", o->err), -1;
    if (!strcmp(plan->region, "00")) pb->sum->republic_revision = o->r.unchanged ? plan->on_disk : plan->revision;
    if (o->r.unchanged) return pb->sum->unchanged++, 0;
    o->r.signature[128] = '\0'; /* the catalog stores the hex digits only */
    catalog_publication p = {pb->run_id, plan->region, pb->period, plan->revision, o->r.name, o->r.size,
                             o->r.sha256, o->r.manifest_sha256, o->r.signature, 0, "", ""};
    if (catalog_publish(pb->cat, &p, err, errlen)) return -1;
    stop_point("catalog", 0);
    pb->sum->published++;
    printf("bundle %s %s r%d  %8lld bytes  %s\n", plan->region, pb->period, plan->revision, (long long)o->r.size,
           o->r.path);
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

/* The tables every rank read must be the same files: OUT is on a shared
 * filesystem (cluster/esep-nightly.sbatch). A digest of what identifies
 * them, compared with rank 0's, catches a node that sees another OUT. */
static uint64_t tables_fingerprint(report_table *const *tables, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t t = 0; t < n; t++) {
        char line[256];
        int len = snprintf(line, sizeof line, "%s|%s|%s|%zu;", tables[t]->id, tables[t]->period,
                           tables[t]->snapshot_date, tables[t]->nrows);
        for (int i = 0; i < len && i < (int)sizeof line; i++) h = (h ^ (unsigned char)line[i]) * 1099511628211ull;
    }
    return h;
}

/* Rank 0: the publication's run in the catalog, then every region's plan.
 * Returns 0 with *nplans set, or -1 with a message. */
static int plan_regions(publication *pb, region_plan plans[101], int *nplans, char *err, size_t errlen) {
    char regions[101][3], list[PUBLISH_MAX_TABLES * 16] = "";
    size_t n = list_regions(pb->tables, pb->ntables, regions);
    for (size_t t = 0; t < pb->ntables; t++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", t ? "," : "", pb->tables[t]->id);
    catalog_run run = {0, pb->snapshot_date, pb->period, pb->a->ranks, pb->a->tool_version, list, NULL, NULL,
                       "running"};
    if (catalog_begin_run(pb->cat, &run, &pb->run_id, err, errlen)) return -1;
    for (size_t i = 0; i < n; i++)
        if (plan_region(pb, regions[i], &plans[i], err, errlen)) return -1;
    *nplans = (int)n;
    return 0;
}

/* Builds this rank's share of the bundles (region i on rank i mod size)
 * and gathers the outcomes on rank 0 (*all, *total; caller frees).
 * Returns 0, or -1 on every rank when the gather could not be agreed. */
static int build_share(MPI_Comm comm, const publication *pb, const region_plan *plans, int nplans, char **all,
                       size_t *total) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t cap = (size_t)(nplans / size + 1), n = 0;
    region_outcome *mine = calloc(cap, sizeof *mine);
    for (int i = rank; mine && i < nplans; i += size) {
        mine[n].index = i;
        build_region(pb, &plans[i], rank, &mine[n++]);
    }
    /* a rank out of memory sends nothing: rank 0 reports its regions unbuilt */
    int rc = dist_gather_bytes(comm, "publish", mine, n * sizeof *mine, all, total);
    free(mine);
    return rc;
}

/* Rank 0: records the outcomes in region order, whichever rank built
 * them, so the catalog's chain and the lines printed do not depend on the
 * number of ranks. Every bundle built is recorded even after a failed one
 * (it is on disk and whole); the first failure is returned. */
static int record_outcomes(publication *pb, const region_plan *plans, int nplans, char *all, size_t total, char *err,
                           size_t errlen) {
    region_outcome *by_region[101] = {0};
    for (size_t off = 0; off + sizeof(region_outcome) <= total; off += sizeof(region_outcome)) {
        region_outcome *o = (region_outcome *)(void *)(all + off);
        if (o->index >= 0 && o->index < nplans) by_region[o->index] = o;
    }
    int rc = 0;
    for (int i = 0; i < nplans; i++) {
        char msg[1024];
        int failed = by_region[i] ? record_region(pb, &plans[i], by_region[i], msg, sizeof msg)
                                  : (snprintf(msg, sizeof msg, "bundle %.2s: not built (its rank ran out of memory)",
                                              plans[i].region), -1);
        if (failed && rc == 0) rc = -1, snprintf(err, errlen, "%s", msg);
    }
    return rc;
}

/* Collective: plans on rank 0, builds bundles on every rank, records on
 * rank 0. The key is read from its file on every rank (rank 0 may just
 * have created it): it never travels between nodes. */
static int publish_tables(MPI_Comm comm, publication *pb, sign_keypair *key, char *err, size_t errlen) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    region_plan plans[101];
    int nplans = 0, rc = 0;
    if (rank == 0) {
        char spec[4200];
        snprintf(spec, sizeof spec, "%s/catalog.sqlite", pb->a->out_dir);
        pb->cat = catalog_open(pb->a->catalog_spec ? pb->a->catalog_spec : spec, err, errlen);
        rc = pb->cat ? publish_prepare_key(pb->a, key, err, errlen) : -1;
        if (rc == 0) rc = plan_regions(pb, plans, &nplans, err, errlen);
    }
    if (dist_agree_status(comm, rc ? 1 : 0, err, (int)errlen)) return -1;
    MPI_Bcast(&nplans, 1, MPI_INT, 0, comm);
    MPI_Bcast(plans, nplans * (int)sizeof *plans, MPI_BYTE, 0, comm);
    if (rank != 0) {
        char path[4200];
        rc = sign_load_secret(publish_key_path(pb->a, path, sizeof path), key, err, errlen);
    }
    if (dist_agree_status(comm, rc ? 1 : 0, err, (int)errlen)) return -1;
    char *all = NULL;
    size_t total = 0;
    if (build_share(comm, pb, plans, nplans, &all, &total))
        return snprintf(err, errlen, "the outcomes of the bundles could not be gathered on rank 0 (out of memory on "
                                     "at least one rank); the next run records the bundles built"), -1;
    if (rank == 0) rc = record_outcomes(pb, plans, nplans, all, total, err, errlen);
    free(all);
    return dist_agree_status(comm, rc ? 1 : 0, err, (int)errlen) ? -1 : 0;
}

/* Collective: every rank reads the current tables, applies disclosure
 * control once to each full table and loads the dashboards' history. */
static int load_tables(const publish_args *a, const char *period, char *const *ids, size_t nids, report_table **tables,
                       size_t *ntables, dashboard_history **history, char *err, size_t errlen) {
    int rc = read_tables(a->out_dir, period, ids, nids, tables, ntables, err, errlen);
    for (size_t t = 0; rc == 0 && t < *ntables; t++) rc = disclosure_apply(tables[t], err, errlen);
    if (rc == 0 && *ntables)
        rc = dashboard_history_load(a->out_dir, (const report_table *const *)tables, *ntables, period, history, err,
                                    errlen);
    return rc;
}

int publish_period(MPI_Comm comm, const publish_args *a, const char *period, char *const *ids, size_t nids,
                   publish_summary *sum, char *err, size_t errlen) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(sum, 0, sizeof *sum);
    report_table *tables[PUBLISH_MAX_TABLES];
    size_t ntables = 0;
    dashboard_history *history = NULL;
    int rc = load_tables(a, period, ids, nids, tables, &ntables, &history, err, errlen);
    /* rank 0's tables decide, and every rank must have read the same */
    uint64_t mine[2] = {ntables, tables_fingerprint(tables, ntables)}, rank0[2] = {mine[0], mine[1]};
    MPI_Bcast(rank0, 2, MPI_UINT64_T, 0, comm);
    if (rc == 0 && (mine[0] != rank0[0] || mine[1] != rank0[1]))
        rc = -1, snprintf(err, errlen, "rank %d reads other archived tables than rank 0: OUT must be one shared "
                          "directory for every rank", rank);
    rc = dist_agree_status(comm, rc ? 1 : 0, err, (int)errlen) ? -1 : 0;
    sum->reports = ntables;
    sign_keypair key;
    publication pb = {NULL, 0, a, tables, ntables, &key, newest_snapshot(tables, ntables), period, sum, history};
    if (rc == 0 && rank0[0]) rc = publish_tables(comm, &pb, &key, err, errlen);
    sodium_memzero(&key, sizeof key);
    if (pb.run_id) {
        char ignored[256];
        const char *status = rc ? "failed" : sum->published ? "published" : "unchanged";
        catalog_finish_run(pb.cat, pb.run_id, status, ignored, sizeof ignored);
    }
    catalog_close(pb.cat);
    dashboard_history_free(history);
    for (size_t i = 0; i < ntables; i++) report_table_free(tables[i]), free(tables[i]);
    return rc;
}
