/* durable.c — crash-safe writes (see durable.h).
 *
 * Owns no state beyond the caller's guard; the ENOSPC injection is read from the environment
 * once per guard so that no process-wide counter exists.
 */
#include "durable.h"

#include <errno.h>    /* errno, ENOSPC, EDQUOT */
#include <stdbool.h>  /* bool */
#include <fcntl.h>    /* open */
#include <libgen.h>   /* dirname */
#include <stdio.h>    /* snprintf, rename */
#include <stdlib.h>   /* getenv, strtoll */
#include <string.h>   /* strerror, strlen */
#include <unistd.h>   /* write, fsync, close, unlink */

void bl_write_guard_init(bl_write_guard *g) {
    g->written = 0;
    g->inject_left = -1;
#ifdef BL_TEST_HOOKS /* test builds only (BL_BUILD_TESTS): injected ENOSPC at the write layer */
    const char *e = getenv("BL_TEST_ENOSPC_AFTER_BYTES");
    if (e && *e) {
        char *end;
        long long v = strtoll(e, &end, 10);
        if (*end == '\0' && v >= 0) g->inject_left = v;
    }
#endif
}

bl_status bl_durable_errno(int err, const char *what, const char *path) {
    if (err == ENOSPC
#ifdef EDQUOT
        || err == EDQUOT
#endif
    )
        return BL_ERROR(BL_ERR_NO_SPACE,
                        "%s %s: %s; what was written before stays valid: free some space and run "
                        "again with --resume",
                        what, path, strerror(err));
    return BL_ERROR(BL_ERR_IO, "%s %s: %s", what, path, strerror(err));
}

bl_status bl_durable_write(int fd, const void *data, size_t len, const char *path, bl_write_guard *g) {
    const char *p = data;
    while (len > 0) {
        size_t n = len;
        bool inject = false;
        if (g && g->inject_left >= 0 && (int64_t)n > g->inject_left) {
            n = (size_t)g->inject_left;
            inject = true;
        }
        if (n == 0 && inject) return bl_durable_errno(ENOSPC, "writing", path);
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return bl_durable_errno(errno, "writing", path);
        }
        p += w;
        len -= (size_t)w;
        if (g) {
            g->written += w;
            if (g->inject_left >= 0) g->inject_left -= w;
        }
    }
    return BL_OK;
}

bl_status bl_durable_fsync(int fd, const char *path) {
    while (fsync(fd) != 0) {
        if (errno == EINTR) continue;
        /* EINVAL: the file system cannot sync this kind of file (e.g. a pipe) — nothing to do */
        if (errno == EINVAL) return BL_OK;
        return bl_durable_errno(errno, "syncing", path);
    }
    return BL_OK;
}

bl_status bl_durable_fsync_dir(const char *path) {
    char tmp[4096];
    if (strlen(path) >= sizeof tmp) return BL_ERROR(BL_ERR_IO, "path too long: %s", path);
    memcpy(tmp, path, strlen(path) + 1);
    const char *dir = dirname(tmp);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return bl_durable_errno(errno, "opening folder", dir);
    bl_status s = bl_durable_fsync(fd, dir);
    close(fd);
    return s;
}

bl_status bl_durable_replace(const char *path, const void *data, size_t len, bl_write_guard *g) {
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    BL_RETURN_IF(n < 0 || (size_t)n >= sizeof tmp, BL_ERR_IO, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return bl_durable_errno(errno, "creating", tmp);
    bl_status s = bl_durable_write(fd, data, len, tmp, g);
    if (s == BL_OK) s = bl_durable_fsync(fd, tmp);
    if (close(fd) != 0 && s == BL_OK) s = bl_durable_errno(errno, "closing", tmp);
    if (s == BL_OK && rename(tmp, path) != 0) s = bl_durable_errno(errno, "renaming to", path);
    if (s != BL_OK) {
        unlink(tmp);
        return s;
    }
    return bl_durable_fsync_dir(path);
}
