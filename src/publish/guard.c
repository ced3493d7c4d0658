/* guard.c — see guard.h. The table is a plain array scanned under one
 * mutex: it holds at most a few hundred connections, and a scan per accept
 * and per watchdog tick (every GUARD_TICK_MS) is cheaper than keeping
 * per-address indexes consistent. */
#include "guard.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/error.h"
#include "../base/log.h"

#define GUARD_TICK_MS 100

struct guard_slot {
    int used;            /* registered with libmicrohttpd */
    int dropped;         /* shut down by the guard, no longer counted */
    int fd;
    unsigned char addr[16];
    size_t addr_len;
    guard_phase phase;
    int64_t since_ms;    /* entered the phase (monotonic) */
    uint64_t order;      /* registration order: ties of since_ms */
};

struct guard {
    guard_limits lim;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stopping;
    size_t nslots;
    guard_slot *slots;
    uint64_t next_order;
    unsigned long dropped, cut_off;
};

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The address bytes of sa (IPv4-mapped IPv6 counts as the IPv4 address). */
static size_t addr_bytes(const struct sockaddr *sa, unsigned char out[16]) {
    if (sa && sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) return memcpy(out, a->s6_addr + 12, 4), 4;
        memcpy(out, a->s6_addr, 16);
        return 16;
    }
    return 0;
}

static int live(const guard_slot *s) { return s->used && !s->dropped; }

static int idle(const guard_slot *s) { return live(s) && s->phase != GUARD_BUSY; }

static int same_addr(const guard_slot *s, const unsigned char *a, size_t n) {
    return s->addr_len == n && !memcmp(s->addr, a, n);
}

/* With the lock held: shuts the connection's socket down (libmicrohttpd
 * closes it and calls guard_close). */
static void drop_locked(guard_slot *s) {
    s->dropped = 1;
    shutdown(s->fd, SHUT_RDWR);
}

/* With the lock held: the oldest idle slot, of address a when a is given. */
static guard_slot *oldest_idle_locked(guard *g, const unsigned char *a, size_t n) {
    guard_slot *best = NULL;
    for (size_t i = 0; i < g->nslots; i++) {
        guard_slot *s = &g->slots[i];
        if (!idle(s) || (a && !same_addr(s, a, n))) continue;
        if (!best || s->since_ms < best->since_ms || (s->since_ms == best->since_ms && s->order < best->order))
            best = s;
    }
    return best;
}

/* With the lock held: makes room for one more connection from address a.
 * Returns 0, or -1 when a cap is reached and nothing idle can go. */
static int make_room_locked(guard *g, const unsigned char *a, size_t n) {
    unsigned total = 0, mine = 0;
    for (size_t i = 0; i < g->nslots; i++)
        if (live(&g->slots[i])) total++, mine += same_addr(&g->slots[i], a, n);
    guard_slot *victim = NULL;
    if (mine >= g->lim.max_per_addr) {
        if (!(victim = oldest_idle_locked(g, a, n))) return -1;
    } else if (total >= g->lim.max_total) {
        if (!(victim = oldest_idle_locked(g, NULL, 0))) return -1;
    }
    if (victim) drop_locked(victim), g->dropped++;
    return 0;
}

guard_slot *guard_open(guard *g, int fd, const struct sockaddr *sa) {
    unsigned char a[16];
    size_t n = addr_bytes(sa, a);
    guard_slot *slot = NULL;
    pthread_mutex_lock(&g->lock);
    int room = make_room_locked(g, a, n) == 0;
    for (size_t i = 0; room && i < g->nslots && !slot; i++)
        if (!g->slots[i].used) slot = &g->slots[i];
    if (slot) {
        memset(slot, 0, sizeof *slot);
        slot->used = 1;
        slot->fd = fd;
        memcpy(slot->addr, a, n);
        slot->addr_len = n;
        slot->phase = GUARD_WAIT;
        slot->since_ms = now_ms();
        slot->order = g->next_order++;
    } else {
        shutdown(fd, SHUT_RDWR); /* still open: libmicrohttpd has not seen it fail yet */
        g->dropped++;
    }
    pthread_mutex_unlock(&g->lock);
    if (!slot) log_msg(LOG_WARN, "serve: connection refused: connection limit reached and none idle to drop");
    return slot;
}

void guard_enter(guard *g, guard_slot *slot, guard_phase p) {
    if (!slot) return;
    pthread_mutex_lock(&g->lock);
    slot->phase = p;
    slot->since_ms = now_ms();
    pthread_mutex_unlock(&g->lock);
}

void guard_close(guard *g, guard_slot *slot) {
    if (!slot) return;
    pthread_mutex_lock(&g->lock);
    slot->used = 0;
    pthread_mutex_unlock(&g->lock);
}

void guard_counts(guard *g, unsigned long *dropped, unsigned long *cut_off) {
    pthread_mutex_lock(&g->lock);
    *dropped = g->dropped;
    *cut_off = g->cut_off;
    pthread_mutex_unlock(&g->lock);
}

/* Cuts off every connection past its phase's deadline. */
static void *watchdog(void *arg) {
    guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += GUARD_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        int rc = pthread_cond_timedwait(&g->wake, &g->lock, &until);
        if (rc && rc != ETIMEDOUT) break;
        int64_t now = now_ms();
        unsigned cut = 0;
        for (size_t i = 0; i < g->nslots; i++) {
            guard_slot *s = &g->slots[i];
            if (!idle(s)) continue;
            int64_t limit = s->phase == GUARD_WAIT ? g->lim.head_ms : g->lim.body_ms;
            if (now - s->since_ms > limit) drop_locked(s), cut++;
        }
        g->cut_off += cut;
        if (cut) {
            pthread_mutex_unlock(&g->lock); /* logging may block; the table is not touched */
            log_msg(LOG_WARN, "serve: %u connection(s) cut off: request not read within %u ms (head) / %u ms (body)",
                    cut, g->lim.head_ms, g->lim.body_ms);
            pthread_mutex_lock(&g->lock);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

guard *guard_new(const guard_limits *limits, char *err, size_t errlen) {
    guard *g = calloc(1, sizeof *g);
    if (g) g->slots = calloc((size_t)limits->max_total + GUARD_SLACK, sizeof *g->slots);
    if (!g || !g->slots) {
        if (g) free(g);
        return error_set(err, errlen, "out of memory"), NULL;
    }
    g->lim = *limits;
    g->nslots = (size_t)limits->max_total + GUARD_SLACK;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    int rc = pthread_create(&g->thread, NULL, watchdog, g);
    if (rc) {
        error_set(err, errlen, "cannot start the connection watchdog: %s", strerror(rc));
        pthread_mutex_destroy(&g->lock);
        pthread_cond_destroy(&g->wake);
        free(g->slots);
        free(g);
        return NULL;
    }
    return g;
}

void guard_free(guard *g) {
    if (!g) return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->wake);
    free(g->slots);
    free(g);
}
