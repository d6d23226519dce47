/* testutil.c — see testutil.h. Test-only code; never linked into the baleen binary. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h> /* WEXITSTATUS for bl_test_run */
#include <unistd.h>   /* getpid */

int bl_test_failures = 0;

size_t bl_test_allclose(const char *what, const float *got, const float *ref, size_t n,
                        double atol, double rtol) {
    size_t bad = 0;
    for (size_t i = 0; i < n && i < 3; i++)
        fprintf(stderr, "  %s[%zu]: got %.8g ref %.8g\n", what, i, got[i], ref[i]);
    for (size_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        int ok = isfinite(g) && isfinite(r) && fabs(g - r) <= atol + rtol * fabs(r);
        if (!ok) {
            if (bad < 10) fprintf(stderr, "  MISMATCH %s[%zu]: got %.8g ref %.8g\n", what, i, g, r);
            bad++;
        }
    }
    if (bad) fprintf(stderr, "  %s: %zu of %zu elements out of tolerance\n", what, bad, n);
    return bad;
}

void bl_test_maxdiff(const float *a, const float *b, size_t n, double *mad, double *mref) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - (double)b[i]);
        if (!(x <= d)) d = x; /* NaN propagates as max */
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    *mad = d;
    *mref = m;
}

const char *bl_test_tmpdir(const char *tag) {
    static char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/bl_test_%s_%d_XXXXXX", base ? base : "/tmp", tag, (int)getpid());
    if (!mkdtemp(path)) return NULL;
    return path;
}

const char *bl_test_source_path(const char *rel) {
    static char path[4096];
    const char *src = getenv("BL_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    return path;
}

char *bl_test_read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *doc = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            char *d = realloc(doc, cap);
            if (!d) {
                free(doc);
                fclose(f);
                return NULL;
            }
            doc = d;
        }
        size_t n = fread(doc + len, 1, 4096, f);
        len += n;
        if (n == 0) break;
    }
    fclose(f);
    doc[len] = '\0';
    if (len_out) *len_out = len;
    return doc;
}

int bl_test_run(const char *cmd) {
    int st = system(cmd);
    if (st == -1) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int bl_test_finish(const char *name) {
    if (bl_test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, bl_test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}
