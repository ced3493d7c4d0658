/* stoppoint.c — see stoppoint.h. */
#include "stoppoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void stop_point(const char *name, int rank) {
    const char *at = getenv("ESEP_STOP_AT"), *only = getenv("ESEP_STOP_RANK"), *pause = getenv("ESEP_PAUSE_AT");
    if (pause && !strcmp(pause, name) && rank == 0) {
        const char *secs = getenv("ESEP_PAUSE_SECONDS");
        fprintf(stderr, "esep: ESEP_PAUSE_AT=%s: pausing\n", name);
        sleep(secs ? (unsigned)atoi(secs) : 3u);
        return;
    }
    if (!at || strcmp(at, name)) return;
    if (only && *only && atoi(only) != rank) return;
    fprintf(stderr, "esep: ESEP_STOP_AT=%s: rank %d stops here (SIGKILL)\n", name, rank);
    fflush(stderr);
    kill(getpid(), SIGKILL);
}

int fail_point(const char *name, int rank) {
    const char *at = getenv("ESEP_FAIL_AT"), *only = getenv("ESEP_FAIL_RANK");
    if (!at || strcmp(at, name)) return 0;
    if (only && *only && atoi(only) != rank) return 0;
    log_msg(LOG_WARN, "ESEP_FAIL_AT=%s: rank %d fails here, as if out of memory", name, rank);
    return 1;
}
