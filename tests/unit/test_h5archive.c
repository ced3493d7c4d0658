/* The HDF5 archive: a table read back equals the table written, the same
 * table gives the same bytes whatever the process did before (also in a
 * forked child), and failures leave no file behind and say which path. */
#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive/h5archive.h"
#include "archive/report_table.h"
#include "test.h"

static const char *sexes[] = {"F", "M", "_T"};
static const char *ages[] = {"0-2", "18-29", "63+", "_T"};

static void set_text(char *dst, size_t cap, const char *s) { snprintf(dst, cap, "%s", s); }

static void add_dimension(report_table *t, const char *name, const char **values, size_t n) {
    report_dimension *d = &t->dims[t->ndims++];
    set_text(d->name, sizeof d->name, name);
    d->nvalues = n;
    d->values = calloc(n, sizeof *d->values);
    for (size_t v = 0; v < n; v++) set_text(d->values[v], sizeof d->values[v], values[v]);
}

static void add_measure(report_table *t, const char *name, measure_format f, int person) {
    report_measure *m = &t->measures[t->nmeasures++];
    set_text(m->name, sizeof m->name, name);
    m->format = f;
    m->person_count = person;
}

static void add_input(report_table *t, const char *name, const char *file, int64_t read) {
    report_input *in = &t->inputs[t->ninputs++];
    set_text(in->name, sizeof in->name, name);
    set_text(in->file, sizeof in->file, file);
    for (int i = 0; i < 64; i++) in->sha256[i] = "0123456789abcdef"[(i * 7 + (int)read) % 16];
    in->read = read, in->accepted = read - 3, in->rejected = 3;
}

/* A two-dimension table whose values depend on seed. */
static void sample_table(report_table *t, int seed) {
    memset(t, 0, sizeof *t);
    set_text(t->id, sizeof t->id, "SOC-01");
    set_text(t->period, sizeof t->period, "2025-03");
    set_text(t->title_kk, sizeof t->title_kk, "Әлеуметтік көмек, ай");
    set_text(t->title_ru, sizeof t->title_ru, "Социальная помощь, месяц");
    t->methodology_version = 3;
    set_text(t->snapshot_date, sizeof t->snapshot_date, "20250415");
    set_text(t->tool_version, sizeof t->tool_version, "esep 0.1.0");
    add_input(t, "persons", "persons.csv", 1000 + seed);
    add_input(t, "payments", "payments.csv.zst", 52000);
    add_dimension(t, "sex", sexes, 3);
    add_dimension(t, "age_group", ages, 4);
    add_measure(t, "recipients", MEASURE_COUNT, 1);
    add_measure(t, "amount", MEASURE_MONEY, 0);
    add_measure(t, "avg_per_recipient", MEASURE_MONEY, 0);
    add_measure(t, "recipients_per_1000", MEASURE_DECIMAL1, 0);
    t->measures[2].nfollows = 2, t->measures[2].follows[0] = 1, t->measures[2].follows[1] = 0;
    t->measures[3].nfollows = 1, t->measures[3].follows[0] = 0;
    static const int32_t katos[] = {0, 11000000, 751110000};
    if (report_table_alloc_rows(t, 3 * 12) != 0) abort();
    for (size_t r = 0; r < t->nrows; r++) {
        t->kato[r] = katos[r / 12];
        t->level[r] = (int8_t)(r / 12);
        t->dim_value[0][r] = (uint8_t)(r % 12 / 4);
        t->dim_value[1][r] = (uint8_t)(r % 4);
        t->value[0][r] = (int64_t)r * 7 + seed;
        t->value[1][r] = -(int64_t)r * 1000003 - 5;
        t->value[2][r] = r % 5 == 0 ? MEASURE_EMPTY : (int64_t)r;
        t->value[3][r] = r % 7 == 0 ? MEASURE_SUPPRESSED : -(int64_t)r;
    }
    set_text(t->addressee, sizeof t->addressee, "Ministry of Labour");
    set_text(t->measures[0].label_kk, REPORT_LABEL_CAP, "Алушылар");
    set_text(t->measures[0].label_ru, REPORT_LABEL_CAP, "Получатели");
    set_text(t->dims[1].label_kk, REPORT_LABEL_CAP, "Жас тобы");
    set_text(t->dims[1].label_ru, REPORT_LABEL_CAP, "Возрастная группа");
    set_text(t->deadline, sizeof t->deadline, "2025-04-05");
    t->dims[0].listed[0] = 1, t->dims[0].listed[1] = 0, t->dims[0].listed[2] = 2; /* M, F */
    t->dims[1].listed[0] = 2, t->dims[1].listed[1] = 0, t->dims[1].listed[2] = 1, t->dims[1].listed[3] = 3;
    if (!(t->territories = calloc(3, sizeof *t->territories))) abort();
    t->nterritories = 3;
    for (size_t i = 0; i < 3; i++) {
        t->territories[i].kato = katos[i];
        t->territories[i].level = (int8_t)i;
        snprintf(t->territories[i].name_kk, REPORT_NAME_CAP, "Аудан %zu ұзын атауы", i);
        snprintf(t->territories[i].name_ru, REPORT_NAME_CAP, "Район %zu", i);
    }
}

static void expect_same_inputs(const report_table *a, const report_table *b) {
    EXPECT_EQ_INT(b->ninputs, a->ninputs);
    for (size_t i = 0; i < a->ninputs && i < b->ninputs; i++) {
        EXPECT_EQ_STR(b->inputs[i].name, a->inputs[i].name);
        EXPECT_EQ_STR(b->inputs[i].file, a->inputs[i].file);
        EXPECT_EQ_STR(b->inputs[i].sha256, a->inputs[i].sha256);
        EXPECT_EQ_INT(b->inputs[i].read, a->inputs[i].read);
        EXPECT_EQ_INT(b->inputs[i].accepted, a->inputs[i].accepted);
        EXPECT_EQ_INT(b->inputs[i].rejected, a->inputs[i].rejected);
    }
}

static void expect_same_shape(const report_table *a, const report_table *b) {
    EXPECT_EQ_INT(b->ndims, a->ndims);
    for (size_t d = 0; d < a->ndims && d < b->ndims; d++) {
        EXPECT_EQ_STR(b->dims[d].name, a->dims[d].name);
        EXPECT_EQ_INT(b->dims[d].nvalues, a->dims[d].nvalues);
        for (size_t v = 0; v < a->dims[d].nvalues && v < b->dims[d].nvalues; v++) {
            EXPECT_EQ_STR(b->dims[d].values[v], a->dims[d].values[v]);
            EXPECT_EQ_INT(b->dims[d].listed[v], a->dims[d].listed[v]);
        }
        EXPECT_EQ_STR(b->dims[d].label_kk, a->dims[d].label_kk);
        EXPECT_EQ_STR(b->dims[d].label_ru, a->dims[d].label_ru);
    }
    EXPECT_EQ_INT(b->nmeasures, a->nmeasures);
    for (size_t m = 0; m < a->nmeasures && m < b->nmeasures; m++) {
        const report_measure *x = &a->measures[m], *y = &b->measures[m];
        EXPECT_EQ_STR(y->name, x->name);
        EXPECT_EQ_STR(y->label_kk, x->label_kk);
        EXPECT_EQ_STR(y->label_ru, x->label_ru);
        EXPECT_EQ_INT(y->format, x->format);
        EXPECT_EQ_INT(y->person_count, x->person_count);
        EXPECT_EQ_INT(y->nfollows, x->nfollows);
        for (int i = 0; i < x->nfollows && i < y->nfollows; i++)
            EXPECT_EQ_INT(y->follows[i], x->follows[i]);
    }
}

static void expect_same_rows(const report_table *a, const report_table *b) {
    EXPECT_EQ_INT(b->nrows, a->nrows);
    if (b->nrows != a->nrows || b->ndims != a->ndims || b->nmeasures != a->nmeasures) return;
    for (size_t r = 0; r < a->nrows; r++) {
        EXPECT_EQ_INT(b->kato[r], a->kato[r]);
        EXPECT_EQ_INT(b->level[r], a->level[r]);
        for (size_t d = 0; d < a->ndims; d++) EXPECT_EQ_INT(b->dim_value[d][r], a->dim_value[d][r]);
        for (size_t m = 0; m < a->nmeasures; m++) EXPECT_EQ_INT(b->value[m][r], a->value[m][r]);
    }
}

static void expect_same_table(const report_table *a, const report_table *b) {
    EXPECT_EQ_STR(b->id, a->id);
    EXPECT_EQ_STR(b->period, a->period);
    EXPECT_EQ_STR(b->title_kk, a->title_kk);
    EXPECT_EQ_STR(b->title_ru, a->title_ru);
    EXPECT_EQ_INT(b->methodology_version, a->methodology_version);
    EXPECT_EQ_STR(b->snapshot_date, a->snapshot_date);
    EXPECT_EQ_STR(b->tool_version, a->tool_version);
    EXPECT_EQ_STR(b->addressee, a->addressee);
    EXPECT_EQ_STR(b->deadline, a->deadline);
    EXPECT_EQ_INT(b->nterritories, a->nterritories);
    for (size_t i = 0; i < a->nterritories && i < b->nterritories; i++) {
        EXPECT_EQ_INT(b->territories[i].kato, a->territories[i].kato);
        EXPECT_EQ_INT(b->territories[i].level, a->territories[i].level);
        EXPECT_EQ_STR(b->territories[i].name_kk, a->territories[i].name_kk);
        EXPECT_EQ_STR(b->territories[i].name_ru, a->territories[i].name_ru);
    }
    expect_same_inputs(a, b);
    expect_same_shape(a, b);
    expect_same_rows(a, b);
}

/* 1 if the two files hold the same bytes. */
static int same_bytes(const char *p, const char *q) {
    FILE *a = fopen(p, "rb"), *b = fopen(q, "rb");
    int same = a && b, x = 0, y = 0;
    while (same && (x = getc(a)) == (y = getc(b)) && x != EOF) continue;
    same = same && x == y;
    if (a) fclose(a);
    if (b) fclose(b);
    return same;
}

/* Counts the objects of the file (every group and dataset, by HDF5's own
 * walk) and those that carry any access, modification, change or birth
 * time. */
typedef struct {
    int headers, timed;
} time_count;

static herr_t count_object(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    (void)obj, (void)name;
    time_count *t = data;
    t->headers++;
    t->timed += info->atime != 0 || info->mtime != 0 || info->ctime != 0 || info->btime != 0;
    return 0;
}

static void count_headers(const char *path, int *headers, int *timed) {
    time_count t = {0, 0};
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0 && H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, count_object, &t, H5O_INFO_TIME) < 0) t.headers = -1;
    if (f >= 0) H5Fclose(f);
    *headers = t.headers, *timed = t.timed;
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d) closedir(d);
    return n;
}

static void path_in(char *out, const char *dir, const char *name) {
    if (snprintf(out, 4096, "%s/%s", dir, name) >= 4096) abort();
}

/* Dirties the heap with a pattern, so that any uninitialised byte that
 * reached a file would differ from the parent's. */
static void churn_heap(void) {
    void *blocks[64];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 64; i++) {
            size_t n = (size_t)(i * 97 + round * 13 + 1) * 16;
            if ((blocks[i] = malloc(n))) memset(blocks[i], 0xA5 ^ i, n);
        }
        for (int i = 0; i < 64; i++) free(blocks[i]);
    }
}

/* Writes `other` then `t` to path in a forked child; 1 if it succeeded. */
static int write_in_child(const report_table *t, const report_table *other, const char *dir,
                          const char *path) {
    char scratch[4096], err[512];
    pid_t pid = fork();
    if (pid == 0) {
        churn_heap();
        sleep(1); /* a stored time would now differ */
        path_in(scratch, dir, "child-other.h5");
        int rc = h5archive_write(other, scratch, err, sizeof err) ||
                 h5archive_write(t, path, err, sizeof err);
        _exit(rc ? 1 : 0);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    char path[4096];
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        path_in(path, dir, e->d_name);
        if (unlink(path) != 0) remove_dir(path);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static void round_trip_cases(const char *dir) {
    report_table t, back, empty;
    char path[4096], err[512] = "";
    TEST_CASE("h5archive: round trip keeps every field") {
        sample_table(&t, 0);
        path_in(path, dir, "SOC-01_2025-03.h5");
        EXPECT_EQ_INT(h5archive_write(&t, path, err, sizeof err), 0);
        EXPECT_EQ_INT(h5archive_read(path, &back, err, sizeof err), 0);
        expect_same_table(&t, &back);
        report_table_free(&back);
        report_table_free(&t);
    }
    TEST_CASE("h5archive: a table without dimensions, measures, inputs or rows") {
        memset(&empty, 0, sizeof empty);
        set_text(empty.id, sizeof empty.id, "POP-02");
        EXPECT_EQ_INT(report_table_alloc_rows(&empty, 0), 0);
        path_in(path, dir, "empty.h5");
        EXPECT_EQ_INT(h5archive_write(&empty, path, err, sizeof err), 0);
        EXPECT_EQ_INT(h5archive_read(path, &back, err, sizeof err), 0);
        expect_same_table(&empty, &back);
        report_table_free(&back);
        report_table_free(&empty);
    }
    TEST_CASE("h5archive: rewriting a path replaces the archive") {
        sample_table(&t, 5);
        path_in(path, dir, "SOC-01_2025-03.h5");
        EXPECT_EQ_INT(h5archive_write(&t, path, err, sizeof err), 0);
        EXPECT_EQ_INT(h5archive_read(path, &back, err, sizeof err), 0);
        EXPECT_EQ_INT(back.value[0][0], 5);
        EXPECT_EQ_INT(back.inputs[0].read, 1005);
        report_table_free(&back);
        report_table_free(&t);
    }
}

static void determinism_cases(const char *dir) {
    report_table t, other;
    char a[4096], b[4096], c[4096], scratch[4096], err[512] = "";
    sample_table(&t, 1);
    sample_table(&other, 2);
    other.nrows = 20; /* a different shape: other dataset sizes */
    path_in(a, dir, "first.h5");
    path_in(b, dir, "again.h5");
    path_in(c, dir, "child.h5");
    path_in(scratch, dir, "other.h5");
    TEST_CASE("h5archive: the same table gives the same bytes") {
        EXPECT_EQ_INT(h5archive_write(&t, a, err, sizeof err), 0);
        EXPECT_EQ_INT(h5archive_write(&other, scratch, err, sizeof err), 0);
        EXPECT_EQ_INT(h5archive_write(&t, b, err, sizeof err), 0);
        EXPECT(same_bytes(a, b));
        EXPECT(!same_bytes(a, scratch));
    }
    TEST_CASE("h5archive: no object stores a time") {
        int headers, timed;
        count_headers(a, &headers, &timed);
        EXPECT_EQ_INT(headers, 12); /* root, rows, measures, dimensions, sex, age_group, listing, its
                                       sex and age_group, dimension_labels, territory, inputs */
        EXPECT_EQ_INT(timed, 0);
    }
    TEST_CASE("h5archive: ... also from a child process with another history") {
        EXPECT(write_in_child(&t, &other, dir, c));
        EXPECT(same_bytes(a, c));
    }
    report_table_free(&other);
    report_table_free(&t);
}

/* Writes image to path; 1 when every byte went. */
static int write_bytes(const char *path, const unsigned char *image, size_t size) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(image, 1, size, f) == size;
    if (f && fclose(f) != 0) ok = 0;
    return ok;
}

/* 1 when the file at path opens as HDF5 and holds a group at each name. */
static int has_groups(const char *path, const char *const *names, size_t n) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int ok = f >= 0;
    for (size_t i = 0; ok && i < n; i++) {
        hid_t g = H5Lexists(f, names[i], H5P_DEFAULT) > 0 ? H5Gopen2(f, names[i], H5P_DEFAULT) : -1;
        ok = g >= 0 && H5Lexists(g, "rows", H5P_DEFAULT) > 0 && H5Lexists(g, "measures", H5P_DEFAULT) > 0;
        if (g >= 0) H5Gclose(g);
    }
    if (f >= 0) H5Fclose(f);
    return ok;
}

static void bundle_image_cases(const char *dir) {
    report_table t, other;
    char path[4096], err[512] = "";
    sample_table(&t, 1);
    sample_table(&other, 2);
    set_text(other.id, sizeof other.id, "POP-01");
    const report_table *tables[2] = {&t, &other};
    static const char *const groups[2] = {"SOC-01", "POP-01"};
    unsigned char *first = NULL, *again = NULL;
    size_t first_size = 0, again_size = 0;
    path_in(path, dir, "bundle.h5");
    TEST_CASE("h5archive: a bundle image holds every table in its own group, the same bytes each time") {
        int before = entries(dir);
        EXPECT_EQ_INT(h5archive_bundle_image(tables, 2, &first, &first_size, err, sizeof err), 0);
        EXPECT_EQ_INT(h5archive_bundle_image(tables, 2, &again, &again_size, err, sizeof err), 0);
        EXPECT_EQ_INT(entries(dir), before); /* built in memory: no file anywhere in dir */
        EXPECT(first && again && first_size == again_size && memcmp(first, again, first_size) == 0);
        EXPECT(first && write_bytes(path, first, first_size) && has_groups(path, groups, 2));
    }
    free(first);
    free(again);
    unlink(path);
    report_table_free(&other);
    report_table_free(&t);
}

static void error_cases(const char *dir) {
    report_table t, back;
    char path[4096], sub[4096], err[512] = "";
    sample_table(&t, 0);
    TEST_CASE("h5archive: an unwritable path gives an error and no file") {
        path_in(path, dir, "missing/x.h5");
        EXPECT_EQ_INT(h5archive_write(&t, path, err, sizeof err), -1);
        EXPECT(strstr(err, path) != NULL);
        EXPECT(access(path, F_OK) != 0);
        path_in(sub, dir, "errors");
        mkdir(sub, 0755);
        path_in(path, sub, "taken");
        mkdir(path, 0755); /* the final name is a directory: rename fails */
        err[0] = '\0';
        EXPECT_EQ_INT(h5archive_write(&t, path, err, sizeof err), -1);
        EXPECT(strstr(err, path) != NULL);
        EXPECT_EQ_INT(entries(sub), 1);
    }
    TEST_CASE("h5archive: a bad table is refused before any file exists") {
        path_in(path, sub, "bad.h5");
        t.dim_value[1][3] = 4; /* age_group has 4 values */
        EXPECT_EQ_INT(h5archive_write(&t, path, err, sizeof err), -1);
        EXPECT(strstr(err, "age_group") != NULL);
        t.dim_value[1][3] = 3;
        set_text(t.measures[1].name, sizeof t.measures[1].name, "sex");
        EXPECT_EQ_INT(h5archive_write(&t, path, err, sizeof err), -1);
        EXPECT_EQ_INT(entries(sub), 1);
    }
    TEST_CASE("h5archive: reading a missing or foreign file gives a clear error") {
        path_in(path, dir, "absent.h5");
        EXPECT_EQ_INT(h5archive_read(path, &back, err, sizeof err), -1);
        EXPECT(strstr(err, path) != NULL && strstr(err, "No such file") != NULL);
        EXPECT(back.nrows == 0 && back.kato == NULL);
        path_in(path, dir, "text.h5");
        FILE *f = fopen(path, "w");
        if (f) fputs("kato,level\n", f), fclose(f);
        err[0] = '\0';
        EXPECT_EQ_INT(h5archive_read(path, &back, err, sizeof err), -1);
        EXPECT(strstr(err, path) != NULL);
    }
    TEST_CASE("h5archive: a truncated archive is refused") {
        struct stat st;
        report_table_free(&t);
        sample_table(&t, 0);
        path_in(path, dir, "truncated.h5");
        EXPECT_EQ_INT(h5archive_write(&t, path, err, sizeof err), 0);
        EXPECT_EQ_INT(stat(path, &st), 0);
        EXPECT_EQ_INT(truncate(path, st.st_size / 2), 0);
        EXPECT_EQ_INT(h5archive_read(path, &back, err, sizeof err), -1);
        EXPECT(strstr(err, path) != NULL);
    }
    report_table_free(&t);
}

void suite_h5archive(void) {
    char dir[] = "/tmp/esep-h5-XXXXXX";
    if (!mkdtemp(dir)) {
        TEST_CASE("h5archive: temporary directory") EXPECT(0);
        return;
    }
    round_trip_cases(dir);
    determinism_cases(dir);
    bundle_image_cases(dir);
    error_cases(dir);
    remove_dir(dir);
}
