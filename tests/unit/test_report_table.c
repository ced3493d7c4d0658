/* The CSV form of a report table: every measure format rendered from exact
 * integers, with the expected text worked out by hand. */
#include <stdio.h>
#include <stdlib.h>

#include "archive/report_table.h"
#include "test.h"

/* sex {M, F, _T}; population (count), amount (money), per_1000 (tenths),
 * natural_increase (count). */
static void sample_table(report_table *t, size_t nrows) {
    static const char *sexes[] = {"M", "F", "_T"};
    static const struct { const char *name; measure_format format; } measures[] = {
        {"population", MEASURE_COUNT}, {"amount", MEASURE_MONEY},
        {"per_1000", MEASURE_DECIMAL1}, {"natural_increase", MEASURE_COUNT}};
    memset(t, 0, sizeof *t);
    t->ndims = 1;
    snprintf(t->dims[0].name, sizeof t->dims[0].name, "sex");
    t->dims[0].nvalues = 3;
    t->dims[0].values = calloc(3, sizeof *t->dims[0].values);
    for (size_t v = 0; v < 3; v++) snprintf(t->dims[0].values[v], 32, "%s", sexes[v]);
    t->nmeasures = 4;
    for (size_t m = 0; m < 4; m++) {
        snprintf(t->measures[m].name, sizeof t->measures[m].name, "%s", measures[m].name);
        t->measures[m].format = measures[m].format;
    }
    if (report_table_alloc_rows(t, nrows) != 0) abort();
}

static void set_row(report_table *t, size_t r, int32_t kato, int level, int sex,
                    int64_t a, int64_t b, int64_t c, int64_t d) {
    t->kato[r] = kato;
    t->level[r] = (int8_t)level;
    t->dim_value[0][r] = (uint8_t)sex;
    t->value[0][r] = a, t->value[1][r] = b, t->value[2][r] = c, t->value[3][r] = d;
}

/* Renders t; returns malloc'd text (caller frees) and the writer's rc. */
static char *render(const report_table *t, int *rc) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    *rc = report_table_write_csv(t, f);
    fclose(f);
    return text;
}

void suite_report_table(void) {
    report_table t;
    int rc;
    TEST_CASE("csv: every format, republic and leading-zero kato") {
        sample_table(&t, 4);
        set_row(&t, 0, 0, 0, 2, 1234, -12345, 0, -7);
        set_row(&t, 1, 12345678, 2, 0, 0, -5, -5, MEASURE_EMPTY);
        set_row(&t, 2, 751110000, 1, 1, MEASURE_SUPPRESSED, 0, 123, 0);
        set_row(&t, 3, 751110000, 1, 2, 1000000, 100, 10, MEASURE_SUPPRESSED);
        char *text = render(&t, &rc);
        EXPECT_EQ_INT(rc, 0);
        EXPECT_EQ_STR(text,
                      "kato,level,sex,population,amount,per_1000,natural_increase\n"
                      "000000000,0,_T,1234,-123.45,0.0,-7\n"
                      "012345678,2,M,0,-0.05,-0.5,\n"
                      "751110000,1,F,x,0.00,12.3,0\n"
                      "751110000,1,_T,1000000,1.00,1.0,x\n");
        free(text);
        report_table_free(&t);
    }
    TEST_CASE("csv: empty values in every format, large and negative numbers") {
        sample_table(&t, 2);
        set_row(&t, 0, 999999999, 3, 1, MEASURE_EMPTY, MEASURE_EMPTY, MEASURE_EMPTY, -1);
        set_row(&t, 1, 1, 3, 0, INT64_MAX, -99999999999999999LL, -12345, 9);
        char *text = render(&t, &rc);
        EXPECT_EQ_INT(rc, 0);
        EXPECT_EQ_STR(text,
                      "kato,level,sex,population,amount,per_1000,natural_increase\n"
                      "999999999,3,F,,,,-1\n"
                      "000000001,3,M,9223372036854775807,-999999999999999.99,-1234.5,9\n");
        free(text);
        report_table_free(&t);
    }
    TEST_CASE("csv: no rows gives the header; a value with a comma is quoted") {
        sample_table(&t, 0);
        snprintf(t.dims[0].values[0], 32, "a,\"b\"");
        char *text = render(&t, &rc);
        EXPECT_EQ_INT(rc, 0);
        EXPECT_EQ_STR(text, "kato,level,sex,population,amount,per_1000,natural_increase\n");
        free(text);
        report_table_free(&t);
        sample_table(&t, 1);
        snprintf(t.dims[0].values[0], 32, "a,\"b\"");
        set_row(&t, 0, 0, 0, 0, 1, 2, 3, 4);
        text = render(&t, &rc);
        EXPECT_EQ_STR(text, "kato,level,sex,population,amount,per_1000,natural_increase\n"
                            "000000000,0,\"a,\"\"b\"\"\",1,0.02,0.3,4\n");
        free(text);
        report_table_free(&t);
    }
    TEST_CASE("csv: a table without dimensions") {
        memset(&t, 0, sizeof t);
        t.nmeasures = 1;
        snprintf(t.measures[0].name, sizeof t.measures[0].name, "births");
        EXPECT_EQ_INT(report_table_alloc_rows(&t, 1), 0);
        t.kato[0] = 710000000, t.level[0] = 1, t.value[0][0] = 42;
        char *text = render(&t, &rc);
        EXPECT_EQ_STR(text, "kato,level,births\n710000000,1,42\n");
        free(text);
        report_table_free(&t);
    }
    TEST_CASE("csv: errors") {
        sample_table(&t, 1);
        set_row(&t, 0, 0, 0, 3, 1, 2, 3, 4); /* value #3 of a 3-value dimension */
        free(render(&t, &rc));
        EXPECT_EQ_INT(rc, -1);
        t.dim_value[0][0] = 2;
        FILE *full = fopen("/dev/full", "w");
        EXPECT(full != NULL);
        if (full) {
            EXPECT_EQ_INT(report_table_write_csv(&t, full), -1);
            fclose(full);
        }
        report_table_free(&t);
        EXPECT(t.kato == NULL && t.dims[0].values == NULL && t.nrows == 0);
        report_table_free(&t); /* freeing twice is harmless */
    }
    TEST_CASE("cells: the CSV form's texts, column by column") {
        char buf[REPORT_CELL_CAP];
        sample_table(&t, 2);
        set_row(&t, 0, 12345678, 2, 1, MEASURE_SUPPRESSED, -5, MEASURE_EMPTY, 7);
        set_row(&t, 1, 0, 0, 2, 12, 12345, -5, 0);
        EXPECT_EQ_INT(report_table_ncolumns(&t), 7);
        EXPECT_EQ_STR(report_table_column_name(&t, 0), "kato");
        EXPECT_EQ_STR(report_table_column_name(&t, 1), "level");
        EXPECT_EQ_STR(report_table_column_name(&t, 2), "sex");
        EXPECT_EQ_STR(report_table_column_name(&t, 6), "natural_increase");
        EXPECT(report_table_column_name(&t, 7) == NULL);
        static const char *const want[2][7] = {{"012345678", "2", "F", "x", "-0.05", "", "7"},
                                               {"000000000", "0", "_T", "12", "123.45", "-0.5", "0"}};
        for (size_t r = 0; r < 2; r++)
            for (size_t c = 0; c < 7; c++) EXPECT_EQ_STR(report_table_cell(&t, r, c, buf), want[r][c]);
        EXPECT(report_table_cell(&t, 2, 0, buf) == NULL);
        EXPECT(report_table_cell(&t, 0, 7, buf) == NULL);
        t.dim_value[0][1] = 3; /* outside the 3 values */
        EXPECT(report_table_cell(&t, 1, 2, buf) == NULL);
        report_table_free(&t);
    }
    TEST_CASE("cells: a field is quoted only when it must be") {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        EXPECT(f != NULL);
        if (f) {
            EXPECT_EQ_INT(report_csv_write_field(f, "63+"), 0);
            EXPECT_EQ_INT(report_csv_write_field(f, ""), 0);
            EXPECT_EQ_INT(report_csv_write_field(f, "a,\"b\"\n"), 0);
            fclose(f);
            EXPECT_EQ_STR(text, "63+\"a,\"\"b\"\"\n\"");
        }
        free(text);
    }
}
