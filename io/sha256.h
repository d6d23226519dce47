/* sha256.h — SHA-256 (FIPS 180-4) for chunk checksums in the manifest and the model hash.
 *
 * Defines: bl_sha256 (incremental state), bl_sha256_init/update/final, bl_sha256_hex().
 * None of the libraries baleen links (libzstd, libsndfile, libyaml, ...) exports SHA-256, so
 * this small one is ours; tests check it against the FIPS 180-4 / NIST vectors.
 *
 * Threading: a state is used by one thread at a time; no shared data.
 */
#ifndef BL_SHA256_H
#define BL_SHA256_H

#include <stdbool.h> /* bool */
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t n_bytes;      /* total bytes hashed so far */
    unsigned char buf[64]; /* partial block */
    size_t buf_len;
    bool ni; /* hashing with the x86 SHA extensions (bl_sha256_accelerated at init) */
} bl_sha256;

/* Whether new states use the CPU's SHA extensions: the CPU has them and BL_SHA256_ISA is
 * not "c". Both paths give the same digests. */
bool bl_sha256_accelerated(void);

void bl_sha256_init(bl_sha256 *s);
void bl_sha256_update(bl_sha256 *s, const void *data, size_t len);
/* Finish and write the 32-byte digest. The state must be re-initialised before reuse. */
void bl_sha256_final(bl_sha256 *s, unsigned char digest[32]);
/* Finish and write the digest as 64 lowercase hex characters + NUL. */
void bl_sha256_final_hex(bl_sha256 *s, char hex[65]);
/* One-shot helper: hex digest of a buffer. */
void bl_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
