/* store: merci's SQLite store, the truth of everything merci knows.
 *
 * One file in WAL mode, foreign keys on, busy_timeout set, a schema version
 * in PRAGMA user_version with forward migrations run by store_open. Every
 * statement is prepared with bound parameters. The store owns its prepared
 * statements; strings it returns are newly allocated and owned by the caller
 * (free with the matching *_free). Functions return 0 on success and -1 on
 * failure, after logging the SQLite error once (log.h). */

/* Durability, per table (issue 7). Every read-write connection is WAL: a
 * crash of merci loses nothing committed; the daemon's commits run under
 * synchronous=NORMAL, where only an OS crash or power loss can drop the
 * last commits, never corrupt the file. The CLI's read-write connection is
 * FULL (store_set_durable): each of its commits is the owner's command,
 * which nothing could fetch again. Every connection has
 * SQLITE_DBCONFIG_DEFENSIVE and trusted_schema=OFF (a store file from disk
 * cannot run or corrupt through SQL); foreign keys on. In WAL a FULL commit
 * fsyncs the whole log, so it makes every earlier NORMAL commit durable too.
 *
 *   table            written by                     level   a lost last commit costs
 *   account, folder  ingest batch + its checkpoint  NORMAL  the batch is fetched again
 *   exchange,        ingest batch (same commit)     NORMAL  re-recorded from the fetch
 *    participant
 *   address,         ingest batch                   NORMAL  re-derived from the fetch
 *    contact,        merci import/contacts/merge    FULL    -
 *    contact_tag
 *   referral,        relate, in the ingest batch    NORMAL  re-detected from the fetch
 *    mandate, favour merci mandates/favours         FULL    -
 *   nudge            rules (create, wake, resolve)  NORMAL  the next rules run redoes it
 *                    pending -> sent (outbox_queue) FULL    -
 *                    replies, in the ingest batch   NORMAL  the reply is fetched again
 *                    merci nudges done|dismiss|...  FULL    -
 *   outbox,          queue, mark sending/result,    FULL    -
 *    outbox_item     recover (outbox.c)
 *                    help reply, in ingest batch    NORMAL  queued again from the fetch
 *
 * Why this is enough: whether mail goes out is decided by a nudge going
 * pending -> sent and its outbox row appearing, one FULL transaction, and by
 * outbox.state, written only under FULL; a row is marked "sending" (FULL)
 * before any byte goes to the server, which also makes everything committed
 * before it durable. So a power loss never makes merci mail twice what it
 * recorded as sent (the one window left, between the server's 250 and the
 * commit, is logged as a possible duplicate at start-up) nor forget a queued
 * message; nor does it undo an owner's command the CLI has reported done (a
 * cancelled nudge coming back as a reminder). What NORMAL can lose is
 * fetched again from the server. */
#ifndef MERCI_STORE_H
#define MERCI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_mode { STORE_RW, STORE_RO };

/* Opens (creating it and its parent directory, mode 0700, when missing in RW
 * mode) and migrates the store. On failure *err is a newly allocated one-line
 * message naming the file and the fix. */
int store_open(const char *path, enum store_mode mode, struct store **out, char **err);
void store_close(struct store *st);
/* Makes every later commit of st synchronous=FULL (durable once it
 * returns), for a connection that writes what only the owner can redo:
 * the CLI's. No-op on a read-only store. */
int store_set_durable(struct store *st);

int store_begin(struct store *st);     /* BEGIN IMMEDIATE */
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* ---- sync state ---- */
int store_account_ensure(struct store *st, const char *name, int64_t *out_id);
/* Records the end of a sync attempt: error NULL on success. */
int store_account_result(struct store *st, int64_t account_id, int64_t now, const char *error);

struct store_folder_state {
	char *name;
	uint32_t uidvalidity;
	uint32_t last_uid;
};
int store_folder_states(struct store *st, int64_t account_id,
			struct store_folder_state **out, size_t *n);
void store_folder_states_free(struct store_folder_state *v, size_t n);

/* What the server said on SELECT. A changed uidvalidity resets last_uid to 0
 * (messages are re-read; the unique message key prevents duplicates). */
int store_folder_seen(struct store *st, int64_t account_id, const char *folder,
		      uint32_t uidvalidity, uint32_t exists, int64_t now);
/* Records when merci first read this account (the first ingest or
 * checkpoint; both call it); later calls change nothing. The rules ignore
 * events older than this minus the account's first_sync_window. */
int store_account_first_sync(struct store *st, int64_t account_id, int64_t now);
/* Moves the checkpoint; call in the same transaction as the batch it ends. */
int store_folder_checkpoint(struct store *st, int64_t account_id, const char *folder,
			    uint32_t uidvalidity, uint32_t last_uid, int64_t now);

/* ---- ingest primitives (used by ingest.c inside a transaction) ---- */
int store_exchange_exists(struct store *st, int64_t account_id, const char *msg_key, bool *exists);

struct store_exchange {
	const char *msg_key;
	const char *message_id;   /* may be NULL */
	const char *folder;
	uint32_t uid;
	bool outbound;
	int64_t date;
	const char *subject;
	const char *subject_norm;
	const char *thread_key;
	const char *in_reply_to;
	const char *automated;    /* reason, NULL for a person's mail */
	bool expects_answer;      /* what relate_read found (relate.h) */
	bool has_thanks;
	const char *language;     /* may be NULL */
};
int store_exchange_insert(struct store *st, int64_t account_id,
			  const struct store_exchange *e, int64_t *out_id);

/* Ensures an address row (updating its display name when name is non-empty
 * and the row had none or automated changes). Returns the row id and the
 * contact it belongs to (0 when none). */
int store_address_upsert(struct store *st, const char *email, const char *name,
			 bool automated, int64_t *out_id, int64_t *out_contact);
int store_participant_add(struct store *st, int64_t exchange_id, int64_t address_id,
			  const char *role);   /* "from", "to", "cc", "reply-to" */
int store_contact_create(struct store *st, const char *name, int64_t now, int64_t *out_id);
/* Finds a contact whose name equals name (case-insensitive); 0 when none. */
int store_contact_find_by_name(struct store *st, const char *name, int64_t *out_id);
int store_address_link(struct store *st, int64_t address_id, int64_t contact_id);
/* The thread of the newest exchange of this account, at most max_age seconds
 * older than date, with the same normalised subject and at least one of the
 * given addresses among its participants. *out is NULL when none. */
int store_thread_find(struct store *st, int64_t account_id, const char *subject_norm,
		      const int64_t *address_ids, size_t n_ids, int64_t date,
		      int64_t max_age, char **out);

/* ---- queries for the CLI ---- */
struct store_contact_row {
	int64_t id;
	char *name;              /* may be NULL */
	char **emails;           /* primary (most used) first */
	size_t n_emails;
	char **tags;
	size_t n_tags;
	int64_t n_in, n_out;     /* person-to-person exchanges */
	int64_t first, last;     /* Unix seconds, 0 when none */
	bool muted;
};
/* Sorted by last exchange, newest first, then name. */
int store_contacts_list(struct store *st, struct store_contact_row **out, size_t *n);
void store_contact_rows_free(struct store_contact_row *v, size_t n);

struct store_folder_row {
	char *account;
	char *folder;
	uint32_t uidvalidity;
	uint32_t last_uid;
	uint32_t exists;
	int64_t messages;        /* exchanges recorded from this folder */
	int64_t last_sync;
};
struct store_account_row {
	char *name;
	int64_t last_sync;       /* last successful sync, 0 never */
	int64_t last_attempt;
	char *last_error;        /* NULL when the last attempt succeeded */
};
struct store_status {
	int schema_version;
	int64_t exchanges, inbound, outbound, automated;
	int64_t contacts, addresses;
	struct store_account_row *accounts;
	size_t n_accounts;
	struct store_folder_row *folders;
	size_t n_folders;
};
int store_status_get(struct store *st, struct store_status *out);
void store_status_free(struct store_status *s);

#endif
