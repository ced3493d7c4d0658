/* keyed.h — engine-internal (engine.c): the keyed stages, once every
 * extract is read. An input's facts (its group's, plan.h fact_group,
 * moved once for all members) and its joins' facts go to their key
 * owners; there each member looks up its join outputs (a hash of the join
 * runs, built once per join), evaluates its kato, dimensions and measures
 * over the group's facts with its member bit, counts distinct keys per
 * cell and adds the rest to its tallies (rows.h); a grouped input builds
 * its member facts by group key (once for identical inputs), folded per
 * household on the rank that read them before they move, and one entity
 * per household. */
#ifndef ESEP_KEYED_H
#define ESEP_KEYED_H

#include "engine.h"

/* Collective: ip's group facts (once for the group: compacted when they
 * may be, shuffled, sorted when a member counts distinct keys) and its
 * joins' facts (once per join: shuffled, sorted) at their key owners. 0,
 * or -1 on every rank. */
int keyed_gather(engine *e, input_plan *ip);

/* ip's keyed stage after keyed_gather. Collective for a grouped input
 * (its member facts move); the caller agrees on the result. 0, or -1 out
 * of memory. */
int keyed_run(engine *e, input_plan *ip);

/* After ip's stage: gives back its group's and its joins' facts when ip
 * was their last user. Cannot fail. */
void keyed_release(input_plan *ip);

#endif
