/* metrics.c — see metrics.h. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/date.h"
#include "../base/fsutil.h"

/* A label value with \ " and newline escaped. */
static void put_label(FILE *f, const char *v) {
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') fputc('\\', f), fputc(*v, f);
        else if (*v == '\n') fputs("\\n", f);
        else fputc(*v, f);
    }
}

static double unix_of(const char *stamp) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!stamp || !*stamp || !strptime(stamp, "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
    return (double)timegm(&tm);
}

typedef struct {
    char last_ok[24], last_any[24];
} command_times;

static int newest_times(const ledger_command *cmd, void *data) {
    command_times *t = data;
    if (!cmd->finished_at[0]) return 0;
    if (!t->last_any[0]) snprintf(t->last_any, sizeof t->last_any, "%s", cmd->finished_at);
    if (!t->last_ok[0] && !strcmp(cmd->status, "ok")) snprintf(t->last_ok, sizeof t->last_ok, "%s", cmd->finished_at);
    return 0;
}

static void write_items(FILE *f, const calendar *cal) {
    int count[ITEM_REFUSED + 1] = {0};
    for (size_t i = 0; cal && i < cal->count; i++) count[cal->items[i].state]++;
    fputs("# HELP esep_items Items (report, period) of the night by state.\n# TYPE esep_items gauge\n", f);
    for (int s = 0; s <= ITEM_REFUSED; s++)
        fprintf(f, "esep_items{state=\"%s\"} %d\n", calendar_state_name((item_state)s), count[s]);
    fputs("# HELP esep_item_late 1 for each item past its deadline and not published.\n"
          "# TYPE esep_item_late gauge\n", f);
    for (size_t i = 0; cal && i < cal->count; i++) {
        const calendar_item *it = &cal->items[i];
        if (!it->late) continue;
        char deadline[11];
        date_format(it->deadline, deadline);
        fputs("esep_item_late{report=\"", f);
        put_label(f, it->job->id);
        fputs("\",period=\"", f);
        put_label(f, it->per.text);
        fprintf(f, "\",deadline=\"%s\"} 1\n", deadline);
    }
}

static void write_run(FILE *f, const metrics_run *run) {
    fputs("# HELP esep_phase_seconds Time per phase of the last run.\n# TYPE esep_phase_seconds gauge\n", f);
    fprintf(f, "esep_phase_seconds{phase=\"scan\"} %.3f\nesep_phase_seconds{phase=\"keyed\"} %.3f\n", run->scan,
            run->keyed);
    fprintf(f, "esep_phase_seconds{phase=\"archive\"} %.3f\nesep_phase_seconds{phase=\"publish\"} %.3f\n",
            run->archive, run->publish);
    fputs("# HELP esep_last_run_failed_items Items the last run could not finish.\n"
          "# TYPE esep_last_run_failed_items gauge\n", f);
    fprintf(f, "esep_last_run_failed_items %d\n", run->failed_items);
    if (!run->schemas || !run->rejected) return;
    fputs("# HELP esep_rows_rejected Rows rejected by ingest in the last snapshot read.\n"
          "# TYPE esep_rows_rejected gauge\n", f);
    for (size_t i = 0; i < run->schemas->count; i++) {
        fputs("esep_rows_rejected{extract=\"", f);
        put_label(f, run->schemas->extracts[i].name);
        fprintf(f, "\"} %lld\n", run->rejected[i]);
    }
}

int metrics_write(const char *out_dir, const calendar *cal, catalog *c, const metrics_run *run, char *err,
                  size_t errlen) {
    char dir[4200], path[4300], *data = NULL;
    size_t size = 0;
    command_times t = {"", ""};
    if (ledger_commands_list(c, 50, newest_times, &t, err, errlen)) return -1;
    FILE *f = open_memstream(&data, &size);
    if (!f) return snprintf(err, errlen, "out of memory"), -1;
    write_items(f, cal);
    fputs("# HELP esep_last_success_timestamp_seconds End of the last command with every item done.\n"
          "# TYPE esep_last_success_timestamp_seconds gauge\n", f);
    fprintf(f, "esep_last_success_timestamp_seconds %.0f\n", unix_of(t.last_ok));
    fputs("# HELP esep_last_run_timestamp_seconds End of the last command.\n"
          "# TYPE esep_last_run_timestamp_seconds gauge\n", f);
    fprintf(f, "esep_last_run_timestamp_seconds %.0f\n", unix_of(t.last_any));
    write_run(f, run);
    if (fclose(f) != 0) return free(data), snprintf(err, errlen, "out of memory"), -1;
    snprintf(dir, sizeof dir, "%s/metrics", out_dir);
    snprintf(path, sizeof path, "%s/esep.prom", dir);
    int rc = fs_mkdirs(dir, err, errlen) || fs_write_atomic(path, data, size, 0644, err, errlen) ? -1 : 0;
    free(data);
    return rc;
}
