/* yaml_doc.h — a declarative file (schemas/, jobs/) loaded as a small tree
 * of nodes, each remembering its line and column, so that every error in
 * such a file can be reported as file:line:column. Owns the tree; nothing
 * else in esep touches libyaml. Anchors, aliases and tags are refused: these
 * files are data, not programs. */
#ifndef ESEP_YAML_DOC_H
#define ESEP_YAML_DOC_H

#include <stddef.h>

typedef enum { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING } ynode_kind;

typedef struct ynode ynode;
struct ynode {
    ynode_kind kind;
    int line, column;   /* 1-based position in the file */
    char *text;         /* SCALAR: the value, NUL-terminated */
    int quoted;         /* SCALAR: written in quotes (so never a number) */
    size_t count;       /* SEQUENCE: items; MAPPING: key/value pairs */
    size_t nitems;      /* entries stored in items (2 × count for mappings) */
    ynode **items;      /* SEQUENCE: items; MAPPING: key0,val0,key1,val1,… */
};

typedef struct {
    char *path;
    ynode *root;        /* NULL for an empty file */
} ydoc;

/* Limits on what a declarative file may hold (the real ones are a few KiB
 * and a few hundred values); beyond them the file is refused at once. */
#define YDOC_MAX_BYTES (1 << 20)
#define YDOC_MAX_NODES 20000
#define YDOC_MAX_SCALAR 8192

/* Loads and parses the file at path. Returns the document, or NULL with a
 * "path:line:column: message" in err. The caller frees with ydoc_free. */
ydoc *ydoc_load(const char *path, char *err, size_t errlen);

/* The same for text[0..len) held in memory (not NUL-terminated; a NUL in
 * it is refused); path only names it in messages. Time and memory are
 * linear in len. */
ydoc *ydoc_parse(const char *path, const char *text, size_t len, char *err, size_t errlen);

/* Frees the document and all its nodes; NULL is allowed. Cannot fail. */
void ydoc_free(ydoc *doc);

/* The value of key in a MAPPING node, or NULL when absent (or when map is
 * not a mapping). Cannot fail. */
const ynode *ynode_get(const ynode *map, const char *key);

/* Formats "path:line:column: <message>" into err for a node. Always
 * returns -1, so a caller can `return ydoc_error(...)`. */
int ydoc_error(const ydoc *doc, const ynode *node, char *err, size_t errlen,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
