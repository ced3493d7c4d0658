/* sign.c — see sign.h. The stock-tool forms at the end are byte layouts
 * fixed by their formats: RFC 8410 (an Ed25519 SubjectPublicKeyInfo is a
 * 12-byte DER prefix and the 32 key bytes) and minisign's key and
 * signature files (base64 of algorithm "Ed", key id, key; of "ED", key id,
 * signature; then the global signature over signature ‖ trusted comment). */
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

/* Writes the hex file through a fresh temporary file (O_EXCL|O_NOFOLLOW,
 * never through a planted link). exclusive: appears by link(2), which
 * fails when path exists (two first runs at once: one key wins, the other
 * is told EEXIST); otherwise replaced by rename(2). */
static int write_hex_file(const char *path, const uint8_t *bytes, size_t n, int mode, int exclusive, char *err,
                          size_t errlen) {
    char hex[300], tmp[4400];
    sodium_bin2hex(hex, sizeof hex, bytes, n);
    strcat(hex, "\n");
    FILE *f = fs_temp_open(path, mode, tmp, sizeof tmp, err, errlen);
    if (!f) return sodium_memzero(hex, sizeof hex), -1;
    fchmod(fileno(f), (mode_t)mode); /* umask must not widen or narrow it */
    fputs(hex, f);
    sodium_memzero(hex, sizeof hex);
    if (!exclusive) return fs_commit_file(f, tmp, path, err, errlen);
    int failed = fflush(f) != 0 || fsync(fileno(f)) != 0;
    failed |= fclose(f) != 0;
    if (failed) return unlink(tmp), snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno)), -1;
    int linked = link(tmp, path);
    int saved = errno;
    unlink(tmp);
    if (linked != 0 && saved == EEXIST) return errno = EEXIST, snprintf(err, errlen, "%s already exists; not overwritten", path), -1;
    if (linked != 0) return snprintf(err, errlen, "%s: cannot create: %s", path, strerror(saved)), -1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    return fs_sync_dir(slash ? dir : ".", err, errlen);
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

/* ---- stock tools ---------------------------------------------------------- */

static const uint8_t SPKI_ED25519[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

static void key_id(const uint8_t key[SIGN_PUBLIC_BYTES], uint8_t id[8]) {
    uint8_t h[32];
    crypto_generichash(h, sizeof h, key, SIGN_PUBLIC_BYTES, NULL, 0);
    memcpy(id, h, 8);
}

static void base64(const uint8_t *bin, size_t n, char *out, size_t cap) {
    sodium_bin2base64(out, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

void sign_public_pem(const uint8_t key[SIGN_PUBLIC_BYTES], char out[SIGN_PEM_CAP]) {
    uint8_t der[sizeof SPKI_ED25519 + SIGN_PUBLIC_BYTES];
    char b64[80];
    memcpy(der, SPKI_ED25519, sizeof SPKI_ED25519);
    memcpy(der + sizeof SPKI_ED25519, key, SIGN_PUBLIC_BYTES);
    base64(der, sizeof der, b64, sizeof b64);
    snprintf(out, SIGN_PEM_CAP, "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", b64);
}

void sign_public_minisign(const uint8_t key[SIGN_PUBLIC_BYTES], char out[SIGN_MINISIGN_PUB_CAP]) {
    uint8_t blob[2 + 8 + SIGN_PUBLIC_BYTES] = {'E', 'd'};
    char b64[80];
    key_id(key, blob + 2);
    memcpy(blob + 10, key, SIGN_PUBLIC_BYTES);
    base64(blob, sizeof blob, b64, sizeof b64);
    snprintf(out, SIGN_MINISIGN_PUB_CAP, "untrusted comment: minisign public key %02X%02X%02X%02X%02X%02X%02X%02X\n%s\n",
             blob[9], blob[8], blob[7], blob[6], blob[5], blob[4], blob[3], blob[2], b64);
}

void sign_raw(const sign_keypair *k, const void *msg, size_t len, uint8_t sig[SIGN_BYTES]) {
    crypto_sign_detached(sig, NULL, msg, len, k->secret);
}

int sign_minisig(const sign_keypair *k, const void *msg, size_t len, const char *trusted_comment,
                 char out[SIGN_MINISIG_CAP]) {
    size_t tc = strlen(trusted_comment);
    if (tc > 200 || strpbrk(trusted_comment, "\r\n")) return -1;
    uint8_t hash[64], blob[2 + 8 + SIGN_BYTES] = {'E', 'D'}, global_msg[SIGN_BYTES + 200], global[SIGN_BYTES];
    char b64[128], gb64[128];
    crypto_generichash(hash, sizeof hash, msg, len, NULL, 0);
    key_id(k->public_key, blob + 2);
    crypto_sign_detached(blob + 10, NULL, hash, sizeof hash, k->secret);
    memcpy(global_msg, blob + 10, SIGN_BYTES);
    memcpy(global_msg + SIGN_BYTES, trusted_comment, tc);
    crypto_sign_detached(global, NULL, global_msg, SIGN_BYTES + tc, k->secret);
    base64(blob, sizeof blob, b64, sizeof b64);
    base64(global, sizeof global, gb64, sizeof gb64);
    snprintf(out, SIGN_MINISIG_CAP, "untrusted comment: signature from esep secret key\n%s\ntrusted comment: %s\n%s\n",
             b64, trusted_comment, gb64);
    return 0;
}

/* A public text file, replaced atomically through a fresh temporary file
 * (fs_temp_open's names: a crashed run's leftover is recognised and
 * removed). */
static int write_text_file(const char *path, const char *text, char *err, size_t errlen) {
    return fs_write_atomic(path, text, strlen(text), 0644, err, errlen);
}

int sign_write_stock_public(const char *dir, const uint8_t key[SIGN_PUBLIC_BYTES], char *err, size_t errlen) {
    char pem[SIGN_PEM_CAP], mini[SIGN_MINISIGN_PUB_CAP], path[4200];
    sign_public_pem(key, pem);
    sign_public_minisign(key, mini);
    snprintf(path, sizeof path, "%s/esep.pub.pem", dir);
    if (write_text_file(path, pem, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s/esep.minisign.pub", dir);
    return write_text_file(path, mini, err, errlen);
}
