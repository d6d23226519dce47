/* infile.c — opening outside files the same way everywhere (see infile.h).
 * Owns nothing beyond what it returns. Threading: none shared.
 */
#include "infile.h"

#include <errno.h>    /* errno */
#include <fcntl.h>    /* open, fcntl */
#include <stdio.h>    /* snprintf */
#include <stdlib.h>   /* malloc */
#include <string.h>   /* strerror */
#include <sys/stat.h> /* fstat, lstat */
#include <unistd.h>   /* read, close */

void bl_format_size(uint64_t bytes, char *buf, size_t cap) {
    static const char *const unit[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000.0 && u < 6) v /= 1000.0, u++;
    if (u == 0) snprintf(buf, cap, "%llu bytes", (unsigned long long)bytes);
    else snprintf(buf, cap, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, unit[u]);
}

void bl_format_bytes(uint64_t bytes, char *buf, size_t cap) {
    static const char *const unit[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000.0 && u < 6) v /= 1000.0, u++;
    /* the exact count with thousands separators */
    char digits[32], grouped[48];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)bytes);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) grouped[k++] = ',';
        grouped[k++] = digits[i];
    }
    grouped[k] = '\0';
    if (u == 0) snprintf(buf, cap, "%s bytes", grouped);
    else snprintf(buf, cap, "%.1f %s (%s bytes)", v, unit[u], grouped);
}

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a folder (directory)";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

bl_status bl_infile_open(const char *path, const char *what, int *fd, int64_t *size) {
    *fd = -1;
    BL_RETURN_IF(!path || !*path, BL_ERR_INVALID_ARG, "no %s file given", what);
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f < 0) {
        int e = errno;
        struct stat ls;
        if (e == ENOENT && lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode))
            return BL_ERROR(BL_ERR_NOT_FOUND, "%s %s is a symbolic link to a file that does not exist", what, path);
        if (e == ENOENT || e == ENOTDIR) return BL_ERROR(BL_ERR_NOT_FOUND, "%s %s: no such file", what, path);
        if (e == ELOOP) return BL_ERROR(BL_ERR_IO, "%s %s: the symbolic links loop (a link points back to itself)",
                                        what, path);
        if (e == EACCES || e == EPERM)
            return BL_ERROR(BL_ERR_IO, "%s %s: permission denied (check the file's read permission)", what, path);
        if (e == ENXIO) return BL_ERROR(BL_ERR_IO, "%s %s is a socket or device that cannot be read as a file", what, path);
        return BL_ERROR(BL_ERR_IO, "%s %s: cannot open: %s", what, path, strerror(e));
    }
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return BL_ERROR(BL_ERR_IO, "%s %s: cannot stat: %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return BL_ERROR(BL_ERR_IO, "%s %s is %s, not a regular file; give the path of the file itself", what,
                        path, kind_of(st.st_mode));
    }
    int fl = fcntl(f, F_GETFL);
    if (fl >= 0) (void)fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    if (size) *size = (int64_t)st.st_size;
    return BL_OK;
}

bl_status bl_infile_read_all(const char *path, const char *what, size_t max_bytes, char **data, size_t *len) {
    *data = NULL;
    if (len) *len = 0;
    int fd;
    int64_t size;
    BL_TRY(bl_infile_open(path, what, &fd, &size));
    if ((uint64_t)size > max_bytes) {
        char a[64], b[64];
        bl_format_bytes((uint64_t)size, a, sizeof a);
        bl_format_bytes(max_bytes, b, sizeof b);
        close(fd);
        return BL_ERROR(BL_ERR_RANGE, "%s %s is %s, more than the %s a %s may have", what, path, a, b, what);
    }
    char *buf = malloc((size_t)size + 1);
    if (!buf) {
        close(fd);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory reading %s %s (%lld bytes)", what, path, (long long)size);
    }
    size_t n = 0;
    bl_status s = BL_OK;
    while (n < (size_t)size) {
        ssize_t r = read(fd, buf + n, (size_t)size - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            s = BL_ERROR(BL_ERR_IO, "reading %s %s: %s", what, path, strerror(errno));
            break;
        }
        if (r == 0) break; /* shrank meanwhile: take what is there */
        n += (size_t)r;
    }
    close(fd);
    if (s != BL_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *data = buf;
    if (len) *len = n;
    return BL_OK;
}
