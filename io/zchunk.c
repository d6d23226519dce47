/* zchunk.c — zstd CSV chunks: atomic streaming writer and verifying reader (see zchunk.h).
 *
 * The writer streams the rows through ZSTD_compressStream2 into a fixed output buffer,
 * writing and hashing each piece, so memory stays at one zstd window whatever the chunk size.
 * Threading: none shared; each call creates its own (de)compression context.
 */
#include "zchunk.h"

#include <errno.h>  /* errno */
#include <fcntl.h>  /* open */
#include <stdio.h>  /* snprintf, rename */
#include <stdlib.h> /* malloc */
#include <string.h> /* strlen, strcmp */
#include <unistd.h> /* read, close, unlink */
#include <zstd.h>   /* ZSTD_compressStream2, ZSTD_decompressStream */

#include "sha256.h" /* chunk file checksums */

typedef struct {
    int fd;
    const char *path;
    bl_write_guard *g;
    bl_sha256 sha;
    int64_t bytes;
    unsigned char *out;
    size_t out_cap;
    ZSTD_CCtx *cctx;
} zwriter;

static bl_status zw_feed(zwriter *w, const void *data, size_t len, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in = {data, len, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->out, w->out_cap, 0};
        size_t left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
        if (ZSTD_isError(left))
            return BL_ERROR(BL_ERR_INTERNAL, "compressing %s: %s", w->path, ZSTD_getErrorName(left));
        if (out.pos) {
            BL_TRY(bl_durable_write(w->fd, w->out, out.pos, w->path, w->g));
            bl_sha256_update(&w->sha, w->out, out.pos);
            w->bytes += (int64_t)out.pos;
        }
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return BL_OK;
    }
}

bl_status bl_zchunk_write(const char *path, const char *header, const char *rows, size_t rows_len,
                          int level, bl_write_guard *g, bl_zchunk_info *info) {
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    BL_RETURN_IF(n < 0 || (size_t)n >= sizeof tmp, BL_ERR_IO, "path too long: %s", path);
    zwriter w = {.fd = -1, .path = tmp, .g = g};
    bl_sha256_init(&w.sha);
    w.out_cap = ZSTD_CStreamOutSize();
    w.out = malloc(w.out_cap);
    w.cctx = ZSTD_createCCtx();
    bl_status s = BL_OK;
    size_t hl = strlen(header);
    if (!w.out || !w.cctx) {
        s = BL_ERROR(BL_ERR_NOMEM, "out of memory compressing %s", path);
        goto done;
    }
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setPledgedSrcSize(w.cctx, (unsigned long long)(hl + 1 + rows_len));
    w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0) {
        s = bl_durable_errno(errno, "creating", tmp);
        goto done;
    }
    if ((s = zw_feed(&w, header, hl, ZSTD_e_continue)) != BL_OK) goto done;
    if ((s = zw_feed(&w, "\n", 1, ZSTD_e_continue)) != BL_OK) goto done;
    if ((s = zw_feed(&w, rows, rows_len, ZSTD_e_end)) != BL_OK) goto done;
    if ((s = bl_durable_fsync(w.fd, tmp)) != BL_OK) goto done;
    if (close(w.fd) != 0) {
        w.fd = -1;
        s = bl_durable_errno(errno, "closing", tmp);
        goto done;
    }
    w.fd = -1;
    if (rename(tmp, path) != 0) {
        s = bl_durable_errno(errno, "renaming to", path);
        goto done;
    }
    s = bl_durable_fsync_dir(path);
    if (info) {
        info->bytes = w.bytes;
        info->raw_bytes = (int64_t)(hl + 1 + rows_len);
        bl_sha256_final_hex(&w.sha, info->sha256);
    }
done:
    if (w.fd >= 0) close(w.fd);
    if (s != BL_OK) unlink(tmp);
    ZSTD_freeCCtx(w.cctx);
    free(w.out);
    return s;
}

/* Whole file into memory: chunks are bounded by rows_per_chunk, and hashing before
 * decompressing means corrupt data is never handed to the sink. */
static bl_status slurp(const char *path, unsigned char **data, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return BL_ERROR(BL_ERR_NOT_FOUND, "chunk %s is missing", path);
        return bl_durable_errno(errno, "opening", path);
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return BL_ERROR(BL_ERR_NOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return bl_durable_errno(e, "reading", path);
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return BL_OK;
}

bl_status bl_zchunk_read(const char *path, const char *expect_sha256, bl_zchunk_sink sink, void *user,
                         bl_zchunk_info *info) {
    unsigned char *data = NULL;
    size_t len = 0;
    BL_TRY(slurp(path, &data, &len));
    char hex[65];
    bl_sha256_hex(data, len, hex);
    bl_status s = BL_OK;
    ZSTD_DCtx *dctx = NULL;
    void *out = NULL;
    int64_t raw = 0;
    if (expect_sha256 && strcmp(hex, expect_sha256) != 0) {
        s = BL_ERROR(BL_ERR_FORMAT,
                     "chunk %s is corrupt: its sha256 is %s but manifest.json lists %s (the file "
                     "was changed or damaged; rerun the affected items or restore it)",
                     path, hex, expect_sha256);
        goto done;
    }
    /* RFC 8878 §3.1.1: magic 0xFD2FB528 (little-endian), then the frame header descriptor,
     * whose bit 2 is Content_Checksum_flag (read by hand: ZSTD_getFrameHeader is not part of
     * libzstd's stable API). */
    if (len < 6 || data[0] != 0x28 || data[1] != 0xB5 || data[2] != 0x2F || data[3] != 0xFD) {
        s = BL_ERROR(BL_ERR_FORMAT, "chunk %s is not a zstd frame (bad magic number)", path);
        goto done;
    }
    if (!(data[4] & 0x04)) {
        s = BL_ERROR(BL_ERR_FORMAT, "chunk %s has no zstd content checksum (not written by baleen?)", path);
        goto done;
    }
    unsigned long long content_size = ZSTD_getFrameContentSize(data, len);
    if (content_size == ZSTD_CONTENTSIZE_ERROR) {
        s = BL_ERROR(BL_ERR_FORMAT, "chunk %s has a corrupt zstd frame header", path);
        goto done;
    }
    size_t fsize = ZSTD_findFrameCompressedSize(data, len);
    if (ZSTD_isError(fsize) || fsize != len) {
        s = BL_ERROR(BL_ERR_FORMAT, "chunk %s: %s", path,
                     ZSTD_isError(fsize) ? "truncated zstd frame" : "data after the zstd frame");
        goto done;
    }
    dctx = ZSTD_createDCtx();
    size_t out_cap = ZSTD_DStreamOutSize();
    out = malloc(out_cap);
    if (!dctx || !out) {
        s = BL_ERROR(BL_ERR_NOMEM, "out of memory decompressing %s", path);
        goto done;
    }
    ZSTD_inBuffer in = {data, len, 0};
    size_t ret = 1;
    while (in.pos < in.size || ret != 0) {
        ZSTD_outBuffer ob = {out, out_cap, 0};
        size_t before = in.pos;
        ret = ZSTD_decompressStream(dctx, &ob, &in);
        if (ZSTD_isError(ret)) {
            s = BL_ERROR(BL_ERR_FORMAT, "chunk %s is corrupt: zstd says %s", path, ZSTD_getErrorName(ret));
            goto done;
        }
        raw += (int64_t)ob.pos;
        if (ob.pos && sink && (s = sink(user, out, ob.pos)) != BL_OK) goto done;
        if (ret != 0 && ob.pos == 0 && in.pos == before && in.pos == in.size) {
            s = BL_ERROR(BL_ERR_FORMAT, "chunk %s is truncated", path);
            goto done;
        }
    }
    if (content_size != ZSTD_CONTENTSIZE_UNKNOWN && (unsigned long long)raw != content_size) {
        s = BL_ERROR(BL_ERR_FORMAT, "chunk %s is corrupt: content size differs from its frame header", path);
        goto done;
    }
    if (info) {
        info->bytes = (int64_t)len;
        info->raw_bytes = raw;
        memcpy(info->sha256, hex, sizeof hex);
    }
done:
    ZSTD_freeDCtx(dctx);
    free(out);
    free(data);
    return s;
}
