/* progress.h — progress of work shared by the ranks of a communicator
 * (the scan of an extract), reported by rank 0 for ALL ranks: the share
 * done (mean over ranks) and the rows read (sum over ranks). On a terminal
 * rank 0 redraws one line a few times a second; otherwise (mpirun, Slurm,
 * cron) it writes a log line every ESEP_PROGRESS_SECONDS (default 10; 0:
 * at every update), so a long night shows where it is. Other ranks send
 * their figures to rank 0 with small non-blocking messages at most twice a
 * second, so a rank never waits for another until progress_finish. */
#ifndef ESEP_PROGRESS_H
#define ESEP_PROGRESS_H

#include <mpi.h>
#include <stdint.h>

typedef struct {
    int enabled;              /* this rank takes part */
    int draw;                 /* rank 0: a terminal line, else log lines */
    int logged;               /* rank 0: a log line was written */
    int done;                 /* rank 0: ranks whose last message arrived */
    double shown_share;       /* rank 0: the figures of the last log line */
    int64_t shown_rows;
    double started, last_report, last_send, interval;
    char label[64];
    MPI_Comm comm;            /* private duplicate; MPI_COMM_NULL on one rank */
    int rank, nranks;
    double *fraction;         /* rank 0: per rank */
    int64_t *rows;            /* rank 0: per rank */
    double outbox[2];         /* other ranks: the message in flight */
    MPI_Request pending;
} progress;

/* Monotonic seconds. Cannot fail. */
double progress_now(void);

/* Starts progress labelled label. Collective over comm when show is true,
 * and show must be the same on every rank; with show false nothing is
 * reported and nothing is exchanged. Returns 0, or -1 out of memory (then
 * progress is off on this rank: every rank still calls progress_finish). */
int progress_start(progress *p, const char *label, int show, MPI_Comm comm);

/* This rank's share done (0..1) and rows read so far. Cheap enough to call
 * per batch: throttled. Cannot fail. */
void progress_update(progress *p, double fraction, int64_t rows);

/* Collective over comm when progress was shown: this rank is done with
 * rows read. Rank 0 waits for every rank, reporting as they finish, then
 * writes the final figure (log mode, when a line was already written) or
 * clears the terminal line. Releases everything. Cannot fail. */
void progress_finish(progress *p, int64_t rows);

#endif
