/* yaml_doc.c — see yaml_doc.h. Builds the tree from libyaml's event stream
 * with an explicit stack (no recursion on hostile nesting; depth capped).
 * Everything an input can make large is capped (file size, nodes, scalar
 * length) and duplicate keys are found with a hash set, so a hostile file
 * costs time linear in its size before it is refused. */
#include "yaml_doc.h"

#include <stdarg.h>
#include <stdint.h>
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

static uint64_t hash_text(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Checks a finished mapping for duplicate keys and non-scalar keys, in
 * time linear in its size (open addressing over the key indexes). */
static int check_mapping(const ydoc *doc, const ynode *map, char *err,
                         size_t errlen) {
    size_t cap = 16;
    while (cap < map->count * 2) cap *= 2;
    size_t *slot = calloc(cap, sizeof *slot); /* key index + 1; 0 = empty */
    if (!slot) return ydoc_error(doc, map, err, errlen, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < map->count && !rc; i++) {
        const ynode *k = map->items[2 * i];
        if (k->kind != YNODE_SCALAR) {
            rc = ydoc_error(doc, k, err, errlen, "mapping keys must be plain words");
            break;
        }
        size_t h = (size_t)hash_text(k->text) & (cap - 1);
        while (slot[h] && strcmp(map->items[2 * (slot[h] - 1)]->text, k->text)) h = (h + 1) & (cap - 1);
        if (slot[h]) rc = ydoc_error(doc, k, err, errlen, "duplicate key '%s'", k->text);
        else slot[h] = i + 1;
    }
    free(slot);
    return rc;
}

static int handle_event(ydoc *doc, yaml_event_t *ev, ynode **stack, int *depth,
                        size_t *nodes, char *err, size_t errlen) {
    ynode *n = NULL;
    ynode at = {.line = (int)ev->start_mark.line + 1, .column = (int)ev->start_mark.column + 1};
    if ((ev->type == YAML_SCALAR_EVENT || ev->type == YAML_SEQUENCE_START_EVENT ||
         ev->type == YAML_MAPPING_START_EVENT) && ++*nodes > YDOC_MAX_NODES)
        return ydoc_error(doc, &at, err, errlen, "more than %d values; a declarative file is smaller", YDOC_MAX_NODES);
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return ydoc_error(doc, NULL, err, errlen, "aliases are not allowed (line %d)",
                          (int)ev->start_mark.line + 1);
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.anchor)
            return ydoc_error(doc, NULL, err, errlen, "anchors are not allowed (line %d)",
                              (int)ev->start_mark.line + 1);
        if (ev->data.scalar.length > YDOC_MAX_SCALAR)
            return ydoc_error(doc, &at, err, errlen, "a value of %zu bytes; at most %d", (size_t)ev->data.scalar.length,
                              YDOC_MAX_SCALAR);
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

ydoc *ydoc_parse(const char *path, const char *text, size_t len, char *err, size_t errlen) {
    if (len > YDOC_MAX_BYTES) {
        snprintf(err, errlen, "%s: %zu bytes; a declarative file has at most %d", path, len, YDOC_MAX_BYTES);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: holds a NUL byte; not a text file", path);
        return NULL;
    }
    ydoc *doc = calloc(1, sizeof *doc);
    yaml_parser_t parser;
    int parser_ready = 0, failed = 0, depth = 0;
    size_t nodes = 0;
    ynode *stack[YDOC_MAX_DEPTH + 1];
    if (!doc || !(doc->path = strdup(path)) || !yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", path);
        failed = 1;
    } else {
        parser_ready = 1;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
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
        failed = handle_event(doc, &ev, stack, &depth, &nodes, err, errlen) != 0;
        yaml_event_delete(&ev);
        if (is_end) break;
    }
    if (parser_ready) yaml_parser_delete(&parser);
    if (failed) {
        ydoc_free(doc);
        return NULL;
    }
    return doc;
}

ydoc *ydoc_load(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %m", path);
        return NULL;
    }
    /* one byte more than allowed, so that an oversized file is named as such */
    char *text = malloc((size_t)YDOC_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, (size_t)YDOC_MAX_BYTES + 1, f) : 0;
    int read_failed = !text || ferror(f);
    fclose(f);
    ydoc *doc = NULL;
    if (read_failed) snprintf(err, errlen, "%s: %s", path, text ? "read error" : "out of memory");
    else if (len > YDOC_MAX_BYTES) snprintf(err, errlen, "%s: larger than %d bytes; a declarative file is smaller", path, YDOC_MAX_BYTES);
    else doc = ydoc_parse(path, text, len, err, errlen);
    free(text);
    return doc;
}
