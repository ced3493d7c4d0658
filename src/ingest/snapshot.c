/* snapshot.c — see snapshot.h. */
#include "snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/date.h"
#include "../base/fsutil.h"
#include "../base/log.h"
#include "../dist/agree.h"

int snapshot_parse_dir(const char *dir, int32_t *date, char text[9], char *err, size_t errlen) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/') start--;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a snapshot directory", dir);
        return -1;
    }
    if (date_parse_compact(dir + start, len - start, date)) {
        snprintf(err, errlen, "%s: a snapshot directory is named by its date, YYYYMMDD", dir);
        return -1;
    }
    memcpy(text, dir + start, 8);
    text[8] = '\0';
    return 0;
}

int snapshot_locate_file(const char *dir, const char *name, char *path, size_t n, int *compressed,
                       char *err, size_t errlen) {
    char zst[4096], plain[4096];
    struct stat st;
    snprintf(zst, sizeof zst, "%s/%s.csv.zst", dir, name);
    snprintf(plain, sizeof plain, "%s/%s.csv", dir, name);
    int has_zst = stat(zst, &st) == 0, has_plain = stat(plain, &st) == 0;
    if (has_zst && has_plain) {
        snprintf(err, errlen, "both %s.csv and %s.csv.zst are present; keep one", name, name);
        return -1;
    }
    if (!has_zst && !has_plain) {
        snprintf(err, errlen, "missing file %s.csv.zst (or %s.csv)", name, name);
        return -1;
    }
    snprintf(path, n, "%s", has_zst ? zst : plain);
    *compressed = has_zst;
    return 0;
}

/* The name of an extract this one needs that failed, or NULL. */
static const char *failed_dependency(const schema_set *set, const schema_extract *ext,
                                     const extract_summary *sums) {
    for (size_t c = 0; c < ext->ncolumns; c++)
        if (ext->columns[c].type == COL_KATO && sums[set->kato_extract].failed)
            return set->extracts[set->kato_extract].name;
    for (size_t r = 0; r < ext->nrefs; r++)
        if (sums[ext->refs[r].extract].failed) return set->extracts[ext->refs[r].extract].name;
    return NULL;
}

static int read_one(const snapshot_args *a, snapshot_result *res, size_t idx, char *err, size_t errlen) {
    const schema_extract *ext = &a->schemas->extracts[idx];
    extract_summary *sum = &res->extracts[idx];
    char path[4096];
    int compressed = 0;
    const char *dep = failed_dependency(a->schemas, ext, res->extracts);
    if (dep) {
        sum->failed = 1;
        snprintf(sum->error, sizeof sum->error, "not checked: it needs extract '%s', which failed", dep);
        return 0;
    }
    if (snapshot_locate_file(a->snapshot_dir, ext->name, path, sizeof path, &compressed, sum->error, sizeof sum->error)) {
        sum->failed = 1;
        return 0;
    }
    extract_read_args ra = {a->comm, a->rank, a->nranks, a->schemas, (int)idx, path, compressed,
                            res->rejects_dir, res->keysets, a->consume, a->consume_withdrawn,
                            a->consumer_data, a->show_progress};
    int rc = extract_read(&ra, sum);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", ext->name, sum->error);
        return -1;
    }
    if (a->rank == 0) {
        if (rc == 1) log_msg(LOG_WARN, "%s: %s", ext->name, sum->error);
        else log_msg(LOG_INFO, "%s: read %lld, accepted %lld, rejected %lld", ext->name,
                     (long long)sum->read, (long long)sum->accepted, (long long)sum->rejected);
    }
    return 0;
}

int snapshot_read(const snapshot_args *a, snapshot_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    size_t n = a->schemas->count;
    res->extracts = calloc(n, sizeof *res->extracts);
    res->keysets = calloc(n, sizeof *res->keysets);
    int ok = res->extracts && res->keysets;
    if (!ok) snprintf(err, errlen, "out of memory");
    else ok = !snapshot_parse_dir(a->snapshot_dir, &res->date, res->date_text, err, errlen);
    if (ok) {
        snprintf(res->rejects_dir, sizeof res->rejects_dir, "%s/rejects/%s", a->out_dir, res->date_text);
        ok = a->rank != 0 || !fs_mkdirs(res->rejects_dir, err, errlen);
    }
    /* a rank that cannot start must not leave the others in the readers'
     * collectives; every rank gets the first failing rank's message */
    if (dist_agree_status(a->comm, !ok, err, (int)errlen)) return -1;
    for (size_t k = 0; k < n; k++)
        if (read_one(a, res, a->schemas->order[k], err, errlen)) return -1;
    for (size_t i = 0; i < n; i++) res->failed_extracts += res->extracts[i].failed;
    return 0;
}

void snapshot_result_free(snapshot_result *res, size_t nextracts) {
    for (size_t i = 0; res->keysets && i < nextracts; i++) keyset_free(&res->keysets[i]);
    free(res->keysets);
    free(res->extracts);
    memset(res, 0, sizeof *res);
}
