/* calendar.c — see calendar.h. */
#include "calendar.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/date.h"

static int compare_days(const void *a, const void *b) {
    int32_t x = ((const snapshot_day *)a)->date, y = ((const snapshot_day *)b)->date;
    return (x > y) - (x < y);
}

int snapshot_root_scan(const char *root, snapshot_root *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    snprintf(out->root, sizeof out->root, "%s", root);
    DIR *d = opendir(root);
    if (!d) return snprintf(err, errlen, "%s: cannot read the snapshot root: %s", root, strerror(errno)), -1;
    size_t cap = 0;
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        int32_t date;
        char path[4200];
        struct stat st;
        if (strlen(de->d_name) != 8 || date_parse_compact(de->d_name, 8, &date)) continue;
        snprintf(path, sizeof path, "%s/%s", root, de->d_name);
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (out->count == cap) {
            cap = cap ? 2 * cap : 16;
            snapshot_day *grown = realloc(out->days, cap * sizeof *grown);
            if (!grown) {
                rc = -1;
                snprintf(err, errlen, "out of memory");
                break;
            }
            out->days = grown;
        }
        out->days[out->count].date = date;
        memcpy(out->days[out->count].name, de->d_name, 9);
        out->count++;
    }
    closedir(d);
    if (rc) return snapshot_root_free(out), -1;
    if (out->count) qsort(out->days, out->count, sizeof *out->days, compare_days);
    return 0;
}

void snapshot_root_free(snapshot_root *r) {
    free(r->days);
    r->days = NULL;
    r->count = 0;
}

int snapshot_root_first_after(const snapshot_root *r, int32_t after, int32_t not_after) {
    for (size_t i = 0; i < r->count; i++)
        if (r->days[i].date > after && r->days[i].date <= not_after) return (int)i;
    return -1;
}

/* The extract of the job's inputs and joins that holds the fewest past
 * years (previous_years ≥ 0), or NULL. */
static const schema_extract *shortest_history(const schema_set *schemas, const job *j) {
    const schema_extract *best = NULL;
    for (size_t i = 0; i < j->ninputs; i++) {
        const char *names[1 + 16];
        size_t n = 0;
        names[n++] = j->inputs[i].extract;
        for (size_t k = 0; k < j->inputs[i].njoins && n < 17; k++) names[n++] = j->inputs[i].joins[k].extract;
        for (size_t k = 0; k < n; k++) {
            int x = schema_find_extract(schemas, names[k]);
            const schema_extract *e = x >= 0 ? &schemas->extracts[x] : NULL;
            if (e && e->previous_years >= 0 && (!best || e->previous_years < best->previous_years)) best = e;
        }
    }
    return best;
}

int calendar_refusal(const schema_set *schemas, const job *j, const period *p, int32_t snapshot, char *why,
                     size_t whylen) {
    char e[11], s[11];
    int sy, sm, sd;
    date_format(p->end, e);
    date_to_ymd(snapshot, &sy, &sm, &sd);
    if (p->end >= snapshot)
        return snprintf(why, whylen, "period %s is not over in snapshot %04d%02d%02d (its last day is %s)", p->text, sy,
                        sm, sd, e),
               1;
    const schema_extract *x = shortest_history(schemas, j);
    if (x && p->start < date_from_ymd(sy - x->previous_years, 1, 1)) {
        date_format(p->start, s);
        return snprintf(why, whylen,
                        "%s of snapshot %04d%02d%02d holds periods from %04d-01 on; period %s (from %s) is before that",
                        x->name, sy, sm, sd, sy - x->previous_years, p->text, s),
               1;
    }
    return 0;
}

typedef struct {
    ledger_item *items;
    size_t count, cap;
} ledger_list;

static int collect_item(const ledger_item *it, void *data) {
    ledger_list *l = data;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        ledger_item *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) return 1;
        l->items = grown, l->cap = cap;
    }
    if (!strcmp(it->boundaries, "as-of")) l->items[l->count++] = *it;
    return 0;
}

static const ledger_item *find_ledger(const ledger_list *l, const char *report, const char *period) {
    for (size_t i = 0; i < l->count; i++)
        if (!strcmp(l->items[i].report, report) && !strcmp(l->items[i].period, period)) return &l->items[i];
    return NULL;
}

static item_state state_of(const ledger_item *li) {
    if (!li || !strcmp(li->state, "due")) return ITEM_DUE;
    if (!strcmp(li->state, "done")) return ITEM_DONE;
    if (!strcmp(li->state, "running")) return ITEM_RUNNING;
    return ITEM_FAILED;
}

static int add_item(calendar *cal, size_t *cap, const calendar_item *it) {
    if (cal->count == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        calendar_item *grown = realloc(cal->items, *cap * sizeof *grown);
        if (!grown) return -1;
        cal->items = grown;
    }
    cal->items[cal->count++] = *it;
    return 0;
}

/* Fills one item of job j for period p. */
static void describe_item(const schema_set *schemas, const snapshot_root *root, const ledger_list *ll,
                          int32_t night, const job *j, const period *p, calendar_item *it) {
    memset(it, 0, sizeof *it);
    it->job = j;
    it->per = *p;
    it->deadline = p->end + j->deadline_days;
    it->snapshot = snapshot_root_first_after(root, p->end, night);
    const ledger_item *li = find_ledger(ll, j->id, p->text);
    if (li) it->in_ledger = 1, it->ledger = *li;
    it->state = state_of(li);
    if (it->state != ITEM_DONE && it->snapshot < 0) it->state = ITEM_WAITING;
    if (it->state != ITEM_DONE && it->snapshot >= 0 &&
        calendar_refusal(schemas, j, p, root->days[it->snapshot].date, it->why, sizeof it->why))
        it->state = ITEM_REFUSED;
    it->late = it->state != ITEM_DONE && night > it->deadline;
}

static int compare_items(const void *a, const void *b) {
    const calendar_item *x = a, *y = b;
    if (x->per.end != y->per.end) return (x->per.end > y->per.end) - (x->per.end < y->per.end);
    return strcmp(x->job->id, y->job->id);
}

/* The items of one report id (the versions j[0..n) share it). */
static int add_report_items(calendar *cal, size_t *cap, const schema_set *schemas, const snapshot_root *root,
                            const ledger_list *ll, const job_set *jobs, const job *j) {
    period p, last;
    if (period_last_ended_before(j->periodicity, cal->first_night, &p) ||
        period_last_ended_before(j->periodicity, cal->night, &last))
        return 0;
    for (; p.end <= last.end;) {
        const job *in_force = job_set_find(jobs, j->id, p.end);
        if (in_force && in_force->periodicity == j->periodicity) {
            calendar_item it;
            describe_item(schemas, root, ll, cal->night, in_force, &p, &it);
            if (add_item(cal, cap, &it)) return -1;
        }
        period next;
        if (period_step(&p, 1, &next)) break;
        p = next;
    }
    return 0;
}

int calendar_build(const job_set *jobs, const schema_set *schemas, const snapshot_root *root, int32_t night,
                   int32_t first_night, catalog *c, calendar *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->night = night;
    out->first_night = first_night;
    ledger_list ll = {0};
    if (ledger_items_list(c, collect_item, &ll, err, errlen)) return free(ll.items), -1;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < jobs->count; i++) {
        const job *j = &jobs->jobs[i];
        if (i > 0 && !strcmp(jobs->jobs[i - 1].id, j->id)) continue; /* one pass per id */
        rc = add_report_items(out, &cap, schemas, root, &ll, jobs, j);
    }
    free(ll.items);
    if (rc) return calendar_free(out), snprintf(err, errlen, "out of memory"), -1;
    if (out->count) qsort(out->items, out->count, sizeof *out->items, compare_items);
    return 0;
}

void calendar_free(calendar *cal) {
    free(cal->items);
    cal->items = NULL;
    cal->count = 0;
}

const char *calendar_state_name(item_state s) {
    static const char *const names[] = {"waiting", "due", "running", "done", "failed", "refused"};
    return names[s];
}

int calendar_item_wanted(const calendar_item *it) {
    return (it->state == ITEM_DUE || it->state == ITEM_FAILED) && it->snapshot >= 0;
}
