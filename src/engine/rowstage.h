/* rowstage.h — engine-internal (engine.c): one batch into every input and
 * join that reads it. Each distinct expression of the batch is evaluated
 * once and shared through the memo (memo.h; a where that is an `and`
 * chain by its operands, narrow columns widened once); an input then adds
 * its rows to its tallies (rows.h) or only records its rejects when an
 * identical input added them, and a keyed input's group (plan.h
 * fact_group) keeps the rows its members' wheres select as facts once the
 * last member has evaluated the batch. Rows withdrawn afterwards come
 * through the same path with sign −1. */
#ifndef ESEP_ROWSTAGE_H
#define ESEP_ROWSTAGE_H

#include <stdint.h>

#include "engine.h"
#include "rows.h"

/* Batch b (sign +1 read, −1 withdrawn) into input ip of e's plan; inputs
 * are fed in plan order, every one of an extract for each of its batches,
 * with the memo started for the batch. 0, or -1 out of memory. */
int rowstage_input(engine *e, input_plan *ip, const row_batch *b, int64_t sign);

/* Batch b into the facts of a canonical join (share.h): its rows that pass
 * the join's where, with a key. 0, or -1 out of memory. */
int rowstage_join(join_plan *jp, const row_batch *b, int64_t sign, scratch *s);

#endif
