/* keyfilter.c — see keyfilter.h. About 16 bits per key and 3 probes give
 * under 1 % false positives; the size is capped, so a join probed by tens
 * of millions of keys still gets a filter, only a looser one. */
#include "keyfilter.h"

#include <stdlib.h>

#include "../dist/agree.h"

static uint64_t mix(uint64_t x) { /* splitmix64 finalizer */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Three bit positions from one 64-bit hash (double hashing). */
static void positions(const key_filter *kf, int64_t key, uint64_t pos[3]) {
    uint64_t h = mix((uint64_t)key ^ 0x6A09E667F3BCC909ull), step = (h >> 32) | 1;
    for (int i = 0; i < 3; i++) pos[i] = (h + (uint64_t)i * step) & (kf->nbits - 1);
}

int key_filter_build(key_filter *kf, const int64_t *const *keys, const size_t *n, size_t nsets, MPI_Comm comm) {
    uint64_t total = 0;
    for (size_t s = 0; s < nsets; s++) total += n[s];
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_UINT64_T, MPI_SUM, comm);
    kf->nbits = 1u << 12;
    while (kf->nbits < 16 * total && kf->nbits < KEYFILTER_MAX_BITS) kf->nbits *= 2;
    kf->words = calloc(kf->nbits / 64, sizeof *kf->words);
    if (!dist_agree(comm, kf->words != NULL)) return -1;
    uint64_t pos[3];
    for (size_t s = 0; s < nsets; s++)
        for (size_t i = 0; i < n[s]; i++) {
            positions(kf, keys[s][i], pos);
            for (int j = 0; j < 3; j++) kf->words[pos[j] / 64] |= 1ull << (pos[j] % 64);
        }
    MPI_Allreduce(MPI_IN_PLACE, kf->words, (int)(kf->nbits / 64), MPI_UINT64_T, MPI_BOR, comm);
    return 0;
}

int key_filter_may_contain(const key_filter *kf, int64_t key) {
    uint64_t pos[3];
    positions(kf, key, pos);
    for (int j = 0; j < 3; j++)
        if (!(kf->words[pos[j] / 64] >> (pos[j] % 64) & 1)) return 0;
    return 1;
}

void key_filter_free(key_filter *kf) {
    free(kf->words);
    kf->words = NULL;
    kf->nbits = 0;
}
