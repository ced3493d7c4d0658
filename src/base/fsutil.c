/* fsutil.c — see fsutil.h. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stoppoint.h"

int fs_mkdirs(const char *path, char *err, size_t errlen) {
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        snprintf(err, errlen, "%s: bad directory path", path);
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = saved;
    }
    return 0;
}

static int fsync_parent_dir(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Renames the synced tmp_path to final_path (removing tmp_path if that
 * fails) and fsyncs the directory. */
static int rename_synced(const char *tmp_path, const char *final_path,
                         char *err, size_t errlen) {
    if (rename(tmp_path, final_path) != 0) {
        snprintf(err, errlen, "%s: cannot write: %m", final_path);
        unlink(tmp_path);
        return -1;
    }
    if (fsync_parent_dir(final_path) != 0) {
        snprintf(err, errlen, "%s: cannot sync directory: %m", final_path);
        return -1;
    }
    return 0;
}

int fs_close_temp(FILE *f, const char *tmp_path, int sync, char *err, size_t errlen) {
    errno = 0;
    int failed = fflush(f) != 0 || (sync && fsync(fileno(f)) != 0);
    int saved = errno;
    failed |= fclose(f) != 0;
    if (failed) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp_path, strerror(saved ? saved : errno));
        unlink(tmp_path);
        return -1;
    }
    return 0;
}

int fs_commit_file(FILE *f, const char *tmp_path, const char *final_path,
                   char *err, size_t errlen) {
    char why[1024];
    if (fs_close_temp(f, tmp_path, 1, why, sizeof why))
        return snprintf(err, errlen, "%s: %s", final_path, why), -1;
    return rename_synced(tmp_path, final_path, err, errlen);
}

/* ---- batches -------------------------------------------------------------- */

enum { BATCH_PENDING, BATCH_RENAMED, BATCH_DONE, BATCH_FAILED };

struct fs_batch_file {
    char *tmp, *final;
    int state;
};

long fs_batch_add(fs_batch *b, const char *tmp_path, const char *final_path, char *err, size_t errlen) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        struct fs_batch_file *grown = realloc(b->files, cap * sizeof *grown);
        if (!grown) return unlink(tmp_path), snprintf(err, errlen, "out of memory"), -1;
        b->files = grown, b->cap = cap;
    }
    struct fs_batch_file *f = &b->files[b->n];
    f->tmp = strdup(tmp_path), f->final = strdup(final_path), f->state = BATCH_PENDING;
    if (!f->tmp || !f->final) {
        free(f->tmp), free(f->final);
        unlink(tmp_path);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    return (long)b->n++;
}

int fs_batch_sync_first(fs_batch *b, const char *dir, char *err, size_t errlen) {
    for (size_t i = 0; i < b->nfirst; i++)
        if (!strcmp(b->first[i], dir)) return 0;
    if (strlen(dir) >= sizeof *b->first) return snprintf(err, errlen, "%s: path too long", dir), -1;
    if (b->nfirst == b->first_cap) {
        size_t cap = b->first_cap ? 2 * b->first_cap : 4;
        char(*grown)[4096] = realloc(b->first, cap * sizeof *grown);
        if (!grown) return snprintf(err, errlen, "out of memory"), -1;
        b->first = grown, b->first_cap = cap;
    }
    snprintf(b->first[b->nfirst++], sizeof *b->first, "%s", dir);
    return 0;
}

/* The directory part of path into out (as dirname(3) gives it). */
static void dir_of(const char *path, char out[4096]) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    snprintf(out, 4096, "%s", dirname(buf));
}

/* fsyncs the directory of each renamed file once: every renamed file of
 * that directory settles with that one fsync (done, or failed with it). */
static void sync_final_dirs(fs_batch *b, char *err, size_t errlen, int *have_err) {
    char d[4096], e[4096], why[1024];
    for (size_t i = 0; i < b->n; i++) {
        if (b->files[i].state != BATCH_RENAMED) continue;
        dir_of(b->files[i].final, d);
        int ok = fs_sync_dir(d, why, sizeof why) == 0;
        if (!ok && !(*have_err)++) snprintf(err, errlen, "%s", why);
        for (size_t j = i; j < b->n; j++) {
            if (b->files[j].state != BATCH_RENAMED) continue;
            dir_of(b->files[j].final, e);
            if (!strcmp(d, e)) b->files[j].state = ok ? BATCH_DONE : BATCH_FAILED;
        }
    }
}

/* Every pending file durable under its temporary name: writeback started
 * for all first, so that their fsyncs share journal commits. 0, or -1
 * with a message (some file could not be synced). */
static int sync_files(fs_batch *b, char *err, size_t errlen) {
    int *fd = malloc((b->n + 1) * sizeof *fd);
    if (!fd) return snprintf(err, errlen, "out of memory"), -1;
    for (size_t i = 0; i < b->n; i++) {
        fd[i] = b->files[i].state == BATCH_PENDING ? open(b->files[i].tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -2;
        if (fd[i] >= 0) (void)sync_file_range(fd[i], 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint: fsync decides */
    }
    int rc = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (fd[i] == -2) continue;
        if ((fd[i] < 0 || fsync(fd[i]) != 0) && rc == 0)
            rc = -1, snprintf(err, errlen, "%s: cannot write: %s", b->files[i].final, strerror(errno));
        if (fd[i] >= 0) close(fd[i]);
    }
    free(fd);
    return rc;
}

size_t fs_batch_commit(fs_batch *b, char *err, size_t errlen) {
    int have_err = 0;
    char why[1024];
    int synced = sync_files(b, err, errlen) == 0;
    for (size_t i = 0; synced && i < b->nfirst; i++) synced = fs_sync_dir(b->first[i], err, errlen) == 0;
    if (!synced) {
        for (size_t k = 0; k < b->n; k++) /* nothing renamed: the old files stay current */
            if (b->files[k].state == BATCH_PENDING) unlink(b->files[k].tmp), b->files[k].state = BATCH_FAILED;
        return b->n;
    }
    for (size_t i = 0; i < b->n; i++) {
        struct fs_batch_file *f = &b->files[i];
        if (f->state != BATCH_PENDING) continue;
        if (rename(f->tmp, f->final) == 0) {
            f->state = BATCH_RENAMED;
            if (b->stop_point) stop_point(b->stop_point, 0), b->stop_point = NULL;
            continue;
        }
        snprintf(why, sizeof why, "%s: cannot write: %s", f->final, strerror(errno));
        if (!have_err++) snprintf(err, errlen, "%s", why);
        unlink(f->tmp);
        f->state = BATCH_FAILED;
    }
    sync_final_dirs(b, err, errlen, &have_err);
    size_t failed = 0;
    for (size_t i = 0; i < b->n; i++) failed += b->files[i].state != BATCH_DONE;
    return failed;
}

void fs_batch_drop(fs_batch *b, size_t i) {
    if (i >= b->n || b->files[i].state != BATCH_PENDING) return;
    unlink(b->files[i].tmp);
    b->files[i].state = BATCH_FAILED;
}

int fs_batch_failed(const fs_batch *b, size_t i) { return i >= b->n || b->files[i].state != BATCH_DONE; }

int fs_batch_holds_dir(const fs_batch *b, const char *dir) {
    char d[4096];
    for (size_t i = 0; i < b->n; i++)
        if (dir_of(b->files[i].final, d), !strcmp(d, dir)) return 1;
    return 0;
}

void fs_batch_free(fs_batch *b) {
    for (size_t i = 0; i < b->n; i++) {
        if (b->files[i].state == BATCH_PENDING) unlink(b->files[i].tmp);
        free(b->files[i].tmp), free(b->files[i].final);
    }
    free(b->files), free(b->first);
    memset(b, 0, sizeof *b);
}

int fs_commit_path(const char *tmp_path, const char *final_path,
                   char *err, size_t errlen) {
    int fd = open(tmp_path, O_RDONLY);
    int failed = fd < 0 || fsync(fd) != 0;
    int saved = errno;
    if (fd >= 0) close(fd);
    if (failed) {
        snprintf(err, errlen, "%s: cannot write: %s", final_path, strerror(saved));
        unlink(tmp_path);
        return -1;
    }
    return rename_synced(tmp_path, final_path, err, errlen);
}

int fs_append_file(FILE *out, const char *path, char *err, size_t errlen) {
    FILE *in = fopen(path, "rb");
    if (!in) {
        snprintf(err, errlen, "%s: cannot open: %m", path);
        return -1;
    }
    char buf[1 << 16];
    size_t n;
    int failed = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) failed = 1;
    failed |= ferror(in);
    fclose(in);
    if (failed) snprintf(err, errlen, "%s: cannot copy: %m", path);
    return failed ? -1 : 0;
}

FILE *fs_temp_open(const char *final_path, int mode, char *tmp_path, size_t n, char *err, size_t errlen) {
    char dir[4096], base[4096];
    snprintf(dir, sizeof dir, "%s", final_path);
    snprintf(base, sizeof base, "%s", final_path);
    const char *d = dirname(dir), *b = basename(base);
    for (int attempt = 0; attempt < 16; attempt++) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint32_t)rand();
        int len = snprintf(tmp_path, n, "%s/.%.200s.%ld.%08x.tmp", d, b, (long)getpid(), (unsigned)r);
        if (len < 0 || (size_t)len >= n) return snprintf(err, errlen, "%s: path too long", final_path), NULL;
        int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) return snprintf(err, errlen, "%s: cannot create: %s", tmp_path, strerror(errno)), NULL;
        FILE *f = fdopen(fd, "wb");
        if (!f) {
            snprintf(err, errlen, "%s: cannot open: %s", tmp_path, strerror(errno));
            close(fd);
            unlink(tmp_path);
        }
        return f;
    }
    snprintf(err, errlen, "%s: cannot find a free temporary name", final_path);
    return NULL;
}

int fs_write_atomic(const char *final_path, const void *data, size_t size, int mode, char *err, size_t errlen) {
    char tmp[4400];
    FILE *f = fs_temp_open(final_path, mode, tmp, sizeof tmp, err, errlen);
    if (!f) return -1;
    if (size && fwrite(data, 1, size, f) != size) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        return -1;
    }
    return fs_commit_file(f, tmp, final_path, err, errlen);
}

int fs_sync_dir(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
    if (rc) snprintf(err, errlen, "%s: cannot sync directory: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return rc;
}

/* The pid in ".<name>.<pid>.<8 hex>.tmp", or 0 when the name is not ours. */
static long temp_owner(const char *name) {
    size_t len = strlen(name);
    if (name[0] != '.' || len < 16 || strcmp(name + len - 4, ".tmp")) return 0;
    const char *hex = name + len - 12;
    if (hex[-1] != '.') return 0;
    const char *p = hex - 2;
    while (p > name && *p >= '0' && *p <= '9') p--;
    if (*p != '.' || p == hex - 2) return 0;
    return strtol(p + 1, NULL, 10);
}

void fs_remove_tree(const char *path) {
    struct stat self;
    if (lstat(path, &self) != 0) return;
    if (!S_ISDIR(self.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d) {
        for (struct dirent *de; (de = readdir(d));) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char child[4400];
            snprintf(child, sizeof child, "%s/%s", path, de->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) fs_remove_tree(child);
            else unlink(child);
        }
        closedir(d);
    }
    rmdir(path);
}

int fs_remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    for (struct dirent *de; (de = readdir(d));) {
        long pid = temp_owner(de->d_name);
        if (pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno == EPERM)) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        fs_remove_tree(path);
        removed++;
    }
    closedir(d);
    return removed;
}

int fs_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_read_fd(int fd, size_t max, char **buf, size_t *len) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    if (!S_ISREG(st.st_mode)) return errno = EINVAL, -1;
    if ((uint64_t)st.st_size > (uint64_t)max) return errno = EFBIG, -1;
    char *b = malloc((size_t)st.st_size + 1);
    if (!b) return -1;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, b + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got != (size_t)st.st_size) return free(b), errno = EIO, -1;
    *buf = b;
    *len = got;
    return 0;
}
