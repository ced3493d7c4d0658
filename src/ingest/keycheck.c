/* keycheck.c — see keycheck.h. */
#include "keycheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dist/agree.h"
#include "../dist/shuffle.h"

/* What travels to a key's owner: the pair alone. Its origin rank follows
 * from the line (origin_of), which keeps a national persons extract's
 * exchange at 12 bytes a row. */
typedef key_entry owned_entry;

int key_entries_push(key_entries *e, int64_t key, int64_t line) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4096;
        key_entry *grown = realloc(e->v, cap * sizeof *grown);
        if (!grown) return -1;
        e->v = grown;
        e->cap = cap;
    }
    e->v[e->n++] = (key_entry){(uint32_t)(uint64_t)key, (uint32_t)((uint64_t)key >> 32), (uint32_t)line};
    return 0;
}

void key_entries_free(key_entries *e) {
    free(e->v);
    memset(e, 0, sizeof *e);
}

static int verdict_push(verdict_list *l, late_verdict v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        late_verdict *grown = realloc(l->v, cap * sizeof *grown);
        if (!grown) return -1;
        l->v = grown;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

void verdict_list_free(verdict_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int compare_verdicts(const void *a, const void *b) {
    const late_verdict *x = a, *y = b;
    if (x->line != y->line) return (x->line > y->line) - (x->line < y->line);
    return (x->reason > y->reason) - (x->reason < y->reason);
}

void verdict_list_finish(verdict_list *l) {
    if (l->n == 0) return;
    qsort(l->v, l->n, sizeof *l->v, compare_verdicts);
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (n == 0 || l->v[n - 1].line != l->v[i].line) l->v[n++] = l->v[i];
    l->n = n;
}

static int compare_entries(const void *a, const void *b) {
    int64_t kx = key_entry_key(a), ky = key_entry_key(b), lx = key_entry_line(a), ly = key_entry_line(b);
    if (kx != ky) return (kx > ky) - (kx < ky);
    return (lx > ly) - (lx < ly);
}

/* The keys of got, sorted, and in *dups (sealed) those among them on more
 * than one line (usually none). -1 when out of memory. */
static int sorted_keys(const owned_entry *got, size_t n, int64_t **keys, keyset *dups) {
    *keys = malloc((n ? n : 1) * sizeof **keys);
    if (!*keys) return -1;
    for (size_t i = 0; i < n; i++) (*keys)[i] = key_entry_key(&got[i]);
    sort_int64(*keys, n);
    for (size_t i = 1; i < n; i++) {
        int64_t k = (*keys)[i];
        if (k == (*keys)[i - 1] && (dups->count == 0 || dups->keys[dups->count - 1] != k) && keyset_add(dups, k))
            return -1;
    }
    keyset_seal(dups);
    return 0;
}

/* For every duplicated key the row on the smallest line keeps it and each
 * other row gets a verdict naming that line: which row is "later" needs
 * only the lines of the few duplicated keys, so the national sort is of
 * keys alone (8 bytes, not a 12-byte pair, and no pass over lines). */
static int decide_duplicates(const owned_entry *got, size_t n, const keyset *dups, int column, late_verdict **v,
                             size_t *nv) {
    size_t m = 0;
    for (size_t i = 0; dups->count && i < n; i++) m += keyset_contains(dups, key_entry_key(&got[i]));
    owned_entry *d = malloc((m ? m : 1) * sizeof *d);
    *v = malloc((m ? m : 1) * sizeof **v);
    *nv = 0;
    if (!d || !*v) return free(d), -1;
    m = 0;
    for (size_t i = 0; dups->count && i < n; i++)
        if (keyset_contains(dups, key_entry_key(&got[i]))) d[m++] = got[i];
    qsort(d, m, sizeof *d, compare_entries);
    for (size_t i = 0, keeper = 0; i < m; i++) {
        if (i == 0 || key_entry_key(&d[i]) != key_entry_key(&d[i - 1])) keeper = i;
        else (*v)[(*nv)++] = (late_verdict){key_entry_line(&d[i]), key_entry_line(&d[keeper]), REJ_DUPLICATE_KEY, column};
    }
    free(d);
    return 0;
}

/* The rank whose rows include line: lines of a split extract rise with
 * the rank (shares are cut in rank order), so it is the last rank whose
 * first line is not after it. first[r] is INT64_MAX for a rank without
 * rows. Cannot fail. */
static int32_t origin_of(int64_t line, const int64_t *first, int nranks) {
    for (int r = nranks - 1; r > 0; r--)
        if (first[r] <= line) return r;
    return 0;
}

/* The rank of the last table entry starting at or before line (rank 0
 * before the first). Cannot fail. */
static int32_t owner_of(int64_t line, const line_owners *t) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->first_line[mid] <= line) lo = mid + 1;
        else hi = mid;
    }
    return lo ? t->owner[lo - 1] : 0;
}

/* Two owners: one sweep from both ends swaps the entries on the wrong
 * side, reading memory in order (the general permutation below jumps to a
 * random bucket for every entry: 0.27 s for 15 M pairs, this sweep 0.17 s
 * for 14 M, 20 M persons at -np 2). */
static void split_two_owners(owned_entry *v, size_t n, size_t *count) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        if (key_owner(key_entry_key(&v[lo]), 2) == 0) lo++;
        else if (key_owner(key_entry_key(&v[hi - 1]), 2) == 1) hi--;
        else {
            owned_entry t = v[lo];
            v[lo++] = v[--hi];
            v[hi] = t;
        }
    }
    count[0] = lo, count[1] = n - lo;
}

/* Groups v by owner in place (count[r] entries for rank r, in rank
 * order), each entry moved once or twice: the exchange then sends from v
 * itself, with no second copy of a national persons extract's pairs in
 * memory. -1 when out of memory. */
static int group_by_owner(owned_entry *v, size_t n, int nranks, size_t *count) {
    if (nranks == 2) return split_two_owners(v, n, count), 0;
    size_t *next = calloc((size_t)nranks, sizeof *next), *end = calloc((size_t)nranks, sizeof *end);
    if (!next || !end) return free(next), free(end), -1;
    for (size_t i = 0; i < n; i++) count[key_owner(key_entry_key(&v[i]), nranks)]++;
    size_t at = 0;
    for (int r = 0; r < nranks; r++) next[r] = at, at += count[r], end[r] = at;
    for (int r = 0; r < nranks; r++)
        while (next[r] < end[r]) { /* place the entry found here, and the one it displaces, ... */
            owned_entry e = v[next[r]];
            for (int o = key_owner(key_entry_key(&e), nranks); o != r; o = key_owner(key_entry_key(&e), nranks)) {
                owned_entry displaced = v[next[o]];
                v[next[o]++] = e;
                e = displaced;
            }
            v[next[r]++] = e;
        }
    free(next);
    free(end);
    return 0;
}

/* Every rank's entries sent to their owners; *first (nranks entries, the
 * caller frees; NULL when local) gets every rank's first line. A
 * replicated extract keeps its entries and gets a copy to decide on. */
static int gather_at_owners(MPI_Comm comm, int replicated, key_entries *entries,
                            owned_entry **got, size_t *ngot, int64_t **first) {
    int nranks = 1;
    if (!replicated) MPI_Comm_size(comm, &nranks);
    *first = NULL;
    if (replicated) {
        *ngot = entries->n;
        if (!(*got = malloc((entries->n ? entries->n : 1) * sizeof **got))) return -1;
        memcpy(*got, entries->v, entries->n * sizeof **got);
        return 0;
    }
    if (nranks == 1) { /* every key is ours: the entries are the set */
        *got = entries->v;
        *ngot = entries->n;
        memset(entries, 0, sizeof *entries);
        return 0;
    }
    size_t *per_owner = calloc((size_t)nranks, sizeof *per_owner);
    int failed = !per_owner || !(*first = malloc((size_t)nranks * sizeof **first));
    int64_t mine = INT64_MAX;
    for (size_t i = 0; !failed && i < entries->n; i++)
        if (key_entry_line(&entries->v[i]) < mine) mine = key_entry_line(&entries->v[i]);
    if (!failed) failed = group_by_owner(entries->v, entries->n, nranks, per_owner) != 0;
    failed = !dist_agree(comm, !failed);
    if (!failed) MPI_Allgather(&mine, 1, MPI_INT64_T, *first, 1, MPI_INT64_T, comm);
    void *recv = NULL;
    int rc = failed ? -1 : shuffle_exchange_grouped(comm, sizeof(owned_entry), entries->v, per_owner, &recv, ngot);
    key_entries_free(entries);
    free(per_owner);
    *got = recv;
    return rc;
}

/* Sends verdicts back to the ranks their lines belong to. */
static int return_verdicts(MPI_Comm comm, int replicated, const line_owners *owners, const late_verdict *v,
                           const int64_t *first, size_t n, verdict_list *out) {
    if (replicated) {
        for (size_t i = 0; i < n; i++)
            if (verdict_push(out, v[i])) return -1;
        return 0;
    }
    int nranks;
    MPI_Comm_size(comm, &nranks);
    shuffle sh;
    int failed = shuffle_init(&sh, nranks, sizeof *v) != 0;
    for (size_t i = 0; !failed && i < n; i++) {
        int32_t home = owners ? owner_of(v[i].line, owners) : origin_of(v[i].line, first, nranks);
        failed = shuffle_push(&sh, home, &v[i]) != 0;
    }
    failed = !dist_agree(comm, !failed);
    void *recv = NULL;
    size_t nrecv = 0;
    int rc = failed ? -1 : shuffle_exchange(&sh, comm, &recv, &nrecv);
    shuffle_free(&sh);
    for (size_t i = 0; rc == 0 && i < nrecv; i++) rc = verdict_push(out, ((late_verdict *)recv)[i]);
    free(recv);
    return rc;
}

/* Local verdict buffer, filled by the owner's decisions. */
typedef struct {
    late_verdict *v;
    size_t n;
} decisions;

static int decisions_alloc(decisions *d, size_t n) {
    d->n = 0;
    d->v = malloc((n ? n : 1) * sizeof *d->v);
    return d->v ? 0 : -1;
}

static void decisions_free(decisions *d) { free(d->v); }

int keycheck_duplicates(MPI_Comm comm, int replicated, const line_owners *owners,
                        key_entries *entries, int column, verdict_list *out, keyset *owned) {
    owned_entry *got = NULL;
    int64_t *first = NULL, *keys = NULL;
    keyset dups = {0};
    size_t ngot = 0;
    if (gather_at_owners(comm, replicated, entries, &got, &ngot, &first)) return free(first), -1;
    decisions d = {NULL, 0};
    int failed = sorted_keys(got, ngot, &keys, &dups) != 0;
    if (!failed) failed = decide_duplicates(got, ngot, &dups, column, &d.v, &d.n) != 0;
    free(got);
    keyset_free(&dups);
    if (!failed) failed = keyset_adopt(owned, keys, ngot) != 0;
    else free(keys);
    if (!replicated) failed = !dist_agree(comm, !failed);
    int rc = failed ? -1 : return_verdicts(comm, replicated, owners, d.v, first, d.n, out);
    decisions_free(&d);
    free(first);
    return rc;
}

int keycheck_references(MPI_Comm comm, int target_replicated, const line_owners *owners,
                        key_entries *entries, int column, const keyset *target, verdict_list *out) {
    owned_entry *got = NULL;
    int64_t *first = NULL;
    size_t ngot = 0;
    if (gather_at_owners(comm, target_replicated, entries, &got, &ngot, &first)) return free(first), -1;
    decisions d;
    int failed = decisions_alloc(&d, ngot) != 0;
    for (size_t i = 0; !failed && i < ngot; i++) {
        if (keyset_contains(target, key_entry_key(&got[i]))) continue;
        d.v[d.n++] = (late_verdict){key_entry_line(&got[i]), 0, REJ_UNKNOWN_REFERENCE, column};
    }
    free(got);
    if (!target_replicated) failed = !dist_agree(comm, !failed);
    int rc = failed ? -1 : return_verdicts(comm, target_replicated, owners, d.v, first, d.n, out);
    decisions_free(&d);
    free(first);
    return rc;
}
