/* store_p.h: the inside of struct store, shared by store.c, store_schema.c
 * and store_query.c and by nobody else.
 *
 * Ingest runs 100,000 messages in a benchmark, so every statement is
 * prepared once per store and kept: each call site names its slot in the
 * cache and passes its SQL text, which is compiled on first use only. */
#ifndef MERCI_STORE_P_H
#define MERCI_STORE_P_H

#include <sqlite3.h>

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
	STMT_Q_CONTACTS,
	STMT_Q_EMAILS,
	STMT_Q_TAGS,
	STMT_Q_COUNTS,
	STMT_Q_ACCOUNTS,
	STMT_Q_FOLDERS,
	STMT_COUNT_
};

struct store {
	sqlite3 *db;
	char *path;
	enum store_mode mode;
	sqlite3_stmt *stmt[STMT_COUNT_];
};

/* The cached statement of slot id, compiled from sql on first use; NULL
 * (after logging) when it does not compile. Bind, step, then store_reset. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt id, const char *sql);
/* Resets s and drops its bindings, so no pointer of the caller outlives the call. */
void store_reset(sqlite3_stmt *s);
/* Logs the current SQLite error of st with what failed; returns -1. */
int store_fail(struct store *st, const char *what);
/* Steps s expecting no row, resets it; 0 or -1 (logged as what). */
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what);
/* Text of column i as a new string, NULL for SQL NULL. */
char *store_column_strdup(sqlite3_stmt *s, int i);

/* store_schema.c */
int store_schema_latest(void);
int store_schema_version(struct store *st, int *out);
/* Brings the schema to the latest version (RW) or checks it is (RO). */
int store_schema_migrate(struct store *st, char **err);

#endif
