/* log.h — diagnostics for operators: one place that decides how messages
 * look. On a terminal they are short human lines; otherwise (cron, Slurm)
 * each line is `esep: level=… msg="…"` so that log collectors can parse
 * them. Only MPI rank 0 talks unless a message is rank-specific. */
#ifndef ESEP_LOG_H
#define ESEP_LOG_H

#include <stdarg.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Sets the rank that prefixes rank-specific messages and whether output is
 * structured. Called once from main before anything logs; cannot fail. */
void log_setup(int rank, int structured);

/* Writes one message at `level` to stderr. Cannot fail (write errors on
 * stderr have nowhere to go). */
void log_msg(log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define LOG_TIMESTAMP_LEN 25 /* "2026-12-01T23:10:00.123Z" and NUL */

/* The current UTC time as ISO 8601 with milliseconds, the form every log
 * line carries. Cannot fail (an unreadable clock gives the epoch). */
void log_timestamp(char out[LOG_TIMESTAMP_LEN]);

/* True when stderr is a terminal: progress lines are only drawn there. */
int log_is_terminal(void);

#endif
