/* calendar.h — what is due when (outputs.md "Nightly operations",
 * reports.md "Reprocessing history"). Owns the snapshot root's listing,
 * the rule that picks a period's snapshot (the earliest dated after E),
 * the refusals of periods a snapshot cannot describe, and the item list of
 * a night: every (report, period) from the periods that ended last before
 * OUT's first night to the last period ended before the night, with its
 * deadline (E + deadline days), its snapshot, its state from the ledger,
 * and whether it is late (not published and the night is past its
 * deadline day). */
#ifndef ESEP_CALENDAR_H
#define ESEP_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/period.h"
#include "../spec/job.h"
#include "../spec/schema.h"
#include "ledger.h"

typedef struct {
    int32_t date;              /* day number */
    char name[9];              /* YYYYMMDD */
} snapshot_day;

typedef struct {
    char root[4096];
    snapshot_day *days;        /* ascending */
    size_t count;
} snapshot_root;

/* Lists the YYYYMMDD directories (real dates) of root. Other entries are
 * ignored. Returns 0 (possibly with none), or -1 with a message when root
 * cannot be read. Free with snapshot_root_free. */
int snapshot_root_scan(const char *root, snapshot_root *out, char *err, size_t errlen);

void snapshot_root_free(snapshot_root *r);

/* Index of the earliest snapshot dated after `after` and not after
 * `not_after`, or -1. Cannot fail. */
int snapshot_root_first_after(const snapshot_root *r, int32_t after, int32_t not_after);

/* Whether a snapshot dated `snapshot` can describe period p of report j:
 * 0 when it can; 1 when not, with the reason in why ("the period is not
 * over in snapshot 20250415 (E = 2025-04-30)", "social_payments of
 * snapshot 20250415 holds 2024-01 onwards; 2023-06 is before it").
 * Cannot fail. */
int calendar_refusal(const schema_set *schemas, const job *j, const period *p, int32_t snapshot, char *why,
                     size_t whylen);

typedef enum { ITEM_WAITING, ITEM_DUE, ITEM_RUNNING, ITEM_DONE, ITEM_FAILED, ITEM_REFUSED } item_state;

typedef struct {
    const job *job;            /* the version in force at E */
    period per;
    int32_t deadline;          /* last day to publish */
    int snapshot;              /* index into the root, -1 none yet */
    item_state state;
    int late;
    int in_ledger;
    ledger_item ledger;        /* when in_ledger */
    char why[256];             /* ITEM_REFUSED: the reason */
} calendar_item;

typedef struct {
    calendar_item *items;      /* by E, then report id */
    size_t count;
    int32_t night, first_night;
} calendar;

/* The items of night (day number) for OUT whose first night is
 * first_night, states read from the ledger on c. Returns 0, or -1 with a
 * message. Free with calendar_free. */
int calendar_build(const job_set *jobs, const schema_set *schemas, const snapshot_root *root, int32_t night,
                   int32_t first_night, catalog *c, calendar *out, char *err, size_t errlen);

void calendar_free(calendar *cal);

/* "waiting", "due", "running", "done", "failed", "refused". Cannot fail. */
const char *calendar_state_name(item_state s);

/* True when the nightly should compute the item tonight: due or failed
 * (retried), with a snapshot. Cannot fail. */
int calendar_item_wanted(const calendar_item *it);

#endif
