/* metrics.h — the Prometheus text-format file that node_exporter's
 * textfile collector reads (OUT/metrics/esep.prom), written atomically
 * (temporary file, fsync, rename) after every run:
 *   esep_items{state}                       items of the night by state
 *   esep_item_late{report,period,deadline}  1 per late item
 *   esep_last_success_timestamp_seconds     end of the last command that
 *                                           finished with every item done
 *   esep_last_run_timestamp_seconds, esep_last_run_failed_items
 *   esep_phase_seconds{phase}               scan, keyed, archive, publish
 *                                           of the last run (summed over
 *                                           its snapshots)
 *   esep_rows_rejected{extract}             rows rejected by ingest in the
 *                                           last snapshot read
 * Labels are escaped as the format requires. */
#ifndef ESEP_METRICS_H
#define ESEP_METRICS_H

#include <stddef.h>

#include "../spec/schema.h"
#include "calendar.h"

typedef struct {
    double scan, keyed, archive, publish;
    int failed_items;
    long long rows_read;            /* rows of every extract read */
    const schema_set *schemas;      /* NULL: no rejected rows known */
    const long long *rejected;      /* per extract, schema order */
} metrics_run;

/* Writes OUT/metrics/esep.prom from the calendar of the night (states,
 * late items), the ledger (last success) and the run's figures. Returns 0,
 * or -1 with a message (the previous file stays whole). */
int metrics_write(const char *out_dir, const calendar *cal, catalog *c, const metrics_run *run, char *err,
                  size_t errlen);

#endif
