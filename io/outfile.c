/* outfile.c — whole-file outputs at user-named paths (see outfile.h).
 *
 * Owns, per handle: the descriptor written to, the resolved target path, the temporary's name
 * (NULL while it is unnamed), and for direct targets that must look seekable a scratch file.
 * Threading: a handle belongs to one thread; nothing here is shared.
 */
#include "outfile.h"

#include <errno.h>    /* errno */
#include <fcntl.h>    /* open, O_TMPFILE, linkat */
#include <limits.h>   /* PATH_MAX */
#include <stdio.h>    /* snprintf, rename */
#include <stdlib.h>   /* malloc, realpath, mkstemp, getenv */
#include <string.h>   /* strerror, strcmp */
#include <sys/stat.h> /* lstat, fchmod */
#include <unistd.h>   /* write, fsync, close, unlink, link */

#include "durable.h" /* bl_durable_errno, bl_durable_fsync_dir */

struct bl_outfile {
    int fd;          /* what the writer writes to */
    int direct_fd;   /* the direct target when fd is a scratch file; else -1 */
    bool direct;     /* the target is written in place (stdout, device, FIFO) */
    bool is_stdout;
    bool no_clobber;
    bool unnamed;    /* fd is an O_TMPFILE not linked anywhere yet */
    char *name;      /* as the user gave it */
    char *target;    /* resolved final path (temporary mode) */
    char *tmp;       /* named temporary, or NULL */
};

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* The folder of `path` as a new string ("." when it has none). */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return dup_str(".");
    size_t k = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(k + 1);
    if (d) {
        memcpy(d, path, k);
        d[k] = '\0';
    }
    return d;
}

/* A fresh "<target>.tmp-XXXXXX" made by mkstemp (".baleen-tmp-XXXXXX" in the target's folder
 * when the target's own name leaves no room for the suffix); *fd open on it. */
static bl_status named_temp(const char *target, char **name, int *fd) {
    size_t n = strlen(target) + 24;
    char *t = malloc(n);
    BL_CHECK_ALLOC(t);
    const char *slash = strrchr(target, '/');
    size_t base = strlen(slash ? slash + 1 : target);
    if (base + 11 <= 255) snprintf(t, n, "%s.tmp-XXXXXX", target);
    else snprintf(t, n, "%.*s.baleen-tmp-XXXXXX", slash ? (int)(slash - target + 1) : 0, target);
    int f = mkstemp(t);
    if (f < 0) {
        bl_status s = bl_durable_errno(errno, "cannot create a temporary file next to", target);
        free(t);
        return s;
    }
    *name = t;
    *fd = f;
    return BL_OK;
}

/* An unnamed scratch file in `dir` (NULL: $TMPDIR or /tmp). */
static bl_status scratch_file(const char *for_name, const char *dir, int *fd) {
    if (!dir) dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
#ifdef O_TMPFILE
    int f = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (f >= 0) {
        *fd = f;
        return BL_OK;
    }
#endif
    size_t n = strlen(dir) + 32;
    char *t = malloc(n);
    BL_CHECK_ALLOC(t);
    snprintf(t, n, "%s/baleen-out-XXXXXX", dir);
    int g = mkstemp(t);
    int e = errno;
    if (g >= 0) unlink(t); /* anonymous: only the descriptor holds it */
    free(t);
    if (g < 0)
        return BL_ERROR(BL_ERR_IO, "writing %s needs a scratch file in %s: %s; set TMPDIR to a writable "
                        "folder", for_name, dir, strerror(e));
    *fd = g;
    return BL_OK;
}

static void free_handle(bl_outfile *f) {
    free(f->name);
    free(f->target);
    free(f->tmp);
    free(f);
}

/* Open the temporary for a regular-file target. */
static bl_status open_temp(bl_outfile *f, mode_t mode) {
#ifdef O_TMPFILE
#ifdef BL_TEST_HOOKS /* test builds only: BL_TEST_NO_TMPFILE=1 takes the named path, as on a
                        filesystem without O_TMPFILE, so that tests cover both */
    const char *no_tmpfile = getenv("BL_TEST_NO_TMPFILE");
    if (!no_tmpfile || strcmp(no_tmpfile, "1"))
#endif
    {
    char *dir = dir_of(f->target);
    BL_CHECK_ALLOC(dir);
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    free(dir);
    if (fd >= 0) {
        (void)fchmod(fd, mode);
        f->fd = fd;
        f->unnamed = true;
        return BL_OK;
    }
    }
#endif
    BL_TRY(named_temp(f->target, &f->tmp, &f->fd));
    (void)fchmod(f->fd, mode);
    return BL_OK;
}

bl_status bl_outfile_open(const char *path, unsigned flags, bl_outfile **out) {
    *out = NULL;
    BL_RETURN_IF(!path || !*path, BL_ERR_INVALID_ARG, "no output path given");
    bl_outfile *f = calloc(1, sizeof *f);
    BL_CHECK_ALLOC(f);
    f->fd = f->direct_fd = -1;
    f->no_clobber = (flags & BL_OUTFILE_NO_CLOBBER) != 0;
    f->name = dup_str(strcmp(path, "-") ? path : "standard output");
    bl_status s = f->name ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    struct stat ls, st;
    mode_t mode = 0644;
    if (s == BL_OK && !strcmp(path, "-")) {
        f->direct = f->is_stdout = true;
        f->fd = STDOUT_FILENO;
    } else if (s == BL_OK && lstat(path, &ls) != 0) {
        if (errno == ENOENT) f->target = dup_str(path); /* a new name */
        else s = bl_durable_errno(errno, "cannot use the output", path);
        if (s == BL_OK && !f->target) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
    } else if (s == BL_OK) {
        if (f->no_clobber)
            s = BL_ERROR(BL_ERR_EXISTS, "%s already exists and baleen does not replace it here; remove it or "
                         "choose another output", path);
        else if (stat(path, &st) != 0)
            s = errno == ELOOP ? BL_ERROR(BL_ERR_IO, "output %s: the symbolic link loops", path)
              : errno == ENOENT ? BL_ERROR(BL_ERR_IO, "output %s is a symbolic link to a missing file (%s); "
                                           "create the target or give its path", path, strerror(errno))
                                : bl_durable_errno(errno, "cannot use the output", path);
        else if (S_ISDIR(st.st_mode))
            s = BL_ERROR(BL_ERR_IO, "output %s is a folder; give a file name", path);
        else if (S_ISREG(st.st_mode)) {
            mode = st.st_mode & 07777;
            if (S_ISLNK(ls.st_mode)) {
                f->target = realpath(path, NULL); /* replace the file the link points to */
                if (!f->target) s = bl_durable_errno(errno, "cannot resolve the output", path);
            } else {
                f->target = dup_str(path);
                if (!f->target) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
            }
        } else {
            /* a device, FIFO or socket: written in place, never replaced */
            f->direct = true;
            f->fd = open(path, O_WRONLY | O_CLOEXEC);
            if (f->fd < 0) s = bl_durable_errno(errno, "cannot open the output", path);
        }
    }
    if (s == BL_OK && f->direct && (flags & BL_OUTFILE_SEEKABLE)) {
        /* stdout redirected to a regular file still goes through the scratch file: writing
         * at offsets of a descriptor shared with the shell is not ours to do */
        f->direct_fd = f->fd;
        f->fd = -1;
        s = scratch_file(f->name, NULL, &f->fd);
    }
    if (s == BL_OK && !f->direct) s = open_temp(f, mode);
    if (s != BL_OK) {
        bl_outfile_discard(f);
        return s;
    }
    *out = f;
    return BL_OK;
}

int bl_outfile_fd(const bl_outfile *f) { return f->fd; }

bl_status bl_outfile_scratch(const bl_outfile *f, int *fd) {
    if (f->direct) return scratch_file(f->name, NULL, fd);
    char *dir = dir_of(f->target);
    BL_CHECK_ALLOC(dir);
    bl_status s = scratch_file(f->name, dir, fd);
    free(dir);
    return s;
}
bool bl_outfile_is_direct(const bl_outfile *f) { return f->direct; }
const char *bl_outfile_name(const bl_outfile *f) { return f->name; }

static bl_status write_all(int fd, const void *data, size_t len, const char *name) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return bl_durable_errno(w < 0 ? errno : EIO, "writing", name);
        p += w;
        len -= (size_t)w;
    }
    return BL_OK;
}

bl_status bl_outfile_write(bl_outfile *f, const void *data, size_t len) {
    return write_all(f->fd, data, len, f->name);
}

/* Copy the scratch file to the direct target. */
static bl_status copy_scratch(bl_outfile *f) {
    BL_RETURN_IF(lseek(f->fd, 0, SEEK_SET) != 0, BL_ERR_IO, "rewinding the scratch file of %s: %s", f->name,
                 strerror(errno));
    char *buf = malloc(1 << 20);
    BL_CHECK_ALLOC(buf);
    bl_status s = BL_OK;
    for (;;) {
        ssize_t r = read(f->fd, buf, 1 << 20);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) s = BL_ERROR(BL_ERR_IO, "reading back the scratch file of %s: %s", f->name, strerror(errno));
        if (r <= 0) break;
        if ((s = write_all(f->direct_fd, buf, (size_t)r, f->name)) != BL_OK) break;
    }
    free(buf);
    return s;
}

/* Where an unnamed file cannot be linked: copy it into a named temporary instead. */
static bl_status copy_to_named(bl_outfile *f) {
    int nfd = -1;
    char *name = NULL;
    BL_TRY(named_temp(f->target, &name, &nfd));
    struct stat st;
    if (fstat(f->fd, &st) == 0) (void)fchmod(nfd, st.st_mode & 07777);
    bl_status s = lseek(f->fd, 0, SEEK_SET) == 0 ? BL_OK : bl_durable_errno(errno, "rewinding", f->name);
    char *buf = s == BL_OK ? malloc(1 << 20) : NULL;
    if (s == BL_OK && !buf) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
    while (s == BL_OK) {
        ssize_t r = read(f->fd, buf, 1 << 20);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) s = bl_durable_errno(errno, "reading back", f->name);
        if (r <= 0) break;
        s = write_all(nfd, buf, (size_t)r, name);
    }
    free(buf);
    if (s == BL_OK) s = bl_durable_fsync(nfd, name);
    close(f->fd);
    f->fd = nfd;
    f->tmp = name;
    f->unnamed = false;
    return s;
}

/* Put the finished temporary in place: link the unnamed file to a temporary name, then
 * rename (or link, for no-clobber) it to the target. */
static bl_status place_temp(bl_outfile *f) {
    if (f->unnamed) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
        if (f->no_clobber) { /* straight to the final name: fails if something appeared */
            int ok = linkat(AT_FDCWD, proc, AT_FDCWD, f->target, AT_SYMLINK_FOLLOW) == 0;
#ifdef AT_EMPTY_PATH
            if (!ok && errno != EEXIST) ok = linkat(f->fd, "", AT_FDCWD, f->target, AT_EMPTY_PATH) == 0;
#endif
            if (ok) return BL_OK;
            if (errno == EEXIST)
                return BL_ERROR(BL_ERR_EXISTS, "%s appeared while baleen was writing it; it was left as it is",
                                f->target);
            BL_TRY(copy_to_named(f)); /* then linked below */
        }
        for (int tries = 0; tries < 16 && f->unnamed && !f->tmp; tries++) {
            int tfd = -1;
            char *name = NULL;
            BL_TRY(named_temp(f->target, &name, &tfd));
            close(tfd);
            unlink(name); /* a fresh unused name; linkat does not replace */
            int ok = linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0;
#ifdef AT_EMPTY_PATH
            if (!ok && errno != EEXIST) ok = linkat(f->fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0;
#endif
            int e = errno;
            if (ok) f->tmp = name;
            else {
                free(name);
                if (e != EEXIST) BL_TRY(copy_to_named(f)); /* no /proc, or the filesystem says no */
            }
        }
        BL_RETURN_IF(!f->tmp, BL_ERR_IO, "cannot find a free temporary name next to %s", f->target);
        f->unnamed = false;
    }
    if (f->no_clobber) {
        if (link(f->tmp, f->target) != 0) {
            int e = errno;
            if (e == EEXIST)
                return BL_ERROR(BL_ERR_EXISTS, "%s appeared while baleen was writing it; it was left as it is",
                                f->target);
            return bl_durable_errno(e, "cannot create", f->target);
        }
        unlink(f->tmp);
        return BL_OK;
    }
    if (rename(f->tmp, f->target) != 0) return bl_durable_errno(errno, "cannot replace", f->target);
    return BL_OK;
}

bl_status bl_outfile_commit(bl_outfile *f) {
    if (!f) return BL_ERROR(BL_ERR_INVALID_ARG, "no output to commit");
    bl_status s = BL_OK;
    if (f->direct) {
        if (f->direct_fd >= 0) s = copy_scratch(f);
        int dfd = f->direct_fd >= 0 ? f->direct_fd : f->fd;
        if (f->direct_fd >= 0) close(f->fd);
        if (!f->is_stdout && close(dfd) != 0 && s == BL_OK) s = bl_durable_errno(errno, "closing", f->name);
        f->fd = f->direct_fd = -1;
        free_handle(f);
        return s;
    }
    s = bl_durable_fsync(f->fd, f->name);
    if (s == BL_OK) s = place_temp(f);
    if (close(f->fd) != 0 && s == BL_OK) s = bl_durable_errno(errno, "closing", f->name);
    f->fd = -1;
    if (s == BL_OK) {
        free(f->tmp);
        f->tmp = NULL; /* in place: nothing to remove */
        s = bl_durable_fsync_dir(f->target);
    }
    bl_outfile_discard(f);
    return s;
}

void bl_outfile_discard(bl_outfile *f) {
    if (!f) return;
    if (f->fd >= 0 && !f->is_stdout) close(f->fd);
    if (f->direct_fd >= 0 && !f->is_stdout) close(f->direct_fd);
    if (f->tmp) unlink(f->tmp);
    free_handle(f);
}
