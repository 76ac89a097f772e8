/*
 * log.c: timestamped log lines on stderr, one write() each.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static volatile int log_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	log_level = (int)level;
}

int log_level_parse(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void log_msgv(enum log_level level, const char *fmt, va_list ap)
{
	static const char *tags[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int m;

	if ((int)level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	m = snprintf(line + n, sizeof(line) - n, ".%03ldZ labeld[%ld] %s ",
	    ts.tv_nsec / 1000000, (long)getpid(), tags[level]);
	if (m > 0)
		n += (size_t)m;
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
	/* No control characters reach the log from request data. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	line[n++] = '\n';
	/* One write per line keeps lines whole across threads. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

#define LOG_FN(fname, lvl) \
	void fname(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		log_msgv(lvl, fmt, ap); \
		va_end(ap); \
	}

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
