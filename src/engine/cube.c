/* cube.c — see cube.h. */
#include "cube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../spec/expr.h"

int cube_init(cube *c, const job *job, const territory *t) {
    memset(c, 0, sizeof *c);
    c->job = job;
    c->object_of = malloc((t->nobjects ? t->nobjects : 1) * sizeof *c->object_of);
    c->object_global = malloc((t->nobjects ? t->nobjects : 1) * sizeof *c->object_global);
    if (!c->object_of || !c->object_global) return -1;
    for (size_t o = 0; o < t->nobjects; o++) {
        c->object_of[o] = -1;
        if (job->levels[t->object_level[o]]) {
            c->object_global[c->nobjects] = (int32_t)o;
            c->object_of[o] = (int32_t)c->nobjects++;
        }
    }
    c->ncombos = 1;
    for (size_t d = job->ndims; d-- > 0;) {
        c->stride[d] = c->ncombos;
        c->ncombos *= job->dim_nvalues[d] + 1;
    }
    c->ncells = c->nobjects * c->ncombos;
    c->acc = calloc(job->nmeasures * c->ncells + 1, sizeof *c->acc);
    if (!c->acc) return -1;
    c->nleaves = 1;
    for (size_t d = job->ndims; d-- > 0;) {
        c->leaf_stride[d] = c->nleaves;
        c->nleaves *= job->dim_nvalues[d];
    }
    c->nplaces = t->nplaces;
    c->place_ancestors = (const int32_t(*)[4])t->place_ancestors;
    return 0;
}

void cube_free(cube *c) {
    free(c->object_of), free(c->object_global), free(c->acc), free(c->values);
    memset(c, 0, sizeof *c);
}

size_t cube_row_cells(const cube *c, const int32_t anc[4], const int *dims, int32_t *out) {
    const job *j = c->job;
    size_t n = 0, masks = (size_t)1 << j->ndims;
    for (int l = 0; l < 4; l++) {
        if (anc[l] < 0 || c->object_of[anc[l]] < 0) continue;
        size_t base = (size_t)c->object_of[anc[l]] * c->ncombos;
        for (size_t mask = 0; mask < masks; mask++) {
            size_t combo = 0;
            for (size_t d = 0; d < j->ndims; d++)
                combo += ((mask >> d) & 1 ? j->dim_nvalues[d] : (size_t)dims[d]) * c->stride[d];
            out[n++] = (int32_t)(base + combo);
        }
    }
    return n;
}

size_t cube_leaf_of(const cube *c, const int *dims) {
    size_t leaf = 0;
    for (size_t d = 0; d < c->job->ndims; d++) leaf += (size_t)dims[d] * c->leaf_stride[d];
    return leaf;
}

void cube_leaf_dims(const cube *c, size_t leaf, int *dims) {
    for (size_t d = 0; d < c->job->ndims; d++) {
        dims[d] = (int)(leaf / c->leaf_stride[d]);
        leaf %= c->leaf_stride[d];
    }
}

size_t cube_leaf_cells(const cube *c, int32_t place, size_t leaf, int32_t *out) {
    int dims[REPORT_MAX_DIMS];
    cube_leaf_dims(c, leaf, dims);
    return cube_row_cells(c, c->place_ancestors[place], dims, out);
}

int cube_tally_alloc(cube_tally *t, size_t nplaces) {
    if (t->observations) return 0;
    free(t->sum);
    t->sum = calloc(nplaces * t->nleaves + 1, sizeof *t->sum);
    return t->sum ? 0 : -1;
}

void cube_tally_free(cube_tally *t) {
    free(t->sum), free(t->values);
    t->sum = NULL, t->values = NULL;
    t->nvalues = t->values_cap = 0;
}

static int push_value(cube_value **values, size_t *n, size_t *cap, cube_value v) {
    if (*n == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 1024;
        cube_value *grown = realloc(*values, grown_cap * sizeof *grown);
        if (!grown) return -1;
        *values = grown;
        *cap = grown_cap;
    }
    (*values)[(*n)++] = v;
    return 0;
}

int cube_tally_observe(cube_tally *t, int32_t leaf_cell, int64_t value, int64_t count) {
    t->merged = 0;
    return push_value(&t->values, &t->nvalues, &t->values_cap, (cube_value){leaf_cell, 0, value, count});
}

static void merge_values(cube_value *values, size_t *count);

int cube_fold_tally(cube *c, int measure, cube_tally *t) {
    int32_t cells[CUBE_MAX_CELLS_PER_ROW];
    if (t->nleaves != c->nleaves) return -1; /* a tally of other dimensions: never shared so */
    if (!t->observations) {
        int64_t *acc = c->acc + (size_t)measure * c->ncells;
        for (size_t p = 0; p < c->nplaces; p++)
            for (size_t leaf = 0; leaf < c->nleaves; leaf++) {
                int64_t v = t->sum[p * c->nleaves + leaf];
                if (v == 0) continue;
                size_t n = cube_leaf_cells(c, (int32_t)p, leaf, cells);
                for (size_t i = 0; i < n; i++) acc[cells[i]] += v;
            }
        return 0;
    }
    if (!t->merged) merge_values(t->values, &t->nvalues), t->merged = 1;
    for (size_t k = 0; k < t->nvalues; k++) {
        const cube_value *v = &t->values[k];
        size_t n = cube_leaf_cells(c, v->cell / (int32_t)c->nleaves, (size_t)(v->cell % (int32_t)c->nleaves), cells);
        for (size_t i = 0; i < n; i++)
            if (cube_add_value(c, cells[i], measure, v->value, v->count)) return -1;
    }
    return 0;
}

int cube_add_value(cube *c, int32_t cell, int32_t measure, int64_t value, int64_t count) {
    return push_value(&c->values, &c->nvalues, &c->values_cap, (cube_value){cell, measure, value, count});
}

static int compare_values(const void *a, const void *b) {
    const cube_value *x = a, *y = b;
    if (x->measure != y->measure) return (x->measure > y->measure) - (x->measure < y->measure);
    if (x->cell != y->cell) return (x->cell > y->cell) - (x->cell < y->cell);
    return (x->value > y->value) - (x->value < y->value);
}

/* Sorts by (measure, cell, value), sums the counts of equal ones and drops
 * those that come to zero. */
static void merge_values(cube_value *values, size_t *count) {
    if (*count == 0) return;
    qsort(values, *count, sizeof *values, compare_values);
    size_t n = 0;
    for (size_t i = 0; i < *count; i++) {
        if (n && !compare_values(&values[n - 1], &values[i])) values[n - 1].count += values[i].count;
        else values[n++] = values[i];
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (values[i].count != 0) values[kept++] = values[i];
    *count = kept;
}

void cube_merge_values(cube *c) { merge_values(c->values, &c->nvalues); }

int64_t cube_round_div(int64_t num, int64_t den) {
    __int128 a = num < 0 ? -(__int128)num : num, b = den < 0 ? -(__int128)den : den;
    __int128 q = (2 * a + b) / (2 * b);
    return (int64_t)(((num < 0) != (den < 0)) ? -q : q);
}

/* Median/min/max per cell from the merged observations of measure m. */
static void finish_values(const cube *c, int m, int64_t *out) {
    job_measure_kind kind = c->job->measures[m].kind;
    for (size_t cell = 0; cell < c->ncells; cell++) out[cell] = MEASURE_EMPTY;
    size_t i = 0;
    while (i < c->nvalues && c->values[i].measure < m) i++;
    while (i < c->nvalues && c->values[i].measure == m) {
        size_t start = i;
        int64_t n = 0;
        int32_t cell = c->values[i].cell;
        for (; i < c->nvalues && c->values[i].measure == m && c->values[i].cell == cell; i++) n += c->values[i].count;
        if (n <= 0) continue;
        if (kind == JM_MIN) out[cell] = c->values[start].value;
        else if (kind == JM_MAX) out[cell] = c->values[i - 1].value;
        else { /* lower median: the ⌈n/2⌉-th smallest */
            int64_t rank = (n + 1) / 2, seen = 0;
            for (size_t k = start; k < i; k++)
                if ((seen += c->values[k].count) >= rank) {
                    out[cell] = c->values[k].value;
                    break;
                }
        }
    }
}

/* Table dimension d: values sorted as bytes with "_T"; order[] maps a sorted
 * position to the declared index (the declared `_T` index is nvalues). */
static int table_dimension(const job *j, size_t d, report_dimension *td, size_t *order) {
    size_t nv = j->dim_nvalues[d];
    snprintf(td->name, sizeof td->name, "%s", j->dim_names[d]);
    snprintf(td->label_kk, sizeof td->label_kk, "%s", j->dim_label_kk[d] ? j->dim_label_kk[d] : "");
    snprintf(td->label_ru, sizeof td->label_ru, "%s", j->dim_label_ru[d] ? j->dim_label_ru[d] : "");
    td->nvalues = nv + 1;
    if (!(td->values = calloc(nv + 1, sizeof *td->values))) return -1;
    for (size_t v = 0; v <= nv; v++) order[v] = v;
    for (size_t a = 1; a <= nv; a++) /* insertion sort: a handful of values */
        for (size_t b = a; b > 0; b--) {
            const char *x = order[b - 1] == nv ? "_T" : j->dim_values[d][order[b - 1]];
            const char *y = order[b] == nv ? "_T" : j->dim_values[d][order[b]];
            if (strcmp(x, y) <= 0) break;
            size_t tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    for (size_t v = 0; v <= nv; v++) {
        snprintf(td->values[v], sizeof td->values[v], "%s", order[v] == nv ? "_T" : j->dim_values[d][order[v]]);
        td->listed[v] = (uint8_t)order[v]; /* declared position; "_T" (nv) last */
    }
    return 0;
}

/* The value of "REPORT:measure" (or a measure of this report) at row r. */
static int operand_column(const cube *c, const char *name, cube_lookup lookup, void *data,
                          int64_t *const *columns, const int32_t *row_object, size_t nrows,
                          int64_t *out, char *err, size_t errlen) {
    const char *colon = strchr(name, ':');
    if (!colon) {
        int m = job_find_measure(c->job, name);
        memcpy(out, columns[m], nrows * sizeof *out);
        return 0;
    }
    char id[16];
    snprintf(id, sizeof id, "%.*s", (int)(colon - name), name);
    const cube *other = lookup(data, id);
    int m = other ? job_find_measure(other->job, colon + 1) : -1;
    if (!other || m < 0) return snprintf(err, errlen, "%s: ratio operand %s was not computed", c->job->id, name), -1;
    size_t total = other->ncombos - 1; /* the all-_T combination is the last */
    for (size_t r = 0; r < nrows; r++) {
        int32_t o = other->object_of[c->object_global[row_object[r]]];
        out[r] = o < 0 ? MEASURE_EMPTY : other->acc[(size_t)m * other->ncells + (size_t)o * other->ncombos + total];
    }
    return 0;
}

static int compute_ratio(const cube *c, const job_measure *jm, cube_lookup lookup, void *data,
                         int64_t *const *columns, const int32_t *row_object, size_t nrows, int64_t *out,
                         char *err, size_t errlen) {
    int64_t *num = malloc(nrows * sizeof *num), *den = malloc(nrows * sizeof *den);
    int rc = num && den ? 0 : -1;
    if (rc == 0) rc = operand_column(c, jm->num, lookup, data, columns, row_object, nrows, num, err, errlen);
    if (rc == 0) rc = operand_column(c, jm->den, lookup, data, columns, row_object, nrows, den, err, errlen);
    int64_t factor = jm->scale * (jm->format == MEASURE_DECIMAL1 ? 10 : 1);
    for (size_t r = 0; rc == 0 && r < nrows; r++) {
        if (num[r] == MEASURE_EMPTY || den[r] == MEASURE_EMPTY || den[r] == 0) out[r] = MEASURE_EMPTY;
        else {
            __int128 scaled = (__int128)num[r] * factor;
            __int128 a = scaled < 0 ? -scaled : scaled, b = den[r] < 0 ? -(__int128)den[r] : den[r];
            __int128 q = (2 * a + b) / (2 * b);
            out[r] = (int64_t)(((scaled < 0) != (den[r] < 0)) ? -q : q);
        }
    }
    free(num);
    free(den);
    return rc;
}

/* A formula over the row's measures (integers; EMPTY operands give EMPTY). */
static int compute_formula(const cube *c, const job_measure *jm, int64_t *const *columns, size_t nrows,
                           int64_t *out, char *err, size_t errlen) {
    const job *j = c->job;
    expr_name names[REPORT_MAX_MEASURES];
    expr_input inputs[REPORT_MAX_MEASURES];
    memset(inputs, 0, sizeof inputs);
    for (size_t m = 0; m < j->nmeasures; m++) {
        names[m] = (expr_name){j->measures[m].name, EXPR_INT, NULL, 0, 0, 0};
        inputs[m].i64 = columns[m];
    }
    expr_env env = {names, j->nmeasures};
    char msg[256];
    expr_program *p = expr_compile(jm->value.text, &env, msg, sizeof msg);
    if (!p) {
        int offset = 0;
        sscanf(msg, "column %d", &offset);
        return job_expr_error(&jm->value, offset, msg, err, errlen);
    }
    int rc = expr_eval(p, inputs, nrows, out);
    expr_free(p);
    for (size_t r = 0; r < nrows; r++)
        if (out[r] == EXPR_NULL) out[r] = MEASURE_EMPTY;
    if (rc) snprintf(err, errlen, "out of memory");
    return rc;
}

/* Row order: objects by code, then dimension values as bytes (odometer
 * over the sorted positions). Fills the table's kato/level/dim columns and
 * row_cell (the cube cell of each row). */
static void lay_out_rows(const cube *c, const territory *terr, size_t order[][256], report_table *t,
                         int32_t *row_cell, int32_t *row_object) {
    const job *j = c->job;
    size_t r = 0;
    for (size_t o = 0; o < c->nobjects; o++) {
        size_t pos[REPORT_MAX_DIMS] = {0};
        for (size_t k = 0; k < c->ncombos; k++) {
            size_t combo = 0;
            for (size_t d = 0; d < j->ndims; d++) {
                combo += order[d][pos[d]] * c->stride[d];
                t->dim_value[d][r] = (uint8_t)pos[d];
            }
            int32_t g = c->object_global[o];
            t->kato[r] = terr->object_code[g];
            t->level[r] = terr->object_level[g];
            row_cell[r] = (int32_t)(o * c->ncombos + combo);
            row_object[r] = (int32_t)o;
            r++;
            for (size_t d = j->ndims; d-- > 0;) { /* next combination, last dimension fastest */
                if (++pos[d] < j->dim_nvalues[d] + 1) break;
                pos[d] = 0;
            }
        }
    }
}

int cube_to_table(const cube *c, cube_lookup lookup, void *lookup_data, const territory *terr,
                  report_table *t, char *err, size_t errlen) {
    const job *j = c->job;
    size_t order[REPORT_MAX_DIMS][256];
    t->ndims = j->ndims;
    t->nmeasures = j->nmeasures;
    for (size_t d = 0; d < j->ndims; d++)
        if (table_dimension(j, d, &t->dims[d], order[d])) return snprintf(err, errlen, "out of memory"), -1;
    for (size_t m = 0; m < j->nmeasures; m++) {
        const job_measure *jm = &j->measures[m];
        report_measure *tm = &t->measures[m];
        snprintf(tm->name, sizeof tm->name, "%s", jm->name);
        snprintf(tm->label_kk, sizeof tm->label_kk, "%s", jm->label_kk ? jm->label_kk : "");
        snprintf(tm->label_ru, sizeof tm->label_ru, "%s", jm->label_ru ? jm->label_ru : "");
        tm->format = jm->format;
        tm->person_count = jm->person_count;
        tm->nfollows = (int)jm->nfollows;
        for (size_t f = 0; f < jm->nfollows; f++) tm->follows[f] = job_find_measure(j, jm->follows[f]);
    }
    size_t nrows = c->nobjects * c->ncombos;
    int32_t *row_cell = malloc((nrows + 1) * sizeof *row_cell), *row_object = malloc((nrows + 1) * sizeof *row_object);
    int64_t *cellvals = malloc((c->ncells + 1) * sizeof *cellvals);
    if (!row_cell || !row_object || !cellvals || report_table_alloc_rows(t, nrows)) {
        free(row_cell), free(row_object), free(cellvals);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    lay_out_rows(c, terr, order, t, row_cell, row_object);
    int rc = 0;
    for (size_t m = 0; m < j->nmeasures; m++) { /* accumulated measures first */
        job_measure_kind kind = j->measures[m].kind;
        if (kind == JM_RATIO || kind == JM_FORMULA) continue;
        const int64_t *src = c->acc + m * c->ncells;
        if (kind == JM_MEDIAN || kind == JM_MIN || kind == JM_MAX) {
            finish_values(c, (int)m, cellvals);
            src = cellvals;
        }
        for (size_t r = 0; r < nrows; r++) t->value[m][r] = src[row_cell[r]];
    }
    for (size_t m = 0; rc == 0 && m < j->nmeasures; m++) { /* then derived, in file order */
        const job_measure *jm = &j->measures[m];
        if (jm->kind == JM_RATIO)
            rc = compute_ratio(c, jm, lookup, lookup_data, t->value, row_object, nrows, t->value[m], err, errlen);
        else if (jm->kind == JM_FORMULA)
            rc = compute_formula(c, jm, t->value, nrows, t->value[m], err, errlen);
    }
    free(row_cell), free(row_object), free(cellvals);
    return rc;
}
