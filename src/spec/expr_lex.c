/* expr_lex.c — see expr_lex.h. Names are [A-Za-z_][A-Za-z0-9_]* joined by
 * single dots (`person.sex`); numbers are unsigned decimal integers that
 * must fit int64 (the sign is the parser's unary minus); strings are
 * SQL-style, quoted with ' and with '' standing for one quote. */
#include "expr_lex.h"

#include <stdio.h>
#include <string.h>

static int is_blank(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int is_digit(char ch) {
    return ch >= '0' && ch <= '9';
}

static int is_name_start(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static int is_name_char(char ch) {
    return is_name_start(ch) || is_digit(ch);
}

static const struct {
    const char *word;
    expr_token_kind kind;
} keywords[] = {
    {"and", TOK_AND}, {"or", TOK_OR}, {"not", TOK_NOT}, {"is", TOK_IS},
    {"null", TOK_NULL}, {"in", TOK_IN}, {"between", TOK_BETWEEN},
    {"true", TOK_TRUE}, {"false", TOK_FALSE},
};

static expr_token_kind name_or_keyword(const char *s, size_t len) {
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i].word) == len && !memcmp(keywords[i].word, s, len))
            return keywords[i].kind;
    return TOK_NAME;
}

/* A name: identifier parts joined by dots. */
static int lex_name(const char *text, size_t len, expr_token *tok,
                    size_t *errpos, char *err, size_t errlen) {
    size_t i = tok->pos;
    for (;;) {
        while (i < len && is_name_char(text[i])) i++;
        if (i < len && text[i] == '.') {
            if (i + 1 >= len || !is_name_start(text[i + 1])) {
                *errpos = i;
                snprintf(err, errlen, "a name cannot end with '.'");
                return -1;
            }
            i++;
            continue;
        }
        break;
    }
    tok->len = i - tok->pos;
    tok->kind = name_or_keyword(text + tok->pos, tok->len);
    return 0;
}

static int lex_number(const char *text, size_t len, expr_token *tok,
                      size_t *errpos, char *err, size_t errlen) {
    size_t i = tok->pos;
    uint64_t v = 0;
    int overflow = 0;
    while (i < len && is_digit(text[i])) {
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (v > ((uint64_t)INT64_MAX - digit) / 10) overflow = 1;
        else v = v * 10 + digit;
        i++;
    }
    if (i < len && (is_name_char(text[i]) || text[i] == '.')) {
        *errpos = tok->pos;
        snprintf(err, errlen, "malformed number (integers only, e.g. 365)");
        return -1;
    }
    if (overflow) {
        *errpos = tok->pos;
        snprintf(err, errlen, "integer literal out of range (at most %lld)",
                 (long long)INT64_MAX);
        return -1;
    }
    tok->kind = TOK_INT;
    tok->len = i - tok->pos;
    tok->value = (int64_t)v;
    return 0;
}

static int lex_string(const char *text, size_t len, expr_token *tok,
                      size_t *errpos, char *err, size_t errlen) {
    size_t i = tok->pos + 1;
    for (;;) {
        if (i >= len) {
            *errpos = tok->pos;
            snprintf(err, errlen, "unterminated string literal");
            return -1;
        }
        if (text[i] == '\'') {
            if (i + 1 < len && text[i + 1] == '\'') {
                i += 2;
                continue;
            }
            break;
        }
        i++;
    }
    tok->kind = TOK_STRING;
    tok->len = i + 1 - tok->pos;
    return 0;
}

/* One- and two-byte operators and punctuation. 0 when ch starts none. */
static int lex_operator(const char *text, size_t len, expr_token *tok) {
    char ch = text[tok->pos], next = tok->pos + 1 < len ? text[tok->pos + 1] : 0;
    tok->len = 1;
    switch (ch) {
    case '(': tok->kind = TOK_LPAREN; return 1;
    case ')': tok->kind = TOK_RPAREN; return 1;
    case ',': tok->kind = TOK_COMMA; return 1;
    case '+': tok->kind = TOK_PLUS; return 1;
    case '-': tok->kind = TOK_MINUS; return 1;
    case '*': tok->kind = TOK_STAR; return 1;
    case '/': tok->kind = TOK_SLASH; return 1;
    case '%': tok->kind = TOK_PERCENT; return 1;
    case '<':
        tok->kind = next == '=' ? TOK_LE : TOK_LT;
        break;
    case '>':
        tok->kind = next == '=' ? TOK_GE : TOK_GT;
        break;
    case '=':
        if (next != '=') return 0;
        tok->kind = TOK_EQ;
        break;
    case '!':
        if (next != '=') return 0;
        tok->kind = TOK_NE;
        break;
    default:
        return 0;
    }
    tok->len = next == '=' ? 2 : 1;
    return 1;
}

int expr_lex(const char *text, size_t len, size_t pos, expr_token *tok,
             size_t *errpos, char *err, size_t errlen) {
    while (pos < len && is_blank(text[pos])) pos++;
    memset(tok, 0, sizeof *tok);
    tok->pos = pos;
    if (pos >= len) {
        tok->kind = TOK_END;
        return 0;
    }
    char ch = text[pos];
    if (is_name_start(ch)) return lex_name(text, len, tok, errpos, err, errlen);
    if (is_digit(ch)) return lex_number(text, len, tok, errpos, err, errlen);
    if (ch == '\'') return lex_string(text, len, tok, errpos, err, errlen);
    if (lex_operator(text, len, tok)) return 0;
    *errpos = pos;
    if (ch == '=')
        snprintf(err, errlen, "unexpected '=' (equality is '==')");
    else if ((unsigned char)ch >= 0x21 && (unsigned char)ch < 0x7f)
        snprintf(err, errlen, "unexpected character '%c'", ch);
    else
        snprintf(err, errlen, "unexpected byte 0x%02x", (unsigned)(unsigned char)ch);
    return -1;
}

size_t expr_lex_unquote(const char *text, const expr_token *tok, char *out) {
    size_t n = 0, end = tok->pos + tok->len - 1;
    for (size_t i = tok->pos + 1; i < end; i++) {
        out[n++] = text[i];
        if (text[i] == '\'') i++; /* the second quote of '' */
    }
    return n;
}

void expr_lex_describe(const char *text, const expr_token *tok, char *out, size_t outlen) {
    if (tok->kind == TOK_END) {
        snprintf(out, outlen, "end of expression");
        return;
    }
    int shown = tok->len > 32 ? 32 : (int)tok->len;
    const char *quote = tok->kind == TOK_STRING ? "" : "'";
    snprintf(out, outlen, "%s%.*s%s%s", quote, shown, text + tok->pos,
             tok->len > 32 ? "..." : "", quote);
}
