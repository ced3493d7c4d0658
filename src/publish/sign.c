/* sign.c — see sign.h. */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/fsutil.h"

static int ready(char *err, size_t errlen) {
    if (sodium_init() < 0) return snprintf(err, errlen, "libsodium cannot start"), -1;
    return 0;
}

/* Reads exactly `hexlen` hex digits (then optional whitespace) from path. */
static int read_hex_file(const char *path, uint8_t *out, size_t bytes, char *err, size_t errlen) {
    char buf[300];
    FILE *f = fopen(path, "rb");
    if (!f) return snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno)), -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = '\0';
    size_t got = 0;
    if (n != 2 * bytes || sodium_hex2bin(out, bytes, buf, n, NULL, &got, NULL) != 0 || got != bytes)
        return snprintf(err, errlen, "%s: not a key file (%zu hex digits expected)", path, 2 * bytes), -1;
    return 0;
}

static int write_hex_file(const char *path, const uint8_t *bytes, size_t n, int mode, int exclusive, char *err,
                          size_t errlen) {
    char hex[300], tmp[4200];
    sodium_bin2hex(hex, sizeof hex, bytes, n);
    strcat(hex, "\n");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (exclusive && access(path, F_OK) == 0) return snprintf(err, errlen, "%s already exists; not overwritten", path), -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno)), -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        return snprintf(err, errlen, "%s: cannot write", tmp), -1;
    }
    fchmod(fd, (mode_t)mode); /* umask must not widen or narrow it */
    fputs(hex, f);
    sodium_memzero(hex, sizeof hex);
    return fs_commit_file(f, tmp, path, err, errlen);
}

int sign_keygen(const char *secret_path, const char *public_path, sign_keypair *out, char *err, size_t errlen) {
    if (ready(err, errlen)) return -1;
    crypto_sign_keypair(out->public_key, out->secret);
    if (write_hex_file(secret_path, out->secret, SIGN_SECRET_BYTES, 0600, 1, err, errlen)) return -1;
    return sign_write_public(public_path, out->public_key, err, errlen);
}

int sign_write_public(const char *path, const uint8_t key[SIGN_PUBLIC_BYTES], char *err, size_t errlen) {
    return write_hex_file(path, key, SIGN_PUBLIC_BYTES, 0644, 0, err, errlen);
}

int sign_load_secret(const char *path, sign_keypair *out, char *err, size_t errlen) {
    struct stat st;
    if (ready(err, errlen)) return -1;
    if (stat(path, &st) != 0) return snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno)), -1;
    if (st.st_mode & 077)
        return snprintf(err, errlen, "%s: secret key is readable by others (mode %03o); chmod 600 it", path,
                        (unsigned)(st.st_mode & 0777)), -1;
    if (read_hex_file(path, out->secret, SIGN_SECRET_BYTES, err, errlen)) return -1;
    crypto_sign_ed25519_sk_to_pk(out->public_key, out->secret);
    return 0;
}

int sign_load_public(const char *path, uint8_t out[SIGN_PUBLIC_BYTES], char *err, size_t errlen) {
    if (ready(err, errlen)) return -1;
    return read_hex_file(path, out, SIGN_PUBLIC_BYTES, err, errlen);
}

void sign_detached_hex(const sign_keypair *k, const void *msg, size_t len, char out[130]) {
    uint8_t sig[SIGN_BYTES];
    crypto_sign_detached(sig, NULL, msg, len, k->secret);
    sodium_bin2hex(out, 129, sig, sizeof sig);
    out[128] = '\n';
    out[129] = '\0';
}

int sign_verify_hex(const uint8_t key[SIGN_PUBLIC_BYTES], const void *msg, size_t len, const char *hex,
                    size_t hexlen) {
    uint8_t sig[SIGN_BYTES];
    size_t got = 0;
    while (hexlen > 0 && (hex[hexlen - 1] == '\n' || hex[hexlen - 1] == '\r')) hexlen--;
    if (sodium_init() < 0 || hexlen != 2 * SIGN_BYTES ||
        sodium_hex2bin(sig, sizeof sig, hex, hexlen, NULL, &got, NULL) != 0 || got != SIGN_BYTES)
        return 0;
    return crypto_sign_verify_detached(sig, msg, len, key) == 0;
}
