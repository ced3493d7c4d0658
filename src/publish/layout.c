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

int layout_latest_revision(const char *out_dir, const char *region, const char *period) {
    char dir[4096], prefix[64];
    if (layout_bundle_dir(out_dir, region, period, dir, sizeof dir)) return 0;
    snprintf(prefix, sizeof prefix, "esep-%s-%s.r", region, period);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int best = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t plen = strlen(prefix);
        if (strncmp(de->d_name, prefix, plen)) continue;
        char *end;
        long rev = strtol(de->d_name + plen, &end, 10);
        if (rev <= best || rev > 1000000 || strcmp(end, ".tar.zst.sig")) continue;
        char bundle[4400];
        struct stat st;
        snprintf(bundle, sizeof bundle, "%s/%.*s", dir, (int)(strlen(de->d_name) - 4), de->d_name);
        if (stat(bundle, &st) == 0 && S_ISREG(st.st_mode)) best = (int)rev;
    }
    closedir(d);
    return best;
}
