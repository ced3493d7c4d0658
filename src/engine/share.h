/* share.h — what several inputs of one run compute once. 130 forms are
 * mostly variants of 12 reports (another filter, dimension or level set),
 * so many of their inputs read the same extract by the same key and many
 * of their joins keep the same rows; this module finds them once the plan
 * is built, identically on every rank:
 *   - joins that keep the same rows (extract, key, kind, values, where)
 *     share the first one's facts;
 *   - keyed inputs that read one extract by one key share one fact table
 *     (plan.h fact_group), with a member bit per input when their wheres
 *     differ; grouped inputs (households) share only with inputs whose
 *     whole definition is the same, and then also their member facts.
 * Sharing never changes a result: each member sees exactly the rows it
 * would have kept alone (distinct-only members may see a row twice, which
 * a distinct count ignores). The groups belong to the plan (plan_free). */
#ifndef ESEP_SHARE_H
#define ESEP_SHARE_H

#include "plan.h"

/* Links identical joins (join_plan.same, users) and groups the keyed
 * inputs (run_plan.groups; input_plan.group, member_bit; the SRC_CARRIED
 * names of each member then index its group's columns). 0, or -1 out of
 * memory. */
int share_plan(run_plan *p);

/* The join whose facts join jp uses: itself, or the identical earlier one. */
join_plan *share_canonical_join(join_plan *jp);

#endif
