/* The strict JSON parser (src/base/json.h) and string writer: values read
 * back with their exact types, every refusal the header promises (trailing
 * commas, comments, fractions, \u0000, depth over 32, trailing bytes,
 * control characters in strings, overflow), and strings written by
 * json_write_string parsed back to the same bytes. Expected values are
 * written out by hand. */
#include <stdio.h>
#include <stdlib.h>

#include "base/json.h"
#include "test.h"

static json_value *parse(const char *text) {
    char err[256];
    return json_parse(text, strlen(text), err, sizeof err);
}

static int refused(const char *text) {
    char err[256] = "";
    json_value *v = json_parse(text, strlen(text), err, sizeof err);
    int ok = v == NULL && err[0] != '\0';
    json_free(v);
    return ok;
}

static void parse_cases(void) {
    TEST_CASE("json: an object with every kind of value") {
        json_value *v = parse(" {\"a\": [1, -2, true, false, null], \"s\": \"x\\ty\\u00e9\\u0416\", \"o\": {}} ");
        EXPECT(v && v->kind == JSON_OBJECT && v->count == 3);
        const json_value *a = v ? json_get(v, "a") : NULL;
        EXPECT(a && a->kind == JSON_ARRAY && a->count == 5);
        if (a && a->count == 5) {
            EXPECT_EQ_INT(a->items[0]->integer, 1);
            EXPECT_EQ_INT(a->items[1]->integer, -2);
            EXPECT(a->items[2]->kind == JSON_BOOL && a->items[2]->integer == 1);
            EXPECT(a->items[3]->kind == JSON_BOOL && a->items[3]->integer == 0);
            EXPECT(a->items[4]->kind == JSON_NULL);
        }
        const json_value *s = v ? json_get(v, "s") : NULL;
        EXPECT(s && s->kind == JSON_STRING);
        if (s) EXPECT_EQ_STR(s->string, "x\ty\xc3\xa9\xd0\x96"); /* é = C3 A9, Ж = D0 96 */
        EXPECT(v && json_get(v, "o") && json_get(v, "o")->count == 0);
        EXPECT(v && json_get(v, "missing") == NULL);
        json_free(v);
    }
    TEST_CASE("json: integers at the limits of long long") {
        json_value *v = parse("[9223372036854775807, -9223372036854775808, 0]");
        EXPECT(v && v->count == 3);
        if (v && v->count == 3) {
            EXPECT(v->items[0]->integer == 9223372036854775807LL);
            EXPECT(v->items[1]->integer == -9223372036854775807LL - 1);
        }
        json_free(v);
    }
    TEST_CASE("json: what strict RFC 8259 (as json.h reads it) refuses") {
        const char *bad[] = {"", "[1,]", "{\"a\":1,}", "[1] x", "// c\n1", "1.5", "1e3", "\"\\u0000\"",
                             "\"a\tb\"", "\"a\t\"", "\"\\x\"", "[9223372036854775808]", "{\"a\" 1}", "{1:2}", "[01]",
                             "\"unterminated", "tru", "[\"\\ud800\"]", "{\"a\":1 \"b\":2}"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            if (!refused(bad[i])) test_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
    }
    TEST_CASE("json: depth 32 is read, 33 refused") {
        char deep[80];
        memset(deep, '[', 32), memset(deep + 32, ']', 32), deep[64] = '\0';
        json_value *v = parse(deep);
        EXPECT(v != NULL);
        json_free(v);
        memset(deep, '[', 33), memset(deep + 33, ']', 33), deep[66] = '\0';
        EXPECT(refused(deep));
    }
    TEST_CASE("json: a NUL byte inside the text is refused, not cut") {
        char err[256];
        EXPECT(json_parse("\"ab\0c\"", 6, err, sizeof err) == NULL);
        EXPECT(json_parse("1\0", 2, err, sizeof err) == NULL);
    }
}

static void write_cases(void) {
    TEST_CASE("json: json_write_string round-trips quotes, controls and UTF-8") {
        const char *in = "q\"b\\s/\n\r\t\x01\x1f k\xc3\xa9";
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        EXPECT_EQ_INT(json_write_string(f, in), 0);
        fclose(f);
        EXPECT_EQ_STR(buf, "\"q\\\"b\\\\s/\\n\\u000d\\u0009\\u0001\\u001f k\xc3\xa9\"");
        char err[256];
        json_value *v = json_parse(buf, len, err, sizeof err);
        EXPECT(v && v->kind == JSON_STRING);
        if (v) EXPECT_EQ_STR(v->string, in);
        json_free(v);
        free(buf);
    }
}

void suite_json(void) {
    parse_cases();
    write_cases();
}
