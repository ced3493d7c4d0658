/* digest.c — see digest.h. libsodium's streaming SHA-256, 1 MiB reads. */
#include "digest.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

int digest_file_sha256(const char *path, char hex[65], char *err, size_t errlen) {
    if (sodium_init() < 0) return snprintf(err, errlen, "libsodium cannot start"), -1;
    FILE *f = fopen(path, "rb");
    if (!f) return snprintf(err, errlen, "%s: cannot open: %m", path), -1;
    unsigned char *buf = malloc(1 << 20), out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    size_t n;
    while (buf && (n = fread(buf, 1, 1 << 20, f)) > 0) crypto_hash_sha256_update(&st, buf, n);
    int failed = !buf || ferror(f);
    fclose(f);
    free(buf);
    if (failed) return snprintf(err, errlen, "%s: read error", path), -1;
    crypto_hash_sha256_final(&st, out);
    sodium_bin2hex(hex, 65, out, sizeof out);
    return 0;
}
