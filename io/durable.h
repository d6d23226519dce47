/* durable.h — crash-safe file writes for the output directory: full writes with EINTR and
 * short-write handling, fsync of files and folders, atomic replace (temp name, write, fsync,
 * rename, fsync the folder), and the injected-ENOSPC fault used by the disk-full tests.
 *
 * Defines: bl_write_guard (per output directory: bytes written, optional ENOSPC budget),
 * bl_durable_write(), bl_durable_replace(), bl_durable_fsync_dir().
 *
 * Errors: ENOSPC and EDQUOT become BL_ERR_NO_SPACE, anything else BL_ERR_IO; the message
 * names the path and says what to do.
 * Threading: a guard belongs to one writer thread.
 */
#ifndef BL_DURABLE_H
#define BL_DURABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h" /* bl_status */

typedef struct {
    int64_t written;     /* bytes written through this guard */
    int64_t inject_left; /* BL_TEST_ENOSPC_AFTER_BYTES budget left; < 0 = no injection */
} bl_write_guard;

/* Reads BL_TEST_ENOSPC_AFTER_BYTES (a test-only fault: writes fail with ENOSPC once that many
 * bytes have gone through the guard; the write that crosses it is cut short there). */
void bl_write_guard_init(bl_write_guard *g);

/* Write all of data to fd (path for messages). */
bl_status bl_durable_write(int fd, const void *data, size_t len, const char *path, bl_write_guard *g);
/* fsync a file descriptor (path for messages). */
bl_status bl_durable_fsync(int fd, const char *path);
/* fsync the folder holding `path` (so that a rename or create in it is durable). */
bl_status bl_durable_fsync_dir(const char *path);
/* Replace `path` atomically with `len` bytes: path.tmp is written, fsynced and renamed, then
 * the folder is fsynced. On failure the temp file is removed and `path` is untouched. */
bl_status bl_durable_replace(const char *path, const void *data, size_t len, bl_write_guard *g);
/* Map an errno of a failed operation on `path` to a status with a message. */
bl_status bl_durable_errno(int err, const char *what, const char *path);

#endif
