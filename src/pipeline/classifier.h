/* classifier.h — the territory classifier of another snapshot, for restated
 * tables (reports.md "Reprocessing history": objects are the codes valid at
 * T in the newest snapshot's kato.csv, the classifier that knows the most
 * history). Reads that snapshot's kato extract alone — its schema parsed
 * from schemas/kato.yaml, its rows validated like any extract's, rejected
 * rows counted and dropped — on every rank (the classifier is replicated).
 * Owns nothing after it returns but the territory it filled. */
#ifndef ESEP_CLASSIFIER_H
#define ESEP_CLASSIFIER_H

#include <mpi.h>
#include <stddef.h>

#include "../engine/territory.h"

/* Collective. Fills out (zeroed by the caller) with the accepted kato rows
 * of snapshot_dir; its rejected rows are listed under a temporary folder
 * of out_dir that is removed afterwards (they are that snapshot's own
 * rejects, which its own runs report). Returns 0, or -1 with a message
 * (the schema or the extract unreadable, the extract failed whole, out of
 * memory) agreed by all ranks; out is then freed. */
int classifier_load(MPI_Comm comm, int rank, int nranks, const char *schemas_dir, const char *snapshot_dir,
                    const char *out_dir, territory *out, char *err, size_t errlen);

#endif
