/* portal.c — see portal.h. Pages are small HTML built here (no script);
 * every value written into them is either validated (region, period,
 * akimat name) or HTML-escaped. */
#include "portal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "layout.h"

#define PORTAL_MAX_CLIENTS 256
#define PAGE_CSP "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
#define DASHBOARD_CSP \
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
#define DASHBOARD_MAX (8u << 20)

typedef struct {
    char id[65];                 /* "" = free slot */
    char csrf[65];
    char name[ACCESS_MAX_NAME + 1];
    unsigned char hash[32];      /* the token's, to re-check the access file */
    time_t expires;
} session;

typedef struct {
    char addr[64];
    int failures;
    time_t first;
} client;

struct portal {
    char out[4096], access_path[4096];
    int ttl;
    pthread_mutex_t lock;
    session sessions[PORTAL_MAX_SESSIONS];
    client clients[PORTAL_MAX_CLIENTS];
};

typedef struct {
    char *body;
    size_t len;
    int too_big;
} request_state;

portal *portal_new(const char *out_dir, const char *access_path, int ttl) {
    portal *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->out, sizeof p->out, "%s", out_dir);
    snprintf(p->access_path, sizeof p->access_path, "%s", access_path);
    p->ttl = ttl > 0 ? ttl : PORTAL_DEFAULT_TTL;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void portal_free(portal *p) {
    if (!p) return;
    pthread_mutex_destroy(&p->lock);
    sodium_memzero(p->sessions, sizeof p->sessions);
    free(p);
}

int portal_owns(const char *raw, size_t len) {
    return (len == 7 && !memcmp(raw, "/portal", 7)) || (len >= 8 && !memcmp(raw, "/portal/", 8));
}

void portal_request_done(void *state) {
    request_state *s = state;
    if (!s) return;
    if (s->body) sodium_memzero(s->body, s->len), free(s->body);
    free(s);
}

/* ---- small helpers -------------------------------------------------------- */

static void random_hex(char out[65]) {
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, 65, b, sizeof b);
    sodium_memzero(b, sizeof b);
}

static int same_secret(const char *a, const char *b) {
    size_t n = strlen(a);
    return n == 64 && strlen(b) == 64 && sodium_memcmp(a, b, 64) == 0;
}

/* The value of field name in a form-urlencoded body, decoded into out
 * (NUL-terminated). 0, or -1 when absent, malformed or too long. */
static int form_field(const char *body, size_t len, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && body[end] != '&') end++;
        if (end - i > nl && !memcmp(body + i, name, nl) && body[i + nl] == '=') {
            size_t k = 0;
            for (size_t j = i + nl + 1; j < end; j++) {
                int ch = (unsigned char)body[j];
                if (ch == '+') ch = ' ';
                else if (ch == '%') {
                    unsigned v;
                    if (j + 2 >= end) return -1;
                    if (sscanf(body + j + 1, "%2x", &v) != 1) return -1;
                    ch = (int)v, j += 2;
                }
                if (k + 1 >= cap || ch == 0) return -1;
                out[k++] = (char)ch;
            }
            out[k] = '\0';
            return 0;
        }
        i = end + 1;
    }
    return -1;
}

/* ---- sessions ------------------------------------------------------------- */

/* A new session for e; its id and csrf into out. Cannot fail (the oldest
 * session makes room). */
static void session_open(portal *p, const access_entry *e, session *out) {
    time_t now = time(NULL);
    pthread_mutex_lock(&p->lock);
    session *slot = &p->sessions[0];
    for (size_t i = 0; i < PORTAL_MAX_SESSIONS; i++) {
        session *s = &p->sessions[i];
        if (!s->id[0] || s->expires <= now) {
            slot = s;
            break;
        }
        if (s->expires < slot->expires) slot = s;
    }
    random_hex(slot->id);
    random_hex(slot->csrf);
    snprintf(slot->name, sizeof slot->name, "%s", e->name);
    memcpy(slot->hash, e->hash, sizeof slot->hash);
    slot->expires = now + p->ttl;
    *out = *slot;
    pthread_mutex_unlock(&p->lock);
}

/* The live session of the request's cookie (copied into *out), and the
 * akimat's current access entry (re-read from the access file). 1 when
 * both exist and still agree, 0 otherwise. */
static int session_find(portal *p, struct MHD_Connection *c, session *out, access_entry *who) {
    const char *id = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "esep_session");
    if (!id || strlen(id) != 64) return 0;
    int found = 0;
    time_t now = time(NULL);
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < PORTAL_MAX_SESSIONS && !found; i++) {
        session *s = &p->sessions[i];
        if (s->id[0] && same_secret(s->id, id)) {
            if (s->expires > now) *out = *s, found = 1;
            else memset(s, 0, sizeof *s);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (!found) return 0;
    access_list acl;
    char err[256];
    if (access_load(p->access_path, &acl, err, sizeof err)) return 0;
    int ok = 0;
    for (size_t i = 0; i < acl.n; i++)
        if (!strcmp(acl.entry[i].name, out->name) && sodium_memcmp(acl.entry[i].hash, out->hash, 32) == 0)
            *who = acl.entry[i], ok = 1;
    access_free(&acl);
    return ok;
}

static void session_close(portal *p, const char *id) {
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < PORTAL_MAX_SESSIONS; i++)
        if (p->sessions[i].id[0] && same_secret(p->sessions[i].id, id)) sodium_memzero(&p->sessions[i], sizeof(session));
    pthread_mutex_unlock(&p->lock);
}

/* ---- failed logins ------------------------------------------------------- */

static client *client_slot(portal *p, const char *addr, time_t now) {
    client *oldest = &p->clients[0];
    for (size_t i = 0; i < PORTAL_MAX_CLIENTS; i++) {
        client *k = &p->clients[i];
        if (k->addr[0] && !strcmp(k->addr, addr)) {
            if (now - k->first >= PORTAL_FAILURE_WINDOW) k->failures = 0, k->first = now;
            return k;
        }
        if (!k->addr[0] || k->first < oldest->first) oldest = k;
    }
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
    oldest->first = now;
    return oldest;
}

static int login_blocked(portal *p, const char *addr) {
    pthread_mutex_lock(&p->lock);
    int blocked = client_slot(p, addr, time(NULL))->failures >= PORTAL_MAX_FAILURES;
    pthread_mutex_unlock(&p->lock);
    return blocked;
}

static void login_failed(portal *p, const char *addr) {
    pthread_mutex_lock(&p->lock);
    client_slot(p, addr, time(NULL))->failures++;
    pthread_mutex_unlock(&p->lock);
}

/* ---- responses ------------------------------------------------------------- */

static int add(struct MHD_Response *r, const char *h, const char *v) { return MHD_add_response_header(r, h, v) == MHD_YES ? 0 : -1; }

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, struct MHD_Response *r, size_t len,
                            const char *cookie, const char *cookie2, portal_outcome *out) {
    if (!r) return MHD_NO;
    int failed = (cookie && add(r, MHD_HTTP_HEADER_SET_COOKIE, cookie)) ||
                 (cookie2 && add(r, MHD_HTTP_HEADER_SET_COOKIE, cookie2)) ||
                 add(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") || add(r, "X-Frame-Options", "DENY") ||
                 add(r, "Referrer-Policy", "no-referrer") || add(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_NO;
    if (!failed) {
        out->status = (int)status;
        out->body_len = len;
        ret = MHD_queue_response(c, status, r);
    }
    MHD_destroy_response(r);
    return ret;
}

/* Sends html (malloc'd; freed here on every path) with its policy. */
static enum MHD_Result send_html(struct MHD_Connection *c, unsigned status, char *html, size_t len, const char *csp,
                                 const char *cookie, const char *cookie2, portal_outcome *out) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, html, MHD_RESPMEM_MUST_FREE);
    if (!r) return free(html), MHD_NO;
    if (add(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8") || add(r, "Content-Security-Policy", csp)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    return respond(c, status, r, len, cookie, cookie2, out);
}

/* An HTML page (body already escaped) with the portal's policy. */
static enum MHD_Result send_page(struct MHD_Connection *c, unsigned status, const char *title, const char *html,
                                 const char *cookie, const char *cookie2, portal_outcome *out) {
    char *page = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&page, &len);
    if (!f) return MHD_NO;
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"kk\"><head><meta charset=\"utf-8\"><title>esep — %s</title>"
            "<style>body{font-family:sans-serif;margin:40px;color:#1d2733}table{border-collapse:collapse}"
            "td,th{border-bottom:1px solid #ccd;padding:4px 10px;text-align:left}"
            "input,button{font-size:15px;padding:5px}.err{color:#b00020}</style></head>\n<body>\n%s\n</body></html>\n",
            title, html);
    if (fclose(f) != 0) return free(page), MHD_NO;
    return send_html(c, status, page, len, PAGE_CSP, cookie, cookie2, out);
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *to, const char *cookie, const char *cookie2,
                                portal_outcome *out) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r || add(r, MHD_HTTP_HEADER_LOCATION, to)) {
        if (r) MHD_destroy_response(r);
        return MHD_NO;
    }
    return respond(c, MHD_HTTP_SEE_OTHER, r, 0, cookie, cookie2, out);
}

static enum MHD_Result plain(struct MHD_Connection *c, unsigned status, const char *msg, portal_outcome *out) {
    char html[256];
    snprintf(html, sizeof html, "<h1>%u</h1><p>%s</p><p><a href=\"/portal/\">esep</a></p>", status, msg);
    return send_page(c, status, msg, html, NULL, NULL, out);
}

/* "; Secure" when the request came through a TLS proxy. */
static const char *secure_flag(struct MHD_Connection *c) {
    const char *proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
    return proto && !strcmp(proto, "https") ? "; Secure" : "";
}

/* ---- pages ------------------------------------------------------------------ */

static enum MHD_Result login_page(struct MHD_Connection *c, unsigned status, const char *message,
                                  portal_outcome *out) {
    char csrf[65], cookie[200], html[2048];
    random_hex(csrf);
    snprintf(cookie, sizeof cookie, "esep_csrf=%s; Path=/portal; HttpOnly; SameSite=Strict%s", csrf, secure_flag(c));
    snprintf(html, sizeof html,
             "<h1>esep</h1><p>Әкімдік қызметкеріне / Для сотрудника акимата</p>%s"
             "<form method=\"post\" action=\"/portal/login\">"
             "<label>Токен / Токен доступа <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" "
             "size=\"70\"></label> <input type=\"hidden\" name=\"csrf\" value=\"%s\">"
             "<button type=\"submit\" id=\"login\">Кіру / Войти</button></form>",
             message, csrf);
    return send_page(c, status, "login", html, cookie, NULL, out);
}

static void html_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

/* Rows of the list page: every (region, period) of OUT the akimat may read
 * with a published revision. */
static void list_rows(const portal *p, const access_entry *who, FILE *f) {
    char dir[4200];
    struct dirent **regions, **periods;
    snprintf(dir, sizeof dir, "%s/publish", p->out);
    int nr = scandir(dir, &regions, NULL, by_name);
    for (int i = 0; i < nr; i++) {
        const char *ab = regions[i]->d_name;
        char rdir[4500];
        snprintf(rdir, sizeof rdir, "%.4200s/%.3s", dir, ab);
        int np = layout_valid_region(ab) && access_allows(who, ab) ? scandir(rdir, &periods, NULL, by_name) : -1;
        for (int k = 0; k < np; k++) {
            const char *per = periods[k]->d_name;
            int rev = layout_valid_period(per) ? layout_latest_revision(p->out, ab, per) : 0;
            if (rev > 0)
                fprintf(f,
                        "<tr class=\"bundle\" data-region=\"%s\" data-period=\"%s\"><td>%s</td><td>%s</td><td>r%d</td>"
                        "<td><a class=\"download\" href=\"/portal/bundles/%s/%s\">esep-%s-%s.tar.zst</a></td>"
                        "<td><a class=\"dashboard\" href=\"/portal/bundles/%s/%s/index.html\">index.html</a></td></tr>\n",
                        ab, per, ab, per, rev, ab, per, ab, per, ab, per);
            free(periods[k]);
        }
        if (np >= 0) free(periods);
        free(regions[i]);
    }
    if (nr >= 0) free(regions);
}

static enum MHD_Result list_page(portal *p, struct MHD_Connection *c, const session *s, const access_entry *who,
                                 portal_outcome *out) {
    char *html = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&html, &len);
    if (!f) return MHD_NO;
    fputs("<h1>esep</h1><p id=\"who\">", f);
    html_escape(f, who->name);
    fputs("</p><form method=\"post\" action=\"/portal/logout\"><input type=\"hidden\" name=\"csrf\" value=\"", f);
    fputs(s->csrf, f);
    fputs("\"><button type=\"submit\" id=\"logout\">Шығу / Выйти</button></form>\n"
          "<table id=\"bundles\"><tr><th>Өңір / Регион</th><th>Кезең / Период</th><th>Ревизия</th>"
          "<th>Пакет / Пакет</th><th>Дашборд</th></tr>\n",
          f);
    list_rows(p, who, f);
    fputs("</table>\n<p>Тексеру / Проверка: <code>openssl pkeyutl -verify -pubin -inkey esep.pub.pem -rawin -in "
          "BUNDLE -sigfile BUNDLE.ed25519</code></p>",
          f);
    if (fclose(f) != 0) return free(html), MHD_NO;
    enum MHD_Result r = send_page(c, MHD_HTTP_OK, "bundles", html, NULL, NULL, out);
    free(html);
    return r;
}

/* ---- bundles ---------------------------------------------------------------- */

static int open_latest(const portal *p, const char *ab, const char *per, struct stat *st, char *name, size_t n) {
    char path[4400];
    int rev = layout_latest_revision(p->out, ab, per);
    if (rev <= 0 || layout_revision_file(p->out, ab, per, rev, 0, path, sizeof path) ||
        layout_bundle_name(ab, per, rev, name, n))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && (fstat(fd, st) || !S_ISREG(st->st_mode))) close(fd), fd = -1;
    return fd;
}

static enum MHD_Result send_bundle(portal *p, struct MHD_Connection *c, const char *ab, const char *per,
                                   portal_outcome *out) {
    struct stat st;
    char name[128], disposition[200];
    int fd = open_latest(p, ab, per, &st, name, sizeof name);
    if (fd < 0) return plain(c, MHD_HTTP_NOT_FOUND, "not published", out);
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) return close(fd), MHD_NO;
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", name);
    if (add(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zstd") ||
        add(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    return respond(c, MHD_HTTP_OK, r, (size_t)st.st_size, NULL, NULL, out);
}

/* index.html of the latest revision, read from the bundle. 0 or -1. */
static int read_dashboard(int fd, char **data, size_t *len) {
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int rc = -1;
    *data = NULL;
    if (!a || archive_read_support_filter_zstd(a) != ARCHIVE_OK || archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
        if (a) archive_read_free(a);
        return -1;
    }
    while (rc && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        la_int64_t size = archive_entry_size(e);
        if (strcmp(archive_entry_pathname(e), "index.html") || size <= 0 || size > DASHBOARD_MAX) continue;
        if (!(*data = malloc((size_t)size))) break;
        if (archive_read_data(a, *data, (size_t)size) == size) *len = (size_t)size, rc = 0;
        else free(*data), *data = NULL;
        break;
    }
    archive_read_free(a);
    return rc;
}

static enum MHD_Result send_dashboard(portal *p, struct MHD_Connection *c, const char *ab, const char *per,
                                      portal_outcome *out) {
    struct stat st;
    char name[128], *data;
    size_t len;
    int fd = open_latest(p, ab, per, &st, name, sizeof name);
    if (fd < 0) return plain(c, MHD_HTTP_NOT_FOUND, "not published", out);
    int rc = read_dashboard(fd, &data, &len);
    close(fd);
    if (rc) return plain(c, MHD_HTTP_NOT_FOUND, "no dashboard in this bundle", out);
    return send_html(c, MHD_HTTP_OK, data, len, DASHBOARD_CSP, NULL, NULL, out);
}

/* ---- routing ----------------------------------------------------------------- */

typedef enum { P_BAD, P_HOME, P_LOGIN, P_LOGOUT, P_BUNDLE, P_DASHBOARD } page_kind;

/* /portal[/], /portal/login, /portal/logout, /portal/bundles/AB/P[/index.html]. */
static page_kind parse(const char *raw, size_t len, char ab[3], char per[8]) {
    char seg[5][16];
    int n = 0;
    if (len > 256) return P_BAD;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)raw[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-' || ch == '_' || ch == '/'))
            return P_BAD;
    }
    for (size_t i = 1; i < len && n < 5;) {
        size_t j = i;
        while (j < len && raw[j] != '/') j++;
        if (j - i == 0 || j - i >= 16) return j == len && j - i == 0 && n == 1 ? P_HOME : P_BAD;
        memcpy(seg[n], raw + i, j - i);
        seg[n][j - i] = '\0';
        if (!strcmp(seg[n], ".") || !strcmp(seg[n], "..")) return P_BAD;
        n++;
        i = j + 1;
    }
    if (n == 1) return P_HOME;
    if (n == 2 && !strcmp(seg[1], "login")) return P_LOGIN;
    if (n == 2 && !strcmp(seg[1], "logout")) return P_LOGOUT;
    if ((n == 4 || (n == 5 && !strcmp(seg[4], "index.html"))) && !strcmp(seg[1], "bundles") &&
        layout_valid_region(seg[2]) && layout_valid_period(seg[3])) {
        memcpy(ab, seg[2], 3);
        snprintf(per, 8, "%.7s", seg[3]); /* a valid period fits */
        return n == 4 ? P_BUNDLE : P_DASHBOARD;
    }
    return P_BAD;
}

static enum MHD_Result do_login(portal *p, struct MHD_Connection *c, const char *addr, const request_state *rs,
                                portal_outcome *out) {
    char token[ACCESS_MAX_TOKEN + 1], csrf[80], cookie[256];
    const char *want = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "esep_csrf");
    if (!rs || rs->too_big) return plain(c, 413, "request too large", out);
    if (form_field(rs->body, rs->len, "csrf", csrf, sizeof csrf) || !want || !same_secret(csrf, want))
        return plain(c, MHD_HTTP_FORBIDDEN, "CSRF check failed; reload the login page", out);
    if (login_blocked(p, addr))
        return plain(c, MHD_HTTP_TOO_MANY_REQUESTS, "too many failed logins; try again later", out);
    access_list acl;
    char err[256];
    const access_entry *e = NULL;
    int have = form_field(rs->body, rs->len, "token", token, sizeof token) == 0;
    if (access_load(p->access_path, &acl, err, sizeof err)) return plain(c, 500, "access file unreadable", out);
    if (have) e = access_lookup(&acl, token, strlen(token));
    sodium_memzero(token, sizeof token);
    session s;
    if (e) session_open(p, e, &s), snprintf(out->who, sizeof out->who, "%s", e->name);
    access_free(&acl);
    if (!e) {
        login_failed(p, addr);
        return login_page(c, MHD_HTTP_UNAUTHORIZED, "<p class=\"err\" id=\"error\">Қате токен / Неверный токен</p>", out);
    }
    snprintf(cookie, sizeof cookie, "esep_session=%s; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=%d%s", s.id,
             p->ttl, secure_flag(c));
    sodium_memzero(&s, sizeof s);
    return redirect(c, "/portal/", cookie, "esep_csrf=; Path=/portal; Max-Age=0", out);
}

static enum MHD_Result do_logout(portal *p, struct MHD_Connection *c, const request_state *rs, portal_outcome *out) {
    session s;
    access_entry who;
    char csrf[80];
    if (!session_find(p, c, &s, &who)) return redirect(c, "/portal/login", NULL, NULL, out);
    if (!rs || form_field(rs->body, rs->len, "csrf", csrf, sizeof csrf) || !same_secret(csrf, s.csrf))
        return plain(c, MHD_HTTP_FORBIDDEN, "CSRF check failed", out);
    session_close(p, s.id);
    return redirect(c, "/portal/login", "esep_session=; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=0", NULL, out);
}

static enum MHD_Result answer(portal *p, struct MHD_Connection *c, const char *method, const char *raw, size_t len,
                              const char *addr, const request_state *rs, portal_outcome *out) {
    char ab[3] = "", per[8] = "";
    page_kind k = parse(raw, len, ab, per);
    int post = !strcmp(method, "POST"), get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (k == P_BAD) return plain(c, MHD_HTTP_BAD_REQUEST, "bad request", out);
    if (k == P_LOGIN && get) return login_page(c, MHD_HTTP_OK, "", out);
    if (k == P_LOGIN && post) return do_login(p, c, addr, rs, out);
    if (k == P_LOGOUT && post) return do_logout(p, c, rs, out);
    if (!get || k == P_LOGOUT) return plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", out);
    session s;
    access_entry who;
    if (!session_find(p, c, &s, &who)) {
        if (k == P_HOME) return redirect(c, "/portal/login", NULL, NULL, out);
        return plain(c, MHD_HTTP_UNAUTHORIZED, "log in first", out);
    }
    snprintf(out->who, sizeof out->who, "%s", who.name);
    if (k == P_HOME) return list_page(p, c, &s, &who, out);
    if (!access_allows(&who, ab)) return plain(c, MHD_HTTP_FORBIDDEN, "not your region", out);
    return k == P_BUNDLE ? send_bundle(p, c, ab, per, out) : send_dashboard(p, c, ab, per, out);
}

enum MHD_Result portal_request(portal *p, struct MHD_Connection *c, const char *method, const char *raw,
                               size_t raw_len, const char *addr, const char *upload, size_t *upload_size,
                               void **state, portal_outcome *out) {
    request_state *rs = *state;
    if (*upload_size) {
        if (!rs && !(rs = *state = calloc(1, sizeof *rs))) return MHD_NO;
        if (rs->len + *upload_size > PORTAL_MAX_BODY) rs->too_big = 1;
        else {
            char *grown = realloc(rs->body, rs->len + *upload_size + 1);
            if (!grown) return MHD_NO;
            memcpy(grown + rs->len, upload, *upload_size);
            rs->body = grown, rs->len += *upload_size;
            rs->body[rs->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return answer(p, c, method, raw, raw_len, addr, rs, out);
}
