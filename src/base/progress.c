/* progress.c — see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

double progress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(progress *p, const char *label, int draw) {
    memset(p, 0, sizeof *p);
    p->enabled = draw && log_is_terminal();
    p->started = p->last_draw = progress_now();
    snprintf(p->label, sizeof p->label, "%s", label);
}

void progress_update(progress *p, double fraction, int64_t rows) {
    if (!p->enabled) return;
    double now = progress_now();
    if (now - p->last_draw < 0.25) return;
    p->last_draw = now;
    fprintf(stderr, "\r  %-18s %5.1f%%  %12lld rows  %6.1fs", p->label, 100.0 * fraction,
            (long long)rows, now - p->started);
    fflush(stderr);
}

void progress_finish(progress *p) {
    if (p->enabled) fprintf(stderr, "\r%70s\r", "");
}
