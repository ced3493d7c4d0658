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

/* Appends the whole file at path to out. 0, or -1 with a message. */
int fs_append_file(FILE *out, const char *path, char *err, size_t errlen);

#endif
