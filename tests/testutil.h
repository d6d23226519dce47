/* testutil.h — tiny assertion and comparison helpers shared by the unit tests.
 *
 * BL_CHECK(cond, fmt, ...) records a failure and goes on; BL_REQUIRE stops the test.
 * bl_test_allclose() compares arrays as llm.c does: |got-ref| <= atol + rtol*|ref|, prints the
 * first few pairs and the first ten failures. bl_test_tmpdir() makes a fresh temp folder.
 * A test's main returns bl_test_finish() (0 pass, 1 fail).
 */
#ifndef BL_TESTUTIL_H
#define BL_TESTUTIL_H

#include <stddef.h>
#include <stdio.h>

extern int bl_test_failures;

#define BL_CHECK(cond, ...)                                                         \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                           \
            fprintf(stderr, "\n");                                                  \
            bl_test_failures++;                                                     \
        }                                                                           \
    } while (0)

#define BL_REQUIRE(cond, ...)                                                       \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: requirement failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                           \
            fprintf(stderr, "\n");                                                  \
            return 1;                                                               \
        }                                                                           \
    } while (0)

/* Returns the number of elements that fail |got-ref| <= atol + rtol*|ref| (NaN/Inf fail). */
size_t bl_test_allclose(const char *what, const float *got, const float *ref, size_t n,
                        double atol, double rtol);
/* Max |a-b| and max |b| over n elements. */
void bl_test_maxdiff(const float *a, const float *b, size_t n, double *max_abs_diff, double *max_abs_ref);
/* Fresh directory under $TMPDIR (or /tmp); returns a static path valid until the next call. */
const char *bl_test_tmpdir(const char *tag);
/* $BL_SOURCE_DIR (set by ctest) joined with rel, into a static buffer. */
const char *bl_test_source_path(const char *rel);
/* Whole file as a NUL-terminated malloc'ed string (NULL when it cannot be read); *len (may be
 * NULL) receives its size. The caller frees it. */
char *bl_test_read_file(const char *path, size_t *len);
/* Run a shell command, return its exit status (-1 on failure to run). */
int bl_test_run(const char *cmd);
int bl_test_finish(const char *name);

#endif
