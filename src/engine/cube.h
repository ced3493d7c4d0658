/* cube.h — one report's dense cube while it is computed: a cell per
 * (territory object of the report's levels) × (value or `_T` of each
 * dimension), and per accumulated measure an int64 per cell. Owns the cell
 * geometry (which cells a row lands in), the accumulators, the value
 * multisets behind median/min/max, and the turning of a reduced cube into a
 * report_table: rows ordered by kato then dimension values as bytes, ratios
 * and formulas computed from exact integers at the end.
 *
 * The rows of an accumulated measure (count, sum, min, max, median) are
 * first tallied per leaf — a territory place (the objects a row rolls up
 * to, territory.h) × one value of every dimension — so a row adds to one
 * integer instead of up to 64 cells (cube_tally); cube_fold_tally spreads
 * a tally over the levels and `_T` combinations once, before the cube is
 * reduced. Integers add in any order and observations are merged as a
 * multiset, so the cells are the same as if every row had gone to them;
 * forms whose rows and measure are the same (variants that differ in
 * levels) fold one shared tally into their own cells. */
#ifndef ESEP_CUBE_H
#define ESEP_CUBE_H

#include <stddef.h>
#include <stdint.h>

#include "../archive/report_table.h"
#include "../spec/job.h"
#include "territory.h"

#define CUBE_MAX_CELLS_PER_ROW 64 /* 4 levels × 2^4 dimension masks */

typedef struct {
    int32_t cell;
    int32_t measure;
    int64_t value;
    int64_t count;
} cube_value;

typedef struct {
    const job *job;
    size_t nobjects;            /* objects of the report's levels */
    int32_t *object_of;         /* territory object index → report object or -1 */
    int32_t *object_global;     /* report object → territory object index */
    size_t ncombos;             /* Π (values + 1) */
    size_t stride[REPORT_MAX_DIMS];
    size_t ncells;
    int64_t *acc;               /* [nmeasures][ncells]: count, sum, distinct */
    cube_value *values;         /* median/min/max observations */
    size_t nvalues, values_cap;
    /* leaves: places × dimension values (no `_T`) */
    size_t nplaces;             /* the territory's */
    size_t nleaves;             /* Π values */
    size_t leaf_stride[REPORT_MAX_DIMS];
    const int32_t (*place_ancestors)[4]; /* the territory's */
} cube;

/* One measure's rows by leaf (cell = place × nleaves + leaf): sums (counts
 * are sums of ±1), or observations (value, count) for min/max/median. */
typedef struct {
    size_t nleaves;
    int observations;
    int64_t *sum;               /* [nplaces × nleaves], when !observations */
    cube_value *values;         /* when observations; .measure unused */
    size_t nvalues, values_cap;
    int merged;                 /* values sorted and merged */
} cube_tally;

/* Lays out the cube of job over the territory (built for E). 0, or -1 out
 * of memory. */
int cube_init(cube *c, const job *job, const territory *t);

void cube_free(cube *c);

/* The cells of a row located at anc (territory_locate) with dimension value
 * indexes dims (declared order). Writes at most CUBE_MAX_CELLS_PER_ROW cell
 * indexes to out, returns how many. Cannot fail. */
size_t cube_row_cells(const cube *c, const int32_t anc[4], const int *dims, int32_t *out);

/* The leaf of a row's dimension value indexes (declared order), and back.
 * Cannot fail. */
size_t cube_leaf_of(const cube *c, const int *dims);
void cube_leaf_dims(const cube *c, size_t leaf, int *dims);

/* The cells of a row at place (territory_place) and leaf, as
 * cube_row_cells. Cannot fail. */
size_t cube_leaf_cells(const cube *c, int32_t place, size_t leaf, int32_t *out);

/* Allocates t's sums for nplaces places (observations start empty). 0, or
 * -1 out of memory. */
int cube_tally_alloc(cube_tally *t, size_t nplaces);

void cube_tally_free(cube_tally *t);

/* Records an observation (count ±1) at a leaf cell. 0, or -1 out of memory. */
int cube_tally_observe(cube_tally *t, int32_t leaf_cell, int64_t value, int64_t count);

/* Adds tally t to the cells of measure m (the tally's leaves are c's;
 * observations are merged first, once). 0, or -1 out of memory. */
int cube_fold_tally(cube *c, int measure, cube_tally *t);

/* Records one observation of a median/min/max measure (count ±1). 0, or -1
 * out of memory. */
int cube_add_value(cube *c, int32_t cell, int32_t measure, int64_t value, int64_t count);

/* Sorts the observations and merges equal (cell, measure, value) ones,
 * dropping those whose count is zero. Cannot fail. */
void cube_merge_values(cube *c);

/* Another report's cube, for ratios over "REPORT:measure". */
typedef const cube *(*cube_lookup)(void *data, const char *report_id);

/* Fills t (rows, dims, measures; metadata is the caller's) from the reduced
 * cube. Returns 0, or -1 with a message (out of memory, or a ratio over a
 * report that was not computed). */
int cube_to_table(const cube *c, cube_lookup lookup, void *lookup_data, const territory *terr,
                  report_table *t, char *err, size_t errlen);

/* Rounds num/den half away from zero (den ≠ 0). Cannot fail. */
int64_t cube_round_div(int64_t num, int64_t den);

#endif
