/* job.c — see job.h. Parsing is strict: every key is known, every
 * reference is checked, and each message points at the offending value. */
#include "job.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/date.h"
#include "../base/number.h"
#include "../base/utf8.h"
#include "yaml_doc.h"

typedef struct {
    const ydoc *doc;
    char *err;
    size_t errlen;
} jl; /* job loader context */

#define JFAIL(ld, node, ...) ydoc_error((ld)->doc, (node), (ld)->err, (ld)->errlen, __VA_ARGS__)

static int is_scalar(const ynode *n) { return n && n->kind == YNODE_SCALAR; }

static int check_keys(jl *ld, const ynode *map, const char *const *allowed) {
    if (!map || map->kind != YNODE_MAPPING) return JFAIL(ld, map, "expected a mapping");
    for (size_t i = 0; i < map->count; i++) {
        const ynode *k = map->items[2 * i];
        int known = 0;
        for (const char *const *a = allowed; *a; a++) known |= !strcmp(*a, k->text);
        if (!known) return JFAIL(ld, k, "unknown key '%s'", k->text);
    }
    return 0;
}

/* A required (or optional, when out may stay NULL) plain string. */
static int get_string(jl *ld, const ynode *map, const char *key, int required, char **out) {
    const ynode *n = ynode_get(map, key);
    *out = NULL;
    if (!n) return required ? JFAIL(ld, map, "missing '%s'", key) : 0;
    if (!is_scalar(n)) return JFAIL(ld, n, "'%s' must be a plain value", key);
    if (!(*out = strdup(n->text))) return JFAIL(ld, n, "out of memory");
    return 0;
}

static int expr_from(jl *ld, const ynode *n, job_expr *e) {
    memset(e, 0, sizeof *e);
    if (!n) return 0;
    if (!is_scalar(n)) return JFAIL(ld, n, "an expression must be a string");
    e->path = ld->doc->path;
    e->line = n->line;
    e->column = n->column;
    e->quoted = n->quoted;
    if (!(e->text = strdup(n->text))) return JFAIL(ld, n, "out of memory");
    return 0;
}

static int get_expr(jl *ld, const ynode *map, const char *key, int required, job_expr *e) {
    const ynode *n = ynode_get(map, key);
    if (!n && required) return JFAIL(ld, map, "missing '%s'", key);
    return expr_from(ld, n, e);
}

static int get_int(jl *ld, const ynode *map, const char *key, int required, int64_t lo,
                   int64_t hi, int64_t *out) {
    const ynode *n = ynode_get(map, key);
    if (!n) return required ? JFAIL(ld, map, "missing '%s'", key) : 0;
    if (!is_scalar(n) || number_parse_int(n->text, strlen(n->text), out) || *out < lo || *out > hi)
        return JFAIL(ld, n, "'%s' must be an integer %lld..%lld", key, (long long)lo, (long long)hi);
    return 0;
}

static int get_date(jl *ld, const ynode *map, const char *key, int required, int32_t *out) {
    const ynode *n = ynode_get(map, key);
    if (!n || (is_scalar(n) && (!strcmp(n->text, "~") || !n->text[0]))) {
        return required ? JFAIL(ld, map, "missing '%s'", key) : 0;
    }
    if (!is_scalar(n) || date_parse(n->text, strlen(n->text), out))
        return JFAIL(ld, n, "'%s' must be a date YYYY-MM-DD", key);
    return 0;
}

/* A list of plain strings (NULL-free array of count). */
static int get_string_list(jl *ld, const ynode *n, const char *what, char ***out, size_t *count) {
    *out = NULL;
    *count = 0;
    if (!n || n->kind != YNODE_SEQUENCE) return JFAIL(ld, n, "%s must be a list", what);
    if (!(*out = calloc(n->count + 1, sizeof **out))) return JFAIL(ld, n, "out of memory");
    for (size_t i = 0; i < n->count; i++) {
        if (!is_scalar(n->items[i])) return JFAIL(ld, n->items[i], "%s: plain values only", what);
        if (!((*out)[i] = strdup(n->items[i]->text))) return JFAIL(ld, n, "out of memory");
        *count = i + 1;
    }
    return 0;
}

static int parse_header(jl *ld, const ynode *root, job *j) {
    char *id = NULL, *periodicity = NULL;
    int64_t version = 0, deadline = 0;
    int rc = get_string(ld, root, "id", 1, &id);
    if (rc == 0 && (strlen(id) >= sizeof j->id || strlen(id) == 0)) rc = JFAIL(ld, ynode_get(root, "id"), "bad id");
    if (rc == 0) snprintf(j->id, sizeof j->id, "%s", id);
    if (rc == 0) rc = get_int(ld, root, "version", 1, 1, 1000000, &version);
    if (rc == 0) rc = get_string(ld, root, "title_kk", 1, &j->title_kk);
    if (rc == 0) rc = get_string(ld, root, "title_ru", 1, &j->title_ru);
    if (rc == 0) rc = get_string(ld, root, "addressee", 1, &j->addressee);
    /* the archive and bundles hold titles of at most JOB_MAX_TITLE bytes:
     * refused here, whole, rather than cut (possibly inside a character) */
    const char *titles[] = {"title_kk", "title_ru", "addressee"};
    char *values[] = {j->title_kk, j->title_ru, j->addressee};
    for (size_t t = 0; rc == 0 && t < 3; t++) {
        size_t n = strlen(values[t]);
        if (n > JOB_MAX_TITLE)
            rc = JFAIL(ld, ynode_get(root, titles[t]), "%s is %zu bytes; at most %d (UTF-8)", titles[t], n,
                       JOB_MAX_TITLE);
        else if (utf8_find_invalid(values[t], n) != n)
            rc = JFAIL(ld, ynode_get(root, titles[t]), "%s is not valid UTF-8", titles[t]);
    }
    if (rc == 0) rc = get_int(ld, root, "deadline_days", 1, 0, 366, &deadline);
    if (rc == 0) rc = get_string(ld, root, "periodicity", 1, &periodicity);
    if (rc == 0) {
        if (!strcmp(periodicity, "monthly")) j->periodicity = PERIOD_MONTH;
        else if (!strcmp(periodicity, "quarterly")) j->periodicity = PERIOD_QUARTER;
        else if (!strcmp(periodicity, "yearly")) j->periodicity = PERIOD_YEAR;
        else rc = JFAIL(ld, ynode_get(root, "periodicity"), "periodicity is monthly, quarterly or yearly");
    }
    j->valid_to = INT32_MAX;
    if (rc == 0) rc = get_date(ld, root, "valid_from", 1, &j->valid_from);
    if (rc == 0) rc = get_date(ld, root, "valid_to", 0, &j->valid_to);
    if (rc == 0 && j->valid_to < j->valid_from) rc = JFAIL(ld, ynode_get(root, "valid_to"), "valid_to before valid_from");
    j->version = (int)version;
    j->deadline_days = (int)deadline;
    free(id);
    free(periodicity);
    return rc;
}

static int parse_levels(jl *ld, const ynode *n, job *j) {
    if (!n || n->kind != YNODE_SEQUENCE || n->count == 0) return JFAIL(ld, n, "levels must be a list such as [0, 1, 2]");
    for (size_t i = 0; i < n->count; i++) {
        int64_t level;
        const ynode *v = n->items[i];
        if (!is_scalar(v) || number_parse_int(v->text, strlen(v->text), &level) || level < 0 || level > JOB_MAX_LEVEL)
            return JFAIL(ld, v, "a level is 0 (republic), 1 (region), 2 (district) or 3 (okrug)");
        j->levels[level] = 1;
    }
    if (!j->levels[0]) return JFAIL(ld, n, "level 0 (the republic total) is always part of a report");
    return 0;
}

/* An optional label: at most REPORT_LABEL_CAP - 1 bytes. */
static int get_label(jl *ld, const ynode *map, const char *key, char **out) {
    if (get_string(ld, map, key, 0, out)) return -1;
    if (*out && strlen(*out) >= REPORT_LABEL_CAP)
        return JFAIL(ld, ynode_get(map, key), "'%s' is longer than %d bytes", key, REPORT_LABEL_CAP - 1);
    return 0;
}

static int parse_dimensions(jl *ld, const ynode *n, job *j) {
    static const char *const keys[] = {"name", "values", "label_kk", "label_ru", NULL};
    if (!n) return 0;
    if (n->kind != YNODE_SEQUENCE || n->count > REPORT_MAX_DIMS)
        return JFAIL(ld, n, "dimensions: a list of at most %d", REPORT_MAX_DIMS);
    for (size_t i = 0; i < n->count; i++) {
        const ynode *d = n->items[i];
        if (check_keys(ld, d, keys) || get_string(ld, d, "name", 1, &j->dim_names[i])) return -1;
        j->ndims = i + 1;
        if (get_label(ld, d, "label_kk", &j->dim_label_kk[i]) || get_label(ld, d, "label_ru", &j->dim_label_ru[i]))
            return -1;
        if (get_string_list(ld, ynode_get(d, "values"), "values", &j->dim_values[i], &j->dim_nvalues[i])) return -1;
        if (j->dim_nvalues[i] == 0 || j->dim_nvalues[i] > 250) return JFAIL(ld, d, "1..250 values");
        for (size_t v = 0; v < j->dim_nvalues[i]; v++)
            if (strlen(j->dim_values[i][v]) >= 32 || !strcmp(j->dim_values[i][v], "_T"))
                return JFAIL(ld, d, "value '%s' is reserved or too long", j->dim_values[i][v]);
    }
    return 0;
}

static int dim_index(const job *j, const char *name) {
    for (size_t d = 0; d < j->ndims; d++)
        if (!strcmp(j->dim_names[d], name)) return (int)d;
    return -1;
}

static int parse_dim_sources(jl *ld, const ynode *n, const job *j, job_input *in) {
    if (!n) {
        if (j->ndims && !in->group.present) return JFAIL(ld, n, "input '%s' must give every dimension ('dims')", in->name);
        return 0;
    }
    if (n->kind != YNODE_MAPPING || n->count != j->ndims)
        return JFAIL(ld, n, "dims must map each of the report's %zu dimensions", j->ndims);
    if (!(in->dims = calloc(n->count, sizeof *in->dims))) return JFAIL(ld, n, "out of memory");
    for (size_t i = 0; i < n->count; i++) {
        const ynode *k = n->items[2 * i], *v = n->items[2 * i + 1];
        job_dim_source *ds = &in->dims[i];
        in->ndims = i + 1;
        if (dim_index(j, k->text) < 0) return JFAIL(ld, k, "no dimension '%s'", k->text);
        if (!(ds->dim = strdup(k->text))) return JFAIL(ld, k, "out of memory");
        if (is_scalar(v)) {
            if (expr_from(ld, v, &ds->expr)) return -1;
            continue;
        }
        static const char *const keys[] = {"bands", "edges", NULL};
        if (check_keys(ld, v, keys) || get_expr(ld, v, "bands", 1, &ds->expr)) return -1;
        const ynode *edges = ynode_get(v, "edges");
        size_t want = j->dim_nvalues[dim_index(j, k->text)];
        if (!edges || edges->kind != YNODE_SEQUENCE || edges->count != want)
            return JFAIL(ld, v, "edges: one lower edge per value of '%s' (%zu)", k->text, want);
        if (!(ds->edges = calloc(want, sizeof *ds->edges))) return JFAIL(ld, v, "out of memory");
        for (size_t e = 0; e < want; e++) {
            const ynode *x = edges->items[e];
            if (!is_scalar(x) || number_parse_int(x->text, strlen(x->text), &ds->edges[e]) ||
                (e > 0 && ds->edges[e] <= ds->edges[e - 1]))
                return JFAIL(ld, x, "edges must be increasing integers");
        }
        ds->nedges = want;
    }
    return 0;
}

static int parse_lets(jl *ld, const ynode *n, job_input *in) {
    if (!n) return 0;
    if (n->kind != YNODE_MAPPING) return JFAIL(ld, n, "let: a mapping name → expression");
    if (n->count > JOB_MAX_LETS) return JFAIL(ld, n, "let: at most %d values", JOB_MAX_LETS);
    if (!(in->lets = calloc(n->count, sizeof *in->lets))) return JFAIL(ld, n, "out of memory");
    for (size_t i = 0; i < n->count; i++) {
        in->nlets = i + 1;
        if (!(in->lets[i].name = strdup(n->items[2 * i]->text))) return JFAIL(ld, n, "out of memory");
        if (expr_from(ld, n->items[2 * i + 1], &in->lets[i].expr)) return -1;
    }
    return 0;
}

static int parse_join(jl *ld, const ynode *n, job_join *jn) {
    static const char *const keys[] = {"name", "extract", "on", "take", "required", "exists",
                                       "distinct", "where", NULL};
    if (check_keys(ld, n, keys) || get_string(ld, n, "name", 1, &jn->name) ||
        get_string(ld, n, "extract", 1, &jn->extract) || get_string(ld, n, "on", 1, &jn->on) ||
        get_expr(ld, n, "where", 0, &jn->where) || get_string(ld, n, "distinct", 0, &jn->distinct))
        return -1;
    const ynode *take = ynode_get(n, "take"), *exists = ynode_get(n, "exists"), *req = ynode_get(n, "required");
    int kinds = (take != NULL) + (exists != NULL) + (jn->distinct != NULL);
    if (kinds != 1) return JFAIL(ld, n, "a join has exactly one of take, exists, distinct");
    if (take) {
        jn->kind = JOIN_TAKE;
        if (get_string_list(ld, take, "take", &jn->take, &jn->ntake)) return -1;
        jn->required = is_scalar(req) && !strcmp(req->text, "true");
    } else {
        jn->kind = exists ? JOIN_EXISTS : JOIN_DISTINCT;
        if (exists && (!is_scalar(exists) || strcmp(exists->text, "true")))
            return JFAIL(ld, exists, "exists: true");
        if (req) return JFAIL(ld, req, "required applies to take joins");
    }
    return 0;
}

static int parse_group(jl *ld, const ynode *n, job_input *in) {
    static const char *const keys[] = {"key", "kato", "values", "where", NULL};
    static const char *const kato_keys[] = {"oldest", "tie", "value", "where", NULL};
    job_group *g = &in->group;
    if (!n) return 0;
    g->present = 1;
    const ynode *kato = ynode_get(n, "kato"), *values = ynode_get(n, "values");
    if (check_keys(ld, n, keys) || get_string(ld, n, "key", 1, &g->key) || get_expr(ld, n, "where", 0, &g->where) ||
        check_keys(ld, kato, kato_keys) || get_string(ld, kato, "oldest", 1, &g->oldest) ||
        get_string(ld, kato, "tie", 1, &g->tie) || get_string(ld, kato, "value", 1, &g->value) ||
        get_expr(ld, kato, "where", 0, &g->member_where))
        return -1;
    if (!values || values->kind != YNODE_MAPPING) return JFAIL(ld, n, "group: 'values' mapping required");
    if (values->count > JOB_MAX_GROUP_VALUES) return JFAIL(ld, values, "group: at most %d values", JOB_MAX_GROUP_VALUES);
    if (!(g->values = calloc(values->count, sizeof *g->values))) return JFAIL(ld, n, "out of memory");
    for (size_t i = 0; i < values->count; i++) {
        const ynode *k = values->items[2 * i], *v = values->items[2 * i + 1];
        job_group_value *gv = &g->values[i];
        g->nvalues = i + 1;
        if (!(gv->name = strdup(k->text))) return JFAIL(ld, k, "out of memory");
        if (v->kind != YNODE_MAPPING || v->count != 1) return JFAIL(ld, v, "{count: EXPR} or {any: EXPR}");
        const char *kind = v->items[0]->text;
        if (!strcmp(kind, "count")) gv->kind = GROUP_COUNT;
        else if (!strcmp(kind, "any")) gv->kind = GROUP_ANY;
        else return JFAIL(ld, v->items[0], "unknown group value '%s' (count, any)", kind);
        if (expr_from(ld, v->items[1], &gv->expr)) return -1;
    }
    return 0;
}

static int parse_input(jl *ld, const ynode *n, const job *j, job_input *in) {
    static const char *const keys[] = {"name", "extract", "where", "kato", "let", "dims", "joins", "group", NULL};
    if (check_keys(ld, n, keys) || get_string(ld, n, "name", 1, &in->name) ||
        get_string(ld, n, "extract", 1, &in->extract) || get_expr(ld, n, "where", 0, &in->where) ||
        parse_lets(ld, ynode_get(n, "let"), in) || parse_group(ld, ynode_get(n, "group"), in))
        return -1;
    if (!in->group.present && get_expr(ld, n, "kato", 1, &in->kato)) return -1;
    if (in->group.present && ynode_get(n, "kato")) return JFAIL(ld, ynode_get(n, "kato"), "a grouped input takes its territory from group.kato");
    if (in->group.present && ynode_get(n, "dims")) return JFAIL(ld, ynode_get(n, "dims"), "a grouped input has no dimensions");
    if (parse_dim_sources(ld, ynode_get(n, "dims"), j, in)) return -1;
    const ynode *joins = ynode_get(n, "joins");
    if (!joins) return 0;
    if (joins->kind != YNODE_SEQUENCE) return JFAIL(ld, joins, "joins must be a list");
    if (!(in->joins = calloc(joins->count, sizeof *in->joins))) return JFAIL(ld, joins, "out of memory");
    for (size_t i = 0; i < joins->count; i++) {
        in->njoins = i + 1;
        if (parse_join(ld, joins->items[i], &in->joins[i])) return -1;
        if (strcmp(in->joins[i].on, in->joins[0].on))
            return JFAIL(ld, joins->items[i], "all joins of an input use the same key ('%s')", in->joins[0].on);
    }
    return 0;
}

static int input_index(const job *j, const char *name) {
    for (size_t i = 0; i < j->ninputs; i++)
        if (!strcmp(j->inputs[i].name, name)) return (int)i;
    return -1;
}

int job_find_measure(const job *j, const char *name) {
    for (size_t m = 0; m < j->nmeasures; m++)
        if (!strcmp(j->measures[m].name, name)) return (int)m;
    return -1;
}

/* The kind key of a measure and its operand: count: INPUT, sum: EXPR, … */
static int parse_measure_kind(jl *ld, const ynode *n, const job *j, job_measure *m) {
    static const struct { const char *key; job_measure_kind kind; } kinds[] = {
        {"count", JM_COUNT}, {"sum", JM_SUM}, {"distinct", JM_DISTINCT}, {"min", JM_MIN},
        {"max", JM_MAX}, {"median", JM_MEDIAN}, {"ratio", JM_RATIO}, {"formula", JM_FORMULA}};
    const ynode *op = NULL;
    int found = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if ((op = ynode_get(n, kinds[k].key))) m->kind = kinds[k].kind, found++;
    if (found != 1) return JFAIL(ld, n, "a measure has exactly one of count, sum, distinct, min, max, median, ratio, formula");
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (kinds[k].kind == m->kind) op = ynode_get(n, kinds[k].key);
    char *input = NULL;
    m->input = -1;
    if (m->kind == JM_RATIO) {
        if (!op || op->kind != YNODE_SEQUENCE || op->count != 2 || !is_scalar(op->items[0]) || !is_scalar(op->items[1]))
            return JFAIL(ld, op, "ratio: [numerator, denominator]");
        if (!(m->num = strdup(op->items[0]->text)) || !(m->den = strdup(op->items[1]->text)))
            return JFAIL(ld, op, "out of memory");
        return 0;
    }
    if (m->kind == JM_FORMULA) return expr_from(ld, op, &m->value);
    if (m->kind == JM_COUNT) {
        if (!is_scalar(op)) return JFAIL(ld, op, "count: INPUT");
        input = op->text;
    } else {
        if (expr_from(ld, op, &m->value)) return -1;
        const ynode *in = ynode_get(n, "input");
        if (!is_scalar(in)) return JFAIL(ld, n, "measure '%s' needs 'input'", m->name);
        input = in->text;
    }
    if ((m->input = input_index(j, input)) < 0) return JFAIL(ld, n, "no input '%s'", input);
    return 0;
}

static int parse_measure(jl *ld, const ynode *n, const job *j, job_measure *m) {
    static const char *const keys[] = {"name", "count", "sum", "distinct", "min", "max", "median", "ratio",
                                       "formula", "input", "where", "scale", "format", "person_count",
                                       "follows", "label_kk", "label_ru", NULL};
    char *format = NULL;
    m->line = n->line;
    m->column = n->column;
    if (check_keys(ld, n, keys) || get_string(ld, n, "name", 1, &m->name) || parse_measure_kind(ld, n, j, m) ||
        get_expr(ld, n, "where", 0, &m->where) || get_int(ld, n, "scale", 0, 1, 1000000, &m->scale) ||
        get_string(ld, n, "format", 0, &format) || get_label(ld, n, "label_kk", &m->label_kk) ||
        get_label(ld, n, "label_ru", &m->label_ru))
        return free(format), -1;
    if (!m->scale) m->scale = 1;
    m->format = MEASURE_COUNT;
    int rc = 0;
    if (format && !strcmp(format, "money")) m->format = MEASURE_MONEY;
    else if (format && !strcmp(format, "decimal1")) m->format = MEASURE_DECIMAL1;
    else if (format && strcmp(format, "count")) rc = JFAIL(ld, ynode_get(n, "format"), "format is count, money or decimal1");
    free(format);
    if (rc) return rc;
    if (m->kind == JM_RATIO && m->format == MEASURE_COUNT)
        return JFAIL(ld, n, "a ratio is formatted decimal1 or money");
    if (m->where.text && (m->kind == JM_RATIO || m->kind == JM_FORMULA))
        return JFAIL(ld, n, "'where' applies to measures over an input");
    const ynode *pc = ynode_get(n, "person_count");
    m->person_count = is_scalar(pc) && !strcmp(pc->text, "true");
    const ynode *follows = ynode_get(n, "follows");
    return follows ? get_string_list(ld, follows, "follows", &m->follows, &m->nfollows) : 0;
}

/* Cross-checks that need the whole file: unique names, follows, ratio
 * operands of this report (other reports are checked by the planner). */
static int check_job(jl *ld, const job *j) {
    for (size_t i = 0; i < j->ninputs; i++)
        for (size_t k = 0; k < i; k++)
            if (!strcmp(j->inputs[i].name, j->inputs[k].name)) return JFAIL(ld, NULL, "duplicate input '%s'", j->inputs[i].name);
    for (size_t m = 0; m < j->nmeasures; m++) {
        const job_measure *jm = &j->measures[m];
        if (job_find_measure(j, jm->name) != (int)m) return JFAIL(ld, NULL, "duplicate measure '%s'", jm->name);
        for (size_t f = 0; f < jm->nfollows; f++)
            if (job_find_measure(j, jm->follows[f]) < 0)
                return JFAIL(ld, NULL, "measure '%s' follows unknown measure '%s'", jm->name, jm->follows[f]);
        const char *ops[2] = {jm->num, jm->den};
        for (int o = 0; jm->kind == JM_RATIO && o < 2; o++)
            if (!strchr(ops[o], ':') && job_find_measure(j, ops[o]) < 0)
                return JFAIL(ld, NULL, "ratio '%s' uses unknown measure '%s'", jm->name, ops[o]);
    }
    return 0;
}

static int parse_job(jl *ld, job *j) {
    static const char *const keys[] = {"id", "version", "title_kk", "title_ru", "periodicity", "deadline_days",
                                       "addressee", "valid_from", "valid_to", "levels", "dimensions",
                                       "inputs", "measures", NULL};
    const ynode *root = ld->doc->root;
    if (check_keys(ld, root, keys) || parse_header(ld, root, j) || parse_levels(ld, ynode_get(root, "levels"), j) ||
        parse_dimensions(ld, ynode_get(root, "dimensions"), j))
        return -1;
    const ynode *inputs = ynode_get(root, "inputs"), *measures = ynode_get(root, "measures");
    if (!inputs || inputs->kind != YNODE_SEQUENCE || !inputs->count) return JFAIL(ld, root, "'inputs' must be a non-empty list");
    if (!measures || measures->kind != YNODE_SEQUENCE || !measures->count || measures->count > REPORT_MAX_MEASURES)
        return JFAIL(ld, root, "'measures' must list 1..%d measures", REPORT_MAX_MEASURES);
    j->inputs = calloc(inputs->count, sizeof *j->inputs);
    j->measures = calloc(measures->count, sizeof *j->measures);
    if (!j->inputs || !j->measures) return JFAIL(ld, root, "out of memory");
    for (size_t i = 0; i < inputs->count; i++) {
        j->ninputs = i + 1;
        if (parse_input(ld, inputs->items[i], j, &j->inputs[i])) return -1;
    }
    for (size_t m = 0; m < measures->count; m++) {
        j->nmeasures = m + 1;
        if (parse_measure(ld, measures->items[m], j, &j->measures[m])) return -1;
    }
    return check_job(ld, j);
}

static void strings_free(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static void input_free(job_input *in) {
    free(in->name);
    free(in->extract);
    free(in->where.text);
    free(in->kato.text);
    for (size_t i = 0; i < in->nlets; i++) free(in->lets[i].name), free(in->lets[i].expr.text);
    free(in->lets);
    for (size_t i = 0; i < in->ndims; i++) free(in->dims[i].dim), free(in->dims[i].expr.text), free(in->dims[i].edges);
    free(in->dims);
    for (size_t i = 0; i < in->njoins; i++) {
        job_join *jn = &in->joins[i];
        free(jn->name), free(jn->extract), free(jn->on), free(jn->distinct), free(jn->where.text);
        strings_free(jn->take, jn->ntake);
    }
    free(in->joins);
    job_group *g = &in->group;
    free(g->key), free(g->oldest), free(g->tie), free(g->value), free(g->member_where.text), free(g->where.text);
    for (size_t i = 0; i < g->nvalues; i++) free(g->values[i].name), free(g->values[i].expr.text);
    free(g->values);
}

static void job_free(job *j) {
    for (size_t i = 0; i < j->ninputs; i++) input_free(&j->inputs[i]);
    free(j->inputs);
    for (size_t m = 0; m < j->nmeasures; m++) {
        job_measure *jm = &j->measures[m];
        free(jm->name), free(jm->value.text), free(jm->where.text), free(jm->num), free(jm->den);
        free(jm->label_kk), free(jm->label_ru);
        strings_free(jm->follows, jm->nfollows);
    }
    free(j->measures);
    for (size_t d = 0; d < j->ndims; d++) {
        free(j->dim_names[d]), free(j->dim_label_kk[d]), free(j->dim_label_ru[d]);
        strings_free(j->dim_values[d], j->dim_nvalues[d]);
    }
    free(j->title_kk), free(j->title_ru), free(j->addressee), free(j->path);
}

void job_set_free(job_set *set) {
    if (!set) return;
    for (size_t i = 0; i < set->count; i++) job_free(&set->jobs[i]);
    free(set->jobs);
    free(set);
}

int job_expr_error(const job_expr *e, int offset, const char *msg, char *err, size_t errlen) {
    snprintf(err, errlen, "%s:%d:%d: %s", e->path ? e->path : "?", e->line,
             e->column + e->quoted + (offset > 0 ? offset - 1 : 0), msg);
    return -1;
}

const job *job_set_find(const job_set *set, const char *id, int32_t day) {
    for (size_t i = 0; i < set->count; i++) {
        const job *j = &set->jobs[i];
        if (!strcmp(j->id, id) && j->valid_from <= day && day <= j->valid_to) return j;
    }
    return NULL;
}

static int compare_jobs(const void *a, const void *b) {
    const job *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->valid_from > y->valid_from) - (x->valid_from < y->valid_from);
}

/* Parses the job file at path (from disk, or text[0..len) when text is
 * given) into j. */
static int load_job_file(const char *path, const char *text, size_t len, job *j, char *err, size_t errlen) {
    ydoc *doc = text ? ydoc_parse(path, text, len, err, errlen) : ydoc_load(path, err, errlen);
    if (!doc) return -1;
    jl ld = {doc, err, errlen};
    int rc = (j->path = strdup(path)) ? 0 : -1;
    if (rc == 0 && !doc->root) rc = JFAIL(&ld, NULL, "empty job file");
    if (rc == 0) rc = parse_job(&ld, j);
    /* expressions keep doc->path for messages: point them at j->path */
    for (size_t i = 0; rc == 0 && i < j->ninputs; i++) {
        job_input *in = &j->inputs[i];
        job_expr *es[] = {&in->where, &in->kato, &in->group.member_where, &in->group.where};
        for (size_t k = 0; k < sizeof es / sizeof *es; k++) es[k]->path = j->path;
        for (size_t k = 0; k < in->nlets; k++) in->lets[k].expr.path = j->path;
        for (size_t k = 0; k < in->ndims; k++) in->dims[k].expr.path = j->path;
        for (size_t k = 0; k < in->njoins; k++) in->joins[k].where.path = j->path;
        for (size_t k = 0; k < in->group.nvalues; k++) in->group.values[k].expr.path = j->path;
    }
    for (size_t m = 0; rc == 0 && m < j->nmeasures; m++) j->measures[m].value.path = j->measures[m].where.path = j->path;
    ydoc_free(doc);
    return rc;
}

/* Adds one job (the file at path, or text[0..len)) to set. 0 or -1. */
static int add_job(job_set *set, const char *path, const char *text, size_t len, char *err, size_t errlen) {
    job *grown = realloc(set->jobs, (set->count + 1) * sizeof *grown);
    if (!grown) return -1;
    set->jobs = grown;
    memset(&set->jobs[set->count], 0, sizeof *grown);
    set->count++;
    return load_job_file(path, text, len, &set->jobs[set->count - 1], err, errlen);
}

/* Orders the set and refuses overlapping versions; frees it on error. */
static int finish_set(job_set *set, int rc, const char *where, job_set **out, char *err, size_t errlen) {
    if (rc == 0 && set->count) qsort(set->jobs, set->count, sizeof *set->jobs, compare_jobs);
    for (size_t i = 1; rc == 0 && i < set->count; i++)
        if (!strcmp(set->jobs[i].id, set->jobs[i - 1].id) && set->jobs[i].valid_from <= set->jobs[i - 1].valid_to)
            rc = -1, snprintf(err, errlen, "%s: validity overlaps %s", set->jobs[i].path, set->jobs[i - 1].path);
    if (rc) {
        if (!err[0]) snprintf(err, errlen, "%s: out of memory", where);
        job_set_free(set);
        return -1;
    }
    *out = set;
    return 0;
}

int job_set_load(const char *dir, job_set **out, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) return snprintf(err, errlen, "%s: cannot open jobs directory: %m", dir), -1;
    err[0] = '\0';
    job_set *set = calloc(1, sizeof *set);
    int rc = set ? 0 : -1;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        rc = add_job(set, path, NULL, 0, err, errlen);
    }
    closedir(d);
    if (!set) return snprintf(err, errlen, "%s: out of memory", dir), -1;
    return finish_set(set, rc, dir, out, err, errlen);
}

int job_set_parse(char *const *names, const char *const *texts, const size_t *lens, size_t n, job_set **out,
                  char *err, size_t errlen) {
    err[0] = '\0';
    job_set *set = calloc(1, sizeof *set);
    if (!set) return snprintf(err, errlen, "out of memory"), -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) rc = add_job(set, names[i], texts[i], lens[i], err, errlen);
    return finish_set(set, rc, "jobs", out, err, errlen);
}
