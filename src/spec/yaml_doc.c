/* yaml_doc.c — see yaml_doc.h. Builds the tree from libyaml's event stream
 * with an explicit stack (no recursion on hostile nesting; depth capped). */
#include "yaml_doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YDOC_MAX_DEPTH 32

static void ynode_free(ynode *n) {
    if (!n) return;
    for (size_t i = 0; i < n->nitems; i++) ynode_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

void ydoc_free(ydoc *doc) {
    if (!doc) return;
    ynode_free(doc->root);
    free(doc->path);
    free(doc);
}

int ydoc_error(const ydoc *doc, const ynode *node, char *err, size_t errlen,
               const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%d:%d: %s", doc->path, node ? node->line : 1,
             node ? node->column : 1, msg);
    return -1;
}

const ynode *ynode_get(const ynode *map, const char *key) {
    if (!map || map->kind != YNODE_MAPPING) return NULL;
    for (size_t i = 0; i + 1 < map->count * 2; i += 2)
        if (strcmp(map->items[i]->text, key) == 0) return map->items[i + 1];
    return NULL;
}

static ynode *ynode_new(ynode_kind kind, const yaml_event_t *ev) {
    ynode *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->line = (int)ev->start_mark.line + 1;
    n->column = (int)ev->start_mark.column + 1;
    return n;
}

/* Appends child to a sequence or mapping; mappings store keys and values
 * alternately, so `count` counts pairs. Returns 0, or -1 out of memory
 * (child then still belongs to the caller). */
static int ynode_append(ynode *parent, ynode *child) {
    ynode **items = realloc(parent->items, (parent->nitems + 1) * sizeof *items);
    if (!items) return -1;
    parent->items = items;
    items[parent->nitems++] = child;
    parent->count = parent->kind == YNODE_MAPPING ? parent->nitems / 2 : parent->nitems;
    return 0;
}

/* Checks a finished mapping for duplicate keys and non-scalar keys. */
static int check_mapping(const ydoc *doc, const ynode *map, char *err,
                         size_t errlen) {
    for (size_t i = 0; i < map->count; i++) {
        const ynode *k = map->items[2 * i];
        if (k->kind != YNODE_SCALAR)
            return ydoc_error(doc, k, err, errlen, "mapping keys must be plain words");
        for (size_t j = 0; j < i; j++)
            if (strcmp(map->items[2 * j]->text, k->text) == 0)
                return ydoc_error(doc, k, err, errlen, "duplicate key '%s'", k->text);
    }
    return 0;
}

static int handle_event(ydoc *doc, yaml_event_t *ev, ynode **stack, int *depth,
                        char *err, size_t errlen) {
    ynode *n = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return ydoc_error(doc, NULL, err, errlen, "aliases are not allowed (line %d)",
                          (int)ev->start_mark.line + 1);
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.anchor)
            return ydoc_error(doc, NULL, err, errlen, "anchors are not allowed (line %d)",
                              (int)ev->start_mark.line + 1);
        n = ynode_new(YNODE_SCALAR, ev);
        if (!n || !(n->text = strndup((const char *)ev->data.scalar.value,
                                      ev->data.scalar.length))) {
            ynode_free(n);
            return ydoc_error(doc, NULL, err, errlen, "out of memory");
        }
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (*depth >= YDOC_MAX_DEPTH)
            return ydoc_error(doc, NULL, err, errlen, "nesting deeper than %d", YDOC_MAX_DEPTH);
        n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQUENCE
                                                            : YNODE_MAPPING, ev);
        if (!n) return ydoc_error(doc, NULL, err, errlen, "out of memory");
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        ynode *done = stack[--(*depth)];
        if (done->kind == YNODE_MAPPING && check_mapping(doc, done, err, errlen))
            return -1;
        return 0;
    }
    default:
        return 0;
    }
    if (*depth == 0) {
        if (doc->root) {
            ynode_free(n);
            return ydoc_error(doc, NULL, err, errlen, "only one document per file");
        }
        doc->root = n;
    } else if (ynode_append(stack[*depth - 1], n)) {
        ynode_free(n);
        return ydoc_error(doc, NULL, err, errlen, "out of memory");
    }
    if (n->kind != YNODE_SCALAR) stack[(*depth)++] = n;
    return 0;
}

ydoc *ydoc_load(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %m", path);
        return NULL;
    }
    ydoc *doc = calloc(1, sizeof *doc);
    yaml_parser_t parser;
    int parser_ready = 0, failed = 0, depth = 0;
    ynode *stack[YDOC_MAX_DEPTH + 1];
    if (!doc || !(doc->path = strdup(path)) || !yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", path);
        failed = 1;
    } else {
        parser_ready = 1;
        yaml_parser_set_input_file(&parser, f);
    }
    while (!failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(err, errlen, "%s:%d:%d: %s", path,
                     (int)parser.problem_mark.line + 1,
                     (int)parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "YAML syntax error");
            failed = 1;
            break;
        }
        int is_end = ev.type == YAML_STREAM_END_EVENT;
        failed = handle_event(doc, &ev, stack, &depth, err, errlen) != 0;
        yaml_event_delete(&ev);
        if (is_end) break;
    }
    if (parser_ready) yaml_parser_delete(&parser);
    fclose(f);
    if (failed) {
        ydoc_free(doc);
        return NULL;
    }
    return doc;
}
