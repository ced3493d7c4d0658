/* bundle.c — see bundle.h. The files of a bundle are built in memory (the
 * reports.h5 through a staging file, since HDF5 writes files), hashed,
 * listed in the manifest, signed, then packed; the revision file and its
 * signature appear under their final names only when complete. */
#include "bundle.h"

#include <archive.h>
#include <archive_entry.h>
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
#include "../base/json.h"
#include "disclosure.h"
#include "forms/dashboard.h"
#include "forms/xlsx_form.h"
#include "layout.h"

#define BUNDLE_MAX_FILES (REPORT_MAX_MEASURES + 64)

typedef struct {
    char path[64];        /* inside the bundle */
    char *data;
    size_t size;
    char sha256[65];
} bundle_file;

typedef struct {
    bundle_file files[BUNDLE_MAX_FILES];
    size_t nfiles;
    report_table cut[64];
    size_t ncut;
} bundle_build;

int bundle_row_belongs(const char *region, int32_t kato, int level) {
    int ab = (region[0] - '0') * 10 + (region[1] - '0');
    if (ab == 0) return level <= 1;
    return level >= 1 && kato / 10000000 == ab;
}

/* A copy of src's metadata and of the rows the region receives. */
static int cut_table(const report_table *src, const char *region, report_table *dst) {
    *dst = *src;
    for (size_t d = 0; d < REPORT_MAX_DIMS; d++) dst->dims[d].values = NULL, dst->dim_value[d] = NULL;
    for (size_t m = 0; m < REPORT_MAX_MEASURES; m++) dst->value[m] = NULL;
    dst->kato = NULL, dst->level = NULL, dst->nrows = 0;
    dst->territories = NULL, dst->nterritories = 0;
    if (!(dst->territories = malloc((src->nterritories + 1) * sizeof *dst->territories))) return -1;
    for (size_t i = 0; i < src->nterritories; i++)
        if (bundle_row_belongs(region, src->territories[i].kato, src->territories[i].level))
            dst->territories[dst->nterritories++] = src->territories[i];
    for (size_t d = 0; d < src->ndims; d++) {
        size_t bytes = src->dims[d].nvalues * sizeof *src->dims[d].values;
        if (!(dst->dims[d].values = malloc(bytes ? bytes : 1))) return -1;
        memcpy(dst->dims[d].values, src->dims[d].values, bytes);
    }
    size_t n = 0;
    for (size_t r = 0; r < src->nrows; r++) n += bundle_row_belongs(region, src->kato[r], src->level[r]);
    if (report_table_alloc_rows(dst, n)) return -1;
    size_t k = 0;
    for (size_t r = 0; r < src->nrows; r++) {
        if (!bundle_row_belongs(region, src->kato[r], src->level[r])) continue;
        dst->kato[k] = src->kato[r];
        dst->level[k] = src->level[r];
        for (size_t d = 0; d < src->ndims; d++) dst->dim_value[d][k] = src->dim_value[d][r];
        for (size_t m = 0; m < src->nmeasures; m++) dst->value[m][k] = src->value[m][r];
        k++;
    }
    return 0;
}

static int add_file(bundle_build *b, const char *path, char *data, size_t size) {
    if (b->nfiles == BUNDLE_MAX_FILES) return free(data), -1;
    bundle_file *f = &b->files[b->nfiles++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->data = data;
    f->size = size;
    uint8_t digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)data, size);
    for (int i = 0; i < 32; i++) sprintf(f->sha256 + 2 * i, "%02x", digest[i]);
    return 0;
}

static int add_csv(bundle_build *b, const report_table *t) {
    char *data = NULL, path[64];
    size_t size = 0;
    FILE *f = open_memstream(&data, &size);
    if (!f) return -1;
    int rc = report_table_write_csv(t, f);
    rc |= fclose(f) != 0;
    snprintf(path, sizeof path, "csv/%s.csv", t->id);
    if (rc) return free(data), -1;
    return add_file(b, path, data, size);
}

static int read_whole(const char *path, char **data, size_t *size) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fs_read_fd(fd, SIZE_MAX, data, size);
    close(fd);
    return rc;
}

/* reports.h5, built in memory. */
static int add_h5(bundle_build *b, char *err, size_t errlen) {
    const report_table *tables[64];
    for (size_t i = 0; i < b->ncut; i++) tables[i] = &b->cut[i];
    unsigned char *image;
    size_t size;
    if (h5archive_bundle_image(tables, b->ncut, &image, &size, err, errlen)) return -1;
    return add_file(b, "reports.h5", (char *)image, size);
}

/* xlsx/<ID>.xlsx for every report and index.html: what akimat staff open. */
static int add_forms(bundle_build *b, const bundle_spec *s, const char *dir, char *err, size_t errlen) {
    const report_table *tables[64];
    for (size_t i = 0; i < b->ncut; i++) tables[i] = &b->cut[i];
    form_bundle fb = {s->region, s->period, tables, b->ncut};
    for (size_t i = 0; i < b->ncut; i++) {
        char *data, path[64];
        size_t size;
        snprintf(path, sizeof path, "xlsx/%s.xlsx", b->cut[i].id);
        if (xlsx_form_render(&fb, i, dir, &data, &size, err, errlen) || add_file(b, path, data, size)) return -1;
    }
    char *page;
    size_t page_size;
    dashboard_history *own = NULL;
    if (!s->history && dashboard_history_load(s->out_dir, tables, b->ncut, s->period, &own, err, errlen)) return -1;
    int rc = dashboard_render(&fb, s->history ? s->history : own, &page, &page_size, err, errlen);
    dashboard_history_free(own);
    return rc || add_file(b, "index.html", page, page_size) ? -1 : 0;
}

static int compare_files(const void *a, const void *b) {
    return strcmp(((const bundle_file *)a)->path, ((const bundle_file *)b)->path);
}

static void write_quality(FILE *f, const bundle_spec *s) {
    /* every extract any of the reports used, once, in first-seen order */
    const report_input *seen[REPORT_MAX_EXTRACTS * 4];
    size_t n = report_tables_inputs(s->tables, s->ntables, seen, sizeof seen / sizeof *seen);
    fputs("  \"inputs\": [", f);
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "%s\n    {\"extract\": ", k ? "," : "");
        json_write_string(f, seen[k]->name);
        fputs(", \"file\": ", f);
        json_write_string(f, seen[k]->file);
        fputs(", \"sha256\": ", f);
        json_write_string(f, seen[k]->sha256);
        fprintf(f, ",\n     \"rows_read\": %lld, \"rows_accepted\": %lld, \"rows_rejected\": %lld}",
                (long long)seen[k]->read, (long long)seen[k]->accepted, (long long)seen[k]->rejected);
    }
    fputs("\n  ],\n", f);
}

/* MANIFEST.json: what, from what, and every other file's size and hash. */
static int build_manifest(const bundle_spec *s, bundle_build *b, int revision, char **data, size_t *size) {
    FILE *f = open_memstream(data, size);
    if (!f) return -1;
    fputs("{\n  \"format\": \"esep-bundle/1\",\n  \"region\": ", f);
    json_write_string(f, s->region);
    fputs(",\n  \"period\": ", f);
    json_write_string(f, s->period);
    fprintf(f, ",\n  \"revision\": %d,\n  \"snapshot_date\": ", revision);
    json_write_string(f, s->snapshot_date);
    fputs(",\n  \"tool_version\": ", f);
    json_write_string(f, s->tool_version);
    fputs(",\n  \"reports\": [", f);
    for (size_t i = 0; i < b->ncut; i++) {
        const report_table *t = &b->cut[i];
        fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
        json_write_string(f, t->id);
        fprintf(f, ", \"methodology_version\": %d, \"snapshot_date\": ", t->methodology_version);
        json_write_string(f, t->snapshot_date);
        fprintf(f, ", \"rows\": %zu,\n     \"title_kk\": ", t->nrows);
        json_write_string(f, t->title_kk);
        fputs(", \"title_ru\": ", f);
        json_write_string(f, t->title_ru);
        fputs("}", f);
    }
    fputs("\n  ],\n", f);
    write_quality(f, s);
    fputs("  \"files\": [", f);
    for (size_t i = 0; i < b->nfiles; i++)
        fprintf(f, "%s\n    {\"path\": \"%s\", \"size\": %zu, \"sha256\": \"%s\"}", i ? "," : "", b->files[i].path,
                b->files[i].size, b->files[i].sha256);
    fputs("\n  ]\n}\n", f);
    return fclose(f) != 0 ? -1 : 0;
}

/* tar + zstd with libarchive: fixed order, mtime 0, uid/gid 0, no names. */
static int pack(const char *path, const bundle_file *files, size_t n, char *err, size_t errlen) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno)), -1;
    struct archive *a = archive_write_new();
    int rc = !a || archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
             archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
             archive_write_open_fd(a, fd) != ARCHIVE_OK;
    for (size_t i = 0; !rc && i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        if (!e) {
            rc = 1;
            break;
        }
        archive_entry_set_pathname(e, files[i].path);
        archive_entry_set_size(e, (la_int64_t)files[i].size);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        rc = archive_write_header(a, e) != ARCHIVE_OK ||
             archive_write_data(a, files[i].data, files[i].size) != (la_ssize_t)files[i].size;
        archive_entry_free(e);
    }
    if (a && archive_write_close(a) != ARCHIVE_OK) rc = 1;
    const char *why = a ? archive_error_string(a) : NULL;
    if (rc) snprintf(err, errlen, "%s: cannot write the bundle: %s", path, why ? why : "out of memory");
    if (a) archive_write_free(a);
    if (close(fd) != 0 && !rc) rc = 1, snprintf(err, errlen, "%s: cannot close: %s", path, strerror(errno));
    return rc ? -1 : 0;
}

static void build_free(bundle_build *b) {
    for (size_t i = 0; i < b->nfiles; i++) free(b->files[i].data);
    for (size_t i = 0; i < b->ncut; i++) report_table_free(&b->cut[i]);
}

/* The region's cut of every table, each checked: a bundle that breaks the
 * disclosure property is never published. */
static int cut_and_check(const bundle_spec *s, bundle_build *b, char *err, size_t errlen) {
    if (s->ntables > sizeof b->cut / sizeof *b->cut) return snprintf(err, errlen, "too many reports"), -1;
    for (size_t i = 0; i < s->ntables; i++) {
        b->ncut = i + 1;
        if (cut_table(s->tables[i], s->region, &b->cut[i])) return snprintf(err, errlen, "out of memory"), -1;
        if (disclosure_check(&b->cut[i], err, errlen)) return -1;
    }
    return 0;
}

/* Writes size bytes into a new file dir/name (O_EXCL|O_NOFOLLOW), synced. */
static int write_new_file(const char *dir, const char *name, const void *data, size_t size, char *err,
                          size_t errlen) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno)), -1;
    const char *p = data;
    size_t left = size;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w, left -= (size_t)w;
    }
    int rc = left || fsync(fd) ? -1 : 0;
    if (rc) snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
    if (close(fd) && !rc) rc = -1, snprintf(err, errlen, "%s: cannot close: %s", path, strerror(errno));
    return rc;
}

/* A fresh directory "<parent>/.r<N>.<pid>.<random>.tmp". */
static int make_temp_dir(const char *parent, int rev, char *out, size_t n, char *err, size_t errlen) {
    for (int attempt = 0; attempt < 16; attempt++) {
        uint32_t r;
        randombytes_buf(&r, sizeof r);
        snprintf(out, n, "%s/.r%d.%ld.%08x.tmp", parent, rev, (long)getpid(), (unsigned)r);
        if (mkdir(out, 0755) == 0) return 0;
        if (errno != EEXIST) break;
    }
    return snprintf(err, errlen, "%s: cannot create a temporary directory: %s", parent, strerror(errno)), -1;
}

/* rename(2) that never replaces: revision directories are never replaced,
 * not even an empty one. */
static int rename_no_replace(const char *from, const char *to) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    struct stat st;
    if (lstat(to, &st) == 0) return errno = EEXIST, -1;
    return rename(from, to);
}

int bundle_point_latest(const char *out_dir, const char *region, const char *period, int rev, char *err,
                        size_t errlen) {
    char dir[4096], latest[4200], target[32], current[64], tmp[4300];
    if (layout_bundle_dir(out_dir, region, period, dir, sizeof dir))
        return snprintf(err, errlen, "bad region or period"), -1;
    snprintf(latest, sizeof latest, "%s/latest", dir);
    snprintf(target, sizeof target, "r%d", rev);
    ssize_t len = readlink(latest, current, sizeof current - 1);
    if (len > 0 && (size_t)len == strlen(target) && !memcmp(current, target, (size_t)len)) return 0;
    for (int attempt = 0;; attempt++) {
        uint32_t r;
        randombytes_buf(&r, sizeof r);
        snprintf(tmp, sizeof tmp, "%s/.latest.%ld.%08x.tmp", dir, (long)getpid(), (unsigned)r);
        if (symlink(target, tmp) == 0) break;
        if (errno != EEXIST || attempt == 15) return snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno)), -1;
    }
    if (rename(tmp, latest) != 0) {
        snprintf(err, errlen, "%s: cannot update: %s", latest, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return fs_sync_dir(dir, err, errlen);
}

int bundle_read_content(const char *out_dir, const char *region, const char *period, int rev, char content[65],
                        char manifest_sha256[65]) {
    char dir[4200], path[4300], buf[256];
    if (layout_revision_dir(out_dir, region, period, rev, dir, sizeof dir)) return -1;
    snprintf(path, sizeof path, "%s/CONTENT", dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n != 130 || buf[64] != '\n' || buf[129] != '\n') return -1;
    memcpy(content, buf, 64), content[64] = '\0';
    memcpy(manifest_sha256, buf + 65, 64), manifest_sha256[64] = '\0';
    return 0;
}

/* BUNDLE.ed25519 (the raw Ed25519 signature of the whole bundle file, for
 * `openssl pkeyutl -verify -rawin`) and BUNDLE.minisig (for `minisign
 * -V`), written into the revision's temporary directory so that they
 * appear with it (sign.h "stock tools"), under both names. */
static int write_stock_signatures(const bundle_spec *s, const char *tmp, const bundle_result *r, const char *name0,
                                  char *err, size_t errlen) {
    static const char *const suffix[2] = {".ed25519", ".minisig"};
    char path[4400], *data, text[SIGN_MINISIG_CAP], name[200], link_from[4400], link_to[4400];
    size_t size;
    uint8_t raw[SIGN_BYTES];
    snprintf(path, sizeof path, "%.4000s/%.127s", tmp, r->name);
    if (read_whole(path, &data, &size)) return snprintf(err, errlen, "%s: cannot read back", path), -1;
    sign_raw(s->key, data, size, raw);
    int rc = sign_minisig(s->key, data, size, r->name, text) ? (snprintf(err, errlen, "%s: bad file name", r->name), -1) : 0;
    free(data);
    for (int i = 0; rc == 0 && i < 2; i++) {
        snprintf(name, sizeof name, "%.127s%s", r->name, suffix[i]);
        rc = write_new_file(tmp, name, i == 0 ? (const void *)raw : text, i == 0 ? sizeof raw : strlen(text), err, errlen);
        snprintf(link_from, sizeof link_from, "%.4000s/%s", tmp, name);
        snprintf(link_to, sizeof link_to, "%.4000s/%.127s%s", tmp, name0, suffix[i]);
        if (rc == 0 && link(link_from, link_to) != 0)
            rc = -1, snprintf(err, errlen, "%s: cannot link: %s", link_to, strerror(errno));
    }
    return rc;
}

/* The files of revision N in its temporary directory tmp: the bundle
 * packed from MANIFEST.json, MANIFEST.sig and the files, its signature,
 * the un-numbered links and CONTENT. */
static int fill_revision(const bundle_spec *s, bundle_build *b, const char *tmp, bundle_result *r,
                         char *manifest, size_t manifest_size, char *err, size_t errlen) {
    bundle_file all[BUNDLE_MAX_FILES + 2];
    all[0] = (bundle_file){"MANIFEST.json", manifest, manifest_size, ""};
    all[1] = (bundle_file){"MANIFEST.sig", r->signature, strlen(r->signature), ""};
    memcpy(all + 2, b->files, b->nfiles * sizeof *b->files);
    char path[4400], name0[128], link_from[4400], link_to[4400], content[160];
    snprintf(path, sizeof path, "%.4000s/%.127s", tmp, r->name);
    if (pack(path, all, b->nfiles + 2, err, errlen)) return -1;
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int synced = fd >= 0 && fsync(fd) == 0 && fstat(fd, &st) == 0;
    if (fd >= 0) close(fd);
    if (!synced) return snprintf(err, errlen, "%s: cannot sync: %s", path, strerror(errno)), -1;
    r->size = (int64_t)st.st_size;
    if (digest_file_sha256(path, r->sha256, err, errlen)) return -1;
    char signame[160];
    snprintf(signame, sizeof signame, "%s.sig", r->name);
    if (write_new_file(tmp, signame, r->signature, strlen(r->signature), err, errlen)) return -1;
    snprintf(content, sizeof content, "%s\n%s\n", r->content, r->manifest_sha256);
    if (write_new_file(tmp, "CONTENT", content, strlen(content), err, errlen)) return -1;
    layout_bundle_name(s->region, s->period, 0, name0, sizeof name0);
    for (int sig = 0; sig < 2; sig++) {
        snprintf(link_from, sizeof link_from, "%.4000s/%.127s%s", tmp, r->name, sig ? ".sig" : "");
        snprintf(link_to, sizeof link_to, "%.4000s/%.127s%s", tmp, name0, sig ? ".sig" : "");
        if (link(link_from, link_to) != 0) return snprintf(err, errlen, "%s: cannot link: %s", link_to, strerror(errno)), -1;
    }
    if (write_stock_signatures(s, tmp, r, name0, err, errlen)) return -1;
    return fs_sync_dir(tmp, err, errlen);
}

/* Revision N appears in one step: its directory, filled under a temporary
 * name, is renamed into place; then `latest` follows. */
static int write_revision(const bundle_spec *s, bundle_build *b, const char *dir, bundle_result *r,
                          char *manifest, size_t manifest_size, char *err, size_t errlen) {
    char tmp[4300], final[4300];
    if (layout_revision_dir(s->out_dir, s->region, s->period, s->revision, final, sizeof final))
        return snprintf(err, errlen, "bad region, period or revision"), -1;
    snprintf(r->path, sizeof r->path, "%.3900s/%.127s", final, r->name);
    if (make_temp_dir(dir, s->revision, tmp, sizeof tmp, err, errlen)) return -1;
    if (fill_revision(s, b, tmp, r, manifest, manifest_size, err, errlen)) {
        fs_remove_tree(tmp);
        return -1;
    }
    if (rename_no_replace(tmp, final) != 0) {
        snprintf(err, errlen, "%s: cannot publish: %s (revisions are never replaced)", final, strerror(errno));
        fs_remove_tree(tmp);
        return -1;
    }
    if (fs_sync_dir(dir, err, errlen)) return -1;
    return bundle_point_latest(s->out_dir, s->region, s->period, s->revision, err, errlen);
}

static void hex_sha256(const char *data, size_t size, char out[65]) {
    uint8_t digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)data, size);
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", digest[i]);
}

int bundle_publish(const bundle_spec *s, bundle_result *r, char *err, size_t errlen) {
    bundle_build *b = calloc(1, sizeof *b);
    char dir[4096], *manifest = NULL;
    size_t manifest_size = 0;
    memset(r, 0, sizeof *r);
    if (!b) return snprintf(err, errlen, "out of memory"), -1;
    int rc = layout_bundle_dir(s->out_dir, s->region, s->period, dir, sizeof dir) ||
                     layout_bundle_name(s->region, s->period, s->revision, r->name, sizeof r->name)
                 ? (snprintf(err, errlen, "bad region, period or revision"), -1)
                 : 0;
    if (rc == 0) rc = fs_mkdirs(dir, err, errlen);
    if (rc == 0) rc = cut_and_check(s, b, err, errlen);
    if (rc == 0) rc = add_h5(b, err, errlen);
    for (size_t i = 0; rc == 0 && i < b->ncut; i++) {
        r->rows += b->cut[i].nrows;
        if (add_csv(b, &b->cut[i])) rc = -1, snprintf(err, errlen, "out of memory writing CSV");
    }
    if (rc == 0) rc = add_forms(b, s, dir, err, errlen);
    if (rc == 0) qsort(b->files, b->nfiles, sizeof *b->files, compare_files);
    if (rc == 0 && build_manifest(s, b, 0, &manifest, &manifest_size)) rc = -1, snprintf(err, errlen, "out of memory");
    if (rc == 0) {
        hex_sha256(manifest, manifest_size, r->content);
        r->unchanged = s->latest_content && !strcmp(s->latest_content, r->content);
        free(manifest);
        manifest = NULL;
    }
    if (rc == 0 && !r->unchanged && build_manifest(s, b, s->revision, &manifest, &manifest_size))
        rc = -1, snprintf(err, errlen, "out of memory");
    if (rc == 0 && !r->unchanged) {
        hex_sha256(manifest, manifest_size, r->manifest_sha256);
        sign_detached_hex(s->key, manifest, manifest_size, r->signature);
        rc = write_revision(s, b, dir, r, manifest, manifest_size, err, errlen);
    }
    free(manifest);
    build_free(b);
    free(b);
    return rc;
}
