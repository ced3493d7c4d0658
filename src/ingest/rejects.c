/* rejects.c — see rejects.h. The cap: each rank writes at most
 * REJECTS_MAX_ROWS rows (its first ones, in line order) and the join stops
 * after REJECTS_MAX_ROWS rows in all, so the file holds the first rows of
 * the whole extract whatever the rank count. The join merges the parts by
 * line: a rank's rows are in line order, but a relayed frame's shares
 * interleave. */
#include "rejects.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../base/utf8.h"

struct reject_writer {
    FILE *f;
    char path[4096];
    int failed;
    int64_t rows;   /* rows offered; only the first REJECTS_MAX_ROWS are written */
};

static void part_path(char *out, size_t n, const char *dir, const char *extract, int rank) {
    snprintf(out, n, "%s/.%s.part%d", dir, extract, rank);
}

reject_writer *reject_writer_open(const char *dir, const char *extract, int rank,
                                  char *err, size_t errlen) {
    reject_writer *w = calloc(1, sizeof *w);
    if (!w) return snprintf(err, errlen, "out of memory"), NULL;
    part_path(w->path, sizeof w->path, dir, extract, rank);
    /* The other ranks find a part by its name, so it is fixed; what a
     * crashed run (or anyone) left under it is removed first — unlink never
     * follows a link — and the part is created afresh, never through a
     * planted link. */
    unlink(w->path);
    int fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
        if (fd >= 0) close(fd);
        snprintf(err, errlen, "%s: cannot create: %m", w->path);
        free(w);
        return NULL;
    }
    return w;
}

/* Writes a quoted CSV field; invalid UTF-8 bytes become \xNN. */
static void write_quoted(FILE *f, const char *s, size_t len) {
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        size_t bad = i + utf8_find_invalid(s + i, len - i);
        for (; i < bad; i++) {
            if (s[i] == '"') fputc('"', f);
            fputc(s[i], f);
        }
        if (i < len) fprintf(f, "\\x%02X", (unsigned char)s[i++]);
    }
    fputc('"', f);
}

int reject_writer_add(reject_writer *w, int64_t line, const char *column,
                      reject_reason reason, const char *detail,
                      const char *raw, size_t raw_len) {
    if (w->rows++ >= REJECTS_MAX_ROWS) return w->failed ? -1 : 0; /* counted by the caller's summary */
    fprintf(w->f, "%lld,%s,%s,", (long long)line, column, reject_reason_name(reason));
    write_quoted(w->f, detail, strlen(detail));
    fputc(',', w->f);
    write_quoted(w->f, raw, raw_len);
    if (fputc('\n', w->f) == EOF) w->failed = 1;
    return w->failed ? -1 : 0;
}

int reject_writer_close(reject_writer *w, char *err, size_t errlen) {
    int failed = w->failed || ferror(w->f);
    failed |= fclose(w->f) != 0;
    if (failed) snprintf(err, errlen, "%s: cannot write rejects", w->path);
    free(w);
    return failed ? -1 : 0;
}

/* One part being merged: its next row (a row ends at a newline outside
 * quotes) and that row's line, the number it starts with. */
typedef struct {
    FILE *in;
    char *row;
    size_t len, cap;
    int64_t line;             /* INT64_MAX once the part is exhausted */
} part_reader;

/* Reads the part's next row. 0, or -1 (read error, out of memory). */
static int part_next_row(part_reader *p) {
    int quoted = 0, c;
    p->len = 0;
    p->line = INT64_MAX;
    while ((c = getc(p->in)) != EOF) {
        if (p->len + 1 >= p->cap) {
            size_t cap = p->cap ? 2 * p->cap : 4096;
            char *grown = realloc(p->row, cap);
            if (!grown) return -1;
            p->row = grown, p->cap = cap;
        }
        p->row[p->len++] = (char)c;
        if (c == '"') quoted = !quoted;
        else if (c == '\n' && !quoted) break;
    }
    if (ferror(p->in)) return -1;
    if (p->len == 0) return 0;
    p->row[p->len] = '\0';
    p->line = strtoll(p->row, NULL, 10);
    return 0;
}

/* Writes the parts' rows to out in line order, until *left rows: each part
 * is in line order already, and the shares of a relayed frame interleave
 * (relay.h), so the join merges rather than appends. 0, or -1. */
static int merge_parts(FILE *out, const char *dir, const char *extract, int nparts, int64_t *left,
                       char *err, size_t errlen) {
    part_reader *p = calloc((size_t)nparts, sizeof *p);
    if (!p) return snprintf(err, errlen, "out of memory"), -1;
    char path[4096];
    int failed = 0;
    for (int r = 0; !failed && r < nparts; r++) {
        part_path(path, sizeof path, dir, extract, r);
        const char *why = !(p[r].in = fopen(path, "rb")) ? "cannot open" : part_next_row(&p[r]) ? "cannot read rejects" : NULL;
        if (why) failed = 1, snprintf(err, errlen, "%s: %s: %m", path, why);
    }
    while (!failed && *left > 0) {
        int best = -1;
        for (int r = 0; r < nparts; r++)
            if (p[r].line != INT64_MAX && (best < 0 || p[r].line < p[best].line)) best = r;
        if (best < 0) break;
        if (fwrite(p[best].row, 1, p[best].len, out) != p[best].len) failed = 1;
        else if (part_next_row(&p[best])) failed = 1;
        if (failed) snprintf(err, errlen, "%s: cannot copy rejects: %m", extract);
        (*left)--;
    }
    for (int r = 0; r < nparts; r++) {
        if (p[r].in) fclose(p[r].in);
        free(p[r].row);
    }
    free(p);
    return failed ? -1 : 0;
}

int rejects_join_parts(const char *dir, const char *extract, int nranks,
                       char *err, size_t errlen) {
    char final_path[4096], tmp_path[4400], part[4096];
    snprintf(final_path, sizeof final_path, "%s/%s.csv", dir, extract);
    FILE *out = fs_temp_open(final_path, 0644, tmp_path, sizeof tmp_path, err, errlen);
    if (!out) return -1;
    int64_t left = REJECTS_MAX_ROWS;
    int failed = fputs("line,column,reason,detail,raw\n", out) == EOF;
    if (!failed) failed = merge_parts(out, dir, extract, nranks, &left, err, errlen) != 0;
    if (failed) {
        fclose(out);
        unlink(tmp_path);
        return -1;
    }
    if (fs_commit_file(out, tmp_path, final_path, err, errlen)) return -1;
    for (int r = 0; r < nranks; r++) {
        part_path(part, sizeof part, dir, extract, r);
        unlink(part);
    }
    return 0;
}

void rejects_remove(const char *dir, const char *extract, int nranks) {
    char path[4096];
    for (int r = 0; r < nranks; r++) {
        part_path(path, sizeof path, dir, extract, r);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/%s.csv", dir, extract);
    unlink(path);
}
