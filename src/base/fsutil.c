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

int fs_commit_file(FILE *f, const char *tmp_path, const char *final_path,
                   char *err, size_t errlen) {
    int failed = fflush(f) != 0 || fsync(fileno(f)) != 0;
    int saved = errno;
    failed |= fclose(f) != 0;
    if (failed) {
        snprintf(err, errlen, "%s: cannot write: %s", final_path, strerror(saved ? saved : errno));
        unlink(tmp_path);
        return -1;
    }
    return rename_synced(tmp_path, final_path, err, errlen);
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
