/* portal.h — the browser portal of `esep serve` (issue 9 item 4): akimat
 * staff log in with their access token in a browser, see the bundles they
 * may read, download them and open each bundle's dashboard in place. The
 * Bearer API of serve.h stays as it is; the portal lives under /portal.
 *
 * Pages and actions (all under /portal; only [A-Za-z0-9._/-] in the raw
 * path, as for the API):
 *   GET  /portal/login            the login form
 *   POST /portal/login            token + csrf (form-urlencoded, ≤ 4 KiB)
 *   GET  /portal/ (or /portal)    the bundles the akimat may read
 *   GET  /portal/bundles/<AB>/<P>             the latest revision (download)
 *   GET  /portal/bundles/<AB>/<P>/index.html  its dashboard, taken from the
 *                                             bundle itself, shown in place
 *   POST /portal/logout           csrf
 * Sessions. A successful login makes a session: 32 random bytes as 64 hex
 * digits in the cookie `esep_session` (HttpOnly, SameSite=Strict,
 * Path=/portal, Max-Age = the session lifetime, Secure when the request
 * came through a TLS proxy, i.e. X-Forwarded-Proto: https). The server
 * keeps at most PORTAL_MAX_SESSIONS sessions in memory (the oldest is
 * dropped) and refuses a cookie whose session has expired, whatever the
 * browser sends; every request re-reads the access file, so an akimat
 * removed from it loses its sessions at once. Without a valid session a
 * page redirects to the login form (303) and a download is 401; another
 * region is 403 before the disk is looked at.
 * CSRF. The login form carries a random value that must equal the cookie
 * `esep_csrf` set with the form (double submit, SameSite=Strict); the
 * logout form carries the session's own CSRF value. A mismatch is 403.
 * Failed logins. PORTAL_MAX_FAILURES failed logins from one client address
 * within PORTAL_FAILURE_WINDOW seconds make every login from it 429 until
 * the window has passed since the first of them (the right token too).
 * Pages send Content-Security-Policy (no script, nothing from elsewhere;
 * the dashboard gets its own page's policy), X-Frame-Options: DENY,
 * Referrer-Policy: no-referrer and Cache-Control: no-store.
 *
 * State: the session and failure tables, under one mutex. */
#ifndef ESEP_PORTAL_H
#define ESEP_PORTAL_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#define PORTAL_MAX_SESSIONS 1024
#define PORTAL_DEFAULT_TTL 1800      /* seconds a session lives */
#define PORTAL_MAX_FAILURES 5
#define PORTAL_FAILURE_WINDOW 600    /* seconds */
#define PORTAL_MAX_BODY 4096

typedef struct portal portal;

/* A portal over OUT's published bundles and the access file. ttl ≤ 0
 * means PORTAL_DEFAULT_TTL. NULL when out of memory. */
portal *portal_new(const char *out_dir, const char *access_path, int ttl);

void portal_free(portal *p);

/* True when the raw request target belongs to the portal (/portal or
 * /portal/…). Cannot fail. */
int portal_owns(const char *raw, size_t len);

/* What serve.c's audit line needs from a portal response. */
typedef struct {
    int status;
    uint64_t body_len;
    char who[65];                /* akimat name, "" when not logged in */
} portal_outcome;

/* The libmicrohttpd request handler for a portal request (after the first
 * call for the request, which serve.c answers): accumulates a POST body in
 * *state, then answers. *state starts NULL and is released with
 * portal_request_done. */
enum MHD_Result portal_request(portal *p, struct MHD_Connection *c, const char *method, const char *raw,
                               size_t raw_len, const char *addr, const char *upload, size_t *upload_size,
                               void **state, portal_outcome *out);

/* Frees a request's state (NULL is fine). Cannot fail. */
void portal_request_done(void *state);

#endif
