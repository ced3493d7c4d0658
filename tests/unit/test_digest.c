/* File digests (src/base/digest.h) against SHA-256 values computed
 * independently (Python's hashlib): the FIPS 180-2 "abc" vector, an empty
 * file, and a file of 3 MiB + 5 bytes, which crosses the 1 MiB reads. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/digest.h"
#include "test.h"

static int write_file(const char *path, const unsigned char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

void suite_digest(void) {
    char dir[] = "/tmp/esep-digest-XXXXXX", path[64], hex[65], err[256];
    if (!mkdtemp(dir)) return;
    snprintf(path, sizeof path, "%s/f", dir);
    TEST_CASE("digest: SHA-256 of abc, of nothing, of 3 MiB + 5 bytes") {
        EXPECT_EQ_INT(write_file(path, (const unsigned char *)"abc", 3), 0);
        EXPECT_EQ_INT(digest_file_sha256(path, hex, err, sizeof err), 0);
        EXPECT_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        EXPECT_EQ_INT(write_file(path, (const unsigned char *)"", 0), 0);
        EXPECT_EQ_INT(digest_file_sha256(path, hex, err, sizeof err), 0);
        EXPECT_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        size_t n = 3 * 1048576 + 5;
        unsigned char *big = malloc(n);
        for (size_t i = 0; big && i < n; i++) big[i] = (unsigned char)((i * 131 + 7) & 255);
        EXPECT(big && write_file(path, big, n) == 0);
        EXPECT_EQ_INT(digest_file_sha256(path, hex, err, sizeof err), 0);
        EXPECT_EQ_STR(hex, "75f7c4c5d93e2936828412115054a33bf774523cf18ea7bfdee5e4e259909e39");
        free(big);
    }
    TEST_CASE("digest: a missing file is an error naming it") {
        char missing[80];
        snprintf(missing, sizeof missing, "%s/none", dir);
        EXPECT_EQ_INT(digest_file_sha256(missing, hex, err, sizeof err), -1);
        EXPECT(strstr(err, "none: cannot open") != NULL);
    }
    unlink(path);
    rmdir(dir);
}
