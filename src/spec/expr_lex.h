/* expr_lex.h — private to the expression language (expr.c): splits an
 * expression's text into tokens. Kept apart from the parser so that the
 * byte-level rules (what a name, a number or a 'string' is) live in one
 * place and the parser only ever sees whole tokens with their offsets. */
#ifndef ESEP_EXPR_LEX_H
#define ESEP_EXPR_LEX_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TOK_END, TOK_INT, TOK_STRING, TOK_NAME,
    TOK_LPAREN, TOK_RPAREN, TOK_COMMA,
    TOK_PLUS, TOK_MINUS, TOK_STAR, TOK_SLASH, TOK_PERCENT,
    TOK_EQ, TOK_NE, TOK_LT, TOK_LE, TOK_GT, TOK_GE,
    /* keywords (reserved: never names) */
    TOK_AND, TOK_OR, TOK_NOT, TOK_IS, TOK_NULL, TOK_IN, TOK_BETWEEN,
    TOK_TRUE, TOK_FALSE
} expr_token_kind;

typedef struct {
    expr_token_kind kind;
    size_t pos, len;   /* bytes text[pos .. pos+len), quotes included */
    int64_t value;     /* TOK_INT */
} expr_token;

/* Reads the token that starts at or after text[pos] (skipping blanks).
 * Returns 0, or -1 with a message (no column) in err and the offending
 * offset in *errpos. Pure: reading the same position twice is a peek. */
int expr_lex(const char *text, size_t len, size_t pos, expr_token *tok,
             size_t *errpos, char *err, size_t errlen);

/* Writes the bytes a TOK_STRING token stands for ('' is one quote) into
 * out, which has room for tok->len bytes. Returns their count. */
size_t expr_lex_unquote(const char *text, const expr_token *tok, char *out);

/* How a token reads in a message: "end of expression" or 'text' (cut
 * short when long), written into out. */
void expr_lex_describe(const char *text, const expr_token *tok, char *out, size_t outlen);

#endif
