/* driver.c — runs a LLVMFuzzerTestOneInput target without libFuzzer, as a ctest.
 *
 * Usage: fuzz_X_replay CORPUS_DIR [N_MUTATIONS]
 * Replays every file of CORPUS_DIR, then N_MUTATIONS deterministic mutations of them
 * (bit flips, byte overwrites with edge values, truncation, duplication of a slice), so
 * that gcc + ASan/UBSan builds still exercise the parser on hostile input. With clang,
 * the real libFuzzer binaries (BL_FUZZ=ON) explore further.
 */
#include <dirent.h>  /* corpus directory listing */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* skip non-regular files */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct { uint8_t *data; size_t size; } blob;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

static int load(const char *path, blob *b) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) { fclose(f); return -1; }
    b->data = malloc((size_t)n + 1);
    b->size = fread(b->data, 1, (size_t)n, f);
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s CORPUS_DIR [N_MUTATIONS]\n", argv[0]); return 2; }
    long n_mut = argc > 2 ? atol(argv[2]) : 1000;
    blob *corpus = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(argv[1]);
    if (!d) { fprintf(stderr, "cannot open corpus directory %s\n", argv[1]); return 1; }
    struct dirent *e;
    char **names = NULL;
    size_t nn = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (nn + 1) * sizeof *names);
        names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    /* sort for a deterministic order */
    for (size_t i = 1; i < nn; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j]; names[j] = names[j - 1]; names[j - 1] = t;
        }
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) { free(names[i]); continue; }
        if (n == cap) { cap = cap ? 2 * cap : 16; corpus = realloc(corpus, cap * sizeof *corpus); }
        if (load(path, &corpus[n]) == 0) n++;
        free(names[i]);
    }
    free(names);
    if (n == 0) { fprintf(stderr, "empty corpus %s\n", argv[1]); return 1; }
    for (size_t i = 0; i < n; i++) LLVMFuzzerTestOneInput(corpus[i].data, corpus[i].size);
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    static const uint8_t edge[] = {0x00, 0xff, 0x7f, 0x80, '\n', ':', '-', '{', '[', '"', '\''};
    for (long m = 0; m < n_mut; m++) {
        const blob *src = &corpus[rnd() % n];
        size_t sz = src->size + 64;
        uint8_t *buf = malloc(sz ? sz : 1);
        memcpy(buf, src->data, src->size);
        sz = src->size;
        int ops = 1 + (int)(rnd() % 4);
        for (int k = 0; k < ops && sz > 0; k++) {
            size_t pos = rnd() % sz;
            switch (rnd() % 5) {
            case 0: buf[pos] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: buf[pos] = edge[rnd() % sizeof edge]; break;
            case 2: sz = pos; break; /* truncate */
            case 3: { /* duplicate a slice (bounded growth) */
                size_t len = 1 + rnd() % 16;
                if (pos + len > sz) len = sz - pos;
                if (sz + len <= src->size + 64) { memmove(buf + pos + len, buf + pos, sz - pos); sz += len; }
                break;
            }
            default: buf[pos] = (uint8_t)rnd(); break;
            }
        }
        /* exact-size copy so ASan sees reads past the end */
        uint8_t *exact = malloc(sz ? sz : 1);
        memcpy(exact, buf, sz);
        LLVMFuzzerTestOneInput(exact, sz);
        free(exact);
        free(buf);
    }
    for (size_t i = 0; i < n; i++) free(corpus[i].data);
    free(corpus);
    printf("fuzz replay: %zu corpus files, %ld mutations, no crash\n", n, n_mut);
    return 0;
}
