/* expr_vm.c — see expr_vm.h. One kernel per opcode family, each a single
 * loop over the rows; an operand is read as p[i * stride] with stride 0 for
 * an immediate. Date functions reuse base/date.c for every calendar rule. */
#include "expr_vm.h"

#include <string.h>

#include "../base/date.h"

#define NUL EXPR_NULL

/* Where an operand's values are and how far apart (0: one scalar). */
typedef struct {
    const int64_t *v;
    size_t stride;
} operand_view;

static operand_view view_of(const expr_vm *vm, const expr_operand *o) {
    operand_view view;
    if (o->slot == EXPR_SCALAR) {
        view.v = &o->imm;
        view.stride = 0;
    } else {
        view.v = vm->read[o->slot];
        view.stride = 1;
    }
    return view;
}

/* The loop shared by every two-operand kernel: x and y are row i's values,
 * EXPR computes out[i] from them. */
#define BINARY_KERNEL(name, EXPR)                                             \
    static void name(int64_t *out, operand_view a, operand_view b, size_t n) { \
        for (size_t i = 0; i < n; i++) {                                      \
            int64_t x = a.v[i * a.stride], y = b.v[i * b.stride];             \
            out[i] = (EXPR);                                                  \
        }                                                                     \
    }

#define EITHER_NULL (x == NUL || y == NUL)

BINARY_KERNEL(kernel_div, EITHER_NULL || y == 0 ? NUL : x / y)
BINARY_KERNEL(kernel_mod, EITHER_NULL || y == 0 ? NUL : x % y)
BINARY_KERNEL(kernel_eq, !EITHER_NULL && x == y)
BINARY_KERNEL(kernel_ne, !EITHER_NULL && x != y)
BINARY_KERNEL(kernel_lt, !EITHER_NULL && x < y)
BINARY_KERNEL(kernel_le, !EITHER_NULL && x <= y)
BINARY_KERNEL(kernel_and, (x != 0) & (y != 0))
BINARY_KERNEL(kernel_or, (x != 0) | (y != 0))
BINARY_KERNEL(kernel_max, EITHER_NULL ? NUL : x > y ? x : y)
BINARY_KERNEL(kernel_min, EITHER_NULL ? NUL : x < y ? x : y)

/* +, -, *: null on a null operand, on int64 overflow, and on a result
 * outside [lo, hi] (so date arithmetic never leaves the calendar). */
#define CHECKED_KERNEL(name, builtin)                                         \
    static void name(int64_t *out, operand_view a, operand_view b, int64_t lo, \
                     int64_t hi, size_t n) {                                  \
        for (size_t i = 0; i < n; i++) {                                      \
            int64_t x = a.v[i * a.stride], y = b.v[i * b.stride], r = 0;      \
            int bad = EITHER_NULL || builtin(x, y, &r) || r < lo || r > hi;   \
            out[i] = bad ? NUL : r;                                           \
        }                                                                     \
    }

CHECKED_KERNEL(kernel_add, __builtin_add_overflow)
CHECKED_KERNEL(kernel_sub, __builtin_sub_overflow)
CHECKED_KERNEL(kernel_mul, __builtin_mul_overflow)

static void kernel_copy(int64_t *out, operand_view a, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a.v[i * a.stride];
}

static void kernel_neg(int64_t *out, operand_view a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int64_t x = a.v[i * a.stride];
        out[i] = x == NUL ? NUL : -x; /* -x cannot overflow: x > INT64_MIN */
    }
}

static void kernel_not(int64_t *out, operand_view a, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = !a.v[i * a.stride];
}

static void kernel_is_null(int64_t *out, operand_view a, int want_null, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (a.v[i * a.stride] == NUL) == want_null;
}

static void kernel_in(int64_t *out, operand_view a, const int64_t *list, size_t count,
                      size_t n) {
    for (size_t i = 0; i < n; i++) {
        int64_t x = a.v[i * a.stride];
        int hit = 0;
        for (size_t j = 0; j < count; j++) hit |= list[j] == x;
        out[i] = x != NUL && hit;
    }
}

static void kernel_select(int64_t *out, operand_view c, operand_view a, operand_view b,
                          size_t n) {
    for (size_t i = 0; i < n; i++)
        out[i] = c.v[i * c.stride] ? a.v[i * a.stride] : b.v[i * b.stride];
}

static int date_ok(int64_t d, int64_t lo, int64_t hi) {
    return d != NUL && d >= lo && d <= hi;
}

static void kernel_age(int64_t *out, operand_view a, operand_view b, int64_t lo,
                       int64_t hi, size_t n) {
    if (b.stride == 0 && date_ok(b.v[0], lo, hi)) { /* age(x, E): E's calendar date once */
        int y, m, d;
        date_to_ymd((int32_t)b.v[0], &y, &m, &d);
        for (size_t i = 0; i < n; i++) {
            int64_t birth = a.v[i * a.stride];
            out[i] = date_ok(birth, lo, hi) ? date_age_years_on((int32_t)birth, y, m, d) : NUL;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t birth = a.v[i * a.stride], at = b.v[i * b.stride];
        out[i] = date_ok(birth, lo, hi) && date_ok(at, lo, hi)
                     ? date_age_years((int32_t)birth, (int32_t)at)
                     : NUL;
    }
}

/* month(d) or year_start(d): both split the date, then rebuild. */
static void kernel_date_part(int64_t *out, operand_view a, int64_t lo, int64_t hi, size_t n, int year_start) {
    for (size_t i = 0; i < n; i++) {
        int64_t d = a.v[i * a.stride];
        int y, m, day;
        if (!date_ok(d, lo, hi)) {
            out[i] = NUL;
            continue;
        }
        date_to_ymd((int32_t)d, &y, &m, &day);
        out[i] = year_start ? date_from_ymd(y, 1, 1) : (int64_t)y * 12 + (m - 1);
    }
}

/* A text column as the kernels read it; all-null when it has no storage. */
typedef struct {
    const uint32_t *off, *len;
    const char *bytes;
} text_view;

static text_view text_of(const expr_vm *vm, int32_t column) {
    const expr_input *in = &vm->inputs[column];
    text_view t = {in->text_off, in->text_len, in->text};
    if (!t.off || !t.len || !t.bytes) t.len = NULL;
    return t;
}

static void kernel_text_rows(int64_t *out, text_view t, size_t n) {
    for (size_t i = 0; i < n; i++)
        out[i] = t.len && t.len[i] != UINT32_MAX ? (int64_t)i : NUL;
}

static void kernel_text_is_null(int64_t *out, text_view t, int want_null, size_t n) {
    for (size_t i = 0; i < n; i++)
        out[i] = (!t.len || t.len[i] == UINT32_MAX) == want_null;
}

/* Row i is in the literal list; match_value is what a member yields. */
static void kernel_text_in(int64_t *out, text_view t, const expr_vm *vm,
                           const expr_instr *in, int64_t match_value, size_t n) {
    const expr_string *list = vm->strings + in->list_at;
    if (!t.len) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t len = t.len[i];
        int hit = 0;
        for (uint32_t j = 0; j < in->list_len && !hit; j++)
            hit = list[j].len == len &&
                  !memcmp(vm->bytes + list[j].off, t.bytes + t.off[i], len);
        out[i] = len != UINT32_MAX && hit == match_value;
    }
}

static void kernel_text_eq(int64_t *out, text_view a, text_view b, int64_t match_value,
                           size_t n) {
    if (!a.len || !b.len) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t la = a.len[i], lb = b.len[i];
        int both = la != UINT32_MAX && lb != UINT32_MAX;
        int same = both && la == lb && !memcmp(a.bytes + a.off[i], b.bytes + b.off[i], la);
        out[i] = both && same == match_value;
    }
}

static void kernel_icd10_in(int64_t *out, text_view t, const expr_vm *vm,
                            const expr_instr *in, size_t n) {
    const char *lo = vm->bytes + vm->strings[in->list_at].off;
    const char *hi = vm->bytes + vm->strings[in->list_at + 1].off;
    if (!t.len) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (t.len[i] == UINT32_MAX || t.len[i] < 3) {
            out[i] = 0;
            continue;
        }
        const char *s = t.bytes + t.off[i];
        out[i] = memcmp(s, lo, 3) >= 0 && memcmp(s, hi, 3) <= 0;
    }
}

int expr_vm_arity(expr_opcode op) {
    switch (op) {
    case OP_COPY: case OP_NEG: case OP_NOT: case OP_IS_NULL: case OP_NOT_NULL:
    case OP_IN: case OP_MONTH_OF: case OP_YEAR_START:
        return 1;
    case OP_SELECT:
        return 3;
    default:
        return expr_vm_reads_text(op) ? 0 : 2;
    }
}

int expr_vm_reads_text(expr_opcode op) {
    return op >= OP_TEXT_ROWS;
}

static void run_text(const expr_vm *vm, const expr_instr *in, int64_t *out, size_t n) {
    text_view t = text_of(vm, in->column);
    switch (in->op) {
    case OP_TEXT_ROWS: kernel_text_rows(out, t, n); break;
    case OP_TEXT_IS_NULL: kernel_text_is_null(out, t, 1, n); break;
    case OP_TEXT_NOT_NULL: kernel_text_is_null(out, t, 0, n); break;
    case OP_TEXT_IN: kernel_text_in(out, t, vm, in, 1, n); break;
    case OP_TEXT_NOT_IN: kernel_text_in(out, t, vm, in, 0, n); break;
    case OP_TEXT_EQ: kernel_text_eq(out, t, text_of(vm, in->column2), 1, n); break;
    case OP_TEXT_NE: kernel_text_eq(out, t, text_of(vm, in->column2), 0, n); break;
    case OP_ICD10_IN: kernel_icd10_in(out, t, vm, in, n); break;
    default: break;
    }
}

void expr_vm_run(const expr_vm *vm, const expr_instr *in, size_t n) {
    int64_t *out = vm->write[in->dst];
    if (expr_vm_reads_text(in->op)) {
        run_text(vm, in, out, n);
        return;
    }
    operand_view a = view_of(vm, &in->a), b = {0, 0}, c = {0, 0};
    if (expr_vm_arity(in->op) >= 2) b = view_of(vm, &in->b);
    if (expr_vm_arity(in->op) >= 3) c = view_of(vm, &in->c);
    switch (in->op) {
    case OP_COPY: kernel_copy(out, a, n); break;
    case OP_ADD: kernel_add(out, a, b, in->lo, in->hi, n); break;
    case OP_SUB: kernel_sub(out, a, b, in->lo, in->hi, n); break;
    case OP_MUL: kernel_mul(out, a, b, in->lo, in->hi, n); break;
    case OP_DIV: kernel_div(out, a, b, n); break;
    case OP_MOD: kernel_mod(out, a, b, n); break;
    case OP_NEG: kernel_neg(out, a, n); break;
    case OP_EQ: kernel_eq(out, a, b, n); break;
    case OP_NE: kernel_ne(out, a, b, n); break;
    case OP_LT: kernel_lt(out, a, b, n); break;
    case OP_LE: kernel_le(out, a, b, n); break;
    case OP_AND: kernel_and(out, a, b, n); break;
    case OP_OR: kernel_or(out, a, b, n); break;
    case OP_NOT: kernel_not(out, a, n); break;
    case OP_IS_NULL: kernel_is_null(out, a, 1, n); break;
    case OP_NOT_NULL: kernel_is_null(out, a, 0, n); break;
    case OP_IN: kernel_in(out, a, vm->lists + in->list_at, in->list_len, n); break;
    case OP_MAX: kernel_max(out, a, b, n); break;
    case OP_MIN: kernel_min(out, a, b, n); break;
    case OP_SELECT: kernel_select(out, a, b, c, n); break;
    case OP_AGE: kernel_age(out, a, b, in->lo, in->hi, n); break;
    case OP_MONTH_OF: kernel_date_part(out, a, in->lo, in->hi, n, 0); break;
    case OP_YEAR_START: kernel_date_part(out, a, in->lo, in->hi, n, 1); break;
    default: break;
    }
}
