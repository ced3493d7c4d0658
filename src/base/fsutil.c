/* fsutil.c — see fsutil.h. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
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
