/* plan.c — see plan.h. Every expression is compiled here, once, and its
 * errors are reported at the expression's place in its job file. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- name tables ---------------------------------------------------- */

static int names_add(name_table *t, const char *name, expr_type type, const char *const *values,
                     size_t nvalues, name_source src, int index, int64_t constant) {
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        expr_name *n = realloc(t->names, cap * sizeof *n);
        name_source *s = n ? realloc(t->source, cap * sizeof *s) : NULL;
        int *ix = s ? realloc(t->index, cap * sizeof *ix) : NULL;
        if (n) t->names = n;
        if (s) t->source = s;
        if (!n || !s || !ix) return -1;
        t->index = ix;
        t->cap = cap;
    }
    t->names[t->count] = (expr_name){name, type, values, nvalues, src == SRC_CONST, constant};
    t->source[t->count] = src;
    t->index[t->count++] = index;
    return 0;
}

static void names_free(name_table *t) {
    for (size_t i = 0; i < t->nowned; i++) free(t->owned[i]);
    free(t->names), free(t->source), free(t->index);
    memset(t, 0, sizeof *t);
}

int names_find(const name_table *t, const char *name) {
    for (size_t i = 0; i < t->count; i++)
        if (!strcmp(t->names[i].name, name)) return (int)i;
    return -1;
}

static expr_type type_of_column(const schema_column *c) {
    switch (c->type) {
    case COL_DATE: return EXPR_DATE;
    case COL_MONTH: return EXPR_MONTH;
    case COL_MONEY: return EXPR_MONEY;
    case COL_ENUM: return EXPR_ENUM;
    case COL_TEXT: return EXPR_TEXT;
    default: return EXPR_INT; /* iin, kato, katocode, int */
    }
}

/* The columns of an extract and the constants S and E. */
static int row_names_for(name_table *t, const schema_extract *ext, const period *per) {
    for (size_t c = 0; c < ext->ncolumns; c++) {
        const schema_column *col = &ext->columns[c];
        if (names_add(t, col->name, type_of_column(col), (const char *const *)col->values, col->nvalues,
                      SRC_COLUMN, (int)c, 0))
            return -1;
    }
    if (names_add(t, "S", EXPR_DATE, NULL, 0, SRC_CONST, -1, per->start)) return -1;
    return names_add(t, "E", EXPR_DATE, NULL, 0, SRC_CONST, -1, per->end);
}

/* ---- compiling with located errors ---------------------------------- */

static expr_program *compile(const job_expr *e, const name_table *t, int want_type, const char *what,
                             char *err, size_t errlen) {
    char msg[400];
    expr_env env = {t->names, t->count};
    expr_program *p = expr_compile(e->text, &env, msg, sizeof msg);
    if (!p) {
        int offset = 0;
        sscanf(msg, "column %d", &offset);
        job_expr_error(e, offset, msg, err, errlen);
        return NULL;
    }
    if (want_type >= 0 && expr_result_type(p) != (expr_type)want_type) {
        static const char *const tn[] = {"bool", "int", "money", "date", "month", "enum", "text"};
        snprintf(msg, sizeof msg, "%s must be a %s expression, this one is %s", what, tn[want_type],
                 tn[expr_result_type(p)]);
        job_expr_error(e, 1, msg, err, errlen);
        expr_free(p);
        return NULL;
    }
    return p;
}

static int fail_at(const job_expr *e, char *err, size_t errlen, const char *fmt, const char *arg) {
    char msg[300];
    snprintf(msg, sizeof msg, fmt, arg);
    return job_expr_error(e, 1, msg, err, errlen);
}

/* ---- inputs ----------------------------------------------------------- */

typedef struct {
    const schema_set *schemas;
    const period *per;
    char *err;
    size_t errlen;
} planner;

static int plan_lets(planner *pl, input_plan *ip) {
    const job_input *in = ip->def;
    if (in->nlets && !(ip->lets = calloc(in->nlets, sizeof *ip->lets))) return -1;
    for (size_t l = 0; l < in->nlets; l++) {
        if (!(ip->lets[l] = compile(&in->lets[l].expr, &ip->row_names, -1, "let", pl->err, pl->errlen))) return -1;
        expr_type t = expr_result_type(ip->lets[l]);
        if (t == EXPR_TEXT || t == EXPR_ENUM)
            return fail_at(&in->lets[l].expr, pl->err, pl->errlen, "let '%s' must give a bool, int, money, date or month", in->lets[l].name);
        if (names_add(&ip->row_names, in->lets[l].name, t, NULL, 0, SRC_LET, (int)l, 0)) return -1;
    }
    return 0;
}

/* The extract column used as a key: an int64 column (iin, int, katocode). */
static int key_column_of(planner *pl, const schema_extract *ext, const char *name, const job_expr *where) {
    int c = schema_find_column(ext, name);
    if (c < 0 || (ext->columns[c].type != COL_IIN && ext->columns[c].type != COL_INT && ext->columns[c].type != COL_KATOCODE)) {
        char msg[200];
        snprintf(msg, sizeof msg, "'%s' is not an iin/int column of %s", name, ext->name);
        job_expr_error(where, 1, msg, pl->err, pl->errlen);
        return -1;
    }
    return c;
}

static int plan_join(planner *pl, input_plan *ip, size_t k) {
    const job_join *jd = &ip->def->joins[k];
    join_plan *jp = &ip->joins[k];
    jp->def = jd;
    jp->extract = schema_find_extract(pl->schemas, jd->extract);
    job_expr at = {NULL, ip->def->where.path, 0, 0, 0};
    at.path = ip->report->job->path;
    if (jp->extract < 0) return fail_at(&at, pl->err, pl->errlen, "join: no extract '%s'", jd->extract);
    const schema_extract *ext = &pl->schemas->extracts[jp->extract];
    if (row_names_for(&jp->row_names, ext, pl->per)) return -1;
    if (jd->where.text && !(jp->where = compile(&jd->where, &jp->row_names, EXPR_BOOL, "join where", pl->err, pl->errlen)))
        return -1;
    if ((jp->key_column = key_column_of(pl, ext, jd->on, &at)) < 0) return -1;
    const char *const *cols = jd->kind == JOIN_TAKE ? (const char *const *)jd->take : (const char *const *)&jd->distinct;
    jp->nvalues = jd->kind == JOIN_TAKE ? jd->ntake : jd->kind == JOIN_DISTINCT ? 1 : 0;
    if (jp->nvalues > 16) return fail_at(&at, pl->err, pl->errlen, "join '%s' takes more than 16 columns", jd->name);
    jp->first_output = ip->njoin_outputs;
    for (size_t v = 0; v < jp->nvalues; v++) {
        int c = schema_find_column(ext, cols[v]);
        if (c < 0 || ext->columns[c].type == COL_TEXT)
            return fail_at(&at, pl->err, pl->errlen, "join: '%s' is not a non-text column of the joined extract", cols[v]);
        jp->value_column[v] = c;
    }
    if (jd->kind == JOIN_TAKE) {
        for (size_t v = 0; v < jp->nvalues; v++) {
            const schema_column *col = &ext->columns[jp->value_column[v]];
            char *qualified = malloc(strlen(jd->name) + strlen(col->name) + 2);
            if (!qualified || ip->names.nowned == sizeof ip->names.owned / sizeof *ip->names.owned) {
                free(qualified);
                return -1;
            }
            sprintf(qualified, "%s.%s", jd->name, col->name);
            ip->names.owned[ip->names.nowned++] = qualified;
            if (names_add(&ip->names, qualified, type_of_column(col), (const char *const *)col->values,
                          col->nvalues, SRC_JOIN, (int)ip->njoin_outputs++, 0))
                return -1;
        }
    } else if (names_add(&ip->names, jd->name, jd->kind == JOIN_EXISTS ? EXPR_BOOL : EXPR_INT, NULL, 0, SRC_JOIN,
                         (int)ip->njoin_outputs++, 0)) {
        return -1;
    }
    return facts_init(&jp->facts, jp->nvalues);
}

static int plan_dims(planner *pl, input_plan *ip) {
    const job *j = ip->report->job;
    const job_input *in = ip->def;
    for (size_t k = 0; k < in->ndims; k++) {
        const job_dim_source *ds = &in->dims[k];
        size_t d = 0;
        while (strcmp(j->dim_names[d], ds->dim)) d++;
        dim_plan *dp = &ip->dims[d];
        dp->values = j->dim_values[d];
        dp->nvalues = j->dim_nvalues[d];
        if (!(dp->expr = compile(&ds->expr, &ip->names, ds->edges ? EXPR_INT : -1, "a band source", pl->err, pl->errlen)))
            return -1;
        dp->edges = ds->edges;
        dp->nedges = ds->nedges;
        if (ds->edges) continue;
        expr_type t = expr_result_type(dp->expr);
        dp->is_text = t == EXPR_TEXT;
        if (t == EXPR_TEXT && ip->keyed)
            return fail_at(&ds->expr, pl->err, pl->errlen, "dimension '%s': a text value cannot cross ranks; use an enum column", ds->dim);
        if (t != EXPR_ENUM && t != EXPR_TEXT)
            return fail_at(&ds->expr, pl->err, pl->errlen, "dimension '%s' takes an enum or text value (or bands)", ds->dim);
        int named = names_find(&ip->names, ds->expr.text);
        if (t == EXPR_TEXT) {
            if (named < 0 || ip->names.source[named] != SRC_COLUMN)
                return fail_at(&ds->expr, pl->err, pl->errlen, "dimension '%s': name a text column", ds->dim);
            dp->text_column = ip->names.index[named];
            continue;
        }
        /* the enum's values by name: which name does the expression give? the column's */
        int col = names_find(&ip->names, ds->expr.text);
        if (col < 0) return fail_at(&ds->expr, pl->err, pl->errlen, "dimension '%s': name an enum column", ds->dim);
        const expr_name *en = &ip->names.names[col];
        for (size_t v = 0; v < en->nenum && v < SCHEMA_MAX_ENUM; v++) {
            dp->enum_map[v] = -1;
            for (size_t w = 0; w < dp->nvalues; w++)
                if (!strcmp(en->enum_values[v], dp->values[w])) dp->enum_map[v] = (int)w;
        }
    }
    return 0;
}

/* Measures over this input, compiled against `names` (or, grouped, the
 * entity's names). */
static int plan_measures(planner *pl, input_plan *ip, const name_table *names) {
    const job *j = ip->report->job;
    if (!(ip->measures = calloc(j->nmeasures, sizeof *ip->measures))) return -1;
    for (size_t m = 0; m < j->nmeasures; m++) {
        const job_measure *jm = &j->measures[m];
        if (jm->input < 0 || &j->inputs[jm->input] != ip->def) continue;
        measure_plan *mp = &ip->measures[ip->nmeasures++];
        mp->measure = (int)m;
        mp->kind = jm->kind;
        if (jm->where.text && !(mp->where = compile(&jm->where, names, EXPR_BOOL, "where", pl->err, pl->errlen)))
            return -1;
        if (jm->kind == JM_COUNT) continue;
        if (jm->kind == JM_DISTINCT) {
            if (ip->grouped || schema_find_column(&pl->schemas->extracts[ip->extract], jm->value.text) != ip->key_column)
                return fail_at(&jm->value, pl->err, pl->errlen, "distinct counts the input's key column ('%s')",
                               pl->schemas->extracts[ip->extract].columns[ip->key_column].name);
            continue;
        }
        if (!(mp->value = compile(&jm->value, names, -1, "value", pl->err, pl->errlen))) return -1;
        expr_type t = expr_result_type(mp->value);
        if (t != EXPR_INT && t != EXPR_MONEY && !(t == EXPR_DATE && jm->kind != JM_SUM) && t != EXPR_BOOL)
            return fail_at(&jm->value, pl->err, pl->errlen, "measure '%s' needs an int, money or date value", jm->name);
    }
    return 0;
}

/* What the rows of a keyed input must carry to their owner: the columns
 * and lets that the owner-side programs read. */
static int plan_carried(planner *pl, input_plan *ip, expr_program *const *progs, size_t nprogs) {
    char *used = calloc(ip->names.count + 1, 1);
    if (!used || !(ip->carried = calloc(ip->names.count + 1, sizeof *ip->carried))) {
        free(used);
        return -1;
    }
    for (size_t p = 0; p < nprogs; p++) {
        if (!progs[p]) continue;
        size_t n;
        const size_t *idx = expr_used_names(progs[p], &n);
        for (size_t i = 0; i < n; i++) used[idx[i]] = 1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ip->names.count; i++) {
        if (!used[i] || (ip->names.source[i] != SRC_COLUMN && ip->names.source[i] != SRC_LET)) continue;
        if (ip->names.names[i].type == EXPR_TEXT) {
            job_expr at = {NULL, ip->report->job->path, 0, 0, 0};
            rc = fail_at(&at, pl->err, pl->errlen, "text column '%s' may only be used in the input's where or let",
                         ip->names.names[i].name);
            break;
        }
        if (ip->ncarried == PLAN_MAX_CARRIED) {
            job_expr at = {NULL, ip->report->job->path, 0, 0, 0};
            rc = fail_at(&at, pl->err, pl->errlen, "input '%s' carries too many values to its key's owner", ip->def->name);
            break;
        }
        ip->carried[ip->ncarried] = (int)i;
        ip->names.source[i] = SRC_CARRIED;
        ip->names.index[i] = (int)ip->ncarried++;
    }
    free(used);
    return rc;
}

/* A plain column name used as an expression (group key, oldest, …). */
static expr_program *compile_name(planner *pl, input_plan *ip, const char *name) {
    job_expr e = {(char *)name, ip->report->job->path, 0, 0, 0};
    return compile(&e, &ip->names, -1, name, pl->err, pl->errlen);
}

static int plan_group(planner *pl, input_plan *ip) {
    const job_group *g = &ip->def->group;
    if (!(ip->member_key = compile_name(pl, ip, g->key)) || !(ip->member_oldest = compile_name(pl, ip, g->oldest)) ||
        !(ip->member_tie = compile_name(pl, ip, g->tie)) || !(ip->member_value = compile_name(pl, ip, g->value)))
        return -1;
    if (g->member_where.text &&
        !(ip->member_where = compile(&g->member_where, &ip->names, EXPR_BOOL, "kato.where", pl->err, pl->errlen)))
        return -1;
    if (!(ip->member_values = calloc(g->nvalues + 1, sizeof *ip->member_values))) return -1;
    for (size_t v = 0; v < g->nvalues; v++) {
        if (!(ip->member_values[v] = compile(&g->values[v].expr, &ip->names, EXPR_BOOL, "a group value",
                                             pl->err, pl->errlen)))
            return -1;
        if (names_add(&ip->entity_names, g->values[v].name, g->values[v].kind == GROUP_COUNT ? EXPR_INT : EXPR_BOOL,
                      NULL, 0, SRC_GROUP, (int)v, 0))
            return -1;
    }
    if (names_add(&ip->entity_names, "S", EXPR_DATE, NULL, 0, SRC_CONST, -1, pl->per->start) ||
        names_add(&ip->entity_names, "E", EXPR_DATE, NULL, 0, SRC_CONST, -1, pl->per->end))
        return -1;
    if (g->where.text &&
        !(ip->entity_where = compile(&g->where, &ip->entity_names, EXPR_BOOL, "group where", pl->err, pl->errlen)))
        return -1;
    return 0;
}

/* Every program evaluated where the rows end up, for plan_carried. */
static size_t owner_programs(const input_plan *ip, expr_program **out) {
    size_t n = 0;
    out[n++] = ip->kato;
    for (size_t d = 0; d < REPORT_MAX_DIMS; d++) out[n++] = ip->dims[d].expr;
    if (ip->grouped) {
        out[n++] = ip->member_key, out[n++] = ip->member_oldest, out[n++] = ip->member_tie;
        out[n++] = ip->member_value, out[n++] = ip->member_where;
        for (size_t v = 0; v < ip->def->group.nvalues; v++) out[n++] = ip->member_values[v];
    } else {
        for (size_t m = 0; m < ip->nmeasures; m++)
            if (!ip->distinct_only || ip->measures[m].kind == JM_DISTINCT)
                out[n++] = ip->measures[m].where, out[n++] = ip->measures[m].value;
    }
    return n;
}

static int needs_key(const job *j, const job_input *in) {
    if (in->njoins || in->group.present) return 1;
    for (size_t m = 0; m < j->nmeasures; m++)
        if (j->measures[m].kind == JM_DISTINCT && &j->inputs[j->measures[m].input] == in) return 1;
    return 0;
}

/* The partition key: the join key, else the group key, else the column
 * that distinct measures count. */
static int plan_key(planner *pl, input_plan *ip) {
    const job *j = ip->report->job;
    const job_input *in = ip->def;
    const schema_extract *ext = &pl->schemas->extracts[ip->extract];
    const char *key = in->njoins ? in->joins[0].on : in->group.present ? in->group.key : NULL;
    for (size_t m = 0; !key && m < j->nmeasures; m++)
        if (j->measures[m].kind == JM_DISTINCT && &j->inputs[j->measures[m].input] == in) key = j->measures[m].value.text;
    job_expr at = {NULL, j->path, 0, 0, 0};
    return (ip->key_column = key_column_of(pl, ext, key, &at)) < 0 ? -1 : 0;
}

static int copy_names(name_table *to, const name_table *from) {
    for (size_t i = 0; i < from->count; i++) {
        const expr_name *n = &from->names[i];
        if (names_add(to, n->name, n->type, n->enum_values, n->nenum, from->source[i], from->index[i], n->constant))
            return -1;
    }
    return 0;
}

static int plan_input(planner *pl, report_plan *rp, size_t i) {
    input_plan *ip = &rp->inputs[i];
    const job *j = rp->job;
    ip->report = rp;
    ip->def = &j->inputs[i];
    job_expr at = {NULL, j->path, 0, 0, 0};
    if ((ip->extract = schema_find_extract(pl->schemas, ip->def->extract)) < 0)
        return fail_at(&at, pl->err, pl->errlen, "input: no extract '%s'", ip->def->extract);
    if (row_names_for(&ip->row_names, &pl->schemas->extracts[ip->extract], pl->per)) return -1;
    if (ip->def->where.text &&
        !(ip->where = compile(&ip->def->where, &ip->row_names, EXPR_BOOL, "where", pl->err, pl->errlen)))
        return -1;
    if (plan_lets(pl, ip) || copy_names(&ip->names, &ip->row_names)) return -1;
    ip->keyed = needs_key(j, ip->def);
    ip->grouped = ip->def->group.present;
    if (ip->keyed && plan_key(pl, ip)) return -1;
    if (ip->def->njoins && !(ip->joins = calloc(ip->def->njoins, sizeof *ip->joins))) return -1;
    for (size_t k = 0; k < ip->def->njoins; k++) {
        ip->njoins = k + 1;
        if (plan_join(pl, ip, k)) return -1;
    }
    if (!ip->grouped && !(ip->kato = compile(&ip->def->kato, &ip->names, EXPR_INT, "kato", pl->err, pl->errlen)))
        return -1;
    if (plan_dims(pl, ip)) return -1;
    if (ip->grouped && plan_group(pl, ip)) return -1;
    if (plan_measures(pl, ip, ip->grouped ? &ip->entity_names : &ip->names)) return -1;
    if (!ip->keyed) return 0;
    const schema_extract *ext = &pl->schemas->extracts[ip->extract];
    ip->distinct_only = ip->njoins == 0 && !ip->grouped;
    ip->dedupe = ip->distinct_only && ext->key_column < 0 && ext->nrefs == 0;
    expr_program *progs[160];
    size_t n = owner_programs(ip, progs);
    return plan_carried(pl, ip, progs, n);
}

/* ---- reports ---------------------------------------------------------- */

static const char *period_name(period_kind k) {
    return k == PERIOD_MONTH ? "monthly" : k == PERIOD_QUARTER ? "quarterly" : "yearly";
}

static int find_report(const run_plan *p, const char *id) {
    for (size_t r = 0; r < p->nreports; r++)
        if (!strcmp(p->reports[r].job->id, id)) return (int)r;
    return -1;
}

/* Adds the report in force at E (a dependency when !requested). */
static int add_report(run_plan *p, const job_set *jobs, const char *id, int requested, char *err, size_t errlen) {
    int at = find_report(p, id);
    if (at >= 0) {
        p->reports[at].requested |= requested;
        return 0;
    }
    const job *j = job_set_find(jobs, id, p->per.end);
    if (!j) return snprintf(err, errlen, "report %s: no methodology in force on the last day of %s", id, p->per.text), -1;
    if (requested && j->periodicity != p->per.kind)
        return snprintf(err, errlen, "report %s is %s; period %s is not", id, period_name(j->periodicity), p->per.text), -1;
    report_plan *grown = realloc(p->reports, (p->nreports + 1) * sizeof *grown);
    if (!grown) return snprintf(err, errlen, "out of memory"), -1;
    p->reports = grown;
    report_plan *rp = &p->reports[p->nreports++];
    memset(rp, 0, sizeof *rp);
    rp->job = j;
    rp->requested = requested;
    /* dependencies of ratios over other reports */
    for (size_t m = 0; m < j->nmeasures; m++) {
        const char *ops[2] = {j->measures[m].num, j->measures[m].den};
        for (int o = 0; j->measures[m].kind == JM_RATIO && o < 2; o++) {
            const char *colon = strchr(ops[o], ':');
            if (!colon) continue;
            char dep[16];
            snprintf(dep, sizeof dep, "%.*s", (int)(colon - ops[o]), ops[o]);
            if (add_report(p, jobs, dep, 0, err, errlen)) return -1;
        }
    }
    return 0;
}

int plan_build(run_plan *p, const schema_set *schemas, const job_set *jobs, const period *per,
               char *const *ids, size_t nids, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    p->schemas = schemas;
    p->per = *per;
    for (size_t i = 0; i < nids; i++)
        if (add_report(p, jobs, ids[i], 1, err, errlen)) return -1;
    for (size_t i = 0; nids == 0 && i < jobs->count; i++) {
        const job *j = &jobs->jobs[i];
        if (j->periodicity == per->kind && j->valid_from <= per->end && per->end <= j->valid_to &&
            add_report(p, jobs, j->id, 1, err, errlen))
            return -1;
    }
    if (p->nreports == 0) return snprintf(err, errlen, "no %s report is in force for %s", period_name(per->kind), per->text), -1;
    planner pl = {schemas, &p->per, err, errlen};
    for (size_t r = 0; r < p->nreports; r++) {
        report_plan *rp = &p->reports[r];
        if (!(rp->inputs = calloc(rp->job->ninputs, sizeof *rp->inputs)) || facts_init(&rp->rejects, 1))
            return snprintf(err, errlen, "out of memory"), -1;
        for (size_t i = 0; i < rp->job->ninputs; i++) {
            rp->ninputs = i + 1;
            err[0] = '\0';
            if (plan_input(&pl, rp, i)) {
                if (!err[0]) snprintf(err, errlen, "%s: out of memory", rp->job->path);
                return -1;
            }
        }
    }
    return 0;
}

static void atoms_free(plan_atom *atoms, size_t n) {
    for (size_t i = 0; i < n; i++) expr_free(atoms[i].program);
    free(atoms);
}

static void input_free(input_plan *ip) {
    expr_free(ip->where), expr_free(ip->kato);
    atoms_free(ip->where_atoms, ip->nwhere_atoms);
    for (size_t l = 0; ip->lets && l < ip->def->nlets; l++) expr_free(ip->lets[l]);
    free(ip->lets), free(ip->let_memo);
    for (size_t d = 0; d < REPORT_MAX_DIMS; d++) expr_free(ip->dims[d].expr);
    for (size_t m = 0; m < ip->nmeasures; m++) {
        expr_free(ip->measures[m].where), expr_free(ip->measures[m].value);
        atoms_free(ip->measures[m].where_atoms, ip->measures[m].nwhere_atoms);
    }
    free(ip->measures);
    for (size_t k = 0; k < ip->njoins; k++) {
        expr_free(ip->joins[k].where);
        names_free(&ip->joins[k].row_names);
        facts_free(&ip->joins[k].facts);
        free(ip->joins[k].run_distinct), free(ip->joins[k].run_at);
    }
    free(ip->joins);
    expr_free(ip->member_where), expr_free(ip->member_key), expr_free(ip->member_oldest);
    expr_free(ip->member_tie), expr_free(ip->member_value), expr_free(ip->entity_where);
    for (size_t v = 0; ip->member_values && v < ip->def->group.nvalues; v++) expr_free(ip->member_values[v]);
    free(ip->member_values);
    names_free(&ip->row_names), names_free(&ip->names), names_free(&ip->entity_names);
    free(ip->carried);
}

void group_entities_free(group_entities *en) {
    free(en->place), free(en->leaf), free(en->line), free(en->sign), free(en->active);
    for (size_t v = 0; v < JOB_MAX_GROUP_VALUES; v++) free(en->values[v]);
    memset(en, 0, sizeof *en);
}

void plan_free(run_plan *p) {
    for (size_t r = 0; r < p->nreports; r++) {
        report_plan *rp = &p->reports[r];
        for (size_t i = 0; i < rp->ninputs; i++) input_free(&rp->inputs[i]);
        free(rp->inputs);
        cube_free(&rp->cube);
        facts_free(&rp->rejects);
    }
    free(p->reports);
    for (size_t g = 0; g < p->ngroups; g++) {
        facts_free(&p->groups[g]->facts), facts_free(&p->groups[g]->members_of_groups);
        free(p->groups[g]->batch_bits);
        group_entities_free(&p->groups[g]->entities);
        free(p->groups[g]->places.place), free(p->groups[g]->places.leaf);
        free(p->groups[g]);
    }
    free(p->groups);
    for (size_t t = 0; t < p->ntallies; t++) cube_tally_free(p->tallies[t]), free(p->tallies[t]);
    free(p->tallies);
    free(p->column_memo);
    memset(p, 0, sizeof *p);
}
