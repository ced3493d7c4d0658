/* cube.h — one report's dense cube while it is computed: a cell per
 * (territory object of the report's levels) × (value or `_T` of each
 * dimension), and per accumulated measure an int64 per cell. Owns the cell
 * geometry (which cells a row lands in), the accumulators, the value
 * multisets behind median/min/max, and the turning of a reduced cube into a
 * report_table: rows ordered by kato then dimension values as bytes, ratios
 * and formulas computed from exact integers at the end. */
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
} cube;

/* Lays out the cube of job over the territory (built for E). 0, or -1 out
 * of memory. */
int cube_init(cube *c, const job *job, const territory *t);

void cube_free(cube *c);

/* The cells of a row located at anc (territory_locate) with dimension value
 * indexes dims (declared order). Writes at most CUBE_MAX_CELLS_PER_ROW cell
 * indexes to out, returns how many. Cannot fail. */
size_t cube_row_cells(const cube *c, const int32_t anc[4], const int *dims, int32_t *out);

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
