/*
 * log.h - process-wide logging to stderr or a file, as text or JSON lines.
 * gr_log_open() is called once by a front-end's main before threads start;
 * gr_log() may then be called from any thread (one write(2) per line).
 */
#ifndef GR_UTIL_LOG_H
#define GR_UTIL_LOG_H

enum gr_log_level { GR_LOG_ERROR, GR_LOG_WARN, GR_LOG_INFO, GR_LOG_DEBUG };

/* path NULL = stderr; json != 0 writes {"level":..,"msg":..,"time":..} lines. */
int gr_log_open(const char *path, int json, enum gr_log_level level);
void gr_log(enum gr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define gr_log_error(...) gr_log(GR_LOG_ERROR, __VA_ARGS__)
#define gr_log_warn(...) gr_log(GR_LOG_WARN, __VA_ARGS__)
#define gr_log_info(...) gr_log(GR_LOG_INFO, __VA_ARGS__)
#define gr_log_debug(...) gr_log(GR_LOG_DEBUG, __VA_ARGS__)

#endif
