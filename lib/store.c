/* store: opening the SQLite store (file, directory, pragmas), the cache of
 * prepared statements, transactions, the per-account and per-folder sync
 * state, and the small write primitives ingest builds on. The schema lives
 * in store_schema.c, the CLI's read queries in store_query.c. */
#include "store_p.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "timeutil.h"
#include "xalloc.h"

/* ---- statement cache and error helpers ---- */

sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt id, const char *sql)
{
	if (st->stmt[id])
		return st->stmt[id];
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &st->stmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "preparing a statement");
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

void
store_reset(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int
store_fail(struct store *st, const char *what)
{
	log_error("store %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return -1;
}

int
store_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		store_fail(st, what);
	store_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

char *
store_column_strdup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* Binds text that may be NULL; the caller keeps it alive until store_reset. */
static void
bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* ---- the address cache (store_p.h) ---- */

/* Beyond this many addresses the cache starts over: memory stays bounded
 * whatever the mailbox. */
#define ADDR_CACHE_MAX 65536

static uint32_t
addr_hash_email(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static uint32_t
addr_hash_id(int64_t id)
{
	return (uint32_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 32);
}

static void
addr_cache_clear(struct store_addr_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].email);
	free(c->v);
	free(c->by_email);
	free(c->by_id);
	memset(c, 0, sizeof *c);
}

/* Everything cached may be stale: another connection wrote, a
 * transaction that wrote through this one was rolled back, or a statement
 * outside store.c changed address rows (store_p.h). */
void
store_cache_forget(struct store *st)
{
	addr_cache_clear(&st->addrs);
	st->first_sync_account = 0;
}

static struct store_addr *
addr_cache_find(struct store_addr_cache *c, const char *email)
{
	size_t i;
	uint32_t k;

	if (!c->mask)
		return NULL;
	for (i = addr_hash_email(email) & c->mask; (k = c->by_email[i]) != 0; i = (i + 1) & c->mask)
		if (strcmp(c->v[k - 1].email, email) == 0)
			return &c->v[k - 1];
	return NULL;
}

static struct store_addr *
addr_cache_find_id(struct store_addr_cache *c, int64_t id)
{
	size_t i;
	uint32_t k;

	if (!c->mask)
		return NULL;
	for (i = addr_hash_id(id) & c->mask; (k = c->by_id[i]) != 0; i = (i + 1) & c->mask)
		if (c->v[k - 1].id == id)
			return &c->v[k - 1];
	return NULL;
}

static void
addr_cache_slot(struct store_addr_cache *c, size_t k)
{
	size_t i;

	for (i = addr_hash_email(c->v[k].email) & c->mask; c->by_email[i]; i = (i + 1) & c->mask)
		;
	c->by_email[i] = (uint32_t)k + 1;
	for (i = addr_hash_id(c->v[k].id) & c->mask; c->by_id[i]; i = (i + 1) & c->mask)
		;
	c->by_id[i] = (uint32_t)k + 1;
}

/* Adds an address known to be missing; returns its entry. */
static struct store_addr *
addr_cache_put(struct store_addr_cache *c, const char *email, int64_t id, int64_t contact,
	       bool named, bool automated)
{
	size_t k, size;

	if (c->n >= ADDR_CACHE_MAX)
		addr_cache_clear(c);
	/* Tables at most half full keep the probes short. */
	if ((c->n + 1) * 2 > c->mask) {
		size = c->mask ? 2 * (c->mask + 1) : 1024;
		free(c->by_email);
		free(c->by_id);
		c->by_email = xcalloc(size, sizeof *c->by_email);
		c->by_id = xcalloc(size, sizeof *c->by_id);
		c->mask = size - 1;
		for (k = 0; k < c->n; k++)
			addr_cache_slot(c, k);
	}
	c->v = xreallocarray_grow(c->v, &c->cap, c->n + 1, sizeof *c->v);
	c->v[c->n] = (struct store_addr){
		.email = xstrdup(email), .id = id, .contact = contact,
		.named = named, .automated = automated,
	};
	addr_cache_slot(c, c->n);
	return &c->v[c->n++];
}

/* ---- per-folder message counts (folder.n_messages) ---- */

static void
counts_drop(struct store *st)
{
	size_t i;

	for (i = 0; i < st->n_counts; i++)
		free(st->counts[i].folder);
	st->n_counts = 0;
}

/* Adds what the transaction recorded to folder.n_messages. A folder
 * with no row yet gets one, as its checkpoint would give it. */
static int
counts_flush(struct store *st)
{
	sqlite3_stmt *s;
	size_t i;

	if (st->n_counts == 0)
		return 0;
	s = store_stmt(st, STMT_FOLDER_COUNT,
		"INSERT INTO folder (account_id, name, n_messages) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (account_id, name) DO UPDATE SET"
		"  n_messages = n_messages + excluded.n_messages");
	if (!s)
		return -1;
	for (i = 0; i < st->n_counts; i++) {
		sqlite3_bind_int64(s, 1, st->counts[i].account_id);
		bind_text(s, 2, st->counts[i].folder);
		sqlite3_bind_int64(s, 3, st->counts[i].n);
		if (store_step_done(st, s, "counting a folder's messages") < 0)
			return -1;
	}
	counts_drop(st);
	return 0;
}

/* One more exchange recorded in folder: counted at commit, or at once
 * outside a transaction. */
static int
counts_add(struct store *st, int64_t account_id, const char *folder)
{
	struct store_folder_count *c;
	size_t i;

	for (i = 0; i < st->n_counts; i++) {
		c = &st->counts[i];
		if (c->account_id == account_id && strcmp(c->folder, folder) == 0) {
			c->n++;
			return 0;
		}
	}
	st->counts = xreallocarray_grow(st->counts, &st->cap_counts, st->n_counts + 1,
					sizeof *st->counts);
	st->counts[st->n_counts++] = (struct store_folder_count){
		.account_id = account_id, .folder = xstrdup(folder), .n = 1,
	};
	return sqlite3_get_autocommit(st->db) ? counts_flush(st) : 0;
}

/* ---- opening ---- */

/* The store holds who the owner talks to: its directory is private. */
static int
open_make_parents(const char *path, char **err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *p;
	int rc = 0;

	if (!slash || slash == dir)
		goto out;
	*slash = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			*err = xasprintf("%s: cannot create directory %s: %s; create it "
					 "or set database= in merci.conf", path, dir,
					 strerror(errno));
			rc = -1;
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
	}
out:
	free(dir);
	return rc;
}

/* SQLite would create the file with the umask's mode; create it private
 * first (its -wal and -shm files inherit the mode). */
static int
open_create_file(const char *path, char **err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		*err = xasprintf("%s: cannot create the store: %s; check the "
				 "directory's permissions or set database= in merci.conf",
				 path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int
open_pragmas(struct store *st)
{
	/* synchronous=NORMAL: in WAL mode a power loss can drop only the last
	 * commits, never corrupt the file; since a batch and its checkpoint
	 * commit together, what is lost is simply fetched again. What could
	 * not be fetched again commits under FULL: the outbox (outbox.c) and
	 * the owner's commands (store_set_durable); see store.h. */
	static const char rw[] =
		"PRAGMA journal_mode = WAL;"
		"PRAGMA synchronous = NORMAL;";
	/* Ingest inserts into indexes keyed by random strings (message ids,
	 * thread keys): with the default 2 MB of page cache most inserts
	 * read a page back from the file. 8 MB keeps RSS well under the
	 * daemon's budget. */
	static const char cache[] =
		"PRAGMA cache_size = -8192;"
		/* Every INSERT into a table with foreign keys runs under a
		 * statement journal; spilled to a file (the default) it takes a
		 * 64 KB buffer per statement, which malloc hands back to the
		 * system and faults in again: a third of ingest at 100,000
		 * messages. In memory it grows by small chunks. */
		"PRAGMA temp_store = MEMORY;";
	static const char common[] =
		"PRAGMA foreign_keys = ON;"
		"PRAGMA trusted_schema = OFF;";

	/* The file comes from disk: refuse SQL that could corrupt it. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_busy_timeout(st->db, 5000);
	/* No logging here: the caller's message carries the reason. */
	if (sqlite3_exec(st->db, common, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (st->mode == STORE_RW && (sqlite3_exec(st->db, rw, NULL, NULL, NULL) != SQLITE_OK ||
				     sqlite3_exec(st->db, cache, NULL, NULL, NULL) != SQLITE_OK))
		return -1;
	return 0;
}

static int
open_db(struct store *st, char **err)
{
	int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;

	flags |= st->mode == STORE_RO ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(st->path, &st->db, flags, NULL) != SQLITE_OK) {
		*err = xasprintf("%s: cannot open the store: %s", st->path,
				 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		return -1;
	}
	if (open_pragmas(st) < 0) {
		*err = xasprintf("%s: cannot set up the store: %s", st->path,
				 sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

int
store_open(const char *path, enum store_mode mode, struct store **out, char **err)
{
	struct store *st;

	*out = NULL;
	*err = NULL;
	/* SQLite's memory statistics take a global mutex around every
	 * allocation, a few percent of ingest; nothing here reads them. Only
	 * possible before SQLite initialises: later calls fail harmlessly. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (mode == STORE_RO && access(path, F_OK) < 0) {
		*err = xasprintf("%s: no store yet, nothing was synced: run "
				 "`mercid --once` first", path);
		return -1;
	}
	if (mode == STORE_RW && (open_make_parents(path, err) < 0 ||
				 open_create_file(path, err) < 0))
		return -1;
	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	st->mode = mode;
	st->data_version = -1;
	if (open_db(st, err) < 0 || store_schema_migrate(st, err) < 0) {
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

int
store_set_durable(struct store *st)
{
	sqlite3_stmt *s;

	if (st->mode != STORE_RW)
		return 0;
	s = store_stmt(st, STMT_SYNC_DURABLE, "PRAGMA synchronous = FULL");
	return s ? store_step_done(st, s, "setting synchronous") : -1;
}

void
store_close(struct store *st)
{
	size_t i;

	if (!st)
		return;
	store_cache_forget(st);
	counts_drop(st);
	free(st->counts);
	for (i = 0; i < STMT_COUNT_; i++)
		sqlite3_finalize(st->stmt[i]);
	if (sqlite3_close(st->db) != SQLITE_OK)
		store_fail(st, "closing");
	free(st->path);
	free(st);
}

/* ---- transactions ---- */

/* Drops the caches when another connection committed since our last
 * transaction (PRAGMA data_version moves only for others' commits). */
static int
begin_check_others(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, STMT_DATA_VERSION, "PRAGMA data_version");
	int64_t v;
	int rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s);
	v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	if (rc != SQLITE_ROW)
		store_fail(st, "reading the data version");
	store_reset(s);
	if (v < 0 || v != st->data_version)
		store_cache_forget(st);
	st->data_version = v;
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_begin(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, STMT_BEGIN, "BEGIN IMMEDIATE");

	/* Counts left over belong to a transaction that ended without
	 * store_commit: rolled back, so were its exchanges. */
	counts_drop(st);
	if (!s || store_step_done(st, s, "starting a transaction") < 0) {
		/* SQLite may have rolled back a transaction nobody ended. */
		store_cache_forget(st);
		return -1;
	}
	if (begin_check_others(st) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

int
store_commit(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, STMT_COMMIT, "COMMIT");

	if (counts_flush(st) < 0)
		return -1;
	return s ? store_step_done(st, s, "committing") : -1;
}

int
store_rollback(struct store *st)
{
	sqlite3_stmt *s;

	/* What the cache learnt in this transaction is undone with it. */
	store_cache_forget(st);
	counts_drop(st);
	/* A failed statement may already have ended the transaction. */
	if (sqlite3_get_autocommit(st->db))
		return 0;
	s = store_stmt(st, STMT_ROLLBACK, "ROLLBACK");
	return s ? store_step_done(st, s, "rolling back") : -1;
}

/* ---- sync state ---- */

int
store_step_id(struct store *st, sqlite3_stmt *s, const char *what, int64_t *out, bool *found)
{
	int rc = sqlite3_step(s);

	*found = rc == SQLITE_ROW;
	if (*found)
		*out = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		store_fail(st, what);
	store_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_account_ensure(struct store *st, const char *name, int64_t *out_id)
{
	sqlite3_stmt *s;
	bool found;

	s = store_stmt(st, STMT_ACCOUNT_FIND, "SELECT id FROM account WHERE name = ?1");
	if (!s)
		return -1;
	bind_text(s, 1, name);
	if (store_step_id(st, s, "finding an account", out_id, &found) < 0)
		return -1;
	if (found)
		return 0;
	s = store_stmt(st, STMT_ACCOUNT_INSERT, "INSERT INTO account (name) VALUES (?1)");
	if (!s)
		return -1;
	bind_text(s, 1, name);
	if (store_step_done(st, s, "adding an account") < 0)
		return -1;
	*out_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_account_result(struct store *st, int64_t account_id, int64_t now, const char *error)
{
	sqlite3_stmt *s = store_stmt(st, STMT_ACCOUNT_RESULT,
		"UPDATE account SET last_attempt = ?2, last_error = ?3,"
		" last_sync = CASE WHEN ?3 IS NULL THEN ?2 ELSE last_sync END"
		" WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, now);
	bind_text(s, 3, error);
	return store_step_done(st, s, "recording a sync result");
}

int
store_folder_states(struct store *st, int64_t account_id,
		    struct store_folder_state **out, size_t *n)
{
	struct store_folder_state *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	s = store_stmt(st, STMT_FOLDER_STATES,
		"SELECT name, uidvalidity, last_uid FROM folder"
		" WHERE account_id = ?1 ORDER BY name");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray_grow(v, &cap, len + 1, sizeof *v);
		v[len].name = store_column_strdup(s, 0);
		v[len].uidvalidity = (uint32_t)sqlite3_column_int64(s, 1);
		v[len].last_uid = (uint32_t)sqlite3_column_int64(s, 2);
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "reading folder states");
		store_reset(s);
		store_folder_states_free(v, len);
		return -1;
	}
	store_reset(s);
	*out = v;
	*n = len;
	return 0;
}

void
store_folder_states_free(struct store_folder_state *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int
store_account_first_sync(struct store *st, int64_t account_id, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_FIRST_SYNC,
		"UPDATE account SET first_sync_at = ?2 WHERE id = ?1 AND first_sync_at = 0");

	/* Set once for good: after that, every message of every batch would
	 * run this UPDATE for nothing. */
	if (st->first_sync_account == account_id)
		return 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, now);
	if (store_step_done(st, s, "recording the first sync") < 0)
		return -1;
	st->first_sync_account = account_id;
	return 0;
}

/* Says so in the log when a folder's UIDVALIDITY changed: the server
 * renumbered it and every message will be fetched again. */
static int
folder_note_validity(struct store *st, int64_t account_id, const char *folder,
		     uint32_t uidvalidity)
{
	sqlite3_stmt *s;
	int64_t old;
	bool found;

	s = store_stmt(st, STMT_FOLDER_VALIDITY,
		"SELECT uidvalidity FROM folder WHERE account_id = ?1 AND name = ?2");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	bind_text(s, 2, folder);
	if (store_step_id(st, s, "reading a folder", &old, &found) < 0)
		return -1;
	if (found && old != 0 && old != uidvalidity)
		log_notice("folder %s: UIDVALIDITY changed from %lld to %lu; "
			   "reading it again", folder, (long long)old,
			   (unsigned long)uidvalidity);
	return 0;
}

int
store_folder_seen(struct store *st, int64_t account_id, const char *folder,
		  uint32_t uidvalidity, uint32_t exists, int64_t now)
{
	sqlite3_stmt *s;

	if (folder_note_validity(st, account_id, folder, uidvalidity) < 0)
		return -1;
	s = store_stmt(st, STMT_FOLDER_SEEN,
		"INSERT INTO folder (account_id, name, uidvalidity, n_exists, last_sync)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (account_id, name) DO UPDATE SET"
		"  last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
		"   THEN last_uid ELSE 0 END,"
		"  uidvalidity = excluded.uidvalidity,"
		"  n_exists = excluded.n_exists, last_sync = excluded.last_sync");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	bind_text(s, 2, folder);
	sqlite3_bind_int64(s, 3, uidvalidity);
	sqlite3_bind_int64(s, 4, exists);
	sqlite3_bind_int64(s, 5, now);
	return store_step_done(st, s, "recording a folder");
}

int
store_folder_checkpoint(struct store *st, int64_t account_id, const char *folder,
			uint32_t uidvalidity, uint32_t last_uid, int64_t now)
{
	/* Within one UIDVALIDITY the checkpoint only moves forward; under a
	 * new one the caller's UIDs are the only valid ones. */
	sqlite3_stmt *s = store_stmt(st, STMT_FOLDER_CHECKPOINT,
		"INSERT INTO folder (account_id, name, uidvalidity, last_uid, last_sync)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (account_id, name) DO UPDATE SET"
		"  last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
		"   THEN max(last_uid, excluded.last_uid) ELSE excluded.last_uid END,"
		"  uidvalidity = excluded.uidvalidity, last_sync = excluded.last_sync");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	bind_text(s, 2, folder);
	sqlite3_bind_int64(s, 3, uidvalidity);
	sqlite3_bind_int64(s, 4, last_uid);
	sqlite3_bind_int64(s, 5, now);
	if (store_step_done(st, s, "moving a folder checkpoint") < 0)
		return -1;
	/* The rules' first sync window counts from here. */
	return store_account_first_sync(st, account_id, now);
}

/* ---- ingest primitives ---- */

int
store_exchange_exists(struct store *st, int64_t account_id, const char *msg_key, bool *exists)
{
	sqlite3_stmt *s = store_stmt(st, STMT_EXCHANGE_EXISTS,
		"SELECT 1 FROM exchange WHERE account_id = ?1 AND msg_key = ?2");
	int64_t one;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	bind_text(s, 2, msg_key);
	return store_step_id(st, s, "looking up a message", &one, exists);
}

int
store_exchange_insert(struct store *st, int64_t account_id,
		      const struct store_exchange *e, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_EXCHANGE_INSERT,
		"INSERT INTO exchange (account_id, msg_key, message_id, folder, uid,"
		" direction, date, subject, subject_norm, thread_key, in_reply_to, automated,"
		" expects_answer, has_thanks, language)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	bind_text(s, 2, e->msg_key);
	bind_text(s, 3, e->message_id);
	bind_text(s, 4, e->folder ? e->folder : "");
	sqlite3_bind_int64(s, 5, e->uid);
	bind_text(s, 6, e->outbound ? "out" : "in");
	sqlite3_bind_int64(s, 7, e->date);
	bind_text(s, 8, e->subject);
	bind_text(s, 9, e->subject_norm);
	bind_text(s, 10, e->thread_key ? e->thread_key : e->msg_key);
	bind_text(s, 11, e->in_reply_to);
	bind_text(s, 12, e->automated);
	sqlite3_bind_int(s, 13, e->expects_answer);
	sqlite3_bind_int(s, 14, e->has_thanks);
	bind_text(s, 15, e->language);
	if (store_step_done(st, s, "recording a message") < 0)
		return -1;
	*out_id = sqlite3_last_insert_rowid(st->db);
	return counts_add(st, account_id, e->folder ? e->folder : "");
}

static int
address_insert(struct store *st, const char *email, const char *name,
	       bool automated, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_ADDRESS_INSERT,
		"INSERT INTO address (email, name, automated, first_seen)"
		" VALUES (?1, ?2, ?3, ?4)");

	if (!s)
		return -1;
	bind_text(s, 1, email);
	bind_text(s, 2, name && *name ? name : NULL);
	sqlite3_bind_int(s, 3, automated);
	sqlite3_bind_int64(s, 4, time_now());
	if (store_step_done(st, s, "adding an address") < 0)
		return -1;
	*out_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* The automated flag means "only ever seen in automated mail": one
 * person-to-person message clears it for good. */
static int
address_update(struct store *st, int64_t id, const char *name, bool automated)
{
	sqlite3_stmt *s = store_stmt(st, STMT_ADDRESS_UPDATE,
		"UPDATE address SET name = coalesce(name, ?2),"
		" automated = min(automated, ?3) WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, name && *name ? name : NULL);
	sqlite3_bind_int(s, 3, automated);
	return store_step_done(st, s, "updating an address");
}

/* Brings the row of a (cached) address up to what this message says. */
static int
address_refresh(struct store *st, struct store_addr *a, const char *name, bool automated)
{
	bool has_name = name && *name;

	/* Most addresses are seen again unchanged: write only when needed. */
	if (!((!a->named && has_name) || (a->automated && !automated)))
		return 0;
	if (address_update(st, a->id, name, automated) < 0)
		return -1;
	a->named = a->named || has_name;
	a->automated = a->automated && automated;
	return 0;
}

int
store_address_upsert(struct store *st, const char *email, const char *name,
		     bool automated, int64_t *out_id, int64_t *out_contact)
{
	struct store_addr *a = addr_cache_find(&st->addrs, email);
	sqlite3_stmt *s;
	bool named, was_automated;
	int64_t id, contact;
	int rc;

	if (!a) {
		s = store_stmt(st, STMT_ADDRESS_FIND,
			"SELECT id, contact_id, name IS NULL, automated FROM address WHERE email = ?1");
		if (!s)
			return -1;
		bind_text(s, 1, email);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			if (rc != SQLITE_DONE)
				store_fail(st, "looking up an address");
			store_reset(s);
			if (rc != SQLITE_DONE ||
			    address_insert(st, email, name, automated, out_id) < 0)
				return -1;
			*out_contact = 0;
			addr_cache_put(&st->addrs, email, *out_id, 0, name && *name, automated);
			return 0;
		}
		id = sqlite3_column_int64(s, 0);
		contact = sqlite3_column_int64(s, 1);
		named = !sqlite3_column_int(s, 2);
		was_automated = sqlite3_column_int(s, 3);
		store_reset(s);
		a = addr_cache_put(&st->addrs, email, id, contact, named, was_automated);
	}
	if (address_refresh(st, a, name, automated) < 0)
		return -1;
	*out_id = a->id;
	*out_contact = a->contact;
	return 0;
}

#define PARTICIPANT_SQL \
	"INSERT OR IGNORE INTO participant (exchange_id, address_id, role)" \
	" VALUES (?1, ?2, ?3)"

int
store_participant_add(struct store *st, int64_t exchange_id, int64_t address_id,
		      const char *role)
{
	/* The same address twice in one header is one participant. One row
	 * per statement: a statement of several rows under a foreign key may
	 * fail half-way, so SQLite runs it under a statement journal, copying
	 * every page it touches first, which cost more than the statements it
	 * saved. A single row is checked before it is written. */
	sqlite3_stmt *s = store_stmt(st, STMT_PARTICIPANT_ADD, PARTICIPANT_SQL);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, exchange_id);
	sqlite3_bind_int64(s, 2, address_id);
	bind_text(s, 3, role);
	return store_step_done(st, s, "recording a participant");
}

int
store_contact_create(struct store *st, const char *name, int64_t now, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_CONTACT_CREATE,
		"INSERT INTO contact (name, created_at) VALUES (?1, ?2)");

	if (!s)
		return -1;
	bind_text(s, 1, name && *name ? name : NULL);
	sqlite3_bind_int64(s, 2, now);
	if (store_step_done(st, s, "adding a contact") < 0)
		return -1;
	*out_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_contact_find_by_name(struct store *st, const char *name, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_CONTACT_FIND_NAME,
		"SELECT id FROM contact WHERE name = ?1 COLLATE NOCASE ORDER BY id LIMIT 1");
	bool found;

	*out_id = 0;
	if (!name || !*name)
		return 0;
	if (!s)
		return -1;
	bind_text(s, 1, name);
	return store_step_id(st, s, "finding a contact", out_id, &found);
}

int
store_address_link(struct store *st, int64_t address_id, int64_t contact_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_ADDRESS_LINK,
		"UPDATE address SET contact_id = ?2 WHERE id = ?1");
	struct store_addr *a;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, address_id);
	sqlite3_bind_int64(s, 2, contact_id);
	if (store_step_done(st, s, "linking an address to a contact") < 0)
		return -1;
	if ((a = addr_cache_find_id(&st->addrs, address_id)) != NULL)
		a->contact = contact_id;
	return 0;
}

int
store_thread_find(struct store *st, int64_t account_id, const char *subject_norm,
		  const int64_t *address_ids, size_t n_ids, int64_t date,
		  int64_t max_age, char **out)
{
	/* The ids travel as one JSON array so one cached statement serves
	 * any number of them (read once per call). The walk goes back from
	 * date through the exchanges of that subject (exchange_subject),
	 * stopping at the first that has one of the ids (participant's key):
	 * the window bounds it. Starting from the correspondents' exchanges
	 * instead read every exchange ever had with them, thousands for a
	 * regular client: a fifth of ingest at 100,000 messages. */
	sqlite3_stmt *s = store_stmt(st, STMT_THREAD_FIND,
		"SELECT e.thread_key FROM exchange e"
		" WHERE e.account_id = ?1 AND e.subject_norm = ?2"
		"  AND e.date BETWEEN ?3 AND ?4"
		"  AND EXISTS (SELECT 1 FROM participant p WHERE p.exchange_id = e.id"
		"   AND p.address_id IN (SELECT value FROM json_each(?5)))"
		" ORDER BY e.date DESC, e.id DESC LIMIT 1");
	struct buf ids = { 0 };
	size_t i;
	int rc;

	*out = NULL;
	if (n_ids == 0 || !subject_norm || !*subject_norm)
		return 0;
	if (!s)
		return -1;
	buf_addc(&ids, '[');
	for (i = 0; i < n_ids; i++)
		buf_printf(&ids, "%s%lld", i ? "," : "", (long long)address_ids[i]);
	buf_addc(&ids, ']');
	sqlite3_bind_int64(s, 1, account_id);
	bind_text(s, 2, subject_norm);
	sqlite3_bind_int64(s, 3, date - max_age);
	sqlite3_bind_int64(s, 4, date);
	bind_text(s, 5, ids.data);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = store_column_strdup(s, 0);
	else if (rc != SQLITE_DONE)
		store_fail(st, "matching a thread");
	store_reset(s);
	buf_free(&ids);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
