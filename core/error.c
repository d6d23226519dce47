/* error.c — status strings and the per-thread error message (see error.h).
 *
 * Owns: one thread-local message buffer and its file:line. No shared state.
 */
#include "error.h"

#include <stdarg.h> /* va_list for the printf-style setters */
#include <stdio.h>  /* vsnprintf */
#include <string.h> /* memmove, strlen */

#define BL_ERRMSG_CAP 1024

static _Thread_local char tl_msg[BL_ERRMSG_CAP];
static _Thread_local char tl_where[256];

static const char *const k_messages[] = {
#define BL_STATUS_MSG_(name, msg) msg,
    BL_STATUS_TABLE(BL_STATUS_MSG_)
#undef BL_STATUS_MSG_
};

static const char *const k_names[] = {
#define BL_STATUS_NAME_(name, msg) "BL_" #name,
    BL_STATUS_TABLE(BL_STATUS_NAME_)
#undef BL_STATUS_NAME_
};

const char *bl_strerror(bl_status s) {
    if ((int)s < 0 || s >= BL_STATUS_COUNT) return "unknown status";
    return k_messages[s];
}

const char *bl_errname(bl_status s) {
    if ((int)s < 0 || s >= BL_STATUS_COUNT) return "BL_UNKNOWN";
    return k_names[s];
}

bl_status bl_error_set(bl_status s, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_msg, sizeof tl_msg, fmt, ap);
    va_end(ap);
    const char *base = file ? strrchr(file, '/') : NULL;
    snprintf(tl_where, sizeof tl_where, "%s:%d", base ? base + 1 : (file ? file : "?"), line);
    return s;
}

void bl_error_prefix(const char *fmt, ...) {
    char pre[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    size_t np = strlen(pre), nm = strlen(tl_msg);
    if (np >= BL_ERRMSG_CAP - 1) return;
    if (np + nm >= BL_ERRMSG_CAP) nm = BL_ERRMSG_CAP - 1 - np;
    memmove(tl_msg + np, tl_msg, nm);
    memcpy(tl_msg, pre, np);
    tl_msg[np + nm] = '\0';
}

const char *bl_error_message(void) { return tl_msg; }
const char *bl_error_where(void) { return tl_where; }

void bl_error_clear(void) {
    tl_msg[0] = '\0';
    tl_where[0] = '\0';
}

int bl_status_exit_code(bl_status s) {
    switch (s) {
    case BL_OK: return BL_EXIT_OK;
    case BL_ERR_USAGE:
    case BL_ERR_CONFIG:
    case BL_ERR_INVALID_ARG:
    case BL_ERR_EXISTS: return BL_EXIT_USAGE;
    default: return BL_EXIT_FATAL;
    }
}
