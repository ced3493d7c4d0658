/* pipeline.c — see pipeline.h. */
#include "pipeline.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../archive/store.h"
#include "../base/digest.h"
#include "../base/fsutil.h"
#include "../base/log.h"
#include "../base/stoppoint.h"
#include "../base/progress.h"
#include "../dist/agree.h"
#include "../engine/engine.h"
#include "../schedule/calendar.h"
#include "../schedule/ledger.h"

#define PIPE_MAX_PERIODS 64
#define PIPE_MAX_IDS 256 /* reports of one period in one scan (esep run: RUN_MAX_REPORTS) */

size_t pipeline_reports_in_force(const job_set *jobs, const period *p, const char **ids, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < jobs->count && n < max; i++) {
        const job *j = &jobs->jobs[i];
        if (j->periodicity == p->kind && j->valid_from <= p->end && p->end <= j->valid_to &&
            (n == 0 || strcmp(ids[n - 1], j->id)))
            ids[n++] = j->id;
    }
    return n;
}

/* One period of the call: its engine and the items it computes. */
typedef struct {
    period per;
    char *ids[PIPE_MAX_IDS];
    size_t nids;
    engine eng;
    int ready;                  /* engine_init succeeded */
} period_work;

typedef struct {
    const pipeline_args *a;
    period_work *work;
    size_t nwork;
    int stopped_once;
} fanout;

/* The reader's consumer: every batch feeds every period's engine. */
static int fanout_consume(void *data, const row_batch *batch) {
    fanout *f = data;
    if (!f->stopped_once && batch->nrows) {
        f->stopped_once = 1;
        stop_point("scan", f->a->rank);
    }
    for (size_t i = 0; i < f->nwork; i++)
        if (f->work[i].ready && engine_consume(&f->work[i].eng, batch)) return -1;
    return 0;
}

static int fanout_withdrawn(void *data, const row_batch *batch) {
    fanout *f = data;
    for (size_t i = 0; i < f->nwork; i++)
        if (f->work[i].ready && engine_consume_withdrawn(&f->work[i].eng, batch)) return -1;
    return 0;
}

static void fail_item(pipeline_item *it, pipe_status st, const char *msg) {
    if (it->status != PIPE_PENDING) return;
    it->status = st;
    snprintf(it->error, sizeof it->error, "%.511s", msg);
}

/* Groups the pending items by period; refuses those the snapshot cannot
 * describe and those of an unknown report. */
static int group_items(const pipeline_args *a, pipeline_item *items, size_t n, int32_t snapshot, period_work *work,
                       size_t *nwork, char *err, size_t errlen) {
    *nwork = 0;
    for (size_t i = 0; i < n; i++) {
        pipeline_item *it = &items[i];
        const job *j = job_set_find(a->jobs, it->report, it->per.end);
        char why[512];
        if (!j) {
            int known = 0;
            for (size_t k = 0; k < a->jobs->count; k++) known |= !strcmp(a->jobs->jobs[k].id, it->report);
            snprintf(why, sizeof why, known ? "report %s has no methodology in force on the last day of %s"
                                            : "unknown report %s (no such file in jobs/)",
                     it->report, it->per.text);
            fail_item(it, PIPE_REFUSED, why);
            continue;
        }
        it->methodology_version = j->version;
        if (calendar_refusal(a->schemas, j, &it->per, snapshot, why, sizeof why)) {
            fail_item(it, PIPE_REFUSED, why);
            continue;
        }
        size_t w = 0;
        while (w < *nwork && strcmp(work[w].per.text, it->per.text)) w++;
        if (w == *nwork) {
            if (*nwork == PIPE_MAX_PERIODS) return snprintf(err, errlen, "more than %d periods in one scan", PIPE_MAX_PERIODS), -1;
            memset(&work[w], 0, sizeof work[w]);
            work[w].per = it->per;
            (*nwork)++;
        }
        if (work[w].nids == PIPE_MAX_IDS) return snprintf(err, errlen, "more than %d reports in one period", PIPE_MAX_IDS), -1;
        work[w].ids[work[w].nids++] = it->report;
    }
    return 0;
}

/* Which rank hashes each file: the largest first, each to the rank with
 * the fewest bytes so far (persons alone is 40 % of a snapshot), from the
 * sizes every rank sees alike. With more ranks than files, file k (by
 * size) goes to rank k, so only the first n ranks' loads are kept.
 * scratch: 2 n entries. Cannot fail. */
static void plan_digests(int nranks, const uint64_t *size, size_t n, uint64_t *scratch, uint64_t *owner) {
    size_t used = (size_t)nranks < n ? (size_t)nranks : n;
    uint64_t *load = scratch, *done = scratch + n;
    memset(scratch, 0, 2 * n * sizeof *scratch);
    for (size_t k = 0; k < n; k++) {
        size_t big = n, least = 0;
        for (size_t i = 0; i < n; i++)
            if (!done[i] && (big == n || size[i] > size[big])) big = i;
        for (size_t r = 1; r < used; r++)
            if (load[r] < load[least]) least = r;
        done[big] = 1;
        owner[big] = least;
        load[least] += size[big];
    }
}

/* SHA-256 of every extract file, each computed by one rank (plan_digests).
 * scratch: 4 n entries, n the number of extracts. */
static void input_digests(const pipeline_args *a, char (*hex)[65], char (*file)[128], uint64_t *scratch) {
    const schema_set *set = a->schemas;
    size_t n = set->count;
    uint64_t *size = scratch + 2 * n, *owner = scratch + 3 * n;
    memset(hex, 0, n * 65);
    for (size_t i = 0; i < n; i++) {
        char path[4096], err[512];
        int compressed;
        struct stat st;
        file[i][0] = '\0';
        size[i] = 0;
        if (snapshot_locate_file(a->snapshot_dir, set->extracts[i].name, path, sizeof path, &compressed, err, sizeof err))
            continue;
        const char *base = strrchr(path, '/');
        snprintf(file[i], 128, "%.127s", base ? base + 1 : path);
        size[i] = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    plan_digests(a->nranks, size, n, scratch, owner);
    for (size_t i = 0; i < n; i++) {
        char path[4096], err[512];
        int compressed;
        if (!file[i][0] || owner[i] != (uint64_t)a->rank) continue;
        if (snapshot_locate_file(a->snapshot_dir, set->extracts[i].name, path, sizeof path, &compressed, err, sizeof err)
            || digest_file_sha256(path, hex[i], err, sizeof err))
            hex[i][0] = '\0';
    }
    MPI_Allreduce(MPI_IN_PLACE, hex, (int)(n * 65), MPI_UNSIGNED_CHAR, MPI_MAX, a->comm);
}

/* Adds extract x to the table's inputs once. */
static void add_input(report_table *t, const schema_set *set, const snapshot_result *snap, int x, char (*hex)[65],
                      char (*file)[128]) {
    for (size_t i = 0; i < t->ninputs; i++)
        if (!strcmp(t->inputs[i].name, set->extracts[x].name)) return;
    report_input *in = &t->inputs[t->ninputs++];
    snprintf(in->name, sizeof in->name, "%s", set->extracts[x].name);
    snprintf(in->file, sizeof in->file, "%s", file[x]);
    snprintf(in->sha256, sizeof in->sha256, "%s", hex[x]);
    in->read = snap->extracts[x].read;
    in->accepted = snap->extracts[x].accepted;
    in->rejected = snap->extracts[x].rejected;
}

static void fill_metadata(const pipeline_args *a, report_table *t, const report_plan *rp, const period *per,
                          const snapshot_result *snap, char (*hex)[65], char (*file)[128]) {
    const job *j = rp->job;
    snprintf(t->id, sizeof t->id, "%s", j->id);
    snprintf(t->period, sizeof t->period, "%s", per->text);
    snprintf(t->title_kk, sizeof t->title_kk, "%s", j->title_kk);
    snprintf(t->title_ru, sizeof t->title_ru, "%s", j->title_ru);
    t->methodology_version = j->version;
    snprintf(t->snapshot_date, sizeof t->snapshot_date, "%s", snap->date_text);
    snprintf(t->tool_version, sizeof t->tool_version, "%s", a->tool_version);
    if (a->classifier) {
        snprintf(t->boundaries, sizeof t->boundaries, "%s", a->restate_text);
        snprintf(t->classifier_snapshot, sizeof t->classifier_snapshot, "%s", a->classifier_snapshot);
    }
    add_input(t, a->schemas, snap, a->schemas->kato_extract, hex, file);
    for (size_t i = 0; i < rp->ninputs; i++) {
        add_input(t, a->schemas, snap, rp->inputs[i].extract, hex, file);
        for (size_t k = 0; k < rp->inputs[i].njoins; k++)
            add_input(t, a->schemas, snap, rp->inputs[i].joins[k].extract, hex, file);
    }
}

/* OUT/rejects/<date>/<ID>-<P>.csv: extract,line,reason — rows the report
 * could not use (they are valid rows of their extract), written under a
 * temporary name and staged in b (which syncs it). Its index in b, or -1 with a
 * message (nothing left). */
static long stage_report_rejects(fs_batch *b, const engine *e, size_t r, const schema_set *set, const char *dir,
                                 const char *restated, char *err, size_t errlen) {
    const report_plan *rp = &e->plan.reports[r];
    char path[4200], tmp[4400];
    if (restated) /* beside the as-of list, never over it */
        snprintf(path, sizeof path, "%s/%s-%s.restated-%s.csv", dir, rp->job->id, e->plan.per.text, restated);
    else
        snprintf(path, sizeof path, "%s/%s-%s.csv", dir, rp->job->id, e->plan.per.text);
    FILE *f = fs_temp_open(path, 0644, tmp, sizeof tmp, err, errlen);
    if (!f) return -1;
    const fact_table *rj = engine_report_rejects(e, r);
    fputs("extract,line,reason\n", f);
    for (size_t i = 0; i < rj->n; i++)
        fprintf(f, "%s,%lld,%s\n", set->extracts[rj->key[i]].name, (long long)rj->line[i],
                engine_reject_reason_name((int)rj->col[0][i]));
    if (fs_close_temp(f, tmp, 0, err, errlen)) return -1; /* the batch syncs it */
    return fs_batch_add(b, tmp, path, err, errlen);
}

static pipeline_item *find_item(pipeline_item *items, size_t n, const char *report, const char *period) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(items[i].report, report) && !strcmp(items[i].per.text, period)) return &items[i];
    return NULL;
}

/* A report's two files in the period's batch (ARCHIVE_SAME: its table is
 * current already); -1: nothing staged. */
typedef struct {
    pipeline_item *it;
    long table, rejects;
    size_t rows;
} staged_report;

/* Rank 0: stages report r's table and rejects file in b, or fails its item. */
static void stage_report(const pipeline_args *a, period_work *w, size_t r, const snapshot_result *snap,
                         char (*hex)[65], char (*file)[128], fs_batch *b, staged_report *st) {
    engine *e = &w->eng;
    report_plan *rp = &e->plan.reports[r];
    char err[1024];
    report_table t;
    memset(&t, 0, sizeof t);
    int rc = engine_table(e, r, &t, err, sizeof err);
    if (rc == 0) {
        fill_metadata(a, &t, rp, &w->per, snap, hex, file);
        st->table = archive_stage(b, a->out_dir, &t, st->it->table_sha256, &st->it->table_changed, err, sizeof err);
        rc = st->table == -1 ? -1 : 0;
    }
    if (rc == 0) {
        st->rejects = stage_report_rejects(b, e, r, a->schemas, snap->rejects_dir,
                                           a->classifier ? a->restate_text : NULL, err, sizeof err);
        rc = st->rejects < 0 ? -1 : 0;
    }
    if (rc) { /* neither file of a failed item takes its place */
        if (st->table >= 0) fs_batch_drop(b, (size_t)st->table);
        st->table = st->rejects = -1;
        fail_item(st->it, PIPE_FAILED, err);
    }
    st->rows = t.nrows;
    report_table_free(&t);
}

/* Rank 0: archives every requested report of one period. Every table and
 * rejects file is first written under its temporary name, then all are
 * fsynced, renamed, and each directory fsynced once (fs_batch, whose
 * comment says why that is as crash-safe as one file at a time), and only then is
 * an item archived: the ledger never records a table that a crash could
 * still take back, and a rerun after a crash anywhere recomputes what is
 * not done (an identical table already in place changes nothing). */
static void archive_period(const pipeline_args *a, period_work *w, const snapshot_result *snap, char (*hex)[65],
                           char (*file)[128], pipeline_item *items, size_t n) {
    engine *e = &w->eng;
    fs_batch b = {0};
    b.stop_point = "archive";
    staged_report *st = calloc(e->plan.nreports + 1, sizeof *st);
    for (size_t r = 0; r < e->plan.nreports; r++) {
        report_plan *rp = &e->plan.reports[r];
        pipeline_item *it = rp->requested ? find_item(items, n, rp->job->id, w->per.text) : NULL;
        if (!it || it->status != PIPE_PENDING) continue;
        if (!st) fail_item(it, PIPE_FAILED, "out of memory");
        else if (rp->skipped) fail_item(it, PIPE_FAILED, rp->skip_reason);
        else st[r] = (staged_report){it, -1, -1, 0}, stage_report(a, w, r, snap, hex, file, &b, &st[r]);
    }
    char err[1024] = "";
    int failed = st && fs_batch_commit(&b, err, sizeof err) > 0;
    for (size_t r = 0; st && r < e->plan.nreports; r++) {
        staged_report *s = &st[r];
        if (!s->it || s->it->status != PIPE_PENDING) continue;
        if (failed && ((s->table >= 0 && fs_batch_failed(&b, (size_t)s->table)) ||
                       fs_batch_failed(&b, (size_t)s->rejects))) {
            fail_item(s->it, PIPE_FAILED, err);
            continue;
        }
        s->it->rows = s->rows;
        s->it->rejected = engine_report_rejects(e, r)->n;
    }
    fs_batch_free(&b);
    free(st);
}

/* Collective: publishes every period that has an item archived now (rank
 * 0 knows which, having archived them; the bundles are built on every
 * rank), and settles those items on rank 0 (done, or failed with the
 * publication's error). */
static void publish_periods(const pipeline_args *a, period_work *work, size_t nwork, pipeline_item *items, size_t n,
                            pipeline_result *res) {
    for (size_t w = 0; w < nwork; w++) {
        int archived = 0;
        for (size_t i = 0; a->rank == 0 && i < n; i++)
            archived |= items[i].status == PIPE_PENDING && items[i].table_sha256[0] && !strcmp(items[i].per.text, work[w].per.text);
        MPI_Bcast(&archived, 1, MPI_INT, 0, a->comm);
        if (!archived) continue;
        publish_summary sum = {0};
        char err[1024] = "";
        int rc = 0;
        if (a->publish) {
            const char *ids[PIPE_MAX_IDS];
            size_t nids = pipeline_reports_in_force(a->jobs, &work[w].per, ids, PIPE_MAX_IDS);
            stop_point("publish", a->rank);
            rc = publish_period(a->comm, &a->pub, work[w].per.text, (char *const *)ids, nids, &sum, err, sizeof err);
            res->published += sum.published, res->unchanged += sum.unchanged;
            if (rc == 0 && a->rank == 0)
                printf("period %s: %d new bundle revision%s, %d unchanged (%zu reports in each)\n", work[w].per.text,
                       sum.published, sum.published == 1 ? "" : "s", sum.unchanged, sum.reports);
        }
        for (size_t i = 0; a->rank == 0 && i < n; i++) {
            pipeline_item *it = &items[i];
            if (it->status != PIPE_PENDING || strcmp(it->per.text, work[w].per.text) || !it->table_sha256[0]) continue;
            if (rc) {
                char msg[1100];
                snprintf(msg, sizeof msg, "publication: %s", err);
                fail_item(it, PIPE_FAILED, msg);
            } else {
                it->status = PIPE_DONE;
                it->revision = sum.republic_revision;
            }
        }
    }
}

/* Rank 0: the ledger's view of the items (start or end). */
static void ledger_items(const pipeline_args *a, pipeline_item *items, size_t n, const char *snapshot_date, int end,
                         const char *digest, pipeline_result *res) {
    if (!a->ledger || a->rank != 0) return;
    const char *boundaries = a->classifier ? a->restate_text : "as-of";
    double t0 = progress_now();
    char berr[1024];
    if (ledger_batch_begin(a->ledger, berr, sizeof berr)) log_msg(LOG_ERROR, "ledger: %s", berr);
    for (size_t i = 0; i < n; i++) {
        pipeline_item *it = &items[i];
        char err[1024];
        int rc;
        if (!end) {
            rc = ledger_item_start(a->ledger, a->command_id, it->report, it->per.text, boundaries, snapshot_date,
                                   a->owner, err, sizeof err);
        } else {
            ledger_item li;
            memset(&li, 0, sizeof li);
            snprintf(li.report, sizeof li.report, "%s", it->report);
            snprintf(li.period, sizeof li.period, "%s", it->per.text);
            snprintf(li.boundaries, sizeof li.boundaries, "%s", boundaries);
            snprintf(li.state, sizeof li.state, "%s", it->status == PIPE_DONE ? "done" : "failed");
            snprintf(li.snapshot_digest, sizeof li.snapshot_digest, "%s", digest);
            li.methodology_version = it->methodology_version;
            snprintf(li.tool_version, sizeof li.tool_version, "%s", a->tool_version);
            li.revision = it->revision;
            snprintf(li.table_sha256, sizeof li.table_sha256, "%s", it->table_sha256);
            snprintf(li.error, sizeof li.error, "%s", it->status == PIPE_DONE ? "" : it->error);
            rc = ledger_item_end(a->ledger, a->command_id, &li, err, sizeof err);
        }
        if (rc) log_msg(LOG_ERROR, "ledger: %s", err);
    }
    if (ledger_batch_commit(a->ledger, berr, sizeof berr)) log_msg(LOG_ERROR, "ledger: %s", berr);
    res->seconds_ledger += progress_now() - t0;
}

/* One digest of the snapshot's inputs: SHA-256 over the extract digests
 * in schema order (the ledger compares it to tell "same inputs"). */
static void snapshot_digest(const schema_set *set, char (*hex)[65], char out[65]) {
    char joined[64 * 65 + 1] = "";
    for (size_t i = 0; i < set->count && i < 64; i++) strcat(joined, hex[i]), strcat(joined, "\n");
    uint8_t d[32];
    crypto_hash_sha256(d, (const unsigned char *)joined, strlen(joined));
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* Agrees every item's status and revision across ranks (rank 0 decided). */
static void broadcast_items(const pipeline_args *a, pipeline_item *items, size_t n) {
    MPI_Bcast(items, (int)(n * sizeof *items), MPI_BYTE, 0, a->comm);
}

static int scan_and_compute(const pipeline_args *a, period_work *work, size_t nwork, pipeline_result *res,
                            char *err, size_t errlen) {
    fanout f = {a, work, nwork, 0};
    snapshot_args args = {a->comm, a->rank, a->nranks, a->schemas, a->snapshot_dir, a->out_dir, a->show_progress,
                          fanout_consume, fanout_withdrawn, &f};
    double t0 = progress_now();
    int rc = snapshot_read(&args, &res->snap, err, errlen);
    res->snap_ok = rc == 0;
    double t1 = progress_now();
    res->seconds_scan = t1 - t0;
    if (rc) return -1;
    stop_point("keyed", a->rank);
    for (size_t w = 0; w < nwork; w++) {
        if (!work[w].ready) continue;
        if (engine_finish(&work[w].eng, &res->snap, err, errlen)) return -1;
        res->consume_seconds += work[w].eng.consume_seconds;
    }
    res->seconds_keyed = progress_now() - t1;
    return 0;
}

int pipeline_run(const pipeline_args *a, pipeline_item *items, size_t n, pipeline_result *res, char *err,
                 size_t errlen) {
    memset(res, 0, sizeof *res);
    int32_t date;
    char date_text[9];
    period_work *work = calloc(PIPE_MAX_PERIODS, sizeof *work);
    size_t nwork = 0;
    int have_work = dist_agree(a->comm, work != NULL); /* all go on, or none */
    int rc = have_work ? snapshot_parse_dir(a->snapshot_dir, &date, date_text, err, errlen) : -1;
    if (!have_work) snprintf(err, errlen, "out of memory (on at least one rank)");
    if (rc == 0 && a->rank == 0) {
        char rejects[4200];
        snprintf(rejects, sizeof rejects, "%s/rejects/%s", a->out_dir, date_text);
        fs_remove_stale_temps(rejects); /* what crashed writers left */
    }
    if (rc == 0) rc = group_items(a, items, n, date, work, &nwork, err, errlen);
    for (size_t w = 0; rc == 0 && w < nwork; w++) {
        char why[1024];
        work[w].ready = engine_init(&work[w].eng, a->comm, a->schemas, a->jobs, &work[w].per, work[w].ids,
                                    work[w].nids, why, sizeof why) == 0;
        if (work[w].ready && a->classifier &&
            engine_use_classifier(&work[w].eng, a->classifier, a->restate_day)) {
            engine_free(&work[w].eng);
            work[w].ready = 0;
            snprintf(why, sizeof why, "out of memory");
        }
        /* an engine missing on one rank would leave the others in its collectives */
        if (!dist_agree(a->comm, work[w].ready) && work[w].ready) {
            engine_free(&work[w].eng);
            work[w].ready = 0;
            snprintf(why, sizeof why, "out of memory on another rank");
        }
        for (size_t i = 0; !work[w].ready && i < n; i++)
            if (!strcmp(items[i].per.text, work[w].per.text)) fail_item(&items[i], PIPE_REFUSED, why);
    }
    ledger_items(a, items, n, rc == 0 ? date_text : "", 0, "", res);
    if (rc == 0 && nwork) rc = scan_and_compute(a, work, nwork, res, err, errlen);
    char (*hex)[65] = rc == 0 && nwork ? calloc(a->schemas->count, sizeof *hex) : NULL;
    char (*file)[128] = hex ? calloc(a->schemas->count, sizeof *file) : NULL;
    uint64_t *scratch = file ? calloc(4 * a->schemas->count + 1, sizeof *scratch) : NULL;
    if (rc == 0 && nwork) {
        /* every rank agrees before input_digests' collective: one rank out
         * of memory must not leave the others waiting in it */
        if (!dist_agree_at(a->comm, "digests", scratch != NULL))
            rc = -1, snprintf(err, errlen, "out of memory before the input digests (on at least one rank)");
    }
    char digest[65] = "";
    if (rc == 0 && nwork) {
        double t1 = progress_now();
        input_digests(a, hex, file, scratch);
        res->seconds_digests = progress_now() - t1;
        snapshot_digest(a->schemas, hex, digest);
        double t2 = progress_now();
        for (size_t w = 0; a->rank == 0 && w < nwork; w++)
            if (work[w].ready) archive_period(a, &work[w], &res->snap, hex, file, items, n);
        double t3 = progress_now();
        res->seconds_archive = t3 - t2;
        int publish = a->publish && !a->classifier; /* restated tables are for analysis only */
        if (publish) publish_periods(a, work, nwork, items, n, res);
        res->seconds_publish = progress_now() - t3;
        if (a->rank == 0 && !publish)
            for (size_t i = 0; i < n; i++)
                if (items[i].status == PIPE_PENDING && items[i].table_sha256[0]) items[i].status = PIPE_DONE;
    }
    for (size_t i = 0; rc && i < n; i++) fail_item(&items[i], PIPE_FAILED, err);
    for (size_t i = 0; a->rank == 0 && i < n; i++) fail_item(&items[i], PIPE_FAILED, "not computed");
    broadcast_items(a, items, n);
    ledger_items(a, items, n, date_text, 1, digest, res);
    for (size_t w = 0; w < nwork; w++) engine_free(&work[w].eng);
    free(work), free(hex), free(file), free(scratch);
    return rc;
}

void pipeline_result_free(pipeline_result *res, const schema_set *schemas) {
    if (res->snap.extracts) snapshot_result_free(&res->snap, schemas->count);
    memset(res, 0, sizeof *res);
}
