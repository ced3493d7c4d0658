/* progress.c — see progress.h. Messages carry {fraction, rows} as two
 * doubles (exact for any row count below 2^53); a rank's last message has
 * its own tag, and MPI's non-overtaking order per sender means rank 0 has
 * received everything once it has every rank's last message, so the
 * private communicator is empty when it is freed. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define TAG_UPDATE 1
#define TAG_DONE 2
#define SEND_EVERY 0.5
#define DRAW_EVERY 0.25

double progress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double interval_from_env(void) {
    const char *v = getenv("ESEP_PROGRESS_SECONDS");
    char *end;
    double s = v ? strtod(v, &end) : 10.0;
    return v && (end == v || s < 0) ? 10.0 : s;
}

int progress_start(progress *p, const char *label, int show, MPI_Comm comm) {
    memset(p, 0, sizeof *p);
    p->comm = MPI_COMM_NULL;
    p->pending = MPI_REQUEST_NULL;
    snprintf(p->label, sizeof p->label, "%s", label);
    if (!show) return 0;
    MPI_Comm_rank(comm, &p->rank);
    MPI_Comm_size(comm, &p->nranks);
    if (p->nranks > 1) MPI_Comm_dup(comm, &p->comm);
    p->started = p->last_report = p->last_send = progress_now();
    p->interval = interval_from_env();
    p->draw = p->rank == 0 && log_is_terminal();
    if (p->rank == 0) {
        p->fraction = calloc((size_t)p->nranks, sizeof *p->fraction);
        p->rows = calloc((size_t)p->nranks, sizeof *p->rows);
        if (!p->fraction || !p->rows) {
            free(p->fraction), free(p->rows);
            p->fraction = NULL, p->rows = NULL;
            p->enabled = p->nranks > 1 ? -1 : 0; /* still drains messages in finish */
            return -1;
        }
    }
    p->enabled = 1;
    return 0;
}

/* Rank 0: the line for all ranks, drawn or logged when due. */
static void report(progress *p, double now, int final) {
    if (!p->fraction) return;
    double share = 0;
    int64_t rows = 0;
    for (int r = 0; r < p->nranks; r++) share += p->fraction[r], rows += p->rows[r];
    share /= p->nranks;
    if (p->draw) {
        if (final || now - p->last_report < DRAW_EVERY) return;
        fprintf(stderr, "\r  %-18s %5.1f%%  %12lld rows  %6.1fs", p->label, 100.0 * share, (long long)rows,
                now - p->started);
        fflush(stderr);
    } else {
        if (final ? !p->logged && p->interval > 0 : now - p->last_report < p->interval) return;
        if (p->logged && share == p->shown_share && rows == p->shown_rows) return; /* nothing new */
        p->shown_share = share, p->shown_rows = rows;
        log_msg(LOG_INFO, "%s: %.1f%% read, %lld rows, %.1f s, %d rank%s", p->label, 100.0 * share, (long long)rows,
                now - p->started, p->nranks, p->nranks == 1 ? "" : "s");
        p->logged = 1;
    }
    p->last_report = now;
}

/* Rank 0: takes one message (blocking or not), counting last ones. 0, or
 * -1 when none was waiting. */
static int receive(progress *p, int block) {
    int ready = 0;
    MPI_Status st;
    for (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, p->comm, &ready, &st); !ready && block;
         MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, p->comm, &ready, &st))
        nanosleep(&(struct timespec){0, 200000}, NULL); /* not MPI_Recv's busy poll: ranks still scan */
    if (!ready) return -1;
    double msg[2];
    MPI_Recv(msg, 2, MPI_DOUBLE, MPI_ANY_SOURCE, MPI_ANY_TAG, p->comm, &st);
    if (p->fraction) p->fraction[st.MPI_SOURCE] = msg[0], p->rows[st.MPI_SOURCE] = (int64_t)msg[1];
    p->done += st.MPI_TAG == TAG_DONE;
    return 0;
}

void progress_update(progress *p, double fraction, int64_t rows) {
    if (p->enabled != 1) return;
    double now = progress_now();
    if (p->rank != 0) {
        int idle = 1;
        if (now - p->last_send < SEND_EVERY && now - p->last_send < p->interval) return;
        if (p->pending != MPI_REQUEST_NULL) MPI_Test(&p->pending, &idle, MPI_STATUS_IGNORE);
        if (!idle) return;
        p->outbox[0] = fraction, p->outbox[1] = (double)rows;
        MPI_Isend(p->outbox, 2, MPI_DOUBLE, 0, TAG_UPDATE, p->comm, &p->pending);
        p->last_send = now;
        return;
    }
    p->fraction[0] = fraction, p->rows[0] = rows;
    while (p->comm != MPI_COMM_NULL && receive(p, 0) >= 0) {}
    report(p, now, 0);
}

void progress_finish(progress *p, int64_t rows) {
    if (p->enabled == 0) return;
    if (p->rank != 0) {
        MPI_Wait(&p->pending, MPI_STATUS_IGNORE);
        double last[2] = {1.0, (double)rows};
        MPI_Send(last, 2, MPI_DOUBLE, 0, TAG_DONE, p->comm);
    } else {
        if (p->fraction) p->fraction[0] = 1.0, p->rows[0] = rows;
        while (p->done < p->nranks - 1) {
            receive(p, 1);
            report(p, progress_now(), 0);
        }
        report(p, progress_now(), 1);
        if (p->draw) fprintf(stderr, "\r%70s\r", "");
    }
    if (p->comm != MPI_COMM_NULL) MPI_Comm_free(&p->comm);
    free(p->fraction), free(p->rows);
    memset(p, 0, sizeof *p);
}
