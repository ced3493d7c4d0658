/* job.h — the registry of regulated reports: one YAML file per report (and
 * methodology version) in jobs/, read at start-up into these structs. Owns
 * the parsed definitions; expressions stay text here (with their file
 * position) and are compiled against the extract schemas by the engine's
 * planner, which reports errors at file:line:column. The format is
 * documented in jobs/README.md. */
#ifndef ESEP_JOB_H
#define ESEP_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "../base/measure.h"

#define JOB_MAX_LEVEL 3
#define JOB_MAX_LETS 32          /* derived values of one input */
#define JOB_MAX_GROUP_VALUES 32  /* values of a grouped input's entities */

typedef struct {
    char *text;             /* NULL when absent */
    const char *path;       /* the job file */
    int line, column;       /* of the YAML value */
    int quoted;             /* the value was quoted: text starts a column later */
} job_expr;

typedef struct {
    char *dim;              /* dimension name */
    job_expr expr;          /* value expression (enum/text), or the banded int */
    int64_t *edges;         /* bands: lower edges, ascending; NULL otherwise */
    size_t nedges;
} job_dim_source;

typedef enum { JOIN_TAKE, JOIN_EXISTS, JOIN_DISTINCT } job_join_kind;

typedef struct {
    char *name;
    char *extract;          /* the joined extract */
    char *on;               /* column of both extracts (the key) */
    job_join_kind kind;
    char **take;            /* JOIN_TAKE: columns of the joined extract */
    size_t ntake;
    int required;           /* JOIN_TAKE: a row without a match is rejected */
    char *distinct;         /* JOIN_DISTINCT: the counted column */
    job_expr where;         /* filter on the joined extract's rows */
} job_join;

typedef enum { GROUP_COUNT, GROUP_ANY } job_group_value_kind;

typedef struct {
    char *name;
    job_group_value_kind kind;
    job_expr expr;          /* COUNT: rows where true; ANY: a bool value */
} job_group_value;

typedef struct {
    int present;
    char *key;              /* column the rows are grouped by */
    char *oldest, *tie;     /* the member whose `value` gives the territory */
    char *value;
    job_expr member_where;  /* members eligible for that choice */
    job_group_value *values;
    size_t nvalues;
    job_expr where;         /* entities kept */
} job_group;

typedef struct {
    char *name;
    job_expr expr;
} job_let;

typedef struct {
    char *name;
    char *extract;
    job_expr where;
    job_expr kato;
    job_let *lets;
    size_t nlets;
    job_dim_source *dims;
    size_t ndims;
    job_join *joins;
    size_t njoins;
    job_group group;
} job_input;

typedef enum {
    JM_COUNT, JM_SUM, JM_DISTINCT, JM_MIN, JM_MAX, JM_MEDIAN, JM_RATIO, JM_FORMULA
} job_measure_kind;

typedef struct {
    char *name;
    job_measure_kind kind;
    int input;              /* index into inputs (not for RATIO/FORMULA) */
    job_expr value;         /* SUM/DISTINCT/MIN/MAX/MEDIAN value; FORMULA text */
    job_expr where;
    char *num, *den;        /* RATIO: measure names, or "REPORT:measure" */
    int64_t scale;          /* RATIO: 1, 100, 1000 */
    measure_format format;
    int person_count;
    char *label_kk, *label_ru;  /* optional column labels for forms */
    char **follows;
    size_t nfollows;
    int line, column;
} job_measure;

#define JOB_MAX_TITLE 255 /* bytes of title_kk, title_ru, addressee (report_table holds 256) */

typedef enum { PERIOD_MONTH, PERIOD_QUARTER, PERIOD_YEAR } period_kind;

typedef struct {
    char *path;
    char id[16];
    int version;
    char *title_kk, *title_ru, *addressee;
    period_kind periodicity;
    int deadline_days;
    int32_t valid_from, valid_to;   /* day numbers; valid_to INT32_MAX when open */
    int levels[JOB_MAX_LEVEL + 1];  /* levels[l] true when level l is listed */
    size_t ndims;
    char *dim_names[REPORT_MAX_DIMS];
    char *dim_label_kk[REPORT_MAX_DIMS], *dim_label_ru[REPORT_MAX_DIMS]; /* optional */
    char **dim_values[REPORT_MAX_DIMS]; /* declared order, without "_T" */
    size_t dim_nvalues[REPORT_MAX_DIMS];
    job_input *inputs;
    size_t ninputs;
    job_measure *measures;
    size_t nmeasures;
} job;

typedef struct {
    job *jobs;              /* sorted by id, then valid_from */
    size_t count;
} job_set;

/* Loads every *.yaml file of dir. Returns 0 and *out (free with
 * job_set_free), or -1 with "file:line:column: message" in err. Checks
 * everything that needs no schema: names, references between measures and
 * inputs, dimensions, overlapping validity of versions of one id. */
int job_set_load(const char *dir, job_set **out, char *err, size_t errlen);

/* The same from n documents in memory: names[i] (for messages) and
 * texts[i][0..lens[i]). For tests and fuzzing; same errors. */
int job_set_parse(char *const *names, const char *const *texts, const size_t *lens, size_t n, job_set **out,
                  char *err, size_t errlen);

void job_set_free(job_set *set);

/* The version of report id in force on day, or NULL. Cannot fail. */
const job *job_set_find(const job_set *set, const char *id, int32_t day);

/* Index of a measure by name, or -1. Cannot fail. */
int job_find_measure(const job *j, const char *name);

/* "file:line:column: message" for an expression error at byte offset
 * `offset` (1-based) of e. Returns -1. */
int job_expr_error(const job_expr *e, int offset, const char *msg, char *err, size_t errlen);

#endif
