/* guard.h — the download service's connection guard: caps on connections
 * per client address and in total, and deadlines for reading a request,
 * so that a few addresses holding idle or trickling connections cannot
 * starve everyone else (issue 11 item 5). libmicrohttpd only knows an
 * inactivity timeout (a byte every 59 s keeps a connection for ever) and a
 * hard cap that refuses newcomers; the guard replaces both for the phase
 * before a request is complete.
 *
 * A connection is in one of three phases:
 *   GUARD_WAIT  no complete request head yet: just accepted, or a
 *               keep-alive connection after its previous response. It must
 *               deliver a whole request head within head_ms of entering
 *               the phase, however slowly the bytes trickle in.
 *   GUARD_BODY  head complete, request body being read: body_ms.
 *   GUARD_BUSY  a response is being produced or sent; the guard leaves it
 *               alone (libmicrohttpd's inactivity timeout applies).
 * "Idle" means WAIT or BODY. When a new connection would exceed the cap of
 * its address, the oldest idle connection of that address is dropped; when
 * it would exceed the total cap, the oldest idle connection of any address
 * is; when there is no idle one to drop, the new connection is refused.
 * Dropping and cutting off are done with shutdown(2) on the socket, under
 * the guard's lock and only while the connection is registered, so the
 * descriptor cannot have been closed and reused meanwhile; libmicrohttpd
 * then sees the end of the stream and closes the connection itself.
 *
 * Owns a fixed table of slots and one watchdog thread. Thread-safe: every
 * function may be called from any of libmicrohttpd's threads. */
#ifndef ESEP_GUARD_H
#define ESEP_GUARD_H

#include <stddef.h>
#include <sys/socket.h>

typedef enum { GUARD_WAIT, GUARD_BODY, GUARD_BUSY } guard_phase;

typedef struct {
    unsigned max_total;     /* live connections, all addresses */
    unsigned max_per_addr;  /* live connections from one address */
    unsigned head_ms;       /* deadline of GUARD_WAIT */
    unsigned body_ms;       /* deadline of GUARD_BODY */
} guard_limits;

typedef struct guard guard;
typedef struct guard_slot guard_slot;

/* Slots beyond max_total, for connections dropped but not yet closed by
 * libmicrohttpd; its own connection limit must be max_total + this. */
#define GUARD_SLACK 64

/* Creates the guard and starts its watchdog. Returns NULL with a message
 * in err when out of memory or the thread cannot start. */
guard *guard_new(const guard_limits *limits, char *err, size_t errlen);

/* Stops the watchdog and frees the guard; every connection must have been
 * closed (guard_close) before. NULL is allowed. */
void guard_free(guard *g);

/* Registers a just-accepted connection (socket fd, peer address sa) in
 * GUARD_WAIT, dropping the oldest idle connection when a cap is reached.
 * Returns its slot, or NULL when the connection was refused (no idle one
 * to drop, or no free slot); a refused socket is already shut down. */
guard_slot *guard_open(guard *g, int fd, const struct sockaddr *sa);

/* Moves a connection to phase p; the deadline restarts. slot may be NULL
 * (a refused connection). Cannot fail. */
void guard_enter(guard *g, guard_slot *slot, guard_phase p);

/* Unregisters a connection before its socket is closed. slot may be NULL.
 * Cannot fail. */
void guard_close(guard *g, guard_slot *slot);

/* Connections dropped for a cap and cut off at a deadline so far (for the
 * log and the tests). Cannot fail. */
void guard_counts(guard *g, unsigned long *dropped, unsigned long *cut_off);

#endif
