/* serve.h — `esep serve`: the download service through which akimats fetch
 * their bundles (outputs.md "Bundles"; files as in layout.h). HTTP only —
 * it binds to loopback unless told otherwise; put a TLS-terminating proxy
 * in front of it before exposing it to a network.
 *
 * Endpoints (GET and HEAD; anything else is 405):
 *   /v1/catalog                      JSON array, one object per (region,
 *        period) the caller may read that has a published revision:
 *        {region, period, revision, bundle, size, sha256, signature_url,
 *        bundle_url}, sorted by region then period.
 *   /v1/bundles/<AB>/<P>             the latest revision's .tar.zst, from a
 *        descriptor opened once per request, so a download always carries
 *        one whole revision even when a newer one appears meanwhile.
 *        ETag "<sha256 hex>" (hashed from that descriptor once per (dev,
 *        inode, size, mtime) and cached, LRU, SERVE_ETAG_CACHE entries;
 *        the first request for a new revision waits for the hash),
 *        X-Esep-Revision, Accept-Ranges: bytes,
 *        Content-Disposition: attachment; filename="esep-AB-P.rN.tar.zst".
 *        If-None-Match → 304. Range: one range `bytes=a-b`, `a-` or `-n`
 *        → 206 with Content-Range; unsatisfiable or malformed → 416 with a
 *        Content-Range giving the size; several ranges or another unit →
 *        the whole file (200). If-Range: the range is honoured only when
 *        it equals the current ETag (dates never match), otherwise the
 *        whole file is sent — clients resuming across a new revision
 *        should send it.
 *   /v1/bundles/<AB>/<P>/signature   the same revision's detached signature
 *        (text/plain, X-Esep-Revision). Bundle and signature are separate
 *        requests: a client compares their X-Esep-Revision headers.
 *
 * /portal and /portal/… are the browser portal (portal.h), with its own
 * methods (a POST login form), cookies and checks; the rest of this
 * comment is about the Bearer API.
 *
 * Order of checks, so that nothing leaks: (1) the raw request target — only
 * [A-Za-z0-9._/-], no percent-encoding at all, no query, no empty, `.` or
 * `..` segment, at most SERVE_MAX_PATH bytes, region and period valid —
 * else 400 (a clean path that is no endpoint: 404); (2) `Authorization:
 * Bearer <token>` — else 401 with WWW-Authenticate; (3) the region is in
 * the caller's list — else 403, decided before the disk is looked at, so
 * the answer is the same whether the bundle exists or not; (4) the disk —
 * 404 when no revision is published. The decoded URL libmicrohttpd hands
 * the handler is never used (MHD turns %2F into '/').
 *
 * Every request is appended to the audit log, one line each, written with
 * a single write() on an O_APPEND descriptor:
 *   <UTC time> client=<name|-> addr=<ip> method=<M> path=<raw target,
 *   non-safe bytes as %XX, cut at 300> status=<code|-> revision=<N|->
 *   bytes=<body bytes> result=<complete|aborted> ms=<duration>
 * bytes is the body length for a complete transfer (every byte handed to
 * the kernel); for an aborted one (result=aborted) it is what the client's
 * TCP acknowledged during the request (TCP_INFO), capped by what was handed
 * over — an upper bound by at most the response header's size. Client
 * addresses are as seen by the socket (a proxy's own address behind one).
 * The token is never written, and neither is any other header.
 *
 * The access file is re-read when its inode, size or mtime changes (so
 * `esep access add` takes effect without a restart). It fails closed: when
 * it is gone or a line of it does not parse, no token is valid — every
 * request that reaches authentication is answered 503 and an ERROR line
 * says so at once and every 10 s while it lasts — until a valid file is
 * back (keeping the previous list would keep removed tokens working).
 *
 * Bytes libmicrohttpd would cut silently — a NUL in the request target, a
 * NUL or control byte (other than a tab) in any header name or value, the
 * token included — make the request 400 before anything else is looked at
 * (request.h has the parsing).
 *
 * Connections (guard.h): at most max_connections live connections and
 * max_per_addr per client address; a newcomer beyond a cap makes the
 * oldest idle connection (no complete request yet) go, or is refused when
 * none is idle. A request head must be complete within head_timeout_ms of
 * the connection becoming idle (accepted, or its previous response sent:
 * an idle keep-alive connection is closed after that long too), a body
 * within body_timeout_ms; a response in progress is only subject to
 * SERVE_IDLE_TIMEOUT without progress. */
#ifndef ESEP_SERVE_H
#define ESEP_SERVE_H

#include <stddef.h>

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVE_MAX_PATH 256
#define SERVE_THREADS 4          /* libmicrohttpd thread pool */
#define SERVE_MAX_CONNECTIONS 128 /* live connections (guard.h drops the oldest idle) */
#define SERVE_MAX_PER_IP 64      /* live connections from one address */
#define SERVE_HEAD_TIMEOUT_MS 10000 /* a whole request head, however it trickles */
#define SERVE_BODY_TIMEOUT_MS 10000 /* a request body (none is expected) */
#define SERVE_IDLE_TIMEOUT 60    /* seconds without progress while a response is sent */
#define SERVE_ETAG_CACHE 1024    /* (dev, inode, size, mtime) → sha256 */

typedef struct {
    const char *out_dir;      /* OUT; bundles under OUT/publish */
    const char *listen;       /* HOST:PORT, [IPv6]:PORT; NULL = default */
    const char *access_path;  /* the access file (access.h) */
    const char *audit_path;   /* NULL = OUT/audit.log */
    int allow_remote;         /* permit a non-loopback listen address */
    unsigned max_connections; /* 0 = SERVE_MAX_CONNECTIONS */
    unsigned max_per_addr;    /* 0 = SERVE_MAX_PER_IP */
    unsigned head_timeout_ms; /* 0 = SERVE_HEAD_TIMEOUT_MS */
    unsigned body_timeout_ms; /* 0 = SERVE_BODY_TIMEOUT_MS */
    int portal_ttl;           /* browser portal session lifetime, s (0 = default) */
} serve_options;

/* Starts the service and blocks until SIGINT or SIGTERM, then stops it
 * (connections in flight are closed) and returns 0. Returns -1 with a
 * message in err when it cannot start: bad listen address, non-loopback
 * address without allow_remote, port in use, unreadable or invalid access
 * file, audit log not writable, OUT not a directory. Installs its own
 * SIGINT/SIGTERM handlers while running and ignores SIGPIPE. */
int serve_run(const serve_options *o, char *err, size_t errlen);

/* Checks the form of a --listen value without resolving or binding:
 * HOST:PORT or [V6]:PORT with a port 1-65535. Returns 0, or -1 with the
 * message serve_run would give. (A well-formed address that is not
 * loopback, does not resolve or is in use is refused by serve_run.) */
int serve_check_listen(const char *spec, char *err, size_t errlen);

#endif
