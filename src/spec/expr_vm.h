/* expr_vm.h — private to the expression language (expr.c): the flat
 * instruction set an expression compiles to, and the vector machine that
 * runs one instruction over a whole batch.
 *
 * A program is a list of instructions; each reads up to three operands and
 * writes one slot. A slot is an int64 vector of n rows (a scratch buffer,
 * an input column, or the caller's output); an operand is either a slot or
 * an immediate scalar, which the kernels read with stride 0 — so a
 * comparison against a constant needs no broadcast vector. Every kernel is
 * one tight loop over the rows; the switch on the opcode runs once per
 * instruction, never per value. Kernels are elementwise (row i reads only
 * row i), so an instruction may write one of its own operand slots.
 *
 * Null handling is inside the kernels, as expr.h defines it: arithmetic
 * with a null operand is null, a comparison with a null operand is false,
 * booleans are 0/1 and never null. */
#ifndef ESEP_EXPR_VM_H
#define ESEP_EXPR_VM_H

#include <stddef.h>
#include <stdint.h>

#include "expr.h"

typedef enum {
    OP_COPY,        /* dst = a */
    OP_ADD,         /* a + b; null on null operand, overflow, or a result */
    OP_SUB,         /*   outside [lo, hi] (dates: years 1..9999) */
    OP_MUL,
    OP_DIV,         /* a / b truncated toward zero; null when b = 0 */
    OP_MOD,         /* a % b, sign of a; null when b = 0 */
    OP_NEG,         /* -a */
    OP_EQ, OP_NE, OP_LT, OP_LE, /* 0/1; 0 when a or b is null */
    OP_AND, OP_OR, OP_NOT,      /* on 0/1 */
    OP_IS_NULL, OP_NOT_NULL,
    OP_IN,          /* a is one of lists[list_at .. +list_len); 0 for null */
    OP_MAX, OP_MIN, /* null when a or b is null */
    OP_SELECT,      /* a ? b : c */
    OP_AGE,         /* completed years from date a to date b */
    OP_MONTH_OF,    /* year*12+month-1 of date a */
    OP_YEAR_START,  /* 1 January of date a's year */
                    /* (date functions: null for dates outside [lo, hi]) */
    /* Text: `column` (and `column2`) name input text columns; string
     * literals are strings[list_at .. +list_len). Null text compares false. */
    OP_TEXT_ROWS,   /* row index, or null for null text */
    OP_TEXT_IS_NULL, OP_TEXT_NOT_NULL,
    OP_TEXT_IN,     /* bytes equal one of the strings */
    OP_TEXT_NOT_IN, /* not null and equal to none of them */
    OP_TEXT_EQ, OP_TEXT_NE,     /* column vs column2, bytes */
    OP_ICD10_IN     /* >= 3 bytes and strings[0] <= first 3 <= strings[1] */
} expr_opcode;

#define EXPR_SCALAR (-1) /* operand slot: use the immediate */

typedef struct {
    int32_t slot;   /* a slot, or EXPR_SCALAR */
    int64_t imm;
} expr_operand;

typedef struct {
    expr_opcode op;
    int32_t dst;
    expr_operand a, b, c;
    int64_t lo, hi;            /* valid result / date range, see above */
    int32_t column, column2;   /* text instructions: env indexes */
    uint32_t list_at, list_len;
} expr_instr;

/* A string literal: bytes[off .. off+len). */
typedef struct {
    uint32_t off, len;
} expr_string;

/* Everything an instruction may read or write while it runs. */
typedef struct {
    const int64_t *const *read;  /* per slot: its values */
    int64_t *const *write;       /* per slot: where its values go */
    const expr_input *inputs;    /* per env name (text instructions) */
    const int64_t *lists;
    const expr_string *strings;
    const char *bytes;
} expr_vm;

/* How many of a, b, c the opcode reads (text instructions read columns,
 * not operands, and report 0). */
int expr_vm_arity(expr_opcode op);

/* True for the text instructions, which read input columns. */
int expr_vm_reads_text(expr_opcode op);

/* Runs one instruction over rows [0, n). Cannot fail. */
void expr_vm_run(const expr_vm *vm, const expr_instr *in, size_t n);

#endif
