/* sign.h — Ed25519 keys and detached signatures (libsodium) for published
 * bundles. Key files are text: a secret key file is 128 hex digits (the
 * 64-byte libsodium secret key, which embeds the public key) and a newline,
 * readable by its owner only (0600); a public key file is 64 hex digits
 * and a newline. Signatures travel as 128 hex digits and a newline. */
#ifndef ESEP_SIGN_H
#define ESEP_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_PUBLIC_BYTES 32
#define SIGN_SECRET_BYTES 64
#define SIGN_BYTES 64

typedef struct {
    uint8_t secret[SIGN_SECRET_BYTES];
    uint8_t public_key[SIGN_PUBLIC_BYTES];
} sign_keypair;

/* Creates a fresh key pair and writes secret_path (mode 0600, refusing to
 * overwrite an existing file) and public_path. 0, or -1 with a message. */
int sign_keygen(const char *secret_path, const char *public_path, sign_keypair *out, char *err, size_t errlen);

/* Loads a secret key file; refuses one readable by group or others.
 * 0, or -1 with a message. */
int sign_load_secret(const char *path, sign_keypair *out, char *err, size_t errlen);

/* Loads a public key file. 0, or -1 with a message. */
int sign_load_public(const char *path, uint8_t out[SIGN_PUBLIC_BYTES], char *err, size_t errlen);

/* Writes the public key file (64 hex + \n), atomically. 0 or -1. */
int sign_write_public(const char *path, const uint8_t key[SIGN_PUBLIC_BYTES], char *err, size_t errlen);

/* Signs msg; writes 128 hex digits, a newline and a NUL into out (130
 * bytes). Cannot fail. */
void sign_detached_hex(const sign_keypair *k, const void *msg, size_t len, char out[130]);

/* 1 when hex (128 hex digits, optional trailing newline) is a valid
 * signature of msg by key, 0 otherwise. Cannot fail. */
int sign_verify_hex(const uint8_t key[SIGN_PUBLIC_BYTES], const void *msg, size_t len, const char *hex,
                    size_t hexlen);

#endif
