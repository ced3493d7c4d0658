/* plan.h — the jobs of one run compiled against the extract schemas for
 * one period: which inputs read which extract, their expressions compiled
 * to vector programs, what each keyed input carries to its key's owner.
 * Owns the compiled programs and the fact groups (share.c fills them in).
 * Built once at start-up, identically on every rank; the engine (engine.c)
 * executes it. */
#ifndef ESEP_PLAN_H
#define ESEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../spec/expr.h"
#include "../spec/job.h"
#include "../spec/schema.h"
#include "cube.h"
#include "facts.h"
#include "period.h"

#define PLAN_MAX_CARRIED 256 /* values a keyed row carries to its key's owner */
#define FACT_GROUP_MAX_MEMBERS 63 /* a fact's members are the bits of one int64 */

/* One operand of a where that is an `and` chain (expr_conjuncts): forms
 * that add a condition to a report's where share the report's operands. */
typedef struct {
    int memo;                     /* its memo id (share.c) */
    expr_program *program;
} plan_atom;

typedef struct {
    int measure;                  /* index in the job */
    job_measure_kind kind;
    expr_program *where;          /* NULL: every row */
    expr_program *value;          /* SUM, MIN, MAX, MEDIAN */
    int where_memo, value_memo;   /* row stage: memo ids (share.c), or -1 */
    plan_atom *where_atoms;       /* row stage: where's operands, when several */
    size_t nwhere_atoms;
    cube_tally *tally;            /* count/sum/min/max/median: where its rows
                                     add up (share.c; shared by identical
                                     inputs of several forms) */
} measure_plan;

typedef struct {
    expr_program *expr;
    const int64_t *edges;         /* bands, or NULL */
    size_t nedges;
    int enum_map[SCHEMA_MAX_ENUM + 1]; /* ENUM value index → dimension value */
    int is_text;
    int text_column;              /* is_text: the extract column read */
    char *const *values;          /* the dimension's declared values */
    size_t nvalues;
    int memo, index_memo;         /* row stage: memo ids of expr and of the value indexes, or -1 */
} dim_plan;

/* Names an expression of an input may use, and where their values come
 * from at evaluation time. */
typedef enum { SRC_COLUMN, SRC_LET, SRC_CONST, SRC_JOIN, SRC_CARRIED, SRC_GROUP } name_source;

typedef struct {
    expr_name *names;
    name_source *source;
    int *index;                   /* column / let / join output / carried slot */
    size_t count, cap;
    char *owned[32];              /* names built here ("person.sex"), freed with the table */
    size_t nowned;
} name_table;

typedef struct join_plan {
    const job_join *def;
    int extract;                  /* the joined extract */
    expr_program *where;          /* over the joined extract's row names */
    name_table row_names;         /* joined extract columns + constants */
    int key_column;               /* `on` column of the joined extract */
    size_t nvalues;               /* TAKE: ntake; DISTINCT: 1; EXISTS: 0 */
    int value_column[16];
    fact_table facts;
    size_t first_output;          /* its outputs' slots among join outputs */
    struct join_plan *same;       /* an identical join of an earlier input
                                     (same rows kept): its facts serve both,
                                     and this one keeps none; NULL if none */
    int users;                    /* canonical join: inputs using its facts */
    int ready;                    /* canonical join: shuffled and sorted */
    size_t *run_at;               /* canonical join: hash of keys → first row
                                     of their run (SIZE_MAX: empty slot) */
    size_t run_mask;
    int64_t *run_distinct;        /* canonical distinct join: per run of a key
                                     (at its first row), its distinct values */
} join_plan;

struct input_plan;

/* Grouped inputs: one entity per group (household) — its values, its
 * oldest eligible member's place and line, whether it passes the entity
 * where — the same for every member of a fact group (they are the same
 * input), so built by the first member's keyed stage and read by the
 * others, which differ only in measures and levels. */
typedef struct {
    size_t n;
    int built;
    int64_t *place, *leaf, *line; /* leaf: 0 (a grouped input gives no dimension) */
    int8_t *sign;
    int64_t *values[JOB_MAX_GROUP_VALUES];
    unsigned char *active;
} group_entities;

/* Places and leaves of a fact group's facts at the key owner, computed by
 * its first member that needs them and read by every later member with
 * the same kato and dimensions (memo ids: the 12 variants of a report
 * differ in levels, where or measures, not in where a fact lands). */
typedef struct {
    int place_memo, leaf_memo;    /* the inputs' ids (share.c) */
    int64_t *place, *leaf;        /* per fact; NULL: none kept */
    int ready;                    /* every fact's values are in */
} owner_places;

/* The facts of keyed inputs that read one extract by one key, kept once
 * (share.c groups the inputs; the engine fills, moves and frees it). A
 * fact is a row that passes the where of at least one member; it carries
 * the union of the members' carried values and, when there are several
 * members, a column of member bits (bit b: the row passes member b's
 * where), so each member's keyed stage sees exactly its own rows. */
typedef struct fact_group {
    int extract, key_column;
    int dedupe;                   /* the members': rows collapse at the origin */
    int grouped;                  /* households: every member is the same input */
    int by_key;                   /* a member counts distinct keys: the facts
                                     are sorted by key and withdrawn rows
                                     cancelled (other members add withdrawn
                                     rows with sign −1, which cancels too) */
    struct input_plan *members[FACT_GROUP_MAX_MEMBERS];
    size_t nmembers;
    int carried[PLAN_MAX_CARRIED]; /* row_names indexes carried, ascending */
    size_t ncarried;
    fact_table facts;             /* ncarried columns, then the bits (nmembers > 1) */
    size_t compacted;             /* facts.n after the last compaction */
    struct {
        int where_memo;           /* the memo id of a where (-1: every row) */
        int64_t bits;             /* the members with that where */
    } classes[FACT_GROUP_MAX_MEMBERS];
    size_t nclasses;
    int64_t *batch_bits;          /* row stage: the members' bits of the current batch */
    size_t batch_cap;
    fact_table members_of_groups; /* grouped: member facts by group key, built once */
    int members_built;
    group_entities entities;      /* grouped: built once from the member facts */
    owner_places places;          /* keyed inputs: shared places and leaves */
    int users;                    /* members whose keyed stage has not run */
    int ready;                    /* compacted, shuffled and sorted */
} fact_group;

typedef struct input_plan {
    struct report_plan *report;
    const job_input *def;
    int extract;
    name_table row_names;         /* columns, constants, lets */
    expr_program *where;
    expr_program **lets;
    /* memo ids (share.c) of what the row stage evaluates, or -1: lets and
     * where always; kato, its places and the rows' leaves (cube.h) when
     * the input adds up at the row stage */
    int *let_memo;
    int where_memo, kato_memo, place_memo, leaf_memo;
    plan_atom *where_atoms;       /* where's operands, when several */
    size_t nwhere_atoms;
    int rows_memo, rejects_memo;  /* the rows that add up (with their leaf
                                     cells), and those the report rejects */
    const struct input_plan *adds_like; /* an earlier input whose rows and
                                     accumulated measures are this one's:
                                     its tallies are this one's too, so this
                                     input only records its rejects */
    int keyed;                    /* rows go to the owner of their key */
    int distinct_only;            /* keyed only for distinct counts: other
                                     measures add up at the row stage, and
                                     facts carry what the distinct counts need */
    int dedupe;                   /* distinct_only, and the extract never has
                                     rows withdrawn (no key, no reference):
                                     identical facts collapse at the origin */
    int key_column;               /* partition key column of the extract */
    int grouped;
    /* evaluated per row where the row ends up (batch, or key owner) */
    name_table names;             /* what kato/dims/measures may use */
    expr_program *kato;
    dim_plan dims[REPORT_MAX_DIMS];
    measure_plan *measures;
    size_t nmeasures;
    /* keyed inputs */
    size_t ncarried;
    int *carried;                 /* row_names indexes carried in facts */
    fact_group *group;            /* where its facts are kept (share.c); the
                                     SRC_CARRIED names index the group's columns */
    int member_bit;               /* its bit in the group */
    join_plan *joins;
    size_t njoins, njoin_outputs;
    /* grouped inputs: member expressions (over `names`), entity names */
    expr_program *member_where, *member_key, *member_oldest, *member_tie, *member_value;
    expr_program **member_values;
    name_table entity_names;
    expr_program *entity_where;
} input_plan;

typedef struct report_plan {
    const job *job;
    int requested;                /* archived; otherwise only a dependency */
    int skipped;                  /* an extract it needs failed */
    char skip_reason[640];
    input_plan *inputs;
    size_t ninputs;
    cube cube;
    fact_table rejects;           /* key = extract, line, values: reason */
} report_plan;

typedef struct {
    const schema_set *schemas;
    period per;
    report_plan *reports;
    size_t nreports;
    fact_group **groups;          /* share.c */
    size_t ngroups;
    size_t nmemo;                 /* memo ids given (share.c) */
    int *column_memo;             /* per extract: the memo id of its column 0
                                     widened to int64 (column c: + c) */
    cube_tally **tallies;         /* share.c; sums allocated with the territory */
    size_t ntallies;
} run_plan;

/* Compiles the reports named in ids (all reports in force for the period
 * and of its periodicity when nids == 0) and the reports their ratios
 * refer to. Returns 0, or -1 with "file:line:column: message" or another
 * clear message (unknown report, wrong periodicity, type error …). */
int plan_build(run_plan *p, const schema_set *schemas, const job_set *jobs, const period *per,
               char *const *ids, size_t nids, char *err, size_t errlen);

void plan_free(run_plan *p);

/* Frees a group's entities and empties them (again safe). Cannot fail. */
void group_entities_free(group_entities *en);

/* Index of name in a name table, or -1. Cannot fail. */
int names_find(const name_table *t, const char *name);

#endif
