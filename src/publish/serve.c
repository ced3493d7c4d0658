/* serve.c — see serve.h. The service state (access list, audit log, ETag
 * cache) lives in one `server` struct handed to libmicrohttpd as the
 * closure; each request has a `request` struct, created by the URI log
 * callback (which sees the raw, undecoded request target) and freed by the
 * request-completed callback (which writes its audit line). The only
 * process-wide variable is the write end of the self-pipe that the
 * SIGINT/SIGTERM handler uses to wake serve_run. */
#include "serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/tcp.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/log.h"
#include "access.h"
#include "guard.h"
#include "layout.h"
#include "request.h"
#include "portal.h"

#define RAW_KEEP 320            /* bytes of the raw target kept per request */
#define SIG_MAX 4096            /* a .sig larger than this is not served */
#define BODY_BLOCK (64 * 1024)  /* bytes read per callback */

/* Writes a message into err and returns -1. */

typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    unsigned long used;         /* 0 = empty slot; else last use, for LRU */
    char hex[65];
} etag_slot;

typedef struct {
    char out[4096];
    char access_path[4096];
    int audit_fd;
    pthread_mutex_t audit_lock;
    pthread_mutex_t access_lock;   /* acl, acl_ok, acl_st, bad_st, loud_at */
    access_list acl;
    int acl_ok;                    /* 0: the file is missing or malformed: refuse all */
    struct stat acl_st, bad_st;
    time_t loud_at;                /* last "refusing every request" line */
    guard *guard;
    pthread_mutex_t cache_lock;    /* cache, clock */
    pthread_mutex_t hash_lock;     /* one file hashed at a time */
    etag_slot cache[SERVE_ETAG_CACHE];
    unsigned long clock;
    portal *portal;                /* the browser portal under /portal */
} server;

typedef struct {
    char raw[RAW_KEEP + 1];     /* raw request target, possibly cut */
    size_t raw_len;             /* its real length, up to a NUL */
    const char *uri;            /* MHD's copy of the request line's target */
    char addr[INET6_ADDRSTRLEN];
    struct timespec t0;
    int started, has_body, head;
    int bad_bytes;              /* a NUL or control byte in the target or a header */
    char method[16];
    int authed;
    access_entry who;           /* the caller (hash wiped) when authed */
    int status;                 /* 0 until a response is queued */
    int revision;               /* 0 = none */
    uint64_t body_len;          /* body length of a buffer response */
    void *portal_state;         /* a portal request's (portal.h) */
    int counted;                /* body streamed through body_read */
    uint64_t sent;              /* body bytes handed to MHD by body_read */
    uint64_t acked0;            /* the socket's tcpi_bytes_acked at start */
} request;

/* ---- audit log ------------------------------------------------------- */

/* The raw target for the log: safe bytes as is, others %XX, cut at 300. */
static void escape_path(const request *r, char *out, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0, keep = r->raw_len < 300 ? r->raw_len : 300;
    if (keep > RAW_KEEP) keep = RAW_KEEP;
    for (size_t i = 0; i < keep && o + 4 < n; i++) {
        unsigned char c = (unsigned char)r->raw[i];
        if (request_path_char(c)) out[o++] = (char)c;
        else out[o++] = '%', out[o++] = hex[c >> 4], out[o++] = hex[c & 15];
    }
    if (r->raw_len > keep && o + 4 < n) memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

static void iso_time(const struct timespec *t, char *out, size_t n) {
    struct tm tm;
    gmtime_r(&t->tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03ldZ", base, t->tv_nsec / 1000000);
}

/* Bytes of the connection's output the peer's TCP has acknowledged so
 * far, or UINT64_MAX when the kernel does not say. */
static uint64_t bytes_acked(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (!ci || getsockopt(ci->connect_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
        return UINT64_MAX;
    return ti.tcpi_bytes_acked;
}

/* Body bytes the client got: the whole body of a complete transfer; for
 * an aborted one what body_read handed over, capped by what the client's
 * TCP acknowledged during this request (which also counts the header, so
 * it is an upper bound within a few hundred bytes). */
static uint64_t bytes_delivered(const request *r, struct MHD_Connection *c, int complete) {
    if (!r->counted) return complete ? r->body_len : 0;
    if (complete) return r->sent;
    uint64_t acked = bytes_acked(c);
    if (acked == UINT64_MAX || r->acked0 == UINT64_MAX || acked < r->acked0) return r->sent;
    return acked - r->acked0 < r->sent ? acked - r->acked0 : r->sent;
}

/* Appends r's line to the audit log (one write under the lock). */
static void audit(server *s, const request *r, uint64_t bytes, int complete) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long ms = (long)(now.tv_sec - r->t0.tv_sec) * 1000 + (now.tv_nsec - r->t0.tv_nsec) / 1000000;
    char when[48], path[1024], status[16] = "-", rev[16] = "-", line[1536];
    iso_time(&r->t0, when, sizeof when);
    escape_path(r, path, sizeof path);
    if (r->status) snprintf(status, sizeof status, "%d", r->status);
    if (r->revision) snprintf(rev, sizeof rev, "%d", r->revision);
    int len = snprintf(line, sizeof line,
                       "%s client=%s addr=%s method=%s path=%s status=%s revision=%s bytes=%" PRIu64
                       " result=%s ms=%ld\n",
                       when, r->authed ? r->who.name : "-", r->addr[0] ? r->addr : "-",
                       r->method[0] ? r->method : "-", path, status, rev, bytes, complete ? "complete" : "aborted",
                       ms < 0 ? 0 : ms);
    if (len < 0 || (size_t)len >= sizeof line) {
        log_msg(LOG_ERROR, "serve: audit line too long; not written");
        return;
    }
    pthread_mutex_lock(&s->audit_lock);
    ssize_t w = write(s->audit_fd, line, (size_t)len);
    pthread_mutex_unlock(&s->audit_lock);
    if (w != len) log_msg(LOG_ERROR, "serve: cannot write the audit log: %s", w < 0 ? strerror(errno) : "short write");
}

/* ---- authentication -------------------------------------------------- */

static int same_file_state(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* With access_lock held: refuses every request from now on, saying so
 * loudly: at once when the state changes, then at most every 10 s. */
static void access_unusable_locked(server *s, const char *why) {
    time_t now = time(NULL);
    if (s->acl_ok || now - s->loud_at >= 10) {
        log_msg(LOG_ERROR, "serve: %s; REFUSING EVERY REQUEST (503) until the access file is fixed", why);
        s->loud_at = now;
    }
    if (s->acl_ok) access_free(&s->acl);
    s->acl_ok = 0;
}

/* With access_lock held: re-reads the access file when it changed. A file
 * that is gone or no longer parses fails closed: no token is valid until
 * a good file is back (old tokens must not outlive their removal). */
static void reload_access_locked(server *s) {
    struct stat st;
    char err[4400];
    if (stat(s->access_path, &st)) {
        snprintf(err, sizeof err, "access file %s: %s", s->access_path, strerror(errno));
        memset(&s->acl_st, 0, sizeof s->acl_st);
        memset(&s->bad_st, 0, sizeof s->bad_st);
        access_unusable_locked(s, err);
        return;
    }
    if (same_file_state(&st, &s->bad_st)) {
        access_unusable_locked(s, "the access file is still invalid");
        return;
    }
    if (s->acl_ok && same_file_state(&st, &s->acl_st)) return;
    access_list fresh;
    if (access_load(s->access_path, &fresh, err, sizeof err)) {
        s->bad_st = st;
        access_unusable_locked(s, err);
        return;
    }
    if (s->acl_ok) access_free(&s->acl);
    s->acl = fresh;
    s->acl_ok = 1;
    s->acl_st = st;
    memset(&s->bad_st, 0, sizeof s->bad_st);
    log_msg(LOG_INFO, "serve: access file reloaded, %zu akimats", s->acl.n);
}

/* Fills r->who from the Authorization header. Returns 1 when the caller
 * presented a known token, 0 otherwise, -1 when the access file is
 * unusable (every request refused). A token with bad bytes never gets
 * here (dispatch answers 400). */
static int authenticate(server *s, struct MHD_Connection *c, request *r) {
    const char *h = NULL, *tok;
    size_t hlen = 0, len;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION,
                                      strlen(MHD_HTTP_HEADER_AUTHORIZATION), &h, &hlen) != MHD_YES ||
        request_bearer(h, hlen, &tok, &len) != 1)
        h = NULL;
    pthread_mutex_lock(&s->access_lock);
    reload_access_locked(s);
    int ok = s->acl_ok;
    const access_entry *e = ok && h ? access_lookup(&s->acl, tok, len) : NULL;
    if (e) {
        r->who = *e;
        sodium_memzero(r->who.hash, sizeof r->who.hash);
        r->authed = 1;
    }
    pthread_mutex_unlock(&s->access_lock);
    return ok ? r->authed : -1;
}

/* ---- ETag: SHA-256 of the open file, cached -------------------------- */

static int slot_matches(const etag_slot *e, const struct stat *st) {
    return e->used && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int cache_get(server *s, const struct stat *st, char hex[65]) {
    int found = 0;
    pthread_mutex_lock(&s->cache_lock);
    for (size_t i = 0; i < SERVE_ETAG_CACHE && !found; i++)
        if (slot_matches(&s->cache[i], st)) {
            s->cache[i].used = ++s->clock;
            memcpy(hex, s->cache[i].hex, 65);
            found = 1;
        }
    pthread_mutex_unlock(&s->cache_lock);
    return found;
}

/* Stores into the empty or least recently used slot. */
static void cache_put(server *s, const struct stat *st, const char hex[65]) {
    pthread_mutex_lock(&s->cache_lock);
    size_t victim = 0;
    for (size_t i = 1; i < SERVE_ETAG_CACHE; i++)
        if (s->cache[i].used < s->cache[victim].used) victim = i;
    etag_slot *e = &s->cache[victim];
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    memcpy(e->hex, hex, 65);
    e->used = ++s->clock;
    pthread_mutex_unlock(&s->cache_lock);
}

/* SHA-256 of the first size bytes of fd. Returns 0, or -1 on a read error
 * or a file shorter than size. */
static int hash_fd(int fd, off_t size, char hex[65]) {
    unsigned char *buf = malloc(1 << 20), out[crypto_hash_sha256_BYTES];
    if (!buf) return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    off_t pos = 0;
    while (pos < size) {
        size_t want = size - pos < (1 << 20) ? (size_t)(size - pos) : (1 << 20);
        ssize_t n = pread(fd, buf, want, pos);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        crypto_hash_sha256_update(&st, buf, (size_t)n);
        pos += n;
    }
    free(buf);
    if (pos != size) return -1;
    crypto_hash_sha256_final(&st, out);
    sodium_bin2hex(hex, 65, out, sizeof out);
    return 0;
}

/* The SHA-256 hex of the revision file open on fd (st is its fstat). Each
 * file is hashed once; concurrent misses wait for the one hashing. */
static int file_sha256(server *s, int fd, const struct stat *st, char hex[65]) {
    if (cache_get(s, st, hex)) return 0;
    pthread_mutex_lock(&s->hash_lock);
    int rc = 0;
    if (!cache_get(s, st, hex)) {
        rc = hash_fd(fd, st->st_size, hex);
        if (!rc) cache_put(s, st, hex);
    }
    pthread_mutex_unlock(&s->hash_lock);
    return rc;
}

/* ---- responses ------------------------------------------------------- */

static const char *error_body(unsigned status) {
    switch (status) {
    case 400: return "{\"error\": \"bad request\"}\n";
    case 401: return "{\"error\": \"missing or unknown token\"}\n";
    case 403: return "{\"error\": \"this token may not read that region\"}\n";
    case 404: return "{\"error\": \"not found\"}\n";
    case 405: return "{\"error\": \"method not allowed\"}\n";
    case 416: return "{\"error\": \"range not satisfiable\"}\n";
    case 503: return "{\"error\": \"the service cannot check tokens now\"}\n";
    default: return "{\"error\": \"internal error\"}\n";
    }
}

/* Adds headers given as name, value, …, NULL. Returns 0, or -1 when
 * libmicrohttpd refused one. */
static int add_headers(struct MHD_Response *resp, ...) {
    va_list ap;
    va_start(ap, resp);
    int rc = 0;
    for (const char *name; (name = va_arg(ap, const char *));) {
        const char *value = va_arg(ap, const char *);
        if (MHD_add_response_header(resp, name, value) != MHD_YES) rc = -1;
    }
    va_end(ap);
    return rc;
}

/* Queues resp with status and releases our reference. body_len is the
 * body of a buffer response (for the audit line). */
static enum MHD_Result queue(request *r, struct MHD_Connection *c, unsigned status, struct MHD_Response *resp,
                             uint64_t body_len, int headers_failed) {
    if (!resp) return MHD_NO;
    enum MHD_Result ret = MHD_NO;
    if (!headers_failed && add_headers(resp, "X-Content-Type-Options", "nosniff", (char *)NULL) == 0) {
        r->status = (int)status;
        r->body_len = r->head ? 0 : body_len;
        ret = MHD_queue_response(c, status, resp);
    }
    MHD_destroy_response(resp);
    return ret;
}

static struct MHD_Response *error_response(unsigned status, int *failed) {
    const char *body = error_body(status);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp)
        *failed = add_headers(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json", MHD_HTTP_HEADER_CACHE_CONTROL,
                              "no-store", (char *)NULL);
    return resp;
}

static enum MHD_Result reply_error(request *r, struct MHD_Connection *c, unsigned status) {
    int failed = 0;
    struct MHD_Response *resp = error_response(status, &failed);
    if (resp && status == 401)
        failed |= add_headers(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"esep\"", (char *)NULL);
    if (resp && status == 405) failed |= add_headers(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD", (char *)NULL);
    return queue(r, c, status, resp, strlen(error_body(status)), failed);
}

/* ---- conditional and range requests --------------------------------- */

/* ---- bundle and signature -------------------------------------------- */

typedef struct {
    int fd;
    uint64_t first, len;
    uint64_t *sent;   /* the request's counter; only used while sending */
} body;

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max) {
    body *b = cls;
    if (pos >= b->len) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t want = b->len - pos < max ? (size_t)(b->len - pos) : max;
    ssize_t n;
    do n = pread(b->fd, buf, want, (off_t)(b->first + pos));
    while (n < 0 && errno == EINTR);
    if (n <= 0) return MHD_CONTENT_READER_END_WITH_ERROR;
    *b->sent = pos + (uint64_t)n;
    return n;
}

static void body_free(void *cls) {
    body *b = cls;
    close(b->fd);
    free(b);
}

/* A response streaming [first, first + len) of fd; takes fd (closed on
 * every path). NULL when out of memory. */
static struct MHD_Response *fd_response(request *r, int fd, uint64_t first, uint64_t len) {
    body *b = malloc(sizeof *b);
    if (!b) return close(fd), NULL;
    *b = (body){fd, first, len, &r->sent};
    struct MHD_Response *resp = MHD_create_response_from_callback(len, BODY_BLOCK, body_read, b, body_free);
    if (!resp) body_free(b);
    else r->counted = 1;
    return resp;
}

/* Opens revision r->revision of rt (the .sig when sig), without following
 * a symbolic link, and fstats it. Returns the fd, or -1 (errno set). */
static int open_revision(const server *s, const route *rt, int rev, int sig, char *name, size_t n, struct stat *st) {
    char path[4400];
    if (layout_revision_file(s->out, rt->region, rt->period, rev, sig, path, sizeof path) ||
        layout_bundle_name(rt->region, rt->period, rev, name, n - 4))
        return errno = ENAMETOOLONG, -1;
    if (sig) strcat(name, ".sig");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        close(fd);
        return errno = ENOENT, -1;
    }
    return fd;
}

/* Headers every bundle answer (200, 206, 304, 416) carries. */
static int bundle_headers(struct MHD_Response *resp, const char *etag, const char *rev) {
    return add_headers(resp, MHD_HTTP_HEADER_ETAG, etag, "X-Esep-Revision", rev, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes",
                       MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache", (char *)NULL);
}

/* Answers from the open revision file fd (taken): 304, 416, 206 or 200. */
static enum MHD_Result send_bundle(request *r, struct MHD_Connection *c, int fd, const struct stat *st,
                                   const char *name, const char *hex) {
    char etag[80], rev[16], disp[192], crange[96];
    snprintf(etag, sizeof etag, "\"%s\"", hex);
    snprintf(rev, sizeof rev, "%d", r->revision);
    uint64_t size = (uint64_t)st->st_size, first = 0, len = size;
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
    int failed = 0, kind = 0;
    if (inm && request_none_match(inm, etag)) {
        close(fd);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (resp) failed = bundle_headers(resp, etag, rev);
        return queue(r, c, MHD_HTTP_NOT_MODIFIED, resp, 0, failed);
    }
    if (range && (!if_range || !strcmp(if_range, etag))) kind = request_range(range, size, &first, &len);
    if (kind < 0) {
        close(fd);
        snprintf(crange, sizeof crange, "bytes */%" PRIu64, size);
        struct MHD_Response *resp = error_response(416, &failed);
        if (resp)
            failed |= bundle_headers(resp, etag, rev) |
                      add_headers(resp, MHD_HTTP_HEADER_CONTENT_RANGE, crange, (char *)NULL);
        return queue(r, c, 416, resp, strlen(error_body(416)), failed);
    }
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    struct MHD_Response *resp = fd_response(r, fd, first, len);
    if (resp)
        failed = bundle_headers(resp, etag, rev) | add_headers(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zstd",
                                                             MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp, (char *)NULL);
    if (resp && kind == 1) {
        snprintf(crange, sizeof crange, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, first + len - 1, size);
        failed |= add_headers(resp, MHD_HTTP_HEADER_CONTENT_RANGE, crange, (char *)NULL);
    }
    return queue(r, c, kind == 1 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp, 0, failed);
}

/* Answers with the detached signature open on fd (taken). */
static enum MHD_Result send_signature(request *r, struct MHD_Connection *c, int fd, const struct stat *st,
                                      const char *name) {
    char buf[SIG_MAX], rev[16], disp[192];
    ssize_t n = st->st_size <= SIG_MAX ? pread(fd, buf, (size_t)st->st_size, 0) : -1;
    close(fd);
    if (n != st->st_size) {
        log_msg(LOG_ERROR, "serve: %s: cannot read the signature", name);
        return reply_error(r, c, 500);
    }
    snprintf(rev, sizeof rev, "%d", r->revision);
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    struct MHD_Response *resp = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
    int failed = resp ? add_headers(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=us-ascii",
                                    "X-Esep-Revision", rev, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp,
                                    MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache", (char *)NULL)
                      : 0;
    return queue(r, c, MHD_HTTP_OK, resp, (uint64_t)n, failed);
}

/* A permitted bundle or signature request: the disk decides 200/404. */
static enum MHD_Result serve_file(server *s, request *r, struct MHD_Connection *c, const route *rt) {
    int sig = rt->kind == ROUTE_SIGNATURE;
    r->revision = layout_latest_revision(s->out, rt->region, rt->period);
    if (!r->revision) return reply_error(r, c, 404);
    char name[128] = "", hex[65];
    struct stat st;
    int fd = open_revision(s, rt, r->revision, sig, name, sizeof name, &st);
    if (fd < 0) {
        if (errno == ENOENT) return reply_error(r, c, 404);
        log_msg(LOG_ERROR, "serve: %s: %s", name, strerror(errno));
        return reply_error(r, c, 500);
    }
    if (sig) return send_signature(r, c, fd, &st, name);
    if (file_sha256(s, fd, &st, hex)) {
        close(fd);
        log_msg(LOG_ERROR, "serve: %s: cannot hash it", name);
        return reply_error(r, c, 500);
    }
    return send_bundle(r, c, fd, &st, name, hex);
}

/* ---- catalog --------------------------------------------------------- */

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

/* Writes the catalog object of (region, period) when it has a revision.
 * Returns 0 (also when there is nothing to list), -1 on a write error. */
static int catalog_item(server *s, FILE *out, const char *region, const char *period, int *count) {
    route rt = {ROUTE_BUNDLE, 1, "", ""};
    memcpy(rt.region, region, 3);
    snprintf(rt.period, sizeof rt.period, "%.7s", period);
    int rev = layout_latest_revision(s->out, region, period);
    char name[128] = "", hex[65], url[64], sig_url[80];
    struct stat st;
    int fd = rev ? open_revision(s, &rt, rev, 0, name, sizeof name, &st) : -1;
    if (fd < 0) return 0;
    int rc = file_sha256(s, fd, &st, hex);
    close(fd);
    if (rc) {
        log_msg(LOG_ERROR, "serve: %s: cannot hash it; left out of the catalog", name);
        return 0;
    }
    snprintf(url, sizeof url, "/v1/bundles/%.2s/%.7s", region, period);
    snprintf(sig_url, sizeof sig_url, "%s/signature", url);
    int failed = fputs(*count ? ",\n  {\"region\": " : "\n  {\"region\": ", out) == EOF;
    failed |= json_write_string(out, region) | (fputs(", \"period\": ", out) == EOF) | json_write_string(out, period);
    failed |= fprintf(out, ", \"revision\": %d, \"bundle\": ", rev) < 0;
    failed |= json_write_string(out, name) | (fprintf(out, ", \"size\": %jd, \"sha256\": ", (intmax_t)st.st_size) < 0);
    failed |= json_write_string(out, hex) | (fputs(", \"signature_url\": ", out) == EOF);
    failed |= json_write_string(out, sig_url) | (fputs(", \"bundle_url\": ", out) == EOF) | json_write_string(out, url);
    failed |= fputc('}', out) == EOF;
    (*count)++;
    return failed ? -1 : 0;
}

/* Lists the periods of one region directory. Returns 0 or -1. */
static int catalog_region(server *s, FILE *out, const char *region, int *count) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/publish/%.2s", s->out, region);
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name), rc = 0;
    for (int i = 0; i < n; i++) {
        if (!rc && layout_valid_period(list[i]->d_name)) rc = catalog_item(s, out, region, list[i]->d_name, count);
        free(list[i]);
    }
    if (n >= 0) free(list);
    return rc;
}

/* The catalog JSON for the caller into a malloc'd buffer. 0 or -1. */
static int catalog_json(server *s, const access_entry *who, char **buf, size_t *len) {
    FILE *out = open_memstream(buf, len);
    if (!out) return -1;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/publish", s->out);
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name), rc = fputc('[', out) == EOF, count = 0;
    for (int i = 0; i < n; i++) {
        if (!rc && access_allows(who, list[i]->d_name)) rc = catalog_region(s, out, list[i]->d_name, &count);
        free(list[i]);
    }
    if (n >= 0) free(list);
    rc |= fputs(count ? "\n]\n" : "]\n", out) == EOF;
    rc |= fclose(out) != 0;
    if (rc) free(*buf);
    return rc ? -1 : 0;
}

static enum MHD_Result serve_catalog(server *s, request *r, struct MHD_Connection *c) {
    char *buf;
    size_t len;
    if (catalog_json(s, &r->who, &buf, &len)) {
        log_msg(LOG_ERROR, "serve: cannot build the catalog");
        return reply_error(r, c, 500);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) return free(buf), MHD_NO;
    int failed = add_headers(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json", MHD_HTTP_HEADER_CACHE_CONTROL,
                             "private, no-cache", (char *)NULL);
    return queue(r, c, MHD_HTTP_OK, resp, len, failed);
}

/* ---- libmicrohttpd callbacks ----------------------------------------- */

/* Called with the raw request target before MHD decodes it: the request
 * struct starts here (NULL when out of memory; the handler then fails). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    request *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    clock_gettime(CLOCK_REALTIME, &r->t0);
    r->uri = uri;
    r->raw_len = strlen(uri);
    r->acked0 = bytes_acked(c);
    memcpy(r->raw, uri, r->raw_len < RAW_KEEP ? r->raw_len : RAW_KEEP);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->addr, sizeof r->addr);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->addr, sizeof r->addr);
    return r;
}

typedef struct {
    int bad;
    const char *end;   /* where the previous header's value ends (its NUL) */
} header_scan;

/* 1 when the bytes [from, to) are only what MHD leaves between a value's
 * end and the next header name: NULs it wrote over CR/LF, and whitespace. */
static int only_separators(const char *from, const char *to) {
    if (to < from || to - from > 64) return 0;
    for (const char *p = from; p < to; p++)
        if (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return 0;
    return 1;
}

static enum MHD_Result header_clean(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                    const char *value, size_t value_size) {
    (void)kind;
    header_scan *h = cls;
    if (strlen(key) != key_size || !request_clean_value(key, key_size) || (value && strlen(value) != value_size) ||
        (value && !request_clean_value(value, value_size)) || (h->end && !only_separators(h->end, key)))
        h->bad = 1;
    h->end = value ? value + value_size : key + key_size;
    return MHD_YES;
}

/* 1 when the request carries a byte libmicrohttpd would silently cut: a
 * NUL in the request target (MHD's C string ends there, so the version
 * that follows it is not where it should be) or in a header (MHD keeps a
 * header line up to its first NUL: the bytes between one value's end and
 * the next name must be line ends; after the last value, the line end and
 * the empty line, which MHD has overwritten with NULs), or a control byte
 * in any header name or value (the token included). */
static int hidden_bytes(const request *r, struct MHD_Connection *c, const char *version) {
    header_scan h = {0, NULL};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, header_clean, &h);
    if (h.end) { /* the last line's CR LF and the empty line's CR LF, NULed */
        size_t k = 0;
        while (k < 64 && (h.end[k] == ' ' || h.end[k] == '\t')) k++;
        if (h.end[k] || h.end[k + 1] || h.end[k + 2] || h.end[k + 3]) h.bad = 1;
    }
    return h.bad || version != r->uri + r->raw_len + 1;
}

static guard_slot *slot_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

typedef enum MHD_Result (*endpoint_fn)(server *s, request *r, struct MHD_Connection *c, const route *rt);

static enum MHD_Result catalog_endpoint(server *s, request *r, struct MHD_Connection *c, const route *rt) {
    (void)rt;
    return serve_catalog(s, r, c);
}

/* Handlers per route kind (request.h): a new endpoint adds one line. */
static endpoint_fn handler_of(route_kind k) {
    switch (k) {
    case ROUTE_CATALOG: return catalog_endpoint;
    case ROUTE_BUNDLE:
    case ROUTE_SIGNATURE: return serve_file;
    default: return NULL;
    }
}

/* Path, then token, then region, then disk — see serve.h. */
static enum MHD_Result dispatch(server *s, request *r, struct MHD_Connection *c, const char *url) {
    guard_enter(s->guard, slot_of(c), GUARD_BUSY);
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) return reply_error(r, c, 405);
    if (r->bad_bytes) return reply_error(r, c, 400);
    route rt = request_route(r->raw, r->raw_len);
    if (rt.kind == ROUTE_BAD || r->has_body || strcmp(url, r->raw)) return reply_error(r, c, 400);
    endpoint_fn fn = handler_of(rt.kind);
    if (!fn) return reply_error(r, c, 404);
    int who = authenticate(s, c, r);
    if (who < 0) return reply_error(r, c, 503);
    if (!who) return reply_error(r, c, 401);
    if (rt.needs_region && !access_allows(&r->who, rt.region)) return reply_error(r, c, 403);
    return fn(s, r, c, &rt);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)upload_data;
    request *r = *req_cls;
    server *s = cls;
    if (!r) return MHD_NO;
    if (!r->started) { /* the head is complete */
        r->started = 1;
        guard_enter(s->guard, slot_of(c), GUARD_BODY);
        snprintf(r->method, sizeof r->method, "%s", method);
        for (char *m = r->method; *m; m++) /* it goes into the audit log */
            if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z'))) *m = '?';
        r->head = !strcmp(method, "HEAD");
        r->bad_bytes = hidden_bytes(r, c, version);
        return MHD_YES;
    }
    if (!r->bad_bytes && portal_owns(r->raw, r->raw_len)) { /* the browser portal: its own checks (portal.h) */
        portal_outcome po = {0, 0, ""};
        enum MHD_Result ret = portal_request(((server *)cls)->portal, c, r->method, r->raw, r->raw_len, r->addr,
                                             upload_data, upload_data_size, &r->portal_state, &po);
        if (po.status) r->status = po.status, r->body_len = r->head ? 0 : po.body_len;
        if (po.who[0]) r->authed = 1, snprintf(r->who.name, sizeof r->who.name, "%s", po.who);
        return ret;
    }
    if (*upload_data_size) {
        r->has_body = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(s, r, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe) {
    server *s = cls;
    request *r = *req_cls;
    guard_enter(s->guard, slot_of(c), GUARD_WAIT); /* keep-alive: the next head has head_ms again */
    if (!r) return;
    int complete = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    audit(s, r, bytes_delivered(r, c, complete), complete);
    portal_request_done(r->portal_state);
    sodium_memzero(r, sizeof *r);
    free(r);
    *req_cls = NULL;
}

/* Every connection is registered with the guard (caps, deadlines). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        guard_close(s->guard, *socket_context);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *socket_context = fd ? guard_open(s->guard, fd->connect_fd, addr ? addr->client_addr : NULL) : NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    log_msg(LOG_WARN, "serve: http: %s", msg);
}

/* ---- listening socket ------------------------------------------------ */

static int is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return 0;
}

/* Splits HOST:PORT or [V6]:PORT. Returns 0 or -1. */
static int split_listen(const char *spec, char *host, size_t hn, char *port, size_t pn) {
    const char *colon;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= hn) return -1;
        snprintf(host, hn, "%.*s", (int)(close - spec - 1), spec + 1);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || memchr(spec, ':', (size_t)(colon - spec)) || (size_t)(colon - spec) >= hn) return -1;
        snprintf(host, hn, "%.*s", (int)(colon - spec), spec);
    }
    uint64_t p;
    if (!host[0] || request_parse_u63(colon + 1, strlen(colon + 1), &p) || p < 1 || p > 65535) return -1;
    snprintf(port, pn, "%u", (unsigned)p);
    return 0;
}

int serve_check_listen(const char *spec, char *err, size_t errlen) {
    char host[256], port[8];
    if (split_listen(spec, host, sizeof host, port, sizeof port))
        return error_set(err, errlen, "--listen '%s': expected HOST:PORT (port 1-65535)", spec);
    return 0;
}

/* Binds and listens on spec. Returns the socket, or -1 with a message. */
static int open_listener(const char *spec, int allow_remote, int *ipv6, char *err, size_t errlen) {
    char host[256], port[8];
    *ipv6 = 0;
    if (split_listen(spec, host, sizeof host, port, sizeof port))
        return error_set(err, errlen, "--listen '%s': expected HOST:PORT (port 1-65535)", spec);
    struct addrinfo hints = {.ai_flags = AI_NUMERICSERV, .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g) return error_set(err, errlen, "--listen '%s': %s", spec, gai_strerror(g));
    int fd = -1, one = 1;
    if (!allow_remote && !is_loopback(ai->ai_addr))
        snprintf(err, errlen, "--listen '%s' is not a loopback address; add --allow-remote to serve a network", spec);
    else if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        snprintf(err, errlen, "socket: %s", strerror(errno));
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
             (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)) ||
             bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
        snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
        close(fd);
        fd = -1;
    }
    *ipv6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return fd;
}

/* ---- start and stop -------------------------------------------------- */

static volatile sig_atomic_t stop_fd = -1; /* see the top of the file */

static void on_signal(int sig) {
    (void)sig;
    int saved = errno;
    if (stop_fd >= 0) {
        char b = 1;
        ssize_t w = write(stop_fd, &b, 1);
        (void)w;
    }
    errno = saved;
}

static void server_free(server *s) {
    if (s->acl_ok) access_free(&s->acl);
    guard_free(s->guard);
    portal_free(s->portal);
    if (s->audit_fd >= 0) close(s->audit_fd);
    pthread_mutex_destroy(&s->audit_lock);
    pthread_mutex_destroy(&s->access_lock);
    pthread_mutex_destroy(&s->cache_lock);
    pthread_mutex_destroy(&s->hash_lock);
    free(s);
}

/* The server state for o: access list loaded, audit log open. */
static server *server_new(const serve_options *o, char *err, size_t errlen) {
    struct stat st;
    if (stat(o->out_dir, &st) || !S_ISDIR(st.st_mode))
        return error_set(err, errlen, "%s: not a directory", o->out_dir), NULL;
    server *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, errlen, "out of memory"), NULL;
    s->audit_fd = -1;
    pthread_mutex_init(&s->audit_lock, NULL);
    pthread_mutex_init(&s->access_lock, NULL);
    pthread_mutex_init(&s->cache_lock, NULL);
    pthread_mutex_init(&s->hash_lock, NULL);
    char audit_path[4200];
    snprintf(s->out, sizeof s->out, "%s", o->out_dir);
    snprintf(s->access_path, sizeof s->access_path, "%s", o->access_path);
    snprintf(audit_path, sizeof audit_path, "%s/audit.log", o->out_dir);
    if (o->audit_path) snprintf(audit_path, sizeof audit_path, "%s", o->audit_path);
    int rc = stat(s->access_path, &s->acl_st) ? error_set(err, errlen, "%s: %s", s->access_path, strerror(errno))
                                              : access_load(s->access_path, &s->acl, err, errlen);
    s->acl_ok = rc == 0;
    guard_limits lim = {o->max_connections ? o->max_connections : SERVE_MAX_CONNECTIONS,
                        o->max_per_addr ? o->max_per_addr : SERVE_MAX_PER_IP,
                        o->head_timeout_ms ? o->head_timeout_ms : SERVE_HEAD_TIMEOUT_MS,
                        o->body_timeout_ms ? o->body_timeout_ms : SERVE_BODY_TIMEOUT_MS};
    if (!rc && !(s->guard = guard_new(&lim, err, errlen))) rc = -1;
    if (!rc && !(s->portal = portal_new(o->out_dir, o->access_path, o->portal_ttl)))
        rc = error_set(err, errlen, "out of memory");
    if (!rc && (s->audit_fd = open(audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) < 0)
        rc = error_set(err, errlen, "audit log %s: %s", audit_path, strerror(errno));
    if (rc) server_free(s);
    return rc ? NULL : s;
}

static struct MHD_Daemon *start_daemon(server *s, int listen_fd, int ipv6, unsigned max_total) {
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    /* the guard enforces the caps (dropping the oldest idle connection);
     * MHD's own limit only bounds what the guard has dropped but MHD not
     * yet closed */
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)NULL,
                            MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_THREAD_POOL_SIZE,
                            (unsigned)SERVE_THREADS, MHD_OPTION_CONNECTION_LIMIT, max_total + GUARD_SLACK,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_IDLE_TIMEOUT, MHD_OPTION_STRICT_FOR_CLIENT,
                            1, MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)s, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, (void *)s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, (void *)s,
                            MHD_OPTION_END);
}

/* Blocks until a byte arrives on the self-pipe. */
static void wait_for_stop(int fd) {
    char b;
    while (read(fd, &b, 1) < 0 && errno == EINTR) {
    }
}

int serve_run(const serve_options *o, char *err, size_t errlen) {
    if (sodium_init() < 0) return error_set(err, errlen, "libsodium cannot start");
    const char *listen_spec = o->listen ? o->listen : SERVE_DEFAULT_LISTEN;
    server *s = server_new(o, err, errlen);
    if (!s) return -1;
    int ipv6, lfd = open_listener(listen_spec, o->allow_remote, &ipv6, err, errlen), pipefd[2] = {-1, -1};
    if (lfd < 0 || pipe2(pipefd, O_CLOEXEC)) {
        if (lfd >= 0) error_set(err, errlen, "pipe: %s", strerror(errno)), close(lfd);
        server_free(s);
        return -1;
    }
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term, old_pipe, ign = {.sa_handler = SIG_IGN};
    sigemptyset(&sa.sa_mask);
    stop_fd = pipefd[1];
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGPIPE, &ign, &old_pipe);
    unsigned max_total = o->max_connections ? o->max_connections : SERVE_MAX_CONNECTIONS;
    struct MHD_Daemon *d = start_daemon(s, lfd, ipv6, max_total);
    if (d) {
        log_msg(LOG_INFO, "serve: listening on http://%s (%zu akimats in %s)", listen_spec, s->acl.n, s->access_path);
        wait_for_stop(pipefd[0]);
        MHD_stop_daemon(d); /* closes lfd; completes every request */
        unsigned long dropped, cut_off;
        guard_counts(s->guard, &dropped, &cut_off);
        log_msg(LOG_INFO, "serve: stopped; %lu connection(s) dropped at a cap, %lu cut off at a deadline", dropped,
                cut_off);
    } else {
        snprintf(err, errlen, "cannot start the HTTP service on %s", listen_spec);
        if (fcntl(lfd, F_GETFD) != -1) close(lfd); /* MHD may have closed it */
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    stop_fd = -1;
    close(pipefd[0]);
    close(pipefd[1]);
    server_free(s);
    return d ? 0 : -1;
}
