/* zchunk.h — one table chunk on disk: a complete zstd frame (content checksum and content
 * size in the frame header) holding RFC 4180 CSV text, written atomically, and its reader
 * that verifies the file's SHA-256 and the frame's checksum.
 *
 * Defines: bl_zchunk_info, bl_zchunk_write(), bl_zchunk_read().
 * Output bytes depend only on the input bytes and the level (single-threaded zstd), which
 * keeps resumed runs byte-identical to uninterrupted ones.
 * Threading: no shared state; each call owns its compression context.
 */
#ifndef BL_ZCHUNK_H
#define BL_ZCHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h" /* bl_status */
#include "durable.h"       /* bl_write_guard */

typedef struct {
    int64_t bytes;     /* compressed file size */
    int64_t raw_bytes; /* decompressed size (header line included) */
    char sha256[65];   /* of the file's bytes, lowercase hex */
} bl_zchunk_info;

/* Write header + "\n" + rows (rows_len bytes) as one zstd frame to path, through path.tmp
 * (write, fsync, rename, fsync folder). On failure the temp file is removed. */
bl_status bl_zchunk_write(const char *path, const char *header, const char *rows, size_t rows_len,
                          int level, bl_write_guard *g, bl_zchunk_info *info);

/* Receives decompressed text in pieces (in order). A non-OK status stops reading. */
typedef bl_status (*bl_zchunk_sink)(void *user, const char *data, size_t len);

/* Read a chunk: check the file's SHA-256 against expect_sha256 (NULL: skip) first, then
 * decompress streaming into sink; the zstd frame must carry a content checksum and must be
 * the only frame. Errors (BL_ERR_FORMAT) name the path and what is wrong. info may be NULL. */
bl_status bl_zchunk_read(const char *path, const char *expect_sha256, bl_zchunk_sink sink, void *user,
                         bl_zchunk_info *info);

#endif
