/* publisher.h — publication as a function of the archive (outputs.md
 * "Publication rules"): for a period P, the current archived table of
 * every report asked for (the caller lists the reports in force for P) is
 * read from OUT/archive/<P>/<ID>.h5, disclosure control is applied once to
 * each full table (so every bundle carries the same suppression pattern
 * for the same cell), and one bundle per region present in the tables and
 * the republic bundle "00" is built. A bundle whose content equals the
 * latest revision's is not published again; any other becomes revision
 * N+1, so a run that produced one report, or failed some, never makes
 * akimats lose the others. Owns the signing key's use (loaded; created only
 * when asked), the public key under OUT/publish/esep.pub, and the catalog
 * records, reconciled with what is on disk: a revision that a crash left
 * unrecorded is recorded (adopted) before anything new is published. */
#ifndef ESEP_PUBLISHER_H
#define ESEP_PUBLISHER_H

#include <mpi.h>
#include <stddef.h>

#include "../archive/report_table.h"

typedef struct {
    const char *out_dir;
    const char *key_path;        /* NULL: OUT/keys/esep.key */
    int create_key;              /* create the key when it does not exist */
    const char *tool_version;
    const char *catalog_spec;    /* NULL: OUT/catalog.sqlite */
    int ranks;
} publish_args;

typedef struct {
    int published;               /* new revisions */
    int unchanged;               /* bundles equal to their latest revision */
    int adopted;                 /* revisions found on disk, not in the catalog */
    int republic_revision;       /* latest revision of "00" after publishing */
    size_t reports;              /* archived tables the bundles hold */
} publish_summary;

/* Collective over comm: publishes period (its text, e.g. "2026-10") from
 * the archive, for the reports ids[0..nids) (those without an archived
 * table are skipped). Every rank reads the tables (OUT is one shared
 * directory) and builds the bundles of every size-th region; rank 0 alone
 * touches the catalog, plans the revisions before any bundle is built and
 * records them after, in region order, and prints one line per new bundle
 * on stdout. Returns 0 with *sum filled on rank 0 (reports on every rank),
 * or -1 on every rank with the same message (bundles already published
 * stay published: each is whole, and the next call records any the
 * catalog lacks). */
int publish_period(MPI_Comm comm, const publish_args *a, const char *period, char *const *ids, size_t nids, publish_summary *sum,
                   char *err, size_t errlen);

/* The key the run signs with: key_path, or OUT/keys/esep.key, created only
 * when create_key (O_EXCL: if another process created it first, that key
 * is used). OUT/keys must be a real directory owned by this user. Also
 * (re)writes OUT/publish/esep.pub. Returns 0, or -1 with a message that
 * says how to create a key. */
int publish_prepare_key(const publish_args *a, void *keypair /* sign_keypair* */, char *err, size_t errlen);

#endif
