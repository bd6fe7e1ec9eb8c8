/* store_report: the queries behind `merci report` (store_report.h).
 *
 * The report runs once per command, so its statements are prepared, run
 * and finalized here rather than kept in the store's statement cache. The
 * work is a handful of aggregates: mandates and referrals are few, and the
 * one query that reads every exchange (who is going cold) walks
 * participant_address as the keep-in-touch rule does. */
#include "store_p.h"
#include "store_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

const char *const store_report_kinds[STORE_REPORT_N_KINDS] = {
	"thank-you", "reciprocity", "keep-in-touch", "follow-up", "prospecting",
};

/* When a mandate started: its start date, else when it was confirmed, else
 * when merci recorded it. */
#define MANDATE_START(m) \
	"coalesce(nullif(" m ".start_at, 0), nullif(" m ".confirmed_at, 0), " m ".created_at)"
#define MANDATE_COUNTS(m) m ".state IN ('confirmed', 'ended')"

/* A referral the owner thanked: by mail (thanked_at), or by marking done a
 * thank-you nudge about it, about its message, or about its mandate. */
#define REFERRAL_THANKED(r) \
	"(" r ".thanked_at > 0 OR EXISTS (SELECT 1 FROM nudge n_" \
	" LEFT JOIN referral nr_ ON nr_.id = n_.referral_id" \
	" WHERE n_.contact_id = " r ".from_contact AND n_.kind = 'thank-you'" \
	" AND n_.state = 'done' AND (n_.referral_id = " r ".id" \
	"  OR nr_.exchange_id = " r ".exchange_id" \
	"  OR n_.mandate_id IN (SELECT m_.id FROM mandate m_" \
	"   WHERE m_.referral_id = " r ".id))))"

static sqlite3_stmt *
report_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_fail(st, "preparing the report");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Ends a statement's walk: -1 (logged) unless it ran to the end. */
static int
report_finish(struct store *st, sqlite3_stmt *s, int rc, const char *what)
{
	if (rc != SQLITE_DONE)
		store_fail(st, what);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- mandates and the gaps between them ---- */

static int
report_mandates(struct store *st, const struct store_report_opts *o, struct store_report *r)
{
	sqlite3_stmt *s = report_prepare(st,
		"SELECT " MANDATE_START("m") " AS start, m.referral_id IS NOT NULL"
		" FROM mandate m WHERE " MANDATE_COUNTS("m")
		" AND " MANDATE_START("m") " >= ?1 ORDER BY start, m.id");
	int64_t prev = 0, start;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, o->since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		start = sqlite3_column_int64(s, 0);
		r->mandates++;
		r->from_referrals += sqlite3_column_int(s, 1);
		if (r->mandates > 1) {
			r->n_gaps++;
			r->gap_last = start - prev;
			r->gap_total += r->gap_last;
		}
		prev = start;
	}
	return report_finish(st, s, rc, "reading mandates");
}

/* The newest start, whatever --since: the current gap is a state, not an
 * event. A start still to come is work lined up, not a gap. */
static int
report_last_start(struct store *st, const struct store_report_opts *o, struct store_report *r)
{
	sqlite3_stmt *s = report_prepare(st,
		"SELECT max(" MANDATE_START("m") ") FROM mandate m"
		" WHERE " MANDATE_COUNTS("m") " AND " MANDATE_START("m") " <= ?1");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, o->now);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r->last_start = sqlite3_column_int64(s, 0);
		rc = SQLITE_DONE;
	}
	return report_finish(st, s, rc, "reading the last mandate");
}

/* ---- referrers ---- */

static int
report_referrers(struct store *st, const struct store_report_opts *o, struct store_report *r)
{
	sqlite3_stmt *s = report_prepare(st,
		"SELECT c.id, " STORE_SQL_LABEL("c") ", count(*),"
		" sum(NOT " REFERRAL_THANKED("rf") "),"
		" sum((SELECT count(*) FROM mandate m WHERE m.referral_id = rf.id"
		"  AND " MANDATE_COUNTS("m") ")) AS mandates,"
		" max(rf.date)"
		" FROM referral rf JOIN contact c ON c.id = rf.from_contact"
		" WHERE rf.direction = 'received' AND rf.date >= ?1"
		" GROUP BY c.id ORDER BY mandates DESC, 3 DESC, 6 DESC, c.id");
	struct store_report_referrer *p;
	size_t cap = 0;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, o->since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r->referrers = xreallocarray_grow(r->referrers, &cap, r->n_referrers + 1,
						  sizeof *r->referrers);
		p = &r->referrers[r->n_referrers++];
		p->id = sqlite3_column_int64(s, 0);
		p->name = store_column_strdup(s, 1);
		p->referrals = sqlite3_column_int64(s, 2);
		p->unthanked = sqlite3_column_int64(s, 3);
		p->mandates = sqlite3_column_int64(s, 4);
		p->last = sqlite3_column_int64(s, 5);
	}
	return report_finish(st, s, rc, "reading referrers");
}

/* ---- favours owed ---- */

/* One contact's favours walked by date: a favour given settles the oldest
 * received one still open. */
struct owed_walk {
	struct store_report_owed cur;
	int64_t *open;            /* dates of received favours not settled */
	size_t head, n, cap;
};

static void
owed_flush(struct store_report *r, struct owed_walk *w, size_t *cap)
{
	if (w->cur.id && w->head < w->n) {
		w->cur.owed = (int64_t)(w->n - w->head);
		w->cur.oldest = w->open[w->head];
		r->owed = xreallocarray_grow(r->owed, cap, r->n_owed + 1, sizeof *r->owed);
		r->owed[r->n_owed++] = w->cur;
	} else {
		free(w->cur.name);
	}
	memset(&w->cur, 0, sizeof w->cur);
	w->head = w->n = 0;
}

static void
owed_step(struct owed_walk *w, sqlite3_stmt *s)
{
	if (sqlite3_column_int(s, 2)) {
		w->cur.given++;
		if (w->head < w->n)
			w->head++;
		return;
	}
	w->cur.received++;
	w->open = xreallocarray_grow(w->open, &w->cap, w->n + 1, sizeof *w->open);
	w->open[w->n++] = sqlite3_column_int64(s, 3);
}

static int
owed_cmp(const void *a, const void *b)
{
	const struct store_report_owed *x = a, *y = b;

	if (x->oldest != y->oldest)
		return x->oldest < y->oldest ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
report_owed(struct store *st, const struct store_report_opts *o, struct store_report *r)
{
	sqlite3_stmt *s = report_prepare(st,
		"SELECT f.contact_id, " STORE_SQL_LABEL("c") ", f.direction = 'given', f.date"
		" FROM favour f JOIN contact c ON c.id = f.contact_id WHERE f.date >= ?1"
		" ORDER BY f.contact_id, f.date, f.direction = 'given', f.id");
	struct owed_walk w = { 0 };
	size_t cap = 0;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, o->since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_int64(s, 0) != w.cur.id) {
			owed_flush(r, &w, &cap);
			w.cur.id = sqlite3_column_int64(s, 0);
			w.cur.name = store_column_strdup(s, 1);
		}
		owed_step(&w, s);
	}
	owed_flush(r, &w, &cap);
	free(w.open);
	if (r->n_owed > 1)
		qsort(r->owed, r->n_owed, sizeof *r->owed, owed_cmp);
	return report_finish(st, s, rc, "reading favours");
}

/* ---- contacts going cold ---- */

/* The network as the keep-in-touch rule sees it: referrers, partners,
 * clients, anyone the owner tagged, and people with two exchanges or more
 * each way; muted contacts are left out. */
static int
report_cold(struct store *st, const struct store_report_opts *o, struct store_report *r)
{
	sqlite3_stmt *s = report_prepare(st,
		"SELECT c.id, " STORE_SQL_LABEL("c") ", x.last, c.cadence_days"
		" FROM (SELECT a.contact_id AS cid,"
		"   count(DISTINCT CASE WHEN e.direction = 'in' THEN e.id END) AS n_in,"
		"   count(DISTINCT CASE WHEN e.direction = 'out' THEN e.id END) AS n_out,"
		"   max(e.date) AS last"
		"  FROM address a JOIN participant p ON p.address_id = a.id"
		"  JOIN exchange e ON e.id = p.exchange_id"
		"  WHERE a.contact_id IS NOT NULL AND e.automated IS NULL"
		"   AND ((e.direction = 'in' AND p.role = 'from')"
		"    OR (e.direction = 'out' AND p.role IN ('to', 'cc')))"
		"  GROUP BY a.contact_id) x"
		" JOIN contact c ON c.id = x.cid"
		" WHERE c.muted = 0"
		" AND x.last < ?1 - coalesce(c.cadence_days * 86400, ?2)"
		" AND ((x.n_in >= 2 AND x.n_out >= 2) OR EXISTS (SELECT 1 FROM contact_tag t"
		"  WHERE t.contact_id = c.id AND (t.inferred = 0"
		"   OR t.tag IN ('referrer', 'partner', 'client'))))"
		" ORDER BY x.last, c.id");
	struct store_report_cold *p;
	size_t cap = 0;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, o->now);
	sqlite3_bind_int64(s, 2, o->keep_in_touch);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r->cold = xreallocarray_grow(r->cold, &cap, r->n_cold + 1, sizeof *r->cold);
		p = &r->cold[r->n_cold++];
		p->id = sqlite3_column_int64(s, 0);
		p->name = store_column_strdup(s, 1);
		p->last = sqlite3_column_int64(s, 2);
		p->cadence_days = sqlite3_column_type(s, 3) == SQLITE_NULL
			? (o->keep_in_touch + 86399) / 86400 : sqlite3_column_int64(s, 3);
	}
	return report_finish(st, s, rc, "finding contacts going cold");
}

/* ---- open nudges ---- */

static int
report_nudges(struct store *st, struct store_report *r)
{
	sqlite3_stmt *s = report_prepare(st,
		"SELECT kind, count(*) FROM nudge"
		" WHERE state IN ('pending', 'sent', 'snoozed') GROUP BY kind");
	const char *kind;
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(s, 0);
		for (size_t i = 0; kind && i < STORE_REPORT_N_KINDS; i++)
			if (strcmp(kind, store_report_kinds[i]) == 0)
				r->nudges[i] = sqlite3_column_int64(s, 1);
	}
	return report_finish(st, s, rc, "counting nudges");
}

/* The one query that reads every exchange (report_cold) goes from
 * participants to exchanges in address order, so it visits the exchange
 * table's pages at random: with the default 2 MiB page cache, a store of
 * 100,000 exchanges is read from the OS several times over. 64 MiB (used
 * only as needed) halves the time; the connection's setting is put back. */
static int64_t
report_cache(struct store *st, int64_t kib)
{
	sqlite3_stmt *s = report_prepare(st, "PRAGMA cache_size");
	int64_t old = -2000;
	char sql[64];

	if (s && sqlite3_step(s) == SQLITE_ROW)
		old = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	/* A number formatted here, not user input: PRAGMA takes no parameter. */
	snprintf(sql, sizeof sql, "PRAGMA cache_size = %lld", (long long)kib);
	sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return old;
}

int
store_report_build(struct store *st, const struct store_report_opts *o,
		   struct store_report *out)
{
	bool mine = sqlite3_get_autocommit(st->db);
	int64_t cache = report_cache(st, -65536);
	int rc;

	memset(out, 0, sizeof *out);
	/* One read transaction: every figure comes from the same snapshot,
	 * even while the daemon writes. */
	if (mine && sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		report_cache(st, cache);
		return store_fail(st, "starting the report");
	}
	rc = report_mandates(st, o, out) < 0 || report_last_start(st, o, out) < 0 ||
	     report_referrers(st, o, out) < 0 || report_owed(st, o, out) < 0 ||
	     report_cold(st, o, out) < 0 || report_nudges(st, out) < 0 ? -1 : 0;
	if (mine)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	report_cache(st, cache);
	if (rc < 0) {
		store_report_free(out);
		memset(out, 0, sizeof *out);
	}
	return rc;
}

void
store_report_free(struct store_report *r)
{
	size_t i;

	for (i = 0; i < r->n_referrers; i++)
		free(r->referrers[i].name);
	for (i = 0; i < r->n_owed; i++)
		free(r->owed[i].name);
	for (i = 0; i < r->n_cold; i++)
		free(r->cold[i].name);
	free(r->referrers);
	free(r->owed);
	free(r->cold);
}
