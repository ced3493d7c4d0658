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

/* ---- verification with stock tools (OpenSSL, minisign) ----------------
 * The same Ed25519 key in the forms those tools read, so an akimat can check
 * a bundle without esep:
 *   esep.pub.pem        the public key as PEM (SubjectPublicKeyInfo, RFC 8410)
 *   esep.minisign.pub   the public key as a minisign key file
 *   BUNDLE.ed25519      64-byte raw Ed25519 signature of the whole bundle file:
 *     openssl pkeyutl -verify -pubin -inkey esep.pub.pem -rawin -in BUNDLE -sigfile BUNDLE.ed25519
 *   BUNDLE.minisig      minisign signature (prehashed "ED": Ed25519 of the
 *                       file's BLAKE2b-512), trusted comment = file name:
 *     minisign -V -p esep.minisign.pub -m BUNDLE
 * The minisign key id is the first 8 bytes of BLAKE2b-256(public key), so it
 * depends on the key only; nothing holds a time. */

#define SIGN_PEM_CAP 160
#define SIGN_MINISIGN_PUB_CAP 160
#define SIGN_MINISIG_CAP 512

/* The public key as PEM text (3 lines, NUL-terminated) into out. Cannot fail. */
void sign_public_pem(const uint8_t key[SIGN_PUBLIC_BYTES], char out[SIGN_PEM_CAP]);

/* The public key as a minisign public key file (2 lines). Cannot fail. */
void sign_public_minisign(const uint8_t key[SIGN_PUBLIC_BYTES], char out[SIGN_MINISIGN_PUB_CAP]);

/* Raw Ed25519 signature of msg (what `openssl pkeyutl -rawin` checks).
 * Cannot fail. */
void sign_raw(const sign_keypair *k, const void *msg, size_t len, uint8_t sig[SIGN_BYTES]);

/* A minisign signature file of msg with the given trusted comment (one
 * line, at most 200 bytes, no newline) into out. Returns 0, or -1 when the
 * comment is not acceptable. */
int sign_minisig(const sign_keypair *k, const void *msg, size_t len, const char *trusted_comment,
                 char out[SIGN_MINISIG_CAP]);

/* Writes dir/esep.pub.pem and dir/esep.minisign.pub atomically (0644).
 * 0, or -1 with a message. */
int sign_write_stock_public(const char *dir, const uint8_t key[SIGN_PUBLIC_BYTES], char *err, size_t errlen);

#endif
