/* store_rel: the relationship side of the store (store_rel.h): resolving
 * what the owner typed to a contact, tags, mute and cadence, referrals,
 * mandates, favours, nudges as the owner acts on them, and one contact's
 * timeline. The engine (relate.c, rules.c) writes through the same calls;
 * its own queries live with it. Mail-derived rows are unique per message
 * (schema v2), so every insert here is "add unless already there". */
#include "store_p.h"
#include "store_rel.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "log.h"
#include "timeutil.h"
#include "xalloc.h"

#define LABEL(c) STORE_SQL_LABEL(c)
#define PRIMARY_EMAIL(c) STORE_SQL_EMAIL(c)

/* ---- helpers ---- */

typedef void row_read_fn(sqlite3_stmt *s, void *row);

/* Steps s (bound by the caller) and appends one row of sz bytes per result,
 * filled by read; on failure frees nothing (the caller's *_free does). */
static int
rows_collect(struct store *st, sqlite3_stmt *s, const char *what, row_read_fn *read,
	     size_t sz, void **out, size_t *n)
{
	size_t cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray_grow(*out, &cap, *n + 1, sz);
		memset((char *)*out + *n * sz, 0, sz);
		read(s, (char *)*out + *n * sz);
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		store_fail(st, what);
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}


/* Steps an UPDATE that must touch one row; -1 (logged) when none was. */
static int
step_one_change(struct store *st, sqlite3_stmt *s, const char *what, const char *none)
{
	if (store_step_done(st, s, what) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		log_error("%s", none);
		return -1;
	}
	return 0;
}

static bool
str_in(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* ---- contacts ---- */

/* ASCII spelling of the Latin-1 letters U+00C0..U+00FF, lower case. */
static const char *const fold_latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Lower case without accents, runs of blanks and hyphens as one space, so
 * "amelie" finds "Amélie" and "jean philippe" finds "Jean-Philippe".
 * Newly allocated. */
static char *
name_fold(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf b = { 0 };

	while (*p == ' ')
		p++;
	for (; *p; p++) {
		if (p[0] == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf && fold_latin1[p[1] - 0x80]) {
			buf_adds(&b, fold_latin1[p[1] - 0x80]);
			p++;
		} else if (p[0] == 0xc5 && (p[1] == 0x92 || p[1] == 0x93)) {
			buf_adds(&b, "oe");
			p++;
		} else if (isspace(*p) || *p == '-') {
			if (b.len && b.data[b.len - 1] != ' ')
				buf_addc(&b, ' ');
		} else {
			buf_addc(&b, (char)tolower(*p));
		}
	}
	while (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	return buf_steal(&b);
}

/* How well a folded name matches a folded query: 3 equal, 2 the query is
 * whole words at its start (a first name), 1 a prefix, 0 not at all. */
static int
name_match(const char *name, const char *q)
{
	size_t n = strlen(q);

	if (strncmp(name, q, n) != 0)
		return 0;
	if (name[n] == '\0')
		return 3;
	return name[n] == ' ' ? 2 : 1;
}

struct resolve {
	int best;                /* match level of the candidates kept */
	int64_t *ids;
	char **names;
	size_t n, cap;
};

static void
resolve_offer(struct resolve *r, int level, int64_t id, const char *name)
{
	size_t i;

	if (level == 0 || level < r->best)
		return;
	if (level > r->best) {
		for (i = 0; i < r->n; i++)
			free(r->names[i]);
		r->n = 0;
		r->best = level;
	}
	r->ids = xreallocarray_grow(r->ids, &r->cap, r->n + 1, sizeof *r->ids);
	r->names = xrealloc(r->names, r->cap * sizeof *r->names);
	r->ids[r->n] = id;
	r->names[r->n++] = xstrdup(name);
}

static char *
resolve_ambiguity(const char *query, const struct resolve *r)
{
	struct buf b = { 0 };
	size_t i;

	buf_printf(&b, "%s matches %zu contacts: ", query, r->n);
	for (i = 0; i < r->n && i < 5; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", r->names[i]);
	if (r->n > 5)
		buf_adds(&b, ", ...");
	buf_adds(&b, "; be more precise");
	return buf_steal(&b);
}

static int
resolve_by_name(struct store *st, const char *query, int64_t *id, char **err)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_CONTACT_NAMES,
		"SELECT c.id, coalesce(c.name, (SELECT a.name FROM address a"
		"  WHERE a.contact_id = c.id AND a.name IS NOT NULL ORDER BY a.id LIMIT 1))"
		" FROM contact c ORDER BY c.id");
	struct resolve r = { 0 };
	char *q = name_fold(query), *f;
	const char *name;
	size_t i;
	int rc = SQLITE_DONE;

	if (!s) {
		free(q);
		return -1;
	}
	while (*q && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(name = (const char *)sqlite3_column_text(s, 1)))
			continue;
		f = name_fold(name);
		resolve_offer(&r, name_match(f, q), sqlite3_column_int64(s, 0), name);
		free(f);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "finding a contact by name");
	store_reset(s);
	if (rc != SQLITE_DONE)
		*err = xasprintf("cannot read the contacts; see the error above");
	else if (r.n == 1)
		*id = r.ids[0];
	else if (r.n == 0)
		*err = xasprintf("no contact matches %s", query);
	else
		*err = resolve_ambiguity(query, &r);
	rc = rc == SQLITE_DONE && r.n == 1 ? 0 : -1;
	for (i = 0; i < r.n; i++)
		free(r.names[i]);
	free(r.names);
	free(r.ids);
	free(q);
	return rc;
}

static int
resolve_by_id(struct store *st, const char *query, int64_t *id, char **err)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_CONTACT_ID, "SELECT id FROM contact WHERE id = ?1");
	bool found;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, strtoll(query, NULL, 10));
	if (store_step_id(st, s, "finding a contact", id, &found) < 0)
		return -1;
	if (!found)
		*err = xasprintf("no contact has id %s; see `merci contacts`", query);
	return found ? 0 : -1;
}

static int
resolve_by_address(struct store *st, const char *query, int64_t *id, char **err)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_CONTACT_ADDRESS,
		"SELECT contact_id FROM address WHERE email = ?1 AND contact_id IS NOT NULL");
	char *email = address_normalise(query, false);
	bool found = false;
	int rc = 0;

	if (!s)
		rc = -1;
	else if (email) {
		store_bind_text(s, 1, email);
		rc = store_step_id(st, s, "finding an address", id, &found);
	}
	free(email);
	if (rc < 0)
		*err = xasprintf("cannot read the addresses; see the error above");
	else if (!found)
		*err = xasprintf("no contact matches %s", query);
	return found ? 0 : -1;
}

int
store_contact_resolve(struct store *st, const char *query, int64_t *id, char **err)
{
	size_t n = strspn(query, "0123456789");

	*id = 0;
	*err = NULL;
	if (n > 0 && query[n] == '\0' && n < 19)
		return resolve_by_id(st, query, id, err);
	if (strchr(query, '@'))
		return resolve_by_address(st, query, id, err);
	return resolve_by_name(st, query, id, err);
}

int
store_contact_tag(struct store *st, int64_t contact_id, const char *tag, bool add)
{
	sqlite3_stmt *s = add
		? store_stmt(st, STMT_R_TAG_ADD,
			"INSERT INTO contact_tag (contact_id, tag) VALUES (?1, lower(?2))"
			" ON CONFLICT DO UPDATE SET inferred = 0")
		: store_stmt(st, STMT_R_TAG_DEL,
			"DELETE FROM contact_tag WHERE contact_id = ?1 AND tag = lower(?2)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	store_bind_text(s, 2, tag);
	return store_step_done(st, s, add ? "tagging a contact" : "untagging a contact");
}

int
store_contact_mute(struct store *st, int64_t contact_id, bool muted)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_MUTE,
		"UPDATE contact SET muted = ?2 WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	sqlite3_bind_int(s, 2, muted);
	return step_one_change(st, s, "muting a contact", "no such contact");
}

int
store_contact_cadence(struct store *st, int64_t contact_id, int64_t seconds)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_CADENCE,
		"UPDATE contact SET cadence_days = ?2 WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	/* The column counts days: round up, so "36h" never becomes 1 day. */
	if (seconds > 0)
		sqlite3_bind_int64(s, 2, (seconds + 86399) / 86400);
	else
		sqlite3_bind_null(s, 2);
	return step_one_change(st, s, "setting a cadence", "no such contact");
}

/* ---- referrals ---- */

static void
referral_read(sqlite3_stmt *s, void *row)
{
	struct store_referral_row *r = row;

	r->id = sqlite3_column_int64(s, 0);
	r->kind = store_column_strdup(s, 1);
	r->direction = store_column_strdup(s, 2);
	r->from_id = sqlite3_column_int64(s, 3);
	r->from_name = store_column_strdup(s, 4);
	r->to_id = sqlite3_column_int64(s, 5);
	r->to_name = store_column_strdup(s, 6);
	r->date = sqlite3_column_int64(s, 7);
	r->evidence = store_column_strdup(s, 8);
	r->thanked_at = sqlite3_column_int64(s, 9);
	r->mandate_id = sqlite3_column_int64(s, 10);
}

int
store_referrals_list(struct store *st, struct store_referral_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_REFERRALS,
		"SELECT r.id, r.kind, r.direction, coalesce(r.from_contact, 0), " LABEL("f") ","
		" coalesce(r.to_contact, 0), " LABEL("t") ", r.date, r.evidence, r.thanked_at,"
		" coalesce((SELECT max(m.id) FROM mandate m WHERE m.referral_id = r.id"
		"  AND m.state <> 'refused'), 0)"
		" FROM referral r LEFT JOIN contact f ON f.id = r.from_contact"
		" LEFT JOIN contact t ON t.id = r.to_contact"
		" ORDER BY r.date DESC, r.id DESC");

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	if (rows_collect(st, s, "listing referrals", referral_read, sizeof **out,
			 (void **)out, n) < 0) {
		store_referral_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
store_referral_rows_free(struct store_referral_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].direction);
		free(v[i].from_name);
		free(v[i].to_name);
		free(v[i].evidence);
	}
	free(v);
}

/* The row a conflicting mail-derived insert met. */
static int
referral_find(struct store *st, const char *kind, const char *direction, int64_t from_id,
	      int64_t to_id, int64_t exchange_id, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_REFERRAL_FIND,
		"SELECT id FROM referral WHERE kind = ?1 AND direction = ?2"
		" AND coalesce(from_contact, 0) = ?3 AND coalesce(to_contact, 0) = ?4"
		" AND exchange_id = ?5");
	bool found;

	if (!s)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, direction);
	sqlite3_bind_int64(s, 3, from_id);
	sqlite3_bind_int64(s, 4, to_id);
	sqlite3_bind_int64(s, 5, exchange_id);
	return store_step_id(st, s, "finding a referral", out_id, &found);
}

int
store_referral_add(struct store *st, const char *kind, const char *direction,
		   int64_t from_id, int64_t to_id, int64_t exchange_id, int64_t date,
		   const char *evidence, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_REFERRAL_ADD,
		"INSERT INTO referral (kind, direction, from_contact, to_contact,"
		" exchange_id, date, evidence, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		" ON CONFLICT DO NOTHING RETURNING id");
	int64_t id = 0;
	bool found;

	if (!s)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, direction);
	store_bind_id(s, 3, from_id);
	store_bind_id(s, 4, to_id);
	store_bind_id(s, 5, exchange_id);
	sqlite3_bind_int64(s, 6, date);
	store_bind_text(s, 7, evidence);
	sqlite3_bind_int64(s, 8, time_now());
	if (store_step_id(st, s, "adding a referral", &id, &found) < 0)
		return -1;
	if (!found && referral_find(st, kind, direction, from_id, to_id, exchange_id, &id) < 0)
		return -1;
	if (out_id)
		*out_id = id;
	return 0;
}

/* ---- mandates ---- */

static void
mandate_read(sqlite3_stmt *s, void *row)
{
	struct store_mandate_row *r = row;

	r->id = sqlite3_column_int64(s, 0);
	r->client_id = sqlite3_column_int64(s, 1);
	r->client_name = store_column_strdup(s, 2);
	r->state = store_column_strdup(s, 3);
	r->title = store_column_strdup(s, 4);
	r->start = sqlite3_column_int64(s, 5);
	r->end = sqlite3_column_int64(s, 6);
	r->referral_id = sqlite3_column_int64(s, 7);
	r->referrer_name = store_column_strdup(s, 8);
	r->evidence = store_column_strdup(s, 9);
	r->created_at = sqlite3_column_int64(s, 10);
}

int
store_mandates_list(struct store *st, struct store_mandate_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_MANDATES,
		"SELECT m.id, m.client_contact, " LABEL("c") ", m.state, m.title,"
		" m.start_at, m.end_at, coalesce(m.referral_id, 0), " LABEL("f") ","
		" m.evidence, m.created_at"
		" FROM mandate m JOIN contact c ON c.id = m.client_contact"
		" LEFT JOIN referral r ON r.id = m.referral_id"
		" LEFT JOIN contact f ON f.id = r.from_contact"
		" ORDER BY coalesce(nullif(m.start_at, 0), m.created_at) DESC, m.id DESC");

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	if (rows_collect(st, s, "listing mandates", mandate_read, sizeof **out,
			 (void **)out, n) < 0) {
		store_mandate_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
store_mandate_rows_free(struct store_mandate_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].client_name);
		free(v[i].state);
		free(v[i].title);
		free(v[i].referrer_name);
		free(v[i].evidence);
	}
	free(v);
}

/* The referral a client came from: the newest one that introduced or
 * mentioned them to the owner. SQL shared by add and confirm. */
#define REFERRAL_OF_CLIENT(client) \
	"(SELECT r.id FROM referral r WHERE r.to_contact = " client \
	" AND r.direction = 'received' AND r.kind IN ('introduction', 'mention', 'manual')" \
	" ORDER BY r.date DESC, r.id DESC LIMIT 1)"

int
store_mandate_add(struct store *st, int64_t client_id, const char *title,
		  int64_t start, int64_t end, int64_t referral_id, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_MANDATE_ADD,
		"INSERT INTO mandate (client_contact, referral_id, state, title, start_at,"
		" end_at, created_at, confirmed_at)"
		" VALUES (?1, coalesce(?2, " REFERRAL_OF_CLIENT("?1") "), 'confirmed',"
		" ?3, ?4, ?5, ?6, ?6)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, client_id);
	store_bind_id(s, 2, referral_id);
	store_bind_text(s, 3, title);
	sqlite3_bind_int64(s, 4, start);
	sqlite3_bind_int64(s, 5, end);
	sqlite3_bind_int64(s, 6, time_now());
	if (store_step_done(st, s, "adding a mandate") < 0)
		return -1;
	if (out_id)
		*out_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_mandate_set_state(struct store *st, int64_t id, const char *state, int64_t when)
{
	static const char *const states[] = { "confirmed", "refused", "ended", NULL };
	/* Confirming credits the referrer (thank-you rule) from confirmed_at;
	 * ending a mandate never confirmed still means it was real. */
	sqlite3_stmt *s = store_stmt(st, STMT_R_MANDATE_STATE,
		"UPDATE mandate SET state = ?2,"
		" confirmed_at = CASE WHEN ?2 <> 'refused' AND confirmed_at = 0"
		"  THEN ?3 ELSE confirmed_at END,"
		" start_at = CASE WHEN ?2 = 'confirmed' AND start_at = 0"
		"  THEN ?3 ELSE start_at END,"
		" end_at = CASE WHEN ?2 = 'ended' THEN ?3 ELSE end_at END,"
		" referral_id = CASE WHEN ?2 <> 'refused' AND referral_id IS NULL"
		"  THEN " REFERRAL_OF_CLIENT("mandate.client_contact") " ELSE referral_id END"
		" WHERE id = ?1");

	if (!str_in(state, states)) {
		log_error("mandate state \"%s\": use confirmed, refused or ended",
			  state ? state : "");
		return -1;
	}
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, when ? when : time_now());
	return step_one_change(st, s, "changing a mandate", "no such mandate");
}

/* ---- favours ---- */

static void
favour_read(sqlite3_stmt *s, void *row)
{
	struct store_favour_row *r = row;

	r->id = sqlite3_column_int64(s, 0);
	r->contact_id = sqlite3_column_int64(s, 1);
	r->contact_name = store_column_strdup(s, 2);
	r->direction = store_column_strdup(s, 3);
	r->kind = store_column_strdup(s, 4);
	r->date = sqlite3_column_int64(s, 5);
	r->source = store_column_strdup(s, 6);
	r->note = store_column_strdup(s, 7);
}

int
store_favours_list(struct store *st, struct store_favour_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_FAVOURS,
		"SELECT f.id, f.contact_id, " LABEL("c") ", f.direction, f.kind, f.date,"
		" f.source, f.note FROM favour f JOIN contact c ON c.id = f.contact_id"
		" ORDER BY f.date DESC, f.id DESC");

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	if (rows_collect(st, s, "listing favours", favour_read, sizeof **out,
			 (void **)out, n) < 0) {
		store_favour_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
store_favour_rows_free(struct store_favour_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].contact_name);
		free(v[i].direction);
		free(v[i].kind);
		free(v[i].source);
		free(v[i].note);
	}
	free(v);
}

int
store_favour_add_referral(struct store *st, int64_t contact_id, const char *direction,
			  const char *kind, int64_t date, const char *source, const char *note,
			  int64_t exchange_id, int64_t referral_id, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_FAVOUR_ADD,
		"INSERT INTO favour (contact_id, direction, kind, date, source, note,"
		" exchange_id, referral_id, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		" ON CONFLICT DO NOTHING RETURNING id");
	int64_t id = 0;
	bool found;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	store_bind_text(s, 2, direction);
	store_bind_text(s, 3, kind);
	sqlite3_bind_int64(s, 4, date);
	store_bind_text(s, 5, source ? source : "manual");
	store_bind_text(s, 6, note);
	store_bind_id(s, 7, exchange_id);
	store_bind_id(s, 8, referral_id);
	sqlite3_bind_int64(s, 9, time_now());
	if (store_step_id(st, s, "adding a favour", &id, &found) < 0)
		return -1;
	if (out_id)
		*out_id = id;   /* 0: this message had already recorded it */
	return 0;
}

int
store_favour_add(struct store *st, int64_t contact_id, const char *direction,
		 const char *kind, int64_t date, const char *source, const char *note,
		 int64_t exchange_id, int64_t *out_id)
{
	return store_favour_add_referral(st, contact_id, direction, kind, date, source,
					 note, exchange_id, 0, out_id);
}

/* ---- nudges ---- */

static void
nudge_read(sqlite3_stmt *s, void *row)
{
	struct store_nudge_row *r = row;

	r->id = sqlite3_column_int64(s, 0);
	r->kind = store_column_strdup(s, 1);
	r->state = store_column_strdup(s, 2);
	r->due = sqlite3_column_int64(s, 3);
	r->snooze_until = sqlite3_column_int64(s, 4);
	r->evidence = store_column_strdup(s, 5);
	r->contact_id = sqlite3_column_int64(s, 6);
	r->contact_name = store_column_strdup(s, 7);
	r->contact_email = store_column_strdup(s, 8);
	r->created_at = sqlite3_column_int64(s, 9);
	r->updated_at = sqlite3_column_int64(s, 10);
}

int
store_nudges_list(struct store *st, bool all, struct store_nudge_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_NUDGES,
		"SELECT n.id, n.kind, n.state, n.due, n.snooze_until, n.evidence,"
		" coalesce(n.contact_id, 0), " LABEL("c") ", " PRIMARY_EMAIL("c") ","
		" n.created_at, n.updated_at"
		" FROM nudge n LEFT JOIN contact c ON c.id = n.contact_id"
		" WHERE ?1 OR n.state IN ('pending', 'sent', 'snoozed')"
		" ORDER BY n.due, n.id");

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, all);
	if (rows_collect(st, s, "listing nudges", nudge_read, sizeof **out,
			 (void **)out, n) < 0) {
		store_nudge_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
store_nudge_rows_free(struct store_nudge_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].state);
		free(v[i].evidence);
		free(v[i].contact_name);
		free(v[i].contact_email);
	}
	free(v);
}

int
store_nudge_set_state(struct store *st, int64_t id, const char *state, int64_t until, int64_t now)
{
	/* "sent" and "pending" are the daemon's (outbox, wake-up), the rest the owner's. */
	static const char *const states[] = {
		"done", "dismissed", "snoozed", "sent", "pending", NULL,
	};
	sqlite3_stmt *s = store_stmt(st, STMT_R_NUDGE_STATE,
		"UPDATE nudge SET state = ?2, updated_at = ?4,"
		" snooze_until = CASE WHEN ?2 = 'snoozed' THEN ?3 ELSE 0 END,"
		" sent_at = CASE WHEN ?2 = 'sent' THEN ?4 ELSE sent_at END,"
		" resolved_at = CASE WHEN ?2 IN ('done', 'dismissed') THEN ?4"
		"  ELSE resolved_at END"
		" WHERE id = ?1");

	if (!str_in(state, states) || (strcmp(state, "snoozed") == 0 && until <= now)) {
		log_error("nudge state \"%s\": use done, dismissed, or snoozed with a "
			  "time in the future", state ? state : "");
		return -1;
	}
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, until);
	sqlite3_bind_int64(s, 4, now);
	return step_one_change(st, s, "changing a nudge", "no such nudge");
}

/* ---- timeline ---- */

static void
timeline_read(sqlite3_stmt *s, void *row)
{
	struct store_timeline_row *r = row;

	r->date = sqlite3_column_int64(s, 0);
	r->what = store_column_strdup(s, 1);
	r->text = store_column_strdup(s, 2);
}

int
store_timeline(struct store *st, int64_t contact_id, struct store_timeline_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_R_TIMELINE,
		"SELECT e.date, CASE e.direction WHEN 'in' THEN 'received' ELSE 'sent' END,"
		"  coalesce(e.subject, '')"
		" FROM exchange e WHERE e.id IN (SELECT p.exchange_id FROM address a"
		"  JOIN participant p ON p.address_id = a.id WHERE a.contact_id = ?1)"
		" UNION ALL SELECT r.date, 'referral', r.kind || ' ' || r.direction"
		"  || coalesce(': ' || r.evidence, '')"
		" FROM referral r WHERE r.from_contact = ?1 OR r.to_contact = ?1"
		" UNION ALL SELECT coalesce(nullif(m.start_at, 0), m.created_at), 'mandate',"
		"  m.state || coalesce(': ' || coalesce(m.title, m.evidence), '')"
		" FROM mandate m WHERE m.client_contact = ?1"
		" UNION ALL SELECT f.date, 'favour', f.kind || ' ' || f.direction"
		"  || coalesce(': ' || f.note, '')"
		" FROM favour f WHERE f.contact_id = ?1"
		" UNION ALL SELECT n.due, 'nudge', n.kind || ' (' || n.state || '): ' || n.evidence"
		" FROM nudge n WHERE n.contact_id = ?1"
		" ORDER BY 1 DESC, 2");

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	if (rows_collect(st, s, "reading a timeline", timeline_read, sizeof **out,
			 (void **)out, n) < 0) {
		store_timeline_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void
store_timeline_rows_free(struct store_timeline_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].what);
		free(v[i].text);
	}
	free(v);
}
