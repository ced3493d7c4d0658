/* stoppoint.h — named points where a test can make esep die as a crash
 * would (SIGKILL, no clean-up), so that crash safety is tested at every
 * phase deterministically: when the environment has ESEP_STOP_AT=<name>
 * (and ESEP_STOP_RANK unset or equal to this rank), the process kills
 * itself there. Names: scan (mid-scan, after the first batch), keyed
 * (before the keyed stages), archive (after the first rename of a
 * period's tables and rejects files, before their directories are
 * synced), publish (before a period is published), bundle (after a rank's
 * first bundle
 * revision is renamed into place, before the catalog records it), catalog
 * (after the first catalog record). ESEP_PAUSE_AT=<name> instead sleeps
 * ESEP_PAUSE_SECONDS (default 3) there, so that a test can break something
 * else at that moment (stop the catalog's server). Costs two getenv calls
 * at each point.
 *
 * Fail points are the gentler kind: ESEP_FAIL_AT=<name> (and
 * ESEP_FAIL_RANK unset or equal to this rank) makes fail_point say yes
 * there, and the caller then behaves as if an allocation had failed on
 * this rank. The names are those of the agreed collectives
 * (dist/agree.h): a test shows that one rank failing there makes every
 * rank fail together with a clear error, none left waiting. Two more are
 * local: relay (a receiving rank fails mid-relay) and xlsx-memory (the
 * forms cannot be built in memory, so the on-disk way is taken). */
#ifndef ESEP_STOPPOINT_H
#define ESEP_STOPPOINT_H

/* Dies by SIGKILL when ESEP_STOP_AT names this point; sleeps when
 * ESEP_PAUSE_AT does. Cannot fail. */
void stop_point(const char *name, int rank);

/* 1 when ESEP_FAIL_AT names this point (and ESEP_FAIL_RANK is unset or
 * this rank), after saying so on stderr; else 0. Cannot fail. */
int fail_point(const char *name, int rank);

#endif
