/* layout.c — see layout.h. */
#include "layout.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int all_digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

int layout_valid_region(const char *s) { return strlen(s) == 2 && all_digits(s, 2); }

int layout_valid_period(const char *s) {
    size_t n = strlen(s);
    if (n < 4 || !all_digits(s, 4)) return 0;
    if (n == 4) return 1;
    if (n != 7 || s[4] != '-') return 0;
    if (s[5] == 'Q') return s[6] >= '1' && s[6] <= '4';
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    return all_digits(s + 5, 2) && m >= 1 && m <= 12;
}

int layout_bundle_dir(const char *out_dir, const char *region, const char *period, char *out, size_t n) {
    if (!layout_valid_region(region) || !layout_valid_period(period)) return -1;
    int len = snprintf(out, n, "%s/publish/%s/%s", out_dir, region, period);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int layout_bundle_name(const char *region, const char *period, int rev, char *out, size_t n) {
    if (!layout_valid_region(region) || !layout_valid_period(period) || rev < 0) return -1;
    int len = rev ? snprintf(out, n, "esep-%s-%s.r%d.tar.zst", region, period, rev)
                  : snprintf(out, n, "esep-%s-%s.tar.zst", region, period);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int layout_revision_dir(const char *out_dir, const char *region, const char *period, int rev, char *out,
                        size_t n) {
    char dir[4096];
    if (rev < 1 || layout_bundle_dir(out_dir, region, period, dir, sizeof dir)) return -1;
    int len = snprintf(out, n, "%s/r%d", dir, rev);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int layout_revision_file(const char *out_dir, const char *region, const char *period, int rev, int sig,
                         char *out, size_t n) {
    char dir[4200], name[128];
    if (layout_revision_dir(out_dir, region, period, rev, dir, sizeof dir) ||
        layout_bundle_name(region, period, rev, name, sizeof name))
        return -1;
    int len = snprintf(out, n, "%s/%s%s", dir, name, sig ? ".sig" : "");
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

static int is_regular(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int layout_latest_revision(const char *out_dir, const char *region, const char *period) {
    char dir[4096];
    if (layout_bundle_dir(out_dir, region, period, dir, sizeof dir)) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int best = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] != 'r' || de->d_name[1] < '1' || de->d_name[1] > '9') continue;
        char *end;
        long rev = strtol(de->d_name + 1, &end, 10);
        if (*end || rev <= best || rev > 1000000) continue;
        char bundle[4400], sig[4400];
        if (!layout_revision_file(out_dir, region, period, (int)rev, 0, bundle, sizeof bundle) &&
            !layout_revision_file(out_dir, region, period, (int)rev, 1, sig, sizeof sig) && is_regular(bundle) &&
            is_regular(sig))
            best = (int)rev;
    }
    closedir(d);
    return best;
}
