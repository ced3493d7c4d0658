/* main.c — runs every unit suite and prints the harness summary line.
 * MPI is initialised because the reader and key checks are collective
 * (here with one rank). */
#include <mpi.h>
#include <stdarg.h>
#include <stdlib.h>

#include "test.h"

test_state test_results;

void test_begin(const char *name) {
    test_results.current = name;
    test_results.current_failed = 0;
}

void test_end(void) {
    if (test_results.current_failed) test_results.failed++;
    else test_results.passed++;
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s (%s:%d): ", test_results.current, file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    test_results.current_failed = 1;
}

void suite_iin(void);
void suite_date(void);
void suite_number(void);
void suite_pattern(void);
void suite_csv_scanner(void);
void suite_source(void);
void suite_schema(void);
void suite_convert(void);
void suite_expr(void);
void suite_report_table(void);
void suite_h5archive(void);
void suite_disclosure(void);
void suite_access(void);

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    suite_iin();
    suite_date();
    suite_number();
    suite_pattern();
    suite_csv_scanner();
    suite_source();
    suite_schema();
    suite_convert();
    suite_expr();
    suite_report_table();
    suite_h5archive();
    suite_disclosure();
    suite_access();
    printf("unit: %d passed, %d failed\n", test_results.passed, test_results.failed);
    MPI_Finalize();
    return test_results.failed ? 1 : 0;
}
