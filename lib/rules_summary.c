/* rules_summary: the per-contact sums and the open questions the rules
 * keep between runs (rules_summary.h).
 *
 * The sums are folded in C from the participant rows of exchanges, read
 * in (contact, exchange) order, so that an exchange naming a contact
 * twice (two addresses, To and Cc) counts once, and so that ties on the
 * newest date keep the lowest exchange id, whichever run saw it first. */
#include "rules_summary.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "store_p.h"

/* One row per participant of a person-written exchange whose address
 * belongs to a contact: contact, exchange, out, date, account, and
 * whether it is person-to-person (they wrote to the owner, or the owner
 * to them in To/Cc). */
#define SUM_COLUMNS \
	"SELECT a.contact_id, e.id, e.direction = 'out', e.date, e.account_id," \
	" (e.direction = 'in' AND p.role = 'from')" \
	"  OR (e.direction = 'out' AND (p.role = 'to' OR p.role = 'cc'))"

struct sum {
	int64_t contact;
	int64_t n_in, n_out;
	int64_t last, last_account, last_out, first_any;
	bool has_last, has_out;
	int64_t counted;             /* the last exchange counted: each counts once */
};

static int
sum_write(struct store *st, const struct sum *s)
{
	/* Adds to what an earlier run folded (a recount deleted it first). */
	sqlite3_stmt *q = store_stmt(st, STMT_U_SUM_ADD,
		"INSERT INTO rules_contact (contact_id, n_in, n_out, last, last_account,"
		" last_out, first_any) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT (contact_id) DO UPDATE SET"
		" n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out,"
		" last_account = CASE WHEN last IS NULL OR excluded.last > last"
		"  THEN excluded.last_account ELSE last_account END,"
		" last = CASE WHEN last IS NULL OR excluded.last > last"
		"  THEN excluded.last ELSE last END,"
		" last_out = CASE WHEN last_out IS NULL OR excluded.last_out > last_out"
		"  THEN excluded.last_out ELSE last_out END,"
		" first_any = min(first_any, excluded.first_any)");

	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, s->contact);
	sqlite3_bind_int64(q, 2, s->n_in);
	sqlite3_bind_int64(q, 3, s->n_out);
	if (s->has_last) {
		sqlite3_bind_int64(q, 4, s->last);
		sqlite3_bind_int64(q, 5, s->last_account);
	}
	if (s->has_out)
		sqlite3_bind_int64(q, 6, s->last_out);
	sqlite3_bind_int64(q, 7, s->first_any);
	return store_step_done(st, q, "summing a contact's exchanges");
}

static void
sum_row(struct sum *s, sqlite3_stmt *q)
{
	int64_t xid = sqlite3_column_int64(q, 1), date = sqlite3_column_int64(q, 3);
	bool out = sqlite3_column_int(q, 2) != 0;

	if (date < s->first_any)
		s->first_any = date;
	if (!sqlite3_column_int(q, 5))
		return;
	if (xid != s->counted) {
		s->counted = xid;
		if (out)
			s->n_out++;
		else
			s->n_in++;
	}
	/* Strictly newer only: the lowest id wins a tie. */
	if (!s->has_last || date > s->last) {
		s->last = date;
		s->last_account = sqlite3_column_int64(q, 4);
		s->has_last = true;
	}
	if (out && (!s->has_out || date > s->last_out)) {
		s->last_out = date;
		s->has_out = true;
	}
}

/* Folds the rows of q (bound by the caller, ordered by contact then
 * exchange) into rules_contact, one write per contact. */
static int
sum_fold(struct store *st, sqlite3_stmt *q, const char *what)
{
	struct sum s = { 0 };
	int rc, bad = 0;

	while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_int64(q, 0) != s.contact) {
			if (s.contact)
				bad = sum_write(st, &s);
			memset(&s, 0, sizeof s);
			s.contact = sqlite3_column_int64(q, 0);
			s.first_any = INT64_MAX;
		}
		sum_row(&s, q);
	}
	if (!bad && rc != SQLITE_DONE)
		bad = store_fail(st, what);
	store_reset(q);
	if (!bad && s.contact)
		bad = sum_write(st, &s);
	return bad ? -1 : 0;
}

static int
exec_stmt(struct store *st, enum store_stmt slot, const char *sql, const char *what)
{
	sqlite3_stmt *q = store_stmt(st, slot, sql);

	return q ? store_step_done(st, q, what) : -1;
}

/* Contacts whose addresses moved since the last run: counted again from
 * the exchanges folded then (newer ones come with the fold). */
static int
summary_recount(struct store *st, int64_t folded)
{
	sqlite3_stmt *q = store_stmt(st, STMT_U_SUM_STALE,
		SUM_COLUMNS " FROM rules_stale s CROSS JOIN address a ON a.contact_id = s.contact_id"
		" CROSS JOIN participant p ON p.address_id = a.id"
		" CROSS JOIN exchange e ON e.id = p.exchange_id"
		" WHERE e.id <= ?1 AND e.automated IS NULL"
		" ORDER BY a.contact_id, e.id");

	if (exec_stmt(st, STMT_U_SUM_UNSTALE,
		      "DELETE FROM rules_contact WHERE contact_id IN"
		      " (SELECT contact_id FROM rules_stale)", "recounting contacts") < 0 || !q)
		return -1;
	sqlite3_bind_int64(q, 1, folded);
	if (sum_fold(st, q, "recounting contacts") < 0)
		return -1;
	return exec_stmt(st, STMT_U_SUM_STALE_DONE, "DELETE FROM rules_stale",
			 "recounting contacts");
}

/* The answers among the exchanges with ids in (from, to]. The unary +
 * keeps SQLite on the id range: by direction it would read half the store. */
static int
thread_fold(struct store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *q = store_stmt(st, STMT_U_THREAD_FOLD,
		"INSERT INTO rules_thread (thread_key, last_in)"
		" SELECT thread_key, max(date) FROM exchange"
		" WHERE id > ?1 AND id <= ?2 AND +direction = 'in' AND automated IS NULL"
		" GROUP BY thread_key"
		" ON CONFLICT (thread_key) DO UPDATE SET last_in = max(last_in, excluded.last_in)");

	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, from);
	sqlite3_bind_int64(q, 2, to);
	return store_step_done(st, q, "dating answers");
}

/* Outbound questions with ids in (from, to] join the open ones. */
static int
followup_seed(struct store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *q = store_stmt(st, STMT_U_FOLLOW_SEED,
		"INSERT OR IGNORE INTO rules_followup (exchange_id)"
		" SELECT id FROM exchange WHERE id > ?1 AND id <= ?2 AND +direction = 'out'"
		" AND expects_answer = 1 AND automated IS NULL");

	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, from);
	sqlite3_bind_int64(q, 2, to);
	return store_step_done(st, q, "listing questions");
}

static int
state_read(struct store *st, int64_t *folded, int64_t *top, bool *same_windows,
	   const char *fingerprint)
{
	sqlite3_stmt *q = store_stmt(st, STMT_U_SUM_STATE,
		"SELECT folded, windows = ?1, (SELECT coalesce(max(id), 0) FROM exchange)"
		" FROM rules_state WHERE id = 1");
	int rc;

	if (!q)
		return -1;
	sqlite3_bind_text(q, 1, fingerprint, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*folded = sqlite3_column_int64(q, 0);
		*same_windows = sqlite3_column_int(q, 1) != 0;
		*top = sqlite3_column_int64(q, 2);
	} else if (rc == SQLITE_DONE) {
		store_reset(q);
		return store_fail(st, "reading the rules' state (no row)");
	} else {
		store_fail(st, "reading the rules' state");
	}
	store_reset(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Everything counted again: a trigger reset the mark (or it never moved). */
static int
summary_reset(struct store *st)
{
	return exec_stmt(st, STMT_U_SUM_CLEAR, "DELETE FROM rules_contact",
			 "clearing the rules' sums") < 0 ||
	       exec_stmt(st, STMT_U_SUM_STALE_DONE, "DELETE FROM rules_stale",
			 "clearing the rules' sums") < 0 ||
	       exec_stmt(st, STMT_U_FOLLOW_CLEAR, "DELETE FROM rules_followup",
			 "clearing the rules' questions") < 0 ||
	       exec_stmt(st, STMT_U_THREAD_CLEAR, "DELETE FROM rules_thread",
			 "clearing the rules' threads") < 0 ? -1 : 0;
}

int
rules_summary_update(struct store *st, const char *fingerprint)
{
	sqlite3_stmt *q;
	int64_t folded = 0, top = 0;
	bool same = false;

	if (state_read(st, &folded, &top, &same, fingerprint) < 0)
		return -1;
	if (folded == 0 ? summary_reset(st) < 0 : summary_recount(st, folded) < 0)
		return -1;
	/* Questions dropped as too old may fall inside a wider window. */
	if (folded > 0 && !same && followup_seed(st, 0, folded) < 0)
		return -1;
	if (top > folded) {
		q = store_stmt(st, STMT_U_SUM_FOLD,
			SUM_COLUMNS " FROM exchange e JOIN participant p ON p.exchange_id = e.id"
			" JOIN address a ON a.id = p.address_id"
			" WHERE e.id > ?1 AND e.id <= ?2 AND e.automated IS NULL"
			" AND a.contact_id IS NOT NULL"
			" ORDER BY a.contact_id, e.id");
		if (!q)
			return -1;
		sqlite3_bind_int64(q, 1, folded);
		sqlite3_bind_int64(q, 2, top);
		if (sum_fold(st, q, "summing new exchanges") < 0 ||
		    thread_fold(st, folded, top) < 0 || followup_seed(st, folded, top) < 0)
			return -1;
	}
	if (top == folded && same)
		return 0;
	q = store_stmt(st, STMT_U_SUM_MARK,
		"UPDATE rules_state SET folded = ?1, windows = ?2 WHERE id = 1");
	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, top);
	sqlite3_bind_text(q, 2, fingerprint, -1, SQLITE_STATIC);
	return store_step_done(st, q, "moving the rules' mark");
}

int
rules_summary_settle(struct store *st, const char *windows)
{
	/* Settled for good: an answer never goes away, a nudge key is never
	 * created twice, and the window only moves with the configuration
	 * (which rules_summary_update sees). */
	sqlite3_stmt *q = store_stmt(st, STMT_U_FOLLOW_SETTLE,
		"DELETE FROM rules_followup WHERE exchange_id IN"
		" (SELECT f.exchange_id FROM rules_followup f"
		"  LEFT JOIN exchange e ON e.id = f.exchange_id"
		"  WHERE e.id IS NULL OR NOT " RULES_SQL_IN_WINDOW("e.date", "e.account_id")
		"  OR EXISTS (SELECT 1 FROM nudge n"
		"   WHERE n.dedupe_key = 'follow-up:exchange:' || f.exchange_id)"
		"  OR EXISTS (SELECT 1 FROM rules_thread t"
		"   WHERE t.thread_key = e.thread_key AND t.last_in > e.date))");
	int i;

	if (!q)
		return -1;
	if ((i = sqlite3_bind_parameter_index(q, ":win")) != 0)
		sqlite3_bind_text(q, i, windows, -1, SQLITE_STATIC);
	return store_step_done(st, q, "settling questions");
}
