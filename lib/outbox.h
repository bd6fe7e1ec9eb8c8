/* outbox: the durable queue of mail merci sends its owner.
 *
 * A nudge becomes a message in the same transaction that marks it sent:
 * rendered once (template.h, mailbuild.h) with a Message-ID fixed there,
 * stored as the exact bytes to send, then handed to SMTP by the daemon
 * (daemon/delivery.c) as many times as it takes. Outbox transactions run
 * with PRAGMA synchronous=FULL: a row decides whether mail goes out, so it
 * must survive a power loss. Nothing is ever deleted; a row ends "sent" or
 * "failed". Times are Unix seconds; "today" is the local day. */
#ifndef MERCI_OUTBOX_H
#define MERCI_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct config;
struct reply_cmd;

/* The outbox's tables (outbox, outbox_item) are migration 4 of store_schema.c. */

#define OUTBOX_EXPIRY (5 * 86400)   /* a message not sent after this fails */
#define OUTBOX_BACKOFF_MIN 60
#define OUTBOX_BACKOFF_MAX 3600

enum outbox_result {           /* the same values as smtp_send.h's */
	OUTBOX_SENT = 0,
	OUTBOX_TEMPFAIL = 1,
	OUTBOX_PERMFAIL = 2,
};

struct outbox_queue_stats {
	int64_t messages;      /* outbox rows queued by this call */
	int64_t nudges;        /* nudges they carry */
	int64_t held;          /* due nudges left pending (quiet hours, cap, digest time) */
	const char *why_held;  /* static: "quiet hours", "daily cap", "digest time"; NULL */
};

/* Queues the pending nudges due at now as messages to the owner, one per
 * nudge (digest off) or one digest a day at or after digest time, none in
 * quiet hours, at most daily_cap messages since local midnight; marks them
 * sent. One transaction. stats may be NULL. */
int outbox_queue_due(struct store *st, const struct config *cfg, int64_t now,
		     struct outbox_queue_stats *stats);

struct outbox_msg {
	int64_t id;
	char *kind;            /* "nudge" "digest" "reply" */
	char *message_id;      /* without brackets */
	char *rcpt;
	char *data;            /* the exact bytes to send */
	size_t len;
	int64_t attempts;
};
void outbox_msg_free(struct outbox_msg *m);

/* The queued message with the earliest next_attempt <= now: 0 with *found
 * set (and *m filled, to free) or clear; -1 on error. */
int outbox_next(struct store *st, int64_t now, struct outbox_msg *m, bool *found);
/* Records that a send starts (attempts + 1, state "sending"), durably,
 * before any byte goes to the server. */
int outbox_mark_sending(struct store *st, int64_t id, int64_t now);
/* Records a send's outcome: SENT -> "sent"; TEMPFAIL -> "queued" again
 * after a backoff of min(60 * 2^(attempts-1), 3600) s +-20 %, or "failed"
 * when the message is older than OUTBOX_EXPIRY; PERMFAIL -> "failed".
 * error may be NULL. Logs failures once. */
int outbox_mark_result(struct store *st, int64_t id, enum outbox_result result,
		       long code, const char *error, int64_t now);
/* At start-up: rows left "sending" by a crash go back to "queued" to be
 * sent again with the same Message-ID (logged as possible duplicates).
 * *n (may be NULL) is how many. */
int outbox_recover(struct store *st, int64_t now, int64_t *n);

/* Counts for status: queued (including sending) and failed rows. */
int outbox_counts(struct store *st, int64_t *queued, int64_t *failed);

#define OUTBOX_STATUS_FAILURES 20   /* failed messages merci status lists */

struct outbox_failure {
	int64_t id;
	long code;             /* the server's reply code; 0 when none came */
	char *error;           /* the last error, one line; never NULL */
};

struct outbox_status {
	int64_t queued, sent, failed;
	struct outbox_failure *failures;   /* the most recent ones, newest first */
	size_t n_failures;
};

/* What merci status shows of the outbox; free with outbox_status_free. */
int outbox_status_get(struct store *st, struct outbox_status *out);
void outbox_status_free(struct outbox_status *s);

/* ---- replies that act (for the ingest hook) ---- */
/* The outbox row whose Message-ID is mid (brackets optional): 0 with
 * *outbox_id set, or 0 with *outbox_id = 0 when none; -1 on error. */
int outbox_find_by_message_id(struct store *st, const char *mid, int64_t *outbox_id);
/* Applies the owner's commands to the nudges that message carries, in one
 * transaction (the caller's when one is open, as in ingest): done, dismiss, snooze, mute (mutes the contact and dismisses
 * the nudge). A command without a line number applies to a one-nudge
 * message; with one, to that line of a digest. Returns 0 when all were
 * applied, 1 when one is unknown, asks for help or names no nudge (queue
 * the help with outbox_queue_help), -1 on error. */
int outbox_apply_reply(struct store *st, int64_t outbox_id, const struct reply_cmd *cmds,
		       size_t n, int64_t now);
/* Queues, once per outbox message, a short reply explaining the commands
 * (help.txt), in reply to that message; inside the caller's transaction
 * when one is open. */
int outbox_queue_help(struct store *st, const struct config *cfg, int64_t outbox_id,
		      int64_t now);

#endif
