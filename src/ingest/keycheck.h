/* keycheck.h — the rules of extracts.md that need more than one row:
 * duplicate keys ("a duplicate iin rejects the later row") and references
 * (a job_seekers iin must exist in persons). For an extract split across
 * ranks, (key, line) pairs travel to the rank that owns the key
 * (key_owner), which decides and sends verdicts back; the decision is the
 * same for any number of ranks because "later" means "larger line number".
 * A replicated extract is decided locally. Verdicts find their way home by
 * line: either a split extract's lines rise with the rank (the reader cut
 * shares in rank order), or a table says which rank holds which lines (a
 * relayed frame's interleaved segments, relay.h). Owns the verdict
 * lists. */
#ifndef ESEP_KEYCHECK_H
#define ESEP_KEYCHECK_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/keyset.h"
#include "reasons.h"

/* One (key, line) pair in 12 bytes: the pairs of every persons row sit in
 * memory, and travel, at national scale (14 M of them on one rank at 20 M
 * persons), so 4 bytes less a pair is 60 MB less at the peak. A line is
 * at most KEY_LINE_MAX (the reader refuses longer files). */
typedef struct {
    uint32_t key_lo, key_hi;
    uint32_t line;
} key_entry;

#define KEY_LINE_MAX UINT32_MAX

static inline int64_t key_entry_key(const key_entry *e) {
    return (int64_t)((uint64_t)e->key_hi << 32 | e->key_lo);
}

static inline int64_t key_entry_line(const key_entry *e) { return e->line; }

typedef struct {
    key_entry *v;
    size_t n, cap;
} key_entries;

typedef struct {
    int64_t line;        /* rejected row */
    int64_t other_line;  /* duplicates: the line that keeps the key */
    int32_t reason;      /* reject_reason */
    int32_t column;      /* schema column index */
} late_verdict;

typedef struct {
    late_verdict *v;
    size_t n, cap;
} verdict_list;

/* Which rank holds which rows: from first_line[i] up to first_line[i + 1]
 * (exclusive), owner[i]; first_line rises. Not owned. */
typedef struct {
    const int64_t *first_line;
    const int32_t *owner;
    size_t n;
} line_owners;

/* Appends one pair (line <= KEY_LINE_MAX). 0, or -1 out of memory. */
int key_entries_push(key_entries *e, int64_t key, int64_t line);
void key_entries_free(key_entries *e);

/* Collective unless replicated. owners: where this extract's rows are,
 * or NULL when lines rise with the rank. Finds keys that occur on more
 * than one line among every rank's entries; for this rank's rows that lose, appends
 * REJ_DUPLICATE_KEY verdicts to out. Fills owned (sealed) with the keys
 * this rank owns (replicated: all keys). Unless replicated, entries are
 * freed once sent to their owners (they are copied there), so a national
 * persons extract is not held twice. 0, or -1 out of memory on any rank
 * (all return -1). */
int keycheck_duplicates(MPI_Comm comm, int replicated, const line_owners *owners,
                        key_entries *entries, int column, verdict_list *out, keyset *owned);

/* Collective unless target_replicated; owners as above. Appends REJ_UNKNOWN_REFERENCE for
 * this rank's entries whose key is not in target (for a split target, the
 * partition each rank owns). Unless target_replicated, entries are freed
 * once sent. 0, or -1 out of memory on any rank. */
int keycheck_references(MPI_Comm comm, int target_replicated, const line_owners *owners,
                        key_entries *entries, int column, const keyset *target, verdict_list *out);

/* Sorts by line; where a line has several verdicts keeps the one with the
 * smallest reason. Cannot fail. */
void verdict_list_finish(verdict_list *l);

void verdict_list_free(verdict_list *l);

#endif
