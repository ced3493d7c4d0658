/* The YAML tree in memory (src/spec/yaml_doc.h): positions, the caps on
 * size, values and value length, NUL bytes, and duplicate keys found by
 * the hash set among many keys (messages worked out by hand). */
#include <stdio.h>
#include <stdlib.h>

#include "spec/yaml_doc.h"
#include "test.h"

static const char *parse_error(const char *text, size_t len) {
    static char err[512];
    err[0] = '\0';
    ydoc *d = ydoc_parse("t.yaml", text, len, err, sizeof err);
    if (d) snprintf(err, sizeof err, "parsed");
    ydoc_free(d);
    return err;
}

void suite_yaml_doc(void) {
    TEST_CASE("yaml_doc: a tree with line:column, parsed from memory") {
        const char *text = "a: 1\nb:\n  - x\n  - {c: \"y\"}\n";
        char err[256];
        ydoc *d = ydoc_parse("t.yaml", text, strlen(text), err, sizeof err);
        EXPECT(d && d->root && d->root->kind == YNODE_MAPPING && d->root->count == 2);
        const ynode *b = d ? ynode_get(d->root, "b") : NULL;
        EXPECT(b && b->kind == YNODE_SEQUENCE && b->count == 2);
        if (b && b->count == 2) {
            EXPECT_EQ_INT(b->items[1]->line, 4);
            EXPECT_EQ_INT(b->items[1]->column, 5);
            EXPECT(ynode_get(b->items[1], "c") && ynode_get(b->items[1], "c")->quoted);
        }
        ydoc_free(d);
    }
    TEST_CASE("yaml_doc: duplicate keys among 5 000, first and last") {
        size_t cap = 5002 * 16, n = 0;
        char *text = malloc(cap);
        for (int i = 0; i < 5000; i++) n += (size_t)snprintf(text + n, cap - n, "k%d: %d\n", i, i);
        n += (size_t)snprintf(text + n, cap - n, "k0: again\n");
        EXPECT_EQ_STR(parse_error(text, n), "t.yaml:5001:1: duplicate key 'k0'");
        EXPECT_EQ_STR(parse_error(text, n - strlen("k0: again\n")), "parsed");
        free(text);
    }
    TEST_CASE("yaml_doc: caps and NUL bytes are refused with a position") {
        EXPECT_EQ_STR(parse_error("a: b\0c\n", 7), "t.yaml: holds a NUL byte; not a text file");
        size_t big = (size_t)YDOC_MAX_BYTES + 1;
        char *text = malloc(big);
        memset(text, '#', big);
        EXPECT_EQ_STR(parse_error(text, big), "t.yaml: 1048577 bytes; a declarative file has at most 1048576");
        memcpy(text, "a: ", 3);
        memset(text + 3, 'x', YDOC_MAX_SCALAR + 1);
        text[3 + YDOC_MAX_SCALAR + 1] = '\n';
        EXPECT_EQ_STR(parse_error(text, 3 + YDOC_MAX_SCALAR + 2), "t.yaml:1:4: a value of 8193 bytes; at most 8192");
        size_t n = 0;
        n += (size_t)snprintf(text, big, "[");
        for (int i = 0; i < YDOC_MAX_NODES; i++) n += (size_t)snprintf(text + n, big - n, "1,");
        text[n - 1] = ']';
        EXPECT_EQ_STR(parse_error(text, n), "t.yaml:1:40000: more than 20000 values; a declarative file is smaller");
        free(text);
    }
}
