/* access.c — see access.h. */
#include "access.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/error.h"
#include "../base/fsutil.h"
#include "layout.h"

/* Writes a message into err and returns -1. */

/* ---- fields ------------------------------------------------------------ */

static int name_char(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

int access_valid_name(const char *name) {
    size_t n = strlen(name);
    if (n < 1 || n > ACCESS_MAX_NAME) return 0;
    for (size_t i = 0; i < n; i++)
        if (!name_char((unsigned char)name[i])) return 0;
    return 1;
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Exactly 64 lowercase hex digits into 32 bytes. Returns 0 or -1. */
static int parse_hash(const char *s, unsigned char out[32]) {
    if (strlen(s) != 64) return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_value((unsigned char)s[2 * i]), lo = hex_value((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}

int access_parse_regions(const char *s, access_entry *e, char *err, size_t errlen) {
    access_entry scratch;
    if (!e) e = &scratch;
    e->all = 0;
    memset(e->region, 0, sizeof e->region);
    if (!strcmp(s, "*")) return e->all = 1, 0;
    const char *p = s;
    for (;;) {
        char code[3] = {p[0], p[0] ? p[1] : '\0', '\0'};
        if (!code[0] || !code[1] || !layout_valid_region(code) || (p[2] != ',' && p[2] != '\0'))
            return error_set(err, errlen, "regions must be * or two-digit codes separated by commas, not '%.40s'", s);
        int n = (code[0] - '0') * 10 + (code[1] - '0');
        if (e->region[n]) return error_set(err, errlen, "region %s listed twice", code);
        e->region[n] = 1;
        if (p[2] == '\0') return 0;
        p += 3;
    }
}

/* ---- parsing ----------------------------------------------------------- */

static int is_blank(int c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Splits line in place into at most max fields on runs of blanks. Returns
 * the number of fields, or max + 1 when there are more. */
static int split_fields(char *line, char **field, int max) {
    int n = 0;
    for (char *p = line; *p;) {
        while (is_blank((unsigned char)*p)) *p++ = '\0';
        if (!*p) break;
        if (n == max) return max + 1;
        field[n++] = p;
        while (*p && !is_blank((unsigned char)*p)) p++;
    }
    return n;
}

/* Parses one non-comment line into e. Returns 0, or -1 with a reason. */
static int parse_line(char *line, access_entry *e, char *err, size_t errlen) {
    char *f[3];
    int n = split_fields(line, f, 3);
    if (n != 3)
        return error_set(err, errlen, "expected 3 fields (name, token hash, regions), found %s",
                    n > 3 ? "more" : n == 2 ? "2" : "1");
    if (!access_valid_name(f[0]))
        return error_set(err, errlen, "name must be 1-%d characters of A-Z a-z 0-9 _ . -", ACCESS_MAX_NAME);
    if (parse_hash(f[1], e->hash)) return error_set(err, errlen, "token hash must be exactly 64 lowercase hex digits");
    if (access_parse_regions(f[2], e, err, errlen)) return -1;
    memcpy(e->name, f[0], strlen(f[0]) + 1);
    return 0;
}

static int by_name(const void *a, const void *b) {
    const access_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->line - y->line;
}

static int by_hash(const void *a, const void *b) {
    const access_entry *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, sizeof x->hash);
    return c ? c : x->line - y->line;
}

/* Names and hashes must be unique: sorts a copy and checks neighbours. */
static int check_unique(const char *label, const access_list *l, char *err, size_t errlen) {
    if (l->n < 2) return 0;
    access_entry *s = malloc(l->n * sizeof *s);
    if (!s) return error_set(err, errlen, "%s: out of memory", label);
    memcpy(s, l->entry, l->n * sizeof *s);
    int rc = 0;
    qsort(s, l->n, sizeof *s, by_name);
    for (size_t i = 1; i < l->n && !rc; i++)
        if (!strcmp(s[i - 1].name, s[i].name))
            rc = error_set(err, errlen, "%s:%d: name '%s' already on line %d", label, s[i].line, s[i].name, s[i - 1].line);
    qsort(s, l->n, sizeof *s, by_hash);
    for (size_t i = 1; i < l->n && !rc; i++)
        if (!memcmp(s[i - 1].hash, s[i].hash, sizeof s[i].hash))
            rc = error_set(err, errlen, "%s:%d: token hash already on line %d", label, s[i].line, s[i - 1].line);
    sodium_memzero(s, l->n * sizeof *s);
    free(s);
    return rc;
}

static int push(access_list *l, size_t *cap, const access_entry *e) {
    if (l->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        access_entry *p = realloc(l->entry, ncap * sizeof *p);
        if (!p) return -1;
        l->entry = p;
        *cap = ncap;
    }
    l->entry[l->n++] = *e;
    return 0;
}

int access_parse(const char *label, const char *text, size_t len, access_list *out, char *err, size_t errlen) {
    access_list l = {NULL, 0};
    size_t cap = 0;
    int lineno = 0, rc = 0;
    for (size_t pos = 0; pos < len && !rc;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char line[ACCESS_MAX_LINE + 1], why[200];
        lineno++;
        if (n > ACCESS_MAX_LINE) {
            rc = error_set(err, errlen, "%s:%d: line longer than %d bytes", label, lineno, ACCESS_MAX_LINE);
            break;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl != NULL);
        if (strlen(line) != n) {
            rc = error_set(err, errlen, "%s:%d: NUL byte in line", label, lineno);
            break;
        }
        const char *first = line;
        while (is_blank((unsigned char)*first)) first++;
        if (!*first || *first == '#') continue;
        access_entry e;
        memset(&e, 0, sizeof e);
        e.line = lineno;
        if (parse_line(line, &e, why, sizeof why))
            rc = error_set(err, errlen, "%s:%d: %s", label, lineno, why);
        else if (push(&l, &cap, &e))
            rc = error_set(err, errlen, "%s: out of memory", label);
    }
    if (!rc) rc = check_unique(label, &l, err, errlen);
    if (rc) access_free(&l);
    *out = l;
    return rc;
}

/* Reads the whole file open on fd (from offset 0) into a new buffer.
 * Returns 0 with *buf (caller frees) and *len, or -1 with a message. */
static int read_all(int fd, const char *path, char **buf, size_t *len, char *err, size_t errlen) {
    if (fs_read_fd(fd, ACCESS_MAX_FILE, buf, len) == 0) return 0;
    if (errno == EINVAL) return error_set(err, errlen, "%s: not a regular file", path);
    if (errno == EFBIG) return error_set(err, errlen, "%s: larger than %u bytes", path, ACCESS_MAX_FILE);
    if (errno == ENOMEM) return error_set(err, errlen, "%s: out of memory", path);
    if (errno == EIO) return error_set(err, errlen, "%s: read error", path);
    return error_set(err, errlen, "%s: %s", path, strerror(errno));
}

int access_load(const char *path, access_list *out, char *err, size_t errlen) {
    out->entry = NULL;
    out->n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    char *text;
    size_t len;
    int rc = read_all(fd, path, &text, &len, err, errlen);
    close(fd);
    if (rc) return -1;
    rc = access_parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

void access_free(access_list *l) {
    free(l->entry);
    l->entry = NULL;
    l->n = 0;
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static int valid_token(const char *t, size_t len) {
    if (len == 0 || len > ACCESS_MAX_TOKEN) return 0;
    size_t i = 0;
    for (; i < len && t[i] != '='; i++) {
        int c = (unsigned char)t[i];
        if (!(name_char(c) || c == '~' || c == '+' || c == '/')) return 0;
    }
    if (i == 0) return 0;
    for (; i < len; i++)
        if (t[i] != '=') return 0;
    return 1;
}

const access_entry *access_lookup(const access_list *l, const char *token, size_t len) {
    if (!valid_token(token, len)) return NULL;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, len);
    const access_entry *found = NULL;
    for (size_t i = 0; i < l->n; i++) {
        int same = sodium_memcmp(h, l->entry[i].hash, sizeof h) == 0;
        if (same && !found) found = &l->entry[i];
    }
    sodium_memzero(h, sizeof h);
    return found;
}

int access_allows(const access_entry *e, const char *region) {
    if (!layout_valid_region(region)) return 0;
    return e->all || e->region[(region[0] - '0') * 10 + (region[1] - '0')];
}

/* ---- access add -------------------------------------------------------- */

/* Opens path for appending, creating it 0600 when absent (*created = 1). */
static int open_for_append(const char *path, int *created, char *err, size_t errlen) {
    int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
    int fd = open(path, flags | O_CREAT | O_EXCL, 0600);
    *created = fd >= 0;
    if (fd < 0 && errno == EEXIST) fd = open(path, flags);
    if (fd < 0) return error_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return fd;
}

/* fsyncs the directory holding path, so a newly created file survives.
 * Returns 0, or -1 with a message. */
static int sync_parent(const char *path, char *err, size_t errlen) {
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd < 0 || fsync(dfd) ? -1 : 0;
    if (rc) snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
    if (dfd >= 0) close(dfd);
    return rc;
}

/* The line to append for (name, token, regions) into line; a leading
 * newline when the file does not end with one. Returns its length or -1. */
static int make_line(char *line, size_t n, int need_nl, const char *name, const char *token, const char *regions) {
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    int len = snprintf(line, n, "%s%s %s %s\n", need_nl ? "\n" : "", name, hex, regions);
    return len < 0 || (size_t)len >= n ? -1 : len;
}

/* With fd locked: checks the current contents and appends the line. */
static int append_locked(int fd, const char *path, const char *name, const char *regions, const char *token,
                         char *err, size_t errlen) {
    char *text;
    size_t len;
    if (read_all(fd, path, &text, &len, err, errlen)) return -1;
    access_list l;
    int rc = access_parse(path, text, len, &l, err, errlen);
    int need_nl = len > 0 && text[len - 1] != '\n';
    free(text);
    for (size_t i = 0; !rc && i < l.n; i++)
        if (!strcmp(l.entry[i].name, name))
            rc = error_set(err, errlen, "%s:%d: akimat '%s' is already in the access file", path, l.entry[i].line, name);
    access_free(&l);
    if (rc) return -1;
    char line[ACCESS_MAX_LINE + 2];
    int n = make_line(line, sizeof line, need_nl, name, token, regions);
    if (n < 0) return error_set(err, errlen, "%s: line too long", path);
    ssize_t w = write(fd, line, (size_t)n);
    if (w != n) {
        int saved = w < 0 ? errno : ENOSPC;
        if (w > 0 && ftruncate(fd, (off_t)len)) saved = errno;
        return error_set(err, errlen, "%s: cannot append: %s", path, strerror(saved));
    }
    if (fsync(fd)) return error_set(err, errlen, "%s: cannot sync: %s", path, strerror(errno));
    return 0;
}

int access_add(const char *path, const char *name, const char *regions, char token[ACCESS_TOKEN_HEX + 1],
               char *err, size_t errlen) {
    char why[200];
    token[0] = '\0';
    if (!access_valid_name(name))
        return error_set(err, errlen, "akimat name must be 1-%d characters of A-Z a-z 0-9 _ . -", ACCESS_MAX_NAME);
    if (access_parse_regions(regions, NULL, why, sizeof why)) return error_set(err, errlen, "%s", why);
    if (sodium_init() < 0) return error_set(err, errlen, "libsodium cannot start");
    int created, fd = open_for_append(path, &created, err, errlen);
    if (fd < 0) return -1;
    int rc = created ? sync_parent(path, err, errlen) : 0; /* before the line: no token lost */
    if (!rc && flock(fd, LOCK_EX)) rc = error_set(err, errlen, "%s: cannot lock: %s", path, strerror(errno));
    if (!rc) {
        unsigned char raw[ACCESS_TOKEN_HEX / 2];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(token, ACCESS_TOKEN_HEX + 1, raw, sizeof raw);
        sodium_memzero(raw, sizeof raw);
        rc = append_locked(fd, path, name, regions, token, err, errlen);
    }
    if (close(fd) && !rc) rc = error_set(err, errlen, "%s: %s", path, strerror(errno));
    if (rc) sodium_memzero(token, ACCESS_TOKEN_HEX + 1);
    return rc;
}
