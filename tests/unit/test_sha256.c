/* test_sha256.c — io/sha256.c: the FIPS 180-4 / NIST example digests through both code paths
 * (the x86 SHA extensions where the CPU has them, and the C path forced by BL_SHA256_ISA=c),
 * and the two paths agreeing on every length 0..300 and on random splits of the updates. */
#include <stdio.h>  /* printf */
#include <stdlib.h> /* setenv, unsetenv, malloc */
#include <string.h> /* strcmp, memset */

#include "io/sha256.h" /* the code under test */
#include "testutil.h"  /* BL_CHECK */

/* Hex digest of buf through the C path (c = true) or the default one, fed in pieces whose
 * sizes follow `cuts` (0 = all at once). */
static void digest(const unsigned char *buf, size_t n, bool c, unsigned cuts, char hex[65]) {
    if (c) setenv("BL_SHA256_ISA", "c", 1);
    else unsetenv("BL_SHA256_ISA");
    bl_sha256 s;
    bl_sha256_init(&s);
    size_t off = 0;
    unsigned r = cuts;
    while (off < n) {
        size_t k = cuts ? 1 + (r % 131) : n - off;
        r = r * 1103515245u + 12345u;
        if (k > n - off) k = n - off;
        bl_sha256_update(&s, buf + off, k);
        off += k;
    }
    bl_sha256_final_hex(&s, hex);
    unsetenv("BL_SHA256_ISA");
}

static void test_vectors(bool c) {
    static const struct {
        const char *msg;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        digest((const unsigned char *)v[i].msg, strlen(v[i].msg), c, 0, hex);
        BL_CHECK(!strcmp(hex, v[i].hex), "%s path: sha256 of NIST message %zu: %s", c ? "C" : "default", i, hex);
    }
    size_t n = 1000000; /* one million 'a' */
    unsigned char *a = malloc(n);
    BL_CHECK(a != NULL, "out of memory");
    if (!a) return;
    memset(a, 'a', n);
    digest(a, n, c, 0, hex);
    BL_CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
             "%s path: sha256 of a million 'a': %s", c ? "C" : "default", hex);
    free(a);
}

static void test_paths_agree(void) {
    unsigned char buf[300];
    unsigned x = 7;
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)((x = x * 1664525u + 1013904223u) >> 24);
    char h1[65], h2[65];
    for (size_t n = 0; n <= sizeof buf; n++) {
        digest(buf, n, true, 0, h1);
        digest(buf, n, false, (unsigned)n + 1, h2);
        BL_CHECK(!strcmp(h1, h2), "length %zu: C path %s, default path in pieces %s", n, h1, h2);
    }
}

int main(void) {
    printf("SHA extensions: %s\n", bl_sha256_accelerated() ? "used" : "not available (both runs use C)");
    test_vectors(true);
    test_vectors(false);
    test_paths_agree();
    return bl_test_finish("test_sha256");
}
