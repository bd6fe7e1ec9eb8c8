/* reply_cmd: what the owner's answer to a nudge asks for.
 *
 * The owner answers a nudge from their mail client with one word or two:
 * "done" / "fait", "snooze 7d" / "reporter 7j", "dismiss" / "ignorer",
 * "mute" / "sourdine"; in a digest a leading line number picks the nudge
 * ("2 fait", "3 reporter 2 semaines"), one command per line. Case and
 * accents do not matter. The text given is what lib/body.h left of the
 * reply (quotes and signature removed). Pure: no I/O, no allocation. */
#ifndef MERCI_REPLY_CMD_H
#define MERCI_REPLY_CMD_H

#include <stddef.h>
#include <stdint.h>

enum reply_action {
	REPLY_UNKNOWN = 0,   /* not a command: answer with the help text */
	REPLY_HELP,          /* "help" / "aide": answer with the help text */
	REPLY_DONE,
	REPLY_SNOOZE,
	REPLY_DISMISS,
	REPLY_MUTE,
};

#define REPLY_SNOOZE_DEFAULT (7 * 86400)   /* "reporter" alone */
#define REPLY_CMD_MAX 32                   /* commands read from one reply */

struct reply_cmd {
	enum reply_action action;
	int line;            /* digest line number, 0 when none was given */
	int64_t seconds;     /* REPLY_SNOOZE: how long */
};

/* Reads commands from text, one per line, up to max; blank lines before
 * the first are skipped and reading stops at the first line that is not a
 * command (the owner's "merci !" after "fait"). Words after a command on
 * its line are ignored ("fait, merci"). Returns how many were stored; when
 * the first non-blank line is not a command (or text is empty) that is one
 * REPLY_UNKNOWN entry. */
size_t reply_cmd_parse(const char *text, struct reply_cmd *out, size_t max);

/* "done", "snooze", ...: for logs. */
const char *reply_action_name(enum reply_action a);

#endif
