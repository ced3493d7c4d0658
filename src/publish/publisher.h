/* publisher.h — turns the computed reports of a run into published
 * bundles: applies disclosure control once to each full table (so every
 * bundle carries the same suppression pattern for the same cell), then
 * writes one bundle per region present in the reports and the republic
 * bundle "00", signed with the run's key, each as a new revision. Owns the
 * signing key's life (load, or create on first use under OUT/keys) and the
 * public key under OUT/publish/esep.pub. */
#ifndef ESEP_PUBLISHER_H
#define ESEP_PUBLISHER_H

#include <stddef.h>

#include "../archive/report_table.h"

typedef struct {
    const char *out_dir;
    const char *key_path;        /* NULL: OUT/keys/esep.key, created if absent */
    const char *period;
    const char *snapshot_date;
    const char *tool_version;
    const char *catalog_spec;    /* NULL: OUT/catalog.sqlite */
    int ranks;
} publish_args;

/* Applies disclosure control to tables (in place) and publishes every
 * bundle. Prints one line per bundle on stdout. Returns the number of
 * bundles published, or -1 with a message (nothing is half-published: a
 * failed bundle leaves no revision file). */
int publish_reports(const publish_args *a, report_table *const *tables, size_t ntables, char *err, size_t errlen);

#endif
