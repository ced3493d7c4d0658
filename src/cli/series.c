/* series.c — `esep series --out OUT --report ID --from P1 --to P2
 * [--kato CODE] [--boundaries as-of|current|YYYY-MM-DD] [--format csv|json]
 * [--jobs DIR]`: one long table of a report over its archived periods
 * P1..P2 (inclusive, of the report's periodicity), for statisticians
 * (reports.md "Reprocessing history"). Owns the arguments, where the
 * tables are read from, the `break` column and the output frame; every
 * value is the CSV form's own text (report_table_cell, the formatter of
 * `esep export`), so a series row holds exactly what export prints.
 *
 * Output: header `period,kato,level,<dims>,<measures>,methodology_version,
 * break`, then every row of every archived table, periods in order and
 * each table's rows in its own (CSV) order. `--format json` prints
 * {"report", "boundaries", "columns", "rows" (arrays of the same texts as
 * strings, "" for empty), "missing"}.
 *
 * Where the tables are: as-of (default) OUT/archive/<P>/<ID>.h5; with
 * `--boundaries DAY` OUT/archive/<P>/restated/<DAY>/<ID>.h5, whose root
 * attribute `boundaries` must say DAY; with `--boundaries current` the
 * latest DAY under restated/ holding a table of ID for any period of the
 * range (JSON "boundaries" then says that day, as-of tables "as-of"). A
 * period without that file is missing: skipped, listed on stderr as one
 * line "series: no table for P, …" and in JSON "missing"; when no period
 * has a table the command fails (exit 1).
 *
 * Readings (where the brief is silent):
 * - `break` is empty except on the first printed row of a period whose
 *   table differs from the previous PRESENT period's (a missing period is
 *   stepped over; the first present period has nothing to differ from).
 *   It names what differs, joined with `+` in this order: `methodology`
 *   (methodology_version), `territory` (the set of (kato, level) pairs of
 *   the rows), `dimensions` (the value list of a dimension; names cannot
 *   differ, see below). Tables are compared whole, before --kato: a reform
 *   elsewhere or new age groups still mark the object asked for, whose
 *   totals may have moved with them.
 * - Dimension or measure NAMES that differ between two present periods
 *   make no one long table: exit 1 naming the first period where they
 *   change and the one before, nothing on stdout. A measure's format is
 *   not compared: each value is printed in its own table's format.
 * - --kato keeps the rows of that code; a code with no row in any table of
 *   the range fails (exit 1), since a typo would look like an empty series.
 * - The periodicity is the job files' (the first version of ID; versions
 *   of one report share it), so an unknown id or a period of another kind
 *   is a usage error as for export. The tables are read whichever version
 *   made them, and an archived table must say it is ID for its period.
 * - The series is built in memory and printed at the end: a failure
 *   leaves stdout empty.
 * Rank 0 does the work; every rank checks the arguments (same status). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../archive/h5archive.h"
#include "../base/date.h"
#include "../base/json.h"
#include "../base/log.h"
#include "../engine/period.h"
#include "../spec/job.h"
#include "cli.h"

static const char *const usage =
    "esep series --out OUT --report ID --from P1 --to P2 [--kato CODE]\n"
    "         [--boundaries as-of|current|YYYY-MM-DD] [--format csv|json] [--jobs DIR]";

#define SERIES_MAX_CELLS (1 + 2 + REPORT_MAX_DIMS + REPORT_MAX_MEASURES + 2)
#define SERIES_PATH_CAP 4400
#define SERIES_ERR_CAP 4096
#define SERIES_BREAK_CAP 40 /* "methodology+territory+dimensions" */
#define SERIES_MISSING_SHOWN 1500 /* bytes of periods on the stderr line */

typedef struct {
    const char *out, *id, *from, *to, *kato, *boundaries, *format;
    char jobs_dir[4096];
} series_options;

typedef struct {
    const char *out, *id;
    period first, last;
    int by_kato;
    int32_t kato;
    int restated;  /* tables under restated/<day>/ */
    int current;   /* --boundaries current: day still to be found */
    char day[11];  /* YYYY-MM-DD when restated */
    int json;
} series_request;

/* One archived table and what its break is computed from. */
typedef struct {
    report_table t;
    int64_t *objects; /* distinct (kato << 8 | level) of the rows, ascending */
    size_t nobjects;
} series_table;

typedef struct {
    const series_request *req;
    FILE *body;         /* the rows in the output format (memory stream) */
    char *body_text;
    size_t body_len;
    size_t nrows;       /* rows written to body */
    char (*missing)[8]; /* periods without a table, in order */
    size_t nmissing;
    size_t ntables;     /* periods with a table */
    series_table prev;  /* the last present period's table */
    char prev_period[8];
} series_state;

/* ---- arguments ----------------------------------------------------------- */

/* Reads the options into o. Returns 0, or EXIT_USAGE (said on rank 0). */
static int parse_options(const cli_context *ctx, int argc, char **argv, series_options *o) {
    static const struct option longopts[] = {
        {"out", required_argument, 0, 'o'},    {"report", required_argument, 0, 'r'},
        {"from", required_argument, 0, 'f'},   {"to", required_argument, 0, 't'},
        {"kato", required_argument, 0, 'k'},   {"boundaries", required_argument, 0, 'b'},
        {"format", required_argument, 0, 'F'}, {"jobs", required_argument, 0, 'J'},
        {0, 0, 0, 0}};
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'r': o->id = optarg; break;
        case 'f': o->from = optarg; break;
        case 't': o->to = optarg; break;
        case 'k': o->kato = optarg; break;
        case 'b': o->boundaries = optarg; break;
        case 'F': o->format = optarg; break;
        case 'J': snprintf(o->jobs_dir, sizeof o->jobs_dir, "%s", optarg); break;
        default: return cli_usage_error(ctx, usage, "unknown option");
        }
    }
    if (!o->out || !o->id || !o->from || !o->to)
        return cli_usage_error(ctx, usage, "--out, --report, --from and --to are required");
    if (optind < argc) return cli_usage_error(ctx, usage, "unexpected argument '%s'", argv[optind]);
    return 0;
}

static int parse_period_arg(const cli_context *ctx, const char *text, period *p) {
    if (!cli_safe_component(text) || period_parse(text, p))
        return cli_usage_error(ctx, usage, "bad period '%s' (YYYY-MM, YYYY-Qn or YYYY)", text);
    return 0;
}

/* The periodicity of report id from the job files (its first version).
 * Returns 0, EXIT_USAGE for an id no job file has, or 1 when the job files
 * cannot be read (said on rank 0). */
static int report_periodicity(const cli_context *ctx, const char *jobs_dir, const char *id, period_kind *kind) {
    job_set *jobs = NULL;
    char err[1024];
    if (!cli_safe_component(id)) return cli_usage_error(ctx, usage, "unknown report '%s'", id);
    if (job_set_load(jobs_dir, &jobs, err, sizeof err)) {
        if (ctx->rank == 0) log_msg(LOG_ERROR, "%s", err);
        return 1;
    }
    int found = 0;
    for (size_t i = 0; i < jobs->count && !found; i++)
        if (!strcmp(jobs->jobs[i].id, id)) *kind = jobs->jobs[i].periodicity, found = 1;
    job_set_free(jobs);
    return found ? 0 : cli_usage_error(ctx, usage, "unknown report '%s' (no such id in %s)", id, jobs_dir);
}

/* Both ends of the range of the report's kind, in order. 0 or EXIT_USAGE. */
static int check_range(const cli_context *ctx, const char *id, period_kind kind, const series_request *r) {
    const period *bad = r->first.kind != kind ? &r->first : r->last.kind != kind ? &r->last : NULL;
    if (bad)
        return cli_usage_error(ctx, usage, "report %s is %s; '%s' is not such a period", id, cli_period_form(kind),
                               bad->text);
    if (r->first.start > r->last.start)
        return cli_usage_error(ctx, usage, "--from %s is after --to %s", r->first.text, r->last.text);
    return 0;
}

static int parse_kato_arg(const cli_context *ctx, const char *text, series_request *r) {
    if (!text) return 0;
    if (strlen(text) != 9 || strspn(text, "0123456789") != 9)
        return cli_usage_error(ctx, usage, "bad --kato '%s' (9 digits; the republic is 000000000)", text);
    r->by_kato = 1;
    r->kato = (int32_t)strtol(text, NULL, 10);
    return 0;
}

static int parse_boundaries(const cli_context *ctx, const char *text, series_request *r) {
    int32_t day;
    if (!text || !strcmp(text, "as-of")) return 0;
    r->restated = 1;
    if (!strcmp(text, "current")) {
        r->current = 1;
        return 0;
    }
    if (!cli_safe_component(text) || date_parse(text, strlen(text), &day))
        return cli_usage_error(ctx, usage, "bad --boundaries '%s' (as-of, current or a date YYYY-MM-DD)", text);
    snprintf(r->day, sizeof r->day, "%s", text);
    return 0;
}

/* The request the options make. Returns 0, EXIT_USAGE, or 1 when the job
 * files cannot be read. */
static int build_request(const cli_context *ctx, const series_options *o, series_request *r) {
    period_kind kind = PERIOD_MONTH;
    memset(r, 0, sizeof *r);
    r->out = o->out, r->id = o->id;
    int rc = parse_period_arg(ctx, o->from, &r->first);
    if (rc == 0) rc = parse_period_arg(ctx, o->to, &r->last);
    if (rc == 0) rc = report_periodicity(ctx, o->jobs_dir, o->id, &kind);
    if (rc == 0) rc = check_range(ctx, o->id, kind, r);
    if (rc == 0) rc = parse_kato_arg(ctx, o->kato, r);
    if (rc == 0) rc = parse_boundaries(ctx, o->boundaries, r);
    if (rc == 0 && o->format && strcmp(o->format, "csv") && strcmp(o->format, "json"))
        rc = cli_usage_error(ctx, usage, "bad --format '%s' (csv or json)", o->format);
    r->json = o->format && !strcmp(o->format, "json");
    return rc;
}

/* ---- where the tables are ------------------------------------------------ */

/* Moves *p to the next period of the range; 0 when p was its last. */
static int next_period(const series_request *r, period *p) {
    period next;
    if (p->start >= r->last.start || period_step(p, 1, &next)) return 0;
    *p = next;
    return 1;
}

/* True when path, or a directory on the way to it, does not exist. */
static int is_missing(const char *path) {
    struct stat st;
    return stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

/* The table of p as the request reads it. 0, or -1 with err (too long). */
static int table_path(const series_request *r, const period *p, char *out, size_t cap, char *err, size_t errlen) {
    int n = r->restated ? snprintf(out, cap, "%s/archive/%s/restated/%s/%s.h5", r->out, p->text, r->day, r->id)
                        : snprintf(out, cap, "%s/archive/%s/%s.h5", r->out, p->text, r->id);
    if (n >= 0 && (size_t)n < cap) return 0;
    snprintf(err, errlen, "the path of %s under %s is too long", r->id, r->out);
    return -1;
}

/* Raises r->day to the latest YYYY-MM-DD directory under the restated/ of
 * p that holds a table of ID. 0 (none there is fine), or -1 with err when
 * the directory cannot be read. */
static int latest_day_of(series_request *r, const period *p, char *err, size_t errlen) {
    char dir[SERIES_PATH_CAP], path[SERIES_PATH_CAP + 64];
    snprintf(dir, sizeof dir, "%s/archive/%s/restated", r->out, p->text);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) return 0;
        snprintf(err, errlen, "cannot read %.3000s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        const struct dirent *e = readdir(d);
        int32_t day;
        if (!e) {
            if (errno) rc = -1, snprintf(err, errlen, "cannot read %.3000s: %s", dir, strerror(errno));
            break;
        }
        if (strlen(e->d_name) != 10 || date_parse(e->d_name, 10, &day) || strcmp(e->d_name, r->day) <= 0) continue;
        char name[11];
        memcpy(name, e->d_name, sizeof name); /* 10 bytes and the NUL */
        snprintf(path, sizeof path, "%s/%s/%s.h5", dir, name, r->id);
        if (!is_missing(path)) memcpy(r->day, name, sizeof name);
    }
    if (closedir(d) && rc == 0) rc = -1, snprintf(err, errlen, "cannot read %.3000s: %s", dir, strerror(errno));
    return rc;
}

/* --boundaries current: the latest restated day of any period of the
 * range holding a table of ID, into r->day. 0, or -1 with err (none). */
static int find_current_day(series_request *r, char *err, size_t errlen) {
    period p = r->first;
    r->day[0] = '\0';
    do
        if (latest_day_of(r, &p, err, errlen)) return -1;
    while (next_period(r, &p));
    if (r->day[0]) return 0;
    snprintf(err, errlen, "no restated table of %s for any period from %s to %s (%s/archive/<P>/restated/<DAY>/%s.h5)",
             r->id, r->first.text, r->last.text, r->out, r->id);
    return -1;
}

/* ---- one table ----------------------------------------------------------- */

static void series_table_free(series_table *s) {
    report_table_free(&s->t);
    free(s->objects);
    s->objects = NULL;
    s->nobjects = 0;
}

static int cmp_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The territory objects of the rows as sorted distinct keys. 0, or -1 out
 * of memory. */
static int collect_objects(series_table *s) {
    size_t n = s->t.nrows, k = 0;
    if (!(s->objects = malloc((n ? n : 1) * sizeof *s->objects))) return -1;
    for (size_t r = 0; r < n; r++) s->objects[r] = (int64_t)s->t.kato[r] << 8 | (uint8_t)s->t.level[r];
    qsort(s->objects, n, sizeof *s->objects, cmp_int64);
    for (size_t r = 0; r < n; r++)
        if (k == 0 || s->objects[r] != s->objects[k - 1]) s->objects[k++] = s->objects[r];
    s->nobjects = k;
    return 0;
}

/* A restated table must say it is restated on the request's day. */
static int check_restated(const series_request *r, const char *path, const report_table *t, char *err,
                          size_t errlen) {
    if (!strcmp(t->boundaries, r->day)) return 0;
    if (!t->boundaries[0]) snprintf(err, errlen, "%.3000s has no boundaries attribute: not a restated table", path);
    else snprintf(err, errlen, "%.3000s is restated on the boundaries of %s, not %s", path, t->boundaries, r->day);
    return -1;
}

/* Reads the table of p at path into s (the caller frees it with
 * series_table_free) and checks it is ID's for p. 0, or -1 with err and s
 * holding nothing. */
static int load_table(const series_request *r, const period *p, const char *path, series_table *s, char *err,
                      size_t errlen) {
    memset(s, 0, sizeof *s);
    if (h5archive_read(path, &s->t, err, errlen)) return -1;
    int rc = 0;
    if (strcmp(s->t.id, r->id) || strcmp(s->t.period, p->text))
        rc = -1, snprintf(err, errlen, "%.3000s holds %s for %s, not %s for %s", path, s->t.id, s->t.period, r->id, p->text);
    if (rc == 0 && r->restated) rc = check_restated(r, path, &s->t, err, errlen);
    if (rc == 0 && collect_objects(s)) rc = -1, snprintf(err, errlen, "out of memory for %.3000s", path);
    if (rc) series_table_free(s);
    return rc;
}

/* ---- comparing two periods ----------------------------------------------- */

static int same_names(const report_table *a, const report_table *b) {
    if (a->ndims != b->ndims || a->nmeasures != b->nmeasures) return 0;
    for (size_t d = 0; d < a->ndims; d++)
        if (strcmp(a->dims[d].name, b->dims[d].name)) return 0;
    for (size_t m = 0; m < a->nmeasures; m++)
        if (strcmp(a->measures[m].name, b->measures[m].name)) return 0;
    return 1;
}

/* Same dimension value lists (the names being the same). */
static int same_values(const report_table *a, const report_table *b) {
    for (size_t d = 0; d < a->ndims; d++) {
        if (a->dims[d].nvalues != b->dims[d].nvalues) return 0;
        for (size_t v = 0; v < a->dims[d].nvalues; v++)
            if (strcmp(a->dims[d].values[v], b->dims[d].values[v])) return 0;
    }
    return 1;
}

/* Appends s to out[cap] (NUL-terminated), after sep unless out is empty. */
static void append(char *out, size_t cap, const char *sep, const char *s) {
    size_t len = strlen(out);
    if (len + 1 < cap) snprintf(out + len, cap - len, "%s%s", len ? sep : "", s);
}

/* What differs from the previous present period, for the break column. */
static void describe_break(const series_table *prev, const series_table *cur, char out[SERIES_BREAK_CAP]) {
    out[0] = '\0';
    if (prev->t.methodology_version != cur->t.methodology_version) append(out, SERIES_BREAK_CAP, "+", "methodology");
    if (prev->nobjects != cur->nobjects ||
        (cur->nobjects && memcmp(prev->objects, cur->objects, cur->nobjects * sizeof *cur->objects)))
        append(out, SERIES_BREAK_CAP, "+", "territory");
    if (!same_values(&prev->t, &cur->t)) append(out, SERIES_BREAK_CAP, "+", "dimensions");
}

/* "dimensions sex,age_group; measures population" into out[cap]. */
static void describe_columns(const report_table *t, char *out, size_t cap) {
    char dims[REPORT_MAX_DIMS * 50] = "", measures[REPORT_MAX_MEASURES * 50] = "";
    for (size_t d = 0; d < t->ndims; d++) append(dims, sizeof dims, ",", t->dims[d].name);
    for (size_t m = 0; m < t->nmeasures; m++) append(measures, sizeof measures, ",", t->measures[m].name);
    snprintf(out, cap, "dimensions %s; measures %s", dims[0] ? dims : "(none)", measures[0] ? measures : "(none)");
}

/* The message for columns that change in p. Returns -1. */
static int columns_changed(const series_state *s, const period *p, const series_table *cur, char *err,
                           size_t errlen) {
    char was[1024], now[1024];
    describe_columns(&s->prev.t, was, sizeof was);
    describe_columns(&cur->t, now, sizeof now);
    snprintf(err, errlen,
             "the columns of %s change in %s (%s) from %s (%s): one long table needs the same dimension and "
             "measure names in every period; ask for the periods before and from %s separately",
             s->req->id, p->text, now, s->prev_period, was, p->text);
    return -1;
}

/* ---- output -------------------------------------------------------------- */

/* Writes cells[0..n) to f: a CSV line, or a JSON array of strings.
 * Returns 0, or -1 on a write error. */
static int write_cells(FILE *f, int json, const char *const *cells, size_t n) {
    if (json && fputc('[', f) == EOF) return -1;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && fputc(',', f) == EOF) return -1;
        if ((json ? json_write_string(f, cells[i]) : report_csv_write_field(f, cells[i])) != 0) return -1;
    }
    return fputs(json ? "]" : "\n", f) == EOF ? -1 : 0;
}

/* Writes one row of the series to the body. 0, or -1 on a write error. */
static int write_row(series_state *s, const char *const *cells, size_t n) {
    if (s->req->json && fputs(s->nrows ? ",\n  " : "\n  ", s->body) == EOF) return -1;
    if (write_cells(s->body, s->req->json, cells, n)) return -1;
    s->nrows++;
    return 0;
}

/* Writes the rows of cur (those of --kato only, when given) for period p,
 * brk on the first of them. 0, or -1 with err. */
static int write_table_rows(series_state *s, const period *p, const series_table *cur, const char *brk, char *err,
                            size_t errlen) {
    const report_table *t = &cur->t;
    size_t nc = report_table_ncolumns(t);
    char bufs[SERIES_MAX_CELLS][REPORT_CELL_CAP], version[16];
    const char *cells[SERIES_MAX_CELLS];
    int first = 1;
    snprintf(version, sizeof version, "%d", t->methodology_version);
    cells[0] = p->text, cells[1 + nc] = version;
    for (size_t r = 0; r < t->nrows; r++) {
        if (s->req->by_kato && t->kato[r] != s->req->kato) continue;
        for (size_t c = 0; c < nc; c++)
            if (!(cells[1 + c] = report_table_cell(t, r, c, bufs[c]))) {
                snprintf(err, errlen, "%s for %s: row %zu has a dimension value outside its list", t->id, p->text, r);
                return -1;
            }
        cells[2 + nc] = first ? brk : "";
        first = 0;
        if (write_row(s, cells, nc + 3)) {
            snprintf(err, errlen, "out of memory for the series");
            return -1;
        }
    }
    return 0;
}

static int add_missing(series_state *s, const period *p, char *err, size_t errlen) {
    char(*grown)[8] = realloc(s->missing, (s->nmissing + 1) * sizeof *s->missing);
    if (!grown) {
        snprintf(err, errlen, "out of memory for the series");
        return -1;
    }
    s->missing = grown;
    snprintf(s->missing[s->nmissing++], sizeof *s->missing, "%s", p->text);
    return 0;
}

/* Adds period p to the series: its rows, or p to the missing list. 0, or
 * -1 with err. */
static int add_period(series_state *s, const period *p, char *err, size_t errlen) {
    char path[SERIES_PATH_CAP], brk[SERIES_BREAK_CAP] = "";
    series_table cur;
    if (table_path(s->req, p, path, sizeof path, err, errlen)) return -1;
    if (is_missing(path)) return add_missing(s, p, err, errlen);
    if (load_table(s->req, p, path, &cur, err, errlen)) return -1;
    int rc = 0;
    if (s->ntables > 0 && !same_names(&s->prev.t, &cur.t)) rc = columns_changed(s, p, &cur, err, errlen);
    if (rc == 0 && s->ntables > 0) describe_break(&s->prev, &cur, brk);
    if (rc == 0) rc = write_table_rows(s, p, &cur, brk, err, errlen);
    if (rc) {
        series_table_free(&cur);
        return -1;
    }
    series_table_free(&s->prev);
    s->prev = cur;
    snprintf(s->prev_period, sizeof s->prev_period, "%s", p->text);
    s->ntables++;
    return 0;
}

/* Every period of the range into s; closes the body stream. 0, or -1
 * with err. */
static int collect(series_state *s, char *err, size_t errlen) {
    period p = s->req->first;
    int rc = 0;
    do
        rc = add_period(s, &p, err, errlen);
    while (rc == 0 && next_period(s->req, &p));
    if (fclose(s->body) && rc == 0) rc = -1, snprintf(err, errlen, "out of memory for the series");
    s->body = NULL;
    return rc;
}

/* The series must hold something: a table, and a row of --kato. */
static int check_found(const series_state *s, char *err, size_t errlen) {
    const series_request *r = s->req;
    if (s->ntables == 0) {
        snprintf(err, errlen, "no table of %s for any period from %s to %s in %s/archive (%s%s)", r->id,
                 r->first.text, r->last.text, r->out, r->restated ? "restated on " : "as-of boundaries",
                 r->restated ? r->day : "");
        return -1;
    }
    if (r->by_kato && s->nrows == 0) {
        snprintf(err, errlen, "kato %09ld has no row in any table of %s from %s to %s", (long)r->kato, r->id,
                 r->first.text, r->last.text);
        return -1;
    }
    return 0;
}

/* The header cells: period, the tables' columns, methodology_version,
 * break; n set to their count. */
static void header_cells(const report_table *t, const char **cells, size_t *n) {
    size_t nc = report_table_ncolumns(t);
    cells[0] = "period";
    for (size_t c = 0; c < nc; c++) cells[1 + c] = report_table_column_name(t, c);
    cells[1 + nc] = "methodology_version";
    cells[2 + nc] = "break";
    *n = nc + 3;
}

/* The JSON frame around the rows, "missing" last. 0, or -1 on a write error. */
static int print_json(const series_state *s, const char *const *header, size_t n, FILE *out) {
    int rc = fputs("{\"report\": ", out) == EOF || json_write_string(out, s->req->id) ||
             fputs(", \"boundaries\": ", out) == EOF ||
             json_write_string(out, s->req->restated ? s->req->day : "as-of") ||
             fputs(",\n \"columns\": ", out) == EOF || write_cells(out, 1, header, n) ||
             fputs(",\n \"rows\": [", out) == EOF || fwrite(s->body_text, 1, s->body_len, out) != s->body_len ||
             fputs("\n ],\n \"missing\": [", out) == EOF;
    for (size_t i = 0; !rc && i < s->nmissing; i++)
        rc = (i && fputs(", ", out) == EOF) || json_write_string(out, s->missing[i]);
    return rc || fputs("]}\n", out) == EOF ? -1 : 0;
}

/* Prints the series on stdout. 0, or -1 with err. */
static int print_series(const series_state *s, char *err, size_t errlen) {
    const char *header[SERIES_MAX_CELLS];
    size_t n;
    header_cells(&s->prev.t, header, &n);
    int rc = s->req->json ? print_json(s, header, n, stdout)
                          : write_cells(stdout, 0, header, n) ||
                                fwrite(s->body_text, 1, s->body_len, stdout) != s->body_len;
    if (fflush(stdout) || rc) {
        snprintf(err, errlen, "cannot write to standard output");
        return -1;
    }
    return 0;
}

/* One stderr line naming the missing periods (the first ones when there
 * are very many). */
static void log_missing(const series_state *s) {
    char list[SERIES_MISSING_SHOWN + 64] = "";
    size_t shown = 0;
    while (shown < s->nmissing && strlen(list) + sizeof *s->missing < SERIES_MISSING_SHOWN)
        append(list, sizeof list, ", ", s->missing[shown++]);
    if (shown < s->nmissing) {
        char more[48];
        snprintf(more, sizeof more, "and %zu more", s->nmissing - shown);
        append(list, sizeof list, ", ", more);
    }
    log_msg(LOG_WARN, "series: no table for %s", list);
}

/* Reads, checks and prints the series of r. Returns the exit status. */
static int run_series(const series_request *r) {
    series_state s;
    char err[SERIES_ERR_CAP];
    memset(&s, 0, sizeof s);
    s.req = r;
    int rc = (s.body = open_memstream(&s.body_text, &s.body_len)) ? 0 : -1;
    if (rc) snprintf(err, sizeof err, "out of memory for the series");
    if (rc == 0) rc = collect(&s, err, sizeof err);
    if (rc == 0) rc = check_found(&s, err, sizeof err);
    if (rc == 0) rc = print_series(&s, err, sizeof err);
    if (rc == 0 && s.nmissing) log_missing(&s);
    if (rc) log_msg(LOG_ERROR, "%s", err);
    series_table_free(&s.prev);
    free(s.body_text);
    free(s.missing);
    return rc ? 1 : 0;
}

int cmd_series(const cli_context *ctx, int argc, char **argv) {
    series_options o;
    series_request r;
    memset(&o, 0, sizeof o);
    cli_default_dir("jobs", o.jobs_dir, sizeof o.jobs_dir);
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    int rc = parse_options(ctx, argc, argv, &o);
    if (rc == 0) rc = build_request(ctx, &o, &r);
    if (rc || ctx->rank != 0) return rc;
    char err[SERIES_ERR_CAP];
    if (r.current && find_current_day(&r, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        return 1;
    }
    return run_series(&r);
}
