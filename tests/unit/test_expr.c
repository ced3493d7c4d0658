/* The expression language (src/spec/expr.h). Most cases evaluate an
 * expression over an 8-row fixture whose values (nulls included) are listed
 * in columns below; the expected rows were worked out by hand from those
 * columns. The batch cases compare the vector program with a plain scalar
 * reference over a few thousand pseudo-random rows; the hostile cases feed
 * garbage and check only that every answer is a program or a message. */
#include <stdio.h>
#include <stdlib.h>

#include "base/date.h"
#include "spec/expr.h"
#include "test.h"

#define N EXPR_NULL
#define ROWS 8

static const char *const sex_values[] = {"M", "F"};
static const char *const program_values[] = {"ASP", "CHILD", "HOUSING", "SPECIAL"};
static const char *const flag_values[] = {"0", "1"};

enum {
    V_A, V_B, V_M, V_D, V_D2, V_MO, V_SEX, V_PROGRAM, V_CAUSE, V_CAT, V_K, V_OK,
    V_EXTENDED, V_PSEX, V_E, V_S, V_P, V_NONE, V_COUNT
};

/* The fixture: env names and their 8 rows. */
typedef struct {
    expr_name names[V_COUNT];
    expr_env env;
    expr_input inputs[V_COUNT];
    int32_t d[ROWS], d2[ROWS], mo[ROWS];
    char arena[256];
    uint32_t cause_off[ROWS], cause_len[ROWS], cat_off[ROWS], cat_len[ROWS];
} fixture;

static const int64_t col_a[ROWS] = {7, -7, N, 9, 0, 100, -1, 3};
static const int64_t col_b[ROWS] = {2, 2, 0, -4, 0, 7, N, 3};
static const int64_t col_m[ROWS] = {150000, N, 0, 99, 1, 250050, -5, 100000};
static const int col_d_ymd[ROWS][3] = {{2000, 2, 29}, {2000, 2, 29}, {0}, {2010, 5, 31},
                                       {2010, 5, 31}, {2024, 2, 29}, {1970, 1, 1}, {2025, 4, 1}};
static const int col_d2_ymd[ROWS][3] = {{2001, 2, 28}, {2001, 3, 1}, {2025, 3, 31}, {2025, 5, 31},
                                        {2025, 5, 30}, {2028, 2, 29}, {0}, {2025, 3, 31}};
static const int col_mo_ym[ROWS][2] = {{2025, 3}, {2025, 1}, {0}, {2024, 12},
                                       {2025, 3}, {2025, 4}, {2025, 2}, {2020, 1}};
static const uint8_t col_sex[ROWS] = {0, 1, 255, 0, 1, 0, 1, 0};         /* M F - M F M F M */
static const uint8_t col_program[ROWS] = {0, 2, 255, 1, 3, 0, 0, 2};     /* ASP HOUSING - CHILD SPECIAL ASP ASP HOUSING */
static const char *const col_cause[ROWS] = {"I21.9", "C0", NULL, "I99", "J00", "I00", "I99.9", "H99"};
static const char *const col_cat[ROWS] = {"health", "", NULL, "I99", "land", "health", "x'y", "Health"};
static const int32_t col_k[ROWS] = {751110000, INT32_MIN, 10, 10, 0, -5, 751110000, 1};
static const int64_t col_ok[ROWS] = {1, 0, 0, 1, 1, 0, 1, 0};
static const uint8_t col_extended[ROWS] = {1, 0, 255, 1, 0, 0, 1, 255};
static const uint8_t col_psex[ROWS] = {1, 0, 0, 255, 1, 0, 1, 0};       /* F M M - F M F M */

static int32_t E_day, S_day;
static const int32_t P_month = 2025 * 12 + 2;

static void set_name(fixture *f, int i, const char *name, expr_type t) {
    f->names[i].name = name;
    f->names[i].type = t;
}

static void set_enum(fixture *f, int i, const char *name, const char *const *values, size_t n) {
    set_name(f, i, name, EXPR_ENUM);
    f->names[i].enum_values = values;
    f->names[i].nenum = n;
}

static void set_constant(fixture *f, int i, const char *name, expr_type t, int64_t v) {
    set_name(f, i, name, t);
    f->names[i].is_constant = 1;
    f->names[i].constant = v;
}

/* Copies texts into the arena as off/len columns (NULL: null). */
static void set_text(fixture *f, size_t *used, const char *const *texts, uint32_t *off,
                     uint32_t *len) {
    for (int r = 0; r < ROWS; r++) {
        off[r] = (uint32_t)*used;
        len[r] = texts[r] ? (uint32_t)strlen(texts[r]) : UINT32_MAX;
        if (texts[r]) {
            memcpy(f->arena + *used, texts[r], len[r]);
            *used += len[r];
        }
    }
}

static void fixture_init(fixture *f) {
    memset(f, 0, sizeof *f);
    E_day = date_from_ymd(2025, 3, 31);
    S_day = date_from_ymd(2025, 3, 1);
    for (int r = 0; r < ROWS; r++) {
        f->d[r] = col_d_ymd[r][0] ? date_from_ymd(col_d_ymd[r][0], col_d_ymd[r][1], col_d_ymd[r][2]) : DATE_NULL;
        f->d2[r] = col_d2_ymd[r][0] ? date_from_ymd(col_d2_ymd[r][0], col_d2_ymd[r][1], col_d2_ymd[r][2]) : DATE_NULL;
        f->mo[r] = col_mo_ym[r][0] ? col_mo_ym[r][0] * 12 + col_mo_ym[r][1] - 1 : DATE_NULL;
    }
    set_name(f, V_A, "a", EXPR_INT);
    set_name(f, V_B, "b", EXPR_INT);
    set_name(f, V_M, "m", EXPR_MONEY);
    set_name(f, V_D, "d", EXPR_DATE);
    set_name(f, V_D2, "d2", EXPR_DATE);
    set_name(f, V_MO, "mo", EXPR_MONTH);
    set_enum(f, V_SEX, "sex", sex_values, 2);
    set_enum(f, V_PROGRAM, "program", program_values, 4);
    set_name(f, V_CAUSE, "cause", EXPR_TEXT);
    set_name(f, V_CAT, "cat", EXPR_TEXT);
    set_name(f, V_K, "k", EXPR_INT);
    set_name(f, V_OK, "ok", EXPR_BOOL);
    set_enum(f, V_EXTENDED, "extended", flag_values, 2);
    set_enum(f, V_PSEX, "person.sex", sex_values, 2);
    set_constant(f, V_E, "E", EXPR_DATE, E_day);
    set_constant(f, V_S, "S", EXPR_DATE, S_day);
    set_constant(f, V_P, "P", EXPR_MONTH, P_month);
    set_constant(f, V_NONE, "NONE", EXPR_INT, EXPR_NULL);
    f->env.names = f->names;
    f->env.count = V_COUNT;

    size_t used = 0;
    set_text(f, &used, col_cause, f->cause_off, f->cause_len);
    set_text(f, &used, col_cat, f->cat_off, f->cat_len);
    f->inputs[V_A].i64 = col_a;
    f->inputs[V_B].i64 = col_b;
    f->inputs[V_M].i64 = col_m;
    f->inputs[V_D].i32 = f->d;
    f->inputs[V_D2].i32 = f->d2;
    f->inputs[V_MO].i32 = f->mo;
    f->inputs[V_SEX].u8 = col_sex;
    f->inputs[V_PROGRAM].u8 = col_program;
    f->inputs[V_CAUSE] = (expr_input){.text_off = f->cause_off, .text_len = f->cause_len, .text = f->arena};
    f->inputs[V_CAT] = (expr_input){.text_off = f->cat_off, .text_len = f->cat_len, .text = f->arena};
    f->inputs[V_K].i32 = col_k;
    f->inputs[V_OK].i64 = col_ok;
    f->inputs[V_EXTENDED].u8 = col_extended;
    f->inputs[V_PSEX].u8 = col_psex;
}

/* Compiles and evaluates text over the fixture; fails the case when it does
 * not compile. Returns 0 with out filled, or -1. */
static int eval_fixture(const fixture *f, int line, const char *text, int64_t out[ROWS],
                        expr_type *type) {
    char err[256];
    expr_program *p = expr_compile(text, &f->env, err, sizeof err);
    if (!p) {
        test_fail(__FILE__, line, "'%s' does not compile: %s", text, err);
        return -1;
    }
    *type = expr_result_type(p);
    int rc = expr_eval(p, f->inputs, ROWS, out);
    expr_free(p);
    if (rc) test_fail(__FILE__, line, "'%s': expr_eval failed", text);
    return rc;
}

static void format_rows(const int64_t *v, char *buf, size_t len) {
    size_t used = 0;
    for (int r = 0; r < ROWS && used < len; r++) {
        int w = v[r] == N ? snprintf(buf + used, len - used, "%sN", r ? "," : "")
                          : snprintf(buf + used, len - used, "%s%" PRId64, r ? "," : "", v[r]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

static void expect_rows(const fixture *f, int line, const char *text, expr_type want_type,
                        const int64_t want[ROWS]) {
    int64_t got[ROWS];
    expr_type type;
    if (eval_fixture(f, line, text, got, &type)) return;
    if (type != want_type)
        test_fail(__FILE__, line, "'%s': result type %d, want %d", text, (int)type, (int)want_type);
    if (memcmp(got, want, sizeof got)) {
        char g[256], w[256];
        format_rows(got, g, sizeof g);
        format_rows(want, w, sizeof w);
        test_fail(__FILE__, line, "'%s' = [%s], want [%s]", text, g, w);
    }
}

/* A constant expression: every row holds want. */
static void expect_value(const fixture *f, int line, const char *text, expr_type want_type,
                         int64_t want) {
    int64_t rows[ROWS];
    for (int r = 0; r < ROWS; r++) rows[r] = want;
    expect_rows(f, line, text, want_type, rows);
}

static void expect_error(const fixture *f, int line, const char *text, const char *want) {
    char err[256] = "";
    expr_program *p = expr_compile(text, &f->env, err, sizeof err);
    if (p) {
        test_fail(__FILE__, line, "'%s' compiled, want error \"%s\"", text, want);
        expr_free(p);
        return;
    }
    if (strcmp(err, want))
        test_fail(__FILE__, line, "'%s': error \"%s\", want \"%s\"", text, err, want);
}

#define ROWS_OF(...) ((const int64_t[ROWS]){__VA_ARGS__})
#define EXPECT_ROWS(text, type, ...) expect_rows(&fx, __LINE__, text, type, ROWS_OF(__VA_ARGS__))
#define EXPECT_BOOLS(text, ...) EXPECT_ROWS(text, EXPR_BOOL, __VA_ARGS__)
#define EXPECT_INTS(text, ...) EXPECT_ROWS(text, EXPR_INT, __VA_ARGS__)
#define EXPECT_VALUE(text, type, want) expect_value(&fx, __LINE__, text, type, want)
#define EXPECT_ERROR(text, want) expect_error(&fx, __LINE__, text, want)

static fixture fx;

static void cases_precedence(void) {
    TEST_CASE("expr: precedence and associativity") {
        EXPECT_VALUE("1 + 2 * 3", EXPR_INT, 7);
        EXPECT_VALUE("(1 + 2) * 3", EXPR_INT, 9);
        EXPECT_VALUE("10 - 4 - 3", EXPR_INT, 3);
        EXPECT_VALUE("100 / 10 / 5", EXPR_INT, 2);
        EXPECT_VALUE("2 * 3 % 4", EXPR_INT, 2);
        EXPECT_VALUE("2 + 3 % 2", EXPR_INT, 3);
        EXPECT_VALUE("-2 * 3", EXPR_INT, -6);
        EXPECT_VALUE("- -5", EXPR_INT, 5);
        EXPECT_VALUE("-(2 + 3)", EXPR_INT, -5);
        EXPECT_VALUE("7 - -2", EXPR_INT, 9);
        EXPECT_VALUE("1 + 2 == 3 and 2 > 1", EXPR_BOOL, 1);
        EXPECT_VALUE("not 1 == 2", EXPR_BOOL, 1);
        EXPECT_VALUE("true or false and false", EXPR_BOOL, 1);
        EXPECT_VALUE("(true or false) and false", EXPR_BOOL, 0);
        EXPECT_VALUE("false and false or true", EXPR_BOOL, 1);
        EXPECT_VALUE("not true or true", EXPR_BOOL, 1);
        EXPECT_VALUE("not (true or true)", EXPR_BOOL, 0);
        EXPECT_VALUE("not not true", EXPR_BOOL, 1);
        EXPECT_VALUE("1 between 0 and 2 and false", EXPR_BOOL, 0);
        EXPECT_VALUE("1 between 0 and 2 and true", EXPR_BOOL, 1);
        EXPECT_VALUE("1 between 0 + 1 and 2 * 1", EXPR_BOOL, 1);
        EXPECT_INTS("a + b * 2", 11, -3, N, 1, 0, 114, N, 9);
        EXPECT_INTS("(a + b) * 2", 18, -10, N, 10, 0, 214, N, 12);
        EXPECT_INTS("a - b - 1", 4, -10, N, 12, -1, 92, N, -1);
        EXPECT_INTS("a - (b - 1)", 6, -8, N, 14, 1, 94, N, 1);
        EXPECT_INTS("-a", -7, 7, N, -9, 0, -100, 1, -3);
        EXPECT_BOOLS("a > 0 and ok or a is null", 1, 0, 1, 1, 0, 0, 0, 0);
    }
}

static void cases_arithmetic(void) {
    TEST_CASE("expr: integer arithmetic, null and division") {
        EXPECT_INTS("a + b", 9, -5, N, 5, 0, 107, N, 6);
        EXPECT_INTS("a - b", 5, -9, N, 13, 0, 93, N, 0);
        EXPECT_INTS("a * b", 14, -14, N, -36, 0, 700, N, 9);
        EXPECT_INTS("a / b", 3, -3, N, -2, N, 14, N, 1);
        EXPECT_INTS("a % b", 1, -1, N, 1, N, 2, N, 0);
        EXPECT_VALUE("-7 / 2", EXPR_INT, -3);
        EXPECT_VALUE("7 / -2", EXPR_INT, -3);
        EXPECT_VALUE("-7 % 2", EXPR_INT, -1);
        EXPECT_VALUE("7 % -2", EXPR_INT, 1);
        EXPECT_VALUE("1 / 0", EXPR_INT, N);
        EXPECT_VALUE("5 % 0", EXPR_INT, N);
        EXPECT_VALUE("9223372036854775807", EXPR_INT, INT64_MAX);
        EXPECT_VALUE("9223372036854775807 + 1", EXPR_INT, N);
        EXPECT_VALUE("9223372036854775807 * 2", EXPR_INT, N);
        EXPECT_VALUE("-9223372036854775807 - 1", EXPR_INT, N);
        EXPECT_VALUE("NONE + 1", EXPR_INT, N);
        EXPECT_VALUE("-NONE", EXPR_INT, N);
        EXPECT_VALUE("NONE / 0", EXPR_INT, N);
        EXPECT_INTS("k", 751110000, N, 10, 10, 0, -5, 751110000, 1);
        EXPECT_INTS("a", 7, -7, N, 9, 0, 100, -1, 3);
    }
    TEST_CASE("expr: money") {
        EXPECT_ROWS("m + 1", EXPR_MONEY, 150001, N, 1, 100, 2, 250051, -4, 100001);
        EXPECT_ROWS("m + m", EXPR_MONEY, 300000, N, 0, 198, 2, 500100, -10, 200000);
        EXPECT_ROWS("m * 2", EXPR_MONEY, 300000, N, 0, 198, 2, 500100, -10, 200000);
        EXPECT_ROWS("2 * m", EXPR_MONEY, 300000, N, 0, 198, 2, 500100, -10, 200000);
        EXPECT_ROWS("m / 3", EXPR_MONEY, 50000, N, 0, 33, 0, 83350, -1, 33333);
        EXPECT_ROWS("-m", EXPR_MONEY, -150000, N, 0, -99, -1, -250050, 5, -100000);
        EXPECT_ROWS("max(m, 0)", EXPR_MONEY, 150000, N, 0, 99, 1, 250050, 0, 100000);
        EXPECT_BOOLS("m > 100000", 1, 0, 0, 0, 0, 1, 0, 0);
        EXPECT_BOOLS("100000 <= m", 1, 0, 0, 0, 0, 1, 0, 1);
        EXPECT_BOOLS("m in (0, 99)", 0, 0, 1, 1, 0, 0, 0, 0);
        EXPECT_BOOLS("m between 0 and 100000", 0, 0, 1, 1, 1, 0, 0, 1);
        EXPECT_ERROR("m + a", "column 3: cannot apply '+' to money and int");
        EXPECT_ERROR("m == a", "column 3: cannot compare money with int");
        EXPECT_ERROR("m * m", "column 3: cannot apply '*' to money and money");
        EXPECT_ERROR("m % 2", "column 3: cannot apply '%' to money and int");
    }
}

static void cases_comparison(void) {
    TEST_CASE("expr: comparisons are false with null") {
        EXPECT_BOOLS("a == b", 0, 0, 0, 0, 1, 0, 0, 1);
        EXPECT_BOOLS("a != b", 1, 1, 0, 1, 0, 1, 0, 0);
        EXPECT_BOOLS("a < b", 0, 1, 0, 0, 0, 0, 0, 0);
        EXPECT_BOOLS("a <= b", 0, 1, 0, 0, 1, 0, 0, 1);
        EXPECT_BOOLS("a > b", 1, 0, 0, 1, 0, 1, 0, 0);
        EXPECT_BOOLS("a >= b", 1, 0, 0, 1, 1, 1, 0, 1);
        EXPECT_BOOLS("not a == b", 1, 1, 1, 1, 0, 1, 1, 0);
        EXPECT_BOOLS("a is null", 0, 0, 1, 0, 0, 0, 0, 0);
        EXPECT_BOOLS("b is not null", 1, 1, 1, 1, 1, 1, 0, 1);
        EXPECT_BOOLS("k is null", 0, 1, 0, 0, 0, 0, 0, 0);
        EXPECT_BOOLS("k == 10", 0, 0, 1, 1, 0, 0, 0, 0);
        EXPECT_VALUE("NONE == NONE", EXPR_BOOL, 0);
        EXPECT_VALUE("NONE != 1", EXPR_BOOL, 0);
        EXPECT_VALUE("NONE is null", EXPR_BOOL, 1);
        EXPECT_VALUE("ok is null", EXPR_BOOL, 0);
        EXPECT_VALUE("ok is not null", EXPR_BOOL, 1);
        EXPECT_BOOLS("not ok", 0, 1, 1, 0, 0, 1, 0, 1);
        EXPECT_BOOLS("ok == true", 1, 0, 0, 1, 1, 0, 1, 0);
        EXPECT_BOOLS("ok != (a > 0)", 0, 0, 0, 0, 1, 1, 1, 1);
        EXPECT_BOOLS("ok", 1, 0, 0, 1, 1, 0, 1, 0);
    }
    TEST_CASE("expr: max, min, if") {
        EXPECT_INTS("max(a, b)", 7, 2, N, 9, 0, 100, N, 3);
        EXPECT_INTS("min(a, b)", 2, -7, N, -4, 0, 7, N, 3);
        EXPECT_INTS("max(0, a - b)", 5, 0, N, 13, 0, 93, N, 0);
        EXPECT_VALUE("max(NONE, 1)", EXPR_INT, N);
        EXPECT_VALUE("min(1, NONE)", EXPR_INT, N);
        EXPECT_VALUE("min(-3, 2)", EXPR_INT, -3);
        EXPECT_INTS("if(a > b, a, b)", 7, 2, 0, 9, 0, 100, N, 3);
        EXPECT_VALUE("if(true, 1, 2)", EXPR_INT, 1);
        EXPECT_INTS("if(1 > 2, a, b)", 2, 2, 0, -4, 0, 7, N, 3);
        EXPECT_INTS("if(extended == '1', 30, 15)", 30, 15, 15, 30, 15, 15, 30, 15);
        EXPECT_ROWS("if(ok, m, 7)", EXPR_MONEY, 150000, 7, 7, 99, 1, 7, -5, 7);
        EXPECT_BOOLS("max(d, d2) == d2", 1, 1, 0, 1, 1, 1, 0, 0);
        EXPECT_ROWS("if(ok, sex, person.sex)", EXPR_ENUM, 0, 0, 0, 0, 1, 0, 1, 0);
    }
}

static void cases_dates(void) {
    TEST_CASE("expr: date arithmetic") {
        EXPECT_VALUE("E - 365", EXPR_DATE, date_from_ymd(2024, 3, 31));
        EXPECT_VALUE("E - S", EXPR_INT, 30);
        EXPECT_VALUE("E + 1 - 1 == E", EXPR_BOOL, 1);
        EXPECT_VALUE("year_start(E) == S - 59", EXPR_BOOL, 1);
        EXPECT_VALUE("year_start(S)", EXPR_DATE, date_from_ymd(2025, 1, 1));
        EXPECT_VALUE("month(E) == P", EXPR_BOOL, 1);
        EXPECT_VALUE("month(E)", EXPR_MONTH, 2025 * 12 + 2);
        EXPECT_VALUE("E + 3000000", EXPR_DATE, N);
        EXPECT_VALUE("E + 9223372036854775807", EXPR_DATE, N);
        EXPECT_BOOLS("d == E + 1", 0, 0, 0, 0, 0, 0, 0, 1);
        EXPECT_BOOLS("1 + E == d", 0, 0, 0, 0, 0, 0, 0, 1);
        EXPECT_BOOLS("d <= E", 1, 1, 0, 1, 1, 1, 1, 0);
        EXPECT_BOOLS("d2 between S and E", 0, 0, 1, 0, 0, 0, 0, 1);
        EXPECT_BOOLS("d in (E + 1, S)", 0, 0, 0, 0, 0, 0, 0, 1);
        EXPECT_INTS("d2 - d", 365, 366, N, 5479, 5478, 1461, N, -1);
        EXPECT_ROWS("year_start(d)", EXPR_DATE, 10957, 10957, N, date_from_ymd(2010, 1, 1),
                    date_from_ymd(2010, 1, 1), date_from_ymd(2024, 1, 1), 0, date_from_ymd(2025, 1, 1));
        EXPECT_ROWS("d - 1000000", EXPR_DATE, N, N, N, N, N, N, N, N);
        EXPECT_ROWS("month(d)", EXPR_MONTH, 24001, 24001, N, 24124, 24124, 24289, 23640, 24303);
        EXPECT_ROWS("mo + 1", EXPR_MONTH, 24303, 24301, N, 24300, 24303, 24304, 24302, 24241);
        EXPECT_INTS("P - mo", 0, 2, N, 3, 0, -1, 1, 62);
        EXPECT_BOOLS("mo == P", 1, 0, 0, 0, 1, 0, 0, 0);
        EXPECT_BOOLS("mo between month(year_start(E)) and P", 1, 1, 0, 0, 1, 0, 1, 0);
        EXPECT_ERROR("d + d", "column 3: cannot apply '+' to date and date");
        EXPECT_ERROR("d - mo", "column 3: cannot apply '-' to date and month");
        EXPECT_ERROR("d * 2", "column 3: cannot apply '*' to date and int");
        EXPECT_ERROR("-d", "column 1: unary '-' needs int or money, not date");
        EXPECT_ERROR("mo == 5", "column 4: cannot compare month with int");
    }
    TEST_CASE("expr: age in completed years") {
        /* 2000-02-29 is 0 on 2001-02-28 and 1 on 2001-03-01; birthdays
         * count on the day; 2024-02-29 to 2028-02-29 is 4; born the day
         * after `at` is -1. */
        EXPECT_INTS("age(d, d2)", 0, 1, N, 15, 14, 4, N, -1);
        EXPECT_INTS("age(d, E)", 25, 25, N, 14, 14, 1, 55, -1);
        EXPECT_BOOLS("age(d, E) between 14 and 25", 1, 1, 0, 1, 1, 0, 0, 0);
        EXPECT_VALUE("age(E, E)", EXPR_INT, 0);
        EXPECT_VALUE("age(S - 365, E)", EXPR_INT, 1);
        EXPECT_VALUE("age(S - 366, S)", EXPR_INT, 1);
        EXPECT_VALUE("age(E + 3000000, E)", EXPR_INT, N);
    }
}

static void cases_enums(void) {
    TEST_CASE("expr: enum literals resolve at compile time") {
        EXPECT_BOOLS("sex == 'M'", 1, 0, 0, 1, 0, 1, 0, 1);
        EXPECT_BOOLS("sex != 'M'", 0, 1, 0, 0, 1, 0, 1, 0);
        EXPECT_BOOLS("'F' == sex", 0, 1, 0, 0, 1, 0, 1, 0);
        EXPECT_BOOLS("sex is null", 0, 0, 1, 0, 0, 0, 0, 0);
        EXPECT_BOOLS("sex == person.sex", 0, 0, 0, 0, 1, 1, 1, 1);
        EXPECT_BOOLS("person.sex == 'F'", 1, 0, 0, 0, 1, 0, 1, 0);
        EXPECT_BOOLS("program in ('ASP', 'HOUSING')", 1, 1, 0, 0, 0, 1, 1, 1);
        EXPECT_BOOLS("program == 'SPECIAL' or program == 'CHILD'", 0, 0, 0, 1, 1, 0, 0, 0);
        EXPECT_ROWS("program", EXPR_ENUM, 0, 2, N, 1, 3, 0, 0, 2);
        EXPECT_ERROR("sex == 'X'", "column 8: 'X' is not a value of enum sex (allowed: M, F)");
        EXPECT_ERROR("program in ('ASP', 'NOPE')",
                     "column 20: 'NOPE' is not a value of enum program (allowed: ASP, CHILD, HOUSING, SPECIAL)");
        EXPECT_ERROR("sex == 3", "column 5: cannot compare enum sex with int");
        EXPECT_ERROR("sex == program", "column 5: cannot compare enum sex with enum program");
        EXPECT_ERROR("sex < 'M'", "column 5: enum sex values compare only with == and !=, not <");
        EXPECT_ERROR("d == 'M'", "column 3: cannot compare date with a string literal");
        EXPECT_ERROR("'M' == 'M'", "column 5: cannot compare two string literals");
        EXPECT_ERROR("'M'", "column 1: a string literal must be compared with an enum or text column");
    }
}

static void cases_text(void) {
    TEST_CASE("expr: text equality through the arena") {
        EXPECT_BOOLS("cat == 'health'", 1, 0, 0, 0, 0, 1, 0, 0);
        EXPECT_BOOLS("cat != 'health'", 0, 1, 0, 1, 1, 0, 1, 1);
        EXPECT_BOOLS("'health' == cat", 1, 0, 0, 0, 0, 1, 0, 0);
        EXPECT_BOOLS("cat in ('land', 'health')", 1, 0, 0, 0, 1, 1, 0, 0);
        EXPECT_BOOLS("cat == ''", 0, 1, 0, 0, 0, 0, 0, 0);
        EXPECT_BOOLS("cat == 'x''y'", 0, 0, 0, 0, 0, 0, 1, 0);
        EXPECT_BOOLS("cat == cause", 0, 0, 0, 1, 0, 0, 0, 0);
        EXPECT_BOOLS("cat != cause", 1, 1, 0, 0, 1, 1, 1, 1);
        EXPECT_BOOLS("cat is null", 0, 0, 1, 0, 0, 0, 0, 0);
        EXPECT_BOOLS("cause is not null", 1, 1, 0, 1, 1, 1, 1, 1);
        EXPECT_ROWS("cat", EXPR_TEXT, 0, 1, N, 3, 4, 5, 6, 7);
        EXPECT_ERROR("cat < 'a'", "column 5: text compares only with ==, != and in, not <");
        EXPECT_ERROR("cat == a", "column 5: cannot compare text with int");
        EXPECT_ERROR("cat in ('a', a)", "column 14: text is tested with 'in' against string literals only");
        EXPECT_ERROR("cat + 1", "column 5: cannot apply '+' to text and int");
    }
    TEST_CASE("expr: icd10_in boundaries") {
        /* cause: I21.9 C0 - I99 J00 I00 I99.9 H99 */
        EXPECT_BOOLS("icd10_in(cause, 'I00', 'I99')", 1, 0, 0, 1, 0, 1, 1, 0);
        EXPECT_BOOLS("icd10_in(cause, 'H00', 'I21')", 1, 0, 0, 0, 0, 1, 0, 1);
        EXPECT_BOOLS("icd10_in(cause, 'J00', 'J00')", 0, 0, 0, 0, 1, 0, 0, 0);
        EXPECT_BOOLS("icd10_in(cause, 'A00', 'Z99')", 1, 0, 0, 1, 1, 1, 1, 1);
        EXPECT_BOOLS("not icd10_in(cause, 'I00', 'I99')", 0, 1, 1, 0, 1, 0, 0, 1);
        EXPECT_ERROR("icd10_in(cause, 'I0', 'I99')",
                     "column 17: icd10_in() argument 2 must be a 3-character code like 'I00'");
        EXPECT_ERROR("icd10_in(cause, 'I00', I99)", "column 24: unknown name 'I99'");
        EXPECT_ERROR("icd10_in(a, 'I00', 'I99')",
                     "column 10: icd10_in() argument 1 must be a text column, not int");
        EXPECT_ERROR("icd10_in(cause, 'I99', 'I00')",
                     "column 24: icd10_in() range is empty: 'I99' comes after 'I00'");
    }
}

static void cases_in_between(void) {
    TEST_CASE("expr: in and between") {
        EXPECT_BOOLS("a in (7, 9, 100)", 1, 0, 0, 1, 0, 1, 0, 0);
        EXPECT_BOOLS("a in (b, 7)", 1, 0, 0, 0, 1, 0, 0, 1);
        EXPECT_BOOLS("a in (b + 5, -7, 3)", 1, 1, 0, 0, 0, 0, 0, 1);
        EXPECT_VALUE("3 in (1, 2, 3)", EXPR_BOOL, 1);
        EXPECT_VALUE("NONE in (1, NONE)", EXPR_BOOL, 0);
        EXPECT_BOOLS("a between 0 and 9", 1, 0, 0, 1, 1, 0, 0, 1);
        EXPECT_BOOLS("a between b and 10", 1, 0, 0, 1, 1, 0, 0, 1);
        EXPECT_BOOLS("not a between 0 and 9", 0, 1, 1, 0, 0, 1, 1, 0);
        EXPECT_ERROR("a in (1, 'x')", "column 10: cannot compare int with a string literal");
        EXPECT_ERROR("a in (1, d)", "column 10: cannot compare int with date");
        EXPECT_ERROR("a between 1 and d", "column 17: cannot compare int with date");
        EXPECT_ERROR("cat between 'a' and 'b'", "column 5: 'between' needs int, money, date or month, not text");
        EXPECT_ERROR("ok in (true)", "column 4: 'in' needs int, money, date, month or enum, not bool");
    }
}

static void cases_errors(void) {
    TEST_CASE("expr: syntax errors with columns") {
        EXPECT_ERROR("", "column 1: empty expression");
        EXPECT_ERROR("   ", "column 4: empty expression");
        EXPECT_ERROR("a +", "column 4: unexpected end of expression, expected a value");
        EXPECT_ERROR("a == 1 )", "column 8: unexpected ')' after the end of the expression");
        EXPECT_ERROR("a b", "column 3: unexpected 'b' after the end of the expression");
        EXPECT_ERROR("(a + 1", "column 7: expected ')' to close '(' at column 1, got end of expression");
        EXPECT_ERROR("((a) + 1", "column 9: expected ')' to close '(' at column 1, got end of expression");
        EXPECT_ERROR("max(a, b", "column 9: expected ',' or ')' after argument 2 of max(), got end of expression");
        EXPECT_ERROR("a == 99999999999999999999",
                     "column 6: integer literal out of range (at most 9223372036854775807)");
        EXPECT_ERROR("9223372036854775808", "column 1: integer literal out of range (at most 9223372036854775807)");
        EXPECT_ERROR("a == 1.5", "column 6: malformed number (integers only, e.g. 365)");
        EXPECT_ERROR("12ab", "column 1: malformed number (integers only, e.g. 365)");
        EXPECT_ERROR("a = 1", "column 3: unexpected '=' (equality is '==')");
        EXPECT_ERROR("a # 1", "column 3: unexpected character '#'");
        EXPECT_ERROR("a == \x01", "column 6: unexpected byte 0x01");
        EXPECT_ERROR("cat == 'abc", "column 8: unterminated string literal");
        EXPECT_ERROR("person. == 'M'", "column 7: a name cannot end with '.'");
        EXPECT_ERROR("1 < 2 < 3", "column 7: comparisons do not chain; join them with 'and'");
        EXPECT_ERROR("a is 5", "column 6: expected 'null' after 'is', got '5'");
        EXPECT_ERROR("a is not 5", "column 10: expected 'null' after 'is not', got '5'");
        EXPECT_ERROR("a == null", "column 6: 'null' can only be tested: 'x is null', 'x is not null'");
        EXPECT_ERROR("a between 1 or 2", "column 13: expected 'and' of 'between ... and ...', got 'or'");
        EXPECT_ERROR("a in 1", "column 6: expected '(' after 'in', got '1'");
        EXPECT_ERROR("a in (1 2)", "column 9: expected ',' or ')' in the list of 'in' at column 3, got '2'");
        EXPECT_ERROR("a in ()", "column 7: expected a value, got ')'");
        EXPECT_ERROR("a == 'it''s", "column 6: unterminated string literal");
    }
    TEST_CASE("expr: name and type errors with columns") {
        EXPECT_ERROR("foo == 1", "column 1: unknown name 'foo'");
        EXPECT_ERROR("a == 1 and sexx == 'M'", "column 12: unknown name 'sexx'");
        EXPECT_ERROR("person.age > 3", "column 1: unknown name 'person.age'");
        EXPECT_ERROR("frob(a)", "column 1: unknown function 'frob'");
        EXPECT_ERROR("age(d)", "column 1: age() takes 2 arguments, got 1");
        EXPECT_ERROR("max(a, b, 1)", "column 1: max() takes 2 arguments, got 3");
        EXPECT_ERROR("month()", "column 1: month() takes 1 argument, got 0");
        EXPECT_ERROR("1 + if(ok, 1, 2, 3, 4)", "column 5: if() takes 3 arguments, got 5");
        EXPECT_ERROR("age(d, 5)", "column 8: age() argument 2 must be a date, not int");
        EXPECT_ERROR("month(mo)", "column 7: month() argument 1 must be a date, not month");
        EXPECT_ERROR("year_start(cat)", "column 12: year_start() argument 1 must be a date, not text");
        EXPECT_ERROR("max(a, d)", "column 8: max() needs two ints, moneys, dates or months, got int and date");
        EXPECT_ERROR("min(ok, ok)", "column 9: min() needs two ints, moneys, dates or months, got bool and bool");
        EXPECT_ERROR("d == 5", "column 3: cannot compare date with int");
        EXPECT_ERROR("d > E - S", "column 3: cannot compare date with int");
        EXPECT_ERROR("a and b", "column 3: 'and' needs bool operands, got int and int");
        EXPECT_ERROR("ok or d", "column 4: 'or' needs bool operands, got bool and date");
        EXPECT_ERROR("not a", "column 1: 'not' needs a bool operand, got int");
        EXPECT_ERROR("if(a, 1, 2)", "column 4: if() condition must be bool, not int");
        EXPECT_ERROR("if(ok, 1, d)", "column 11: if() branches must have one type (not text), got int and date");
        EXPECT_ERROR("if(ok, cat, cause)", "column 13: if() branches must have one type (not text), got text and text");
        EXPECT_ERROR("ok < true", "column 4: bool values compare only with == and !=, not <");
        EXPECT_ERROR("'a' is null", "column 5: 'is null' needs a column or value, not a string literal");
    }
}

static void cases_limits(void) {
    TEST_CASE("expr: hostile input is refused cleanly") {
        char *text = malloc(8192);
        /* 4096 bytes compile; 4097 do not. */
        memset(text, ' ', 4096);
        text[0] = '1';
        text[4096] = 0;
        EXPECT_VALUE(text, EXPR_INT, 1);
        text[4096] = ' ';
        text[4097] = 0;
        EXPECT_ERROR(text, "column 4097: expression longer than 4096 bytes");
        /* 63 nested parentheses are fine, 64 are too deep. */
        for (int depth = 63; depth <= 64; depth++) {
            int k = 0;
            for (int i = 0; i < depth; i++) text[k++] = '(';
            text[k++] = '1';
            for (int i = 0; i < depth; i++) text[k++] = ')';
            text[k] = 0;
            if (depth == 63) EXPECT_VALUE(text, EXPR_INT, 1);
            else EXPECT_ERROR(text, "column 65: expression nested deeper than 64 levels");
        }
        memset(text, '(', 3000);
        text[3000] = 0;
        EXPECT_ERROR(text, "column 65: expression nested deeper than 64 levels");
        memset(text, '-', 200);
        strcpy(text + 200, "1");
        EXPECT_ERROR(text, "column 64: expression nested deeper than 64 levels");
        text[0] = 0;
        for (int i = 0; i < 100; i++) strcat(text, "not ");
        strcat(text, "true");
        EXPECT_ERROR(text, "column 253: expression nested deeper than 64 levels");
        /* A long flat chain is not nesting: 1+1+...+1, 2000 terms. */
        text[0] = 0;
        for (int i = 0; i < 2000; i++) strcat(text, i ? "+1" : "1");
        EXPECT_VALUE(text, EXPR_INT, 2000);
        text[0] = 0;
        for (int i = 0; i < 300; i++) strcat(text, i ? " or a == 1" : "a == 1");
        EXPECT_BOOLS(text, 0, 0, 0, 0, 0, 0, 0, 0);
        free(text);
        char err[8];
        EXPECT(expr_compile("foo", &fx.env, err, sizeof err) == NULL);
        EXPECT_EQ_STR(err, "column ");
        EXPECT(expr_compile("foo", &fx.env, NULL, 0) == NULL);
        EXPECT(expr_compile(NULL, &fx.env, err, sizeof err) == NULL);
        EXPECT(expr_compile("a", NULL, err, sizeof err) == NULL);
    }
    TEST_CASE("expr: random token soup never crashes") {
        static const char *const pieces[] = {
            "a", "b", "m", "d", "d2", "mo", "sex", "cat", "cause", "E", "P", "ok", "person.sex",
            "(", ")", "(", ")", "+", "-", "*", "/", "%", "==", "!=", "<", ">=", " and ", " or ",
            "not ", " is ", "null", " in ", " between ", "'M'", "'x'", "'I00'", "1", "0", "365",
            "9223372036854775807", ",", "age(", "max(", "min(", "if(", "icd10_in(", "month(",
            "year_start(", " ", "'", "#", ".", "=", "!", "true", "false", "frob("};
        size_t npieces = sizeof pieces / sizeof pieces[0];
        uint32_t seed = 12345;
        char text[512], err[256];
        int64_t out[ROWS];
        int compiled = 0;
        for (int iter = 0; iter < 20000; iter++) {
            text[0] = 0;
            seed = seed * 1103515245u + 12345u;
            int count = 1 + (int)((seed >> 16) % 24);
            for (int k = 0; k < count; k++) {
                seed = seed * 1103515245u + 12345u;
                strcat(text, pieces[(seed >> 16) % npieces]);
            }
            err[0] = 0;
            expr_program *p = expr_compile(text, &fx.env, err, sizeof err);
            if (p) {
                compiled++;
                if (expr_eval(p, fx.inputs, ROWS, out)) EXPECT(0);
                expr_free(p);
            } else if (strncmp(err, "column ", 7)) {
                test_fail(__FILE__, __LINE__, "'%s': message \"%s\"", text, err);
            }
        }
        EXPECT(compiled > 100);
    }
}

static void cases_api(void) {
    TEST_CASE("expr: used names and empty batches") {
        char err[256];
        expr_program *p = expr_compile("a + b > k and sex == 'M' and cat == 'x' and E > S and a > 0",
                                       &fx.env, err, sizeof err);
        EXPECT(p != NULL);
        if (p) {
            size_t count = 0;
            const size_t *used = expr_used_names(p, &count);
            EXPECT_EQ_INT(count, 5);
            if (count == 5) {
                EXPECT_EQ_INT(used[0], V_A);
                EXPECT_EQ_INT(used[1], V_B);
                EXPECT_EQ_INT(used[2], V_SEX);
                EXPECT_EQ_INT(used[3], V_CAT);
                EXPECT_EQ_INT(used[4], V_K);
            }
            EXPECT_EQ_INT(expr_eval(p, fx.inputs, 0, NULL), 0);
            expr_free(p);
        }
        p = expr_compile("E - 365", &fx.env, err, sizeof err);
        size_t count = 99;
        if (p) expr_used_names(p, &count);
        EXPECT_EQ_INT(count, 0);
        expr_free(p);
        expr_free(NULL);
    }
    TEST_CASE("expr: a column with no storage reads as null") {
        char err[256];
        expr_input none[V_COUNT];
        memset(none, 0, sizeof none);
        int64_t out[ROWS];
        const char *texts[] = {"a is null", "cat is null", "sex is null", "cat == 'x'"};
        const int64_t want[] = {1, 1, 1, 0};
        for (int t = 0; t < 4; t++) {
            expr_program *p = expr_compile(texts[t], &fx.env, err, sizeof err);
            EXPECT(p != NULL);
            if (!p) continue;
            EXPECT_EQ_INT(expr_eval(p, none, ROWS, out), 0);
            for (int r = 0; r < ROWS; r++) EXPECT_EQ_INT(out[r], want[t]);
            expr_free(p);
        }
    }
}

/* ---- a batch against a scalar reference ---- */

#define BATCH 4000

typedef struct {
    int64_t a[BATCH], b[BATCH], m[BATCH];
    int32_t d[BATCH], d2[BATCH];
    uint8_t sex[BATCH], program[BATCH];
    uint32_t cause_off[BATCH], cause_len[BATCH];
    char arena[BATCH * 6];
    expr_input inputs[V_COUNT];
} batch;

static uint32_t next_random(uint32_t *seed) {
    *seed = *seed * 1664525u + 1013904223u;
    return *seed >> 8;
}

static void batch_init(batch *bt) {
    static const char *const codes[] = {"I00", "I99", "I99.9", "J00", "H99.1", "C0", "I5", "Y98"};
    uint32_t seed = 7;
    size_t used = 0;
    int32_t lo = date_from_ymd(1950, 1, 1);
    for (int r = 0; r < BATCH; r++) {
        int nul = next_random(&seed) % 10 == 0;
        bt->a[r] = nul ? N : (int64_t)(next_random(&seed) % 2001) - 1000;
        bt->b[r] = next_random(&seed) % 10 == 0 ? N : (int64_t)(next_random(&seed) % 21) - 10;
        bt->m[r] = next_random(&seed) % 10 == 0 ? N : (int64_t)(next_random(&seed) % 300000);
        bt->d[r] = next_random(&seed) % 10 == 0 ? DATE_NULL : lo + (int32_t)(next_random(&seed) % 29000);
        bt->d2[r] = next_random(&seed) % 3 == 0 ? DATE_NULL : lo + (int32_t)(next_random(&seed) % 29000);
        bt->sex[r] = next_random(&seed) % 10 == 0 ? 255 : (uint8_t)(next_random(&seed) % 2);
        bt->program[r] = next_random(&seed) % 10 == 0 ? 255 : (uint8_t)(next_random(&seed) % 4);
        uint32_t pick = next_random(&seed) % 9;
        bt->cause_off[r] = (uint32_t)used;
        bt->cause_len[r] = pick == 8 ? UINT32_MAX : (uint32_t)strlen(codes[pick]);
        if (pick < 8) {
            memcpy(bt->arena + used, codes[pick], bt->cause_len[r]);
            used += bt->cause_len[r];
        }
    }
    memset(bt->inputs, 0, sizeof bt->inputs);
    bt->inputs[V_A].i64 = bt->a;
    bt->inputs[V_B].i64 = bt->b;
    bt->inputs[V_M].i64 = bt->m;
    bt->inputs[V_D].i32 = bt->d;
    bt->inputs[V_D2].i32 = bt->d2;
    bt->inputs[V_SEX].u8 = bt->sex;
    bt->inputs[V_PROGRAM].u8 = bt->program;
    bt->inputs[V_CAUSE] = (expr_input){.text_off = bt->cause_off, .text_len = bt->cause_len, .text = bt->arena};
}

static int64_t ref_open_youth(const batch *bt, int r) {
    if (bt->d[r] == DATE_NULL || bt->d[r] > E_day) return 0;
    if (bt->d2[r] != DATE_NULL && bt->d2[r] <= E_day) return 0;
    int age = date_age_years(bt->d[r], E_day);
    return age >= 15 && age <= 28;
}

static int64_t ref_branchy(const batch *bt, int r) {
    int64_t a = bt->a[r], b = bt->b[r], v;
    if (bt->sex[r] == 1) v = a == N || b == N ? N : a * 2 - b;
    else v = a == N || b == N ? N : (a > b ? a : b) / 3;
    return v == N ? N : v % 7;
}

static int64_t ref_programs(const batch *bt, int r) {
    int in_list = bt->program[r] == 0 || bt->program[r] == 1;
    int rich = bt->m[r] != N && bt->m[r] >= 100000;
    int icd = 0;
    if (bt->cause_len[r] != UINT32_MAX && bt->cause_len[r] >= 3) {
        const char *s = bt->arena + bt->cause_off[r];
        icd = memcmp(s, "I00", 3) >= 0 && memcmp(s, "I99", 3) <= 0;
    }
    return (in_list && rich) || icd;
}

static int64_t ref_days(const batch *bt, int r) {
    if (bt->d[r] == DATE_NULL || bt->d2[r] == DATE_NULL) return N;
    int y, mth, day;
    date_to_ymd(bt->d[r], &y, &mth, &day);
    return (int64_t)(E_day - bt->d2[r]) + date_from_ymd(y, 1, 1) - bt->d[r];
}

static int64_t ref_money(const batch *bt, int r) {
    int64_t m = bt->m[r];
    return m != N && m / 3 + m * 2 > 100000 && (bt->a[r] == N || bt->a[r] % 3 != 1);
}

typedef int64_t (*reference_fn)(const batch *, int);

/* Evaluates text over the batch in chunks of `chunk` rows (inputs offset
 * per chunk) and compares every row with the reference. */
static void check_batch(const batch *bt, const char *text, reference_fn ref, size_t chunk) {
    char err[256];
    expr_program *p = expr_compile(text, &fx.env, err, sizeof err);
    if (!p) {
        test_fail(__FILE__, __LINE__, "'%s': %s", text, err);
        return;
    }
    int64_t *out = malloc(BATCH * sizeof *out);
    int mismatches = 0;
    for (size_t start = 0; start < BATCH; start += chunk) {
        size_t n = BATCH - start < chunk ? BATCH - start : chunk;
        expr_input in[V_COUNT];
        memcpy(in, bt->inputs, sizeof in);
        for (int i = 0; i < V_COUNT; i++) {
            if (in[i].i64) in[i].i64 += start;
            if (in[i].i32) in[i].i32 += start;
            if (in[i].u8) in[i].u8 += start;
            if (in[i].text_off) in[i].text_off += start, in[i].text_len += start;
        }
        if (expr_eval(p, in, n, out + start)) EXPECT(0);
    }
    /* The same program once more over the whole batch: scratch grows. */
    int64_t *again = malloc(BATCH * sizeof *again);
    if (expr_eval(p, bt->inputs, BATCH, again)) EXPECT(0);
    if (memcmp(out, again, BATCH * sizeof *out))
        test_fail(__FILE__, __LINE__, "'%s': whole batch differs from chunks of %zu", text, chunk);
    free(again);
    for (int r = 0; r < BATCH; r++) {
        int64_t want = ref(bt, r);
        if (out[r] != want && mismatches++ < 5)
            test_fail(__FILE__, __LINE__, "'%s' row %d (chunk %zu) = %" PRId64 ", want %" PRId64,
                      text, r, chunk, out[r], want);
    }
    free(out);
    expr_free(p);
}

static void cases_batch(void) {
    TEST_CASE("expr: batches match a scalar reference") {
        batch *bt = malloc(sizeof *bt);
        batch_init(bt);
        static const struct {
            const char *text;
            reference_fn ref;
        } exprs[] = {
            {"d <= E and (d2 is null or d2 > E) and age(d, E) between 15 and 28", ref_open_youth},
            {"if(sex == 'F', a * 2 - b, max(a, b) / 3) % 7", ref_branchy},
            {"program in ('ASP', 'CHILD') and m >= 100000 or icd10_in(cause, 'I00', 'I99')", ref_programs},
            {"E - d2 + year_start(d) - d", ref_days},
            {"m / 3 + m * 2 > 100000 and not a % 3 == 1", ref_money},
        };
        static const size_t chunks[] = {BATCH, 1000, 333, 1, 4000};
        for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++)
            for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++)
                check_batch(bt, exprs[e].text, exprs[e].ref, chunks[k]);
        free(bt);
    }
}

/* expr_conjuncts: the operands of top-level `and` chains, worked out by
 * hand; and the `and` of the operands' values is the whole's, row by row. */
static void cases_conjuncts(void) {
    TEST_CASE("expr: conjuncts of and chains") {
        static const struct {
            const char *text;
            size_t n;
            const char *parts[4];
        } want[] = {
            {"a > 0 and (b > 0 and (k > 1 or ok))", 3, {"a > 0", "b > 0", "k > 1 or ok"}},
            {"(a between 1 and 2 and ok) and not ok", 3, {"a between 1 and 2", "ok", "not ok"}},
            {"a > 0 or b > 0 and ok", 1, {"a > 0 or b > 0 and ok"}},
            {"  ((a > 0))  ", 1, {"a > 0"}},
            {"(d <= E) and (d2 is null or d2 > E)", 2, {"d <= E", "d2 is null or d2 > E"}},
            {"sex in ('M', 'F') and a between (1) and 2", 2, {"sex in ('M', 'F')", "a between (1) and 2"}},
            {"ok and ok and ok and ok and ok", 0, {0}}, /* more than 4 */
        };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            size_t start[4], len[4], n = expr_conjuncts(want[i].text, start, len, 4);
            EXPECT_EQ_INT(n, want[i].n);
            for (size_t k = 0; k < n && k < want[i].n; k++) {
                char part[128];
                snprintf(part, sizeof part, "%.*s", (int)len[k], want[i].text + start[k]);
                EXPECT_EQ_STR(part, want[i].parts[k]);
            }
        }
    }
    TEST_CASE("expr: the and of the conjuncts is the chain") {
        static const char *const texts[] = {
            "d <= E and (d2 is null or d2 > E) and age(d, E) between 15 and 28",
            "(a > 0 and b > 0) and (sex == 'F' or a is null) and not ok",
            "a between -10 and 10 and b between 0 and 5 and k in (1, 2, 3)",
        };
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            int64_t whole[ROWS], part[ROWS], all[ROWS];
            expr_type type;
            size_t start[8], len[8], n = expr_conjuncts(texts[i], start, len, 8);
            EXPECT(n >= 2);
            if (eval_fixture(&fx, __LINE__, texts[i], whole, &type)) continue;
            for (size_t r = 0; r < ROWS; r++) all[r] = 1;
            for (size_t k = 0; k < n; k++) {
                char text[256];
                snprintf(text, sizeof text, "%.*s", (int)len[k], texts[i] + start[k]);
                if (eval_fixture(&fx, __LINE__, text, part, &type)) break;
                EXPECT_EQ_INT(type, EXPR_BOOL);
                for (size_t r = 0; r < ROWS; r++) all[r] &= part[r] != 0;
            }
            for (size_t r = 0; r < ROWS; r++) EXPECT_EQ_INT(all[r], whole[r]);
        }
    }
}

void suite_expr(void) {
    fixture_init(&fx);
    cases_conjuncts();
    cases_precedence();
    cases_arithmetic();
    cases_comparison();
    cases_dates();
    cases_enums();
    cases_text();
    cases_in_between();
    cases_errors();
    cases_limits();
    cases_api();
    cases_batch();
}
