/* territory.h — the territorial units a report is laid out on, from the
 * snapshot's kato extract, as of the period's last day E (extracts.md
 * "KATO codes"). A code counts under itself when valid at E (valid_from ≤ E
 * ≤ valid_to, valid_to being the last valid day), otherwise under the first
 * code valid at E along its successor chain, otherwise — a code not yet
 * valid at E (valid_from after E) — under the one code valid at E that has
 * it on its successor chain (reports.md "Reprocessing history": the
 * predecessor rule); with none, or several, the row is rejected for the
 * report. E may be a later day T for restated tables: the rules are the
 * same. Objects are the republic (000000000) and the kato rows of
 * levels 1–3 valid at E; a row rolls up by code prefix to the region
 * AB0000000, district ABCD00000 and okrug ABCDEF000 that are objects. Owns
 * the classifier rows and the per-code resolution. */
#ifndef ESEP_TERRITORY_H
#define ESEP_TERRITORY_H

#include <stddef.h>
#include <stdint.h>

#include "../archive/report_table.h"

typedef struct {
    int32_t code, level, valid_from, valid_to, successor; /* valid_to, successor: -1 when absent */
    int64_t line;
    char name_kk[REPORT_NAME_CAP], name_ru[REPORT_NAME_CAP]; /* what forms print */
} kato_row;

/* A slot of the code hash: a code and its first row (-1: empty). */
typedef struct {
    int32_t code, row;
} territory_slot;

typedef struct {
    /* classifier, sorted by code */
    kato_row *rows;
    size_t nrows, cap;
    /* objects valid at E: index 0 is the republic; sorted by code */
    int32_t *object_code;
    int8_t *object_level;
    size_t nobjects;
    /* per classifier row: its objects at levels 0..3 (-1 none), or all -1
     * with resolved = -1 when it has no code valid at E */
    int32_t (*ancestors)[4];
    int32_t *resolved;
    /* places: the distinct ancestor tuples of the rows that count at E, in
     * ascending order of the tuple; a report tallies a row by its place
     * (cube.h) and spreads the tallies over the levels once, at the end */
    int32_t *place;               /* per classifier row: its place, or -1 */
    int32_t (*place_ancestors)[4];
    size_t nplaces;
    /* codes → first row of that code, open addressing (built with the
     * objects; a row of the batch is located without a binary search);
     * each slot holds its code too, so a probe reads one slot and not the
     * row, whose names make it a few hundred bytes away */
    territory_slot *slot;
    size_t slot_mask;
    int32_t end;
} territory;

/* Adds (sign +1) or withdraws (sign -1, by line) a classifier row while
 * the kato extract is read. 0, or -1 out of memory. */
int territory_add_row(territory *t, const kato_row *row, int sign);

/* Builds objects and resolutions for day E. 0, or -1 out of memory. */
int territory_build(territory *t, int32_t end);

/* For a code of the classifier: sets anc[0..3] to object indexes (or -1)
 * and returns 0; returns -1 when the code has no successor valid at E (or
 * is unknown). Cannot fail otherwise. */
int territory_locate(const territory *t, int32_t code, int32_t anc[4]);

/* The place of a code (codes with the same objects at levels 0..3 share
 * one; t->place_ancestors[place] are those objects), or -1 exactly when
 * territory_locate fails. Cannot fail otherwise. */
int32_t territory_place(const territory *t, int32_t code);

/* The classifier row of code, or NULL when the code is not in it (after
 * territory_build). Cannot fail. */
const kato_row *territory_row(const territory *t, int32_t code);

void territory_free(territory *t);

#endif
