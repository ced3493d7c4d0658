/* stoppoint.h — named points where a test can make esep die as a crash
 * would (SIGKILL, no clean-up), so that crash safety is tested at every
 * phase deterministically: when the environment has ESEP_STOP_AT=<name>
 * (and ESEP_STOP_RANK unset or equal to this rank), the process kills
 * itself there. Names: scan (mid-scan, after the first batch), keyed
 * (before the keyed stages), archive (after the first table is archived),
 * publish (before a period is published), bundle (after the first bundle
 * revision is renamed into place, before the catalog records it), catalog
 * (after the first catalog record). ESEP_PAUSE_AT=<name> instead sleeps
 * ESEP_PAUSE_SECONDS (default 3) there, so that a test can break something
 * else at that moment (stop the catalog's server). Costs two getenv calls
 * at each point. */
#ifndef ESEP_STOPPOINT_H
#define ESEP_STOPPOINT_H

/* Dies by SIGKILL when ESEP_STOP_AT names this point; sleeps when
 * ESEP_PAUSE_AT does. Cannot fail. */
void stop_point(const char *name, int rank);

#endif
