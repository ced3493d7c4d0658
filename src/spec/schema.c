/* schema.c — see schema.h. Every key of a schema file is known here; an
 * unknown key is an error (a typo must not silently drop a rule). */
#include "schema.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/number.h"
#include "yaml_doc.h"

static const char *const type_names[] = {
    [COL_IIN] = "iin",     [COL_KATO] = "kato",   [COL_KATOCODE] = "katocode",
    [COL_DATE] = "date",   [COL_MONTH] = "month", [COL_MONEY] = "money",
    [COL_INT] = "int",     [COL_ENUM] = "enum",   [COL_TEXT] = "text",
};

const char *schema_type_name(column_type type) { return type_names[type]; }

/* Loading context: the document being read and where errors go. */
typedef struct {
    const ydoc *doc;
    char *err;
    size_t errlen;
} loader;

#define FAIL(ld, node, ...) ydoc_error((ld)->doc, (node), (ld)->err, (ld)->errlen, __VA_ARGS__)

static int expect_scalar(loader *ld, const ynode *n, const char *what) {
    if (!n || n->kind != YNODE_SCALAR) return FAIL(ld, n, "%s must be a plain value", what);
    return 0;
}

/* Refuses any key of map that is not in allowed (NULL-terminated). */
static int check_keys(loader *ld, const ynode *map, const char *const *allowed) {
    for (size_t i = 0; i < map->count; i++) {
        const ynode *k = map->items[2 * i];
        int known = 0;
        for (const char *const *a = allowed; *a; a++) known |= strcmp(*a, k->text) == 0;
        if (!known) return FAIL(ld, k, "unknown key '%s'", k->text);
    }
    return 0;
}

static int parse_bool(loader *ld, const ynode *n, int *out) {
    if (!n) return *out = 0, 0;
    if (expect_scalar(ld, n, "a yes/no value")) return -1;
    if (!strcmp(n->text, "true") || !strcmp(n->text, "yes")) return *out = 1, 0;
    if (!strcmp(n->text, "false") || !strcmp(n->text, "no")) return *out = 0, 0;
    return FAIL(ld, n, "expected true or false, got '%s'", n->text);
}

static int parse_type(loader *ld, const ynode *n, column_type *out) {
    if (expect_scalar(ld, n, "type")) return -1;
    for (size_t t = 0; t < sizeof type_names / sizeof *type_names; t++)
        if (!strcmp(n->text, type_names[t])) return *out = (column_type)t, 0;
    return FAIL(ld, n, "unknown type '%s' (iin, kato, katocode, date, month, "
                       "money, int, enum, text)", n->text);
}

/* min/max: integers for int, tenge for money. */
static int parse_bound(loader *ld, const ynode *n, const schema_column *col,
                       int *has, int64_t *out) {
    if (!n) return 0;
    if (expect_scalar(ld, n, "a bound")) return -1;
    if (col->type != COL_INT && col->type != COL_MONEY)
        return FAIL(ld, n, "min/max apply to int and money columns only");
    size_t len = strlen(n->text);
    int bad = col->type == COL_INT ? number_parse_int(n->text, len, out)
                                   : number_parse_money(n->text, len, out);
    if (bad) return FAIL(ld, n, "'%s' is not a valid %s", n->text, type_names[col->type]);
    *has = 1;
    return 0;
}

static int parse_enum_values(loader *ld, const ynode *n, schema_column *col) {
    if (!n || n->kind != YNODE_SEQUENCE || n->count == 0)
        return FAIL(ld, n, "enum column '%s' needs a non-empty list 'values'", col->name);
    if (n->count > SCHEMA_MAX_ENUM) return FAIL(ld, n, "more than %d values", SCHEMA_MAX_ENUM);
    col->values = calloc(n->count, sizeof *col->values);
    if (!col->values) return FAIL(ld, n, "out of memory");
    for (size_t i = 0; i < n->count; i++) {
        if (expect_scalar(ld, n->items[i], "an enum value")) return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(col->values[j], n->items[i]->text))
                return FAIL(ld, n->items[i], "duplicate value '%s'", n->items[i]->text);
        if (!(col->values[i] = strdup(n->items[i]->text))) return FAIL(ld, n, "out of memory");
        col->nvalues = i + 1;
    }
    return 0;
}

static int parse_text_rules(loader *ld, const ynode *map, schema_column *col) {
    const ynode *pat = ynode_get(map, "pattern"), *maxlen = ynode_get(map, "max_length");
    col->max_length = SCHEMA_TEXT_MAX_DEFAULT;
    if ((pat || maxlen) && col->type != COL_TEXT)
        return FAIL(ld, pat ? pat : maxlen, "pattern/max_length apply to text columns only");
    if (maxlen) {
        int64_t v;
        if (expect_scalar(ld, maxlen, "max_length") ||
            number_parse_int(maxlen->text, strlen(maxlen->text), &v) || v < 1 || v > 65536)
            return FAIL(ld, maxlen, "max_length must be 1..65536");
        col->max_length = (size_t)v;
    }
    if (pat) {
        char perr[256];
        if (expect_scalar(ld, pat, "pattern")) return -1;
        if (pattern_compile(pat->text, &col->text_pattern, perr, sizeof perr))
            return FAIL(ld, pat, "%s", perr);
        col->has_pattern = 1;
    }
    return 0;
}

static int parse_column(loader *ld, const ynode *map, schema_column *col) {
    static const char *const keys[] = {"name", "type", "nullable", "values", "min",
                                       "max", "pattern", "max_length", "doc", NULL};
    if (map->kind != YNODE_MAPPING) return FAIL(ld, map, "a column must be a mapping");
    if (check_keys(ld, map, keys)) return -1;
    const ynode *name = ynode_get(map, "name");
    if (expect_scalar(ld, name, "column name")) return -1;
    if (!(col->name = strdup(name->text))) return FAIL(ld, name, "out of memory");
    if (parse_type(ld, ynode_get(map, "type"), &col->type) ||
        parse_bool(ld, ynode_get(map, "nullable"), &col->nullable) ||
        parse_bound(ld, ynode_get(map, "min"), col, &col->has_min, &col->min) ||
        parse_bound(ld, ynode_get(map, "max"), col, &col->has_max, &col->max) ||
        parse_text_rules(ld, map, col))
        return -1;
    if (col->type == COL_ENUM) return parse_enum_values(ld, ynode_get(map, "values"), col);
    if (ynode_get(map, "values")) return FAIL(ld, ynode_get(map, "values"), "values apply to enum columns only");
    return 0;
}

static int parse_columns(loader *ld, const ynode *seq, schema_extract *ext) {
    if (!seq || seq->kind != YNODE_SEQUENCE || seq->count == 0)
        return FAIL(ld, seq, "'columns' must be a non-empty list");
    ext->columns = calloc(seq->count, sizeof *ext->columns);
    if (!ext->columns) return FAIL(ld, seq, "out of memory");
    for (size_t i = 0; i < seq->count; i++) {
        ext->ncolumns = i + 1;
        if (parse_column(ld, seq->items[i], &ext->columns[i])) return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ext->columns[j].name, ext->columns[i].name))
                return FAIL(ld, seq->items[i], "duplicate column '%s'", ext->columns[i].name);
    }
    return 0;
}

/* Resolves a column name node to its index, with a located error. */
static int column_ref(loader *ld, const schema_extract *ext, const ynode *n, int *out) {
    if (expect_scalar(ld, n, "a column name")) return -1;
    int idx = schema_find_column(ext, n->text);
    if (idx < 0) return FAIL(ld, n, "no column '%s' in extract '%s'", n->text, ext->name);
    *out = idx;
    return 0;
}

/* checks: - date_order: [a, b]    - iin_agrees: [iin, birth_date, sex] */
static int parse_check(loader *ld, const ynode *map, schema_extract *ext, schema_check *ck) {
    if (map->kind != YNODE_MAPPING || map->count != 1)
        return FAIL(ld, map, "a check is one of 'date_order: [a, b]' or "
                             "'iin_agrees: [iin, birth_date, sex]'");
    const ynode *kind = map->items[0], *args = map->items[1];
    size_t want = !strcmp(kind->text, "date_order") ? 2 : !strcmp(kind->text, "iin_agrees") ? 3 : 0;
    if (!want) return FAIL(ld, kind, "unknown check '%s'", kind->text);
    if (args->kind != YNODE_SEQUENCE || args->count != want)
        return FAIL(ld, args, "'%s' takes a list of %zu column names", kind->text, want);
    ck->kind = want == 2 ? CHECK_DATE_ORDER : CHECK_IIN_AGREES;
    int *slots[3] = {&ck->a, &ck->b, &ck->c};
    for (size_t i = 0; i < want; i++)
        if (column_ref(ld, ext, args->items[i], slots[i])) return -1;
    if (ck->kind == CHECK_DATE_ORDER &&
        (ext->columns[ck->a].type != COL_DATE || ext->columns[ck->b].type != COL_DATE))
        return FAIL(ld, args, "date_order compares two date columns");
    if (ck->kind == CHECK_IIN_AGREES &&
        (ext->columns[ck->a].type != COL_IIN || ext->columns[ck->b].type != COL_DATE ||
         ext->columns[ck->c].type != COL_ENUM))
        return FAIL(ld, args, "iin_agrees takes an iin, a date and an enum {M,F} column");
    return 0;
}

static int parse_checks(loader *ld, const ynode *seq, schema_extract *ext) {
    if (!seq) return 0;
    if (seq->kind != YNODE_SEQUENCE) return FAIL(ld, seq, "'checks' must be a list");
    ext->checks = calloc(seq->count + 1, sizeof *ext->checks);
    if (!ext->checks) return FAIL(ld, seq, "out of memory");
    for (size_t i = 0; i < seq->count; i++) {
        if (parse_check(ld, seq->items[i], ext, &ext->checks[i])) return -1;
        ext->nchecks = i + 1;
    }
    return 0;
}

/* references are resolved to extract indexes after all files are read;
 * until then `extract` holds the index of the name in a side table. */
typedef struct {
    const ynode *node;    /* the 'extract' value, for messages */
    const ydoc *doc;      /* the file it is in */
} pending_ref;

static int parse_refs(loader *ld, const ynode *seq, schema_extract *ext, pending_ref **pend) {
    static const char *const keys[] = {"column", "extract", NULL};
    if (!seq) return 0;
    if (seq->kind != YNODE_SEQUENCE) return FAIL(ld, seq, "'references' must be a list");
    ext->refs = calloc(seq->count + 1, sizeof *ext->refs);
    *pend = calloc(seq->count + 1, sizeof **pend);
    if (!ext->refs || !*pend) return FAIL(ld, seq, "out of memory");
    for (size_t i = 0; i < seq->count; i++) {
        const ynode *m = seq->items[i];
        if (m->kind != YNODE_MAPPING || check_keys(ld, m, keys)) return FAIL(ld, m, "a reference is {column: C, extract: E}");
        if (column_ref(ld, ext, ynode_get(m, "column"), &ext->refs[i].column)) return -1;
        if (expect_scalar(ld, ynode_get(m, "extract"), "extract")) return -1;
        (*pend)[i] = (pending_ref){ynode_get(m, "extract"), ld->doc};
        ext->nrefs = i + 1;
    }
    return 0;
}

/* previous_years: N — the file holds the snapshot's calendar year and the
 * N years before it, no earlier periods (-1 when absent: no limit). */
static int parse_previous_years(loader *ld, const ynode *n, int *out) {
    *out = -1;
    if (!n) return 0;
    if (expect_scalar(ld, n, "'previous_years'")) return -1;
    char *end;
    long v = strtol(n->text, &end, 10);
    if (!*n->text || *end || v < 0 || v > 100) return FAIL(ld, n, "'previous_years' is a whole number of years, 0 to 100");
    *out = (int)v;
    return 0;
}

static int parse_extract(loader *ld, schema_extract *ext, pending_ref **pend) {
    static const char *const keys[] = {"extract", "title", "replicated", "key", "previous_years",
                                       "columns", "references", "checks", "doc", NULL};
    const ynode *root = ld->doc->root;
    if (!root || root->kind != YNODE_MAPPING) return FAIL(ld, root, "a schema file is a mapping");
    if (check_keys(ld, root, keys)) return -1;
    const ynode *name = ynode_get(root, "extract"), *title = ynode_get(root, "title");
    if (expect_scalar(ld, name, "'extract'") || expect_scalar(ld, title, "'title'")) return -1;
    for (const char *c = name->text; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_' || (*c >= '0' && *c <= '9')))
            return FAIL(ld, name, "extract names use a-z, 0-9 and _ only");
    if (!(ext->name = strdup(name->text)) || !(ext->title = strdup(title->text)))
        return FAIL(ld, name, "out of memory");
    if (parse_bool(ld, ynode_get(root, "replicated"), &ext->replicated) ||
        parse_columns(ld, ynode_get(root, "columns"), ext) ||
        parse_checks(ld, ynode_get(root, "checks"), ext) ||
        parse_refs(ld, ynode_get(root, "references"), ext, pend))
        return -1;
    if (parse_previous_years(ld, ynode_get(root, "previous_years"), &ext->previous_years)) return -1;
    ext->key_column = -1;
    const ynode *key = ynode_get(root, "key");
    if (key) {
        if (column_ref(ld, ext, key, &ext->key_column)) return -1;
        column_type kt = ext->columns[ext->key_column].type;
        if (kt != COL_IIN && kt != COL_INT && kt != COL_KATOCODE)
            return FAIL(ld, key, "a key column must be of type iin, int or katocode");
        if (ext->columns[ext->key_column].nullable) return FAIL(ld, key, "a key column cannot be nullable");
    }
    return 0;
}

static void extract_free(schema_extract *ext) {
    for (size_t i = 0; i < ext->ncolumns; i++) {
        for (size_t v = 0; v < ext->columns[i].nvalues; v++) free(ext->columns[i].values[v]);
        free(ext->columns[i].values);
        free(ext->columns[i].name);
    }
    free(ext->columns);
    free(ext->checks);
    free(ext->refs);
    free(ext->name);
    free(ext->title);
    free(ext->path);
}

void schema_set_free(schema_set *set) {
    if (!set) return;
    for (size_t i = 0; i < set->count; i++) extract_free(&set->extracts[i]);
    free(set->extracts);
    free(set->order);
    free(set);
}

int schema_find_extract(const schema_set *set, const char *name) {
    for (size_t i = 0; i < set->count; i++)
        if (!strcmp(set->extracts[i].name, name)) return (int)i;
    return -1;
}

int schema_find_column(const schema_extract *ext, const char *name) {
    for (size_t i = 0; i < ext->ncolumns; i++)
        if (!strcmp(ext->columns[i].name, name)) return (int)i;
    return -1;
}

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && !strcmp(s + n - m, suffix);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml names of dir, sorted, so loading order (and messages) never
 * depend on the file system's directory order. */
static char **list_yaml_files(const char *dir, size_t *count, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open schema directory: %m", dir);
        return NULL;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int failed = 0;
    while (!failed && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".yaml")) continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown || !(grown[n] = strdup(de->d_name))) failed = 1;
        if (grown) names = grown;
        if (!failed) n++;
    }
    closedir(d);
    if (!failed && n == 0) snprintf(err, errlen, "%s: no *.yaml schema files", dir);
    if (failed) snprintf(err, errlen, "%s: out of memory", dir);
    if (failed || n == 0) {
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        return NULL;
    }
    qsort(names, n, sizeof *names, compare_names);
    *count = n;
    return names;
}

/* Resolves pending references of extract i and checks they point at a
 * keyed extract with a compatible key type. */
static int resolve_refs(schema_set *set, size_t i, pending_ref *pend, char *err, size_t errlen) {
    schema_extract *ext = &set->extracts[i];
    for (size_t r = 0; r < ext->nrefs; r++) {
        loader ld = {pend[r].doc, err, errlen};
        int target = schema_find_extract(set, pend[r].node->text);
        if (target < 0) return FAIL(&ld, pend[r].node, "no extract '%s'", pend[r].node->text);
        const schema_extract *t = &set->extracts[target];
        if (t->key_column < 0)
            return FAIL(&ld, pend[r].node, "extract '%s' has no key to refer to", t->name);
        if (t->columns[t->key_column].type != ext->columns[ext->refs[r].column].type)
            return FAIL(&ld, pend[r].node, "column type differs from the key of '%s'", t->name);
        ext->refs[r].extract = target;
    }
    return 0;
}

/* Dependencies first: the kato table, then whatever references point at.
 * A cycle through split extracts cannot be checked in one pass: refused. */
static int compute_order(schema_set *set, char *err, size_t errlen) {
    set->order = calloc(set->count, sizeof *set->order);
    char *placed = calloc(set->count, 1);
    if (!set->order || !placed) {
        free(placed);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    while (n < set->count) {
        size_t before = n;
        for (size_t i = 0; i < set->count; i++) {
            const schema_extract *ext = &set->extracts[i];
            int ready = !placed[i];
            if (ready && set->kato_extract >= 0 && (int)i != set->kato_extract)
                for (size_t c = 0; c < ext->ncolumns; c++)
                    ready &= ext->columns[c].type != COL_KATO || placed[set->kato_extract];
            for (size_t r = 0; ready && r < ext->nrefs; r++)
                ready &= ext->refs[r].extract == (int)i || placed[ext->refs[r].extract];
            if (ready) placed[i] = 1, set->order[n++] = i;
        }
        if (n == before) {
            free(placed);
            snprintf(err, errlen, "schemas: references form a cycle");
            return -1;
        }
    }
    free(placed);
    return 0;
}

/* COL_KATO means "exists in the extract named kato": it must be a
 * replicated extract keyed by a katocode column. */
static int find_kato_extract(schema_set *set, char *err, size_t errlen) {
    set->kato_extract = schema_find_extract(set, "kato");
    int needed = 0;
    for (size_t i = 0; i < set->count; i++)
        for (size_t c = 0; c < set->extracts[i].ncolumns; c++)
            needed |= set->extracts[i].columns[c].type == COL_KATO;
    if (!needed) return 0;
    const schema_extract *k = set->kato_extract >= 0 ? &set->extracts[set->kato_extract] : NULL;
    if (!k || !k->replicated || k->key_column < 0 ||
        k->columns[k->key_column].type != COL_KATOCODE) {
        snprintf(err, errlen, "schemas: columns of type kato need an extract 'kato' "
                              "that is replicated and keyed by a katocode column");
        return -1;
    }
    for (size_t r = 0; r < k->nrefs; r++)
        if (set->extracts[k->refs[r].extract].replicated == 0) {
            snprintf(err, errlen, "schemas: kato may only refer to itself");
            return -1;
        }
    return 0;
}

/* Parses the document of file (at path) into ext. The document stays
 * alive (freed by the caller) because pending references point into it. */
static int load_one(const char *path, const char *file, ydoc *doc, schema_extract *ext, pending_ref **pend,
                    char *err, size_t errlen) {
    loader ld = {doc, err, errlen};
    if (parse_extract(&ld, ext, pend)) return -1;
    if (!(ext->path = strdup(path))) return FAIL(&ld, NULL, "out of memory");
    if (strlen(file) != strlen(ext->name) + 5 || strncmp(file, ext->name, strlen(ext->name)))
        return FAIL(&ld, ynode_get(doc->root, "extract"),
                    "extract '%s' must live in %s.yaml", ext->name, ext->name);
    return 0;
}

/* The set of the n documents named files[i] (under dir, or in memory when
 * dir is NULL: texts[i][0..lens[i])). */
static int build_set(const char *dir, char *const *files, const char *const *texts, const size_t *lens, size_t nfiles,
                     schema_set **out, char *err, size_t errlen) {
    schema_set *set = calloc(1, sizeof *set);
    pending_ref **pend = calloc(nfiles + 1, sizeof *pend);
    ydoc **docs = calloc(nfiles + 1, sizeof *docs);
    int rc = (set && pend && docs && (set->extracts = calloc(nfiles + 1, sizeof *set->extracts))) ? 0 : -1;
    if (rc) snprintf(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", files[i]);
        set->count = i + 1;
        docs[i] = dir ? ydoc_load(path, err, errlen) : ydoc_parse(path, texts[i], lens[i], err, errlen);
        rc = docs[i] ? load_one(path, files[i], docs[i], &set->extracts[i], &pend[i], err, errlen) : -1;
    }
    for (size_t i = 0; rc == 0 && i < set->count; i++)
        rc = resolve_refs(set, i, pend[i], err, errlen);
    if (rc == 0) rc = find_kato_extract(set, err, errlen);
    if (rc == 0) rc = compute_order(set, err, errlen);
    for (size_t i = 0; i < nfiles; i++) {
        if (docs) ydoc_free(docs[i]);
        if (pend) free(pend[i]);
    }
    free(pend);
    free(docs);
    if (rc) {
        schema_set_free(set);
        return -1;
    }
    *out = set;
    return 0;
}

int schema_set_load(const char *dir, schema_set **out, char *err, size_t errlen) {
    size_t nfiles = 0;
    char **files = list_yaml_files(dir, &nfiles, err, errlen);
    if (!files) return -1;
    int rc = build_set(dir, files, NULL, NULL, nfiles, out, err, errlen);
    for (size_t i = 0; i < nfiles; i++) free(files[i]);
    free(files);
    return rc;
}

int schema_set_parse(char *const *names, const char *const *texts, const size_t *lens, size_t n, schema_set **out,
                     char *err, size_t errlen) {
    return build_set(NULL, names, texts, lens, n, out, err, errlen);
}
