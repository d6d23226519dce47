/* sha256.c — SHA-256 as specified in FIPS 180-4 §6.2 (see sha256.h).
 *
 * Two code paths, chosen per state at bl_sha256_init: plain C written for clarity, and the
 * x86 SHA extensions (SHA-NI: Intel since Ice Lake / Goldmont, AMD since Zen), about 8x
 * faster, which matter for the model file hashed at the start of every run (45 MB for
 * resnet18: ~0.25 s in C). BL_SHA256_ISA=c in the environment forces the C path (tests
 * compare the two).
 *
 * Owns nothing beyond the caller's state; no shared data, so any thread may hash its own
 * buffers.
 */
#include "sha256.h"

#include <stdlib.h> /* getenv */
#include <string.h> /* memcpy, strcmp */

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h> /* _mm_sha256rnds2_epu32 & co. */
#define BL_SHA_HAVE_NI 1
#endif

static const uint32_t k_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const unsigned char *p) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
               (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k_sha256_k[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

#if BL_SHA_HAVE_NI
/* n blocks with the SHA extensions: the state lives as ABEF / CDGH in two registers; each
 * sha256rnds2 does two rounds, msg1/msg2 extend the message schedule four words at a time
 * (W[t] for t = 4g..4g+3 from the four previous groups). */
__attribute__((target("sha,sse4.1,ssse3"))) static void sha256_blocks_ni(uint32_t h[8], const unsigned char *p,
                                                                       size_t n) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* CDAB */
    __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                                       /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                            /* CDGH */
    for (; n > 0; n--, p += 64) {
        __m128i save0 = st0, save1 = st1, w[4];
        for (int g = 0; g < 16; g++) {
            __m128i wg;
            if (g < 4)
                wg = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
            else
                wg = _mm_sha256msg2_epu32(
                    _mm_add_epi32(_mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]),
                                  _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4)),
                    w[(g + 3) & 3]);
            w[g & 3] = wg;
            __m128i m = _mm_add_epi32(wg, _mm_loadu_si128((const __m128i *)&k_sha256_k[4 * g]));
            st1 = _mm_sha256rnds2_epu32(st1, st0, m);
            st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(m, 0x0E));
        }
        st0 = _mm_add_epi32(st0, save0);
        st1 = _mm_add_epi32(st1, save1);
    }
    tmp = _mm_shuffle_epi32(st0, 0x1B);           /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);           /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0);        /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);           /* HGFE */
    _mm_storeu_si128((__m128i *)&h[0], st0);
    _mm_storeu_si128((__m128i *)&h[4], st1);
}
#endif

/* n consecutive 64-byte blocks through the state's code path. */
static void sha256_blocks(bl_sha256 *s, const unsigned char *p, size_t n) {
#if BL_SHA_HAVE_NI
    if (s->ni) {
        sha256_blocks_ni(s->h, p, n);
        return;
    }
#endif
    for (; n > 0; n--, p += 64) sha256_block(s->h, p);
}

bool bl_sha256_accelerated(void) {
#if BL_SHA_HAVE_NI
    const char *env = getenv("BL_SHA256_ISA");
    if (env && !strcmp(env, "c")) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
#else
    return false;
#endif
}

void bl_sha256_init(bl_sha256 *s) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->n_bytes = 0;
    s->buf_len = 0;
    s->ni = bl_sha256_accelerated();
}

void bl_sha256_update(bl_sha256 *s, const void *data, size_t len) {
    const unsigned char *p = data;
    s->n_bytes += len;
    if (s->buf_len) {
        size_t take = 64 - s->buf_len < len ? 64 - s->buf_len : len;
        memcpy(s->buf + s->buf_len, p, take);
        s->buf_len += take;
        p += take;
        len -= take;
        if (s->buf_len < 64) return;
        sha256_blocks(s, s->buf, 1);
        s->buf_len = 0;
    }
    sha256_blocks(s, p, len / 64);
    p += len / 64 * 64;
    len %= 64;
    memcpy(s->buf, p, len);
    s->buf_len = len;
}

void bl_sha256_final(bl_sha256 *s, unsigned char digest[32]) {
    uint64_t bits = s->n_bytes * 8;
    unsigned char pad[72] = {0x80};
    /* pad to 56 mod 64, then the 64-bit big-endian bit length */
    size_t pad_len = (s->buf_len < 56 ? 56 : 120) - s->buf_len;
    for (int i = 0; i < 8; i++) pad[pad_len + i] = (unsigned char)(bits >> (56 - 8 * i));
    uint64_t n_saved = s->n_bytes;
    bl_sha256_update(s, pad, pad_len + 8);
    s->n_bytes = n_saved;
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(s->h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)s->h[i];
    }
}

void bl_sha256_final_hex(bl_sha256 *s, char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    unsigned char d[32];
    bl_sha256_final(s, d);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

void bl_sha256_hex(const void *data, size_t len, char hex[65]) {
    bl_sha256 s;
    bl_sha256_init(&s);
    bl_sha256_update(&s, data, len);
    bl_sha256_final_hex(&s, hex);
}
