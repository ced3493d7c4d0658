/* keyed.c — see keyed.h. */
#include "keyed.h"

#include <stdlib.h>
#include <string.h>

#include "../base/keyset.h"
#include "../dist/agree.h"
#include "rows.h"
#include "share.h"

static join_plan *canonical(join_plan *jp) { return share_canonical_join(jp); }

/* Facts an input's keyed stage evaluates at once: the vectors of a chunk
 * (and its programs' own buffers) stay in cache and are allocated once
 * for a chunk, not faulted in for every input over the 1 M payments or
 * 11 M persons a rank holds at national scale. */
enum { FACT_CHUNK = 4096 };

static size_t run_slot(int64_t key, size_t mask) {
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29)) & mask;
}

/* A join's runs of equal keys (its facts are sorted), once for every input
 * that uses it: a hash from key to the run's first row, and for a distinct
 * join the number of distinct values of each run (at its first row). 0,
 * or -1 out of memory. */
static int index_runs(join_plan *j) {
    const fact_table *g = &j->facts;
    if (j->run_at) return 0;
    size_t nslots = 16;
    while (nslots < 2 * g->n + 2) nslots *= 2;
    int distinct = j->def->kind == JOIN_DISTINCT;
    int64_t *tmp = distinct ? malloc((g->n + 1) * sizeof *tmp) : NULL;
    j->run_at = malloc(nslots * sizeof *j->run_at);
    j->run_distinct = distinct ? malloc((g->n + 1) * sizeof *j->run_distinct) : NULL;
    if (!j->run_at || (distinct && (!tmp || !j->run_distinct))) return free(tmp), -1;
    j->run_mask = nslots - 1;
    for (size_t s = 0; s < nslots; s++) j->run_at[s] = SIZE_MAX;
    for (size_t a = 0, b; a < g->n; a = b) {
        size_t m = 0;
        for (b = a; b < g->n && g->key[b] == g->key[a]; b++)
            if (distinct) tmp[m++] = g->col[0][b];
        size_t s = run_slot(g->key[a], j->run_mask);
        while (j->run_at[s] != SIZE_MAX) s = (s + 1) & j->run_mask;
        j->run_at[s] = a;
        if (!distinct) continue;
        sort_int64(tmp, m);
        int64_t count = 0;
        for (size_t i = 0; i < m; i++) count += i == 0 || tmp[i] != tmp[i - 1];
        j->run_distinct[a] = count;
    }
    free(tmp);
    return 0;
}

/* The first row of key's run in join j, or SIZE_MAX when it has none. */
static size_t find_run(const join_plan *j, int64_t key) {
    for (size_t s = run_slot(key, j->run_mask);; s = (s + 1) & j->run_mask) {
        size_t a = j->run_at[s];
        if (a == SIZE_MAX || j->facts.key[a] == key) return a;
    }
}

/* Join outputs for facts [r0, r1) of ip (in any order) from the join
 * facts: out[k][r - r0] is join output k of fact r; no_match[r - r0] is
 * set when a required take-join found nothing. */
static int join_outputs(input_plan *ip, size_t r0, size_t r1, int64_t **out, unsigned char *no_match) {
    const fact_table *f = &ip->group->facts;
    for (size_t k = 0; k < ip->njoins; k++) {
        join_plan *jp = &ip->joins[k], *j = canonical(jp);
        if (index_runs(j)) return -1;
        size_t slot = jp->first_output;
        for (size_t r = r0; r < r1; r++) {
            size_t a = find_run(j, f->key[r]), o = r - r0;
            if (jp->def->kind == JOIN_EXISTS) {
                out[slot][o] = a != SIZE_MAX;
            } else if (jp->def->kind == JOIN_DISTINCT) {
                out[slot][o] = a != SIZE_MAX ? j->run_distinct[a] : 0;
            } else {
                for (size_t v = 0; v < jp->nvalues; v++) out[slot + v][o] = a != SIZE_MAX ? j->facts.col[v][a] : EXPR_NULL;
                if (a == SIZE_MAX && jp->def->required) no_match[o] = 1;
            }
        }
    }
    return 0;
}

/* Binds the names to facts r0 … of f and to the join outputs. */
static void bind_facts(const name_table *names, const fact_table *f, size_t r0, int64_t *const *join_out,
                       expr_input *in) {
    memset(in, 0, names->count * sizeof *in);
    for (size_t i = 0; i < names->count; i++) {
        if (names->source[i] == SRC_CARRIED) in[i].i64 = f->col[names->index[i]] + r0;
        else if (names->source[i] == SRC_JOIN) in[i].i64 = join_out[names->index[i]];
    }
}

/* Distinct measures: per key, each cell counted once. The cell buffer
 * grows with the largest key group, not with the whole table. */
static int count_distinct(report_plan *rp, const input_plan *ip, const int64_t *key, size_t nrows,
                          const row_values *rv, const unsigned char *active) {
    cube *c = &rp->cube;
    int64_t *cells = NULL, *leaves = NULL;
    size_t cap = 0;
    int32_t row_cells[CUBE_MAX_CELLS_PER_ROW];
    int64_t nleaves = (int64_t)c->nleaves;
    for (size_t a = 0, b; a < nrows; a = b) {
        for (b = a; b < nrows && key[b] == key[a]; b++) {}
        size_t need = (b - a) * CUBE_MAX_CELLS_PER_ROW;
        if (need > cap) {
            int64_t *grown = realloc(cells, need * sizeof *grown), *more = grown ? realloc(leaves, need * sizeof *more) : NULL;
            if (grown) cells = grown;
            if (!more) return free(cells), free(leaves), -1;
            leaves = more;
            cap = need;
        }
        for (size_t k = 0; k < ip->nmeasures; k++) {
            const measure_plan *mp = &ip->measures[k];
            if (mp->kind != JM_DISTINCT) continue;
            /* the key's distinct leaf cells first: usually one, whose cells
             * (distinct already) then count once each without a sort */
            size_t nl = 0, n = 0;
            for (size_t r = a; r < b; r++) {
                if ((active && !active[r]) || (rv->mask[k] && !rv->mask[k][r])) continue;
                if (rv->place[r] < 0 || rv->leaf[r] < 0) continue;
                int64_t leaf_cell = rv->place[r] * nleaves + rv->leaf[r];
                if (nl == 0 || leaves[nl - 1] != leaf_cell) leaves[nl++] = leaf_cell;
            }
            if (nl > 1) {
                sort_int64(leaves, nl);
                size_t u = 0;
                for (size_t i = 0; i < nl; i++)
                    if (u == 0 || leaves[i] != leaves[u - 1]) leaves[u++] = leaves[i];
                nl = u;
            }
            for (size_t i = 0; i < nl; i++) {
                size_t m = cube_leaf_cells(c, (int32_t)(leaves[i] / nleaves), (size_t)(leaves[i] % nleaves), row_cells);
                for (size_t j = 0; j < m; j++) cells[n++] = row_cells[j];
            }
            if (nl > 1) sort_int64(cells, n);
            int64_t *acc = c->acc + (size_t)mp->measure * c->ncells;
            for (size_t i = 0; i < n; i++)
                if (i == 0 || cells[i] != cells[i - 1]) acc[cells[i]]++;
        }
    }
    free(cells), free(leaves);
    return 0;
}

/* 0 when an earlier join of ip uses the same facts as join k (copied to
 * every rank once, not twice), else 1. */
static int first_use(input_plan *ip, size_t k) {
    for (size_t q = 0; q < k; q++)
        if (canonical(&ip->joins[q]) == canonical(&ip->joins[k])) return 0;
    return 1;
}

/* Whether a grouped input's facts stay where they were read and its joins
 * come to every rank instead: its members move once anyway, by group key,
 * after the join (build_members), so moving them first by the join key
 * (2 M persons by IIN) only brings them to the join's rows, which are few
 * (a month's ASP payments). Chosen when copying the joins to every rank
 * moves fewer rows than moving the facts once; only for facts that need
 * no cancelling by key (withdrawn members cancel by group key later) and
 * joins not moved yet. The same answer on every rank: the flags are, and
 * the counts are summed. Collective. */
static int joins_come_to_facts(engine *e, input_plan *ip) {
    const fact_group *g = ip->group;
    if (!ip->grouped || !ip->njoins || g->ready || g->by_key || e->nranks == 1) return 0;
    long long n[2] = {(long long)g->facts.n, 0};
    for (size_t k = 0; k < ip->njoins; k++) {
        if (canonical(&ip->joins[k])->ready) return 0;
        if (first_use(ip, k)) n[1] += (long long)canonical(&ip->joins[k])->facts.n;
    }
    MPI_Allreduce(MPI_IN_PLACE, n, 2, MPI_LONG_LONG, MPI_SUM, e->comm);
    return n[1] * e->nranks <= n[0];
}

/* Brings an input's facts (its group's, once for every member) and its
 * joins' facts to their key owners, sorted — or, for a grouped input whose
 * joins are small, the joins to every rank (joins_come_to_facts). */
int keyed_gather(engine *e, input_plan *ip) {
    fact_group *g = ip->group;
    int compacted = !g->ready && g->dedupe ? facts_compact(&g->facts) : 0;
    if (!dist_agree(e->comm, compacted == 0)) return -1;
    int replicate = joins_come_to_facts(e, ip);
    int rc = g->ready || replicate ? 0 : facts_shuffle(&g->facts, e->comm);
    for (size_t k = 0; rc == 0 && k < ip->njoins; k++) {
        fact_table *jf = &canonical(&ip->joins[k])->facts;
        if (canonical(&ip->joins[k])->ready || !first_use(ip, k)) continue;
        rc = replicate ? facts_replicate(jf, e->comm) : facts_shuffle(jf, e->comm);
    }
    int local = rc == 0 && !g->ready && g->by_key ? facts_sort_and_cancel(&g->facts) : 0;
    g->ready = 1;
    for (size_t k = 0; local == 0 && k < ip->njoins; k++) {
        join_plan *j = canonical(&ip->joins[k]);
        if (!j->ready) local = facts_sort_and_cancel(&j->facts), j->ready = 1;
    }
    return dist_agree(e->comm, local == 0) && rc == 0 ? 0 : -1;
}

/* Whether fact r of ip's group is one of ip's rows. */
static int member_row(const input_plan *ip, size_t r) {
    const fact_group *g = ip->group;
    return g->nmembers == 1 || (g->facts.col[g->ncarried][r] >> ip->member_bit & 1);
}

typedef struct {
    int64_t **join_out;
    unsigned char *no_match;
    expr_input *in;
} owner_state;

/* Room for the join outputs of n facts and the names' bindings. */
static int owner_alloc(input_plan *ip, owner_state *os, size_t n) {
    os->join_out = calloc(ip->njoin_outputs + 1, sizeof *os->join_out);
    os->no_match = calloc(n + 1, 1);
    os->in = calloc(ip->names.count + 1, sizeof *os->in);
    if (!os->join_out || !os->no_match || !os->in) return -1;
    for (size_t k = 0; k < ip->njoin_outputs; k++)
        if (!(os->join_out[k] = malloc((n + 1) * sizeof **os->join_out))) return -1;
    return 0;
}


static void owner_release(input_plan *ip, owner_state *os) {
    for (size_t k = 0; os->join_out && k < ip->njoin_outputs; k++) free(os->join_out[k]);
    free(os->join_out), free(os->no_match), free(os->in);
}

/* The end of the chunk of facts from r0: FACT_CHUNK rows, or more to end
 * a run of one key (a key's rows count distinct values together). */
static size_t chunk_end(const fact_table *f, size_t r0) {
    size_t r1 = f->n - r0 < FACT_CHUNK ? f->n : r0 + FACT_CHUNK;
    while (r1 < f->n && f->key[r1] == f->key[r1 - 1]) r1++;
    return r1;
}

/* How an input finds its facts' places and leaves: in the group's
 * owner_places (computed by an earlier member), computed into them for
 * the members after it, or computed for itself alone. */
enum { PLACES_OWN, PLACES_FILL, PLACES_READ };

/* Which of the three for ip: the group's places are read when an earlier
 * member with the same kato and dimensions filled them; filled (room for
 * every fact taken) when none are kept and members follow. 0, or -1 out
 * of memory. */
static int places_mode(input_plan *ip, int *mode) {
    fact_group *g = ip->group;
    owner_places *op = &g->places;
    int known = ip->place_memo >= 0 && ip->leaf_memo >= 0;
    *mode = PLACES_OWN;
    if (known && op->ready && op->place_memo == ip->place_memo && op->leaf_memo == ip->leaf_memo) *mode = PLACES_READ;
    if (!known || op->place || g->users < 2) return 0;
    size_t n = g->facts.n + 1;
    if (!(op->place = malloc(n * sizeof *op->place)) || !(op->leaf = malloc(n * sizeof *op->leaf))) return -1;
    op->place_memo = ip->place_memo, op->leaf_memo = ip->leaf_memo;
    *mode = PLACES_FILL;
    return 0;
}

/* Facts [r0, r1) of ip at the key owner (os, active: room for them): the
 * rows of a required join without a match rejected, the others added
 * up and their distinct values counted. 0, or -1 out of memory. */
static int keyed_chunk(engine *e, input_plan *ip, size_t r0, size_t r1, int mode, owner_state *os, scratch *s,
                       unsigned char *active) {
    report_plan *rp = ip->report;
    const fact_table *f = &ip->group->facts;
    const owner_places *op = &ip->group->places;
    size_t n = r1 - r0;
    row_values rv;
    memset(os->no_match, 0, n);
    if (join_outputs(ip, r0, r1, os->join_out, os->no_match)) return -1;
    bind_facts(&ip->names, f, r0, os->join_out, os->in);
    int64_t *place = mode == PLACES_OWN ? scratch_vec(s, 0, n) : op->place + r0,
            *leaf = mode == PLACES_OWN ? scratch_vec(s, 1, n) : op->leaf + r0;
    if (!place || !leaf || (mode != PLACES_READ && rows_places_at_owner(e, ip, os->in, n, s, place, leaf)) ||
        rows_measures_at_owner(ip, os->in, n, ip->distinct_only, s, &rv))
        return -1;
    rv.place = place, rv.leaf = leaf;
    for (size_t i = 0; i < n; i++) {
        int member = member_row(ip, r0 + i);
        active[i] = member && !os->no_match[i];
        if (member && os->no_match[i] &&
            rows_reject(rp, ip->extract, f->line[r0 + i], f->sign[r0 + i], REPORT_REJECT_NO_MATCH))
            return -1;
    }
    /* distinct-only inputs added everything else at the row stage */
    if (!ip->distinct_only && rows_accumulate(rp, ip, n, &rv, f->sign + r0, f->line + r0, active)) return -1;
    return count_distinct(rp, ip, f->key + r0, n, &rv, active);
}

/* ip's facts at the key owner, chunk by chunk. A reject's place among the
 * report's rejects does not matter: the reduction sorts them. */
static int keyed_input(engine *e, input_plan *ip) {
    const fact_table *f = &ip->group->facts;
    owner_state os = {0};
    scratch s = {0};
    size_t most = 0;
    for (size_t r0 = 0, r1; r0 < f->n; r0 = r1) {
        r1 = chunk_end(f, r0);
        if (r1 - r0 > most) most = r1 - r0;
    }
    unsigned char *active = malloc(most + 1);
    int mode;
    int rc = active && !owner_alloc(ip, &os, most) && !places_mode(ip, &mode) ? 0 : -1;
    for (size_t r0 = 0, r1; rc == 0 && r0 < f->n; r0 = r1) {
        r1 = chunk_end(f, r0);
        rc = keyed_chunk(e, ip, r0, r1, mode, &os, &s, active);
    }
    if (rc == 0 && mode == PLACES_FILL) ip->group->places.ready = 1;
    free(active);
    scratch_free(&s);
    owner_release(ip, &os);
    return rc;
}

/* ---- grouped inputs (households) ----------------------------------------- */

/* Member facts: key = group key, line, sign, then these columns. */
enum { M_OLDEST, M_TIE, M_VALUE, M_ELIGIBLE, M_VALUES };

/* Member rows before they are folded: vectors over the group's facts. */
typedef struct {
    const int64_t *key, *line;
    const int8_t *sign;
    int64_t *const *col; /* M_VALUES + the group values */
} member_rows;

/* Whether row r of these member columns may give its group's territory. */
static int eligible(int64_t *const *col, size_t r) {
    return col[M_ELIGIBLE][r] == 1 && col[M_OLDEST][r] != EXPR_NULL;
}

/* Whether member r gives the territory before folded row g: the older,
 * then the smaller tie, then the smaller line — the member build_entities
 * picks, since it meets rows in line order and keeps the first of equals. */
static int older(const member_rows *src, size_t r, const fact_table *m, size_t g) {
    if (src->col[M_OLDEST][r] != m->col[M_OLDEST][g]) return src->col[M_OLDEST][r] < m->col[M_OLDEST][g];
    if (src->col[M_TIE][r] != m->col[M_TIE][g]) return src->col[M_TIE][r] < m->col[M_TIE][g];
    return src->line[r] < m->line[g];
}

/* Untakes each withdrawn member row (−1) with the accepted row it
 * withdraws (same key and line), as facts_sort_and_cancel would at the
 * owner: the reader withdraws only rows it delivered itself, and both
 * were moved by the same key, so every pair is on one rank. A withdrawal
 * without its row stays, as it would. 0, or -1 out of memory. */
static int cancel_local(const member_rows *src, unsigned char *take, size_t n) {
    size_t nw = 0, nslots = 16;
    for (size_t r = 0; r < n; r++) nw += take[r] && src->sign[r] < 0;
    if (nw == 0) return 0;
    while (nslots < 2 * nw) nslots *= 2;
    size_t *slot = malloc(nslots * sizeof *slot), mask = nslots - 1;
    if (!slot) return -1;
    for (size_t s = 0; s < nslots; s++) slot[s] = SIZE_MAX;
    for (size_t r = 0; r < n; r++) {
        if (!take[r] || src->sign[r] >= 0) continue;
        size_t s = run_slot(src->line[r], mask);
        while (slot[s] != SIZE_MAX) s = (s + 1) & mask;
        slot[s] = r;
    }
    for (size_t r = 0; r < n; r++) {
        if (!take[r] || src->sign[r] < 0) continue;
        for (size_t s = run_slot(src->line[r], mask); slot[s] != SIZE_MAX; s = (s + 1) & mask) {
            size_t w = slot[s];
            if (!take[w] || src->line[w] != src->line[r] || src->key[w] != src->key[r]) continue;
            take[w] = take[r] = 0;
            break;
        }
    }
    free(slot);
    return 0;
}

/* Member r folded into folded row g of its group. */
static void fold_member(fact_table *m, const job_group *def, size_t g, const member_rows *src, size_t r) {
    for (size_t v = 0; v < def->nvalues; v++) {
        int64_t *x = &m->col[M_VALUES + v][g], y = src->col[M_VALUES + v][r] == 1;
        *x = def->values[v].kind == GROUP_COUNT ? *x + y : (*x | y);
    }
    if (eligible(src->col, r) && (!eligible(m->col, g) || older(src, r, m, g))) {
        for (int c = M_OLDEST; c <= M_ELIGIBLE; c++) m->col[c][g] = src->col[c][r];
        m->line[g] = src->line[r];
    } else if (!eligible(m->col, g) && src->line[r] < m->line[g]) {
        m->line[g] = src->line[r];
    }
}

/* Member r as a new folded row (room was reserved). */
static void start_group(fact_table *m, const job_group *def, const member_rows *src, size_t r) {
    size_t g = m->n++;
    m->key[g] = src->key[r], m->line[g] = src->line[r], m->sign[g] = 1;
    for (size_t c = 0; c < M_VALUES; c++) m->col[c][g] = src->col[c][r];
    for (size_t v = 0; v < def->nvalues; v++) m->col[M_VALUES + v][g] = src->col[M_VALUES + v][r] == 1;
}

/* The taken member rows of one chunk (src, take: n rows) into m, one row
 * per run of one group, before they move: registries list a household's
 * members together, so a household is many rows and one run (a registry
 * in another order folds less, never wrongly); a run continues from the
 * previous chunk's last folded row. A folded row holds the group values
 * added up (a count: how many members; any: whether one) and the member
 * that would give the territory — or, when none may, the smallest line —
 * with its line. build_entities combines folded rows exactly as it
 * combined members, whichever rows of a group were folded together, so
 * the entities are the same. Folded rows are accepted ones (sign +1);
 * withdrawn rows were untaken with their originals (cancel_withdrawn).
 * Room for every row was reserved, but only folded rows are written, so
 * the pages reserved for the rest are never touched. Cannot fail. */
static void fold_members(fact_table *m, const job_group *def, const member_rows *src, const unsigned char *take,
                         size_t n) {
    for (size_t r = 0; r < n; r++) {
        if (!take[r]) continue;
        if (m->n > 0 && m->key[m->n - 1] == src->key[r]) fold_member(m, def, m->n - 1, src, r);
        else start_group(m, def, src, r);
    }
}

/* The member key of facts [r0, r1) of ip's group into s's slot 0 (*key),
 * and unless key_only the member columns into slots 1 … (cols: M_VALUES
 * + the group values), over the chunk's join outputs (os: room for a
 * chunk). 0, or -1 out of memory. */
static int member_chunk(input_plan *ip, size_t r0, size_t r1, int key_only, owner_state *os, scratch *s,
                        int64_t **key, int64_t **cols) {
    const fact_table *f = &ip->group->facts;
    size_t n = r1 - r0, nv = ip->def->group.nvalues;
    expr_program *progs[M_VALUES] = {ip->member_oldest, ip->member_tie, ip->member_value, ip->member_where};
    if (join_outputs(ip, r0, r1, os->join_out, os->no_match)) return -1;
    bind_facts(&ip->names, f, r0, os->join_out, os->in);
    if (!(*key = scratch_vec(s, 0, n)) || rows_eval(ip->member_key, os->in, n, *key)) return -1;
    for (size_t c = 0; !key_only && c < M_VALUES + nv; c++) {
        if (!(cols[c] = scratch_vec(s, 1 + c, n))) return -1;
        if (c == M_ELIGIBLE && !ip->member_where) for (size_t r = 0; r < n; r++) cols[c][r] = 1;
        else if (rows_eval(c < M_VALUES ? progs[c] : ip->member_values[c - M_VALUES], os->in, n, cols[c])) return -1;
    }
    return 0;
}

/* take[r] for facts [r0, r1) of ip's group (key: their member keys from
 * r0 on): one of ip's rows, with a key. Cannot fail. */
static void take_rows(const input_plan *ip, const int64_t *key, size_t r0, size_t r1, unsigned char *take) {
    for (size_t r = r0; r < r1; r++) take[r] = key[r - r0] != EXPR_NULL && member_row(ip, r);
}

/* When some facts of ip's group are withdrawn rows: take[] for every fact,
 * with each withdrawn row untaken with its original (cancel_local over
 * the member keys of all facts, evaluated chunk by chunk); *done = 1.
 * Otherwise nothing (*done = 0): no row cancels, and the caller takes rows
 * chunk by chunk. 0, or -1 out of memory. */
static int cancel_withdrawn(input_plan *ip, owner_state *os, scratch *s, unsigned char *take, int *done) {
    const fact_table *f = &ip->group->facts;
    size_t n = f->n, withdrawn = 0;
    for (size_t r = 0; r < n; r++) withdrawn += f->sign[r] < 0;
    *done = withdrawn > 0;
    if (!withdrawn) return 0;
    int64_t *all = malloc((n + 1) * sizeof *all), *key;
    int rc = all ? 0 : -1;
    for (size_t r0 = 0; rc == 0 && r0 < n; r0 += FACT_CHUNK) {
        size_t r1 = n - r0 < FACT_CHUNK ? n : r0 + FACT_CHUNK;
        rc = member_chunk(ip, r0, r1, 1, os, s, &key, NULL);
        if (rc == 0) memcpy(all + r0, key, (r1 - r0) * sizeof *key), take_rows(ip, key, r0, r1, take);
    }
    member_rows src = {all, f->line, f->sign, NULL};
    if (rc == 0) rc = cancel_local(&src, take, n);
    free(all);
    return rc;
}

/* A rank's folded member keys: whether strictly ascending, whether any,
 * and their range — int64 each, gathered from every rank. */
typedef struct {
    int64_t ascending, any, lo, hi;
} key_range;

typedef struct {
    const key_range *ranges;
    int nranks, me;
} holders;

/* Whether no key lies inside one rank's range and in another's, but for
 * the ends two ranges share (a household whose members two ranks read):
 * then every other key is on one rank only. */
static int ranges_apart(const key_range *r, int nranks) {
    for (int i = 0; i < nranks; i++) {
        if (!r[i].any) continue;
        if (!r[i].ascending) return 0;
        for (int j = i + 1; j < nranks; j++)
            if (r[j].any && r[i].hi > r[j].lo && r[j].hi > r[i].lo) return 0;
    }
    return 1;
}

/* Where a folded row goes when the ranges are apart: a first or last row
 * to the lowest rank whose range holds its key (itself, unless the key is
 * shared), every other row nowhere. */
static int shared_end_owner(const void *ctx, const fact_table *m, size_t row) {
    const holders *h = ctx;
    if (row != 0 && row + 1 != m->n) return h->me;
    for (int q = 0; q < h->nranks; q++)
        if (h->ranges[q].any && h->ranges[q].lo <= m->key[row] && m->key[row] <= h->ranges[q].hi) return q;
    return h->me;
}

/* Brings all folded rows of a group to one rank. Registries list a
 * household's members together and households in order, and each rank
 * reads one stretch of the file: then each rank's folded keys ascend and
 * its range meets another's at most at a shared end, so only those end
 * rows move (to the lowest rank holding the key) — not the 2.8 M folded
 * rows per rank a move by key owner sends at 20 M persons. Otherwise
 * every row goes to its key owner. Where a group's entity is then built
 * does not change the tables: the reduction sums every rank's cells and
 * sorts the observations and rejects it gathers. Collective; 0, or -1
 * out of memory (all ranks). */
static int members_to_owners(engine *e, fact_table *m) {
    key_range mine = {1, m->n > 0, m->n ? m->key[0] : 0, m->n ? m->key[m->n - 1] : 0};
    for (size_t i = 1; i < m->n && mine.ascending; i++) mine.ascending = m->key[i - 1] < m->key[i];
    key_range *all = malloc((size_t)e->nranks * sizeof *all);
    if (!dist_agree(e->comm, all != NULL)) return free(all), -1;
    MPI_Allgather(&mine, 4, MPI_INT64_T, all, 4, MPI_INT64_T, e->comm);
    holders h = {all, e->nranks, e->rank};
    int rc = ranges_apart(all, e->nranks) ? facts_shuffle_to(m, e->comm, shared_end_owner, &h) : facts_shuffle(m, e->comm);
    free(all);
    return rc;
}

/* Member rows → member facts keyed by the group key: oldest, tie, value,
 * eligible, then one column per group value; evaluated and folded on
 * this rank chunk by chunk (fold_members), each group's rows brought to
 * one rank (members_to_owners), sorted. */
static int build_members(engine *e, input_plan *ip) {
    fact_group *grp = ip->group;
    if (grp->members_built) return 0; /* an identical input built them */
    fact_table *f = &grp->facts, *members = &grp->members_of_groups;
    owner_state os = {0};
    scratch s = {0};
    size_t n = f->n;
    int64_t *key, *cols[M_VALUES + JOB_MAX_GROUP_VALUES];
    unsigned char *take = malloc(n + 1);
    int taken = 0;
    int rc = take && !owner_alloc(ip, &os, FACT_CHUNK) && !facts_reserve(members, n) ? 0 : -1;
    if (rc == 0) rc = cancel_withdrawn(ip, &os, &s, take, &taken);
    for (size_t r0 = 0; rc == 0 && r0 < n; r0 += FACT_CHUNK) {
        size_t r1 = n - r0 < FACT_CHUNK ? n : r0 + FACT_CHUNK;
        if ((rc = member_chunk(ip, r0, r1, 0, &os, &s, &key, cols))) break;
        if (!taken) take_rows(ip, key, r0, r1, take);
        member_rows src = {key, f->line + r0, f->sign + r0, cols};
        fold_members(members, &ip->def->group, &src, take + r0, r1 - r0);
    }
    free(take);
    scratch_free(&s);
    owner_release(ip, &os);
    if (!dist_agree(e->comm, rc == 0)) return -1;
    /* without joins the rows were already partitioned by the group key */
    if (ip->njoins && members_to_owners(e, members)) return -1;
    grp->members_built = 1;
    facts_free(f); /* every member of the group reads the member facts now */
    return facts_sort_and_cancel(members);
}

/* The entity names bound to the group's entity values (calloc'd; NULL out
 * of memory). */
static expr_input *entity_inputs(const input_plan *ip) {
    expr_input *in = calloc(ip->entity_names.count + 1, sizeof *in);
    for (size_t i = 0; in && i < ip->entity_names.count; i++)
        if (ip->entity_names.source[i] == SRC_GROUP) in[i].i64 = ip->group->entities.values[ip->entity_names.index[i]];
    return in;
}

/* One entity per group: its values, and the territory and line of its
 * oldest eligible member (tie: the smaller `tie` value), whether it passes
 * the entity where; built once for the members of the fact group (the
 * same input). 0, or -1 out of memory. */
static int build_entities(engine *e, input_plan *ip) {
    group_entities *en = &ip->group->entities;
    if (en->built) return 0;
    const fact_table *m = &ip->group->members_of_groups;
    size_t nv = ip->def->group.nvalues, ng = 0;
    for (size_t i = 0; i < m->n; i++) ng += i == 0 || m->key[i] != m->key[i - 1];
    scratch s = {0};
    int64_t *kato = scratch_vec(&s, 0, ng), *where = NULL;
    en->n = ng;
    en->place = malloc((ng + 1) * sizeof *en->place), en->leaf = calloc(ng + 1, sizeof *en->leaf);
    en->line = malloc((ng + 1) * sizeof *en->line), en->sign = malloc((ng + 1) * sizeof *en->sign);
    en->active = malloc(ng + 1);
    int rc = kato && en->place && en->leaf && en->line && en->sign && en->active ? 0 : -1;
    for (size_t v = 0; rc == 0 && v < nv; v++) rc = (en->values[v] = malloc((ng + 1) * sizeof **en->values)) ? 0 : -1;
    int64_t **gv = en->values;
    size_t g = 0;
    for (size_t a = 0, b; rc == 0 && a < m->n; a = b, g++) {
        long best = -1;
        for (size_t v = 0; v < nv; v++) gv[v][g] = 0;
        for (b = a; b < m->n && m->key[b] == m->key[a]; b++) {
            for (size_t v = 0; v < nv; v++) { /* folded rows: a count, or 0/1 (fold_members) */
                int64_t x = m->col[M_VALUES + v][b];
                gv[v][g] = ip->def->group.values[v].kind == GROUP_COUNT ? gv[v][g] + x : (gv[v][g] | (x != 0));
            }
            if (m->col[3][b] != 1 || m->col[0][b] == EXPR_NULL) continue;
            if (best < 0 || m->col[0][b] < m->col[0][best] ||
                (m->col[0][b] == m->col[0][best] && m->col[1][b] < m->col[1][best]))
                best = (long)b;
        }
        kato[g] = best < 0 ? EXPR_NULL : m->col[2][best];
        en->line[g] = best < 0 ? m->line[a] : m->line[best];
        en->sign[g] = 1;
    }
    /* the entity where over the entity names */
    expr_input *in = rc == 0 ? entity_inputs(ip) : NULL;
    if (rc == 0 && !in) rc = -1;
    if (rc == 0 && ip->entity_where && (!(where = scratch_vec(&s, 1, ng)) || rows_eval(ip->entity_where, in, ng, where)))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < ng; i++) en->active[i] = !where || where[i];
    /* an entity lands on its oldest member's place */
    if (rc == 0) rows_places(&e->terr, kato, ng, en->place);
    free(in);
    scratch_free(&s);
    en->built = rc == 0;
    return rc;
}

/* The measures of a grouped input over its group's entities, at the first
 * value of every dimension (a grouped input gives none). */
static int group_stage(engine *e, input_plan *ip) {
    if (build_members(e, ip) || build_entities(e, ip)) return -1;
    const group_entities *en = &ip->group->entities;
    size_t ng = en->n;
    scratch s = {0};
    expr_input *in = entity_inputs(ip);
    int rc = in ? 0 : -1;
    row_values rv = {en->place, en->leaf, {0}, {0}};
    for (size_t k = 0; rc == 0 && k < ip->nmeasures; k++) {
        int64_t *mask = NULL, *value = NULL;
        if (ip->measures[k].where && (!(mask = scratch_vec(&s, 2 * k, ng)) || rows_eval(ip->measures[k].where, in, ng, mask)))
            rc = -1;
        if (rc == 0 && ip->measures[k].value &&
            (!(value = scratch_vec(&s, 2 * k + 1, ng)) || rows_eval(ip->measures[k].value, in, ng, value)))
            rc = -1;
        rv.mask[k] = mask, rv.value[k] = value;
    }
    if (rc == 0) rc = rows_accumulate(ip->report, ip, ng, &rv, en->sign, en->line, en->active);
    free(in);
    scratch_free(&s);
    return rc;
}

int keyed_run(engine *e, input_plan *ip) { return ip->grouped ? group_stage(e, ip) : keyed_input(e, ip); }

void keyed_release(input_plan *ip) {
    if (--ip->group->users == 0) {
        facts_free(&ip->group->facts), facts_free(&ip->group->members_of_groups);
        group_entities_free(&ip->group->entities);
        free(ip->group->places.place), free(ip->group->places.leaf);
        memset(&ip->group->places, 0, sizeof ip->group->places);
    }
    for (size_t k = 0; k < ip->njoins; k++) {
        join_plan *j = canonical(&ip->joins[k]);
        if (--j->users > 0) continue;
        facts_free(&j->facts);
        free(j->run_distinct), free(j->run_at);
        j->run_distinct = NULL, j->run_at = NULL;
    }
}
