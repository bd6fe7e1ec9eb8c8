#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Set once at start-up, before any other thread or child exists. */
static const char *log_ident = "merci";
static int log_max = LOG_INFO;
static bool log_journal;

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd connected to our stderr;
 * only trust it if stderr really is that stream (it is inherited by children). */
static bool
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st) < 0)
		return false;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

void
log_init(const char *ident)
{
	log_ident = ident;
	log_journal = stderr_is_journal();
	if (getenv("MERCI_DEBUG"))
		log_max = LOG_DEBUG;
}

void
log_set_max_level(int level)
{
	log_max = level;
}

static const char *
level_word(int level)
{
	switch (level) {
	case LOG_DEBUG: return "debug: ";
	case LOG_INFO: return "";
	case LOG_NOTICE: return "";
	case LOG_WARNING: return "warning: ";
	default: return "error: ";
	}
}

void
log_msg(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	char *p;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One event, one line: never let a value split a log record. */
	for (p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident, level_word(level), line);
}
