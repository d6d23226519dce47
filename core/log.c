/* log.c — see log.h. Owns the process-wide log level (atomic). */
#include "log.h"

#include <stdarg.h>      /* va_list */
#include <stdatomic.h>   /* the level is read from every stage thread */
#include <stdio.h>       /* vfprintf to stderr */

static atomic_int g_level = BL_LOG_INFO;

void bl_log_set_level(bl_log_level level) { atomic_store(&g_level, (int)level); }
bl_log_level bl_log_get_level(void) { return (bl_log_level)atomic_load(&g_level); }

void bl_log(bl_log_level level, const char *fmt, ...) {
    if ((int)level > atomic_load(&g_level)) return;
    static const char *const tags[] = {"error: ", "warning: ", "", "debug: "};
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "baleen: %s%s\n", tags[level], buf);
}
