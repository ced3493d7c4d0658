/* access.h — who may download which bundles from `esep serve`: the access
 * file, one line per akimat,
 *
 *   <name> <hex SHA-256 of its token> <regions>
 *
 * name     1–64 characters of [A-Za-z0-9_.-], unique in the file;
 * hash     exactly 64 lowercase hex digits, unique in the file;
 * regions  `*` (every region and the republic: the republic operators) or
 *          two-digit region codes separated by commas, no spaces and no
 *          repeats ("75,00"; "00" is the republic bundle).
 * Fields are separated by spaces or tabs; blank lines and lines whose first
 * non-blank character is `#` are ignored; a line is at most
 * ACCESS_MAX_LINE bytes. Anything else is an error naming file:line — the
 * file is trusted with nothing.
 *
 * Tokens. `esep access add` makes a token from 32 bytes of randombytes_buf
 * written as 64 lowercase hex digits, prints it once and stores only the
 * SHA-256 of those 64 ASCII characters. A plain (unsalted, fast) hash is
 * enough because the token has 256 bits of entropy: the file's hashes are
 * not secrets, but the file is still created 0600. Clients present the
 * token as `Authorization: Bearer <token>`; it is hashed and compared with
 * every entry in constant time (sodium_memcmp, no early exit).
 *
 * This module owns the file format, the lookup and the append; it keeps no
 * state beyond the access_list it returns. */
#ifndef ESEP_ACCESS_H
#define ESEP_ACCESS_H

#include <stddef.h>

#define ACCESS_MAX_LINE 1024          /* bytes, without the newline */
#define ACCESS_MAX_FILE (16u << 20)   /* a larger access file is refused */
#define ACCESS_MAX_NAME 64
#define ACCESS_TOKEN_HEX 64           /* a token as printed by access_add */
#define ACCESS_MAX_TOKEN 256          /* longest token a client may present */

typedef struct {
    char name[ACCESS_MAX_NAME + 1];
    unsigned char hash[32];      /* SHA-256 of the token */
    int all;                     /* regions was `*` */
    unsigned char region[100];   /* region[n] = 1: region code n may be read */
    int line;                    /* where it was defined, for messages */
} access_entry;

typedef struct {
    access_entry *entry;
    size_t n;
} access_list;

/* Parses the access-file text (len bytes, need not be NUL-terminated);
 * label names the file in messages. On success fills *out (caller frees
 * with access_free) and returns 0; on error returns -1 with "label:line:
 * reason" in err and *out empty. */
int access_parse(const char *label, const char *text, size_t len, access_list *out,
                 char *err, size_t errlen);

/* Reads and parses the access file at path (at most ACCESS_MAX_FILE
 * bytes). Returns 0 or -1 with a message in err, as access_parse. */
int access_load(const char *path, access_list *out, char *err, size_t errlen);

/* Releases what access_parse/access_load allocated; leaves *l empty.
 * Cannot fail; safe on an empty list. */
void access_free(access_list *l);

/* The entry whose hash is the SHA-256 of token (len bytes), or NULL when
 * none is, or when token is empty, longer than ACCESS_MAX_TOKEN or has a
 * character outside RFC 6750's b64token set. Every entry is compared
 * (constant time per entry, no early exit). The pointer lives as long as
 * the list. */
const access_entry *access_lookup(const access_list *l, const char *token, size_t len);

/* True when e may read region (a two-digit code); false for anything that
 * is not a valid region code. Cannot fail. */
int access_allows(const access_entry *e, const char *region);

/* True when name is a valid akimat name ([A-Za-z0-9_.-]{1,64}). */
int access_valid_name(const char *name);

/* Checks a regions field (`*` or "75,00,…") and, when e is not NULL, sets
 * e->all / e->region from it. Returns 0, or -1 with a reason in err. */
int access_parse_regions(const char *s, access_entry *e, char *err, size_t errlen);

/* Adds akimat `name` with `regions` to the access file at path: makes a
 * fresh token (see above) into token (NUL-terminated, ACCESS_TOKEN_HEX
 * digits), and appends "<name> <hash> <regions>\n" with one write() on an
 * O_APPEND descriptor under an exclusive flock, then fsyncs. The file is
 * created with mode 0600 when absent (an existing file's mode is kept); a
 * symbolic link at path is refused (O_NOFOLLOW).
 * Refused, with the file unchanged, when name or regions are invalid, when
 * the existing file does not parse, or when name is already in it.
 * Returns 0, or -1 with a message in err (token is then wiped). The caller
 * prints the token once and wipes it (sodium_memzero). */
int access_add(const char *path, const char *name, const char *regions,
               char token[ACCESS_TOKEN_HEX + 1], char *err, size_t errlen);

#endif
