/* log: the one logging path of merci.
 *
 * Under systemd (JOURNAL_STREAM names our stderr) each line is a journal
 * entry sent with sd_journal_sendv: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
 * CODE_FILE/CODE_LINE/CODE_FUNC, and ACCOUNT= and MESSAGE_ID= when the call
 * site gives them (log_account, log_event; ids in log_ids.h). Should the
 * journal refuse an entry the line goes to stderr with its <N> priority
 * prefix instead: a line is never lost. Outside systemd, plain
 * "mercid: warning: ..." lines on stderr.
 *
 * Callers never pass secrets, and nothing at info level or above names a
 * person: addresses, names and subjects belong at debug level. */
#ifndef MERCI_LOG_H
#define MERCI_LOG_H

#include <stdbool.h>
#include <syslog.h>

#include "log_ids.h"

void log_init(const char *ident);
void log_set_max_level(int level);     /* LOG_DEBUG .. LOG_ERR; default LOG_INFO */
/* account (NULL: none) prefixes the text with "account NAME: " and is the
 * ACCOUNT= field; msgid (NULL: none) is a LOG_ID_* of log_ids.h. */
void log_full(int level, const char *account, const char *msgid, const char *file,
	      int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

#define log_msg(level, ...) \
	log_full((level), NULL, NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_event(level, msgid, ...) \
	log_full((level), NULL, (msgid), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_account(level, account, msgid, ...) \
	log_full((level), (account), (msgid), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...)  log_msg(LOG_ERR, __VA_ARGS__)

#endif
