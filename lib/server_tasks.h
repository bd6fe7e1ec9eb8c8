/* server_tasks: what merci changes in the owner's mailbox, on the parent's
 * side. Two chores, each a row in the store until the IMAP child reports it
 * done, so a crash or a lost connection redoes the step (both are harmless
 * to repeat) and nothing is lost:
 *
 * - \Seen: a reply of the owner that reply_hook.c applied in full is
 *   flagged read, so it does not sit unread in the mailbox. A reply that got
 *   the help message instead is left unread: the owner should see it failed.
 *   Rows name (account, folder, UIDVALIDITY, UID); the child skips a row
 *   whose folder changed UIDVALIDITY since (the UID names another message).
 * - Drafts (drafts = yes in [nudges]): a thank-you nudge mailed to the owner
 *   gets, once, a ready thank-you to the person in the account's Drafts
 *   folder, in the contact's language (templates draft-thank-you.txt). The
 *   bytes and their Message-ID are fixed when the row is made; the child
 *   searches Drafts for that Message-ID before each APPEND, so a crash
 *   between the APPEND and the report never doubles the draft.
 *
 * The wire side (REC_TASKS, REC_SEEN, REC_DRAFT) is in lib/record.h, the
 * IMAP side in daemon/imap_tasks.c. */
#ifndef MERCI_SERVER_TASKS_H
#define MERCI_SERVER_TASKS_H

#include <stdint.h>

struct buf;
struct config;
struct record;
struct store;

/* Drafts are made for thank-you nudges mailed this recently: turning
 * drafts on must not fill Drafts with the thanks of last year; a draft the
 * child could not append in that time is dropped too. */
#define SERVER_TASKS_DRAFT_WINDOW (14 * 24 * 60 * 60)

/* Notes that the message (folder, uid) of the account is to be flagged
 * \Seen, under the folder's current UIDVALIDITY. Inside the caller's
 * transaction (ingest's). 0, or -1 on a store error. */
int server_tasks_seen_add(struct store *st, int64_t account_id, const char *folder,
			  uint32_t uid, int64_t now);

/* Makes the drafts now due for the account (when cfg asks for drafts): a
 * thank-you nudge mailed since the last call gets its row. Returns how many
 * rows were made (0 when none), or -1 on a store error. The daemon calls
 * it after each delivery so it can wake an idling IMAP child to append
 * them now; in --once mode the run's nudges are mailed after the IMAP
 * child is done, so their drafts are appended by the next run. */
int server_tasks_make(struct store *st, const struct config *cfg, int64_t account_id,
		      int64_t now);

/* The parent's answer to the child's REC_TASKS: makes the drafts now due
 * for the account (server_tasks_make), then appends to out the
 * encoded REC_SEEN and REC_DRAFT frames still to do and the closing
 * REC_TASKS. 0, or -1 on a store error (out then holds no frame). */
int server_tasks_answer(struct store *st, const struct config *cfg, int64_t account_id,
			int64_t now, struct buf *out);

/* The child reports r (REC_SEEN or REC_DRAFT) done: its row goes. 0, or -1
 * on a store error. */
int server_tasks_done(struct store *st, int64_t account_id, const struct record *r,
		      int64_t now);

#endif
