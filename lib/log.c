#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* CODE_FILE and friends are the call site's, not this file's. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#define LOG_LINE_MAX 2048

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

/* "../merci/daemon/main.c" -> "daemon/main.c": where the build tree sat
 * says nothing to a reader of the journal. */
static const char *
source_name(const char *file)
{
	const char *last = strrchr(file, '/'), *p;

	if (!last || last == file)
		return last ? last + 1 : file;
	for (p = last - 1; p > file && *p != '/'; p--)
		;
	return *p == '/' ? p + 1 : p;
}

/* One entry; sd_journal_sendv's result (negative errno when refused). */
static int
log_journal_send(int level, const char *account, const char *msgid, const char *file,
		 int line, const char *func, const char *text)
{
	char message[LOG_LINE_MAX + 16], prio[24], ident[64], code_file[256], code_line[32];
	char code_func[128], acct[160], mid[64];
	struct iovec iov[8];
	int n = 0;

#define FIELD(buf, ...) do { \
		snprintf(buf, sizeof buf, __VA_ARGS__); \
		iov[n].iov_base = buf; \
		iov[n++].iov_len = strlen(buf); \
	} while (0)
	FIELD(message, "MESSAGE=%s", text);
	FIELD(prio, "PRIORITY=%d", level);
	FIELD(ident, "SYSLOG_IDENTIFIER=%s", log_ident);
	FIELD(code_file, "CODE_FILE=%s", source_name(file));
	FIELD(code_line, "CODE_LINE=%d", line);
	FIELD(code_func, "CODE_FUNC=%s", func);
	if (account)
		FIELD(acct, "ACCOUNT=%s", account);
	if (msgid)
		FIELD(mid, "MESSAGE_ID=%s", msgid);
#undef FIELD
	return sd_journal_sendv(iov, n);
}

void
log_full(int level, const char *account, const char *msgid, const char *file, int line,
	 const char *func, const char *fmt, ...)
{
	char text[LOG_LINE_MAX];
	size_t off = 0;
	va_list ap;
	char *p;

	if (level > log_max)
		return;
	if (account) {
		int k = snprintf(text, sizeof text, "account %s: ", account);

		off = k < 0 ? 0 : (size_t)k < sizeof text ? (size_t)k : sizeof text - 1;
	}
	va_start(ap, fmt);
	vsnprintf(text + off, sizeof text - off, fmt, ap);
	va_end(ap);
	/* One event, one line: never let a value split a log record. */
	for (p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_journal && log_journal_send(level, account, msgid, file, line, func, text) >= 0)
		return;
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", level, text);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident, level_word(level), text);
}
