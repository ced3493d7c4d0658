/* log.c — see log.h. The two settings are process-wide by nature (stderr is
 * process-wide), so they live in one static struct set once by log_setup()
 * from main, never written afterwards. */
#include "log.h"

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

/* Escapes `"` and control characters so a structured line stays one line. */
static void write_escaped(const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', stderr), fputc(*s, stderr);
        else if ((unsigned char)*s < 0x20) fputc(' ', stderr);
        else fputc(*s, stderr);
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
    if (log_config.structured) {
        fprintf(stderr, "esep: level=%s rank=%d time=%s msg=\"", level_name(level),
                log_config.rank, when);
        write_escaped(text);
        fputs("\"\n", stderr);
    } else if (level >= LOG_WARN) {
        fprintf(stderr, "esep: %s %s: %s\n", when, level_name(level), text);
    } else {
        fprintf(stderr, "esep: %s %s\n", when, text);
    }
}
