/* classifier.c — see classifier.h. The kato schema is parsed on its own
 * (a one-extract schema set) so that snapshot_read reads only that file of
 * the newest snapshot, not the whole night. */
#include "classifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../dist/agree.h"
#include "../engine/engine.h"
#include "../ingest/snapshot.h"

#define KATO_SCHEMA_MAX (1 << 20)

/* The text of schemas_dir/kato.yaml into a malloc'd buffer (*len bytes).
 * NULL with a message when it cannot be read or is too large. */
static char *read_schema(const char *schemas_dir, size_t *len, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/kato.yaml", schemas_dir);
    FILE *f = fopen(path, "rb");
    char *text = f ? malloc(KATO_SCHEMA_MAX) : NULL;
    *len = text ? fread(text, 1, KATO_SCHEMA_MAX, f) : 0;
    int bad = !text || ferror(f) || *len == KATO_SCHEMA_MAX;
    if (f) fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: cannot read the classifier's schema", path);
        free(text);
        return NULL;
    }
    return text;
}

static int add_rows(void *data, const row_batch *b) { return engine_territory_rows(data, b, +1); }
static int withdraw_rows(void *data, const row_batch *b) { return engine_territory_rows(data, b, -1); }

/* Rank 0 makes a fresh folder for the classifier's rejects; all get it. */
static int scratch_dir(MPI_Comm comm, int rank, const char *out_dir, char dir[4200]) {
    int ok = 1;
    if (rank == 0) {
        snprintf(dir, 4200, "%s/.classifier.XXXXXX", out_dir);
        ok = mkdtemp(dir) != NULL;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
    MPI_Bcast(dir, 4200, MPI_CHAR, 0, comm);
    return ok ? 0 : -1;
}

int classifier_load(MPI_Comm comm, int rank, int nranks, const char *schemas_dir, const char *snapshot_dir,
                    const char *out_dir, territory *out, char *err, size_t errlen) {
    size_t len = 0;
    char *text = read_schema(schemas_dir, &len, err, errlen);
    schema_set *set = NULL;
    char *name = "kato.yaml";
    const char *texts[1] = {text};
    int rc = text ? schema_set_parse(&name, texts, &len, 1, &set, err, errlen) : -1;
    free(text);
    char dir[4200] = "";
    if (rc == 0 && scratch_dir(comm, rank, out_dir, dir))
        rc = -1, snprintf(err, errlen, "%s: cannot make a scratch folder for the classifier", out_dir);
    snapshot_result res;
    memset(&res, 0, sizeof res);
    if (rc == 0) {
        snapshot_args a = {comm, rank, nranks, set, snapshot_dir, dir, 0, add_rows, withdraw_rows, out};
        rc = snapshot_read(&a, &res, err, errlen);
        if (rc == 0 && res.extracts[0].failed)
            rc = -1, snprintf(err, errlen, "the classifier of %s could not be read (kato failed whole)", snapshot_dir);
    }
    /* the read agrees on its own errors; schema errors are the same on every rank */
    if (!dist_agree(comm, rc == 0) && rc == 0) rc = -1, snprintf(err, errlen, "the classifier failed on another rank");
    if (res.extracts) snapshot_result_free(&res, set->count);
    if (rank == 0 && dir[0]) fs_remove_tree(dir);
    schema_set_free(set);
    if (rc) territory_free(out);
    return rc;
}
