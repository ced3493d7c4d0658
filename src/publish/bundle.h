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
} bundle_result;

/* 1 when a row belongs to region's bundle: for "00" the republic and the
 * regions (levels 0–1); otherwise the region's own rows (levels 1–3 whose
 * code starts with the two digits). Cannot fail. */
int bundle_row_belongs(const char *region, int32_t kato, int level);

/* Builds, checks (disclosure property, no stray files) and publishes the
 * bundle: writes revision N and its detached signature, then makes them
 * the latest. Returns 0 with *r filled, or -1 with a message; on error no
 * file of revision N is left. */
int bundle_publish(const bundle_spec *s, bundle_result *r, char *err, size_t errlen);

#endif
