/* expr.c — see expr.h. Owns the parser, the type checker and the code
 * generator of the expression language, and the program they produce.
 *
 * One pass: a recursive-descent parser (one function per precedence level)
 * checks the types of each node as soon as its operands are known and emits
 * the node's instruction (expr_vm.h) right away, so there is no syntax
 * tree. What a parsed sub-expression leaves behind is a `value`: a scalar
 * known at compile time, a vector slot, a text column, or a pending
 * 'string' literal that the comparison consuming it resolves (to an enum
 * index, or to bytes for text). An instruction whose operands are all
 * scalars is run at once on one row and becomes a scalar (constant
 * folding), so `E - 365` costs nothing per batch.
 *
 * Slots: 0 is the caller's output; scratch slots are recycled as soon as
 * the instruction that reads them is emitted (every intermediate value of
 * a tree is read exactly once), so a program needs about as many scratch
 * vectors as the expression is deep, not as it is long. Input columns get
 * a slot each: int64 columns are read in place, narrower ones are widened
 * once per batch into the slot's buffer. */
#include "expr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/date.h"
#include "expr_lex.h"
#include "expr_vm.h"

#define EXPR_MAX_TEXT 4096 /* bytes of expression text */
#define EXPR_MAX_DEPTH 64  /* nested parentheses, calls and prefix operators */
#define EXPR_MAX_ARGS 3    /* the most any function takes */
#define OUT_SLOT 0
#define NO_NAME ((size_t)-1)

typedef enum { SLOT_OUT, SLOT_TEMP, SLOT_COLUMN } slot_kind;

typedef struct {
    slot_kind kind;
    int in_use;     /* SLOT_TEMP, while compiling: holds a live value */
    size_t name;    /* SLOT_COLUMN: env index */
    int64_t *buf;   /* SLOT_TEMP, or SLOT_COLUMN widened from int32/uint8 */
    size_t cap;
} expr_slot;

struct expr_program {
    expr_type result_type;
    expr_instr *code;
    size_t ncode, code_cap;
    expr_slot *slots;
    size_t nslots, slots_cap;
    int64_t *lists;          /* OP_IN members */
    size_t nlists, lists_cap;
    expr_string *strings;    /* string literals, by reference into bytes */
    size_t nstrings, strings_cap;
    char *bytes;
    size_t nbytes, bytes_cap;
    size_t *used;            /* env indexes read, ascending */
    size_t nused, used_cap;
    const int64_t **read;    /* per slot, bound by expr_eval */
    int64_t **write;
};

/* What a parsed sub-expression produced. */
typedef enum { FORM_SCALAR, FORM_VECTOR, FORM_STRING, FORM_TEXT } value_form;

typedef struct {
    value_form form;
    expr_type type;       /* FORM_STRING: EXPR_TEXT until resolved */
    int literal;          /* scalar int made of integer literals only */
    int borrowed;         /* a second reference: never releases its slot */
    int32_t slot;         /* FORM_VECTOR */
    int64_t imm;          /* FORM_SCALAR */
    uint32_t str;         /* FORM_STRING: index into strings */
    size_t name;          /* FORM_TEXT column; enum: the name it came from */
    const char *const *enum_values;
    size_t nenum;
    size_t pos;           /* where the sub-expression starts in the text */
} value;

typedef struct {
    const char *text;
    size_t len;
    const expr_env *env;
    expr_program *p;
    expr_token tok;       /* the current token */
    int depth;
    int failed;
    char *err;
    size_t errlen;
    int64_t date_lo, date_hi, month_lo, month_hi;
} compiler;

/* ---- errors ---------------------------------------------------------- */

/* Records the first error as "column C: message"; always returns -1. */
static int fail(compiler *c, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(compiler *c, size_t pos, const char *fmt, ...) {
    if (c->failed) return -1;
    c->failed = 1;
    if (!c->err || !c->errlen) return -1;
    int k = snprintf(c->err, c->errlen, "column %zu: ", pos + 1);
    if (k < 0 || (size_t)k >= c->errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_oom(compiler *c) {
    return fail(c, 0, "out of memory");
}

static const char *type_name(expr_type t) {
    static const char *const names[] = {"bool", "int", "money", "date",
                                        "month", "enum", "text"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* How a value reads in a message: "date", "enum sex", "a string literal". */
static const char *describe(const compiler *c, const value *v, char *buf, size_t len) {
    if (v->form == FORM_STRING) return "a string literal";
    if (v->type == EXPR_ENUM && v->name != NO_NAME) {
        snprintf(buf, len, "enum %s", c->env->names[v->name].name);
        return buf;
    }
    return type_name(v->type);
}

static const char *token_text(const compiler *c, char *buf, size_t len) {
    expr_lex_describe(c->text, &c->tok, buf, len);
    return buf;
}

/* ---- program storage -------------------------------------------------- */

/* Makes room for `need` elements of `size` bytes in *arr. 0 or -1. */
static int reserve(void **arr, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need) n *= 2;
    void *grown = realloc(*arr, n * size);
    if (!grown) return -1;
    *arr = grown;
    *cap = n;
    return 0;
}

static int32_t new_slot(compiler *c, slot_kind kind, size_t name) {
    expr_program *p = c->p;
    if (p->nslots >= INT32_MAX ||
        reserve((void **)&p->slots, &p->slots_cap, p->nslots + 1, sizeof *p->slots))
        return fail_oom(c);
    expr_slot *s = &p->slots[p->nslots];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->name = name;
    s->in_use = kind == SLOT_TEMP;
    return (int32_t)p->nslots++;
}

/* A scratch slot: a released one when there is one. -1 on out of memory. */
static int32_t alloc_temp(compiler *c) {
    for (size_t i = 0; i < c->p->nslots; i++) {
        expr_slot *s = &c->p->slots[i];
        if (s->kind == SLOT_TEMP && !s->in_use) {
            s->in_use = 1;
            return (int32_t)i;
        }
    }
    return new_slot(c, SLOT_TEMP, 0);
}

/* The value will not be read again: its scratch slot may be reused. */
static void release(compiler *c, const value *v) {
    if (v->form != FORM_VECTOR || v->borrowed) return;
    expr_slot *s = &c->p->slots[v->slot];
    if (s->kind == SLOT_TEMP) s->in_use = 0;
}

static int record_used(compiler *c, size_t name) {
    expr_program *p = c->p;
    size_t at = 0;
    while (at < p->nused && p->used[at] < name) at++;
    if (at < p->nused && p->used[at] == name) return 0;
    if (reserve((void **)&p->used, &p->used_cap, p->nused + 1, sizeof *p->used))
        return fail_oom(c);
    memmove(p->used + at + 1, p->used + at, (p->nused - at) * sizeof *p->used);
    p->used[at] = name;
    p->nused++;
    return 0;
}

/* The slot of input column `name`, made on first use. -1 on out of memory. */
static int32_t column_slot(compiler *c, size_t name) {
    for (size_t i = 0; i < c->p->nslots; i++)
        if (c->p->slots[i].kind == SLOT_COLUMN && c->p->slots[i].name == name)
            return (int32_t)i;
    if (record_used(c, name)) return -1;
    return new_slot(c, SLOT_COLUMN, name);
}

/* Stores a string literal's bytes; returns its index or -1. */
static int64_t add_string(compiler *c, const char *s, size_t len) {
    expr_program *p = c->p;
    if (reserve((void **)&p->bytes, &p->bytes_cap, p->nbytes + len + 1, 1) ||
        reserve((void **)&p->strings, &p->strings_cap, p->nstrings + 1, sizeof *p->strings))
        return fail_oom(c);
    memcpy(p->bytes + p->nbytes, s, len);
    p->strings[p->nstrings].off = (uint32_t)p->nbytes;
    p->strings[p->nstrings].len = (uint32_t)len;
    p->nbytes += len;
    return (int64_t)p->nstrings++;
}

/* Appends another reference to string `index`, so that the strings of one
 * instruction are contiguous. Returns the new index or -1. */
static int64_t repeat_string(compiler *c, uint32_t index) {
    expr_program *p = c->p;
    if (reserve((void **)&p->strings, &p->strings_cap, p->nstrings + 1, sizeof *p->strings))
        return fail_oom(c);
    p->strings[p->nstrings] = p->strings[index];
    return (int64_t)p->nstrings++;
}

static int append_instr(compiler *c, const expr_instr *in) {
    expr_program *p = c->p;
    if (reserve((void **)&p->code, &p->code_cap, p->ncode + 1, sizeof *p->code))
        return fail_oom(c);
    p->code[p->ncode++] = *in;
    return 0;
}

/* ---- emitting instructions ------------------------------------------- */

static expr_instr make_instr(expr_opcode op) {
    expr_instr in;
    memset(&in, 0, sizeof in);
    in.op = op;
    in.a.slot = in.b.slot = in.c.slot = EXPR_SCALAR;
    in.lo = -INT64_MAX;
    in.hi = INT64_MAX;
    return in;
}

static expr_operand operand_of(const value *v) {
    expr_operand o;
    o.slot = v->form == FORM_VECTOR ? v->slot : EXPR_SCALAR;
    o.imm = v->form == FORM_SCALAR ? v->imm : 0;
    return o;
}

static int all_scalar(const expr_instr *in) {
    if (expr_vm_reads_text(in->op)) return 0;
    const expr_operand *ops[3] = {&in->a, &in->b, &in->c};
    for (int k = 0; k < expr_vm_arity(in->op); k++)
        if (ops[k]->slot != EXPR_SCALAR) return 0;
    return 1;
}

/* Runs an all-scalar instruction now, on one row. */
static int64_t fold(const compiler *c, expr_instr *in) {
    int64_t result = 0;
    int64_t *write[1] = {&result};
    expr_vm vm;
    memset(&vm, 0, sizeof vm);
    vm.write = write;
    vm.lists = c->p->lists;
    in->dst = 0;
    expr_vm_run(&vm, in, 1);
    return result;
}

/* Emits `in` (operands set, already released) as a value of type t that
 * starts at `start`, or folds it when every operand is a scalar. */
static int emit(compiler *c, expr_instr *in, expr_type t, size_t start, value *out) {
    value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    v.pos = start;
    v.name = NO_NAME;
    if (all_scalar(in)) {
        v.form = FORM_SCALAR;
        v.imm = fold(c, in);
    } else {
        int32_t dst = alloc_temp(c);
        if (dst < 0) return -1;
        in->dst = dst;
        if (append_instr(c, in)) return -1;
        v.form = FORM_VECTOR;
        v.slot = dst;
    }
    *out = v;
    return 0;
}

static int emit_unary(compiler *c, expr_opcode op, value *a, expr_type t, value *out) {
    expr_instr in = make_instr(op);
    in.a = operand_of(a);
    release(c, a);
    return emit(c, &in, t, a->pos, out);
}

static int emit_binary(compiler *c, expr_opcode op, value *a, value *b, expr_type t,
                       value *out) {
    expr_instr in = make_instr(op);
    in.a = operand_of(a);
    in.b = operand_of(b);
    size_t start = a->pos < b->pos ? a->pos : b->pos;
    release(c, a);
    release(c, b);
    return emit(c, &in, t, start, out);
}

/* An instruction over text column `name` (and `name2`), with strings
 * [list_at, +list_len). Never folded. */
static int emit_text(compiler *c, expr_opcode op, size_t name, size_t name2,
                     uint32_t list_at, uint32_t list_len, size_t start, value *out) {
    expr_instr in = make_instr(op);
    in.column = (int32_t)name;
    in.column2 = (int32_t)name2;
    in.list_at = list_at;
    in.list_len = list_len;
    return emit(c, &in, op == OP_TEXT_ROWS ? EXPR_TEXT : EXPR_BOOL, start, out);
}

static value scalar(expr_type t, int64_t imm, size_t pos) {
    value v;
    memset(&v, 0, sizeof v);
    v.form = FORM_SCALAR;
    v.type = t;
    v.imm = imm;
    v.pos = pos;
    v.name = NO_NAME;
    return v;
}

/* ---- type rules ------------------------------------------------------- */

/* A number, date, month, bool or enum (not text, not a pending string). */
static int is_plain(const value *v) {
    return v->form == FORM_SCALAR || v->form == FORM_VECTOR;
}

static int is_int_literal(const value *v) {
    return v->form == FORM_SCALAR && v->type == EXPR_INT && v->literal;
}

/* An integer literal next to money is an amount in tiyn (`amount > 0`). */
static void unify_literals(value *a, value *b) {
    if (a->type == EXPR_MONEY && is_plain(a) && is_int_literal(b)) b->type = EXPR_MONEY;
    if (b->type == EXPR_MONEY && is_plain(b) && is_int_literal(a)) a->type = EXPR_MONEY;
}

static int same_enum(const value *a, const value *b) {
    if (a->enum_values == b->enum_values && a->nenum == b->nenum) return 1;
    if (a->nenum != b->nenum || !a->enum_values || !b->enum_values) return 0;
    for (size_t i = 0; i < a->nenum; i++)
        if (strcmp(a->enum_values[i], b->enum_values[i])) return 0;
    return 1;
}

static int same_type(const value *a, const value *b) {
    return is_plain(a) && is_plain(b) && a->type == b->type &&
           (a->type != EXPR_ENUM || same_enum(a, b));
}

static int is_ordered(expr_type t) {
    return t == EXPR_INT || t == EXPR_MONEY || t == EXPR_DATE || t == EXPR_MONTH;
}

/* Result type of a op b for + - * / %; -1 when the operation means nothing. */
static int arith_type(expr_opcode op, expr_type a, expr_type b, expr_type *t) {
    int numeric = a == b && (a == EXPR_INT || a == EXPR_MONEY);
    int dated = a == EXPR_DATE || a == EXPR_MONTH;
    switch (op) {
    case OP_ADD:
        if (numeric || (dated && b == EXPR_INT)) *t = a;
        else if (a == EXPR_INT && (b == EXPR_DATE || b == EXPR_MONTH)) *t = b;
        else return -1;
        return 0;
    case OP_SUB:
        if (numeric || (dated && b == EXPR_INT)) *t = a;
        else if (dated && a == b) *t = EXPR_INT; /* days or months between */
        else return -1;
        return 0;
    case OP_MUL:
        if (a == EXPR_INT && b == EXPR_INT) *t = EXPR_INT;
        else if ((a == EXPR_MONEY && b == EXPR_INT) || (a == EXPR_INT && b == EXPR_MONEY))
            *t = EXPR_MONEY;
        else return -1;
        return 0;
    case OP_DIV:
        if (b != EXPR_INT || (a != EXPR_INT && a != EXPR_MONEY)) return -1;
        *t = a;
        return 0;
    default: /* OP_MOD */
        if (a != EXPR_INT || b != EXPR_INT) return -1;
        *t = EXPR_INT;
        return 0;
    }
}

/* Dates and months produced by arithmetic stay within years 1..9999. */
static void set_range(const compiler *c, expr_type t, expr_instr *in) {
    if (t == EXPR_DATE) {
        in->lo = c->date_lo;
        in->hi = c->date_hi;
    } else if (t == EXPR_MONTH) {
        in->lo = c->month_lo;
        in->hi = c->month_hi;
    }
}

/* ---- the grammar -------------------------------------------------------- */

static int parse_expr(compiler *c, value *out);
static int parse_comparison(compiler *c, value *out);
static int parse_additive(compiler *c, value *out);
static int parse_unary(compiler *c, value *out);

/* Moves to the next token. */
static int advance(compiler *c) {
    char msg[160];
    size_t errpos = 0;
    if (expr_lex(c->text, c->len, c->tok.pos + c->tok.len, &c->tok, &errpos, msg, sizeof msg))
        return fail(c, errpos, "%s", msg);
    return 0;
}

/* The token after the current one, without moving. */
static int peek(compiler *c, expr_token *next) {
    char msg[160];
    size_t errpos = 0;
    if (expr_lex(c->text, c->len, c->tok.pos + c->tok.len, next, &errpos, msg, sizeof msg))
        return fail(c, errpos, "%s", msg);
    return 0;
}

/* Consumes a token of kind `kind` or fails with "expected <what>, got X". */
static int expect(compiler *c, expr_token_kind kind, const char *what) {
    char buf[64];
    if (c->tok.kind != kind)
        return fail(c, c->tok.pos, "expected %s, got %s", what, token_text(c, buf, sizeof buf));
    return advance(c);
}

static int enter(compiler *c, size_t pos) {
    if (++c->depth > EXPR_MAX_DEPTH)
        return fail(c, pos, "expression nested deeper than %d levels", EXPR_MAX_DEPTH);
    return 0;
}

/* and / or / not */
static int combine_logic(compiler *c, expr_opcode op, const char *word, size_t pos,
                         value *a, value *b, value *out) {
    char ba[64], bb[64];
    if (!is_plain(a) || a->type != EXPR_BOOL || !is_plain(b) || b->type != EXPR_BOOL)
        return fail(c, pos, "'%s' needs bool operands, got %s and %s", word,
                    describe(c, a, ba, sizeof ba), describe(c, b, bb, sizeof bb));
    return emit_binary(c, op, a, b, EXPR_BOOL, out);
}

static int parse_not(compiler *c, value *out) {
    if (c->tok.kind != TOK_NOT) {
        return parse_comparison(c, out);
    }
    size_t pos = c->tok.pos;
    char buf[64];
    int rc = enter(c, pos) || advance(c) || parse_not(c, out);
    c->depth--;
    if (rc) return -1;
    if (!is_plain(out) || out->type != EXPR_BOOL)
        return fail(c, pos, "'not' needs a bool operand, got %s",
                    describe(c, out, buf, sizeof buf));
    size_t start = pos;
    if (emit_unary(c, OP_NOT, out, EXPR_BOOL, out)) return -1;
    out->pos = start;
    return 0;
}

static int parse_and(compiler *c, value *out) {
    if (parse_not(c, out)) return -1;
    while (c->tok.kind == TOK_AND) {
        size_t pos = c->tok.pos;
        value rhs;
        if (advance(c) || parse_not(c, &rhs) ||
            combine_logic(c, OP_AND, "and", pos, out, &rhs, out))
            return -1;
    }
    return 0;
}

static int parse_or(compiler *c, value *out) {
    if (parse_and(c, out)) return -1;
    while (c->tok.kind == TOK_OR) {
        size_t pos = c->tok.pos;
        value rhs;
        if (advance(c) || parse_and(c, &rhs) ||
            combine_logic(c, OP_OR, "or", pos, out, &rhs, out))
            return -1;
    }
    return 0;
}

static int parse_expr(compiler *c, value *out) {
    int rc = enter(c, c->tok.pos) || parse_or(c, out);
    c->depth--;
    return rc ? -1 : 0;
}

/* ---- comparisons -------------------------------------------------------- */

static int is_comparison(expr_token_kind k) {
    return (k >= TOK_EQ && k <= TOK_GE) || k == TOK_IS || k == TOK_IN || k == TOK_BETWEEN;
}

static const char *op_symbol(expr_token_kind k) {
    switch (k) {
    case TOK_EQ: return "==";
    case TOK_NE: return "!=";
    case TOK_LT: return "<";
    case TOK_LE: return "<=";
    case TOK_GT: return ">";
    case TOK_GE: return ">=";
    case TOK_PLUS: return "+";
    case TOK_MINUS: return "-";
    case TOK_STAR: return "*";
    case TOK_SLASH: return "/";
    case TOK_PERCENT: return "%";
    default: return "?";
    }
}

/* Turns string literal s into the index of its value in enum e, or fails
 * naming the literal and the allowed values. */
static int resolve_enum_literal(compiler *c, const value *e, value *s) {
    const expr_string *str = &c->p->strings[s->str];
    const char *lit = c->p->bytes + str->off;
    for (size_t k = 0; k < e->nenum; k++) {
        if (strlen(e->enum_values[k]) == str->len && !memcmp(e->enum_values[k], lit, str->len)) {
            s->form = FORM_SCALAR;
            s->type = EXPR_ENUM;
            s->imm = (int64_t)k;
            s->name = e->name;
            s->enum_values = e->enum_values;
            s->nenum = e->nenum;
            return 0;
        }
    }
    char allowed[256] = "", what[64];
    size_t used = 0;
    for (size_t k = 0; k < e->nenum && used < sizeof allowed; k++) {
        int w = snprintf(allowed + used, sizeof allowed - used, "%s%s", k ? ", " : "",
                         e->enum_values[k]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return fail(c, s->pos, "'%.*s' is not a value of %s (allowed: %s)",
                (int)(str->len > 64 ? 64 : str->len), lit, describe(c, e, what, sizeof what),
                allowed);
}

static int compile_compare(compiler *c, expr_token_kind op, size_t pos, value *a, value *b,
                           value *out);

/* One side is a 'string' literal: text bytes, or an enum value. */
static int compare_string(compiler *c, expr_token_kind op, size_t pos, value *a, value *b,
                          value *out) {
    value *s = a->form == FORM_STRING ? a : b, *o = s == a ? b : a;
    char buf[64];
    if (o->form == FORM_STRING) return fail(c, pos, "cannot compare two string literals");
    if (o->form == FORM_TEXT) {
        if (op != TOK_EQ && op != TOK_NE)
            return fail(c, pos, "text compares only with ==, != and in, not %s", op_symbol(op));
        int64_t at = repeat_string(c, s->str);
        if (at < 0) return -1;
        return emit_text(c, op == TOK_EQ ? OP_TEXT_IN : OP_TEXT_NOT_IN, o->name, 0,
                         (uint32_t)at, 1, a->pos, out);
    }
    if (o->type != EXPR_ENUM)
        return fail(c, pos, "cannot compare %s with a string literal",
                    describe(c, o, buf, sizeof buf));
    if (resolve_enum_literal(c, o, s)) return -1;
    return compile_compare(c, op, pos, a, b, out);
}

/* Both sides are text columns: bytes equal or not. */
static int compare_text(compiler *c, expr_token_kind op, size_t pos, value *a, value *b,
                        value *out) {
    char ba[64], bb[64];
    if (a->form != FORM_TEXT || b->form != FORM_TEXT)
        return fail(c, pos, "cannot compare %s with %s", describe(c, a, ba, sizeof ba),
                    describe(c, b, bb, sizeof bb));
    if (op != TOK_EQ && op != TOK_NE)
        return fail(c, pos, "text compares only with ==, != and in, not %s", op_symbol(op));
    return emit_text(c, op == TOK_EQ ? OP_TEXT_EQ : OP_TEXT_NE, a->name, b->name, 0, 0,
                     a->pos, out);
}

static int compile_compare(compiler *c, expr_token_kind op, size_t pos, value *a, value *b,
                           value *out) {
    char ba[64], bb[64];
    if (a->form == FORM_STRING || b->form == FORM_STRING)
        return compare_string(c, op, pos, a, b, out);
    if (a->form == FORM_TEXT || b->form == FORM_TEXT) return compare_text(c, op, pos, a, b, out);
    unify_literals(a, b);
    if (!same_type(a, b))
        return fail(c, pos, "cannot compare %s with %s", describe(c, a, ba, sizeof ba),
                    describe(c, b, bb, sizeof bb));
    if (!is_ordered(a->type) && op != TOK_EQ && op != TOK_NE)
        return fail(c, pos, "%s values compare only with == and !=, not %s",
                    describe(c, a, ba, sizeof ba), op_symbol(op));
    switch (op) {
    case TOK_EQ: return emit_binary(c, OP_EQ, a, b, EXPR_BOOL, out);
    case TOK_NE: return emit_binary(c, OP_NE, a, b, EXPR_BOOL, out);
    case TOK_LT: return emit_binary(c, OP_LT, a, b, EXPR_BOOL, out);
    case TOK_LE: return emit_binary(c, OP_LE, a, b, EXPR_BOOL, out);
    case TOK_GT: return emit_binary(c, OP_LT, b, a, EXPR_BOOL, out);
    default: return emit_binary(c, OP_LE, b, a, EXPR_BOOL, out);
    }
}

/* x is null / x is not null; `pos` is the `is`. */
static int parse_is(compiler *c, size_t pos, value *x) {
    int negate = 0;
    char buf[64];
    if (c->tok.kind == TOK_NOT) {
        negate = 1;
        if (advance(c)) return -1;
    }
    if (c->tok.kind != TOK_NULL)
        return fail(c, c->tok.pos, "expected 'null' after '%s', got %s",
                    negate ? "is not" : "is", token_text(c, buf, sizeof buf));
    if (advance(c)) return -1;
    if (x->form == FORM_STRING)
        return fail(c, pos, "'is null' needs a column or value, not a string literal");
    if (x->form == FORM_TEXT)
        return emit_text(c, negate ? OP_TEXT_NOT_NULL : OP_TEXT_IS_NULL, x->name, 0, 0, 0,
                         x->pos, x);
    if (x->type == EXPR_BOOL) { /* booleans are never null */
        release(c, x);
        *x = scalar(EXPR_BOOL, negate, x->pos);
        return 0;
    }
    return emit_unary(c, negate ? OP_NOT_NULL : OP_IS_NULL, x, EXPR_BOOL, x);
}

/* x between lo and hi  ==  lo <= x and x <= hi (false when any is null). */
static int parse_between(compiler *c, size_t pos, value *x) {
    value lo, hi, ge, le;
    char bx[64], bo[64];
    if (parse_additive(c, &lo) || expect(c, TOK_AND, "'and' of 'between ... and ...'") ||
        parse_additive(c, &hi))
        return -1;
    unify_literals(x, &lo);
    unify_literals(x, &hi);
    unify_literals(&lo, &hi);
    if (!is_plain(x) || !is_ordered(x->type))
        return fail(c, pos, "'between' needs int, money, date or month, not %s",
                    describe(c, x, bx, sizeof bx));
    const value *bad = !same_type(x, &lo) ? &lo : !same_type(x, &hi) ? &hi : NULL;
    if (bad)
        return fail(c, bad->pos, "cannot compare %s with %s", describe(c, x, bx, sizeof bx),
                    describe(c, bad, bo, sizeof bo));
    value xb = *x;
    xb.borrowed = 1;
    if (emit_binary(c, OP_LE, &lo, &xb, EXPR_BOOL, &ge) ||
        emit_binary(c, OP_LE, &xb, &hi, EXPR_BOOL, &le))
        return -1;
    size_t start = x->pos;
    release(c, x);
    if (emit_binary(c, OP_AND, &ge, &le, EXPR_BOOL, x)) return -1;
    x->pos = start;
    return 0;
}

/* The list of `x in (...)`: elements parsed into a growing array. */
typedef struct {
    value *items;
    size_t count, cap;
} value_list;

static int parse_list(compiler *c, size_t pos, value_list *list) {
    char buf[64];
    if (expect(c, TOK_LPAREN, "'(' after 'in'")) return -1;
    for (;;) {
        if (reserve((void **)&list->items, &list->cap, list->count + 1, sizeof *list->items))
            return fail_oom(c);
        if (parse_expr(c, &list->items[list->count])) return -1;
        list->count++;
        if (c->tok.kind == TOK_RPAREN) return advance(c);
        if (c->tok.kind != TOK_COMMA)
            return fail(c, c->tok.pos, "expected ',' or ')' in the list of 'in' at column %zu, got %s",
                        pos + 1, token_text(c, buf, sizeof buf));
        if (advance(c)) return -1;
    }
}

/* text in ('a', 'b'): one instruction over the literals. */
static int compile_text_in(compiler *c, value *x, value_list *list) {
    uint32_t first = (uint32_t)c->p->nstrings;
    for (size_t i = 0; i < list->count; i++) {
        if (list->items[i].form != FORM_STRING)
            return fail(c, list->items[i].pos, "text is tested with 'in' against string literals only");
        if (repeat_string(c, list->items[i].str) < 0) return -1;
    }
    return emit_text(c, OP_TEXT_IN, x->name, 0, first, (uint32_t)list->count, x->pos, x);
}

/* Checks each element against x (resolving enum literals). */
static int check_list(compiler *c, value *x, value_list *list) {
    char bx[64], be[64];
    for (size_t i = 0; i < list->count; i++) {
        value *e = &list->items[i];
        if (e->form == FORM_STRING && x->type == EXPR_ENUM && resolve_enum_literal(c, x, e))
            return -1;
        unify_literals(x, e);
        if (!same_type(x, e))
            return fail(c, e->pos, "cannot compare %s with %s", describe(c, x, bx, sizeof bx),
                        describe(c, e, be, sizeof be));
    }
    return 0;
}

/* x in (constants): one OP_IN over a list of immediates. */
static int emit_in_constants(compiler *c, value *x, value_list *list) {
    expr_program *p = c->p;
    if (reserve((void **)&p->lists, &p->lists_cap, p->nlists + list->count, sizeof *p->lists))
        return fail_oom(c);
    expr_instr in = make_instr(OP_IN);
    in.list_at = (uint32_t)p->nlists;
    in.list_len = (uint32_t)list->count;
    for (size_t i = 0; i < list->count; i++) p->lists[p->nlists++] = list->items[i].imm;
    in.a = operand_of(x);
    release(c, x);
    return emit(c, &in, EXPR_BOOL, x->pos, x);
}

/* x in (a, b, ...) with computed members: x == a or x == b or ... */
static int emit_in_chain(compiler *c, value *x, value_list *list) {
    value xb = *x, acc, eq;
    xb.borrowed = 1;
    if (emit_binary(c, OP_EQ, &xb, &list->items[0], EXPR_BOOL, &acc)) return -1;
    for (size_t i = 1; i < list->count; i++)
        if (emit_binary(c, OP_EQ, &xb, &list->items[i], EXPR_BOOL, &eq) ||
            emit_binary(c, OP_OR, &acc, &eq, EXPR_BOOL, &acc))
            return -1;
    size_t start = x->pos;
    release(c, x);
    *x = acc;
    x->pos = start;
    return 0;
}

static int compile_in(compiler *c, size_t pos, value *x, value_list *list) {
    char buf[64];
    if (x->form == FORM_STRING)
        return fail(c, x->pos, "a string literal cannot be tested with 'in'");
    if (x->form == FORM_TEXT) return compile_text_in(c, x, list);
    if (x->type == EXPR_BOOL)
        return fail(c, pos, "'in' needs int, money, date, month or enum, not %s",
                    describe(c, x, buf, sizeof buf));
    if (check_list(c, x, list)) return -1;
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].form != FORM_SCALAR) return emit_in_chain(c, x, list);
    return emit_in_constants(c, x, list);
}

static int parse_in(compiler *c, size_t pos, value *x) {
    value_list list = {NULL, 0, 0};
    int rc = parse_list(c, pos, &list) || compile_in(c, pos, x, &list);
    free(list.items);
    return rc ? -1 : 0;
}

/* The part after the left operand of a comparison. */
static int parse_comparison_tail(compiler *c, value *x) {
    expr_token op = c->tok;
    value rhs;
    if (advance(c)) return -1;
    switch (op.kind) {
    case TOK_IS: return parse_is(c, op.pos, x);
    case TOK_IN: return parse_in(c, op.pos, x);
    case TOK_BETWEEN: return parse_between(c, op.pos, x);
    default:
        if (parse_additive(c, &rhs)) return -1;
        return compile_compare(c, op.kind, op.pos, x, &rhs, x);
    }
}

/* additive [ (== != < <= > >= | is [not] null | in (...) | between) ... ] */
static int parse_comparison(compiler *c, value *out) {
    if (parse_additive(c, out)) return -1;
    if (!is_comparison(c->tok.kind)) return 0;
    if (parse_comparison_tail(c, out)) return -1;
    if (is_comparison(c->tok.kind))
        return fail(c, c->tok.pos, "comparisons do not chain; join them with 'and'");
    return 0;
}

/* ---- arithmetic --------------------------------------------------------- */

static int compile_arith(compiler *c, expr_token_kind tok, size_t pos, value *a, value *b,
                         value *out) {
    static const expr_opcode ops[] = {[TOK_PLUS] = OP_ADD, [TOK_MINUS] = OP_SUB,
                                      [TOK_STAR] = OP_MUL, [TOK_SLASH] = OP_DIV,
                                      [TOK_PERCENT] = OP_MOD};
    expr_opcode op = ops[tok];
    char ba[64], bb[64];
    expr_type t;
    if (op == OP_ADD || op == OP_SUB) unify_literals(a, b);
    if (!is_plain(a) || !is_plain(b) || arith_type(op, a->type, b->type, &t))
        return fail(c, pos, "cannot apply '%s' to %s and %s", op_symbol(tok),
                    describe(c, a, ba, sizeof ba), describe(c, b, bb, sizeof bb));
    int literal = a->literal && b->literal;
    expr_instr in = make_instr(op);
    set_range(c, t, &in);
    in.a = operand_of(a);
    in.b = operand_of(b);
    size_t start = a->pos;
    release(c, a);
    release(c, b);
    if (emit(c, &in, t, start, out)) return -1;
    out->literal = literal;
    return 0;
}

static int parse_term(compiler *c, value *out) {
    if (parse_unary(c, out)) return -1;
    while (c->tok.kind == TOK_STAR || c->tok.kind == TOK_SLASH || c->tok.kind == TOK_PERCENT) {
        expr_token op = c->tok;
        value rhs;
        if (advance(c) || parse_unary(c, &rhs) ||
            compile_arith(c, op.kind, op.pos, out, &rhs, out))
            return -1;
    }
    return 0;
}

static int parse_additive(compiler *c, value *out) {
    if (parse_term(c, out)) return -1;
    while (c->tok.kind == TOK_PLUS || c->tok.kind == TOK_MINUS) {
        expr_token op = c->tok;
        value rhs;
        if (advance(c) || parse_term(c, &rhs) ||
            compile_arith(c, op.kind, op.pos, out, &rhs, out))
            return -1;
    }
    return 0;
}

/* ---- primaries and calls ----------------------------------------------- */

static int parse_primary(compiler *c, value *out);

static int parse_unary(compiler *c, value *out) {
    if (c->tok.kind != TOK_MINUS) return parse_primary(c, out);
    size_t pos = c->tok.pos;
    char buf[64];
    int rc = enter(c, pos) || advance(c) || parse_unary(c, out);
    c->depth--;
    if (rc) return -1;
    if (!is_plain(out) || (out->type != EXPR_INT && out->type != EXPR_MONEY))
        return fail(c, pos, "unary '-' needs int or money, not %s",
                    describe(c, out, buf, sizeof buf));
    int literal = out->literal;
    if (emit_unary(c, OP_NEG, out, out->type, out)) return -1;
    out->literal = literal;
    out->pos = pos;
    return 0;
}

static int lookup_name(compiler *c, value *out) {
    size_t count = c->env ? c->env->count : 0, pos = c->tok.pos;
    size_t i = 0;
    while (i < count && !(strlen(c->env->names[i].name) == c->tok.len &&
                          !memcmp(c->env->names[i].name, c->text + pos, c->tok.len)))
        i++;
    if (i == count)
        return fail(c, pos, "unknown name '%.*s'", (int)c->tok.len, c->text + pos);
    const expr_name *nm = &c->env->names[i];
    memset(out, 0, sizeof *out);
    out->type = nm->type;
    out->pos = pos;
    out->name = i;
    out->enum_values = nm->enum_values;
    out->nenum = nm->nenum;
    if (nm->type == EXPR_TEXT && nm->is_constant)
        return fail(c, pos, "'%s' is a text constant, which expressions cannot use", nm->name);
    if (nm->is_constant) {
        out->form = FORM_SCALAR;
        out->imm = nm->constant;
    } else if (nm->type == EXPR_TEXT) {
        out->form = FORM_TEXT;
        if (record_used(c, i)) return -1;
    } else {
        out->form = FORM_VECTOR;
        out->slot = column_slot(c, i);
        if (out->slot < 0) return -1;
    }
    return advance(c);
}

typedef enum { FN_AGE, FN_MONTH, FN_YEAR_START, FN_MAX, FN_MIN, FN_IF, FN_ICD10_IN } function_id;

static const struct {
    const char *name;
    int nargs;
} functions[] = {
    [FN_AGE] = {"age", 2},     [FN_MONTH] = {"month", 1}, [FN_YEAR_START] = {"year_start", 1},
    [FN_MAX] = {"max", 2},     [FN_MIN] = {"min", 2},     [FN_IF] = {"if", 3},
    [FN_ICD10_IN] = {"icd10_in", 3},
};

/* Fails unless argument `k` (0-based) of fn is a date. */
static int want_date(compiler *c, function_id fn, value *args, int k) {
    char buf[64];
    if (is_plain(&args[k]) && args[k].type == EXPR_DATE) return 0;
    return fail(c, args[k].pos, "%s() argument %d must be a date, not %s", functions[fn].name,
                k + 1, describe(c, &args[k], buf, sizeof buf));
}

static int compile_date_function(compiler *c, function_id fn, value *args, value *out) {
    expr_instr in;
    if (want_date(c, fn, args, 0) || (fn == FN_AGE && want_date(c, fn, args, 1))) return -1;
    in = make_instr(fn == FN_AGE ? OP_AGE : fn == FN_MONTH ? OP_MONTH_OF : OP_YEAR_START);
    in.lo = c->date_lo;
    in.hi = c->date_hi;
    in.a = operand_of(&args[0]);
    if (fn == FN_AGE) in.b = operand_of(&args[1]);
    release(c, &args[0]);
    if (fn == FN_AGE) release(c, &args[1]);
    expr_type t = fn == FN_AGE ? EXPR_INT : fn == FN_MONTH ? EXPR_MONTH : EXPR_DATE;
    return emit(c, &in, t, args[0].pos, out);
}

static int compile_max_min(compiler *c, function_id fn, value *args, value *out) {
    char ba[64], bb[64];
    unify_literals(&args[0], &args[1]);
    if (!same_type(&args[0], &args[1]) || !is_ordered(args[0].type))
        return fail(c, args[1].pos, "%s() needs two ints, moneys, dates or months, got %s and %s",
                    functions[fn].name, describe(c, &args[0], ba, sizeof ba),
                    describe(c, &args[1], bb, sizeof bb));
    return emit_binary(c, fn == FN_MAX ? OP_MAX : OP_MIN, &args[0], &args[1], args[0].type, out);
}

static int compile_if(compiler *c, value *args, value *out) {
    char ba[64], bb[64];
    if (!is_plain(&args[0]) || args[0].type != EXPR_BOOL)
        return fail(c, args[0].pos, "if() condition must be bool, not %s",
                    describe(c, &args[0], ba, sizeof ba));
    unify_literals(&args[1], &args[2]);
    if (!same_type(&args[1], &args[2]))
        return fail(c, args[2].pos, "if() branches must have one type (not text), got %s and %s",
                    describe(c, &args[1], ba, sizeof ba), describe(c, &args[2], bb, sizeof bb));
    value result = args[1];
    if (args[0].form == FORM_SCALAR) { /* decided now; the other branch is unused */
        result = args[0].imm ? args[1] : args[2];
        release(c, args[0].imm ? &args[2] : &args[1]);
    } else {
        expr_instr in = make_instr(OP_SELECT);
        in.a = operand_of(&args[0]);
        in.b = operand_of(&args[1]);
        in.c = operand_of(&args[2]);
        for (int k = 0; k < 3; k++) release(c, &args[k]);
        if (emit(c, &in, args[1].type, args[0].pos, &result)) return -1;
        result.name = args[1].name;
        result.enum_values = args[1].enum_values;
        result.nenum = args[1].nenum;
    }
    result.literal = 0;
    *out = result;
    return 0;
}

static int compile_icd10_in(compiler *c, value *args, value *out) {
    char buf[64];
    if (args[0].form != FORM_TEXT)
        return fail(c, args[0].pos, "icd10_in() argument 1 must be a text column, not %s",
                    describe(c, &args[0], buf, sizeof buf));
    for (int k = 1; k <= 2; k++)
        if (args[k].form != FORM_STRING || c->p->strings[args[k].str].len != 3)
            return fail(c, args[k].pos, "icd10_in() argument %d must be a 3-character code like 'I00'",
                        k + 1);
    const char *lo = c->p->bytes + c->p->strings[args[1].str].off;
    const char *hi = c->p->bytes + c->p->strings[args[2].str].off;
    if (memcmp(lo, hi, 3) > 0)
        return fail(c, args[2].pos, "icd10_in() range is empty: '%.3s' comes after '%.3s'", lo, hi);
    int64_t first = repeat_string(c, args[1].str);
    if (first < 0 || repeat_string(c, args[2].str) < 0) return -1;
    return emit_text(c, OP_ICD10_IN, args[0].name, 0, (uint32_t)first, 2, args[0].pos, out);
}

static int compile_call(compiler *c, function_id fn, value *args, value *out) {
    switch (fn) {
    case FN_AGE: case FN_MONTH: case FN_YEAR_START:
        return compile_date_function(c, fn, args, out);
    case FN_MAX: case FN_MIN:
        return compile_max_min(c, fn, args, out);
    case FN_IF:
        return compile_if(c, args, out);
    default:
        return compile_icd10_in(c, args, out);
    }
}

/* Parses the arguments of fn up to and including ')'; *count is how many
 * there were (those past EXPR_MAX_ARGS are checked, then dropped). */
static int parse_args(compiler *c, function_id fn, value *args, int *count) {
    char buf[64];
    *count = 0;
    if (c->tok.kind == TOK_RPAREN) return advance(c);
    for (;;) {
        value extra;
        value *slot = *count < EXPR_MAX_ARGS ? &args[*count] : &extra;
        if (parse_expr(c, slot)) return -1;
        if (slot == &extra) release(c, &extra);
        (*count)++;
        if (c->tok.kind == TOK_RPAREN) return advance(c);
        if (c->tok.kind != TOK_COMMA)
            return fail(c, c->tok.pos, "expected ',' or ')' after argument %d of %s(), got %s",
                        *count, functions[fn].name, token_text(c, buf, sizeof buf));
        if (advance(c)) return -1;
    }
}

/* name ( args ): the current token is the name, the next one is '('. */
static int parse_call(compiler *c, value *out) {
    size_t pos = c->tok.pos, len = c->tok.len;
    size_t fn = 0, nfn = sizeof functions / sizeof functions[0];
    while (fn < nfn && !(strlen(functions[fn].name) == len &&
                         !memcmp(functions[fn].name, c->text + pos, len)))
        fn++;
    if (fn == nfn) return fail(c, pos, "unknown function '%.*s'", (int)len, c->text + pos);
    value args[EXPR_MAX_ARGS];
    int count = 0;
    if (advance(c) || advance(c) || parse_args(c, (function_id)fn, args, &count)) return -1;
    int want = functions[fn].nargs;
    if (count != want)
        return fail(c, pos, "%s() takes %d argument%s, got %d", functions[fn].name, want,
                    want == 1 ? "" : "s", count);
    if (compile_call(c, (function_id)fn, args, out)) return -1;
    out->pos = pos;
    return 0;
}

static int parse_string(compiler *c, value *out) {
    char *bytes = malloc(c->tok.len);
    if (!bytes) return fail_oom(c);
    size_t n = expr_lex_unquote(c->text, &c->tok, bytes);
    int64_t index = add_string(c, bytes, n);
    free(bytes);
    if (index < 0) return -1;
    memset(out, 0, sizeof *out);
    out->form = FORM_STRING;
    out->type = EXPR_TEXT;
    out->str = (uint32_t)index;
    out->pos = c->tok.pos;
    out->name = NO_NAME;
    return advance(c);
}

static int parse_parenthesized(compiler *c, value *out) {
    size_t open = c->tok.pos;
    char buf[64];
    if (advance(c) || parse_expr(c, out)) return -1;
    if (c->tok.kind != TOK_RPAREN)
        return fail(c, c->tok.pos, "expected ')' to close '(' at column %zu, got %s", open + 1,
                    token_text(c, buf, sizeof buf));
    return advance(c);
}

static int parse_primary(compiler *c, value *out) {
    char buf[64];
    expr_token next;
    switch (c->tok.kind) {
    case TOK_INT:
        *out = scalar(EXPR_INT, c->tok.value, c->tok.pos);
        out->literal = 1;
        return advance(c);
    case TOK_TRUE:
    case TOK_FALSE:
        *out = scalar(EXPR_BOOL, c->tok.kind == TOK_TRUE, c->tok.pos);
        return advance(c);
    case TOK_STRING:
        return parse_string(c, out);
    case TOK_NAME:
        if (peek(c, &next)) return -1;
        return next.kind == TOK_LPAREN ? parse_call(c, out) : lookup_name(c, out);
    case TOK_LPAREN:
        return parse_parenthesized(c, out);
    case TOK_NULL:
        return fail(c, c->tok.pos, "'null' can only be tested: 'x is null', 'x is not null'");
    case TOK_END:
        return fail(c, c->tok.pos, "unexpected end of expression, expected a value");
    default:
        return fail(c, c->tok.pos, "expected a value, got %s", token_text(c, buf, sizeof buf));
    }
}

/* ---- the program ---------------------------------------------------------- */

/* Makes the root value the program's output (slot 0). */
static int finish(compiler *c, value *root) {
    expr_program *p = c->p;
    if (root->form == FORM_STRING)
        return fail(c, root->pos, "a string literal must be compared with an enum or text column");
    if (root->form == FORM_TEXT) {
        value rows;
        if (emit_text(c, OP_TEXT_ROWS, root->name, 0, 0, 0, root->pos, &rows)) return -1;
        *root = rows;
    }
    p->result_type = root->type;
    if (root->form == FORM_VECTOR && p->ncode && p->code[p->ncode - 1].dst == root->slot &&
        p->slots[root->slot].kind == SLOT_TEMP) {
        p->code[p->ncode - 1].dst = OUT_SLOT; /* the last instruction writes out */
        return 0;
    }
    expr_instr copy = make_instr(OP_COPY);
    copy.a = operand_of(root);
    copy.dst = OUT_SLOT;
    return append_instr(c, &copy);
}

static int compile_text(compiler *c) {
    value root;
    char buf[64];
    if (new_slot(c, SLOT_OUT, 0) != OUT_SLOT || advance(c)) return -1;
    if (c->tok.kind == TOK_END) return fail(c, c->tok.pos, "empty expression");
    if (parse_expr(c, &root)) return -1;
    if (c->tok.kind != TOK_END)
        return fail(c, c->tok.pos, "unexpected %s after the end of the expression",
                    token_text(c, buf, sizeof buf));
    if (finish(c, &root)) return -1;
    c->p->read = calloc(c->p->nslots, sizeof *c->p->read);
    c->p->write = calloc(c->p->nslots, sizeof *c->p->write);
    if (!c->p->read || !c->p->write) return fail_oom(c);
    return 0;
}

/* Contract in expr.h: a program, or NULL and "column C: message" in err.
 * Text over the length limit is refused before anything is allocated. */
expr_program *expr_compile(const char *text, const expr_env *env, char *err, size_t errlen) {
    compiler c;
    memset(&c, 0, sizeof c);
    c.text = text ? text : "";
    c.len = strnlen(c.text, EXPR_MAX_TEXT + 1);
    c.env = env;
    c.err = err;
    c.errlen = errlen;
    c.date_lo = date_from_ymd(1, 1, 1);
    c.date_hi = date_from_ymd(9999, 12, 31);
    c.month_lo = 1 * 12;
    c.month_hi = 9999 * 12 + 11;
    if (c.len > EXPR_MAX_TEXT) {
        fail(&c, EXPR_MAX_TEXT, "expression longer than %d bytes", EXPR_MAX_TEXT);
        return NULL;
    }
    c.p = calloc(1, sizeof *c.p);
    if (!c.p) {
        fail_oom(&c);
        return NULL;
    }
    if (compile_text(&c)) {
        expr_free(c.p);
        return NULL;
    }
    return c.p;
}

/* Releases the program and its scratch vectors; NULL is allowed. */
void expr_free(expr_program *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nslots; i++) free(p->slots[i].buf);
    free(p->slots);
    free(p->code);
    free(p->lists);
    free(p->strings);
    free(p->bytes);
    free(p->used);
    free(p->read);
    free(p->write);
    free(p);
}

/* The type of the values expr_eval writes. */
expr_type expr_result_type(const expr_program *p) {
    return p->result_type;
}

/* Env indexes of the columns read, ascending, without constants. */
const size_t *expr_used_names(const expr_program *p, size_t *count) {
    *count = p->nused;
    return p->used;
}

/* ---- evaluation ----------------------------------------------------------- */

/* Whether slot s needs its own buffer for this batch. */
static int needs_buffer(const expr_slot *s, const expr_input *inputs) {
    return s->kind == SLOT_TEMP || (s->kind == SLOT_COLUMN && !inputs[s->name].i64);
}

static int reserve_buffers(expr_program *p, const expr_input *inputs, size_t n) {
    for (size_t i = 0; i < p->nslots; i++) {
        expr_slot *s = &p->slots[i];
        if (!needs_buffer(s, inputs) || s->cap >= n) continue;
        if (n > SIZE_MAX / sizeof *s->buf) return -1;
        int64_t *grown = realloc(s->buf, n * sizeof *s->buf);
        if (!grown) return -1;
        s->buf = grown;
        s->cap = n;
    }
    return 0;
}

/* Reads column `in` into buf as int64, nulls as EXPR_NULL; a column with
 * no storage reads as all null. */
static void widen_column(const expr_input *in, int64_t *buf, size_t n) {
    if (in->i32) {
        for (size_t i = 0; i < n; i++) buf[i] = in->i32[i] == INT32_MIN ? EXPR_NULL : in->i32[i];
    } else if (in->u8) {
        for (size_t i = 0; i < n; i++) buf[i] = in->u8[i] == UINT8_MAX ? EXPR_NULL : in->u8[i];
    } else {
        for (size_t i = 0; i < n; i++) buf[i] = EXPR_NULL;
    }
}

/* Points every slot at its values for this batch. */
static void bind_slots(expr_program *p, const expr_input *inputs, size_t n, int64_t *out) {
    for (size_t i = 0; i < p->nslots; i++) {
        expr_slot *s = &p->slots[i];
        p->write[i] = s->kind == SLOT_OUT ? out : s->buf;
        p->read[i] = p->write[i];
        if (s->kind != SLOT_COLUMN) continue;
        const expr_input *in = &inputs[s->name];
        if (in->i64) p->read[i] = in->i64;
        else widen_column(in, s->buf, n);
    }
}

/* Contract in expr.h: grows scratch to n rows, binds the inputs, then runs
 * each instruction over all n rows. 0, or -1 when out of memory. */
int expr_eval(expr_program *p, const expr_input *inputs, size_t n, int64_t *out) {
    if (n == 0) return 0;
    if (reserve_buffers(p, inputs, n)) return -1;
    bind_slots(p, inputs, n, out);
    expr_vm vm;
    vm.read = (const int64_t *const *)p->read;
    vm.write = p->write;
    vm.inputs = inputs;
    vm.lists = p->lists;
    vm.strings = p->strings;
    vm.bytes = p->bytes;
    for (size_t k = 0; k < p->ncode; k++) expr_vm_run(&vm, &p->code[k], n);
    return 0;
}

/* ---- conjuncts --------------------------------------------------------------- */

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The tokens of text[lo, hi) at parenthesis depth 0 that separate it as an
 * `and` chain, into sep[] (their offsets); -1 when it has an `or` at that
 * depth or does not lex, else their count (at most cap counted). */
static int chain_separators(const char *text, size_t lo, size_t hi, size_t *sep, size_t cap) {
    int depth = 0, between = 0, n = 0;
    char err[8];
    for (size_t pos = lo;;) {
        expr_token t;
        size_t errpos;
        if (expr_lex(text, hi, pos, &t, &errpos, err, sizeof err)) return -1;
        if (t.kind == TOK_END) break;
        pos = t.pos + t.len;
        if (t.kind == TOK_LPAREN) depth++;
        else if (t.kind == TOK_RPAREN) depth--;
        else if (depth == 0 && t.kind == TOK_OR) return -1;
        else if (depth == 0 && t.kind == TOK_BETWEEN) between++;
        else if (depth == 0 && t.kind == TOK_AND && between) between--;
        else if (depth == 0 && t.kind == TOK_AND) {
            if ((size_t)n < cap) sep[n] = t.pos;
            n++;
        }
    }
    return n;
}

/* Whether text[lo, hi) is one parenthesised expression: its first '('
 * closes at its last byte. */
static int wrapped(const char *text, size_t lo, size_t hi) {
    if (hi - lo < 2 || text[lo] != '(' || text[hi - 1] != ')') return 0;
    int depth = 0;
    char err[8];
    for (size_t pos = lo;;) {
        expr_token t;
        size_t errpos;
        if (expr_lex(text, hi, pos, &t, &errpos, err, sizeof err) || t.kind == TOK_END) return 0;
        pos = t.pos + t.len;
        depth += t.kind == TOK_LPAREN ? 1 : t.kind == TOK_RPAREN ? -1 : 0;
        if (depth == 0) return pos == hi;
    }
}

/* Appends the conjuncts of text[lo, hi) to start/len from *n on; returns
 * -1 when there would be more than max. */
static int add_conjuncts(const char *text, size_t lo, size_t hi, size_t *start, size_t *len, size_t max, size_t *n,
                         int depth) {
    while (lo < hi && blank(text[lo])) lo++;
    while (hi > lo && blank(text[hi - 1])) hi--;
    while (wrapped(text, lo, hi)) {
        lo++, hi--;
        while (lo < hi && blank(text[lo])) lo++;
        while (hi > lo && blank(text[hi - 1])) hi--;
    }
    size_t sep[64];
    int nsep = depth < EXPR_MAX_DEPTH ? chain_separators(text, lo, hi, sep, 64) : -1;
    if (nsep <= 0 || nsep > 64) { /* an operand */
        if (*n == max) return -1;
        start[*n] = lo, len[(*n)++] = hi - lo;
        return 0;
    }
    size_t from = lo;
    for (int i = 0; i <= nsep; i++) {
        size_t to = i < nsep ? sep[i] : hi;
        if (add_conjuncts(text, from, to, start, len, max, n, depth + 1)) return -1;
        from = i < nsep ? sep[i] + 3 : hi; /* past "and" */
    }
    return 0;
}

size_t expr_conjuncts(const char *text, size_t *start, size_t *len, size_t max) {
    size_t n = 0, hi = strlen(text);
    if (hi > EXPR_MAX_TEXT) { /* never compiles: one operand, untouched */
        if (max == 0) return 0;
        start[0] = 0, len[0] = hi;
        return 1;
    }
    return add_conjuncts(text, 0, hi, start, len, max, &n, 0) ? 0 : n;
}
