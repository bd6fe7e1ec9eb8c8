/* log: the one logging path of merci.
 * Under systemd (JOURNAL_STREAM names our stderr) lines carry the kernel-style
 * <N> priority prefix the journal understands; otherwise plain
 * "mercid: warning: ..." lines on stderr. Callers never pass secrets. */
#ifndef MERCI_LOG_H
#define MERCI_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_init(const char *ident);
void log_set_max_level(int level);     /* LOG_DEBUG .. LOG_ERR; default LOG_INFO */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...)  log_msg(LOG_ERR, __VA_ARGS__)

#endif
