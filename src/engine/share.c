/* share.c — see share.h. Grouping is by the plan's own reading of each
 * input (extract, key column, carried names), so it needs no second parse
 * of the job files. */
#include "share.h"

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

int share_plan(run_plan *p) {
    link_same_joins(p);
    return group_keyed_inputs(p);
}
