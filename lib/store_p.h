/* store_p.h: the inside of struct store, shared by store.c, store_schema.c
 * and store_query.c, and by the relationship engine (store_rel.c, relate.c,
 * rules.c), whose queries are the store's too; by nobody else.
 *
 * Ingest runs 100,000 messages in a benchmark, so every statement is
 * prepared once per store and kept: each call site names its slot in the
 * cache and passes its SQL text, which is compiled on first use only. */
#ifndef MERCI_STORE_P_H
#define MERCI_STORE_P_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_ACCOUNT_FIND,
	STMT_ACCOUNT_INSERT,
	STMT_ACCOUNT_RESULT,
	STMT_FOLDER_STATES,
	STMT_FOLDER_VALIDITY,
	STMT_FOLDER_SEEN,
	STMT_FOLDER_CHECKPOINT,
	STMT_EXCHANGE_EXISTS,
	STMT_EXCHANGE_INSERT,
	STMT_ADDRESS_FIND,
	STMT_ADDRESS_INSERT,
	STMT_ADDRESS_UPDATE,
	STMT_ADDRESS_LINK,
	STMT_PARTICIPANT_ADD,
	STMT_CONTACT_CREATE,
	STMT_CONTACT_FIND_NAME,
	STMT_THREAD_FIND,
	STMT_FOLDER_COUNT,
	STMT_SYNC_DURABLE,
	STMT_Q_CONTACTS,
	STMT_Q_EMAILS,
	STMT_Q_TAGS,
	STMT_Q_COUNTS,
	STMT_Q_ACCOUNTS,
	STMT_Q_FOLDERS,
	/* store_rel.c */
	STMT_R_CONTACT_NAMES,
	STMT_R_CONTACT_ID,
	STMT_R_CONTACT_ADDRESS,
	STMT_R_TAG_ADD,
	STMT_R_TAG_DEL,
	STMT_R_MUTE,
	STMT_R_CADENCE,
	STMT_R_REFERRALS,
	STMT_R_REFERRAL_ADD,
	STMT_R_REFERRAL_FIND,
	STMT_R_MANDATES,
	STMT_R_MANDATE_ADD,
	STMT_R_MANDATE_REFERRAL,
	STMT_R_MANDATE_STATE,
	STMT_R_FAVOURS,
	STMT_R_FAVOUR_ADD,
	STMT_R_NUDGES,
	STMT_R_NUDGE_STATE,
	STMT_R_TIMELINE,
	STMT_R_FIRST_SYNC,
	/* relate.c */
	STMT_E_EARLIER,
	STMT_E_TAG,
	STMT_E_THANKED,
	STMT_E_MANDATE_PROBABLE,
	STMT_E_THREAD_FIRST,
	/* rules.c */
	STMT_U_WAKE,
	STMT_U_NUDGE_ADD,
	STMT_U_RESOLVE,
	STMT_U_ACCOUNTS,
	STMT_U_THANK,
	STMT_U_THANK_MANDATE,
	STMT_U_RECIPROCITY,
	STMT_U_SUGGEST,
	STMT_U_KEEP,
	STMT_U_KEEP_DAY,
	STMT_U_FOLLOW,
	STMT_U_PROSPECT,
	STMT_U_OPEN,
	STMT_U_DUE,
	STMT_U_CONTACT_TAGS,
	STMT_U_THANK_RESOLVE,
	STMT_U_LABEL,
	STMT_U_REQUEST,
	STMT_U_EXISTS,
	STMT_U_DAY_COUNT,
	STMT_U_OPEN_RESOLVE,
	STMT_U_WROTE_AFTER,
	/* outbox.c (issue 4) */
	STMT_O_SYNC_FULL,
	STMT_O_SYNC_NORMAL,
	STMT_O_COUNT_SINCE,
	STMT_O_DUE,
	STMT_O_INSERT,
	STMT_O_ITEM,
	STMT_O_NEXT,
	STMT_O_SENDING,
	STMT_O_AGE,
	STMT_O_RESULT,
	STMT_O_SENDING_LIST,
	STMT_O_REQUEUE,
	STMT_O_COUNTS,
	STMT_O_FIND,
	STMT_O_ITEMS,
	STMT_O_HELP_OF,
	STMT_DATA_VERSION,
	/* store_contacts.c */
	STMT_K_NAME_FILL,
	STMT_K_MERGE_EXCHANGES,
	STMT_K_MERGE_ADDRESSES,
	STMT_K_MERGE_TAGS,
	STMT_K_MERGE_FAVOURS,
	STMT_K_MERGE_REF_FROM,
	STMT_K_MERGE_REF_TO,
	STMT_K_MERGE_MANDATES,
	STMT_K_MERGE_NUDGES,
	STMT_K_MERGE_CONTACT,
	STMT_K_MERGE_DELETE,
	STMT_K_SHOW_CONTACT,
	STMT_K_SHOW_EMAILS,
	STMT_K_SHOW_TAGS,
	STMT_K_SHOW_COUNTS,
	STMT_K_SHOW_RECENT,
	/* outbox.c: merci status (issue 4) */
	STMT_O_STATUS,
	STMT_O_FAILURES,
	/* server_tasks.c: \Seen on applied replies, drafts (issue 4) */
	STMT_T_SEEN_ADD,
	STMT_T_SEEN_LIST,
	STMT_T_SEEN_DONE,
	STMT_T_DRAFT_DUE,
	STMT_T_DRAFT_ADD,
	STMT_T_DRAFT_LIST,
	STMT_T_DRAFT_DONE,
	/* rules_summary.c, and rules.c's reads of it */
	STMT_U_SUM_ADD,
	STMT_U_SUM_STALE,
	STMT_U_SUM_UNSTALE,
	STMT_U_SUM_STALE_DONE,
	STMT_U_SUM_STATE,
	STMT_U_SUM_CLEAR,
	STMT_U_SUM_FOLD,
	STMT_U_SUM_MARK,
	STMT_U_FOLLOW_SEED,
	STMT_U_FOLLOW_CLEAR,
	STMT_U_FOLLOW_SETTLE,
	STMT_U_OPEN_LIST,
	STMT_U_THREAD_FOLD,
	STMT_U_THREAD_CLEAR,
	STMT_U_SUBJECT,
	STMT_COUNT_
};

/* What ingest knows of an address row, so the addresses every message
 * repeats cost no query. An entry mirrors the row as last read or written
 * through this handle; see struct store for when the whole cache is
 * dropped. */
struct store_addr {
	char *email;
	int64_t id;
	int64_t contact;         /* 0: none */
	bool named;              /* the row has a display name */
	bool automated;
};

struct store_addr_cache {
	struct store_addr *v;    /* entries, in the order they came */
	size_t n, cap;
	uint32_t *by_email;      /* open addressing: index + 1 into v, 0 empty */
	uint32_t *by_id;
	size_t mask;             /* table size - 1 (a power of two) */
};

/* Exchanges recorded in one folder by the open transaction, not yet
 * added to folder.n_messages. */
struct store_folder_count {
	int64_t account_id;
	char *folder;
	int64_t n;
};

struct store {
	sqlite3 *db;
	char *path;
	enum store_mode mode;
	sqlite3_stmt *stmt[STMT_COUNT_];
	/* Valid only while nobody else wrote: dropped on rollback (the rows
	 * it mirrors may be gone) and when PRAGMA data_version shows another
	 * connection (the CLI) committed since our last transaction. */
	struct store_addr_cache addrs;
	int64_t first_sync_account;   /* first_sync_at is known set for it; 0 none */
	int64_t data_version;         /* as read in our last transaction; -1 unknown */
	/* Added to folder.n_messages by store_commit, in the same
	 * transaction: one write per folder and batch, not one per message. */
	struct store_folder_count *counts;
	size_t n_counts, cap_counts;
};

/* Drops what struct store caches of address rows (and first_sync). Any
 * code that writes address.contact_id, name or automated, or deletes a
 * contact (ON DELETE SET NULL), other than through store.c, calls it
 * after writing. */
void store_cache_forget(struct store *st);

/* The cached statement of slot id, compiled from sql on first use; NULL
 * (after logging) when it does not compile. Bind, step, then store_reset. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt id, const char *sql);
/* Resets s and drops its bindings, so no pointer of the caller outlives the call. */
void store_reset(sqlite3_stmt *s);
/* Logs the current SQLite error of st with what failed; returns -1. */
int store_fail(struct store *st, const char *what);
/* Steps s (bound by the caller: an INSERT ... RETURNING id or a SELECT of
 * one integer) and resets it; *found says whether a row came, *out holds
 * its column 0. Returns 0, or -1 after store_fail. */
int store_step_id(struct store *st, sqlite3_stmt *s, const char *what, int64_t *out, bool *found);
/* Steps s expecting no row, resets it; 0 or -1 (logged as what). */
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what);
/* Text of column i as a new string, NULL for SQL NULL. */
char *store_column_strdup(sqlite3_stmt *s, int i);

/* SQL for what a contact is called in lists and evidence: its name, else
 * its most used address; and that address alone. c is the contact's alias. */
#define STORE_SQL_LABEL(c) \
	"coalesce(" c ".name, " STORE_SQL_EMAIL(c) ")"
#define STORE_SQL_EMAIL(c) \
	"(SELECT a_.email FROM address a_ WHERE a_.contact_id = " c ".id" \
	" ORDER BY (SELECT count(*) FROM participant p_ WHERE p_.address_id = a_.id) DESC," \
	" a_.email LIMIT 1)"

/* Binds text that may be NULL; the caller keeps it alive until store_reset. */
static inline void
store_bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Binds a row id, 0 meaning none (SQL NULL). */
static inline void
store_bind_id(sqlite3_stmt *s, int i, int64_t id)
{
	if (id)
		sqlite3_bind_int64(s, i, id);
	else
		sqlite3_bind_null(s, i);
}

/* store_schema.c */
int store_schema_latest(void);
int store_schema_version(struct store *st, int *out);
/* Brings the schema to the latest version (RW) or checks it is (RO). */
int store_schema_migrate(struct store *st, char **err);

#endif
