/* share.c — see share.h. Grouping is by the plan's own reading of each
 * input (extract, key column, carried names), so it needs no second parse
 * of the job files. */
#include "share.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int text_equal(const char *a, const char *b) { return a && b ? !strcmp(a, b) : a == b; }

/* ---- joins ----------------------------------------------------------------- */

static int same_join(const join_plan *a, const join_plan *b) {
    return a->extract == b->extract && a->key_column == b->key_column && a->def->kind == b->def->kind &&
           a->nvalues == b->nvalues && !memcmp(a->value_column, b->value_column, a->nvalues * sizeof *a->value_column) &&
           text_equal(a->def->where.text, b->def->where.text);
}

join_plan *share_canonical_join(join_plan *jp) { return jp->same ? jp->same : jp; }

/* Joins that keep the same rows share the first one's facts: 130 forms
 * with 11 variants of LAB-01 keep the persons rows once, not 11 times. */
static void link_same_joins(run_plan *p) {
    for (size_t r = 0; r < p->nreports; r++)
        for (size_t i = 0; i < p->reports[r].ninputs; i++)
            for (size_t k = 0; k < p->reports[r].inputs[i].njoins; k++) {
                join_plan *jp = &p->reports[r].inputs[i].joins[k];
                jp->users = 1;
                for (size_t r2 = 0; r2 <= r && !jp->same; r2++)
                    for (size_t i2 = 0; i2 < p->reports[r2].ninputs && !jp->same; i2++)
                        for (size_t k2 = 0; k2 < p->reports[r2].inputs[i2].njoins; k2++) {
                            join_plan *q = &p->reports[r2].inputs[i2].joins[k2];
                            if (q == jp) break;
                            if (!q->same && same_join(q, jp)) {
                                jp->same = q, jp->users = 0, q->users++;
                                break;
                            }
                        }
            }
}

/* ---- keyed inputs ------------------------------------------------------------ */

static int lets_equal(const job_input *a, const job_input *b) {
    if (a->nlets != b->nlets) return 0;
    for (size_t l = 0; l < a->nlets; l++)
        if (strcmp(a->lets[l].name, b->lets[l].name) || !text_equal(a->lets[l].expr.text, b->lets[l].expr.text))
            return 0;
    return 1;
}

/* A carried value is one of the input's lets (so its meaning is the input's). */
static int carries_let(const input_plan *ip) {
    for (size_t k = 0; k < ip->ncarried; k++)
        if (ip->row_names.source[ip->carried[k]] == SRC_LET) return 1;
    return 0;
}

static int joins_equal(const input_plan *a, const input_plan *b) {
    if (a->njoins != b->njoins) return 0;
    for (size_t k = 0; k < a->njoins; k++) {
        const job_join *x = a->joins[k].def, *y = b->joins[k].def;
        if (!same_join(&a->joins[k], &b->joins[k]) || strcmp(x->name, y->name) || x->required != y->required) return 0;
    }
    return 1;
}

/* Grouped inputs: member facts are the same only when everything before
 * the entity stage is (rows, lets, joins, grouping, member values). */
static int same_grouping(const input_plan *a, const input_plan *b) {
    const job_group *x = &a->def->group, *y = &b->def->group;
    if (!text_equal(a->def->where.text, b->def->where.text) || !lets_equal(a->def, b->def) || !joins_equal(a, b) ||
        strcmp(x->key, y->key) || strcmp(x->oldest, y->oldest) || strcmp(x->tie, y->tie) || strcmp(x->value, y->value) ||
        !text_equal(x->member_where.text, y->member_where.text) || x->nvalues != y->nvalues)
        return 0;
    for (size_t v = 0; v < x->nvalues; v++)
        if (strcmp(x->values[v].name, y->values[v].name) || x->values[v].kind != y->values[v].kind ||
            !text_equal(x->values[v].expr.text, y->values[v].expr.text))
            return 0;
    return 1;
}

/* The union of the group's carried names and ip's (both ascending), into
 * out. Returns its size, or PLAN_MAX_CARRIED + 1 when it would not fit. */
static size_t carried_union(const fact_group *g, const input_plan *ip, int *out) {
    size_t a = 0, b = 0, n = 0;
    while (a < g->ncarried || b < ip->ncarried) {
        int x = a < g->ncarried ? g->carried[a] : -1, y = b < ip->ncarried ? ip->carried[b] : -1;
        int next = x < 0 ? y : y < 0 ? x : x < y ? x : y;
        a += x == next, b += y == next;
        if (n == PLAN_MAX_CARRIED) return PLAN_MAX_CARRIED + 1;
        out[n++] = next;
    }
    return n;
}

static int fits(const fact_group *g, const input_plan *ip) {
    const input_plan *first = g->members[0];
    if (g->nmembers == FACT_GROUP_MAX_MEMBERS || g->extract != ip->extract || g->key_column != ip->key_column ||
        g->dedupe != ip->dedupe || g->grouped != ip->grouped || first->distinct_only != ip->distinct_only)
        return 0;
    if (g->grouped) return same_grouping(first, ip);
    int lets = carries_let(ip);
    for (size_t m = 0; !lets && m < g->nmembers; m++) lets = carries_let(g->members[m]);
    if (lets && !lets_equal(first->def, ip->def)) return 0; /* the lets' values must mean the same */
    int u[PLAN_MAX_CARRIED];
    return carried_union(g, ip, u) <= PLAN_MAX_CARRIED;
}

static fact_group *new_group(run_plan *p, input_plan *ip) {
    fact_group **grown = realloc(p->groups, (p->ngroups + 1) * sizeof *grown);
    if (!grown) return NULL;
    p->groups = grown;
    fact_group *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    p->groups[p->ngroups++] = g;
    g->extract = ip->extract;
    g->key_column = ip->key_column;
    g->dedupe = ip->dedupe;
    g->grouped = ip->grouped;
    return g;
}

static void join_group(fact_group *g, input_plan *ip) {
    int u[PLAN_MAX_CARRIED];
    size_t n = carried_union(g, ip, u);
    memcpy(g->carried, u, n * sizeof *u);
    g->ncarried = n;
    ip->group = g;
    ip->member_bit = (int)g->nmembers;
    g->members[g->nmembers++] = ip;
    for (size_t k = 0; k < ip->nmeasures; k++) g->by_key |= ip->measures[k].kind == JM_DISTINCT;
}

/* Carried names of a member → its group's columns. */
static void index_group_columns(input_plan *ip) {
    const fact_group *g = ip->group;
    for (size_t i = 0; i < ip->names.count; i++) {
        if (ip->names.source[i] != SRC_CARRIED) continue;
        int row_name = ip->carried[ip->names.index[i]];
        size_t c = 0;
        while (g->carried[c] != row_name) c++;
        ip->names.index[i] = (int)c;
    }
}

static int group_keyed_inputs(run_plan *p) {
    for (size_t r = 0; r < p->nreports; r++)
        for (size_t i = 0; i < p->reports[r].ninputs; i++) {
            input_plan *ip = &p->reports[r].inputs[i];
            if (!ip->keyed) continue;
            fact_group *g = NULL;
            for (size_t k = 0; !g && k < p->ngroups; k++)
                if (fits(p->groups[k], ip)) g = p->groups[k];
            if (!g && !(g = new_group(p, ip))) return -1;
            join_group(g, ip);
        }
    for (size_t k = 0; k < p->ngroups; k++) {
        fact_group *g = p->groups[k];
        g->users = (int)g->nmembers;
        if (facts_init(&g->facts, g->ncarried + (g->nmembers > 1)) ||
            (g->grouped && facts_init(&g->members_of_groups, 4 + g->members[0]->def->group.nvalues)))
            return -1;
        for (size_t m = 0; m < g->nmembers; m++) index_group_columns(g->members[m]);
    }
    return 0;
}

/* ---- memo ids of the row stage ----------------------------------------------- */

/* The distinct keys seen, in order: a key's index is its memo id. */
typedef struct {
    char **keys;
    size_t n, cap;
} key_list;

/* The id of key, a new one when it was not seen; takes key (NULL: out of
 * memory). Returns -1 out of memory. */
static int key_id(key_list *kl, char *key) {
    if (!key) return -1;
    for (size_t i = 0; i < kl->n; i++)
        if (!strcmp(kl->keys[i], key)) return free(key), (int)i;
    if (kl->n == kl->cap) {
        size_t cap = kl->cap ? 2 * kl->cap : 64;
        char **grown = realloc(kl->keys, cap * sizeof *grown);
        if (!grown) return free(key), -1;
        kl->keys = grown;
        kl->cap = cap;
    }
    kl->keys[kl->n] = key;
    return (int)kl->n++;
}

static char *key_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *key_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int rc = vasprintf(&out, fmt, ap);
    va_end(ap);
    return rc < 0 ? NULL : out;
}

/* Whether program p (compiled against ip's names) reads one of ip's lets. */
static int reads_let(const input_plan *ip, const expr_program *p) {
    size_t n;
    const size_t *idx = expr_used_names(p, &n);
    for (size_t i = 0; i < n; i++)
        if (idx[i] < ip->row_names.count && ip->row_names.source[idx[i]] == SRC_LET) return 1;
    return 0;
}

/* What a row-stage program computes over a batch: its extract, its text,
 * and, when it reads lets, the definitions of the first `visible` lets of
 * its input. Equal keys give equal vectors. NULL out of memory. */
static char *program_key(const input_plan *ip, const expr_program *p, const char *text, size_t visible) {
    char *lets = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&lets, &len);
    if (!f) return NULL;
    for (size_t l = 0; reads_let(ip, p) && l < visible; l++)
        fprintf(f, "%s=%s\x1e", ip->def->lets[l].name, ip->def->lets[l].expr.text);
    if (fclose(f)) return free(lets), NULL;
    char *key = key_printf("p%d\x1f%s\x1f%s", ip->extract, lets, text);
    free(lets);
    return key;
}

/* A where that is an `and` chain as its operands, each compiled alone
 * against names with its own memo id; nothing (*n = 0) when it is no
 * chain, or when an operand does not compile alone to a bool (it always
 * does when the whole did). -1 out of memory. */
#define MAX_ATOMS 16
static int where_atoms(key_list *kl, const input_plan *ip, const name_table *names, const char *text,
                       plan_atom **atoms, size_t *n) {
    size_t start[MAX_ATOMS], len[MAX_ATOMS], count = expr_conjuncts(text, start, len, MAX_ATOMS);
    *atoms = NULL, *n = 0;
    if (count < 2) return 0;
    plan_atom *a = calloc(count, sizeof *a);
    if (!a) return -1;
    expr_env env = {names->names, names->count};
    for (size_t k = 0; k < count; k++) {
        char *sub = strndup(text + start[k], len[k]), msg[8];
        a[k].program = sub ? expr_compile(sub, &env, msg, sizeof msg) : NULL;
        int ok = a[k].program && expr_result_type(a[k].program) == EXPR_BOOL;
        a[k].memo = ok ? key_id(kl, program_key(ip, a[k].program, sub, ip->def->nlets)) : -1;
        free(sub);
        if (a[k].memo < 0) {
            for (size_t i = 0; i <= k; i++) expr_free(a[i].program);
            free(a);
            return ok ? -1 : 0; /* out of memory, or keep the where whole */
        }
    }
    *atoms = a, *n = count;
    return 0;
}

/* The value indexes of a dimension: its source's key, and how values map
 * to the report's (bands, or the declared values). */
static char *dim_key(const char *source, const dim_plan *dp) {
    char *map = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&map, &len);
    if (!f) return NULL;
    fputs(dp->edges ? "b" : dp->is_text ? "t" : "e", f);
    for (size_t k = 0; dp->edges && k < dp->nedges; k++) fprintf(f, "%lld,", (long long)dp->edges[k]);
    for (size_t v = 0; !dp->edges && v < dp->nvalues; v++) fprintf(f, "%s\x1e", dp->values[v]);
    if (fclose(f)) return free(map), NULL;
    char *key = key_printf("d%s\x1f%s", source, map);
    free(map);
    return key;
}

static const char *dim_source_text(const input_plan *ip, size_t d) {
    const job *j = ip->report->job;
    for (size_t k = 0; k < ip->def->ndims; k++)
        if (!strcmp(ip->def->dims[k].dim, j->dim_names[d])) return ip->def->dims[k].expr.text;
    return NULL;
}

/* kato, places, dimensions, leaves and measures of an input that adds up
 * at the row stage. */
static int adding_ids(key_list *kl, input_plan *ip) {
    const job *j = ip->report->job;
    size_t nlets = ip->def->nlets;
    char *kato = program_key(ip, ip->kato, ip->def->kato.text, nlets);
    if (!kato || (ip->kato_memo = key_id(kl, key_printf("%s", kato))) < 0 ||
        (ip->place_memo = key_id(kl, key_printf("k%s", kato))) < 0)
        return free(kato), -1;
    free(kato);
    char *leaf = key_printf("l%d", ip->extract);
    for (size_t d = 0; leaf && d < j->ndims; d++) {
        dim_plan *dp = &ip->dims[d];
        const char *text = dim_source_text(ip, d);
        char *source = text && dp->expr ? program_key(ip, dp->expr, text, nlets) : NULL;
        char *index = source ? dim_key(source, dp) : NULL;
        if (!index) return free(source), free(leaf), -1;
        dp->memo = key_id(kl, source);
        if (dp->memo < 0 || (dp->index_memo = key_id(kl, key_printf("%s", index))) < 0)
            return free(index), free(leaf), -1;
        char *longer = key_printf("%s\x1d%s", leaf, index);
        free(index), free(leaf);
        leaf = longer;
    }
    if ((ip->leaf_memo = key_id(kl, leaf)) < 0) return -1;
    for (size_t k = 0; k < ip->nmeasures; k++) {
        measure_plan *mp = &ip->measures[k];
        const job_measure *jm = &j->measures[mp->measure];
        if (mp->kind == JM_DISTINCT) continue; /* counted where the keys meet */
        if (mp->where && (mp->where_memo = key_id(kl, program_key(ip, mp->where, jm->where.text, nlets))) < 0) return -1;
        if (mp->where && where_atoms(kl, ip, &ip->names, jm->where.text, &mp->where_atoms, &mp->nwhere_atoms)) return -1;
        if (mp->value && (mp->value_memo = key_id(kl, program_key(ip, mp->value, jm->value.text, nlets))) < 0) return -1;
    }
    if ((ip->rows_memo = key_id(kl, key_printf("s%d,%d,%d", ip->where_memo, ip->place_memo, ip->leaf_memo))) < 0 ||
        (ip->rejects_memo = key_id(kl, key_printf("r%d,%d,%d", ip->where_memo, ip->place_memo, ip->leaf_memo))) < 0)
        return -1;
    return 0;
}

static int input_ids(key_list *kl, input_plan *ip) {
    size_t nlets = ip->def->nlets;
    ip->where_memo = ip->kato_memo = ip->place_memo = ip->leaf_memo = ip->rows_memo = ip->rejects_memo = -1;
    for (size_t d = 0; d < REPORT_MAX_DIMS; d++) ip->dims[d].memo = ip->dims[d].index_memo = -1;
    for (size_t k = 0; k < ip->nmeasures; k++) ip->measures[k].where_memo = ip->measures[k].value_memo = -1;
    if (!(ip->let_memo = calloc(nlets + 1, sizeof *ip->let_memo))) return -1;
    for (size_t l = 0; l < nlets; l++)
        if ((ip->let_memo[l] = key_id(kl, program_key(ip, ip->lets[l], ip->def->lets[l].expr.text, l))) < 0) return -1;
    if (ip->where && (ip->where_memo = key_id(kl, program_key(ip, ip->where, ip->def->where.text, nlets))) < 0)
        return -1;
    if (ip->where && where_atoms(kl, ip, &ip->row_names, ip->def->where.text, &ip->where_atoms, &ip->nwhere_atoms))
        return -1;
    return ip->keyed && !ip->distinct_only ? 0 : adding_ids(kl, ip);
}

static int memo_ids(run_plan *p) {
    key_list kl = {0};
    int rc = 0;
    for (size_t r = 0; rc == 0 && r < p->nreports; r++)
        for (size_t i = 0; rc == 0 && i < p->reports[r].ninputs; i++) rc = input_ids(&kl, &p->reports[r].inputs[i]);
    /* then the batch's columns widened to int64, per extract */
    size_t next = kl.n;
    if (rc == 0 && !(p->column_memo = calloc(p->schemas->count + 1, sizeof *p->column_memo))) rc = -1;
    for (size_t x = 0; rc == 0 && x < p->schemas->count; x++) {
        p->column_memo[x] = (int)next;
        next += p->schemas->extracts[x].ncolumns;
    }
    p->nmemo = next;
    for (size_t i = 0; i < kl.n; i++) free(kl.keys[i]);
    free(kl.keys);
    return rc;
}

/* ---- tallies -------------------------------------------------------------------- */

static int adds_at_row_stage(const input_plan *ip) { return !ip->keyed || ip->distinct_only; }

/* The next accumulated (not distinct) measure of ip from *k on, or NULL. */
static measure_plan *next_accumulated(input_plan *ip, size_t *k) {
    while (*k < ip->nmeasures && ip->measures[*k].kind == JM_DISTINCT) ++*k;
    return *k < ip->nmeasures ? &ip->measures[(*k)++] : NULL;
}

/* Row-stage inputs that add the same rows (extract and where), at the same
 * places (kato) and leaves (dimensions), to the same measures in order. */
static int adds_alike(input_plan *a, input_plan *b) {
    if (a->extract != b->extract || a->where_memo != b->where_memo || a->place_memo != b->place_memo ||
        a->leaf_memo != b->leaf_memo)
        return 0;
    size_t i = 0, j = 0;
    for (;;) {
        measure_plan *x = next_accumulated(a, &i), *y = next_accumulated(b, &j);
        if (!x || !y) return x == y;
        if (x->kind != y->kind || x->where_memo != y->where_memo || x->value_memo != y->value_memo) return 0;
    }
}

static cube_tally *new_tally(run_plan *p, const input_plan *ip, const measure_plan *mp) {
    cube_tally **grown = realloc(p->tallies, (p->ntallies + 1) * sizeof *grown);
    if (!grown) return NULL;
    p->tallies = grown;
    cube_tally *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    p->tallies[p->ntallies++] = t;
    const job *j = ip->report->job;
    t->nleaves = 1;
    for (size_t d = 0; d < j->ndims; d++) t->nleaves *= j->dim_nvalues[d];
    t->observations = mp->kind != JM_COUNT && mp->kind != JM_SUM;
    return t;
}

static input_plan *earlier_alike(run_plan *p, input_plan *ip) {
    for (size_t r = 0; r < p->nreports; r++)
        for (size_t i = 0; i < p->reports[r].ninputs; i++) {
            input_plan *q = &p->reports[r].inputs[i];
            if (q == ip) return NULL;
            if (adds_at_row_stage(q) && !q->adds_like && adds_alike(q, ip)) return q;
        }
    return NULL;
}

static int give_tallies(run_plan *p) {
    for (size_t r = 0; r < p->nreports; r++)
        for (size_t i = 0; i < p->reports[r].ninputs; i++) {
            input_plan *ip = &p->reports[r].inputs[i], *like = adds_at_row_stage(ip) ? earlier_alike(p, ip) : NULL;
            size_t k = 0, k2 = 0;
            ip->adds_like = like;
            for (measure_plan *mp; (mp = next_accumulated(ip, &k));)
                if (!(mp->tally = like ? next_accumulated(like, &k2)->tally : new_tally(p, ip, mp))) return -1;
        }
    return 0;
}

/* The members of each group by their where (members with one where get
 * their bits at once). Cannot fail. */
static void where_classes(run_plan *p) {
    for (size_t k = 0; k < p->ngroups; k++) {
        fact_group *g = p->groups[k];
        for (size_t m = 0; m < g->nmembers; m++) {
            size_t c = 0;
            while (c < g->nclasses && g->classes[c].where_memo != g->members[m]->where_memo) c++;
            if (c == g->nclasses) g->classes[g->nclasses].where_memo = g->members[m]->where_memo, g->nclasses++;
            g->classes[c].bits |= (int64_t)1 << m;
        }
    }
}

int share_plan(run_plan *p) {
    link_same_joins(p);
    if (group_keyed_inputs(p) || memo_ids(p) || give_tallies(p)) return -1;
    where_classes(p);
    return 0;
}
