/* log.c - see log.h.  The sink fd and format are set once at start-up. */
#include "util/log.h"
#include "util/fs.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static int log_json;
static enum gr_log_level log_level = GR_LOG_INFO;
static const char *const level_names[] = { "error", "warning", "info", "debug" };

int gr_log_open(const char *path, int json, enum gr_log_level level)
{
	log_json = json;
	log_level = level;
	if (path) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		log_fd = fd;
	}
	return 0;
}

static size_t json_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

void gr_log(enum gr_log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char msg[2048], line[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64];
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
	int n;
	if (log_json) {
		char esc[4100];
		json_escape(esc, sizeof esc, msg);
		n = snprintf(line, sizeof line, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
			     level_names[level], esc, when);
	} else {
		n = snprintf(line, sizeof line, "%s %s: %s\n", when, level_names[level], msg);
	}
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	gr_write_all(log_fd, line, (size_t)n);
}
