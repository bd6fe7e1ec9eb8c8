/* test_store: opening, versioning, sync state and transactions of the store. */
#include "unit.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_p.h"
#include "xalloc.h"

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
}

static char *
make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *dir = xasprintf("%s/merci-store-XXXXXX", t && *t ? t : "/tmp");

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	return dir;
}

static int
user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

static void
set_user_version(const char *path, int v)
{
	sqlite3 *db;
	char *sql = xasprintf("PRAGMA user_version = %d", v);

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	free(sql);
}

static struct store *
open_ok(const char *path, enum store_mode mode)
{
	struct store *st = NULL;
	char *err = NULL;

	if (store_open(path, mode, &st, &err) < 0)
		fprintf(stderr, "store_open: %s\n", err);
	CHECK(st != NULL);
	CHECK(err == NULL);
	free(err);
	return st;
}

static void
test_create(const char *dir)
{
	char *path = xasprintf("%s/state/merci/merci.db", dir);
	char *parent = xasprintf("%s/state/merci", dir);
	struct store_status status;
	struct store *st;
	struct stat sb;

	st = open_ok(path, STORE_RW);
	CHECK(stat(parent, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0);
	CHECK(store_status_get(st, &status) == 0);
	CHECK(status.schema_version >= 1);
	CHECK_INT(status.exchanges, 0);
	CHECK_INT(status.n_accounts, 0);
	store_status_free(&status);
	store_close(st);
	CHECK(user_version(path) >= 1);
	free(path);
	free(parent);
}

static void
test_reopen(const char *dir)
{
	char *path = xasprintf("%s/reopen.db", dir);
	struct store_folder_state *fs;
	int64_t id1, id2, id3;
	struct store *st;
	size_t n;

	st = open_ok(path, STORE_RW);
	CHECK(store_account_ensure(st, "work", &id1) == 0);
	CHECK(store_account_ensure(st, "home", &id3) == 0);
	CHECK(id1 != id3);
	CHECK(store_folder_checkpoint(st, id1, "INBOX", 7, 120, 1000) == 0);
	store_close(st);

	st = open_ok(path, STORE_RW);
	CHECK(store_account_ensure(st, "work", &id2) == 0);
	CHECK_INT(id2, id1);
	CHECK(store_folder_states(st, id1, &fs, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(fs[0].name, "INBOX");
		CHECK_INT(fs[0].uidvalidity, 7);
		CHECK_INT(fs[0].last_uid, 120);
	}
	store_folder_states_free(fs, n);
	store_close(st);
	free(path);
}

static void
test_newer_refused(const char *dir)
{
	char *path = xasprintf("%s/newer.db", dir);
	struct store *st;
	char *err = NULL;

	store_close(open_ok(path, STORE_RW));
	set_user_version(path, 999);
	CHECK(store_open(path, STORE_RW, &st, &err) == -1);
	CHECK(st == NULL);
	CHECK(err && strstr(err, "newer") && strstr(err, path));
	free(err);
	err = NULL;
	CHECK(store_open(path, STORE_RO, &st, &err) == -1);
	CHECK(err && strstr(err, "999"));
	free(err);
	/* Refusing must not have touched it. */
	CHECK_INT(user_version(path), 999);
	free(path);
}

static void
test_not_a_store(const char *dir)
{
	char *path = xasprintf("%s/garbage.db", dir);
	FILE *f = fopen(path, "w");
	struct store *st;
	char *err = NULL;

	fputs("this is not a database, it is a shopping list\n", f);
	fclose(f);
	CHECK(store_open(path, STORE_RW, &st, &err) == -1);
	CHECK(err && strstr(err, path));
	free(err);
	free(path);
}

static void
test_folders(const char *dir)
{
	char *path = xasprintf("%s/folders.db", dir);
	struct store_folder_state *fs;
	struct store *st = open_ok(path, STORE_RW);
	int64_t acc;
	size_t n;

	CHECK(store_account_ensure(st, "work", &acc) == 0);
	CHECK(store_folder_seen(st, acc, "INBOX", 100, 5, 10) == 0);
	CHECK(store_folder_seen(st, acc, "Sent", 300, 2, 10) == 0);
	CHECK(store_folder_checkpoint(st, acc, "INBOX", 100, 42, 11) == 0);
	/* An older checkpoint never moves it back. */
	CHECK(store_folder_checkpoint(st, acc, "INBOX", 100, 30, 12) == 0);
	CHECK(store_folder_seen(st, acc, "INBOX", 100, 6, 13) == 0);
	CHECK(store_folder_states(st, acc, &fs, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(fs[0].name, "INBOX");
		CHECK_INT(fs[0].last_uid, 42);
		CHECK_STR(fs[1].name, "Sent");
		CHECK_INT(fs[1].last_uid, 0);
	}
	store_folder_states_free(fs, n);

	/* The server renumbered the folder: read it all again. */
	CHECK(store_folder_seen(st, acc, "INBOX", 200, 6, 14) == 0);
	CHECK(store_folder_states(st, acc, &fs, &n) == 0);
	CHECK(n == 2 && fs[0].uidvalidity == 200 && fs[0].last_uid == 0);
	store_folder_states_free(fs, n);
	store_close(st);
	free(path);
}

static void
test_account_result(const char *dir)
{
	char *path = xasprintf("%s/result.db", dir);
	struct store *st = open_ok(path, STORE_RW);
	struct store_status s;
	int64_t acc;

	CHECK(store_account_ensure(st, "work", &acc) == 0);
	CHECK(store_account_result(st, acc, 1000, NULL) == 0);
	CHECK(store_account_result(st, acc, 2000, "login refused") == 0);
	CHECK(store_status_get(st, &s) == 0);
	CHECK_INT(s.n_accounts, 1);
	if (s.n_accounts == 1) {
		CHECK_STR(s.accounts[0].name, "work");
		CHECK_INT(s.accounts[0].last_sync, 1000);
		CHECK_INT(s.accounts[0].last_attempt, 2000);
		CHECK_STR(s.accounts[0].last_error, "login refused");
	}
	store_status_free(&s);
	CHECK(store_account_result(st, acc, 3000, NULL) == 0);
	CHECK(store_status_get(st, &s) == 0);
	CHECK(s.n_accounts == 1 && s.accounts[0].last_sync == 3000 &&
	      s.accounts[0].last_error == NULL);
	store_status_free(&s);
	store_close(st);
	free(path);
}

static void
test_ro(const char *dir)
{
	char *missing = xasprintf("%s/never/synced.db", dir);
	char *path = xasprintf("%s/ro.db", dir);
	struct store *st = NULL, *rw;
	struct store_status s;
	char *err = NULL;
	int64_t acc;

	CHECK(store_open(missing, STORE_RO, &st, &err) == -1);
	CHECK(st == NULL);
	CHECK(err && strstr(err, "mercid --once") && strstr(err, missing));
	CHECK(access(missing, F_OK) < 0);
	free(err);
	err = NULL;
	/* A file the daemon created but never set up says the same. */
	fclose(fopen(path, "w"));
	CHECK(store_open(path, STORE_RO, &st, &err) == -1);
	CHECK(err && strstr(err, "mercid --once"));
	free(err);

	/* The CLI reads while the daemon holds the store open for writing. */
	rw = open_ok(path, STORE_RW);
	CHECK(store_account_ensure(rw, "work", &acc) == 0);
	st = open_ok(path, STORE_RO);
	CHECK(st && store_status_get(st, &s) == 0);
	CHECK_INT(s.n_accounts, 1);
	store_status_free(&s);
	CHECK(store_account_ensure(st, "home", &acc) == -1);
	store_close(st);
	store_close(rw);
	free(missing);
	free(path);
}

static void
test_rollback(const char *dir)
{
	char *path = xasprintf("%s/rollback.db", dir);
	struct store *st = open_ok(path, STORE_RW);
	struct store_folder_state *fs;
	struct store_status s;
	int64_t acc, other;
	size_t n;

	CHECK(store_account_ensure(st, "work", &acc) == 0);
	CHECK(store_folder_checkpoint(st, acc, "INBOX", 1, 10, 1) == 0);
	CHECK(store_begin(st) == 0);
	CHECK(store_account_ensure(st, "discarded", &other) == 0);
	CHECK(store_folder_checkpoint(st, acc, "INBOX", 1, 99, 2) == 0);
	CHECK(store_rollback(st) == 0);
	CHECK(store_status_get(st, &s) == 0);
	CHECK_INT(s.n_accounts, 1);
	store_status_free(&s);
	CHECK(store_folder_states(st, acc, &fs, &n) == 0);
	CHECK(n == 1 && fs[0].last_uid == 10);
	store_folder_states_free(fs, n);

	CHECK(store_begin(st) == 0);
	CHECK(store_folder_checkpoint(st, acc, "INBOX", 1, 50, 3) == 0);
	CHECK(store_commit(st) == 0);
	store_close(st);
	st = open_ok(path, STORE_RO);
	CHECK(st && store_folder_states(st, acc, &fs, &n) == 0);
	CHECK(n == 1 && fs[0].last_uid == 50);
	store_folder_states_free(fs, n);
	store_close(st);
	free(path);
}

/* The messages of a folder in status, as store_status_get reports them. */
static int64_t
folder_messages(struct store *st, const char *folder)
{
	struct store_status s;
	int64_t n = -1;
	size_t i;

	CHECK(store_status_get(st, &s) == 0);
	for (i = 0; i < s.n_folders; i++)
		if (strcmp(s.folders[i].folder, folder) == 0)
			n = s.folders[i].messages;
	store_status_free(&s);
	return n;
}

static void
exchange_add(struct store *st, int64_t acc, const char *key, const char *folder)
{
	struct store_exchange e = {
		.msg_key = key, .folder = folder, .date = 1000, .thread_key = key,
	};
	int64_t id;

	CHECK(store_exchange_insert(st, acc, &e, &id) == 0);
}

/* folder.n_messages follows the exchanges recorded, in their transaction:
 * a rolled back batch counts nothing; outside a transaction, at once. */
static void
test_folder_counts(const char *dir)
{
	char *path = xasprintf("%s/counts.db", dir);
	struct store *st = open_ok(path, STORE_RW);
	sqlite3 *db;
	int64_t acc;

	CHECK(store_account_ensure(st, "work", &acc) == 0);
	CHECK(store_folder_seen(st, acc, "INBOX", 1, 3, 10) == 0);
	CHECK(store_begin(st) == 0);
	exchange_add(st, acc, "<a@x>", "INBOX");
	exchange_add(st, acc, "<b@x>", "INBOX");
	exchange_add(st, acc, "<c@x>", "Sent");
	CHECK(store_folder_checkpoint(st, acc, "INBOX", 1, 2, 11) == 0);
	CHECK(store_commit(st) == 0);
	CHECK_INT(folder_messages(st, "INBOX"), 2);
	CHECK_INT(folder_messages(st, "Sent"), 1);

	CHECK(store_begin(st) == 0);
	exchange_add(st, acc, "<d@x>", "INBOX");
	CHECK(store_rollback(st) == 0);
	CHECK_INT(folder_messages(st, "INBOX"), 2);
	exchange_add(st, acc, "<e@x>", "INBOX");
	CHECK_INT(folder_messages(st, "INBOX"), 3);
	store_close(st);

	/* A store of version 7 gets its counts from its exchanges. */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
		"ALTER TABLE folder DROP COLUMN n_messages;"
		"CREATE INDEX exchange_folder ON exchange (account_id, folder);"
		"DROP INDEX exchange_out;"
		"CREATE INDEX exchange_direction ON exchange (direction, date);"
		"DROP TRIGGER participant_exchange_gone;"
		"DROP TRIGGER participant_address_kept;"
		"PRAGMA user_version = 7", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st = open_ok(path, STORE_RW);
	CHECK_INT(user_version(path), 8);
	CHECK_INT(folder_messages(st, "INBOX"), 3);
	CHECK_INT(folder_messages(st, "Sent"), 1);
	store_close(st);
	free(path);
}

/* PRAGMA synchronous of the store's own connection (it is per
 * connection): 1 NORMAL, 2 FULL. */
static int
store_synchronous(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA synchronous", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	return v;
}

static void
test_durable(const char *dir)
{
	char *path = xasprintf("%s/durable.db", dir);
	struct store *st = open_ok(path, STORE_RW);
	int64_t acc;

	/* The daemon's connection: ingest commits under NORMAL (1). */
	CHECK_INT(store_synchronous(st), 1);
	store_close(st);
	/* The CLI's read-write connection (cli_store): FULL (2), for every
	 * commit after, transactions or not. */
	st = open_ok(path, STORE_RW);
	CHECK(store_set_durable(st) == 0);
	CHECK_INT(store_synchronous(st), 2);
	CHECK(store_begin(st) == 0);
	CHECK(store_account_ensure(st, "work", &acc) == 0);
	CHECK(store_commit(st) == 0);
	CHECK_INT(store_synchronous(st), 2);
	store_close(st);
	/* Read-only: nothing to make durable. */
	st = open_ok(path, STORE_RO);
	CHECK(store_set_durable(st) == 0);
	store_close(st);
	free(path);
}

int
main(void)
{
	char *dir = make_tmpdir();

	test_create(dir);
	test_reopen(dir);
	test_newer_refused(dir);
	test_not_a_store(dir);
	test_folders(dir);
	test_account_result(dir);
	test_ro(dir);
	test_rollback(dir);
	test_folder_counts(dir);
	test_durable(dir);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	return UNIT_DONE();
}
