/* bundle.h — one published bundle: the rows of every report that a region
 * (or the republic, "00") receives for a period, disclosure control already
 * applied, as `reports.h5` (a group per report) and `csv/<ID>.csv`, with a
 * signed MANIFEST.json listing every file's size and SHA-256; packed as a
 * tar archive compressed with Zstandard (outputs.md "Bundles"). The archive
 * is deterministic: fixed entry order, mtime 0, uid/gid 0, no names. Owns
 * the packing and the atomic appearance of a revision (layout.h). */
#ifndef ESEP_BUNDLE_H
#define ESEP_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "../archive/report_table.h"
#include "sign.h"

typedef struct {
    const char *out_dir;
    const char *region;                  /* "00" … "99" */
    const char *period;
    int revision;                        /* ≥ 1, not yet published */
    const char *snapshot_date;
    const char *tool_version;
    const report_table *const *tables;   /* full tables, disclosure applied */
    size_t ntables;
    const sign_keypair *key;
    const char *latest_content;          /* CONTENT digest of the latest
                                            revision, or NULL when none */
    const struct dashboard_history *history; /* dashboard.h; NULL: read for this bundle */
} bundle_spec;

typedef struct {
    char path[4096];                     /* the revision file */
    char name[128];                      /* its file name */
    int64_t size;
    char sha256[65];                     /* of the revision file */
    char manifest_sha256[65];
    char signature[130];                 /* hex, newline-terminated */
    size_t rows;                         /* rows over all its reports */
    char content[65];                    /* digest of the manifest with
                                            revision 0: equal digests, equal
                                            bundles but for the number */
    int unchanged;                       /* 1: content equals latest_content,
                                            nothing was written */
} bundle_result;

/* 1 when a row belongs to region's bundle: for "00" the republic and the
 * regions (levels 0–1); otherwise the region's own rows (levels 1–3 whose
 * code starts with the two digits). Cannot fail. */
int bundle_row_belongs(const char *region, int32_t kato, int level);

/* Builds and checks the bundle (disclosure property, no stray files). When
 * its content equals s->latest_content, writes nothing and returns 0 with
 * r->unchanged = 1. Otherwise publishes it (layout.h): revision N's
 * directory is assembled under a temporary name — bundle, signature, the
 * un-numbered links, CONTENT — synced, renamed into place in one step
 * (never over an existing revision), then `latest` is switched to it by
 * one rename. Returns 0 with *r filled, or -1 with a message; a crash or
 * error at any point leaves either no revision N or a whole one (a
 * temporary directory may remain; fs_remove_stale_temps removes it). */
int bundle_publish(const bundle_spec *s, bundle_result *r, char *err, size_t errlen);

/* Reads the CONTENT file of revision rev: its content digest and manifest
 * SHA-256 (each 65 bytes). Returns 0, or -1 when missing or malformed.
 * Cannot fail otherwise. */
int bundle_read_content(const char *out_dir, const char *region, const char *period, int rev, char content[65],
                        char manifest_sha256[65]);

/* Makes `latest` of (region, period) point at revision rev (one rename)
 * unless it does already. Returns 0, or -1 with a message. */
int bundle_point_latest(const char *out_dir, const char *region, const char *period, int rev, char *err,
                        size_t errlen);

#endif
