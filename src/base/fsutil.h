/* fsutil.h — file-system steps that must be done the same careful way
 * everywhere: creating directories, and making a file appear under its final
 * name only when it is complete (write to a temporary name, fsync, rename,
 * fsync the directory). */
#ifndef ESEP_FSUTIL_H
#define ESEP_FSUTIL_H

#include <stddef.h>
#include <stdio.h>

/* mkdir -p with mode 0755. Returns 0, or -1 with a message in err. */
int fs_mkdirs(const char *path, char *err, size_t errlen);

/* Flushes and fsyncs f, closes it, renames tmp_path to final_path and
 * fsyncs the directory. f is closed on every path; on error tmp_path is
 * removed. Returns 0, or -1 with a message in err. */
int fs_commit_file(FILE *f, const char *tmp_path, const char *final_path,
                   char *err, size_t errlen);

/* Flushes f (and fsyncs it when sync is set) and closes it, leaving it
 * under its temporary name (for fs_batch_add, which syncs it). f is closed
 * on every path; on error tmp_path is removed. Returns 0, or -1 with a
 * message in err. */
int fs_close_temp(FILE *f, const char *tmp_path, int sync, char *err, size_t errlen);

/* Many files made to appear together, paying the file system's journal
 * commit and each directory's fsync about once instead of once per file
 * (a period's 128 tables and rejects files). Each file is complete (written
 * and closed) under its temporary name when it is added; fs_batch_commit
 * starts the writeback of every file, then fsyncs each (the first fsync
 * commits the metadata of all, the others find theirs committed), then
 * fsyncs the directories given to fs_batch_sync_first (entries that must
 * be durable before any rename: history links), renames every file, then
 * fsyncs each final directory once. Crash-safe for the same reasons as one
 * file: nothing is renamed before every file of the batch is synced, a
 * rename is atomic and only ever names a complete, synced file, so after a
 * crash at any point each final name holds its old file or its new one,
 * never a part, and what was not renamed is a temporary that
 * fs_remove_stale_temps removes. The caller reports a file as done only after the commit (the
 * directory fsyncs) returned. Zero-initialise; release with fs_batch_free. */
typedef struct {
    struct fs_batch_file *files;
    size_t n, cap;
    char (*first)[4096]; /* directories to fsync before the renames */
    size_t nfirst, first_cap;
    const char *stop_point; /* stoppoint.h name (as rank 0) to die at after the first rename, or NULL */
} fs_batch;

/* Adds the complete temporary file tmp_path, to be synced and renamed to
 * final_path.
 * Returns its index (for fs_batch_failed), or -1 out of memory (with a
 * message; tmp_path is then removed). */
long fs_batch_add(fs_batch *b, const char *tmp_path, const char *final_path, char *err, size_t errlen);

/* Records a directory to fsync before any rename (once however often it is
 * given). 0, or -1 out of memory with a message. */
int fs_batch_sync_first(fs_batch *b, const char *dir, char *err, size_t errlen);

/* fsyncs every file and the first directories, renames every file, fsyncs
 * each final directory once. A file that could not be renamed is removed;
 * a file whose directory could not be synced counts as failed too (renamed
 * but perhaps not durable). When a file or a first directory cannot be
 * synced (a full disk) nothing is renamed, every temporary file is removed
 * and every file fails. Returns how many files failed (0: all are
 * in place and durable), with the first error in err; fs_batch_failed
 * tells which. */
size_t fs_batch_commit(fs_batch *b, char *err, size_t errlen);

/* Takes file i out of the batch before the commit, removing its
 * temporary file (its item failed in another way). Cannot fail. */
void fs_batch_drop(fs_batch *b, size_t i);

/* 1 when file i was not committed (before a commit: every file). Cannot fail. */
int fs_batch_failed(const fs_batch *b, size_t i);

/* 1 when a file of b goes to directory dir (as dirname(3) gives it), else
 * 0: a writer cleans a directory's stale temporaries once per batch, not
 * once per file. Cannot fail. */
int fs_batch_holds_dir(const fs_batch *b, const char *dir);

/* Removes every temporary file not renamed and frees b. Cannot fail. */
void fs_batch_free(fs_batch *b);

/* The same for a complete file that a library wrote and closed by name
 * (HDF5): fsyncs tmp_path, renames it to final_path and fsyncs the
 * directory. On error tmp_path is removed. Returns 0, or -1 with a message
 * in err. */
int fs_commit_path(const char *tmp_path, const char *final_path,
                   char *err, size_t errlen);

/* Opens a fresh temporary file beside final_path for writing: the name is
 * "<dir>/.<base>.<pid>.<random>.tmp" (written into tmp_path), created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and the given mode, so a file or symbolic link
 * planted under any name is never written through. Commit it with
 * fs_commit_file. Returns the stream, or NULL with a message in err. */
FILE *fs_temp_open(const char *final_path, int mode, char *tmp_path, size_t n, char *err, size_t errlen);

/* Writes size bytes of data to final_path the same careful way (fresh
 * temporary file, fsync, rename, directory fsync). 0, or -1 with a message;
 * nothing is left under the temporary name on error. */
int fs_write_atomic(const char *final_path, const void *data, size_t size, int mode, char *err, size_t errlen);

/* 1 when path is a directory (following links), else 0. Cannot fail. */
int fs_is_dir(const char *path);

/* fsyncs the directory at path. 0, or -1 with a message. */
int fs_sync_dir(const char *path, char *err, size_t errlen);

/* Removes path: a real directory with everything it holds, anything else
 * by unlink. A symbolic link is removed itself, never followed (a stale
 * `latest` link points at a revision that must stay). Cannot fail (what
 * cannot be removed stays). */
void fs_remove_tree(const char *path);

/* Removes the leftovers of crashed writers in dir: entries named
 * ".<anything>.<pid>.<random>.tmp" (files, or directories removed with
 * their files) whose pid is not a live process of this host. Returns how
 * many were removed. Cannot fail (what cannot be removed stays). */
int fs_remove_stale_temps(const char *dir);

/* Appends the whole file at path to out. 0, or -1 with a message. */
int fs_append_file(FILE *out, const char *path, char *err, size_t errlen);

/* Reads the whole regular file open on fd, from offset 0, into a new
 * buffer with one byte to spare (for a terminator). Returns 0 with *buf
 * (the caller frees it) and *len, or -1 with errno set: EINVAL not a
 * regular file, EFBIG larger than max bytes, EIO short read, or that of
 * the failed call (fstat, malloc, pread). */
int fs_read_fd(int fd, size_t max, char **buf, size_t *len);

#endif
