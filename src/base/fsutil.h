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

#endif
