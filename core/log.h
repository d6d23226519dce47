/* log.h — leveled messages on stderr for the CLI and the library.
 *
 * Defines: bl_log_level, bl_log_set_level(), bl_log(), and BL_LOG_* shorthands.
 * Threading: the level is one atomic int written once by main() at start-up (the only
 * process-wide setting, kept here so that every module logs the same way); bl_log() is
 * safe from any thread (one fprintf per message).
 */
#ifndef BL_LOG_H
#define BL_LOG_H

typedef enum { BL_LOG_ERROR = 0, BL_LOG_WARN = 1, BL_LOG_INFO = 2, BL_LOG_DEBUG = 3 } bl_log_level;

void bl_log_set_level(bl_log_level level);
bl_log_level bl_log_get_level(void);
void bl_log(bl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define BL_LOG_E(...) bl_log(BL_LOG_ERROR, __VA_ARGS__)
#define BL_LOG_W(...) bl_log(BL_LOG_WARN, __VA_ARGS__)
#define BL_LOG_I(...) bl_log(BL_LOG_INFO, __VA_ARGS__)
#define BL_LOG_D(...) bl_log(BL_LOG_DEBUG, __VA_ARGS__)

#endif
