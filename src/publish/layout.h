/* layout.h — where published things live under OUT, in one place so the
 * publisher, the download service and the verifier agree (outputs.md
 * "Bundles"):
 *
 *   OUT/publish/esep.pub                        public key (64 hex + \n)
 *   OUT/publish/<AB>/<P>/r<N>/                  revision N ≥ 1, a directory
 *                                               that appears whole (built
 *                                               under a temporary name and
 *                                               renamed) and never changes:
 *     esep-<AB>-<P>.r<N>.tar.zst                  the bundle
 *     esep-<AB>-<P>.r<N>.tar.zst.sig              its detached signature
 *                                                 (128 hex + \n)
 *     esep-<AB>-<P>.tar.zst, ….tar.zst.sig        the same two files under
 *                                                 the un-numbered names
 *     CONTENT                                     content digest (the
 *                                                 manifest with revision 0)
 *                                                 and manifest SHA-256, one
 *                                                 per line: how the next run
 *                                                 tells an identical bundle
 *   OUT/publish/<AB>/<P>/latest -> r<N>         the latest revision: one
 *                                               symbolic link, switched by
 *                                               one rename, so the bundle
 *                                               and the signature under
 *                                               latest/ are always a pair
 *   OUT/keys/esep.key                           secret key (0600), made by
 *                                               esep keygen or --create-key
 *   OUT/catalog.sqlite                          the embedded catalog
 *   OUT/audit.log                               downloads (esep serve)
 *
 * <AB> is a two-digit region code (the first two digits of its KATO code;
 * "00" is the republic bundle), <P> a period (2026-10, 2026-Q3, 2026). The
 * latest revision of (AB, P) is the highest N whose directory holds both
 * the bundle and its signature. */
#ifndef ESEP_LAYOUT_H
#define ESEP_LAYOUT_H

#include <stddef.h>

/* True when s is a two-digit region code ("00".."99"). Cannot fail. */
int layout_valid_region(const char *s);

/* True when s is YYYY, YYYY-MM (01..12) or YYYY-Qn (1..4). Cannot fail. */
int layout_valid_period(const char *s);

/* Writes OUT/publish/<AB>/<P> into out. Returns 0, or -1 when it does not
 * fit or region/period are not valid. */
int layout_bundle_dir(const char *out_dir, const char *region, const char *period, char *out, size_t n);

/* Writes the file name (no directory) of revision rev (rev 0 = the latest,
 * un-numbered name) into out. Returns 0, or -1 as above. */
int layout_bundle_name(const char *region, const char *period, int rev, char *out, size_t n);

/* Writes OUT/publish/<AB>/<P>/r<rev> into out. Returns 0, or -1 as above
 * (rev must be ≥ 1). */
int layout_revision_dir(const char *out_dir, const char *region, const char *period, int rev, char *out,
                        size_t n);

/* Writes the path of revision rev's bundle (sig = 0) or signature (sig =
 * 1) into out. Returns 0, or -1 as above. */
int layout_revision_file(const char *out_dir, const char *region, const char *period, int rev, int sig,
                         char *out, size_t n);

/* The highest revision N ≥ 1 of (region, period) under out_dir whose
 * signature exists, or 0 when there is none. Cannot fail (an unreadable
 * directory counts as none). */
int layout_latest_revision(const char *out_dir, const char *region, const char *period);

#endif
