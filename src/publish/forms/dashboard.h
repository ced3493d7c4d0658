/* dashboard.h — `index.html` of a bundle (outputs.md "What akimat staff
 * open"): an offline, bilingual (Kazakh/Russian) page with the key
 * indicators of the region and of each district (the republic bundle: the
 * republic and each region) and their history from the archive, drawn with
 * Chart.js inlined in the page. No request leaves the page: the data, the
 * script and the styles are inside it, and a Content-Security-Policy
 * (default-src 'none') forbids the browser any fetch.
 *
 * What it shows, per report of the bundle: the values of every measure at
 * the `_T` row of every dimension for the chosen territory in the bundle's
 * period, a line chart of the report's key indicator — its first measure
 * (the headline count of every report in jobs/) — over the history, and
 * that indicator for each district (or region) side by side.
 *
 * History. For the bundle's period P and each earlier period P' of the
 * window — the 13 months up to P for monthly reports, the 7 years up to P
 * (28 quarters, 7 years) for quarterly and yearly ones — the current
 * archived table OUT/archive/<P'>/<ID>.h5 is read when present, disclosure
 * control is applied to the full table (disclosure_apply) and the rows the
 * bundle's region receives are kept; P itself comes from the bundle's own
 * cut. A suppressed value is `x` in the tables and a gap in the charts,
 * never a zero; an empty value (zero denominator) is a gap too; a period
 * without an archived table is a gap. The chart spans the periods from the
 * earliest one present to P.
 *
 * The publisher loads the history once (dashboard_history_load) and every
 * bundle of the run shares it; a bundle published without it loads its own.
 *
 * Chart.js is read from Debian's libjs-chart.js
 * (/usr/share/javascript/chart.js/chart.min.js, or $ESEP_CHARTJS) when the
 * page is built. The same inputs give the same bytes. */
#ifndef ESEP_DASHBOARD_H
#define ESEP_DASHBOARD_H

#include <stddef.h>

#include "xlsx_form.h"

#define DASHBOARD_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"

/* The history every bundle of one publication shares: for each of the n
 * tables' reports, the archived tables of the earlier periods of its
 * window, disclosure control applied, their `_T` rows of levels ≤ 2 kept
 * (all regions). Load it once per publication (it does not depend on the
 * region) and pass it to every dashboard_render. Returns 0 with *out (free
 * with dashboard_history_free), or -1 with a message (an unreadable or
 * inconsistent archived table, out of memory). */
typedef struct dashboard_history dashboard_history;
int dashboard_history_load(const char *out_dir, const report_table *const *tables, size_t n, const char *period,
                           dashboard_history **out, char *err, size_t errlen);

/* Cannot fail; NULL is fine. */
void dashboard_history_free(dashboard_history *h);

/* Renders the dashboard of bundle b (the region's cut tables, whose period
 * is P) with history h into a malloc'd buffer (*out, *size; the caller
 * frees it). Returns 0, or -1 with a message in err (Chart.js missing or
 * not inlinable, out of memory); *out is then NULL. */
int dashboard_render(const form_bundle *b, const dashboard_history *h, char **out, size_t *size, char *err,
                     size_t errlen);

#endif
