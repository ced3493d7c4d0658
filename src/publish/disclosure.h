/* disclosure.h — disclosure control of a report table before it goes into a
 * published bundle (reports.md "Disclosure control"): small person and
 * household counts become MEASURE_SUPPRESSED (`x`), and so does whatever
 * would let a reader recover them by subtraction or from a derived value.
 * The archive keeps exact values; only bundles carry the suppressed copy.
 * This module owns the rules and their verification; it allocates only
 * scratch memory for the duration of a call.
 *
 * Groups. A group is a set of member cells of one measure with a total
 * cell (the "published total" of reports.md); it is considered only while
 * its total is not suppressed. There are two kinds, for the rows of one
 * table:
 *   territory  the children of a territory object with the same dimension
 *              values; the total is the object's row. The parent of a row
 *              at level L is the nearest object present in the table among
 *              its code-prefix ancestors at levels L-1, …, 0 (district
 *              ABCD00000, region AB0000000, republic) — the objects the
 *              engine rolls the row up into. So an okrug whose district is
 *              not an object (closed district) is a child of its region,
 *              beside the districts, because the region's figure includes
 *              it; a row with no ancestor in the table (e.g. the region of
 *              a regional bundle cut) is in no territory group.
 *   dimension  the values of one dimension d (all but `_T`) at the same
 *              territory object with every other dimension fixed — `_T`
 *              included, so the `_T` row of another dimension has its own
 *              group; the total is the row whose d is `_T`.
 * A group with no member (a district without okrugs) does not exist.
 * Groups are not required to add up: distinct counts and rows located only
 * at a higher level make members differ from the total; the rules apply to
 * the groups as written ("distinct counts are not additive; the rule still
 * applies to them").
 *
 * disclosure_apply, in this order, measure by measure:
 *   primary    every cell of a person_count measure holding 1 or 2 is
 *              suppressed; 0 is published.
 *   secondary  for each person_count measure, passes over all groups until
 *              a pass changes nothing. A pass visits the groups in CSV
 *              order of their total row and, at one total, the territory
 *              group first, then the dimension groups in dimension order;
 *              each group is judged on the cells as they are at that moment
 *              (a suppression is visible to the next group at once). A group
 *              whose total is published and which has exactly one suppressed
 *              member gets one more: its published member with the smallest
 *              non-zero value (ties: first in CSV order); if all other
 *              members are zero, the first of them in CSV order (every zero
 *              is "the smallest"); if it has no other member, its total.
 *   follows    a measure with `follows` is suppressed in every row where
 *              any of its sources is suppressed (by primary, secondary or
 *              follows: the relation is applied until nothing changes),
 *              whatever its own value, 0 and empty included. A measure that
 *              is both a person_count and follows another is first
 *              suppressed on its own and then follows.
 * No second secondary round is needed after follows: in every group, a
 * measure's cells are then the union of its own pattern and its sources'
 * patterns, each with 0 or ≥ 2 suppressed members or a suppressed total,
 * and such a union is again safe; disclosure_check verifies it anyway.
 * A measure that is neither a person_count nor follows anything (APL-01,
 * EDU-02 schools, capacity, three_shift) is never touched.
 *
 * Cells already MEASURE_SUPPRESSED count as suppressed, so applying twice
 * gives the same table. The result depends only on the table. */
#ifndef ESEP_DISCLOSURE_H
#define ESEP_DISCLOSURE_H

#include <stddef.h>

#include "../archive/report_table.h"

/* Applies primary suppression, secondary suppression until stable and the
 * follows relation to t, in place (see above). Returns 0, or -1 with a
 * message in err when out of memory or when t is inconsistent: rows not
 * strictly in CSV order (kato, then dimension values) or duplicated, a
 * level outside 0..3, a dimension index outside its list, a dimension
 * without `_T`, a follows index out of range, or a person_count cell that
 * is empty or negative; t is then unchanged. t's measure values are the
 * only thing written. */
int disclosure_apply(report_table *t, char *err, size_t errlen);

/* Verifies the properties every published table must have:
 *   - no cell of a person_count measure holds 1 or 2;
 *   - every measure is suppressed in each row where one of its follows
 *     sources is;
 *   - for every measure (person counts are the ones that matter; the others
 *     hold it by construction) and every group whose total is published,
 *     the group does not have exactly one suppressed member.
 * Returns 0, or -1 with a message in err naming the report, period,
 * measure and cells (and the group), or the inconsistency or memory
 * shortage that prevented the check (same conditions as disclosure_apply
 * except the person_count value checks). Does not modify t. */
int disclosure_check(const report_table *t, char *err, size_t errlen);

#endif
