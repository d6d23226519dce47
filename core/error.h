/* error.h — status codes and error context for every baleen module.
 *
 * Defines: bl_status (generated from BL_STATUS_TABLE), bl_strerror(), bl_errname(),
 * bl_error_set()/bl_error_message() (a per-thread message naming what failed and where),
 * and the BL_RETURN_IF / BL_TRY / BL_CHECK_ALLOC helpers that carry file:line.
 *
 * Threading: the message buffer is thread-local, so each stage thread keeps its own
 * last error; nothing here is shared between threads.
 *
 * Library code returns a status and never exits; only main() turns a status into an exit
 * code (see bl_status_exit_code()).
 */
#ifndef BL_ERROR_H
#define BL_ERROR_H

#include <stddef.h>

/* C linkage when included from C++ (nvcc compiles the kernels as CUDA C++). */
#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, message). The first entry must be OK = 0. */
#define BL_STATUS_TABLE(X)                                                     \
    X(OK, "success")                                                           \
    X(ERR_NOMEM, "out of memory")                                              \
    X(ERR_INVALID_ARG, "invalid argument")                                     \
    X(ERR_USAGE, "invalid command-line usage")                                 \
    X(ERR_CONFIG, "invalid configuration")                                     \
    X(ERR_IO, "input/output error")                                            \
    X(ERR_NOT_FOUND, "file or resource not found")                             \
    X(ERR_FORMAT, "malformed or unsupported data format")                      \
    X(ERR_DECODE, "audio could not be decoded")                                \
    X(ERR_RESAMPLE, "resampling failed")                                       \
    X(ERR_UNSUPPORTED, "operation not supported")                              \
    X(ERR_RANGE, "value out of range")                                         \
    X(ERR_NO_SPACE, "no space left on device")                                 \
    X(ERR_THREAD, "thread creation or synchronisation failed")                 \
    X(ERR_DEVICE, "GPU device error")                                          \
    X(ERR_MODEL, "model could not be loaded or run")                           \
    X(ERR_NETWORK, "network error")                                            \
    X(ERR_EXISTS, "a file is in the way that baleen did not write")             \
    X(ERR_INTERNAL, "internal error (a bug in baleen)")

typedef enum {
#define BL_STATUS_ENUM_(name, msg) BL_##name,
    BL_STATUS_TABLE(BL_STATUS_ENUM_)
#undef BL_STATUS_ENUM_
    BL_STATUS_COUNT
} bl_status;

/* Human-readable message for a status code ("out of memory"). Never NULL. */
const char *bl_strerror(bl_status s);
/* Symbolic name of a status code ("BL_ERR_NOMEM"). Never NULL. */
const char *bl_errname(bl_status s);

/* Record a detailed message for the calling thread and return `s` unchanged, so that
 * `return bl_error_set(BL_ERR_IO, __FILE__, __LINE__, "cannot open %s", path);` works.
 * The message replaces the previous one of this thread. */
bl_status bl_error_set(bl_status s, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefix the calling thread's message with more context ("reading a.wav: " + old). */
void bl_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The calling thread's last detailed message ("" when none). Valid until the next
 * bl_error_set/bl_error_clear on this thread. */
const char *bl_error_message(void);
/* file:line where the last message of this thread was recorded ("" when none). */
const char *bl_error_where(void);
void bl_error_clear(void);

/* DESIGN §8 exit codes. */
enum { BL_EXIT_OK = 0, BL_EXIT_USAGE = 1, BL_EXIT_PARTIAL = 2, BL_EXIT_FATAL = 3 };
/* Map a status to a process exit code: usage/config errors → 1, anything else → 3. */
int bl_status_exit_code(bl_status s);

#define BL_ERROR(code, ...) bl_error_set((code), __FILE__, __LINE__, __VA_ARGS__)

#define BL_RETURN_IF(cond, code, ...)                                          \
    do {                                                                       \
        if (cond) return bl_error_set((code), __FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

#define BL_TRY(expr)                                                           \
    do {                                                                       \
        bl_status bl_try_s_ = (expr);                                          \
        if (bl_try_s_ != BL_OK) return bl_try_s_;                              \
    } while (0)

#define BL_CHECK_ALLOC(ptr)                                                    \
    BL_RETURN_IF((ptr) == NULL, BL_ERR_NOMEM, "out of memory allocating %s", #ptr)

#ifdef __cplusplus
}
#endif

#endif /* BL_ERROR_H */
