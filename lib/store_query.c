/* store_query: the read queries behind `merci contacts` and `merci status`.
 * They must stay fast on a store of 100,000 exchanges, so each is a few
 * aggregate statements over indexes merged in memory, never one query per
 * row. Each runs in one read transaction, so a daemon committing meanwhile
 * cannot make the numbers disagree with each other. */
#include "store_p.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Opens a read snapshot unless the caller already has a transaction;
 * *mine says whether snapshot_end must close it. */
static int
snapshot_begin(struct store *st, bool *mine)
{
	*mine = sqlite3_get_autocommit(st->db);
	if (*mine && sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "starting a read");
	return 0;
}

static void
snapshot_end(struct store *st, bool mine)
{
	if (mine && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

/* ---- contacts ---- */

/* Person-to-person exchanges per contact: inbound ones where the contact
 * wrote (From), outbound ones where the owner wrote to them (To/Cc). A
 * message to two addresses of one contact counts once. */
static const char contacts_sql[] =
	"SELECT c.id, c.name, c.muted, coalesce(x.n_in, 0), coalesce(x.n_out, 0),"
	" coalesce(x.first, 0), coalesce(x.last, 0)"
	" FROM contact c LEFT JOIN ("
	"  SELECT a.contact_id AS cid,"
	"   count(DISTINCT CASE WHEN e.direction = 'in' THEN e.id END) AS n_in,"
	"   count(DISTINCT CASE WHEN e.direction = 'out' THEN e.id END) AS n_out,"
	"   min(e.date) AS first, max(e.date) AS last"
	"  FROM address a"
	"  JOIN participant p ON p.address_id = a.id"
	"  JOIN exchange e ON e.id = p.exchange_id"
	"  WHERE a.contact_id IS NOT NULL AND e.automated IS NULL"
	"   AND ((e.direction = 'in' AND p.role = 'from')"
	"    OR (e.direction = 'out' AND p.role IN ('to', 'cc')))"
	"  GROUP BY a.contact_id"
	" ) x ON x.cid = c.id"
	" ORDER BY coalesce(x.last, 0) DESC, c.name IS NULL, c.name COLLATE NOCASE, c.id";

struct contact_index {
	int64_t id;
	size_t row;
};

static int
contact_index_cmp(const void *a, const void *b)
{
	const struct contact_index *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static struct store_contact_row *
contact_index_find(const struct contact_index *idx, size_t n,
		   struct store_contact_row *rows, int64_t id)
{
	struct contact_index key = { .id = id };
	const struct contact_index *hit = bsearch(&key, idx, n, sizeof *idx,
						  contact_index_cmp);

	return hit ? &rows[hit->row] : NULL;
}

static int
contacts_read_rows(struct store *st, struct store_contact_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_Q_CONTACTS, contacts_sql);
	struct store_contact_row *v = NULL, *r;
	size_t len = 0, cap = 0;
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray_grow(v, &cap, len + 1, sizeof *v);
		r = &v[len++];
		memset(r, 0, sizeof *r);
		r->id = sqlite3_column_int64(s, 0);
		r->name = store_column_strdup(s, 1);
		r->muted = sqlite3_column_int(s, 2) != 0;
		r->n_in = sqlite3_column_int64(s, 3);
		r->n_out = sqlite3_column_int64(s, 4);
		r->first = sqlite3_column_int64(s, 5);
		r->last = sqlite3_column_int64(s, 6);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "listing contacts");
	store_reset(s);
	*out = v;
	*n = len;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Appends column 1 of every row of s to the list of the contact named in
 * column 0 (rows come grouped by contact, in list order). */
static int
contacts_attach(struct store *st, sqlite3_stmt *s, const struct contact_index *idx,
		size_t n, struct store_contact_row *rows, bool emails)
{
	struct store_contact_row *r;
	char ***list;
	size_t *len;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = contact_index_find(idx, n, rows, sqlite3_column_int64(s, 0));
		if (!r)
			continue;
		list = emails ? &r->emails : &r->tags;
		len = emails ? &r->n_emails : &r->n_tags;
		/* Lists are short: grow one at a time. */
		*list = xrealloc(*list, (*len + 1) * sizeof **list);
		(*list)[(*len)++] = store_column_strdup(s, 1);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, emails ? "listing contact addresses" : "listing contact tags");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
contacts_read_lists(struct store *st, struct store_contact_row *rows, size_t n)
{
	/* Most used address first: that is the one the owner knows them by. */
	sqlite3_stmt *emails = store_stmt(st, STMT_Q_EMAILS,
		"SELECT a.contact_id, a.email FROM address a"
		" WHERE a.contact_id IS NOT NULL"
		" ORDER BY a.contact_id,"
		"  (SELECT count(*) FROM participant p WHERE p.address_id = a.id) DESC,"
		"  a.email");
	sqlite3_stmt *tags = store_stmt(st, STMT_Q_TAGS,
		"SELECT contact_id, tag FROM contact_tag ORDER BY contact_id, tag");
	struct contact_index *idx;
	size_t i;
	int rc = -1;

	if (!emails || !tags)
		return -1;
	idx = xcalloc(n ? n : 1, sizeof *idx);
	for (i = 0; i < n; i++) {
		idx[i].id = rows[i].id;
		idx[i].row = i;
	}
	qsort(idx, n, sizeof *idx, contact_index_cmp);
	if (contacts_attach(st, emails, idx, n, rows, true) == 0 &&
	    contacts_attach(st, tags, idx, n, rows, false) == 0)
		rc = 0;
	free(idx);
	return rc;
}

int
store_contacts_list(struct store *st, struct store_contact_row **out, size_t *n)
{
	struct store_contact_row *v = NULL;
	size_t len = 0;
	bool mine;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (snapshot_begin(st, &mine) < 0)
		return -1;
	if (contacts_read_rows(st, &v, &len) == 0 && contacts_read_lists(st, v, len) == 0)
		rc = 0;
	snapshot_end(st, mine);
	if (rc < 0) {
		store_contact_rows_free(v, len);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
store_contact_rows_free(struct store_contact_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		strv_free(v[i].emails, v[i].n_emails);
		strv_free(v[i].tags, v[i].n_tags);
	}
	free(v);
}

/* ---- status ---- */

static int
status_counts(struct store *st, struct store_status *out)
{
	sqlite3_stmt *s = store_stmt(st, STMT_Q_COUNTS,
		"SELECT count(*), total(direction = 'in'), total(direction = 'out'),"
		" count(automated), (SELECT count(*) FROM contact),"
		" (SELECT count(*) FROM address)"
		" FROM exchange");
	int rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->exchanges = sqlite3_column_int64(s, 0);
		out->inbound = sqlite3_column_int64(s, 1);
		out->outbound = sqlite3_column_int64(s, 2);
		out->automated = sqlite3_column_int64(s, 3);
		out->contacts = sqlite3_column_int64(s, 4);
		out->addresses = sqlite3_column_int64(s, 5);
	} else {
		store_fail(st, "counting exchanges");
	}
	store_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
status_accounts(struct store *st, struct store_status *out)
{
	sqlite3_stmt *s = store_stmt(st, STMT_Q_ACCOUNTS,
		"SELECT name, last_sync, last_attempt, last_error FROM account ORDER BY name");
	struct store_account_row *r;
	size_t cap = 0;
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->accounts = xreallocarray_grow(out->accounts, &cap,
						   out->n_accounts + 1, sizeof *r);
		r = &out->accounts[out->n_accounts++];
		r->name = store_column_strdup(s, 0);
		r->last_sync = sqlite3_column_int64(s, 1);
		r->last_attempt = sqlite3_column_int64(s, 2);
		r->last_error = store_column_strdup(s, 3);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "listing accounts");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
status_folders(struct store *st, struct store_status *out)
{
	sqlite3_stmt *s = store_stmt(st, STMT_Q_FOLDERS,
		"SELECT a.name, f.name, f.uidvalidity, f.last_uid, f.n_exists, f.last_sync,"
		" f.n_messages"
		" FROM folder f JOIN account a ON a.id = f.account_id"
		" ORDER BY a.name, f.name");
	struct store_folder_row *r;
	size_t cap = 0;
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->folders = xreallocarray_grow(out->folders, &cap,
						  out->n_folders + 1, sizeof *r);
		r = &out->folders[out->n_folders++];
		r->account = store_column_strdup(s, 0);
		r->folder = store_column_strdup(s, 1);
		r->uidvalidity = (uint32_t)sqlite3_column_int64(s, 2);
		r->last_uid = (uint32_t)sqlite3_column_int64(s, 3);
		r->exists = (uint32_t)sqlite3_column_int64(s, 4);
		r->last_sync = sqlite3_column_int64(s, 5);
		r->messages = sqlite3_column_int64(s, 6);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "listing folders");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_status_get(struct store *st, struct store_status *out)
{
	bool mine;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (snapshot_begin(st, &mine) < 0)
		return -1;
	if (store_schema_version(st, &out->schema_version) == 0 &&
	    status_counts(st, out) == 0 && status_accounts(st, out) == 0 &&
	    status_folders(st, out) == 0)
		rc = 0;
	snapshot_end(st, mine);
	if (rc < 0)
		store_status_free(out);
	return rc;
}

void
store_status_free(struct store_status *s)
{
	size_t i;

	for (i = 0; i < s->n_accounts; i++) {
		free(s->accounts[i].name);
		free(s->accounts[i].last_error);
	}
	free(s->accounts);
	for (i = 0; i < s->n_folders; i++) {
		free(s->folders[i].account);
		free(s->folders[i].folder);
	}
	free(s->folders);
	memset(s, 0, sizeof *s);
}
