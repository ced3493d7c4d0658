/* gen_extracts.c — command line and run order of the synthetic snapshot
 * generator (see gen.h for how the parts divide the work).
 *
 *   gen-extracts --persons N --date YYYYMMDD --seed S --out DIR
 *                [--plain] [--frame-bytes B]
 *
 * writes DIR/YYYYMMDD/<extract>.csv.zst (or .csv with --plain) for the
 * nine extracts of shared/spec/extracts.md. Same arguments, same bytes. */
#include "gen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>

#define MAX_PERSONS 100000000ull
#define DEFAULT_FRAME_BYTES 4194304ull

static const struct {
    const char *name;
    const char *header;
} EXTRACTS[X_COUNT] = {
    [X_KATO] = {"kato", "code;parent;level;name_kk;name_ru;valid_from;valid_to;successor"},
    [X_PERSONS] = {"persons", "iin;birth_date;sex;kato;household_id;death_date;disability_group;citizenship"},
    [X_CIVIL_EVENTS] = {"civil_events", "event_id;event_type;event_date;iin;kato;cause"},
    [X_SOCIAL_PAYMENTS] = {"social_payments", "payment_id;iin;program;period;amount;kato"},
    [X_JOB_SEEKERS] = {"job_seekers", "iin;registered_on;deregistered_on;dereg_reason;kato"},
    [X_EDUCATION] = {"education", "iin;org_id;org_kato;level;language;enrolled_on;left_on"},
    [X_PRESCHOOL_QUEUE] = {"preschool_queue", "iin;kato;queued_on;placed_on;priority"},
    [X_SCHOOLS] = {"schools", "org_id;kato;design_capacity;built_year;shifts"},
    [X_APPEALS] = {"appeals", "appeal_id;received_on;answered_on;extended;channel;category;kato;result"},
};

typedef struct {
    uint64_t persons;
    int have_persons;
    const char *date;
    uint64_t seed;
    int have_seed;
    const char *out;
    int plain;
    uint64_t frame_bytes;
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gen-extracts --persons N --date YYYYMMDD --seed S --out DIR\n"
            "                    [--plain] [--frame-bytes B]\n"
            "Writes DIR/YYYYMMDD/ with the nine registry extracts of\n"
            "shared/spec/extracts.md (zstd, one frame per B uncompressed bytes,\n"
            "default %llu; --plain writes .csv). Same arguments, same bytes.\n",
            (unsigned long long)DEFAULT_FRAME_BYTES);
}

/* Parses a whole decimal (or 0x-hex) unsigned number into *v. Returns 0,
 * or -1 when text is not entirely a number in [lo, hi]. */
static int parse_u64(const char *text, uint64_t lo, uint64_t hi, uint64_t *v)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(text, &end, 0);
    if (errno || *end || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

/* Returns 0, or -1 after printing what is wrong. */
static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->frame_bytes = DEFAULT_FRAME_BYTES;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--plain") == 0) {
            o->plain = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--persons") == 0) {
            bad = parse_u64(v, 1, MAX_PERSONS, &o->persons);
            o->have_persons = 1;
        } else if (strcmp(a, "--date") == 0) {
            o->date = v;
            bad = !v;
        } else if (strcmp(a, "--seed") == 0) {
            bad = parse_u64(v, 0, UINT64_MAX, &o->seed);
            o->have_seed = 1;
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
            bad = !v || !*v;
        } else if (strcmp(a, "--frame-bytes") == 0) {
            bad = parse_u64(v, 1, 1ull << 40, &o->frame_bytes);
        } else {
            fprintf(stderr, "gen-extracts: unknown argument '%s'\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "gen-extracts: %s needs %s, got '%s'\n", a,
                    strcmp(a, "--persons") == 0 ? "a number from 1 to 100000000"
                    : strcmp(a, "--frame-bytes") == 0 ? "a byte count from 1 to 2^40"
                    : strcmp(a, "--seed") == 0 ? "an unsigned 64-bit number"
                    : "a value", v ? v : "(nothing)");
            return -1;
        }
        i++;
    }
    if (!o->have_persons || !o->date || !o->have_seed || !o->out) {
        fprintf(stderr, "gen-extracts: --persons, --date, --seed and --out are required\n");
        return -1;
    }
    return 0;
}

/* Sets the snapshot day and everything derived from it. Returns 0, or -1
 * after printing why the date is unusable. */
static int set_snapshot(gen_ctx *g, const char *text)
{
    int y, m, d;
    if (strlen(text) != 8 || strspn(text, "0123456789") != 8 ||
        sscanf(text, "%4d%2d%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
        fprintf(stderr, "gen-extracts: --date must be YYYYMMDD, got '%s'\n", text);
        return -1;
    }
    g->snapshot = days_from_civil(y, m, d);
    int cy, cm, cd;
    civil_from_days(g->snapshot, &cy, &cm, &cd);
    if (cy != y || cm != m || cd != d) {
        fprintf(stderr, "gen-extracts: --date %s is not a calendar date\n", text);
        return -1;
    }
    /* The in-window reform (eight months back) must come after the 2022
     * reform, and births must keep IIN century digits 3–6. */
    if (g->snapshot < days_from_civil(2023, 6, 1) || y > 2099) {
        fprintf(stderr, "gen-extracts: --date must be from 20230601 to 20991231, got %s\n", text);
        return -1;
    }
    g->snap_year = y;
    g->snap_month = m;
    g->window_start = add_years(g->snapshot, -2) + 1;
    int back = (y * 12 + (m - 1)) - 8;
    g->terr.reform_window = days_from_civil(back / 12, back % 12 + 1, 1);
    g->n_months = 12 + m;
    for (int k = 0; k < g->n_months; k++) {
        int py = y - 1 + k / 12, pm = k % 12 + 1;
        char *p = g->period[k];   /* "YYYY-MM"; y ≤ 2099 was checked */
        p[0] = (char)('0' + py / 1000);
        p[1] = (char)('0' + py / 100 % 10);
        p[2] = (char)('0' + py / 10 % 10);
        p[3] = (char)('0' + py % 10);
        p[4] = '-';
        p[5] = (char)('0' + pm / 10);
        p[6] = (char)('0' + pm % 10);
        p[7] = 0;
        g->month_first[k] = days_from_civil(py, pm, 1);
        g->month_last[k] = days_from_civil(py + pm / 12, pm % 12 + 1, 1) - 1;
    }
    return 0;
}

/* mkdir -p. Returns 0, or -1 after printing the failing path. */
static int make_dirs(const char *path)
{
    char *p = strdup(path);
    if (!p) {
        fprintf(stderr, "gen-extracts: out of memory\n");
        return -1;
    }
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "gen-extracts: cannot create directory %s: %s\n", p, strerror(errno));
            rc = -1;
            break;
        }
        *s = c;
        if (!c)
            break;
    }
    free(p);
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "gen-extracts: %s is not a directory\n", path);
            rc = -1;
        }
    }
    return rc;
}

/* Prints the first error recorded anywhere in the run. */
static void report_error(const gen_ctx *g)
{
    if (g->err[0]) {
        fprintf(stderr, "gen-extracts: %s\n", g->err);
        return;
    }
    for (int x = 0; x < X_COUNT; x++)
        if (g->out[x].err[0]) {
            fprintf(stderr, "gen-extracts: %s\n", g->out[x].err);
            return;
        }
    fprintf(stderr, "gen-extracts: failed\n");
}

static int open_streams(gen_ctx *g, const char *dir, const options *o)
{
    for (int x = 0; x < X_COUNT; x++)
        if (out_open(&g->out[x], dir, EXTRACTS[x].name, o->plain, o->frame_bytes,
                     EXTRACTS[x].header) != 0)
            return -1;
    return 0;
}

/* Finishes every stream; keeps going after a failure so that every
 * stream is released. Returns 0 or -1. */
static int finish_streams(gen_ctx *g, uint64_t rows[X_COUNT], uint64_t raw[X_COUNT],
                          uint64_t file[X_COUNT], uint64_t frames[X_COUNT])
{
    int rc = 0;
    for (int x = 0; x < X_COUNT; x++) {
        out_stream *s = &g->out[x];
        if (rc != 0) {
            out_abort(s);
            continue;
        }
        uint64_t r = s->rows;
        if (out_finish(s) != 0) {
            rc = -1;
            continue;
        }
        rows[x] = r;
        raw[x] = s->raw_bytes;
        file[x] = s->file_bytes;
        frames[x] = s->frames;
    }
    return rc;
}

static void print_summary(const char *dir, int plain, const uint64_t rows[X_COUNT],
                          const uint64_t raw[X_COUNT], const uint64_t file[X_COUNT],
                          const uint64_t frames[X_COUNT])
{
    printf("snapshot %s\n", dir);
    printf("  %-16s %12s %14s %14s %7s\n", "extract", "rows", "csv bytes", "file bytes", "frames");
    uint64_t t_raw = 0, t_file = 0;
    for (int x = 0; x < X_COUNT; x++) {
        printf("  %-16s %12llu %14llu %14llu %7llu\n", EXTRACTS[x].name,
               (unsigned long long)rows[x], (unsigned long long)raw[x],
               (unsigned long long)file[x], plain ? 0ull : (unsigned long long)frames[x]);
        t_raw += raw[x];
        t_file += file[x];
    }
    printf("  %-16s %12s %14llu %14llu\n", "total", "", (unsigned long long)t_raw,
           (unsigned long long)t_file);
}

/* Generates everything into already opened streams. Returns 0 or -1. */
static int generate(gen_ctx *g)
{
    if (territory_build(g) != 0 || territory_plan(g) != 0)
        return -1;
    if (write_kato(g) != 0 || write_schools(g) != 0)
        return -1;
    return people_generate(g);
}

static int run(gen_ctx *g, const options *o)
{
    char *dir = malloc(strlen(o->out) + 16);
    if (!dir) {
        fprintf(stderr, "gen-extracts: out of memory\n");
        return 1;
    }
    sprintf(dir, "%s/%s", o->out, o->date);
    size_t serials = (size_t)g->dates.count * 2;
    g->iin_serial = calloc(serials, sizeof *g->iin_serial);
    int rc = 1;
    uint64_t rows[X_COUNT] = {0}, raw[X_COUNT] = {0}, file[X_COUNT] = {0}, frames[X_COUNT] = {0};
    if (!g->iin_serial) {
        fprintf(stderr, "gen-extracts: out of memory\n");
    } else if (make_dirs(dir) == 0) {
        if (open_streams(g, dir, o) != 0 || generate(g) != 0 ||
            finish_streams(g, rows, raw, file, frames) != 0) {
            report_error(g);
            for (int x = 0; x < X_COUNT; x++)
                out_abort(&g->out[x]);
        } else {
            print_summary(dir, o->plain, rows, raw, file, frames);
            rc = 0;
        }
    }
    free(g->iin_serial);
    free(dir);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    gen_ctx *g = calloc(1, sizeof *g);
    if (!g) {
        fprintf(stderr, "gen-extracts: out of memory\n");
        return 1;
    }
    g->n_persons = o.persons;
    g->seed = o.seed;
    g->next_household = 1;
    g->next_event = 1;
    g->next_payment = 1;
    g->next_appeal = 1;
    int rc = 2;
    if (set_snapshot(g, o.date) == 0) {
        rc = 1;
        if (date_table_init(&g->dates) != 0)
            fprintf(stderr, "gen-extracts: out of memory\n");
        else
            rc = run(g, &o);
    }
    territory_free(&g->terr);
    date_table_free(&g->dates);
    free(g);
    return rc;
}
