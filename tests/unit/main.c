/* main.c — runs every unit suite and prints the harness summary line.
 * MPI is initialised because the reader and key checks are collective
 * (here with one rank). */
#include <mpi.h>
#include <stdlib.h>

#include "test.h"

void suite_iin(void);
void suite_date(void);
void suite_number(void);
void suite_pattern(void);
void suite_csv_scanner(void);
void suite_csv_blocks(void);
void suite_source(void);
void suite_schema(void);
void suite_convert(void);
void suite_expr(void);
void suite_report_table(void);
void suite_h5archive(void);
void suite_disclosure(void);
void suite_access(void);
void suite_json(void);
void suite_keyset(void);
void suite_digest(void);
void suite_territory(void);
void suite_yaml_doc(void);
void suite_request(void);
void suite_fsutil(void);
void suite_facts(void);

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    suite_iin();
    suite_date();
    suite_number();
    suite_pattern();
    suite_csv_scanner();
    suite_csv_blocks();
    suite_source();
    suite_schema();
    suite_convert();
    suite_expr();
    suite_report_table();
    suite_h5archive();
    suite_disclosure();
    suite_access();
    suite_json();
    suite_keyset();
    suite_digest();
    suite_territory();
    suite_yaml_doc();
    suite_request();
    suite_fsutil();
    suite_facts();
    printf("unit: %d passed, %d failed\n", test_results.passed, test_results.failed);
    MPI_Finalize();
    return test_results.failed ? 1 : 0;
}
