/* json.c — see json.h. */
#include "json.h"

#include <errno.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int json_write_string(FILE *out, const char *s) {
    int failed = fputc('"', out) == EOF;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') failed |= fprintf(out, "\\%c", *p) < 0;
        else if (*p == '\n') failed |= fputs("\\n", out) == EOF;
        else if (*p < 0x20) failed |= fprintf(out, "\\u%04x", *p) < 0;
        else failed |= fputc(*p, out) == EOF;
    }
    failed |= fputc('"', out) == EOF;
    return failed ? -1 : 0;
}

/* ---- parsing --------------------------------------------------------- */

#define JSON_MAX_DEPTH 32

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
} json_parser;

static json_value *parse_value(json_parser *p, int depth);

static json_value *json_fail(json_parser *p, const char *what) {
    if (p->err[0] == '\0') snprintf(p->err, p->errlen, "JSON: %s at byte %zu", what, p->pos);
    return NULL;
}

static void skip_space(json_parser *p) {
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r' || p->s[p->pos] == '\t'))
        p->pos++;
}

static json_value *new_value(json_kind kind) {
    json_value *v = calloc(1, sizeof *v);
    if (v) v->kind = kind;
    return v;
}

void json_free(json_value *v) {
    if (!v) return;
    for (size_t i = 0; i < v->count; i++) {
        if (v->keys) free(v->keys[i]);
        if (v->items) json_free(v->items[i]);
    }
    free(v->keys), free(v->items), free(v->string), free(v);
}

static int hex4(json_parser *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++, p->pos++) {
        char c = p->pos < p->len ? p->s[p->pos] : 0;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Appends the UTF-8 form of a BMP code point (no surrogates). */
static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F)), 2;
    o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static char *parse_string_raw(json_parser *p) {
    if (p->pos >= p->len || p->s[p->pos] != '"') return json_fail(p, "expected a string"), NULL;
    p->pos++;
    char *out = malloc(p->len - p->pos + 1);
    size_t n = 0;
    int bad = 0; /* a control byte or bad escape: the string fails even if a quote follows */
    while (out && !bad && p->pos < p->len && p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) {
            bad = 1;
            break;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        char e = p->pos < p->len ? p->s[p->pos++] : 0;
        const char *simple = e ? strchr("\"\\/bfnrt", e) : NULL;
        unsigned cp;
        if (simple)
            out[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
        else if (e == 'u' && !hex4(p, &cp) && cp != 0 && !(cp >= 0xD800 && cp <= 0xDFFF))
            n += put_utf8(out + n, cp);
        else
            bad = 1;
    }
    if (!out || bad || p->pos >= p->len || p->s[p->pos] != '"') {
        free(out);
        return json_fail(p, "bad string"), NULL;
    }
    p->pos++;
    out[n] = '\0';
    return out;
}

static json_value *parse_number(json_parser *p) {
    size_t start = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '-') p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    size_t n = p->pos - digits;
    if (n == 0 || n > 19 || (n > 1 && p->s[digits] == '0')) return json_fail(p, "bad number");
    if (p->pos < p->len && strchr(".eE", p->s[p->pos])) return json_fail(p, "fractions are not expected");
    char buf[24]; /* the text is not NUL-terminated: strtoll reads a copy */
    memcpy(buf, p->s + start, p->pos - start);
    buf[p->pos - start] = '\0';
    errno = 0;
    long long value = strtoll(buf, NULL, 10);
    if (errno == ERANGE) return json_fail(p, "integer out of range");
    json_value *v = new_value(JSON_INT);
    if (!v) return json_fail(p, "out of memory");
    v->integer = value;
    return v;
}

static int append(json_value *v, char *key, json_value *item) {
    json_value **items = realloc(v->items, (v->count + 1) * sizeof *items);
    if (!items) return -1;
    v->items = items;
    if (v->kind == JSON_OBJECT) {
        char **keys = realloc(v->keys, (v->count + 1) * sizeof *keys);
        if (!keys) return -1;
        v->keys = keys;
        keys[v->count] = key;
    }
    items[v->count++] = item;
    return 0;
}

/* Arrays and objects: items separated by commas, closed by `close`. */
static json_value *parse_container(json_parser *p, int depth, json_kind kind, char close) {
    json_value *v = new_value(kind);
    if (!v) return json_fail(p, "out of memory");
    p->pos++;
    skip_space(p);
    if (p->pos < p->len && p->s[p->pos] == close) return p->pos++, v;
    for (;;) {
        char *key = NULL;
        skip_space(p);
        if (kind == JSON_OBJECT) {
            if (!(key = parse_string_raw(p))) break;
            skip_space(p);
            if (p->pos >= p->len || p->s[p->pos++] != ':') {
                free(key);
                json_fail(p, "expected ':'");
                break;
            }
        }
        json_value *item = parse_value(p, depth + 1);
        if (!item || append(v, key, item)) {
            free(key), json_free(item);
            json_fail(p, "bad member");
            break;
        }
        skip_space(p);
        char c = p->pos < p->len ? p->s[p->pos++] : 0;
        if (c == close) return v;
        if (c != ',') {
            json_fail(p, "expected ',' or a closing bracket");
            break;
        }
    }
    json_free(v);
    return NULL;
}

static json_value *parse_literal(json_parser *p, const char *word, json_kind kind, int value) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n)) return json_fail(p, "unexpected character");
    p->pos += n;
    json_value *v = new_value(kind);
    if (v) v->integer = value;
    return v ? v : json_fail(p, "out of memory");
}

static json_value *parse_value(json_parser *p, int depth) {
    skip_space(p);
    char c = p->pos < p->len ? p->s[p->pos] : 0;
    if ((c == '{' || c == '[') && depth >= JSON_MAX_DEPTH) return json_fail(p, "nested too deeply");
    if (c == '{') return parse_container(p, depth, JSON_OBJECT, '}');
    if (c == '[') return parse_container(p, depth, JSON_ARRAY, ']');
    if (c == '"') {
        char *s = parse_string_raw(p);
        json_value *v = s ? new_value(JSON_STRING) : NULL;
        if (!v) return free(s), json_fail(p, "bad string");
        v->string = s;
        return v;
    }
    if (c == 't') return parse_literal(p, "true", JSON_BOOL, 1);
    if (c == 'f') return parse_literal(p, "false", JSON_BOOL, 0);
    if (c == 'n') return parse_literal(p, "null", JSON_NULL, 0);
    return parse_number(p);
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    json_parser p = {text, len, 0, err, errlen};
    err[0] = '\0';
    json_value *v = parse_value(&p, 0);
    skip_space(&p);
    if (v && p.pos != len) {
        json_free(v);
        return json_fail(&p, "trailing characters");
    }
    return v;
}

const json_value *json_get(const json_value *object, const char *key) {
    if (!object || object->kind != JSON_OBJECT) return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (!strcmp(object->keys[i], key)) return object->items[i];
    return NULL;
}
