/* One row per reject reason that a single row can show, against the real
 * persons and social_payments schemas. */
#include "ingest/convert.h"
#include "test.h"

/* Splits line on ';' (no quotes) into rec; storage must outlive rec. */
static void make_record(const char *line, csv_record *rec) {
    memset(rec, 0, sizeof *rec);
    rec->raw = line;
    rec->raw_len = strlen(line);
    rec->line = 2;
    const char *p = line;
    for (;;) {
        const char *semi = strchr(p, ';');
        rec->field[rec->nfields] = p;
        rec->field_len[rec->nfields++] = (uint32_t)(semi ? (size_t)(semi - p) : strlen(p));
        if (!semi) break;
        p = semi + 1;
    }
}

typedef struct {
    const char *line;
    int reason;        /* -1: accepted */
    const char *column;
} row_case;

static void run_cases(const schema_set *set, const char *extract, const char *header,
                      const keyset *kato, const row_case *cases, size_t n) {
    const schema_extract *ext = &set->extracts[schema_find_extract(set, extract)];
    csv_record hdr, rec;
    make_record(header, &hdr);
    row_converter conv;
    char err[256];
    if (row_converter_init(&conv, ext, &hdr, kato, err, sizeof err)) {
        test_fail(__FILE__, __LINE__, "%s", err);
        return;
    }
    row_batch *b = row_batch_new(ext, 4);
    for (size_t i = 0; i < n; i++) {
        row_verdict v;
        make_record(cases[i].line, &rec);
        int rejected = row_converter_apply(&conv, &rec, b, &v);
        row_batch_clear(b);
        int got = rejected ? (int)v.reason : -1;
        const char *col = rejected && v.column >= 0 ? ext->columns[v.column].name : "";
        if (got != cases[i].reason || (rejected && strcmp(col, cases[i].column)))
            test_fail(__FILE__, __LINE__, "'%s': got %s/%s, want %s/%s", cases[i].line,
                      got < 0 ? "accepted" : reject_reason_name((reject_reason)got), col,
                      cases[i].reason < 0 ? "accepted" : reject_reason_name((reject_reason)cases[i].reason),
                      cases[i].column);
    }
    row_batch_free(b);
    row_converter_free(&conv);
}

void suite_convert(void) {
    schema_set *set = NULL;
    char err[256];
    if (schema_set_load("schemas", &set, err, sizeof err)) {
        test_fail(__FILE__, __LINE__, "%s", err);
        return;
    }
    keyset kato = {0};
    keyset_add(&kato, 751110000);
    keyset_seal(&kato);
    /* header order differs from the schema, plus an unknown extra column */
    const char *persons_header =
        "household_id;iin;extra;birth_date;sex;kato;death_date;disability_group;citizenship";
    static const row_case persons[] = {
        {"17;900101300007;zz;1990-01-01;M;751110000;;;KAZ", -1, ""},
        {"17;850715401236;;1985-07-15;F;751110000;2024-03-01;2;kaz", -1, ""},
        {"17;900101300007;zz;1990-01-01;M;751110000;;", REJ_FIELD_COUNT, ""},
        {"17;900101300008;zz;1990-01-01;M;751110000;;;KAZ", REJ_IIN_CHECKSUM, "iin"},
        {"17;90010130000;zz;1990-01-01;M;751110000;;;KAZ", REJ_BAD_IIN, "iin"},
        {"17;900101700007;zz;1990-01-01;M;751110000;;;KAZ", REJ_BAD_IIN, "iin"},
        {"17;900101300007;zz;1990-01-02;M;751110000;;;KAZ", REJ_IIN_MISMATCH, "birth_date"},
        {"17;900101300007;zz;1990-01-01;F;751110000;;;KAZ", REJ_IIN_MISMATCH, "sex"},
        {"17;900101300007;zz;1990-02-30;M;751110000;;;KAZ", REJ_BAD_DATE, "birth_date"},
        {"17;900101300007;zz;1990-01-01;X;751110000;;;KAZ", REJ_BAD_ENUM, "sex"},
        {"17;900101300007;zz;1990-01-01;M;751110001;;;KAZ", REJ_UNKNOWN_KATO, "kato"},
        {"17;900101300007;zz;1990-01-01;M;75111000;;;KAZ", REJ_BAD_KATO, "kato"},
        {";900101300007;zz;1990-01-01;M;751110000;;;KAZ", REJ_EMPTY_REQUIRED, "household_id"},
        {"1.5;900101300007;zz;1990-01-01;M;751110000;;;KAZ", REJ_BAD_INT, "household_id"},
        {"17;900101300007;zz;1990-01-01;M;751110000;1989-12-31;;KAZ", REJ_DATE_ORDER, "death_date"},
        {"17;900101300007;zz;1990-01-01;M;751110000;;4;KAZ", REJ_BAD_ENUM, "disability_group"},
        {"17;900101300007;zz;1990-01-01;M;751110000;;;KZ", REJ_BAD_TEXT, "citizenship"},
        {"17;900101300007;zz;1990-01-01;M;751110000;;;K\xC3\x28Z", REJ_INVALID_UTF8, ""},
        /* the leftmost problem wins: household_id before iin */
        {"x;900101300008;zz;1990-01-01;M;751110000;;;KAZ", REJ_BAD_INT, "household_id"},
    };
    TEST_CASE("convert: persons rows") {
        run_cases(set, "persons", persons_header, &kato, persons, sizeof persons / sizeof *persons);
    }
    static const row_case payments[] = {
        {"1;900101300007;ASP;2025-03;42500;751110000", -1, ""},
        {"2;900101300007;ASP;2025-03;0.01;751110000", -1, ""},
        {"3;900101300007;ASP;2025-03;0;751110000", REJ_OUT_OF_RANGE, "amount"},
        {"4;900101300007;ASP;2025-03;-5;751110000", REJ_OUT_OF_RANGE, "amount"},
        {"5;900101300007;ASP;2025-03;12.345;751110000", REJ_BAD_MONEY, "amount"},
        {"6;900101300007;ASP;2025-13;100;751110000", REJ_BAD_MONTH, "period"},
        {"7;900101300007;ASP;2025-3;100;751110000", REJ_BAD_MONTH, "period"},
        {"8;900101300007;asp;2025-03;100;751110000", REJ_BAD_ENUM, "program"},
    };
    TEST_CASE("convert: payment rows") {
        run_cases(set, "social_payments", "payment_id;iin;program;period;amount;kato", &kato, payments,
                  sizeof payments / sizeof *payments);
    }
    static const row_case appeals[] = {
        {"1;2025-03-01;2025-03-05;0;PORTAL;roads;751110000;SATISFIED", -1, ""},
        {"2;2025-03-01;;1;MOBILE;roads;751110000;", -1, ""},
        {"3;2025-03-01;2025-02-28;0;PORTAL;roads;751110000;SATISFIED", REJ_DATE_ORDER, "answered_on"},
    };
    TEST_CASE("convert: appeal rows") {
        run_cases(set, "appeals", "appeal_id;received_on;answered_on;extended;channel;category;kato;result",
                  &kato, appeals, sizeof appeals / sizeof *appeals);
    }
    TEST_CASE("convert: missing and duplicated header columns") {
        const schema_extract *ext = &set->extracts[schema_find_extract(set, "schools")];
        csv_record hdr;
        row_converter conv;
        make_record("org_id;kato;design_capacity;built_year", &hdr);
        EXPECT_EQ_INT(row_converter_init(&conv, ext, &hdr, &kato, err, sizeof err), -1);
        EXPECT(strstr(err, "missing required column 'shifts'") != NULL);
        row_converter_free(&conv);
        make_record("org_id;kato;design_capacity;built_year;shifts;kato", &hdr);
        EXPECT_EQ_INT(row_converter_init(&conv, ext, &hdr, &kato, err, sizeof err), -1);
        EXPECT(strstr(err, "column 'kato' appears twice") != NULL);
        row_converter_free(&conv);
    }
    keyset_free(&kato);
    schema_set_free(set);
}
