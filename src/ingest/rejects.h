/* rejects.h — where rejected rows go: `OUT/rejects/<YYYYMMDD>/<extract>.csv`
 * with columns line,column,reason,detail,raw (RFC 4180, `,`), ordered by
 * line. Each rank writes its own part (its share of the file, in line
 * order); rank 0 merges the parts by line, so the file is identical for
 * any number of ranks however the shares interleave. The final file appears only
 * complete (temporary name, fsync, rename). Raw lines are kept verbatim,
 * except that bytes which are not valid UTF-8 are written as \xNN.
 *
 * At most REJECTS_MAX_ROWS rows are written per extract: the first ones
 * by line (the same for any rank count). Every rejected row is still
 * counted in the summary, which says how many were not listed; 5 MB of
 * empty lines no longer make a rejects file fifty times larger. */
#ifndef ESEP_REJECTS_H
#define ESEP_REJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "reasons.h"

#define REJECTS_MAX_ROWS 10000

typedef struct reject_writer reject_writer;

/* Opens (truncating) this rank's part for extract under dir. Returns the
 * writer, or NULL with a message in err. */
reject_writer *reject_writer_open(const char *dir, const char *extract, int rank,
                                  char *err, size_t errlen);

/* Appends one rejected row (beyond REJECTS_MAX_ROWS of this part: only
 * counted by the caller, not written). 0, or -1 on a write error (sticky:
 * also reported by close). column may be "" for whole-row reasons. */
int reject_writer_add(reject_writer *w, int64_t line, const char *column,
                      reject_reason reason, const char *detail,
                      const char *raw, size_t raw_len);

/* Closes the part. 0, or -1 with a message when any write failed. Frees w
 * on every path. */
int reject_writer_close(reject_writer *w, char *err, size_t errlen);

/* Rank 0, after every rank closed its part: writes the final file from
 * parts 0..nranks-1 and removes them. 0, or -1 with a message. */
int rejects_join_parts(const char *dir, const char *extract, int nranks,
                       char *err, size_t errlen);

/* Removes the parts and final file of an extract that failed whole: its
 * rows were neither accepted nor rejected. Cannot fail (best effort). */
void rejects_remove(const char *dir, const char *extract, int nranks);

#endif
