/* expr.h — the small expression language of jobs/ files (filters, derived
 * values, dimension sources, per-entity formulas). An expression is parsed
 * once, type-checked against the columns it may use, and compiled into a
 * flat program of vector operations; evaluation runs each operation over a
 * whole batch of rows (no per-value tree walk).
 *
 * Values. Every value is an int64 in a vector slot:
 *   bool  0/1 (never null: a comparison with a null operand is false)
 *   int   plain integer;  money: tiyn;  date: day number (date.h);
 *   month: year*12+month-1;  enum: index into the column's value list;
 *   text: index of the row (text is read through the column's arena)
 * Null is EXPR_NULL (INT64_MIN). Arithmetic with a null operand is null.
 *
 * Syntax (operator precedence low → high):
 *   or · and · not · comparison (== != < <= > >=, `x is null`,
 *   `x is not null`, `x in (a, b, …)`, `x between a and b`) ·
 *   + - · * / % (integer division truncates toward zero; /0 is null) ·
 *   unary - · primary
 * Comparisons do not chain (`a < b < c` is an error; use and). The bounds
 * of `between` are + - level expressions, so `x between 1 and 2 and ok`
 * reads as `(x between 1 and 2) and ok`. Keywords (and or not is null in
 * between true false) are reserved.
 * Primary: integer literal, 'string' literal ('' inside is one quote;
 * compared with enum or text columns; for an enum it must be one of the
 * column's values — checked at compile time), true, false, a name (column
 * or constant; names may contain dots: `person.sex`), ( expr ), or a
 * function call:
 *   age(birth, at)        completed years between two dates (date.h's
 *                         date_age_years; negative when at < birth)
 *   month(d)              month value of a date (compare with month columns)
 *   year_start(d)         1 January of d's year (a date)
 *   max(a, b), min(a, b)  of ints/dates/months/money (null if either is null)
 *   if(c, a, b)           a when c is true, else b (a, b of one type, not text)
 *   icd10_in(t, 'A00', 'B99')  text t's first three bytes, compared as
 *                         bytes, lie in the inclusive range (false if t is
 *                         null or shorter than three bytes; the bounds are
 *                         3-byte literals)
 * Types must agree: date − date is int (days); date ± int is date;
 * month − month is int; month ± int is month; money ± money is money;
 * money × int and money / int are money; % takes ints only.
 * int/date/month/money compare with their own type; an integer literal also
 * stands for money, in tiyn, next to money (`amount > 0`, `amount + 100`),
 * but never for a date or month (`d == 5` is an error). Enums compare with
 * == != (and in) against their own values or an enum of the same value list;
 * text compares with == != against string literals or another text column,
 * and `in` against string literals only; bools compare with == !=.
 * Arithmetic that overflows int64, or that takes a date or month outside
 * years 1..9999, is null (as are date functions of such dates).
 * An expression that is a bare text column yields each row's index (null
 * for null text), for the caller to read through the arena.
 * Limits: 4096 bytes of text, 64 levels of nesting (parentheses, calls,
 * prefix operators); a longer flat chain like 1+1+…+1 is fine.
 */
#ifndef ESEP_EXPR_H
#define ESEP_EXPR_H

#include <stddef.h>
#include <stdint.h>

#define EXPR_NULL INT64_MIN

typedef enum {
    EXPR_BOOL, EXPR_INT, EXPR_MONEY, EXPR_DATE, EXPR_MONTH, EXPR_ENUM, EXPR_TEXT
} expr_type;

/* A name an expression may use: a column of the batch, or a constant. */
typedef struct {
    const char *name;
    expr_type type;
    const char *const *enum_values; /* EXPR_ENUM: the value names */
    size_t nenum;
    int is_constant;                /* then `constant` is its value */
    int64_t constant;
} expr_name;

typedef struct {
    const expr_name *names;
    size_t count;
} expr_env;

/* One input column at evaluation time, indexed like the env's names
 * (constants need no input). Exactly one storage is set, as for batches:
 * i64 (int, money, iin), i32 (date, month, kato: widened on read), u8
 * (enum; 255 = null), or text (off/len into arena; len UINT32_MAX = null).
 * Nulls use the batch sentinels: INT64_MIN, INT32_MIN, 255, UINT32_MAX. */
typedef struct {
    const int64_t *i64;
    const int32_t *i32;
    const uint8_t *u8;
    const uint32_t *text_off, *text_len;
    const char *text;
} expr_input;

typedef struct expr_program expr_program;

/* Parses and type-checks text against env. Returns the program (free with
 * expr_free), or NULL with "column C: message" in err (C is the 1-based
 * byte offset in text, so callers can turn it into file:line:column). */
expr_program *expr_compile(const char *text, const expr_env *env, char *err, size_t errlen);

void expr_free(expr_program *p);

/* The result type. Cannot fail. */
expr_type expr_result_type(const expr_program *p);

/* Names of env the program reads (indexes), for planning which columns a
 * stage needs. Sets *count; the array belongs to the program. */
const size_t *expr_used_names(const expr_program *p, size_t *count);

/* The operands of text's top-level `and` chain, for evaluating the parts
 * that several expressions share once: `a and (b and c)` gives a, b, c —
 * an operand that is a parenthesised `and` chain is split too, and the
 * parentheses around an operand are dropped (`(x or y)` gives `x or y`);
 * the `and` of `between … and` separates nothing. Writes at most max byte
 * ranges (start[i], len[i], blanks trimmed) and returns their count: 1
 * when text is not such a chain (an `or` at its top, say: the one range is
 * text without blanks and enclosing parentheses), 0 when there are more
 * than max. When text compiles to a bool, each operand compiles alone to
 * a bool, and the `and` of their values is text's value. Cannot fail. */
size_t expr_conjuncts(const char *text, size_t *start, size_t *len, size_t max);

/* Evaluates over rows [0, n): inputs[i] is the column for env name i
 * (unused and constant names may be zeroed; a used name whose storage is
 * all NULL reads as null). Writes n values to out.
 * Returns 0, or -1 when out of memory. Scratch memory is owned by the
 * program (so one program must not be evaluated by two threads at once). */
int expr_eval(expr_program *p, const expr_input *inputs, size_t n, int64_t *out);

#endif
