/* gen.h — shared declarations of the synthetic snapshot generator.
 *
 * The generator (scripts/gen/) writes one nightly snapshot in the format of
 * shared/spec/extracts.md so that every esep report has realistic input of
 * any size.  It is split by what each part owns:
 *
 *   gen_extracts.c  command line, run order, summary
 *   gen_util.c      dates, the IIN allocator, CSV field formatting
 *   gen_out.c       one output stream per extract: buffering, multi-frame
 *                   zstd, temporary name and atomic rename
 *   gen_kato.c      the invented territory (KATO tree, reforms), population
 *                   targets and schools
 *   gen_people.c    households, persons and civil events
 *   gen_services.c  payments, job seekers, education, preschool queue and
 *                   appeals of one household
 *
 * Everything is deterministic: one seeded PRNG per settlement, no clocks.
 * Memory is bounded by the territory tables; rows stream out household by
 * household. */
#ifndef ESEP_GEN_H
#define ESEP_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zstd.h>

/* ------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded through splitmix64.                       */

typedef struct {
    uint64_t s[4];
} rng_t;

static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); n == 0 returns 0. */
static inline uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi], inclusive; hi < lo returns lo. */
static inline int64_t rng_range(rng_t *r, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)((rng_next(r) >> 11) % (uint64_t)(hi - lo + 1));
}

static inline double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static inline int rng_chance(rng_t *r, double p)
{
    return rng_unit(r) < p;
}

/* ------------------------------------------------------------------ */
/* Dates: day numbers counted from 1970-01-01.                          */

typedef int32_t day_t;
#define DAY_NONE INT32_MIN

day_t days_from_civil(int y, int m, int d);
void civil_from_days(day_t z, int *y, int *m, int *d);
/* The same calendar day `years` later (Feb 29 falls on Mar 1). */
day_t add_years(day_t z, int years);
/* Completed years between birth and day (the age on `day`). */
int age_on(day_t birth, day_t day);

/* Preformatted "YYYY-MM-DD" strings for every day the generator can
 * write, so the hot path never formats a date. */
#define DATE_FIRST_YEAR 1900
#define DATE_LAST_YEAR 2100
typedef struct {
    day_t first;
    int32_t count;
    char (*text)[10];
} date_table;

int date_table_init(date_table *t);
void date_table_free(date_table *t);

/* ------------------------------------------------------------------ */
/* CSV field formatting into a caller-reserved buffer.                  */

static inline char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static inline char *put_str(char *p, const char *s)
{
    return put_mem(p, s, strlen(s));
}

#define PUT_LIT(p, lit) put_mem((p), (lit), sizeof(lit) - 1)

static inline char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static inline char *put_date(char *p, const date_table *t, day_t d)
{
    return put_mem(p, t->text[d - t->first], 10);
}

/* Empty field for DAY_NONE, the date otherwise. */
static inline char *put_opt_date(char *p, const date_table *t, day_t d)
{
    return d == DAY_NONE ? p : put_date(p, t, d);
}

/* Text with RFC 4180 quoting when it holds ';', '"', CR or LF. */
char *put_csv_text(char *p, const char *s);
/* Tenge from integer tiyn, 0–2 decimals ("42500", "18250.5", "7300.75"). */
char *put_money(char *p, int64_t tiyn);

/* ------------------------------------------------------------------ */
/* Output streams (gen_out.c).                                          */

enum extract_id {
    X_KATO,
    X_PERSONS,
    X_CIVIL_EVENTS,
    X_SOCIAL_PAYMENTS,
    X_JOB_SEEKERS,
    X_EDUCATION,
    X_PRESCHOOL_QUEUE,
    X_SCHOOLS,
    X_APPEALS,
    X_COUNT
};

/* Longest row any emitter writes; out_reserve guarantees this much room. */
#define ROW_MAX 1024

typedef struct {
    const char *name;          /* extract name, e.g. "persons" */
    char *final_path;          /* owned */
    char *tmp_path;            /* owned */
    int fd;                    /* -1 when closed */
    ZSTD_CCtx *cctx;           /* NULL for --plain */
    char *buf;                 /* pending uncompressed bytes, owned */
    size_t len, cap;
    void *zbuf;                /* compressed output staging, owned */
    size_t zcap;
    uint64_t frame_bytes;      /* uncompressed bytes per zstd frame */
    uint64_t frame_left;       /* bytes still to feed into this frame */
    uint64_t rows;             /* data rows (header excluded) */
    uint64_t raw_bytes;        /* uncompressed bytes written */
    uint64_t file_bytes;       /* bytes written to the file */
    uint64_t frames;           /* zstd frames closed */
    char err[512];             /* message of the first failure */
} out_stream;

int out_open(out_stream *s, const char *dir, const char *name, int plain,
             uint64_t frame_bytes, const char *header);
int out_flush(out_stream *s);
int out_finish(out_stream *s);
void out_abort(out_stream *s);

/* Makes room for one row of up to ROW_MAX bytes. Returns 0 or -1 (message
 * in s->err). */
static inline int out_reserve(out_stream *s)
{
    if (s->len + ROW_MAX <= s->cap)
        return 0;
    return out_flush(s);
}

static inline char *out_cursor(out_stream *s)
{
    return s->buf + s->len;
}

/* Ends a row started at out_cursor(); p points past its last field. */
static inline void out_commit_row(out_stream *s, char *p)
{
    *p++ = '\n';
    s->len = (size_t)(p - s->buf);
    s->rows++;
}

/* ------------------------------------------------------------------ */
/* Territory (gen_kato.c).                                              */

typedef struct {
    char code[10];             /* 9 digits */
    int parent;                /* unit index; -1 for a region */
    int level;                 /* 1 region .. 4 settlement */
    char name_kk[128];
    char name_ru[128];
    day_t valid_from;
    day_t valid_to;            /* DAY_NONE while open */
    int successor;             /* unit index or -1 */
    int pred;                  /* closed unit this one replaced, or -1 */
    double weight;             /* population share among its siblings */
} kato_unit;

typedef struct {
    int unit;                  /* the open settlement */
    int district;              /* index into territory.districts */
    uint64_t persons;          /* residents to generate here */
    int first_school, n_schools;
    double school_weight;      /* Σ weight of schools located here */
} settlement;

typedef struct {
    int unit;
    int region;                /* index into territory.regions */
    int first_settlement, n_settlements;
    uint64_t persons;
    int first_school, n_schools;
    double school_weight;      /* Σ weight of all its schools */
} district;

typedef struct {
    int unit;
    int first_district, n_districts;
    int south;                 /* larger families (Turkestan, Shymkent…) */
    double kk_share;           /* households schooling in Kazakh */
    uint32_t pop_thousands;
} region;

typedef struct {
    uint32_t org_id;
    int settlement;
    int capacity, built_year, shifts;
    double weight;             /* relative pull on the district's pupils */
} school;

typedef struct {
    kato_unit *units;
    int n_units, cap_units;
    region regions[32];
    int n_regions;
    district *districts;
    int n_districts;
    settlement *settlements;
    int n_settlements;
    school *schools;
    int n_schools;
    day_t reform_2022;         /* 2022-06-08: Abai, Jetisu, Ulytau */
    day_t reform_window;       /* the reform inside the data window */
} territory;

struct gen_ctx;
int territory_build(struct gen_ctx *g);
int territory_plan(struct gen_ctx *g);
void territory_free(territory *t);
int write_kato(struct gen_ctx *g);
int write_schools(struct gen_ctx *g);
/* The code a row dated `when` carries for settlement unit `unit`: usually
 * the current code, with probability p the closed code valid at `when`. */
const char *kato_for_row(const territory *t, rng_t *r, int unit, day_t when,
                         double p);
/* A settlement of another district of the same region, or -1. */
int other_district_settlement(const territory *t, rng_t *r, int settlement);

/* ------------------------------------------------------------------ */
/* The run.                                                             */

#define MAX_MONTHS 24

typedef struct gen_ctx {
    uint64_t n_persons;
    uint64_t seed;
    day_t snapshot;
    day_t window_start;        /* first day of the two-year data window */
    int snap_year, snap_month;

    int n_months;              /* payment months: Jan of last year .. now */
    char period[MAX_MONTHS][8];
    day_t month_first[MAX_MONTHS], month_last[MAX_MONTHS];

    territory terr;
    date_table dates;
    uint16_t *iin_serial;      /* next serial per (birth day, sex) */

    out_stream out[X_COUNT];

    uint64_t next_household, next_event, next_payment, next_appeal;
    char err[512];
} gen_ctx;

/* Allocates the next unused IIN for (birth, sex) into out[12]. Returns 0,
 * or -1 (message in g->err) when that day's serials are exhausted. */
int iin_assign(gen_ctx *g, day_t birth, char sex, char out[12]);

int people_generate(gen_ctx *g);

/* ------------------------------------------------------------------ */
/* One household, as gen_people.c realises it and gen_services.c reads it. */

#define HH_MAX 16

enum member_role { ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_ELDER };
enum school_language { LANG_KK, LANG_RU, LANG_OTHER };

typedef struct {
    char iin[12];
    day_t birth;
    day_t death;               /* DAY_NONE while alive */
    int age;                   /* completed years at the snapshot */
    char sex;                  /* 'M' or 'F' */
    int role;                  /* enum member_role */
    int settlement;            /* where registered (terr.settlements index) */
    int disability;            /* 0, or group 1..3 */
} person;

typedef struct household {
    person m[HH_MAX];
    int n;
    uint64_t id;
    int settlement;            /* the household's own settlement */
    int language;              /* enum school_language */
    int under18;               /* members under 18 at the snapshot */
    int large;                 /* 4+ members under 18 */
    int single_parent;
} household;

/* gen_services.c: everything of one household beyond persons and events.
 * Returns 0, or -1 with the failing stream's message in its err. */
int services_emit(gen_ctx *g, rng_t *r, const household *h);

#endif
