/* verify.c — `esep verify BUNDLE --pubkey FILE [--signature FILE]`: what an
 * akimat runs on a downloaded bundle. Checks that MANIFEST.sig is the data
 * center's signature of MANIFEST.json, that the detached signature beside
 * the bundle (BUNDLE.sig, or --signature) is too, and that every file the
 * manifest lists is in the bundle with the listed size and SHA-256 and
 * nothing else is. Says exactly what is wrong; exit 0 only when all holds. */
#include <archive.h>
#include <archive_entry.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/json.h"
#include "../base/log.h"
#include "../publish/sign.h"
#include "cli.h"

static const char *const usage = "esep verify BUNDLE --pubkey FILE [--signature FILE]";

#define VERIFY_MAX_ENTRIES 256
#define VERIFY_MAX_MANIFEST (4 << 20)

typedef struct {
    char path[256];
    long long size;
    char sha256[65];
} entry_digest;

typedef struct {
    entry_digest entries[VERIFY_MAX_ENTRIES];
    size_t n;
    char *manifest, *signature;
    size_t manifest_size, signature_size;
    int problems;
} bundle_view;

static void problem(bundle_view *v, const char *fmt, const char *a, const char *b) {
    printf("PROBLEM: ");
    printf(fmt, a, b);
    printf("\n");
    v->problems++;
}

/* Reads one entry: digest, size; keeps the manifest and its signature. */
static int read_entry(struct archive *a, const char *path, bundle_view *v) {
    entry_digest *d = &v->entries[v->n++];
    snprintf(d->path, sizeof d->path, "%s", path);
    int keep = !strcmp(path, "MANIFEST.json") || !strcmp(path, "MANIFEST.sig");
    char **kept = !strcmp(path, "MANIFEST.json") ? &v->manifest : &v->signature;
    size_t *kept_size = !strcmp(path, "MANIFEST.json") ? &v->manifest_size : &v->signature_size;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    char buf[65536];
    la_ssize_t got;
    long long total = 0;
    while ((got = archive_read_data(a, buf, sizeof buf)) > 0) {
        crypto_hash_sha256_update(&st, (const unsigned char *)buf, (unsigned long long)got);
        if (keep && total + got <= VERIFY_MAX_MANIFEST) {
            char *grown = realloc(*kept, (size_t)(total + got) + 1);
            if (!grown) return -1;
            memcpy(grown + total, buf, (size_t)got);
            *kept = grown;
            *kept_size = (size_t)(total + got);
        }
        total += got;
    }
    if (got < 0) return -1;
    unsigned char digest[32];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(d->sha256, sizeof d->sha256, digest, sizeof digest);
    d->size = total;
    return 0;
}

static int read_bundle(const char *path, bundle_view *v, char *err, size_t errlen) {
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int rc = !a || archive_read_support_filter_zstd(a) != ARCHIVE_OK || archive_read_support_format_tar(a) != ARCHIVE_OK ||
             archive_read_open_filename(a, path, 65536) != ARCHIVE_OK;
    int r;
    while (!rc && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || !name || name[0] == '/' || strstr(name, "..") ||
            strlen(name) >= 256) {
            snprintf(err, errlen, "%s: unexpected entry '%s' (not a plain file with a safe name)", path, name ? name : "?");
            rc = 2;
        } else if (v->n == VERIFY_MAX_ENTRIES) {
            snprintf(err, errlen, "%s: more than %d files", path, VERIFY_MAX_ENTRIES);
            rc = 2;
        } else {
            rc = read_entry(a, name, v) ? 1 : 0;
        }
    }
    if (rc == 0 && r != ARCHIVE_EOF) rc = 1;
    if (rc == 1) {
        const char *why = a ? archive_error_string(a) : NULL;
        snprintf(err, errlen, "%s: not a readable tar.zst bundle (%s)", path, why ? why : "read error");
    }
    if (a) archive_read_free(a);
    return rc ? -1 : 0;
}

static const entry_digest *find_entry(const bundle_view *v, const char *path) {
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->entries[i].path, path)) return &v->entries[i];
    return NULL;
}

/* Every listed file present with its size and hash; nothing unlisted. */
static void check_files(bundle_view *v, const json_value *files) {
    char *listed = calloc(v->n + 1, 1);
    for (size_t i = 0; files && i < files->count; i++) {
        const json_value *f = files->items[i], *p = json_get(f, "path"), *s = json_get(f, "size"), *h = json_get(f, "sha256");
        if (!p || p->kind != JSON_STRING || !s || s->kind != JSON_INT || !h || h->kind != JSON_STRING) {
            problem(v, "MANIFEST.json: entry %s%s of \"files\" is malformed", "", "");
            continue;
        }
        const entry_digest *d = find_entry(v, p->string);
        if (!d) {
            problem(v, "%s: listed in the manifest but missing from the bundle%s", p->string, "");
            continue;
        }
        if (listed) listed[d - v->entries] = 1;
        char size[32];
        snprintf(size, sizeof size, "%lld", d->size);
        if (d->size != s->integer) problem(v, "%s: size %s differs from the manifest", p->string, size);
        if (strcmp(d->sha256, h->string)) problem(v, "%s: SHA-256 %s differs from the manifest", p->string, d->sha256);
    }
    for (size_t i = 0; i < v->n; i++) {
        const char *name = v->entries[i].path;
        if ((!listed || !listed[i]) && strcmp(name, "MANIFEST.json") && strcmp(name, "MANIFEST.sig"))
            problem(v, "%s: in the bundle but not listed in the manifest%s", name, "");
    }
    free(listed);
}

static void check_detached(bundle_view *v, const uint8_t *key, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        problem(v, "%s: detached signature not found%s", path, "");
        return;
    }
    char sig[300];
    size_t n = fread(sig, 1, sizeof sig - 1, f);
    fclose(f);
    sig[n] = '\0';
    if (!v->manifest || !sign_verify_hex(key, v->manifest, v->manifest_size, sig, n))
        problem(v, "%s: detached signature does not match MANIFEST.json%s", path, "");
}

static int verify_bundle(const char *bundle, const uint8_t *key, const char *detached) {
    bundle_view *v = calloc(1, sizeof *v);
    char err[1024];
    if (!v) return log_msg(LOG_ERROR, "out of memory"), 1;
    int status = 1;
    if (read_bundle(bundle, v, err, sizeof err)) {
        printf("PROBLEM: %s\n", err);
        goto done;
    }
    json_value *manifest = NULL;
    if (!v->manifest) problem(v, "MANIFEST.json: missing from the bundle%s%s", "", "");
    else if (!(manifest = json_parse(v->manifest, v->manifest_size, err, sizeof err)))
        problem(v, "MANIFEST.json: not valid JSON (%s)%s", err, "");
    if (!v->signature) problem(v, "MANIFEST.sig: missing from the bundle%s%s", "", "");
    else if (v->manifest && !sign_verify_hex(key, v->manifest, v->manifest_size, v->signature, v->signature_size))
        problem(v, "MANIFEST.sig: not a signature of MANIFEST.json by this public key (altered manifest, or another key)%s%s", "", "");
    if (manifest) check_files(v, json_get(manifest, "files"));
    check_detached(v, key, detached);
    json_free(manifest);
    if (v->problems == 0) {
        char fingerprint[17];
        sodium_bin2hex(fingerprint, sizeof fingerprint, key, 8);
        printf("OK: %s: signed by key %s…, %zu files match the manifest\n", bundle, fingerprint, v->n - 2);
        status = 0;
    } else {
        printf("FAILED: %s: %d problem%s\n", bundle, v->problems, v->problems == 1 ? "" : "s");
    }
done:
    free(v->manifest), free(v->signature), free(v);
    return status;
}

int cmd_verify(const cli_context *ctx, int argc, char **argv) {
    static const struct option longopts[] = {
        {"pubkey", required_argument, 0, 'k'}, {"signature", required_argument, 0, 's'}, {0, 0, 0, 0}};
    const char *pubkey = NULL, *signature = NULL;
    if (cli_wants_help(argc, argv)) return cli_help(ctx, usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'k') pubkey = optarg;
        else if (c == 's') signature = optarg;
        else return cli_usage_error(ctx, usage, "unknown option");
    }
    if (!pubkey || optind != argc - 1) return cli_usage_error(ctx, usage, "a BUNDLE and --pubkey are required");
    if (ctx->rank != 0) return 0;
    uint8_t key[SIGN_PUBLIC_BYTES];
    char err[512], detached[4200];
    if (sign_load_public(pubkey, key, err, sizeof err)) return log_msg(LOG_ERROR, "%s", err), 1;
    snprintf(detached, sizeof detached, "%s.sig", argv[optind]);
    return verify_bundle(argv[optind], key, signature ? signature : detached);
}

int cmd_keygen(const cli_context *ctx, int argc, char **argv) {
    static const char *const keygen_usage = "esep keygen --key FILE   (writes FILE, mode 0600, and FILE.pub)";
    static const struct option longopts[] = {{"key", required_argument, 0, 'k'}, {0, 0, 0, 0}};
    const char *path = NULL;
    if (cli_wants_help(argc, argv)) return cli_help(ctx, keygen_usage);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'k') path = optarg;
        else return cli_usage_error(ctx, keygen_usage, "unknown option");
    }
    if (!path || optind != argc) return cli_usage_error(ctx, keygen_usage, "--key FILE is required");
    if (ctx->rank != 0) return 0;
    char pub[4200], err[512];
    sign_keypair k;
    snprintf(pub, sizeof pub, "%s.pub", path);
    int rc = sign_keygen(path, pub, &k, err, sizeof err);
    sodium_memzero(&k, sizeof k);
    if (rc) return log_msg(LOG_ERROR, "%s", err), 1;
    printf("secret key: %s (mode 0600)\npublic key: %s\n", path, pub);
    return 0;
}
