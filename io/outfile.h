/* outfile.h — writing one whole file at a path the user named (-o), without ever destroying
 * what that path points at by accident (issue 10, item 1).
 *
 * Defines: bl_outfile (one output being written), bl_outfile_open(), _commit(), _discard().
 *
 * What a path becomes:
 *  - "-": standard output, written directly (never closed or renamed).
 *  - A path that is, or whose symlinks end at, something other than a regular file (a
 *    character device such as /dev/null, a FIFO, a socket, /dev/stdout): opened and written
 *    directly. It is never renamed over, so /dev/null stays a device.
 *  - A regular file or a new name: written to a temporary in the folder of the final target
 *    (symlinks resolved: the link stays a link and the file it points to is replaced),
 *    fsynced, and renamed over the target only by bl_outfile_commit(); bl_outfile_discard()
 *    leaves the target as it was. The temporary is unnamed (O_TMPFILE) where the filesystem
 *    allows, so even a killed process leaves nothing behind; elsewhere it is
 *    "<target>.tmp-XXXXXX", removed on discard.
 *  - A directory, or a dangling symlink: an error naming the path.
 *
 * Flags:
 *  - BL_OUTFILE_SEEKABLE: the writer needs pwrite/lseek (a laid-out .npy, a WAV header). A
 *    direct target that cannot seek then gets an unnamed scratch file in $TMPDIR (or /tmp),
 *    copied to the target by bl_outfile_commit().
 *  - BL_OUTFILE_NO_CLOBBER: an existing target (anything at the path) is BL_ERR_EXISTS,
 *    checked at open and again at commit (the final link does not replace a file that
 *    appeared meanwhile). For files in folders that hold other people's files.
 *
 * Errors name the path the user gave; ENOSPC/EDQUOT become BL_ERR_NO_SPACE.
 * Threading: one bl_outfile is used by one thread; distinct ones are independent.
 */
#ifndef BL_OUTFILE_H
#define BL_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/error.h" /* bl_status */

enum { BL_OUTFILE_SEEKABLE = 1u << 0, BL_OUTFILE_NO_CLOBBER = 1u << 1 };

typedef struct bl_outfile bl_outfile;

/* Open `path` for writing a whole file (see above). On success *out is the handle; write to
 * bl_outfile_fd(). */
bl_status bl_outfile_open(const char *path, unsigned flags, bl_outfile **out);
/* The descriptor to write to (O_WRONLY, or O_RDWR for a temporary or scratch file). */
int bl_outfile_fd(const bl_outfile *f);
/* True when the bytes go straight to the target (stdout, a device, a FIFO): nothing can be
 * taken back on failure. */
bool bl_outfile_is_direct(const bl_outfile *f);
/* The path as the user gave it ("standard output" for "-"), for messages. */
const char *bl_outfile_name(const bl_outfile *f);
/* An unnamed scratch file (removed when closed) for a writer's side data: in the target's
 * folder when the target is a file (same filesystem), else in $TMPDIR — never next to a
 * device. The caller closes *fd. */
bl_status bl_outfile_scratch(const bl_outfile *f, int *fd);
/* Write all of `len` bytes (EINTR and short writes handled). */
bl_status bl_outfile_write(bl_outfile *f, const void *data, size_t len);
/* Finish: fsync and put the temporary in place (or copy the scratch file to the stream).
 * Frees the handle whatever the outcome; on failure the target is as it was (when it was
 * not direct). */
bl_status bl_outfile_commit(bl_outfile *f);
/* Drop what was written (the temporary is removed) and free the handle. NULL is fine. */
void bl_outfile_discard(bl_outfile *f);

#endif /* BL_OUTFILE_H */
