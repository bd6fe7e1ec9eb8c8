/* rules: which nudges exist and when they are due (rules.h).
 *
 * Each run computes, for every kind, the set of conditions that hold now
 * (each named by its dedupe key, whether due yet or not), creates the
 * nudges of those that are due, and marks "resolved" every open nudge whose
 * key is no longer in the set: the condition cleared by itself (a reply
 * came, a thank-you was written, a favour was returned, a newer exchange
 * replaced the one a keep-in-touch counted from). A nudge the owner closed
 * stays closed: its key is unique, so it is never created again.
 *
 * Days for the keep-in-touch cap are UTC days; evidence dates are local. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "config.h"
#include "rules_summary.h"
#include "store_p.h"
#include "xalloc.h"

#define DAY 86400
#define LABEL(c) STORE_SQL_LABEL(c)
/* Where the first sync window of an exchange's account starts: :win is a
 * JSON object {"account id": start} built by rules_windows. */
#define IN_WINDOW(date, acc) RULES_SQL_IN_WINDOW(date, acc)
/* The owner wrote to contact cid (To/Cc, person-to-person) after time t:
 * the newest such mail is in the contact's sums (rules_summary.h). */
#define WROTE_AFTER(cid, t) \
	"EXISTS (SELECT 1 FROM rules_contact wc WHERE wc.contact_id = " cid \
	" AND wc.last_out > " t ")"

enum rules_delay { DELAY_THANK, DELAY_FOLLOW, DELAY_KEEP };

struct rules;

struct rules_nudge {
	const char *kind;
	char *key;
	int64_t contact, referral, mandate, exchange, favour;
	int64_t due;
	bool pushed;               /* keep-in-touch moved to a later day by the cap */
	bool exists;               /* its nudge is known to exist: nothing to write */
	char *evidence;
	/* Evidence that takes queries is written only for a nudge about to be
	 * created (evidence NULL until then): most conditions that hold
	 * already have their nudge, and evidence is never rewritten. */
	int (*explain)(struct rules *, struct rules_nudge *);
	int64_t date;              /* for explain */
	char *arg;
};

struct rules {
	struct store *st;
	const struct config *cfg;
	int64_t now;
	bool en;                   /* evidence in English */
	char *windows;             /* JSON for :win */
	char *fingerprint;         /* the windows of the accounts with mail */
	struct rules_nudge *v;     /* the conditions that hold now */
	size_t n, cap;
};

/* ---- helpers ---- */

static void
bind_window(struct rules *r, sqlite3_stmt *s)
{
	int i = sqlite3_bind_parameter_index(s, ":win");

	if (i)
		sqlite3_bind_text(s, i, r->windows, -1, SQLITE_STATIC);
}

/* Ends a row loop: logs a failure, resets s; 0 or -1. */
static int
rows_end(struct rules *r, sqlite3_stmt *s, int rc, const char *what)
{
	if (rc != SQLITE_DONE)
		store_fail(r->st, what);
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "?";
}

/* "7 sept." / "7 Sep", in local time. */
static const char *
day_fmt(const struct rules *r, int64_t t, char *buf, size_t len)
{
	static const char *const fr[] = { "janv.", "févr.", "mars", "avr.", "mai", "juin",
		"juil.", "août", "sept.", "oct.", "nov.", "déc." };
	static const char *const en[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	snprintf(buf, len, "%d %s", tm.tm_mday, r->en ? en[tm.tm_mon] : fr[tm.tm_mon]);
	return buf;
}

static struct rules_nudge *
rules_add(struct rules *r, const char *kind, int64_t contact, int64_t due, char *key,
	  char *evidence)
{
	struct rules_nudge *n;

	r->v = xreallocarray_grow(r->v, &r->cap, r->n + 1, sizeof *r->v);
	n = &r->v[r->n++];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->contact = contact;
	n->due = due;
	n->key = key;
	n->evidence = evidence;
	return n;
}

/* The delay of a contact: its own cadence (keep-in-touch), else the
 * shortest one of its tags' [tag NAME] sections, else [nudges]. */
static int
rules_delay(struct rules *r, int64_t contact, int64_t cadence_days, enum rules_delay which,
	    int64_t *out)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_CONTACT_TAGS,
		"SELECT tag FROM contact_tag WHERE contact_id = ?1");
	const struct config_nudges *nd = &r->cfg->nudges;
	const struct config_tag *t;
	int64_t best = 0, v;
	int rc;

	*out = which == DELAY_THANK ? nd->thank_after :
	       which == DELAY_FOLLOW ? nd->follow_up_after : nd->keep_in_touch;
	if (which == DELAY_KEEP && cadence_days > 0) {
		*out = cadence_days * DAY;
		return 0;
	}
	if (r->cfg->n_tags == 0)
		return 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(t = config_tag_find(r->cfg, col_text(s, 0))))
			continue;
		v = which == DELAY_THANK ? t->thank_after :
		    which == DELAY_FOLLOW ? t->follow_up_after : t->keep_in_touch;
		if (v > 0 && (best == 0 || v < best))
			best = v;
	}
	if (best)
		*out = best;
	return rows_end(r, s, rc, "reading contact tags");
}

/* {"account id": start of its window}: events before the account's first
 * sync minus its first_sync_window never fire. */
static int
rules_windows(struct rules *r)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_ACCOUNTS,
		"SELECT id, name, first_sync_at FROM account ORDER BY id");
	struct buf b = { 0 }, f = { 0 };
	int64_t window, first;
	const char *name;
	size_t i;
	int rc;

	if (!s)
		return -1;
	buf_addc(&b, '{');
	buf_addc(&f, '{');
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = col_text(s, 1);
		window = (int64_t)180 * DAY;
		for (i = 0; i < r->cfg->n_accounts; i++)
			if (strcmp(r->cfg->accounts[i].name, name) == 0)
				window = r->cfg->accounts[i].first_sync_window;
		first = sqlite3_column_int64(s, 2);
		buf_printf(&b, "%s\"%lld\":%lld", b.len > 1 ? "," : "",
			   (long long)sqlite3_column_int64(s, 0),
			   (long long)((first ? first : r->now) - window));
		/* An account without a first sync has no mail: its window,
		 * counted from now, moves every run and concerns nothing. */
		if (first)
			buf_printf(&f, "%s\"%lld\":%lld", f.len > 1 ? "," : "",
				   (long long)sqlite3_column_int64(s, 0),
				   (long long)(first - window));
	}
	buf_addc(&b, '}');
	buf_addc(&f, '}');
	r->windows = buf_steal(&b);
	r->fingerprint = buf_steal(&f);
	return rows_end(r, s, rc, "reading accounts");
}

/* ---- thank-you ---- */

static char *
thank_evidence(const struct rules *r, const char *kind, const char *from, const char *to,
	       int64_t date)
{
	char d[32];

	day_fmt(r, date, d, sizeof d);
	if (strcmp(kind, "introduction") == 0 && to)
		return r->en ? xasprintf("%s introduced you to %s on %s", from, to, d)
			     : xasprintf("%s vous a présenté %s le %s", from, to, d);
	if (strcmp(kind, "mention") == 0 && to)
		return r->en ? xasprintf("%s sent %s your way on %s", from, to, d)
			     : xasprintf("%s vous a recommandé à %s le %s", from, to, d);
	if (strcmp(kind, "lead") == 0)
		return r->en ? xasprintf("%s passed on your name on %s", from, d)
			     : xasprintf("%s a transmis votre nom le %s", from, d);
	return r->en ? xasprintf("%s referred you on %s", from, d)
		     : xasprintf("%s vous a recommandé le %s", from, d);
}

/* A referral received and not thanked: one nudge per referrer and message
 * (an introduction to two people is one thank-you). */
static int
rules_thank_referrals(struct rules *r)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_THANK,
		"SELECT min(rf.id), rf.from_contact, rf.kind, rf.date, " LABEL("f") ","
		" group_concat(" LABEL("t") ", ', ')"
		" FROM referral rf JOIN contact f ON f.id = rf.from_contact"
		" LEFT JOIN contact t ON t.id = rf.to_contact"
		" LEFT JOIN exchange e ON e.id = rf.exchange_id"
		" WHERE rf.direction = 'received' AND rf.thanked_at = 0 AND f.muted = 0"
		" AND (e.id IS NULL OR (e.automated IS NULL AND "
		IN_WINDOW("e.date", "e.account_id") "))"
		" AND NOT " WROTE_AFTER("rf.from_contact", "rf.date")
		" GROUP BY rf.from_contact, coalesce(rf.exchange_id, -rf.id)"
		" ORDER BY 1");
	struct rules_nudge *n;
	int64_t from, delay, date;
	int rc;

	if (!s)
		return -1;
	bind_window(r, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		from = sqlite3_column_int64(s, 1);
		date = sqlite3_column_int64(s, 3);
		if (rules_delay(r, from, 0, DELAY_THANK, &delay) < 0)
			break;
		n = rules_add(r, "thank-you", from, date + delay,
			      xasprintf("thank-you:referral:%lld",
					(long long)sqlite3_column_int64(s, 0)),
			      thank_evidence(r, col_text(s, 2), col_text(s, 4),
					     (const char *)sqlite3_column_text(s, 5), date));
		n->referral = sqlite3_column_int64(s, 0);
	}
	return rows_end(r, s, rc, "finding referrals to thank");
}

/* A confirmed mandate that came through a referral credits the referrer
 * again, counted from the confirmation. */
static int
rules_thank_mandates(struct rules *r)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_THANK_MANDATE,
		"SELECT m.id, rf.from_contact, m.confirmed_at, " LABEL("f") ", " LABEL("c")
		" FROM mandate m JOIN referral rf ON rf.id = m.referral_id"
		" JOIN contact f ON f.id = rf.from_contact"
		" JOIN contact c ON c.id = m.client_contact"
		" WHERE m.state IN ('confirmed', 'ended') AND m.confirmed_at > 0"
		" AND f.muted = 0 AND NOT " WROTE_AFTER("rf.from_contact", "m.confirmed_at")
		" ORDER BY m.id");
	struct rules_nudge *n;
	int64_t from, delay, at;
	char d[32];
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		from = sqlite3_column_int64(s, 1);
		at = sqlite3_column_int64(s, 2);
		if (rules_delay(r, from, 0, DELAY_THANK, &delay) < 0)
			break;
		day_fmt(r, at, d, sizeof d);
		n = rules_add(r, "thank-you", from, at + delay,
			      xasprintf("thank-you:mandate:%lld",
					(long long)sqlite3_column_int64(s, 0)),
			      r->en ? xasprintf("The mandate with %s, who came through %s, "
						"was confirmed on %s", col_text(s, 4),
						col_text(s, 3), d)
				    : xasprintf("Le mandat avec %s, venu par %s, est confirmé "
						"depuis le %s", col_text(s, 4), col_text(s, 3), d));
		n->mandate = sqlite3_column_int64(s, 0);
	}
	return rows_end(r, s, rc, "finding mandates to thank for");
}

/* ---- reciprocity ---- */

static const char *
favour_word(const struct rules *r, const char *kind)
{
	static const char *const kinds[] = { "referral", "introduction", "lead",
		"recommendation", "help" };
	static const char *const fr[] = { "recommandation", "présentation", "piste",
		"recommandation", "coup de main" };
	size_t i;

	for (i = 0; i < 5; i++)
		if (strcmp(kind, kinds[i]) == 0)
			return r->en ? kind : fr[i];
	return kind;
}

/* One concrete way to return the favour: someone of the owner's network
 * sharing a tag (or a company domain) with the contact, else a recent
 * request of theirs, else a question to ask. Newly allocated. */
static char *
reciprocity_hint(struct rules *r, int64_t contact)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_SUGGEST,
		"SELECT " LABEL("c2") " FROM contact c2 WHERE c2.id <> ?1 AND c2.muted = 0"
		" AND (EXISTS (SELECT 1 FROM contact_tag t1 JOIN contact_tag t2"
		"   ON t2.tag = t1.tag AND t2.contact_id = c2.id"
		"   WHERE t1.contact_id = ?1 AND t1.tag <> 'prospect')"
		"  OR EXISTS (SELECT 1 FROM address a1 JOIN address a2"
		"   ON a2.contact_id = c2.id AND substr(a2.email, instr(a2.email, '@'))"
		"    = substr(a1.email, instr(a1.email, '@'))"
		"   WHERE a1.contact_id = ?1 AND substr(a1.email, instr(a1.email, '@') + 1)"
		"    NOT IN ('gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com',"
		"     'hotmail.fr', 'live.com', 'yahoo.com', 'yahoo.fr', 'yahoo.ca', 'icloud.com',"
		"     'me.com', 'proton.me', 'protonmail.com', 'gmx.com', 'gmx.fr', 'free.fr',"
		"     'orange.fr', 'laposte.net', 'videotron.ca', 'sympatico.ca', 'bell.net')))"
		" ORDER BY EXISTS (SELECT 1 FROM contact_tag t3 WHERE t3.contact_id = c2.id"
		"  AND t3.tag IN ('client', 'partner', 'referrer')) DESC, c2.id LIMIT 1");
	sqlite3_stmt *q = store_stmt(r->st, STMT_U_REQUEST,
		"SELECT e.subject FROM address a JOIN participant p ON p.address_id = a.id"
		" AND p.role = 'from' JOIN exchange e ON e.id = p.exchange_id"
		" WHERE a.contact_id = ?1 AND e.direction = 'in' AND e.expects_answer = 1"
		" AND e.automated IS NULL AND e.date BETWEEN ?2 AND ?3"
		" ORDER BY e.date DESC LIMIT 1");
	char *hint = NULL;

	if (!s || !q)
		return NULL;
	sqlite3_bind_int64(s, 1, contact);
	if (sqlite3_step(s) == SQLITE_ROW)
		hint = r->en ? xasprintf("introduce them to %s", col_text(s, 0))
			     : xasprintf("présentez-lui %s", col_text(s, 0));
	store_reset(s);
	sqlite3_bind_int64(q, 1, contact);
	sqlite3_bind_int64(q, 2, r->now - 60 * DAY);
	sqlite3_bind_int64(q, 3, r->now);
	if (!hint && sqlite3_step(q) == SQLITE_ROW)
		hint = r->en ? xasprintf("help with their request \"%s\"", col_text(q, 0))
			     : xasprintf("aidez-le pour sa demande « %s »", col_text(q, 0));
	store_reset(q);
	if (!hint)
		hint = xstrdup(r->en ? "ask how you could help them"
				     : "demandez-lui comment vous pourriez l'aider");
	return hint;
}

/* What a contact is called in evidence. Newly allocated. */
static char *
contact_label(struct rules *r, int64_t contact)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_LABEL,
		"SELECT " LABEL("c") " FROM contact c WHERE c.id = ?1");
	char *name;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, contact);
	name = sqlite3_step(s) == SQLITE_ROW ? xstrdup(col_text(s, 0)) : xstrdup("?");
	store_reset(s);
	return name;
}

static int
reciprocity_explain(struct rules *r, struct rules_nudge *n)
{
	char d[32], *hint, *name;

	if (!(name = contact_label(r, n->contact)))
		return -1;
	hint = reciprocity_hint(r, n->contact);
	day_fmt(r, n->date, d, sizeof d);
	n->evidence = r->en ? xasprintf("%s did you a favour (%s, %s); return it: %s",
					name, favour_word(r, n->arg), d, hint)
			    : xasprintf("%s vous a rendu service (%s, %s) ; à votre tour : %s",
					name, favour_word(r, n->arg), d, hint);
	free(hint);
	free(name);
	return 0;
}

static int
reciprocity_add(struct rules *r, int64_t contact, int64_t favour, int64_t date,
		const char *kind)
{
	struct rules_nudge *n;

	n = rules_add(r, "reciprocity", contact, date + r->cfg->nudges.reciprocity_after,
		      xasprintf("reciprocity:favour:%lld", (long long)favour), NULL);
	n->favour = favour;
	n->explain = reciprocity_explain;
	n->date = date;
	n->arg = xstrdup(kind);
	return 0;
}

/* Favours of one contact, oldest first: each favour given matches the
 * oldest received one still unmatched before it. */
struct reciprocity_walk {
	int64_t contact;
	int64_t *ids, *dates;
	char **kinds;
	size_t head, n, cap;
};

static int
reciprocity_flush(struct rules *r, struct reciprocity_walk *w)
{
	size_t i;
	int rc = 0;

	if (w->head < w->n)
		rc = reciprocity_add(r, w->contact, w->ids[w->head], w->dates[w->head],
				     w->kinds[w->head]);
	for (i = 0; i < w->n; i++)
		free(w->kinds[i]);
	w->head = w->n = 0;
	return rc;
}

static void
reciprocity_step(struct reciprocity_walk *w, sqlite3_stmt *s)
{
	if (strcmp(col_text(s, 2), "given") == 0) {
		if (w->head < w->n)
			w->head++;
		return;
	}
	w->ids = xreallocarray_grow(w->ids, &w->cap, w->n + 1, sizeof *w->ids);
	w->dates = xrealloc(w->dates, w->cap * sizeof *w->dates);
	w->kinds = xrealloc(w->kinds, w->cap * sizeof *w->kinds);
	w->ids[w->n] = sqlite3_column_int64(s, 1);
	w->dates[w->n] = sqlite3_column_int64(s, 3);
	w->kinds[w->n++] = xstrdup(col_text(s, 4));
}

static int
rules_reciprocity(struct rules *r)
{
	/* Favours given count whatever their age; received ones only
	 * within the first sync window. */
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_RECIPROCITY,
		"SELECT f.contact_id, f.id, f.direction, f.date, f.kind FROM favour f"
		" JOIN contact c ON c.id = f.contact_id"
		" LEFT JOIN exchange e ON e.id = f.exchange_id"
		" WHERE c.muted = 0 AND (f.direction = 'given' OR e.id IS NULL"
		"  OR (e.automated IS NULL AND " IN_WINDOW("e.date", "e.account_id") "))"
		" ORDER BY f.contact_id, f.date, f.direction = 'given', f.id");
	struct reciprocity_walk w = { 0 };
	int rc, bad = 0;

	if (!s)
		return -1;
	bind_window(r, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && !bad) {
		if (sqlite3_column_int64(s, 0) != w.contact) {
			bad = reciprocity_flush(r, &w);
			w.contact = sqlite3_column_int64(s, 0);
		}
		reciprocity_step(&w, s);
	}
	rc = rows_end(r, s, bad ? SQLITE_DONE : rc, "reading favours");
	if (!bad && rc == 0)
		bad = reciprocity_flush(r, &w);
	free(w.ids);
	free(w.dates);
	free(w.kinds);
	return rc < 0 || bad ? -1 : 0;
}

/* ---- keep-in-touch ---- */

/* The owner's network: referrers, partners, clients, anyone tagged by the
 * owner, and people with at least two exchanges each way. Due one cadence
 * after the last person-to-person exchange, which names the nudge. */
static int
keep_explain(struct rules *r, struct rules_nudge *n)
{
	char d[32], *name;

	if (!(name = contact_label(r, n->contact)))
		return -1;
	day_fmt(r, n->date, d, sizeof d);
	n->evidence = r->en ? xasprintf("No exchange with %s since %s", name, d)
			    : xasprintf("Aucun échange avec %s depuis le %s", name, d);
	free(name);
	return 0;
}

/* Counts and the last exchange come from the contact's sums
 * (rules_summary.h): one row per contact, whatever their history. */
static int
rules_keep_in_touch(struct rules *r)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_KEEP,
		"SELECT c.id, coalesce(c.cadence_days, 0), x.last"
		" FROM rules_contact x JOIN contact c ON c.id = x.contact_id"
		" WHERE x.last IS NOT NULL AND c.muted = 0"
		" AND " IN_WINDOW("x.last", "x.last_account")
		" AND ((x.n_in >= 2 AND x.n_out >= 2) OR EXISTS (SELECT 1 FROM contact_tag t"
		"  WHERE t.contact_id = c.id AND (t.inferred = 0"
		"   OR t.tag IN ('referrer', 'partner', 'client'))))"
		" ORDER BY c.id");
	struct rules_nudge *n;
	int64_t id, last, delay;
	int rc;

	if (!s)
		return -1;
	bind_window(r, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		last = sqlite3_column_int64(s, 2);
		if (rules_delay(r, id, sqlite3_column_int64(s, 1), DELAY_KEEP, &delay) < 0)
			break;
		n = rules_add(r, "keep-in-touch", id, last + delay,
			      xasprintf("keep-in-touch:contact:%lld:%lld", (long long)id,
					(long long)last), NULL);
		n->explain = keep_explain;
		n->date = last;
	}
	return rows_end(r, s, rc, "finding contacts to keep in touch with");
}

static int
nudge_exists(struct rules *r, const char *key, bool *exists)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_EXISTS,
		"SELECT 1 FROM nudge WHERE dedupe_key = ?1");
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, key);
	rc = sqlite3_step(s);
	*exists = rc == SQLITE_ROW;
	return rows_end(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "looking up a nudge");
}

/* Keep-in-touch nudges already falling due on UTC day d. */
static int
day_count(struct rules *r, int64_t d, int64_t *out)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_DAY_COUNT,
		"SELECT count(*) FROM nudge WHERE kind = 'keep-in-touch'"
		" AND due >= ?1 AND due < ?1 + 86400");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, d * DAY);
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	return rows_end(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "counting nudges");
}

static int
due_cmp(const void *a, const void *b)
{
	const struct rules_nudge *x = *(const struct rules_nudge *const *)a;
	const struct rules_nudge *y = *(const struct rules_nudge *const *)b;

	if (x->due != y->due)
		return (x->due > y->due) - (x->due < y->due);
	return (x->contact > y->contact) - (x->contact < y->contact);
}

/* Gives each new keep-in-touch nudge due by now the first day from today
 * with room under daily_cap: today's keep their due time (at least
 * today's midnight, so they count for today); later ones fall due at the
 * start of their day. */
static int
rules_spread(struct rules *r)
{
	struct rules_nudge **v = xcalloc(r->n ? r->n : 1, sizeof *v);
	int64_t today = r->now / DAY, d = today, used = -1;
	int64_t cap = r->cfg->nudges.daily_cap > 0 ? r->cfg->nudges.daily_cap : 5;
	size_t i, k = 0;
	bool exists;
	int rc = 0;

	for (i = 0; i < r->n && rc == 0; i++)
		if (strcmp(r->v[i].kind, "keep-in-touch") == 0 && r->v[i].due <= r->now &&
		    (rc = nudge_exists(r, r->v[i].key, &exists)) == 0 && !exists)
			v[k++] = &r->v[i];
	qsort(v, k, sizeof *v, due_cmp);
	for (i = 0; i < k && rc == 0; i++) {
		while (rc == 0 && (used < 0 || used >= cap)) {
			if (used >= cap)
				d++;
			rc = day_count(r, d, &used);
		}
		v[i]->due = d == today ? (v[i]->due > d * DAY ? v[i]->due : d * DAY) : d * DAY;
		v[i]->pushed = true;
		used++;
	}
	free(v);
	return rc;
}

/* ---- follow-up ---- */

static int
follow_explain(struct rules *r, struct rules_nudge *n)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_SUBJECT,
		"SELECT coalesce(subject, '') FROM exchange WHERE id = ?1");
	char d[32], *name, *subject;
	int rc;

	if (!s || !(name = contact_label(r, n->contact)))
		return -1;
	sqlite3_bind_int64(s, 1, n->exchange);
	rc = sqlite3_step(s);
	subject = xstrdup(rc == SQLITE_ROW ? col_text(s, 0) : "");
	if (rows_end(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "reading a subject") < 0) {
		free(subject);
		free(name);
		return -1;
	}
	day_fmt(r, n->date, d, sizeof d);
	n->evidence = r->en ? xasprintf("No answer from %s to \"%s\" since %s", name, subject, d)
			    : xasprintf("Pas de réponse de %s à « %s » depuis le %s",
					name, subject, d);
	free(subject);
	free(name);
	return 0;
}

/* An outbound message that opened its thread and expects an answer, to a
 * person (not an automated or no-reply address), with no inbound message
 * in the thread after it. The first such To recipient names the nudge.
 * Only two kinds of question can matter: those not settled yet
 * (rules_followup) and those whose nudge is open (it resolves when the
 * condition clears); a question answered or nudged before never comes back. */
static int
rules_follow_up(struct rules *r)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_FOLLOW,
		"SELECT e.id, e.date, k.open, c.id, a.email"
		" FROM (SELECT id, max(open) AS open FROM"
		"  (SELECT exchange_id AS id, 0 AS open FROM rules_followup"
		"   UNION ALL SELECT exchange_id, 1 FROM nudge WHERE kind = 'follow-up'"
		"   AND state IN ('pending', 'sent', 'snoozed') AND exchange_id IS NOT NULL)"
		"  GROUP BY id) k"
		" CROSS JOIN exchange e ON e.id = k.id"
		" JOIN participant p ON p.exchange_id = e.id AND p.role = 'to'"
		" JOIN address a ON a.id = p.address_id JOIN contact c ON c.id = a.contact_id"
		" WHERE e.direction = 'out' AND e.expects_answer = 1 AND e.automated IS NULL"
		" AND " IN_WINDOW("e.date", "e.account_id")
		" AND a.automated = 0 AND c.muted = 0"
		/* The thread's newest answer (rules_summary.h), not its mail. */
		" AND NOT EXISTS (SELECT 1 FROM rules_thread t WHERE t.thread_key = e.thread_key"
		"  AND t.last_in > e.date)"
		" ORDER BY e.id, a.id");
	int64_t xid, last = 0, date, cid, delay = 0;
	struct rules_nudge *n;
	const char *email;
	bool open;
	int rc;

	if (!s)
		return -1;
	bind_window(r, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xid = sqlite3_column_int64(s, 0);
		email = col_text(s, 4);
		if (xid == last || address_is_noreply(email) || config_is_identity(r->cfg, email))
			continue;
		last = xid;
		date = sqlite3_column_int64(s, 1);
		open = sqlite3_column_int(s, 2) != 0;
		cid = sqlite3_column_int64(s, 3);
		/* An open nudge only needs its key kept live. */
		if (!open && rules_delay(r, cid, 0, DELAY_FOLLOW, &delay) < 0)
			break;
		n = rules_add(r, "follow-up", cid, date + delay,
			      xasprintf("follow-up:exchange:%lld", (long long)xid), NULL);
		n->exchange = xid;
		n->exists = open;
		n->explain = follow_explain;
		n->date = date;
	}
	return rows_end(r, s, rc, "finding unanswered mail");
}

/* ---- prospecting ---- */

/* The last time the owner wrote to a prospect (tagged so) or to someone
 * for the first time, between from and now; 0 when never. */
static int
prospect_last(struct rules *r, int64_t from, int64_t *out)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_PROSPECT,
		"SELECT coalesce(max(e.date), 0) FROM exchange e"
		" JOIN participant p ON p.exchange_id = e.id AND p.role IN ('to', 'cc')"
		" JOIN address a ON a.id = p.address_id"
		" WHERE e.direction = 'out' AND e.automated IS NULL"
		" AND e.date BETWEEN ?1 AND ?2 AND a.contact_id IS NOT NULL"
		" AND (EXISTS (SELECT 1 FROM contact_tag t WHERE t.contact_id = a.contact_id"
		"   AND t.tag = 'prospect')"
		/* No earlier exchange with them: e is their first. */
		"  OR EXISTS (SELECT 1 FROM rules_contact x WHERE x.contact_id = a.contact_id"
		"   AND x.first_any >= e.date))");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, r->now);
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	return rows_end(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "finding prospect mail");
}

/* The newest mandate: silent for k full gaps since the later of its start
 * and the last prospect mail, one nudge per gap period of the mandate. */
static int
prospect_gap(struct rules *r, int64_t mandate, int64_t client, const char *name,
	     int64_t start)
{
	int64_t gap = r->cfg->nudges.prospect_gap, last, ref, k, due;
	struct rules_nudge *n;
	char d1[32], d2[32];

	if (gap <= 0 || start > r->now)
		return 0;
	if (prospect_last(r, start, &last) < 0)
		return -1;
	ref = last > start ? last : start;
	if ((k = (r->now - ref) / gap) < 1)
		return 0;
	due = ref + k * gap;
	day_fmt(r, start, d1, sizeof d1);
	day_fmt(r, ref, d2, sizeof d2);
	n = rules_add(r, "prospecting", client, due,
		      xasprintf("prospecting:mandate:%lld:%lld", (long long)mandate,
				(long long)((due - start) / gap)),
		      r->en ? xasprintf("Mandate with %s since %s: no new prospect "
					"contacted since %s", name, d1, d2)
			    : xasprintf("Mandat avec %s depuis le %s : aucun nouveau "
					"prospect contacté depuis le %s", name, d1, d2));
	n->mandate = mandate;
	return 0;
}

/* A mandate that ended: ask the client for a recommendation, until the
 * owner writes to them. */
static int
prospect_recommend(struct rules *r, int64_t mandate, int64_t client, const char *name,
		   int64_t end)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_WROTE_AFTER,
		"SELECT " WROTE_AFTER("?1", "?2"));
	struct rules_nudge *n;
	bool wrote;
	char d[32];
	int rc;

	if (end <= 0 || end > r->now)
		return 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, client);
	sqlite3_bind_int64(s, 2, end);
	rc = sqlite3_step(s);
	wrote = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
	if (rows_end(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "reading mail") < 0 || wrote)
		return wrote ? 0 : -1;
	day_fmt(r, end, d, sizeof d);
	n = rules_add(r, "prospecting", client, end,
		      xasprintf("prospecting:recommend:mandate:%lld", (long long)mandate),
		      r->en ? xasprintf("The mandate with %s ended on %s: ask them for a "
					"recommendation", name, d)
			    : xasprintf("Le mandat avec %s s'est terminé le %s : demandez-lui "
					"une recommandation", name, d));
	n->mandate = mandate;
	return 0;
}

static int
rules_prospecting(struct rules *r)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_OPEN,
		"SELECT m.id, m.client_contact, " LABEL("c") ","
		" coalesce(nullif(m.start_at, 0), nullif(m.confirmed_at, 0), m.created_at),"
		" m.end_at FROM mandate m JOIN contact c ON c.id = m.client_contact"
		" WHERE m.state IN ('confirmed', 'ended') AND c.muted = 0"
		" ORDER BY 4 DESC, m.id DESC");
	int64_t id, client;
	bool newest = true;
	char *name;
	int rc, bad = 0;

	if (!s)
		return -1;
	while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		client = sqlite3_column_int64(s, 1);
		name = xstrdup(col_text(s, 2));
		/* Only the current activity calls for prospecting. */
		if (newest)
			bad = prospect_gap(r, id, client, name, sqlite3_column_int64(s, 3));
		if (!bad)
			bad = prospect_recommend(r, id, client, name, sqlite3_column_int64(s, 4));
		newest = false;
		free(name);
	}
	if (bad)
		rc = SQLITE_DONE;
	return rows_end(r, s, rc, "reading mandates") < 0 || bad ? -1 : 0;
}

/* ---- the run ---- */

static int
rules_wake(struct rules *r, struct rules_stats *stats)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_WAKE,
		"UPDATE nudge SET state = 'pending', snooze_until = 0, updated_at = ?1"
		" WHERE state = 'snoozed' AND snooze_until <= ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, r->now);
	if (store_step_done(r->st, s, "waking snoozed nudges") < 0)
		return -1;
	stats->woken = sqlite3_changes(r->st->db);
	return 0;
}

static int
rules_insert(struct rules *r, const struct rules_nudge *n, struct rules_stats *stats)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_NUDGE_ADD,
		"INSERT INTO nudge (kind, dedupe_key, contact_id, referral_id, mandate_id,"
		" exchange_id, favour_id, due, evidence, created_at, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
		" ON CONFLICT (dedupe_key) DO NOTHING");

	if (!s)
		return -1;
	store_bind_text(s, 1, n->kind);
	store_bind_text(s, 2, n->key);
	store_bind_id(s, 3, n->contact);
	store_bind_id(s, 4, n->referral);
	store_bind_id(s, 5, n->mandate);
	store_bind_id(s, 6, n->exchange);
	store_bind_id(s, 7, n->favour);
	sqlite3_bind_int64(s, 8, n->due);
	store_bind_text(s, 9, n->evidence);
	sqlite3_bind_int64(s, 10, r->now);
	if (store_step_done(r->st, s, "adding a nudge") < 0)
		return -1;
	stats->created += sqlite3_changes(r->st->db);
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The open nudges whose key is not live; *ids newly allocated. */
static int
resolve_find(struct rules *r, int64_t **ids, size_t *n)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_OPEN_LIST,
		"SELECT id, dedupe_key FROM nudge WHERE state IN ('pending', 'sent', 'snoozed')");
	char **keys = xcalloc(r->n ? r->n : 1, sizeof *keys);
	const char *key;
	size_t i, cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!s) {
		free(keys);
		return -1;
	}
	/* Sorted once, looked up per open nudge: the keys of one run can
	 * number thousands, and so can the open nudges. */
	for (i = 0; i < r->n; i++)
		keys[i] = r->v[i].key;
	qsort(keys, r->n, sizeof *keys, key_cmp);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		key = col_text(s, 1);
		if (bsearch(&key, keys, r->n, sizeof *keys, key_cmp))
			continue;
		*ids = xreallocarray_grow(*ids, &cap, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	free(keys);
	return rows_end(r, s, rc, "listing open nudges");
}

/* Open nudges whose condition no longer holds resolved themselves. */
static int
rules_resolve(struct rules *r, struct rules_stats *stats)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_OPEN_RESOLVE,
		"UPDATE nudge SET state = 'resolved', resolved_at = ?1, updated_at = ?1"
		" WHERE id = ?2 AND state IN ('pending', 'sent', 'snoozed')");
	int64_t *ids;
	size_t n, i;
	int rc;

	if (!s || resolve_find(r, &ids, &n) < 0)
		return -1;
	for (i = 0, rc = 0; i < n && rc == 0; i++) {
		sqlite3_bind_int64(s, 1, r->now);
		sqlite3_bind_int64(s, 2, ids[i]);
		rc = store_step_done(r->st, s, "resolving nudges");
		if (rc == 0)
			stats->resolved += sqlite3_changes(r->st->db);
	}
	free(ids);
	return rc;
}

static int
rules_count_due(struct rules *r, struct rules_stats *stats)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_U_DUE,
		"SELECT count(*) FROM nudge WHERE state = 'pending' AND due <= ?1");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, r->now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		stats->due = sqlite3_column_int64(s, 0);
	return rows_end(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, "counting due nudges");
}

/* Creates n unless its key exists (then nothing is written, evidence
 * included, so none is computed). */
static int
rules_create(struct rules *r, struct rules_nudge *n, struct rules_stats *stats)
{
	bool exists;

	if (!n->evidence) {
		if (nudge_exists(r, n->key, &exists) < 0)
			return -1;
		if (exists)
			return 0;
		if (n->explain(r, n) < 0)
			return -1;
	}
	return rules_insert(r, n, stats);
}

static int
rules_run(struct rules *r, struct rules_stats *stats)
{
	size_t i;

	if (rules_wake(r, stats) < 0 || rules_windows(r) < 0 ||
	    rules_summary_update(r->st, r->fingerprint) < 0 ||
	    rules_thank_referrals(r) < 0 || rules_thank_mandates(r) < 0 ||
	    rules_reciprocity(r) < 0 || rules_keep_in_touch(r) < 0 ||
	    rules_follow_up(r) < 0 || rules_prospecting(r) < 0 || rules_spread(r) < 0)
		return -1;
	for (i = 0; i < r->n; i++)
		if (!r->v[i].exists && (r->v[i].due <= r->now || r->v[i].pushed) &&
		    rules_create(r, &r->v[i], stats) < 0)
			return -1;
	if (rules_resolve(r, stats) < 0 || rules_summary_settle(r->st, r->windows) < 0)
		return -1;
	return rules_count_due(r, stats);
}

int
rules_evaluate(struct store *st, const struct config *cfg, int64_t now,
	       struct rules_stats *stats)
{
	struct rules r = {
		.st = st, .cfg = cfg, .now = now,
		.en = cfg->language && strcmp(cfg->language, "en") == 0,
	};
	struct rules_stats local;
	size_t i;
	int rc;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof *stats);
	if (store_begin(st) < 0)
		return -1;
	rc = rules_run(&r, stats);
	if (rc == 0)
		rc = store_commit(st);
	if (rc < 0) {
		store_rollback(st);
		memset(stats, 0, sizeof *stats);
	}
	for (i = 0; i < r.n; i++) {
		free(r.v[i].key);
		free(r.v[i].evidence);
		free(r.v[i].arg);
	}
	free(r.v);
	free(r.windows);
	free(r.fingerprint);
	return rc;
}
