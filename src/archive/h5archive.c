/* h5archive.c — writes and reads the HDF5 archive of one report table (the
 * layout is described in h5archive.h). It owns every HDF5 detail of esep:
 * the property lists that keep files reproducible, record packing, and
 * turning the HDF5 error stack into one message that names the archive.
 *
 * Reproducible bytes: object time tracking is off for the root group (file
 * creation list), groups and datasets; the file format is pinned (library
 * version bounds 1.8..1.8); records are packed by hand into zeroed buffers
 * with explicit little-endian integers and NUL-padded strings, so no
 * uninitialised memory reaches the file and HDF5 has nothing to convert.
 * The reader reads each dataset in its own file type and decodes the fields
 * it finds by name, after checking their kind and size. */
#include "h5archive.h"

#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/fsutil.h"

#define NAME_CAP sizeof(((report_measure *)0)->name)
#define VALUE_CAP sizeof(*((report_dimension *)0)->values)
#define FOLLOWS_CAP (REPORT_MAX_MEASURES * NAME_CAP)
#define MAX_FIELDS (2 + REPORT_MAX_DIMS + REPORT_MAX_MEASURES)
#define MAX_DIM_VALUES 256 /* a row's value index is a uint8_t */
#define MAX_KATO 999999999
#define DETAIL_CAP 200

/* ---- errors ------------------------------------------------------------ */

typedef struct {
    const char *path; /* the archive's final path, named in every message */
    char *err;
    size_t errlen;
    int failed; /* err already holds the first failure */
} h5ctx;

/* H5Ewalk2 callback: keeps the description of the innermost error, on one
 * line (some descriptions embed a ctime() string). */
static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *detail) {
    char *s = detail;
    if (n != 0 || !e->desc) return 0;
    /* an I/O failure of the file driver: "file write failed: time = …,
     * filename = '…', …, errno = 28, error message = 'No space left on
     * device', …" — keep what failed and the system's reason */
    const char *why = strstr(e->desc, "error message = '"), *colon = strchr(e->desc, ':');
    if (why && colon) {
        why += strlen("error message = '");
        const char *end = strchr(why, '\'');
        snprintf(s, DETAIL_CAP, "%.*s: %.*s", (int)(colon - e->desc), e->desc, (int)(end ? end - why : 120), why);
        return 0;
    }
    snprintf(s, DETAIL_CAP, "%s", e->desc);
    for (; *s; s++)
        if (*s == '\n' || *s == '\r' || *s == '\t') *s = ' ';
    return 0;
}

/* Records "<path>: <msg>[: <HDF5's innermost reason>]" unless a failure is
 * already recorded, and clears the HDF5 error stack. Returns -1. */
static int record_failure(h5ctx *c, const char *msg, int from_hdf5) {
    char detail[DETAIL_CAP] = "";
    if (from_hdf5 && H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, detail) < 0)
        detail[0] = '\0';
    if (!c->failed)
        snprintf(c->err, c->errlen, "%s: %s%s%s", c->path, msg, detail[0] ? ": " : "", detail);
    c->failed = 1;
    if (from_hdf5) (void)H5Eclear2(H5E_DEFAULT); /* only empties the stack */
    return -1;
}

/* A failure found by our own checks. Returns -1. */
static int fail(h5ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(h5ctx *c, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return record_failure(c, msg, 0);
}

/* After a failed HDF5 call: "cannot <what>: <reason>". Returns -1. */
static int h5fail(h5ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int h5fail(h5ctx *c, const char *fmt, ...) {
    char msg[400] = "cannot ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + 7, sizeof msg - 7, fmt, ap);
    va_end(ap);
    return record_failure(c, msg, 1);
}

/* Turns HDF5's automatic error printing off, saving the previous handler. */
static int quiet_hdf5(h5ctx *c, H5E_auto2_t *func, void **data) {
    if (H5Eget_auto2(H5E_DEFAULT, func, data) < 0 || H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0)
        return h5fail(c, "initialise HDF5");
    return 0;
}

/* Restores the handler saved by quiet_hdf5. Returns rc, or -1. */
static int restore_hdf5(h5ctx *c, H5E_auto2_t func, void *data, int rc) {
    if (H5Eset_auto2(H5E_DEFAULT, func, data) < 0) return h5fail(c, "restore HDF5 error printing");
    return rc;
}

/* Closes id if it is valid, whatever its kind. A failure is recorded (and
 * -1 returned) only if rc is still 0; otherwise rc is returned. */
static int close_id(h5ctx *c, hid_t id, int rc) {
    herr_t st;
    if (id < 0) return rc;
    switch (H5Iget_type(id)) {
    case H5I_FILE: st = H5Fclose(id); break;
    case H5I_GROUP: st = H5Gclose(id); break;
    case H5I_DATATYPE: st = H5Tclose(id); break;
    case H5I_DATASPACE: st = H5Sclose(id); break;
    case H5I_DATASET: st = H5Dclose(id); break;
    case H5I_ATTR: st = H5Aclose(id); break;
    case H5I_GENPROP_LST: st = H5Pclose(id); break;
    default: st = H5Idec_ref(id) < 0 ? -1 : 0; break;
    }
    if (st >= 0) return rc;
    if (rc == 0) return h5fail(c, "close an HDF5 object");
    (void)H5Eclear2(H5E_DEFAULT); /* the first failure is already recorded */
    return rc;
}

/* ---- records: packed compound layouts ---------------------------------- */

typedef struct {
    const char *name;
    size_t offset, size;
    int is_string; /* else a signed little-endian integer of size bytes */
} field;

typedef struct {
    field f[MAX_FIELDS];
    size_t n, size;
} record;

/* Appends a field (a string of at least one byte) at the end of r. */
static void record_add(record *r, const char *name, int is_string, size_t size) {
    if (size == 0) size = 1;
    r->f[r->n++] = (field){name, r->size, size, is_string};
    r->size += size;
}

static void put_string(uint8_t *rec, const field *f, const char *s) {
    memcpy(rec + f->offset, s, strnlen(s, f->size));
}

static void put_int(uint8_t *rec, const field *f, int64_t v) {
    uint64_t u = (uint64_t)v;
    for (size_t i = 0; i < f->size; i++) rec[f->offset + i] = (uint8_t)(u >> (8 * i));
}

/* Copies the string field into out, which holds at least f->size + 1. */
static void get_string(const uint8_t *rec, const field *f, char *out) {
    size_t n = strnlen((const char *)rec + f->offset, f->size);
    memcpy(out, rec + f->offset, n);
    out[n] = '\0';
}

static int64_t get_int(const uint8_t *rec, const field *f) {
    uint64_t u = 0;
    for (size_t i = 0; i < f->size; i++) u |= (uint64_t)rec[f->offset + i] << (8 * i);
    if (f->size < 8 && (u >> (8 * f->size - 1) & 1)) u |= ~(uint64_t)0 << (8 * f->size);
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* A fixed-length, NUL-padded UTF-8 string type of size bytes; -1 on error. */
static hid_t string_type(size_t size) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, size ? size : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        (void)H5Tclose(t); /* the failure that matters is already on the stack */
        return -1;
    }
    return t;
}

static hid_t int_type(size_t size) {
    return size == 1 ? H5T_STD_I8LE : size == 4 ? H5T_STD_I32LE : H5T_STD_I64LE;
}

/* The packed compound type of r, or -1 (recorded). The caller closes it. */
static hid_t record_type(h5ctx *c, const record *r, const char *dataset) {
    hid_t type = H5Tcreate(H5T_COMPOUND, r->size);
    if (type < 0) return h5fail(c, "create the type of %s", dataset);
    for (size_t i = 0; i < r->n; i++) {
        const field *f = &r->f[i];
        hid_t member = f->is_string ? string_type(f->size) : int_type(f->size);
        int rc = member < 0 || H5Tinsert(type, f->name, f->offset, member) < 0
                     ? h5fail(c, "create the type of %s.%s", dataset, f->name) : 0;
        if (f->is_string) rc = close_id(c, member, rc);
        if (rc != 0) return close_id(c, type, rc);
    }
    return type;
}

/* ---- checking a table before writing ----------------------------------- */

static int text_ok(const char *s, size_t cap) { return strnlen(s, cap) < cap; }

/* A dimension or measure name: also an HDF5 member and link name, and an
 * element of a comma-separated list. */
static int name_ok(const char *s) {
    return text_ok(s, NAME_CAP) && s[0] && !strpbrk(s, "/,") && strcmp(s, ".") != 0;
}

static int check_names(h5ctx *c, const report_table *t) {
    const char *names[MAX_FIELDS] = {"kato", "level"};
    size_t n = 2;
    for (size_t d = 0; d < t->ndims; d++) names[n++] = t->dims[d].name;
    for (size_t m = 0; m < t->nmeasures; m++) names[n++] = t->measures[m].name;
    for (size_t i = 2; i < n; i++) {
        if (!name_ok(names[i])) return fail(c, "bad dimension or measure name '%.47s'", names[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) return fail(c, "name '%s' used twice", names[i]);
    }
    return 0;
}

static int check_metadata(h5ctx *c, const report_table *t) {
    int ok = text_ok(t->id, sizeof t->id) && text_ok(t->period, sizeof t->period) &&
             text_ok(t->title_kk, sizeof t->title_kk) && text_ok(t->title_ru, sizeof t->title_ru) &&
             text_ok(t->snapshot_date, sizeof t->snapshot_date) &&
             text_ok(t->tool_version, sizeof t->tool_version);
    for (size_t i = 0; ok && i < t->ninputs; i++) {
        const report_input *in = &t->inputs[i];
        ok = text_ok(in->name, sizeof in->name) && text_ok(in->sha256, sizeof in->sha256) &&
             text_ok(in->file, sizeof in->file);
    }
    return ok ? 0 : fail(c, "a text field of the report is not terminated");
}

static int check_dimensions(h5ctx *c, const report_table *t) {
    for (size_t d = 0; d < t->ndims; d++) {
        const report_dimension *dim = &t->dims[d];
        if (dim->nvalues == 0 || dim->nvalues > MAX_DIM_VALUES || !dim->values)
            return fail(c, "dimension %s has %zu values", dim->name, dim->nvalues);
        for (size_t v = 0; v < dim->nvalues; v++) {
            if (!text_ok(dim->values[v], VALUE_CAP))
                return fail(c, "dimension %s: value %zu is not terminated", dim->name, v);
            for (size_t u = 0; u < v; u++)
                if (strcmp(dim->values[u], dim->values[v]) == 0)
                    return fail(c, "dimension %s: value '%s' listed twice", dim->name, dim->values[v]);
        }
    }
    return 0;
}

static int check_measures(h5ctx *c, const report_table *t) {
    for (size_t m = 0; m < t->nmeasures; m++) {
        const report_measure *me = &t->measures[m];
        if (me->format != MEASURE_COUNT && me->format != MEASURE_MONEY &&
            me->format != MEASURE_DECIMAL1)
            return fail(c, "measure %s has an unknown format", me->name);
        if (me->nfollows < 0 || me->nfollows > REPORT_MAX_MEASURES)
            return fail(c, "measure %s follows %d measures", me->name, me->nfollows);
        for (int i = 0; i < me->nfollows; i++)
            if (me->follows[i] < 0 || (size_t)me->follows[i] >= t->nmeasures)
                return fail(c, "measure %s follows measure #%d", me->name, me->follows[i]);
    }
    return 0;
}

static int check_rows(h5ctx *c, const report_table *t) {
    if (t->nrows == 0) return 0;
    int ok = t->kato && t->level;
    for (size_t d = 0; d < t->ndims; d++) ok = ok && t->dim_value[d];
    for (size_t m = 0; m < t->nmeasures; m++) ok = ok && t->value[m];
    if (!ok) return fail(c, "row arrays are not allocated");
    for (size_t r = 0; r < t->nrows; r++) {
        if (t->kato[r] < 0 || t->kato[r] > MAX_KATO)
            return fail(c, "row %zu: kato %ld out of range", r, (long)t->kato[r]);
        for (size_t d = 0; d < t->ndims; d++)
            if (t->dim_value[d][r] >= t->dims[d].nvalues)
                return fail(c, "row %zu: no value #%d in dimension %s", r,
                            (int)t->dim_value[d][r], t->dims[d].name);
    }
    return 0;
}

static int check_table(h5ctx *c, const report_table *t) {
    if (t->ndims > REPORT_MAX_DIMS || t->nmeasures > REPORT_MAX_MEASURES ||
        t->ninputs > REPORT_MAX_EXTRACTS)
        return fail(c, "too many dimensions, measures or inputs");
    return check_names(c, t) || check_metadata(c, t) || check_dimensions(c, t) ||
                   check_measures(c, t) || check_rows(c, t)
               ? -1 : 0;
}

/* ---- property lists ----------------------------------------------------- */

/* The file creation list is also the root group's creation list. */
static herr_t setup_fcpl(hid_t p) { return H5Pset_obj_track_times(p, 0); }
static herr_t setup_dcpl(hid_t p) { return H5Pset_obj_track_times(p, 0); }

/* File locking where the file system has it, none where it has not (some
 * cluster file systems), instead of failing. */
static herr_t setup_read_fapl(hid_t p) { return H5Pset_file_locking(p, 1, 1); }

static herr_t setup_fapl(hid_t p) {
    if (setup_read_fapl(p) < 0 || H5Pset_libver_bounds(p, H5F_LIBVER_EARLIEST, H5F_LIBVER_V18) < 0)
        return -1;
    return H5Pset_fclose_degree(p, H5F_CLOSE_STRONG);
}

static herr_t setup_gcpl(hid_t p) {
    if (H5Pset_obj_track_times(p, 0) < 0) return -1;
    return H5Pset_link_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
}

/* A property list of class cls prepared by setup; -1 on error (recorded). */
static hid_t new_plist(h5ctx *c, hid_t cls, herr_t (*setup)(hid_t)) {
    hid_t p = H5Pcreate(cls);
    if (p < 0 || setup(p) < 0) {
        h5fail(c, "set up HDF5 properties");
        return close_id(c, p, -1);
    }
    return p;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct {
    h5ctx *c;
    hid_t file;
    hid_t base; /* where a table goes: the root group, or /<ID> in a bundle */
    hid_t dcpl; /* datasets: no times */
    hid_t gcpl; /* groups: no times, links kept in creation order */
} writer;

/* Writes a scalar attribute of the root group. */
static int write_attr(const writer *w, const char *name, hid_t type, hid_t mem_type,
                      const void *buf) {
    hid_t space = H5Screate(H5S_SCALAR), attr = -1;
    int rc = space < 0 ? h5fail(w->c, "create a dataspace") : 0;
    if (rc == 0 && (attr = H5Acreate2(w->base, name, type, space, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        rc = h5fail(w->c, "create attribute %s", name);
    if (rc == 0 && H5Awrite(attr, mem_type, buf) < 0) rc = h5fail(w->c, "write attribute %s", name);
    rc = close_id(w->c, attr, rc);
    return close_id(w->c, space, rc);
}

/* value is terminated within its field; its length (at least the NUL
 * byte) is what the attribute holds. */
static int write_string_attr(const writer *w, const char *name, const char *value) {
    hid_t type = string_type(strlen(value));
    if (type < 0) return h5fail(w->c, "create the type of attribute %s", name);
    return close_id(w->c, type, write_attr(w, name, type, type, value));
}

static int write_root_attrs(const writer *w, const report_table *t) {
    int32_t version = t->methodology_version;
    return write_string_attr(w, "id", t->id) || write_string_attr(w, "period", t->period) ||
                   write_string_attr(w, "title_kk", t->title_kk) ||
                   write_string_attr(w, "title_ru", t->title_ru) ||
                   write_attr(w, "methodology_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version) ||
                   write_string_attr(w, "snapshot_date", t->snapshot_date) ||
                   write_string_attr(w, "tool_version", t->tool_version) ||
                   write_string_attr(w, "addressee", t->addressee) ||
                   write_string_attr(w, "deadline", t->deadline) ||
                   (t->boundaries[0] && (write_string_attr(w, "boundaries", t->boundaries) ||
                                         write_string_attr(w, "classifier_snapshot", t->classifier_snapshot)))
               ? -1 : 0;
}

/* Creates the 1-D dataset path of n elements of type and writes buf. */
static int write_dataset(const writer *w, const char *path, hid_t type, size_t n, const void *buf) {
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL), set = -1;
    int rc = space < 0 ? h5fail(w->c, "create a dataspace") : 0;
    if (rc == 0 &&
        (set = H5Dcreate2(w->base, path, type, space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT)) < 0)
        rc = h5fail(w->c, "create %s", path);
    if (rc == 0 && n > 0 && H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        rc = h5fail(w->c, "write %s", path);
    rc = close_id(w->c, set, rc);
    return close_id(w->c, space, rc);
}

static int write_records(const writer *w, const char *path, const record *r, size_t n,
                         const uint8_t *buf) {
    hid_t type = record_type(w->c, r, path);
    if (type < 0) return -1;
    return close_id(w->c, type, write_dataset(w, path, type, n, buf));
}

/* Packed records are built in one zeroed buffer: padding is always 0. */
static uint8_t *alloc_records(h5ctx *c, size_t n, size_t size) {
    uint8_t *buf = calloc(n ? n : 1, size);
    if (!buf) fail(c, "out of memory for %zu records", n);
    return buf;
}

static size_t longest_value(const report_dimension *dim) {
    size_t max = 0;
    for (size_t v = 0; v < dim->nvalues; v++) {
        size_t len = strlen(dim->values[v]);
        if (len > max) max = len;
    }
    return max;
}

static void pack_row(const report_table *t, const record *r, size_t i, uint8_t *rec) {
    char kato[16];
    snprintf(kato, sizeof kato, "%09ld", (long)t->kato[i]);
    put_string(rec, &r->f[0], kato);
    put_int(rec, &r->f[1], t->level[i]);
    for (size_t d = 0; d < t->ndims; d++)
        put_string(rec, &r->f[2 + d], t->dims[d].values[t->dim_value[d][i]]);
    for (size_t m = 0; m < t->nmeasures; m++)
        put_int(rec, &r->f[2 + t->ndims + m], t->value[m][i]);
}

static int write_rows(const writer *w, const report_table *t) {
    record r = {0};
    record_add(&r, "kato", 1, 9);
    record_add(&r, "level", 0, 1);
    for (size_t d = 0; d < t->ndims; d++) record_add(&r, t->dims[d].name, 1, longest_value(&t->dims[d]));
    for (size_t m = 0; m < t->nmeasures; m++) record_add(&r, t->measures[m].name, 0, 8);
    uint8_t *buf = alloc_records(w->c, t->nrows, r.size);
    if (!buf) return -1;
    for (size_t i = 0; i < t->nrows; i++) pack_row(t, &r, i, buf + i * r.size);
    int rc = write_records(w, "rows", &r, t->nrows, buf);
    free(buf);
    return rc;
}

static const char *format_name(measure_format f) {
    return f == MEASURE_MONEY ? "money" : f == MEASURE_DECIMAL1 ? "decimal1" : "count";
}

static int unit_scale(measure_format f) {
    return f == MEASURE_MONEY ? 100 : f == MEASURE_DECIMAL1 ? 10 : 1;
}

/* The names measure m follows, comma-separated, into out[FOLLOWS_CAP]. */
static size_t join_follows(const report_table *t, const report_measure *m, char *out) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < m->nfollows; i++)
        len += (size_t)snprintf(out + len, FOLLOWS_CAP - len, "%s%s", i ? "," : "",
                                t->measures[m->follows[i]].name);
    return len;
}

enum { M_NAME, M_FORMAT, M_SCALE, M_PERSON, M_FOLLOWS, M_LABEL_KK, M_LABEL_RU };

static void measures_record(const report_table *t, record *r) {
    size_t name = 0, format = 0, follows = 0, kk = 0, ru = 0;
    char buf[FOLLOWS_CAP];
    for (size_t m = 0; m < t->nmeasures; m++) {
        const report_measure *me = &t->measures[m];
        size_t len = strlen(me->name), flen = strlen(format_name(me->format));
        size_t jlen = join_follows(t, me, buf), klen = strlen(me->label_kk), rlen = strlen(me->label_ru);
        name = len > name ? len : name;
        format = flen > format ? flen : format;
        follows = jlen > follows ? jlen : follows;
        kk = klen > kk ? klen : kk;
        ru = rlen > ru ? rlen : ru;
    }
    record_add(r, "name", 1, name);
    record_add(r, "format", 1, format);
    record_add(r, "unit_scale", 0, 4);
    record_add(r, "person_count", 0, 4);
    record_add(r, "follows", 1, follows);
    record_add(r, "label_kk", 1, kk);
    record_add(r, "label_ru", 1, ru);
}

static int write_measures(const writer *w, const report_table *t) {
    record r = {0};
    char follows[FOLLOWS_CAP];
    measures_record(t, &r);
    uint8_t *buf = alloc_records(w->c, t->nmeasures, r.size);
    if (!buf) return -1;
    for (size_t m = 0; m < t->nmeasures; m++) {
        const report_measure *me = &t->measures[m];
        uint8_t *rec = buf + m * r.size;
        join_follows(t, me, follows);
        put_string(rec, &r.f[M_NAME], me->name);
        put_string(rec, &r.f[M_FORMAT], format_name(me->format));
        put_int(rec, &r.f[M_SCALE], unit_scale(me->format));
        put_int(rec, &r.f[M_PERSON], me->person_count);
        put_string(rec, &r.f[M_FOLLOWS], follows);
        put_string(rec, &r.f[M_LABEL_KK], me->label_kk);
        put_string(rec, &r.f[M_LABEL_RU], me->label_ru);
    }
    int rc = write_records(w, "measures", &r, t->nmeasures, buf);
    free(buf);
    return rc;
}

enum { I_NAME, I_FILE, I_SHA256, I_READ, I_ACCEPTED, I_REJECTED };

static void inputs_record(const report_table *t, record *r) {
    size_t name = 0, file = 0, sha = 0;
    for (size_t i = 0; i < t->ninputs; i++) {
        size_t a = strlen(t->inputs[i].name), b = strlen(t->inputs[i].file);
        size_t s = strlen(t->inputs[i].sha256);
        name = a > name ? a : name;
        file = b > file ? b : file;
        sha = s > sha ? s : sha;
    }
    record_add(r, "name", 1, name);
    record_add(r, "file", 1, file);
    record_add(r, "sha256", 1, sha);
    record_add(r, "read", 0, 8);
    record_add(r, "accepted", 0, 8);
    record_add(r, "rejected", 0, 8);
}

static int write_inputs(const writer *w, const report_table *t) {
    record r = {0};
    inputs_record(t, &r);
    uint8_t *buf = alloc_records(w->c, t->ninputs, r.size);
    if (!buf) return -1;
    for (size_t i = 0; i < t->ninputs; i++) {
        const report_input *in = &t->inputs[i];
        uint8_t *rec = buf + i * r.size;
        put_string(rec, &r.f[I_NAME], in->name);
        put_string(rec, &r.f[I_FILE], in->file);
        put_string(rec, &r.f[I_SHA256], in->sha256);
        put_int(rec, &r.f[I_READ], in->read);
        put_int(rec, &r.f[I_ACCEPTED], in->accepted);
        put_int(rec, &r.f[I_REJECTED], in->rejected);
    }
    int rc = write_records(w, "inputs", &r, t->ninputs, buf);
    free(buf);
    return rc;
}

/* Position of dim's value v in the listing: by listed[], equal positions
 * keeping CSV order (so a table without a listing keeps CSV order). */
static size_t listed_position(const report_dimension *dim, size_t v) {
    size_t pos = 0;
    for (size_t u = 0; u < dim->nvalues; u++)
        pos += dim->listed[u] < dim->listed[v] || (dim->listed[u] == dim->listed[v] && u < v);
    return pos;
}

/* <group>/<d>: the values of d, in CSV order ("dimensions") or in the
 * order the report lists them ("listing"). */
static int write_values(const writer *w, const char *group, const report_dimension *dim, int listed) {
    char path[16 + NAME_CAP];
    size_t size = longest_value(dim);
    if (size == 0) size = 1;
    snprintf(path, sizeof path, "%s/%s", group, dim->name);
    uint8_t *buf = alloc_records(w->c, dim->nvalues, size);
    if (!buf) return -1;
    for (size_t v = 0; v < dim->nvalues; v++)
        memcpy(buf + (listed ? listed_position(dim, v) : v) * size, dim->values[v], strlen(dim->values[v]));
    hid_t type = string_type(size);
    int rc = type < 0 ? h5fail(w->c, "create the type of %s", path)
                      : write_dataset(w, path, type, dim->nvalues, buf);
    free(buf);
    return close_id(w->c, type, rc);
}

enum { L_NAME, L_KK, L_RU };

/* /dimension_labels: name, label_kk, label_ru of every dimension. */
static int write_dimension_labels(const writer *w, const report_table *t) {
    record r = {0};
    size_t name = 0, kk = 0, ru = 0;
    for (size_t d = 0; d < t->ndims; d++) {
        size_t a = strlen(t->dims[d].name), b = strlen(t->dims[d].label_kk), e = strlen(t->dims[d].label_ru);
        name = a > name ? a : name, kk = b > kk ? b : kk, ru = e > ru ? e : ru;
    }
    record_add(&r, "name", 1, name);
    record_add(&r, "label_kk", 1, kk);
    record_add(&r, "label_ru", 1, ru);
    uint8_t *buf = alloc_records(w->c, t->ndims, r.size);
    if (!buf) return -1;
    for (size_t d = 0; d < t->ndims; d++) {
        uint8_t *rec = buf + d * r.size;
        put_string(rec, &r.f[L_NAME], t->dims[d].name);
        put_string(rec, &r.f[L_KK], t->dims[d].label_kk);
        put_string(rec, &r.f[L_RU], t->dims[d].label_ru);
    }
    int rc = write_records(w, "dimension_labels", &r, t->ndims, buf);
    free(buf);
    return rc;
}

static int write_value_lists(const writer *w, const report_table *t, const char *group, int listed) {
    hid_t g = H5Gcreate2(w->base, group, H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
    if (g < 0) return h5fail(w->c, "create /%s", group);
    int rc = close_id(w->c, g, 0);
    for (size_t d = 0; rc == 0 && d < t->ndims; d++) rc = write_values(w, group, &t->dims[d], listed);
    return rc;
}

enum { T_KATO, T_LEVEL, T_NAME_KK, T_NAME_RU };

static void territory_record(const report_table *t, record *r) {
    size_t kk = 0, ru = 0;
    for (size_t i = 0; i < t->nterritories; i++) {
        size_t a = strlen(t->territories[i].name_kk), b = strlen(t->territories[i].name_ru);
        kk = a > kk ? a : kk;
        ru = b > ru ? b : ru;
    }
    record_add(r, "kato", 1, 9);
    record_add(r, "level", 0, 1);
    record_add(r, "name_kk", 1, kk);
    record_add(r, "name_ru", 1, ru);
}

/* /territory: the table's objects with their names as of E. */
static int write_territory(const writer *w, const report_table *t) {
    record r = {0};
    territory_record(t, &r);
    uint8_t *buf = alloc_records(w->c, t->nterritories, r.size);
    if (!buf) return -1;
    for (size_t i = 0; i < t->nterritories; i++) {
        const report_territory *o = &t->territories[i];
        uint8_t *rec = buf + i * r.size;
        char kato[16];
        snprintf(kato, sizeof kato, "%09ld", (long)o->kato);
        put_string(rec, &r.f[T_KATO], kato);
        put_int(rec, &r.f[T_LEVEL], o->level);
        put_string(rec, &r.f[T_NAME_KK], o->name_kk);
        put_string(rec, &r.f[T_NAME_RU], o->name_ru);
    }
    int rc = write_records(w, "territory", &r, t->nterritories, buf);
    free(buf);
    return rc;
}

static int write_contents(const writer *w, const report_table *t) {
    return write_root_attrs(w, t) || write_rows(w, t) || write_measures(w, t) ||
                   write_value_lists(w, t, "dimensions", 0) || write_value_lists(w, t, "listing", 1) ||
                   write_dimension_labels(w, t) || write_territory(w, t) ||
                   write_inputs(w, t)
               ? -1 : 0;
}

/* One table at the root (an archive file), or several, each in a group
 * named by its report id (a bundle's reports.h5). */
static int write_tables(writer *w, const report_table *const *tables, size_t n, int grouped) {
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        w->base = w->file;
        if (grouped && (w->base = H5Gcreate2(w->file, tables[i]->id, H5P_DEFAULT, w->gcpl, H5P_DEFAULT)) < 0)
            return h5fail(w->c, "create group %s", tables[i]->id);
        rc = write_contents(w, tables[i]);
        if (grouped) rc = close_id(w->c, w->base, rc);
    }
    return rc;
}

/* Writes the whole image to the (empty, fresh) file tmp, and syncs it
 * unless the caller syncs it later with others (fs_batch). */
static int write_image(h5ctx *c, const char *tmp, const unsigned char *image, size_t size, int sync) {
    int fd = open(tmp, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail(c, "%s: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, image + done, size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    int saved = errno;
    int rc = done == size && (!sync || fsync(fd) == 0) ? 0
                                                        : fail(c, "%s: cannot write: %s", tmp, strerror(done == size ? errno : saved));
    if (close(fd) != 0 && rc == 0) rc = fail(c, "%s: cannot write: %s", tmp, strerror(errno));
    return rc;
}

/* The file is built in memory (HDF5's core driver, no backing store) and
 * its image handed back in a malloc'd buffer (*image, *size): HDF5 itself
 * never meets a full disk. When HDF5's own close of a file fails on a
 * write error, the file stays half closed in the library and HDF5's
 * clean-up inside MPI_Finalize crashes on it; built this way, a full disk
 * is one failed write(2) of ours, with a clear error and nothing left
 * behind. name only labels the in-memory file. */
static int build_image(h5ctx *c, const report_table *const *tables, size_t n, int grouped, const char *name,
                       unsigned char **image, size_t *size) {
    writer w = {c, -1, -1, -1, -1};
    w.dcpl = new_plist(c, H5P_DATASET_CREATE, setup_dcpl);
    w.gcpl = new_plist(c, H5P_GROUP_CREATE, setup_gcpl);
    hid_t fcpl = new_plist(c, H5P_FILE_CREATE, setup_fcpl);
    hid_t fapl = new_plist(c, H5P_FILE_ACCESS, setup_fapl);
    int rc = w.dcpl < 0 || w.gcpl < 0 || fcpl < 0 || fapl < 0 ? -1 : 0;
    if (rc == 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) rc = h5fail(c, "set up the in-memory file");
    if (rc == 0 && (w.file = H5Fcreate(name, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
        rc = h5fail(c, "create %s", name);
    if (rc == 0) rc = write_tables(&w, tables, n, grouped);
    ssize_t got = -1;
    *image = NULL;
    if (rc == 0 && H5Fflush(w.file, H5F_SCOPE_GLOBAL) < 0) rc = h5fail(c, "finish writing");
    if (rc == 0 && ((got = H5Fget_file_image(w.file, NULL, 0)) <= 0 || !(*image = malloc((size_t)got)) ||
                    H5Fget_file_image(w.file, *image, (size_t)got) != got))
        rc = *image || got <= 0 ? h5fail(c, "read back the file image") : fail(c, "out of memory");
    rc = close_id(c, w.dcpl, rc);
    rc = close_id(c, w.gcpl, rc);
    rc = close_id(c, fcpl, rc);
    rc = close_id(c, fapl, rc);
    if (w.file >= 0 && H5Fclose(w.file) < 0 && rc == 0) rc = h5fail(c, "finish writing");
    if (rc) free(*image), *image = NULL;
    else *size = (size_t)got;
    return rc;
}

/* build_image, with HDF5's error printing off and the tables checked. */
static int quiet_build_image(h5ctx *c, const report_table *const *tables, size_t n, int grouped, const char *name,
                             unsigned char **image, size_t *size) {
    H5E_auto2_t func;
    void *data;
    for (size_t i = 0; i < n; i++)
        if (check_table(c, tables[i]) != 0) return -1;
    if (quiet_hdf5(c, &func, &data) != 0) return -1;
    return restore_hdf5(c, func, data, build_image(c, tables, n, grouped, name, image, size));
}

/* A fresh "<dir>/.<name>.<pid>.<random>.tmp" beside path, created empty
 * with O_EXCL|O_NOFOLLOW (a planted file or link is never written
 * through): the same file system, so the final rename is atomic, and
 * hidden from anyone listing *.h5. */
static int temp_path(h5ctx *c, char *out, size_t cap) {
    char why[1024];
    FILE *f = fs_temp_open(c->path, 0644, out, cap, why, sizeof why);
    if (!f) return fail(c, "%s", why);
    return fclose(f) == 0 ? 0 : fail(c, "cannot create a temporary file");
}

/* The tables, complete (and synced when sync is set), under a fresh
 * temporary name beside path (into tmp); nothing is left there on error. */
static int write_temp(const report_table *const *tables, size_t n, int grouped, const char *path, char *tmp,
                      size_t tmpcap, int sync, char *err, size_t errlen) {
    h5ctx c = {path, err, errlen, 0};
    unsigned char *image;
    size_t size;
    if (quiet_build_image(&c, tables, n, grouped, path, &image, &size)) return -1;
    int rc = temp_path(&c, tmp, tmpcap);
    if (rc == 0 && (rc = write_image(&c, tmp, image, size, sync)) != 0) (void)unlink(tmp);
    free(image);
    return rc ? -1 : 0;
}

static int write_atomically(const report_table *const *tables, size_t n, int grouped, const char *path,
                            char *err, size_t errlen) {
    char tmp[4200];
    if (write_temp(tables, n, grouped, path, tmp, sizeof tmp, 1, err, errlen)) return -1;
    return fs_commit_path(tmp, path, err, errlen);
}

int h5archive_write(const report_table *t, const char *path, char *err, size_t errlen) {
    return write_atomically(&t, 1, 0, path, err, errlen);
}

int h5archive_write_temp(const report_table *t, const char *path, char *tmp, size_t tmpcap, char *err,
                         size_t errlen) {
    return write_temp(&t, 1, 0, path, tmp, tmpcap, 0, err, errlen);
}

int h5archive_bundle_image(const report_table *const *tables, size_t n, unsigned char **image, size_t *size,
                           char *err, size_t errlen) {
    h5ctx c = {"reports.h5", err, errlen, 0};
    return quiet_build_image(&c, tables, n, 1, "reports.h5", image, size) ? -1 : 0;
}

/* ---- reading ------------------------------------------------------------ */

/* 1 if every value of type is a fixed-length string or an integer, or a
 * compound of those: what can be read into a flat buffer and decoded. */
static int plain_type(hid_t type) {
    H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_INTEGER) return 1;
    if (cls == H5T_STRING) return H5Tis_variable_str(type) == 0;
    if (cls != H5T_COMPOUND) return 0;
    int n = H5Tget_nmembers(type), ok = n >= 0;
    for (int i = 0; ok && i < n; i++) {
        hid_t member = H5Tget_member_type(type, (unsigned)i);
        ok = member >= 0 && H5Tget_class(member) != H5T_COMPOUND && plain_type(member);
        if (member >= 0 && H5Tclose(member) < 0) ok = 0;
    }
    return ok;
}

/* 1 if type is a string of at most size bytes (is_string), or a signed
 * little-endian integer of exactly size bytes. */
static int kind_ok(hid_t type, int is_string, size_t size) {
    size_t got = H5Tget_size(type);
    if (is_string) return H5Tget_class(type) == H5T_STRING && got > 0 && got <= size;
    return H5Tget_class(type) == H5T_INTEGER && got == size && H5Tget_order(type) == H5T_ORDER_LE &&
           H5Tget_sign(type) == H5T_SGN_2;
}

/* A whole 1-D dataset, read in its own file type. */
typedef struct {
    hid_t type;
    size_t n, size; /* records, bytes per record */
    uint8_t *buf;   /* n * size bytes */
} dataset_in;

static int dataset_done(h5ctx *c, dataset_in *d, int rc) {
    free(d->buf);
    d->buf = NULL;
    rc = close_id(c, d->type, rc);
    d->type = -1;
    return rc;
}

/* Checks the shape of a dataset about to be read: 1-D, a plain type. */
static int dataset_shape(h5ctx *c, const char *path, hid_t space, dataset_in *d) {
    hsize_t dims[1];
    if (H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        return fail(c, "%s is not a 1-D dataset", path);
    if (!plain_type(d->type) || (d->size = H5Tget_size(d->type)) == 0)
        return fail(c, "%s has an unexpected type", path);
    d->n = (size_t)dims[0];
    return 0;
}

/* Reads the dataset at path into d; on error d holds nothing. */
static int read_dataset(h5ctx *c, hid_t file, const char *path, dataset_in *d) {
    *d = (dataset_in){-1, 0, 0, NULL};
    hid_t set = H5Dopen2(file, path, H5P_DEFAULT), space = -1;
    int rc = set < 0 ? h5fail(c, "open %s", path) : 0;
    if (rc == 0 && ((d->type = H5Dget_type(set)) < 0 || (space = H5Dget_space(set)) < 0))
        rc = h5fail(c, "describe %s", path);
    if (rc == 0) rc = dataset_shape(c, path, space, d);
    if (rc == 0 && !(d->buf = calloc(d->n ? d->n : 1, d->size)))
        rc = fail(c, "out of memory for %s", path);
    if (rc == 0 && d->n > 0 && H5Dread(set, d->type, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->buf) < 0)
        rc = h5fail(c, "read %s", path);
    rc = close_id(c, space, rc);
    rc = close_id(c, set, rc);
    return rc == 0 ? 0 : dataset_done(c, d, rc);
}

/* Finds the member name of compound d as the kind kind_ok describes. */
static int find_field(h5ctx *c, const dataset_in *d, const char *path, const char *name,
                      int is_string, size_t size, field *f) {
    int i = H5Tget_class(d->type) == H5T_COMPOUND ? H5Tget_member_index(d->type, name) : -1;
    if (i < 0) {
        (void)H5Eclear2(H5E_DEFAULT); /* a missing member is reported below */
        return fail(c, "%s has no field %s", path, name);
    }
    hid_t member = H5Tget_member_type(d->type, (unsigned)i);
    if (member < 0) return h5fail(c, "read the type of %s.%s", path, name);
    int ok = kind_ok(member, is_string, size);
    *f = (field){name, H5Tget_member_offset(d->type, (unsigned)i), H5Tget_size(member), is_string};
    int rc = close_id(c, member, 0);
    if (rc == 0 && !ok) rc = fail(c, "%s.%s has an unexpected type", path, name);
    return rc;
}

/* A string member that archives written before it was added lack: a
 * zero-size field (which reads as "") when absent. */
static int find_optional_field(h5ctx *c, const dataset_in *d, const char *path, const char *name, size_t size,
                               field *f) {
    int i = H5Tget_class(d->type) == H5T_COMPOUND ? H5Tget_member_index(d->type, name) : -1;
    if (i >= 0) return find_field(c, d, path, name, 1, size, f);
    (void)H5Eclear2(H5E_DEFAULT);
    *f = (field){name, 0, 0, 1};
    return 0;
}

/* Opens the scalar root attribute name and returns its type in *type. */
static int open_attr(h5ctx *c, hid_t file, const char *name, hid_t *attr, hid_t *type) {
    hid_t space = -1;
    *type = -1;
    *attr = H5Aopen(file, name, H5P_DEFAULT);
    int rc = *attr < 0 ? h5fail(c, "open attribute %s", name) : 0;
    if (rc == 0 && ((*type = H5Aget_type(*attr)) < 0 || (space = H5Aget_space(*attr)) < 0))
        rc = h5fail(c, "describe attribute %s", name);
    if (rc == 0 && H5Sget_simple_extent_npoints(space) != 1)
        rc = fail(c, "attribute %s is not a single value", name);
    rc = close_id(c, space, rc);
    if (rc == 0) return 0;
    rc = close_id(c, *type, rc);
    return close_id(c, *attr, rc);
}

/* Reads a string (is_string, into out[cap]) or an int32 root attribute. */
static int read_attr(h5ctx *c, hid_t file, const char *name, int is_string, void *out, size_t cap) {
    hid_t attr, type;
    if (open_attr(c, file, name, &attr, &type) != 0) return -1;
    int rc = 0;
    if (!plain_type(type) || !kind_ok(type, is_string, is_string ? cap - 1 : 4))
        rc = fail(c, "attribute %s has an unexpected type", name);
    if (rc == 0 && is_string) memset(out, 0, cap);
    if (rc == 0 && H5Aread(attr, is_string ? type : H5T_NATIVE_INT32, out) < 0)
        rc = h5fail(c, "read attribute %s", name);
    rc = close_id(c, type, rc);
    return close_id(c, attr, rc);
}

/* A string root attribute that older archives lack: "" when absent. */
static int read_optional_attr(h5ctx *c, hid_t file, const char *name, char *out, size_t cap) {
    htri_t there = H5Aexists(file, name);
    if (there < 0) return h5fail(c, "look for attribute %s", name);
    out[0] = '\0';
    return there ? read_attr(c, file, name, 1, out, cap) : 0;
}

static int read_root_attrs(h5ctx *c, hid_t file, report_table *t) {
    int32_t version = 0;
    int rc = read_attr(c, file, "id", 1, t->id, sizeof t->id) ||
                     read_attr(c, file, "period", 1, t->period, sizeof t->period) ||
                     read_attr(c, file, "title_kk", 1, t->title_kk, sizeof t->title_kk) ||
                     read_attr(c, file, "title_ru", 1, t->title_ru, sizeof t->title_ru) ||
                     read_attr(c, file, "methodology_version", 0, &version, sizeof version) ||
                     read_attr(c, file, "snapshot_date", 1, t->snapshot_date, sizeof t->snapshot_date) ||
                     read_attr(c, file, "tool_version", 1, t->tool_version, sizeof t->tool_version) ||
                     read_optional_attr(c, file, "addressee", t->addressee, sizeof t->addressee) ||
                     read_optional_attr(c, file, "deadline", t->deadline, sizeof t->deadline) ||
                     read_optional_attr(c, file, "boundaries", t->boundaries, sizeof t->boundaries) ||
                     read_optional_attr(c, file, "classifier_snapshot", t->classifier_snapshot,
                                        sizeof t->classifier_snapshot)
                 ? -1 : 0;
    t->methodology_version = version;
    return rc;
}

static int parse_format(const char *s, measure_format *f) {
    if (strcmp(s, "count") == 0) *f = MEASURE_COUNT;
    else if (strcmp(s, "money") == 0) *f = MEASURE_MONEY;
    else if (strcmp(s, "decimal1") == 0) *f = MEASURE_DECIMAL1;
    else return -1;
    return 0;
}

static int measure_index(const report_table *t, const char *name) {
    for (size_t m = 0; m < t->nmeasures; m++)
        if (strcmp(t->measures[m].name, name) == 0) return (int)m;
    return -1;
}

/* Resolves a comma-separated list of measure names into me->follows. */
static int parse_follows(h5ctx *c, const report_table *t, report_measure *me, char *list) {
    me->nfollows = 0;
    for (char *save = NULL, *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        int i = measure_index(t, s);
        if (i < 0 || me->nfollows == REPORT_MAX_MEASURES)
            return fail(c, "measure %s follows unknown measure '%s'", me->name, s);
        me->follows[me->nfollows++] = i;
    }
    return 0;
}

static int decode_measure(h5ctx *c, const field *f, const uint8_t *rec, report_measure *me) {
    char format[16];
    get_string(rec, &f[M_NAME], me->name);
    get_string(rec, &f[M_FORMAT], format);
    get_string(rec, &f[M_LABEL_KK], me->label_kk);
    get_string(rec, &f[M_LABEL_RU], me->label_ru);
    me->person_count = (int)get_int(rec, &f[M_PERSON]);
    if (parse_format(format, &me->format) != 0)
        return fail(c, "measure %s has unknown format '%s'", me->name, format);
    if (get_int(rec, &f[M_SCALE]) != unit_scale(me->format))
        return fail(c, "measure %s has a wrong unit_scale", me->name);
    return 0;
}

static int decode_measures(h5ctx *c, const dataset_in *d, report_table *t) {
    field f[7];
    if (find_field(c, d, "/measures", "name", 1, NAME_CAP - 1, &f[M_NAME]) ||
        find_field(c, d, "/measures", "format", 1, 15, &f[M_FORMAT]) ||
        find_field(c, d, "/measures", "unit_scale", 0, 4, &f[M_SCALE]) ||
        find_field(c, d, "/measures", "person_count", 0, 4, &f[M_PERSON]) ||
        find_field(c, d, "/measures", "follows", 1, FOLLOWS_CAP - 1, &f[M_FOLLOWS]) ||
        find_optional_field(c, d, "/measures", "label_kk", REPORT_LABEL_CAP - 1, &f[M_LABEL_KK]) ||
        find_optional_field(c, d, "/measures", "label_ru", REPORT_LABEL_CAP - 1, &f[M_LABEL_RU]))
        return -1;
    if (d->n > REPORT_MAX_MEASURES) return fail(c, "/measures has %zu records", d->n);
    t->nmeasures = d->n;
    for (size_t m = 0; m < d->n; m++)
        if (decode_measure(c, f, d->buf + m * d->size, &t->measures[m]) != 0) return -1;
    for (size_t m = 0; m < d->n; m++) {
        char list[FOLLOWS_CAP];
        get_string(d->buf + m * d->size, &f[M_FOLLOWS], list);
        if (parse_follows(c, t, &t->measures[m], list) != 0) return -1;
    }
    return 0;
}

static int decode_inputs(h5ctx *c, const dataset_in *d, report_table *t) {
    field f[6];
    report_input *in = t->inputs;
    if (find_field(c, d, "/inputs", "name", 1, sizeof in->name - 1, &f[I_NAME]) ||
        find_field(c, d, "/inputs", "file", 1, sizeof in->file - 1, &f[I_FILE]) ||
        find_field(c, d, "/inputs", "sha256", 1, sizeof in->sha256 - 1, &f[I_SHA256]) ||
        find_field(c, d, "/inputs", "read", 0, 8, &f[I_READ]) ||
        find_field(c, d, "/inputs", "accepted", 0, 8, &f[I_ACCEPTED]) ||
        find_field(c, d, "/inputs", "rejected", 0, 8, &f[I_REJECTED]))
        return -1;
    if (d->n > REPORT_MAX_EXTRACTS) return fail(c, "/inputs has %zu records", d->n);
    t->ninputs = d->n;
    for (size_t i = 0; i < d->n; i++, in++) {
        const uint8_t *rec = d->buf + i * d->size;
        get_string(rec, &f[I_NAME], in->name);
        get_string(rec, &f[I_FILE], in->file);
        get_string(rec, &f[I_SHA256], in->sha256);
        in->read = get_int(rec, &f[I_READ]);
        in->accepted = get_int(rec, &f[I_ACCEPTED]);
        in->rejected = get_int(rec, &f[I_REJECTED]);
    }
    return 0;
}

/* Reads the dataset at path and decodes it with decode. */
static int read_records(h5ctx *c, hid_t file, const char *path, report_table *t,
                        int (*decode)(h5ctx *, const dataset_in *, report_table *)) {
    dataset_in d;
    if (read_dataset(c, file, path, &d) != 0) return -1;
    return dataset_done(c, &d, decode(c, &d, t));
}

static int decode_dimension(h5ctx *c, const dataset_in *d, const char *path,
                            report_dimension *dim) {
    field f = {"value", 0, d->size, 1};
    if (!kind_ok(d->type, 1, VALUE_CAP - 1)) return fail(c, "%s has an unexpected type", path);
    if (d->n == 0 || d->n > MAX_DIM_VALUES) return fail(c, "%s has %zu values", path, d->n);
    if (!(dim->values = calloc(d->n, VALUE_CAP))) return fail(c, "out of memory for %s", path);
    dim->nvalues = d->n;
    for (size_t v = 0; v < d->n; v++) get_string(d->buf + v * d->size, &f, dim->values[v]);
    return 0;
}

static int read_dimension(h5ctx *c, hid_t file, report_dimension *dim) {
    char path[16 + NAME_CAP];
    dataset_in d;
    snprintf(path, sizeof path, "/dimensions/%s", dim->name);
    if (read_dataset(c, file, path, &d) != 0) return -1;
    return dataset_done(c, &d, decode_dimension(c, &d, path, dim));
}

/* Checks the member names of /rows (kato, level, the dimensions, the
 * measures of /measures in order) and takes the dimension names. */
static int rows_members(h5ctx *c, const dataset_in *d, report_table *t) {
    int n = H5Tget_class(d->type) == H5T_COMPOUND ? H5Tget_nmembers(d->type) : -1;
    if (n < 2 + (int)t->nmeasures || n > 2 + REPORT_MAX_DIMS + (int)t->nmeasures)
        return fail(c, "/rows does not hold the measures of /measures");
    t->ndims = (size_t)n - 2 - t->nmeasures;
    for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(d->type, (unsigned)i);
        if (!name) return h5fail(c, "read the fields of /rows");
        size_t dim = (size_t)i - 2; /* meaningful for i >= 2 only */
        const char *want = i == 0 ? "kato" : i == 1 ? "level" : NULL;
        if (i >= 2 && dim >= t->ndims) want = t->measures[dim - t->ndims].name;
        int ok = want ? strcmp(name, want) == 0 : name_ok(name);
        if (ok && !want) snprintf(t->dims[dim].name, NAME_CAP, "%s", name);
        if (!ok) fail(c, "/rows has unexpected field %d '%.47s'", i, name);
        if (H5free_memory(name) < 0) return h5fail(c, "free an HDF5 name");
        if (!ok) return -1;
    }
    return 0;
}

static int value_index(const report_dimension *dim, const char *value) {
    for (size_t v = 0; v < dim->nvalues; v++)
        if (strcmp(dim->values[v], value) == 0) return (int)v;
    return -1;
}

/* 9 ASCII digits → the code, or -1. */
static int32_t parse_kato(const char *s) {
    int32_t k = 0;
    for (int i = 0; i < 9; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        k = k * 10 + (s[i] - '0');
    }
    return s[9] ? -1 : k;
}

static int decode_row(h5ctx *c, const field *f, const uint8_t *rec, size_t r, report_table *t) {
    char text[VALUE_CAP];
    get_string(rec, &f[0], text);
    if ((t->kato[r] = parse_kato(text)) < 0) return fail(c, "/rows[%zu]: bad kato '%s'", r, text);
    t->level[r] = (int8_t)get_int(rec, &f[1]);
    for (size_t d = 0; d < t->ndims; d++) {
        get_string(rec, &f[2 + d], text);
        int v = value_index(&t->dims[d], text);
        if (v < 0) return fail(c, "/rows[%zu]: '%s' is not a value of %s", r, text, t->dims[d].name);
        t->dim_value[d][r] = (uint8_t)v;
    }
    for (size_t m = 0; m < t->nmeasures; m++) t->value[m][r] = get_int(rec, &f[2 + t->ndims + m]);
    return 0;
}

static int decode_rows(h5ctx *c, const dataset_in *d, report_table *t) {
    field f[MAX_FIELDS];
    int rc = find_field(c, d, "/rows", "kato", 1, 9, &f[0]) ||
             find_field(c, d, "/rows", "level", 0, 1, &f[1]);
    for (size_t i = 0; rc == 0 && i < t->ndims; i++)
        rc = find_field(c, d, "/rows", t->dims[i].name, 1, VALUE_CAP - 1, &f[2 + i]);
    for (size_t m = 0; rc == 0 && m < t->nmeasures; m++)
        rc = find_field(c, d, "/rows", t->measures[m].name, 0, 8, &f[2 + t->ndims + m]);
    if (rc != 0) return -1;
    if (report_table_alloc_rows(t, d->n) != 0) return fail(c, "out of memory for %zu rows", d->n);
    for (size_t r = 0; r < d->n; r++)
        if (decode_row(c, f, d->buf + r * d->size, r, t) != 0) return -1;
    return 0;
}

/* 1 when the link path exists, 0 when not, -1 (recorded) on error; an
 * archive written before /listing and /territory has neither. */
static int has_link(h5ctx *c, hid_t file, const char *path) {
    const char *slash = strchr(path + 1, '/');
    if (slash) {
        char parent[16];
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
        int up = has_link(c, file, parent);
        if (up <= 0) return up;
    }
    htri_t there = H5Lexists(file, path, H5P_DEFAULT);
    return there < 0 ? h5fail(c, "look for %s", path) : there > 0;
}

/* listed[] from /listing/<d>; the CSV order when the archive has none. */
static int read_listing(h5ctx *c, hid_t file, report_dimension *dim) {
    char path[16 + NAME_CAP], value[VALUE_CAP];
    for (size_t v = 0; v < dim->nvalues; v++) dim->listed[v] = (uint8_t)v;
    snprintf(path, sizeof path, "/listing/%s", dim->name);
    int there = has_link(c, file, path);
    if (there <= 0) return there;
    dataset_in d;
    if (read_dataset(c, file, path, &d) != 0) return -1;
    int rc = kind_ok(d.type, 1, VALUE_CAP - 1) && d.n == dim->nvalues ? 0 : fail(c, "%s does not list the values", path);
    field f = {"value", 0, d.size, 1};
    for (size_t p = 0; rc == 0 && p < d.n; p++) {
        get_string(d.buf + p * d.size, &f, value);
        int v = value_index(dim, value);
        if (v < 0) rc = fail(c, "%s: '%s' is not a value of %s", path, value, dim->name);
        else dim->listed[v] = (uint8_t)p;
    }
    return dataset_done(c, &d, rc);
}

static int decode_territory(h5ctx *c, const dataset_in *d, report_table *t) {
    field f[4];
    if (find_field(c, d, "/territory", "kato", 1, 9, &f[T_KATO]) ||
        find_field(c, d, "/territory", "level", 0, 1, &f[T_LEVEL]) ||
        find_field(c, d, "/territory", "name_kk", 1, REPORT_NAME_CAP - 1, &f[T_NAME_KK]) ||
        find_field(c, d, "/territory", "name_ru", 1, REPORT_NAME_CAP - 1, &f[T_NAME_RU]))
        return -1;
    if (!(t->territories = calloc(d->n ? d->n : 1, sizeof *t->territories))) return fail(c, "out of memory for /territory");
    t->nterritories = d->n;
    for (size_t i = 0; i < d->n; i++) {
        const uint8_t *rec = d->buf + i * d->size;
        report_territory *o = &t->territories[i];
        char kato[VALUE_CAP];
        get_string(rec, &f[T_KATO], kato);
        o->level = (int8_t)get_int(rec, &f[T_LEVEL]);
        get_string(rec, &f[T_NAME_KK], o->name_kk);
        get_string(rec, &f[T_NAME_RU], o->name_ru);
        if ((o->kato = parse_kato(kato)) < 0 || (i > 0 && o->kato <= o[-1].kato))
            return fail(c, "/territory[%zu]: bad or unsorted kato '%s'", i, kato);
    }
    return 0;
}

static int decode_dimension_labels(h5ctx *c, const dataset_in *d, report_table *t) {
    field f[3];
    if (find_field(c, d, "/dimension_labels", "name", 1, NAME_CAP - 1, &f[L_NAME]) ||
        find_field(c, d, "/dimension_labels", "label_kk", 1, REPORT_LABEL_CAP - 1, &f[L_KK]) ||
        find_field(c, d, "/dimension_labels", "label_ru", 1, REPORT_LABEL_CAP - 1, &f[L_RU]))
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        char name[NAME_CAP];
        const uint8_t *rec = d->buf + i * d->size;
        get_string(rec, &f[L_NAME], name);
        for (size_t k = 0; k < t->ndims; k++)
            if (!strcmp(t->dims[k].name, name)) {
                get_string(rec, &f[L_KK], t->dims[k].label_kk);
                get_string(rec, &f[L_RU], t->dims[k].label_ru);
            }
    }
    return 0;
}

/* /territory and /dimension_labels, when the archive has them. */
static int read_names(h5ctx *c, hid_t file, report_table *t) {
    int there = has_link(c, file, "/territory"), labels = there < 0 ? -1 : has_link(c, file, "/dimension_labels");
    if (there > 0 && read_records(c, file, "/territory", t, decode_territory)) return -1;
    if (labels > 0 && read_records(c, file, "/dimension_labels", t, decode_dimension_labels)) return -1;
    return there < 0 || labels < 0 ? -1 : 0;
}

/* /rows after /measures: its fields name the dimensions to read. */
static int read_rows(h5ctx *c, hid_t file, report_table *t) {
    dataset_in d;
    if (read_dataset(c, file, "/rows", &d) != 0) return -1;
    int rc = rows_members(c, &d, t);
    for (size_t i = 0; rc == 0 && i < t->ndims; i++) rc = read_dimension(c, file, &t->dims[i]);
    for (size_t i = 0; rc == 0 && i < t->ndims; i++) rc = read_listing(c, file, &t->dims[i]);
    if (rc == 0) rc = decode_rows(c, &d, t);
    return dataset_done(c, &d, rc);
}

static int read_contents(h5ctx *c, hid_t file, report_table *t) {
    return read_root_attrs(c, file, t) || read_records(c, file, "/measures", t, decode_measures) ||
                   read_records(c, file, "/inputs", t, decode_inputs) || read_rows(c, file, t) ||
                   read_names(c, file, t)
               ? -1 : 0;
}

int h5archive_read(const char *path, report_table *t, char *err, size_t errlen) {
    h5ctx c = {path, err, errlen, 0};
    struct stat st;
    H5E_auto2_t func;
    void *data;
    memset(t, 0, sizeof *t);
    if (stat(path, &st) != 0) return fail(&c, "cannot open: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(&c, "cannot open: not a regular file");
    if (quiet_hdf5(&c, &func, &data) != 0) return -1;
    hid_t fapl = new_plist(&c, H5P_FILE_ACCESS, setup_read_fapl), file = -1;
    int rc = fapl < 0 ? -1 : 0;
    if (rc == 0 && (file = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) rc = h5fail(&c, "open as HDF5");
    if (rc == 0) rc = read_contents(&c, file, t);
    rc = close_id(&c, fapl, close_id(&c, file, rc));
    rc = restore_hdf5(&c, func, data, rc);
    if (rc != 0) report_table_free(t);
    return rc;
}
