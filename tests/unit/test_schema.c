/* The schema loader on the real schemas/ and on broken files, whose
 * errors must point at file:line:column. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/schema.h"
#include "test.h"

static int load_text(const char *yaml, char *err, size_t errlen) {
    char dir[] = "/tmp/esep-schema-XXXXXX", path[128];
    if (!mkdtemp(dir)) return -2;
    snprintf(path, sizeof path, "%s/things.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(yaml, f);
    fclose(f);
    schema_set *set = NULL;
    int rc = schema_set_load(dir, &set, err, errlen);
    schema_set_free(set);
    unlink(path);
    rmdir(dir);
    return rc;
}

void suite_schema(void) {
    char err[512];
    TEST_CASE("schema: the project's schemas load") {
        schema_set *set = NULL;
        EXPECT_EQ_INT(schema_set_load("schemas", &set, err, sizeof err), 0);
        if (!set) return;
        EXPECT_EQ_INT(set->count, 9);
        int persons = schema_find_extract(set, "persons"), js = schema_find_extract(set, "job_seekers");
        EXPECT(persons >= 0 && js >= 0);
        EXPECT_EQ_STR(set->extracts[set->order[0]].name, "kato");
        size_t pos_persons = 0, pos_js = 0;
        for (size_t i = 0; i < set->count; i++) {
            if ((int)set->order[i] == persons) pos_persons = i;
            if ((int)set->order[i] == js) pos_js = i;
        }
        EXPECT(pos_persons < pos_js);
        const schema_extract *p = &set->extracts[persons];
        EXPECT_EQ_STR(p->columns[p->key_column].name, "iin");
        EXPECT_EQ_INT(set->extracts[js].refs[0].extract, persons);
        schema_set_free(set);
    }
    TEST_CASE("schema: unknown key is located") {
        EXPECT_EQ_INT(load_text("extract: things\ntitle: T\ncolumns:\n  - {name: a, type: int, nulable: true}\n",
                                err, sizeof err), -1);
        EXPECT(strstr(err, "things.yaml:4:") != NULL && strstr(err, "unknown key 'nulable'") != NULL);
    }
    TEST_CASE("schema: unknown type") {
        EXPECT_EQ_INT(load_text("extract: things\ntitle: T\ncolumns:\n  - name: a\n    type: float\n", err, sizeof err), -1);
        EXPECT(strstr(err, "things.yaml:5:11: unknown type 'float'") != NULL);
    }
    TEST_CASE("schema: name must match the file") {
        EXPECT_EQ_INT(load_text("extract: other\ntitle: T\ncolumns:\n  - {name: a, type: int}\n", err, sizeof err), -1);
        EXPECT(strstr(err, "must live in other.yaml") != NULL);
    }
    TEST_CASE("schema: bad reference and bad check") {
        EXPECT_EQ_INT(load_text("extract: things\ntitle: T\ncolumns:\n  - {name: a, type: int}\n"
                                "references:\n  - {column: a, extract: nowhere}\n", err, sizeof err), -1);
        EXPECT(strstr(err, "no extract 'nowhere'") != NULL);
        EXPECT_EQ_INT(load_text("extract: things\ntitle: T\ncolumns:\n  - {name: a, type: int}\n"
                                "checks:\n  - date_order: [a, b]\n", err, sizeof err), -1);
        EXPECT(strstr(err, "no column 'b'") != NULL);
    }
    TEST_CASE("schema: YAML syntax error is located") {
        EXPECT_EQ_INT(load_text("extract: things\ntitle: [unclosed\n", err, sizeof err), -1);
        EXPECT(strstr(err, "things.yaml:") != NULL);
    }
}
