/* reply_hook: the owner's answers to merci's own mail, seen by ingest.
 *
 * A message from one of the owner's identities, not automated, whose
 * In-Reply-To or References name the Message-ID of a message in the outbox
 * (a nudge, a digest) is a command: its text is read with reply_cmd.h and
 * applied with outbox_apply_reply; an unknown command queues the help reply
 * (once per message answered). Ingest records such a reply as an automated
 * exchange ("merci-command"), so it never makes a contact or a nudge, and
 * its key makes a second copy (another folder, a UIDVALIDITY reset) a
 * duplicate that never reaches the hook. Runs inside ingest's transaction. */
#ifndef MERCI_REPLY_HOOK_H
#define MERCI_REPLY_HOOK_H

#include <stdint.h>

struct store;
struct config;
struct msg;

/* The automated reason ingest records for a command. */
#define REPLY_HOOK_REASON "merci-command"

/* Whether m answers merci: 0 with *outbox_id set to the outbox row it
 * answers, or to 0 when m is not a command; -1 on a store error. Only for
 * mail automated_reason() let through: merci's own mail (Auto-Submitted)
 * also names its messages, and is never a command. */
int reply_hook_match(struct store *st, const struct config *cfg, const struct msg *m,
		     int64_t *outbox_id);

/* Applies m's commands to the nudges of outbox_id and queues the help reply
 * when one is not understood. A reply without readable text (none fetched)
 * is recorded but not acted on. A reply applied in full is noted to be
 * flagged \Seen in the account's mailbox (server_tasks.h); one that got the
 * help, or was not acted on, stays unread: the owner should see it failed.
 * 0, or -1 on a store error. */
int reply_hook_apply(struct store *st, const struct config *cfg, int64_t account_id,
		     int64_t outbox_id, const struct msg *m, int64_t now);

#endif
