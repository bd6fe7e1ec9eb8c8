/* store_contacts: import, merge and the full view of one contact
 * (store_contacts.h). Exchanges point at addresses, never at contacts, so
 * moving an address moves its history with it. */
#include "store_p.h"
#include "store_contacts.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_rel.h"
#include "xalloc.h"

/* ---- import ---- */

static int
contact_name_fill(struct store *st, int64_t id, const char *name)
{
	sqlite3_stmt *s = store_stmt(st, STMT_K_NAME_FILL,
		"UPDATE contact SET name = ?2 WHERE id = ?1 AND name IS NULL");

	if (!name || !*name)
		return 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, name);
	return store_step_done(st, s, "naming a contact");
}

/* Ensures every address; *owner is the contact of the first one already
 * linked (0 when none), owners[i] the contact of emails[i]. */
static int
import_addresses(struct store *st, const char *name, char *const *emails, size_t n,
		 int64_t *ids, int64_t *owners, int64_t *owner)
{
	*owner = 0;
	for (size_t i = 0; i < n; i++) {
		if (store_address_upsert(st, emails[i], name, false, &ids[i], &owners[i]) < 0)
			return -1;
		if (!*owner)
			*owner = owners[i];
	}
	return 0;
}

int
store_contact_import(struct store *st, const char *name, char *const *emails,
		     size_t n_emails, char *const *tags, size_t n_tags, int64_t now,
		     enum store_import_result *result, int64_t *out_id)
{
	int64_t *ids = xcalloc(n_emails ? n_emails : 1, sizeof *ids);
	int64_t *owners = xcalloc(n_emails ? n_emails : 1, sizeof *owners);
	int64_t id = 0;
	int rc = -1;
	size_t i;

	if (import_addresses(st, name, emails, n_emails, ids, owners, &id) < 0)
		goto out;
	*result = id ? STORE_IMPORT_MERGED : STORE_IMPORT_CREATED;
	if (id ? contact_name_fill(st, id, name) < 0
	       : store_contact_create(st, name, now, &id) < 0)
		goto out;
	for (i = 0; i < n_emails; i++)
		if (!owners[i] && store_address_link(st, ids[i], id) < 0)
			goto out;
	for (i = 0; i < n_tags; i++)
		if (store_contact_tag(st, id, tags[i], true) < 0)
			goto out;
	*out_id = id;
	rc = 0;
out:
	free(ids);
	free(owners);
	return rc;
}

/* ---- merge ---- */

struct merge_step {
	enum store_stmt slot;
	const char *sql;         /* ?1 the contact kept, ?2 the one merged into it */
	const char *what;
	size_t counter;          /* offset in struct store_merge_counts, or -1 */
};

#define COUNTER(f) offsetof(struct store_merge_counts, f)

/* In this order: the exchanges are counted while B still has its
 * addresses; B's row goes last, its leftovers (duplicates) with it. */
static const struct merge_step merge_steps[] = {
	{ STMT_K_MERGE_EXCHANGES,
	  "SELECT count(DISTINCT p.exchange_id) FROM address a"
	  " JOIN participant p ON p.address_id = a.id WHERE a.contact_id = ?2",
	  "counting exchanges", COUNTER(exchanges) },
	{ STMT_K_MERGE_ADDRESSES, "UPDATE address SET contact_id = ?1 WHERE contact_id = ?2",
	  "moving addresses", COUNTER(addresses) },
	{ STMT_K_MERGE_TAGS,
	  "INSERT INTO contact_tag (contact_id, tag, inferred)"
	  " SELECT ?1, tag, inferred FROM contact_tag WHERE contact_id = ?2 AND true"
	  " ON CONFLICT DO UPDATE SET inferred = min(inferred, excluded.inferred)",
	  "moving tags", COUNTER(tags) },
	{ STMT_K_MERGE_FAVOURS, "UPDATE OR IGNORE favour SET contact_id = ?1 WHERE contact_id = ?2",
	  "moving favours", COUNTER(favours) },
	{ STMT_K_MERGE_REF_FROM,
	  "UPDATE OR IGNORE referral SET from_contact = ?1 WHERE from_contact = ?2",
	  "moving referrals", COUNTER(referrals) },
	{ STMT_K_MERGE_REF_TO,
	  "UPDATE OR IGNORE referral SET to_contact = ?1 WHERE to_contact = ?2",
	  "moving referrals", COUNTER(referrals) },
	{ STMT_K_MERGE_MANDATES,
	  "UPDATE OR IGNORE mandate SET client_contact = ?1 WHERE client_contact = ?2",
	  "moving mandates", COUNTER(mandates) },
	{ STMT_K_MERGE_NUDGES, "UPDATE OR IGNORE nudge SET contact_id = ?1 WHERE contact_id = ?2",
	  "moving nudges", COUNTER(nudges) },
	{ STMT_K_MERGE_CONTACT,
	  "UPDATE contact SET (name, cadence_days, language, note) ="
	  " (SELECT coalesce(k.name, b.name), coalesce(k.cadence_days, b.cadence_days),"
	  "  coalesce(k.language, b.language), coalesce(k.note, b.note)"
	  "  FROM contact k, contact b WHERE k.id = ?1 AND b.id = ?2)"
	  " WHERE id = ?1",
	  "merging contact details", (size_t)-1 },
	{ STMT_K_MERGE_DELETE, "DELETE FROM contact WHERE id = ?2 AND ?1 <> ?2",
	  "deleting the merged contact", (size_t)-1 },
};

/* One step: a SELECT gives its count in column 0, a change its changes. */
static int
merge_step_run(struct store *st, const struct merge_step *m, int64_t into, int64_t from,
	       struct store_merge_counts *out)
{
	sqlite3_stmt *s = store_stmt(st, m->slot, m->sql);
	int64_t n;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, into);
	sqlite3_bind_int64(s, 2, from);
	rc = sqlite3_step(s);
	n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : sqlite3_changes(st->db);
	store_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, m->what);
	if (m->counter != (size_t)-1)
		*(int64_t *)(void *)((char *)out + m->counter) += n;
	return 0;
}

int
store_contacts_merge(struct store *st, int64_t into, int64_t from,
		     struct store_merge_counts *out)
{
	size_t i;

	memset(out, 0, sizeof *out);
	if (into == from)
		return 0;
	if (store_begin(st) < 0)
		return -1;
	for (i = 0; i < sizeof merge_steps / sizeof merge_steps[0]; i++)
		if (merge_step_run(st, &merge_steps[i], into, from, out) < 0)
			break;
	if (i < sizeof merge_steps / sizeof merge_steps[0] || store_commit(st) < 0) {
		store_rollback(st);
		return -1;
	}
	/* Address rows changed owner behind ingest's address cache. */
	store_cache_forget(st);
	return 0;
}

/* ---- detail ---- */

static int
detail_contact(struct store *st, struct store_contact_detail *d)
{
	sqlite3_stmt *s = store_stmt(st, STMT_K_SHOW_CONTACT,
		"SELECT name, coalesce(cadence_days, 0), muted,"
		" (SELECT count(*) FROM favour WHERE contact_id = ?1 AND direction = 'given'),"
		" (SELECT count(*) FROM favour WHERE contact_id = ?1 AND direction = 'received'),"
		" (SELECT count(*) FROM referral WHERE from_contact = ?1),"
		" (SELECT count(*) FROM referral WHERE to_contact = ?1)"
		" FROM contact WHERE id = ?1");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, d->id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		d->name = store_column_strdup(s, 0);
		d->cadence_days = sqlite3_column_int64(s, 1);
		d->muted = sqlite3_column_int(s, 2) != 0;
		d->favours_given = sqlite3_column_int64(s, 3);
		d->favours_received = sqlite3_column_int64(s, 4);
		d->referrals_made = sqlite3_column_int64(s, 5);
		d->referrals_received = sqlite3_column_int64(s, 6);
	} else if (rc == SQLITE_DONE) {
		log_error("no contact has id %lld", (long long)d->id);
	} else {
		store_fail(st, "reading a contact");
	}
	store_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Column 0 of every row of s (bound with the contact) as a string list. */
static int
detail_strings(struct store *st, sqlite3_stmt *s, int64_t id, char ***out, size_t *n)
{
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[(*n)++] = store_column_strdup(s, 0);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "reading a contact's addresses or tags");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The person-to-person exchanges of store_query.c's contacts_sql: the
 * contact wrote (in), or the owner wrote to them (out). */
#define CONTACT_EXCHANGES \
	" FROM address a JOIN participant p ON p.address_id = a.id" \
	" JOIN exchange e ON e.id = p.exchange_id" \
	" WHERE a.contact_id = ?1 AND e.automated IS NULL" \
	" AND ((e.direction = 'in' AND p.role = 'from')" \
	"  OR (e.direction = 'out' AND p.role IN ('to', 'cc')))"

static int
detail_counts(struct store *st, struct store_contact_detail *d)
{
	sqlite3_stmt *s = store_stmt(st, STMT_K_SHOW_COUNTS,
		"SELECT count(DISTINCT CASE WHEN e.direction = 'in' THEN e.id END),"
		" count(DISTINCT CASE WHEN e.direction = 'out' THEN e.id END),"
		" coalesce(min(e.date), 0), coalesce(max(e.date), 0)" CONTACT_EXCHANGES);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, d->id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		d->n_in = sqlite3_column_int64(s, 0);
		d->n_out = sqlite3_column_int64(s, 1);
		d->first = sqlite3_column_int64(s, 2);
		d->last = sqlite3_column_int64(s, 3);
	} else {
		store_fail(st, "counting a contact's exchanges");
	}
	store_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
detail_recent(struct store *st, struct store_contact_detail *d)
{
	sqlite3_stmt *s = store_stmt(st, STMT_K_SHOW_RECENT,
		"SELECT DISTINCT e.id, e.date, e.direction = 'out', e.subject" CONTACT_EXCHANGES
		" ORDER BY e.date DESC, e.id DESC LIMIT 10");
	size_t cap = 0;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, d->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_exchange_brief *b;

		d->recent = xreallocarray_grow(d->recent, &cap, d->n_recent + 1, sizeof *d->recent);
		b = &d->recent[d->n_recent++];
		b->date = sqlite3_column_int64(s, 1);
		b->outbound = sqlite3_column_int(s, 2) != 0;
		b->subject = store_column_strdup(s, 3);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "reading a contact's exchanges");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
detail_read(struct store *st, struct store_contact_detail *d)
{
	sqlite3_stmt *emails = store_stmt(st, STMT_K_SHOW_EMAILS,
		"SELECT a.email FROM address a WHERE a.contact_id = ?1"
		" ORDER BY (SELECT count(*) FROM participant p WHERE p.address_id = a.id) DESC,"
		" a.email");
	sqlite3_stmt *tags = store_stmt(st, STMT_K_SHOW_TAGS,
		"SELECT tag FROM contact_tag WHERE contact_id = ?1 ORDER BY tag");

	if (detail_contact(st, d) < 0 ||
	    detail_strings(st, emails, d->id, &d->emails, &d->n_emails) < 0 ||
	    detail_strings(st, tags, d->id, &d->tags, &d->n_tags) < 0 ||
	    detail_counts(st, d) < 0)
		return -1;
	return detail_recent(st, d);
}

int
store_contact_detail(struct store *st, int64_t id, struct store_contact_detail *out)
{
	bool mine = sqlite3_get_autocommit(st->db);
	int rc;

	memset(out, 0, sizeof *out);
	out->id = id;
	/* One snapshot, so a daemon committing meanwhile cannot make the
	 * counts disagree with the list of exchanges. */
	if (mine && sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "starting a read");
	rc = detail_read(st, out);
	if (mine && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc < 0)
		store_contact_detail_free(out);
	return rc;
}

void
store_contact_detail_free(struct store_contact_detail *d)
{
	size_t i;

	free(d->name);
	for (i = 0; i < d->n_emails; i++)
		free(d->emails[i]);
	free(d->emails);
	for (i = 0; i < d->n_tags; i++)
		free(d->tags[i]);
	free(d->tags);
	for (i = 0; i < d->n_recent; i++)
		free(d->recent[i].subject);
	free(d->recent);
	memset(d, 0, sizeof *d);
}
