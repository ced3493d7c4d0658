/* fs_batch: files staged under temporary names appear under their final
 * names only at the commit, each directory synced once; a file whose
 * rename fails is reported and leaves nothing; dropped and abandoned files
 * leave no temporary behind; an earlier file under a final name is never
 * half replaced. fs_read_fd reads a whole file and refuses what is not one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "test.h"

/* A synced temporary file beside final holding text; its name in tmp. */
static int stage(const char *final, const char *text, char *tmp, size_t cap) {
    char err[512];
    FILE *f = fs_temp_open(final, 0644, tmp, cap, err, sizeof err);
    if (!f) return -1;
    fputs(text, f);
    return fs_close_temp(f, tmp, 0, err, sizeof err);
}

static void read_text(const char *path, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = '\0';
    if (f) fclose(f);
}

/* Entries of dir whose name starts with '.', other than . and .. */
static int hidden_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        n += de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    if (d) closedir(d);
    return n;
}

void suite_fsutil(void) {
    char root[] = "/tmp/esep-fsutil-XXXXXX";
    if (!mkdtemp(root)) return;
    char a[700], b[700], c[700], missing[700], sub[600], tmp[800], text[64], err[512];
    snprintf(sub, sizeof sub, "%s/sub", root);
    mkdir(sub, 0755);
    snprintf(a, sizeof a, "%s/a.csv", root);
    snprintf(b, sizeof b, "%s/b.csv", sub);
    snprintf(c, sizeof c, "%s/c.csv", root);
    snprintf(missing, sizeof missing, "%s/gone/d.csv", root);

    TEST_CASE("fs_batch: nothing under a final name before the commit, every file after") {
        fs_batch bt = {0};
        FILE *old = fopen(a, "w");
        if (old) fputs("old", old), fclose(old);
        EXPECT_EQ_INT(stage(a, "new a", tmp, sizeof tmp), 0);
        EXPECT_EQ_INT(fs_batch_add(&bt, tmp, a, err, sizeof err), 0);
        EXPECT_EQ_INT(stage(b, "new b", tmp, sizeof tmp), 0);
        EXPECT_EQ_INT(fs_batch_add(&bt, tmp, b, err, sizeof err), 1);
        EXPECT_EQ_INT(fs_batch_sync_first(&bt, sub, err, sizeof err), 0);
        EXPECT_EQ_INT(fs_batch_sync_first(&bt, sub, err, sizeof err), 0);
        EXPECT_EQ_INT(bt.nfirst, 1);
        EXPECT(fs_batch_holds_dir(&bt, sub));
        EXPECT(!fs_batch_holds_dir(&bt, "/nowhere"));
        read_text(a, text, sizeof text);
        EXPECT_EQ_STR(text, "old"); /* staged, not yet in place */
        EXPECT(access(b, F_OK) != 0);
        EXPECT(fs_batch_failed(&bt, 0));
        EXPECT_EQ_INT(fs_batch_commit(&bt, err, sizeof err), 0);
        EXPECT(!fs_batch_failed(&bt, 0) && !fs_batch_failed(&bt, 1));
        read_text(a, text, sizeof text);
        EXPECT_EQ_STR(text, "new a");
        read_text(b, text, sizeof text);
        EXPECT_EQ_STR(text, "new b");
        fs_batch_free(&bt);
        EXPECT_EQ_INT(hidden_entries(root) + hidden_entries(sub), 0);
    }

    TEST_CASE("fs_batch: a failed rename is reported for its file only and leaves no temporary") {
        fs_batch bt = {0};
        char gone_tmp[800];
        EXPECT_EQ_INT(stage(c, "c", tmp, sizeof tmp), 0);
        EXPECT_EQ_INT(fs_batch_add(&bt, tmp, c, err, sizeof err), 0);
        EXPECT_EQ_INT(stage(a, "not d", gone_tmp, sizeof gone_tmp), 0); /* its final directory does not exist */
        EXPECT_EQ_INT(fs_batch_add(&bt, gone_tmp, missing, err, sizeof err), 1);
        EXPECT_EQ_INT(fs_batch_commit(&bt, err, sizeof err), 1);
        EXPECT(!fs_batch_failed(&bt, 0));
        EXPECT(fs_batch_failed(&bt, 1));
        EXPECT(strstr(err, "gone/d.csv") != NULL);
        EXPECT(access(gone_tmp, F_OK) != 0);
        read_text(c, text, sizeof text);
        EXPECT_EQ_STR(text, "c");
        fs_batch_free(&bt);
        EXPECT_EQ_INT(hidden_entries(root), 0);
    }

    TEST_CASE("fs_batch: a dropped file and an abandoned batch leave the old files and no temporary") {
        fs_batch bt = {0};
        EXPECT_EQ_INT(stage(a, "dropped", tmp, sizeof tmp), 0);
        EXPECT_EQ_INT(fs_batch_add(&bt, tmp, a, err, sizeof err), 0);
        fs_batch_drop(&bt, 0);
        EXPECT(access(tmp, F_OK) != 0);
        EXPECT_EQ_INT(stage(c, "abandoned", tmp, sizeof tmp), 0);
        EXPECT_EQ_INT(fs_batch_add(&bt, tmp, c, err, sizeof err), 1);
        EXPECT_EQ_INT(fs_batch_commit(&bt, err, sizeof err), 1); /* the dropped one */
        read_text(a, text, sizeof text);
        EXPECT_EQ_STR(text, "new a");
        fs_batch_free(&bt);
        fs_batch bt2 = {0};
        EXPECT_EQ_INT(stage(c, "never committed", tmp, sizeof tmp), 0);
        EXPECT_EQ_INT(fs_batch_add(&bt2, tmp, c, err, sizeof err), 0);
        fs_batch_free(&bt2);
        read_text(c, text, sizeof text);
        EXPECT_EQ_STR(text, "abandoned");
        EXPECT_EQ_INT(hidden_entries(root), 0);
    }

    TEST_CASE("fs_batch: a first directory that cannot be synced renames nothing") {
        fs_batch bt = {0};
        EXPECT_EQ_INT(stage(a, "after a failed sync", tmp, sizeof tmp), 0);
        EXPECT_EQ_INT(fs_batch_add(&bt, tmp, a, err, sizeof err), 0);
        EXPECT_EQ_INT(fs_batch_sync_first(&bt, missing, err, sizeof err), 0);
        EXPECT_EQ_INT(fs_batch_commit(&bt, err, sizeof err), 1);
        EXPECT(fs_batch_failed(&bt, 0));
        read_text(a, text, sizeof text);
        EXPECT_EQ_STR(text, "new a");
        fs_batch_free(&bt);
        EXPECT_EQ_INT(hidden_entries(root), 0);
    }
    TEST_CASE("fs_read_fd: the whole file; a directory, or a file over the limit, refused with its errno") {
        FILE *f = fopen(c, "w");
        EXPECT(f && fputs("twelve bytes", f) >= 0 && fclose(f) == 0);
        int fd = open(c, O_RDONLY), dir = open(root, O_RDONLY | O_DIRECTORY);
        char *buf = NULL;
        size_t len = 0;
        EXPECT_EQ_INT(fs_read_fd(fd, 12, &buf, &len), 0);
        EXPECT(buf && len == 12 && memcmp(buf, "twelve bytes", 12) == 0);
        free(buf);
        EXPECT_EQ_INT(fs_read_fd(fd, 11, &buf, &len), -1);
        EXPECT_EQ_INT(errno, EFBIG);
        EXPECT_EQ_INT(fs_read_fd(dir, 1 << 20, &buf, &len), -1);
        EXPECT_EQ_INT(errno, EINVAL);
        close(fd), close(dir);
    }
    unlink(a), unlink(b), unlink(c), rmdir(sub), rmdir(root);
}
