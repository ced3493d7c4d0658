/* log.c — see log.h. The two settings are process-wide by nature (stderr is
 * process-wide), so they live in one static struct set once by log_setup()
 * from main, never written afterwards. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
    int rank;
    int structured;
} log_config = {0, 0};

void log_setup(int rank, int structured) {
    log_config.rank = rank;
    log_config.structured = structured;
}

int log_is_terminal(void) { return isatty(STDERR_FILENO); }

static const char *level_name(log_level level) {
    switch (level) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO: return "info";
    case LOG_WARN: return "warn";
    default: return "error";
    }
}

/* Appends `s` to line[*len..cap) with `"` and `\\` escaped and control
 * characters turned to spaces, so a structured line stays one line; stops
 * (truncating) when the line is full. */
static void append_escaped(char *line, size_t cap, size_t *len, const char *s) {
    for (; *s && *len + 2 < cap; s++) {
        if (*s == '"' || *s == '\\') line[(*len)++] = '\\', line[(*len)++] = *s;
        else line[(*len)++] = (unsigned char)*s < 0x20 ? ' ' : *s;
    }
}

/* One write(2) for the whole line: stderr is unbuffered, and several ranks
 * (and mpirun's forwarding, which splits at write boundaries) share the
 * same log file, so a line written piecemeal arrives cut up by others. */
static void write_line(const char *line, size_t len) {
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, line, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; /* nowhere left to report a logging failure */
        line += n, len -= (size_t)n;
    }
}

void log_timestamp(char out[LOG_TIMESTAMP_LEN]) {
    struct timespec now;
    struct tm tm;
    if (clock_gettime(CLOCK_REALTIME, &now) || !gmtime_r(&now.tv_sec, &tm)) {
        snprintf(out, LOG_TIMESTAMP_LEN, "1970-01-01T00:00:00.000Z");
        return;
    }
    size_t n = strftime(out, LOG_TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, LOG_TIMESTAMP_LEN - n, ".%03ldZ", now.tv_nsec / 1000000L);
}

void log_msg(log_level level, const char *fmt, ...) {
    char text[2048], when[LOG_TIMESTAMP_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_timestamp(when);
    char line[sizeof text * 2 + 128];
    size_t len;
    if (log_config.structured) {
        int n = snprintf(line, sizeof line, "esep: level=%s rank=%d time=%s msg=\"",
                         level_name(level), log_config.rank, when);
        len = (size_t)n;
        append_escaped(line, sizeof line - 2, &len, text);
        line[len++] = '"';
        line[len++] = '\n';
    } else {
        int n = level >= LOG_WARN
                    ? snprintf(line, sizeof line, "esep: %s %s: %s\n", when, level_name(level), text)
                    : snprintf(line, sizeof line, "esep: %s %s\n", when, text);
        len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    }
    fflush(stderr); /* anything stdio still holds for stderr goes first */
    write_line(line, len);
}
