/* infile.h — how baleen opens every file of outside data it reads (configs, model cards and
 * ONNX files, source manifests, audio, output manifests and journals, .npy): the same way
 * everywhere (issue 10, item 9). Foundation layer: depends on error.h only.
 *
 * Rules: the open never blocks (O_NONBLOCK, so a FIFO without a writer cannot hang a run),
 * anything but a regular file is refused with a message that says what the path is (a FIFO,
 * a character device such as /dev/zero, a folder, a socket) and what was expected; a
 * missing file, a dangling symlink and a symlink loop are told apart; sizes are checked
 * against a limit before anything is allocated, and reported in readable units.
 *
 * Defines: bl_infile_open(), bl_infile_read_all(), bl_format_bytes(), bl_format_size().
 * Threading: pure functions over the caller's descriptors.
 */
#ifndef BL_INFILE_H
#define BL_INFILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h" /* bl_status */

/* Open `path` (`what` names it in messages: "config", "model", "audio file"...) for reading;
 * *fd is a blocking descriptor of a regular file, *size its size (may be NULL).
 * Errors: BL_ERR_NOT_FOUND (missing, or a symlink to a missing file), BL_ERR_IO (not a regular
 * file, a symlink loop, permission denied, ...), each naming the path. */
bl_status bl_infile_open(const char *path, const char *what, int *fd, int64_t *size);
/* The whole file, NUL-terminated, malloc'ed into *data (*len bytes without the NUL). A file
 * larger than max_bytes is BL_ERR_RANGE naming both sizes, before any allocation. */
bl_status bl_infile_read_all(const char *path, const char *what, size_t max_bytes, char **data, size_t *len);
/* "84.0 MB (83,886,080 bytes)"-style size for messages: decimal units and the exact count. */
void bl_format_bytes(uint64_t bytes, char *buf, size_t cap);
/* The short form: "84.0 MB", "1.42 GB". */
void bl_format_size(uint64_t bytes, char *buf, size_t cap);

#endif
