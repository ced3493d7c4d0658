/* progress.h — a progress line for long work, drawn only on a terminal and
 * at most a few times a second, so that it costs nothing in batch runs. */
#ifndef ESEP_PROGRESS_H
#define ESEP_PROGRESS_H

#include <stdint.h>

typedef struct {
    int enabled;
    double last_draw;
    double started;
    char label[64];
} progress;

/* Monotonic seconds. Cannot fail. */
double progress_now(void);

/* Starts a progress line labelled label; enabled only when draw is true
 * and stderr is a terminal. Cannot fail. */
void progress_start(progress *p, const char *label, int draw);

/* Redraws (throttled) with a fraction 0..1 and a row count. */
void progress_update(progress *p, double fraction, int64_t rows);

/* Clears the line. Cannot fail. */
void progress_finish(progress *p);

#endif
