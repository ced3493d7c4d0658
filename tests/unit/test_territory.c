/* Reporting periods (src/engine/period.h) and territory at E
 * (src/engine/territory.h), on values worked out by hand from reports.md
 * "Conventions" and extracts.md "KATO codes". */
#include <string.h>
#include "base/date.h"
#include "engine/period.h"
#include "engine/territory.h"
#include "test.h"

static void period_cases(void) {
    TEST_CASE("period: S and E of a month, a leap February, a quarter, a year") {
        struct {
            const char *text;
            period_kind kind;
            int y0, m0, d0, y1, m1, d1;
        } want[] = {
            {"2025-03", PERIOD_MONTH, 2025, 3, 1, 2025, 3, 31},   {"2024-02", PERIOD_MONTH, 2024, 2, 1, 2024, 2, 29},
            {"2100-02", PERIOD_MONTH, 0, 0, 0, 0, 0, 0},          {"2025-02", PERIOD_MONTH, 2025, 2, 1, 2025, 2, 28},
            {"2025-Q1", PERIOD_QUARTER, 2025, 1, 1, 2025, 3, 31}, {"2025-Q2", PERIOD_QUARTER, 2025, 4, 1, 2025, 6, 30},
            {"2025-Q4", PERIOD_QUARTER, 2025, 10, 1, 2025, 12, 31}, {"2000", PERIOD_YEAR, 2000, 1, 1, 2000, 12, 31},
            {"1900-12", PERIOD_MONTH, 1900, 12, 1, 1900, 12, 31},
        };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            period p;
            int rc = period_parse(want[i].text, &p);
            if (!want[i].y0) { /* out of 1900..2099 */
                EXPECT_EQ_INT(rc, -1);
                continue;
            }
            EXPECT_EQ_INT(rc, 0);
            EXPECT_EQ_INT(p.kind, want[i].kind);
            EXPECT_EQ_STR(p.text, want[i].text);
            EXPECT_EQ_INT(p.start, date_from_ymd(want[i].y0, want[i].m0, want[i].d0));
            EXPECT_EQ_INT(p.end, date_from_ymd(want[i].y1, want[i].m1, want[i].d1));
        }
    }
    TEST_CASE("period: malformed periods are refused") {
        const char *bad[] = {"", "2025-13", "2025-00", "2025-3", "2025-Q0", "2025-Q5", "2025-q1", "25",
                             "1899", "2100", "2025-03x", "2025-03 ", " 2025", "2025-", "2025-Q", "２０２５"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            period p;
            if (period_parse(bad[i], &p) != -1) test_fail(__FILE__, __LINE__, "accepted '%s'", bad[i]);
        }
    }
}

static kato_row row(int32_t code, int level, int32_t from, int32_t to, int32_t successor, int64_t line) {
    kato_row r;
    memset(&r, 0, sizeof r);
    r.code = code, r.level = level, r.valid_from = from, r.valid_to = to, r.successor = successor, r.line = line;
    return r;
}

/* Object code at anc[l], or -1. */
static int32_t at(const territory *t, const int32_t anc[4], int l) {
    return anc[l] < 0 ? -1 : t->object_code[anc[l]];
}

static void territory_cases(void) {
    TEST_CASE("territory: objects at E, roll-up by prefix, successor chains") {
        territory t = {0};
        int32_t old = date_from_ymd(2000, 1, 1), closed = date_from_ymd(2024, 12, 31), e = date_from_ymd(2025, 3, 31);
        kato_row rows[] = {
            row(750000000, 1, old, -1, -1, 2),                         /* region 75 */
            row(751100000, 2, old, -1, -1, 3),                         /* district 7511 */
            row(751110000, 3, old, -1, -1, 4),                         /* okrug 751110 */
            row(751110111, 4, old, -1, -1, 5),                         /* a settlement of it */
            row(752200000, 2, old, closed, 751100000, 6),              /* district closed into 7511 */
            row(752210000, 3, old, -1, -1, 7),                         /* okrug of the closed district */
            row(753300000, 2, old, closed, 753400000, 8),              /* chain to a code closed too */
            row(753400000, 2, old, closed, -1, 9),                     /*   … with no successor */
            row(754400000, 2, date_from_ymd(2025, 4, 1), -1, -1, 10),  /* opens after E */
            row(759900000, 2, old, -1, -1, 11),                        /* withdrawn below */
        };
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) EXPECT_EQ_INT(territory_add_row(&t, &rows[i], +1), 0);
        EXPECT_EQ_INT(territory_add_row(&t, &rows[9], -1), 0);
        EXPECT_EQ_INT(territory_build(&t, e), 0);
        /* republic, 75, 7511, 751110, 752210: levels 1–3 valid at E */
        EXPECT_EQ_INT(t.nobjects, 5);
        int32_t objects[] = {0, 750000000, 751100000, 751110000, 752210000};
        for (size_t i = 0; i < 5 && i < t.nobjects; i++) EXPECT_EQ_INT(t.object_code[i], objects[i]);
        int32_t anc[4];
        EXPECT_EQ_INT(territory_locate(&t, 751110111, anc), 0);
        EXPECT(at(&t, anc, 0) == 0 && at(&t, anc, 1) == 750000000 && at(&t, anc, 2) == 751100000 &&
               at(&t, anc, 3) == 751110000);
        EXPECT_EQ_INT(territory_locate(&t, 750000000, anc), 0); /* a region is itself at level 1 only */
        EXPECT(at(&t, anc, 1) == 750000000 && anc[2] == -1 && anc[3] == -1);
        EXPECT_EQ_INT(territory_locate(&t, 752200000, anc), 0); /* closed: counts under its successor */
        EXPECT(at(&t, anc, 1) == 750000000 && at(&t, anc, 2) == 751100000 && anc[3] == -1);
        EXPECT_EQ_INT(territory_locate(&t, 752210000, anc), 0); /* okrug whose district is no object */
        EXPECT(at(&t, anc, 1) == 750000000 && anc[2] == -1 && at(&t, anc, 3) == 752210000);
        EXPECT_EQ_INT(territory_locate(&t, 753300000, anc), -1); /* chain ends with nothing valid */
        EXPECT_EQ_INT(territory_locate(&t, 754400000, anc), -1); /* not yet valid, no successor */
        EXPECT_EQ_INT(territory_locate(&t, 759900000, anc), -1); /* withdrawn */
        EXPECT_EQ_INT(territory_locate(&t, 111111111, anc), -1); /* unknown */
        territory_free(&t);
    }
    TEST_CASE("territory: the predecessor rule for codes not yet valid at E") {
        /* E = 2023-03-31. District 7511 is recoded 7512 on 2023-06-01, and
         * 7512 again 7516 on 2024-01-01 (a chain of two). Districts 7521
         * and 7522 merge into 7523 on 2023-06-01. Okrug 752310 opens with
         * 7523 and has no predecessor. Worked out from reports.md: 7512 and
         * 7516 have the one valid predecessor 7511; 7523 has two (7521,
         * 7522) and is rejected; 752310 has none and is rejected. At
         * T = 2024-06-30 (restated) the same rows resolve forward: 7511 and
         * 7512 to 7516, 7521 and 7522 to 7523. */
        territory t = {0};
        int32_t old = date_from_ymd(2000, 1, 1), reform = date_from_ymd(2023, 6, 1), second = date_from_ymd(2024, 1, 1);
        kato_row rows[] = {
            row(750000000, 1, old, -1, -1, 2),
            row(751100000, 2, old, reform - 1, 751200000, 3),
            row(751200000, 2, reform, second - 1, 751600000, 4),
            row(751600000, 2, second, -1, -1, 5),
            row(752100000, 2, old, reform - 1, 752300000, 6),
            row(752200000, 2, old, reform - 1, 752300000, 7),
            row(752300000, 2, reform, -1, -1, 8),
            row(752310000, 3, reform, -1, -1, 9),
        };
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) EXPECT_EQ_INT(territory_add_row(&t, &rows[i], +1), 0);
        EXPECT_EQ_INT(territory_build(&t, date_from_ymd(2023, 3, 31)), 0);
        int32_t anc[4];
        EXPECT_EQ_INT(territory_locate(&t, 751200000, anc), 0);
        EXPECT(at(&t, anc, 1) == 750000000 && at(&t, anc, 2) == 751100000);
        EXPECT_EQ_INT(territory_locate(&t, 751600000, anc), 0);
        EXPECT(at(&t, anc, 2) == 751100000);
        EXPECT_EQ_INT(territory_locate(&t, 752300000, anc), -1); /* two predecessors */
        EXPECT_EQ_INT(territory_locate(&t, 752310000, anc), -1); /* none */
        EXPECT_EQ_INT(territory_locate(&t, 752100000, anc), 0);  /* valid at E: itself */
        EXPECT(at(&t, anc, 2) == 752100000);
        EXPECT_EQ_INT(territory_build(&t, date_from_ymd(2024, 6, 30)), 0);
        EXPECT_EQ_INT(territory_locate(&t, 751100000, anc), 0);
        EXPECT(at(&t, anc, 2) == 751600000);
        EXPECT_EQ_INT(territory_locate(&t, 752200000, anc), 0);
        EXPECT(at(&t, anc, 2) == 752300000);
        EXPECT_EQ_INT(territory_locate(&t, 752310000, anc), 0);
        EXPECT(at(&t, anc, 2) == 752300000 && at(&t, anc, 3) == 752310000);
        territory_free(&t);
    }
    TEST_CASE("territory: a successor cycle resolves to nothing instead of looping") {
        territory t = {0};
        int32_t old = date_from_ymd(2000, 1, 1), closed = date_from_ymd(2010, 1, 1);
        kato_row a = row(751100000, 2, old, closed, 752200000, 2), b = row(752200000, 2, old, closed, 751100000, 3);
        EXPECT_EQ_INT(territory_add_row(&t, &a, +1), 0);
        EXPECT_EQ_INT(territory_add_row(&t, &b, +1), 0);
        EXPECT_EQ_INT(territory_build(&t, date_from_ymd(2025, 3, 31)), 0);
        int32_t anc[4];
        EXPECT_EQ_INT(territory_locate(&t, 751100000, anc), -1);
        EXPECT_EQ_INT(t.nobjects, 1);
        territory_free(&t);
    }
}

void suite_territory(void) {
    period_cases();
    territory_cases();
}
