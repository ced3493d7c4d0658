/* digest.h — SHA-256 of files, as lowercase hex: the archive records the
 * digest of every input file a report was computed from, and published
 * manifests record the digest of every file they list. */
#ifndef ESEP_DIGEST_H
#define ESEP_DIGEST_H

#include <stddef.h>

/* Hashes the file at path into hex (65 bytes with the NUL). Returns 0, or
 * -1 with a message in err. */
int digest_file_sha256(const char *path, char hex[65], char *err, size_t errlen);

#endif
