/* outbox: renders due nudges into messages and keeps them until the SMTP
 * server took them. See outbox.h for the contract. */
#include "outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mailbuild.h"
#include "reply_cmd.h"
#include "store_p.h"
#include "store_rel.h"
#include "template.h"
#include "timeutil.h"
#include "xalloc.h"

/* A due nudge as the messages show it. */
struct due_nudge {
	int64_t id;
	char *kind;
	char *evidence;
	char *name;             /* NULL when it concerns no contact */
	char *email;
	int64_t due;
};

/* What a queueing run knows of the local day. */
struct local_day {
	int minute;             /* minutes after local midnight */
	int64_t midnight;
	int tz_offset_min;
	char date[16];          /* YYYY-MM-DD */
};

static void
local_day_get(int64_t now, struct local_day *ld)
{
	time_t t = (time_t)now;
	struct tm tm;

	localtime_r(&t, &tm);
	ld->minute = tm.tm_hour * 60 + tm.tm_min;
	ld->tz_offset_min = (int)(tm.tm_gmtoff / 60);
	strftime(ld->date, sizeof ld->date, "%Y-%m-%d", &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	ld->midnight = (int64_t)mktime(&tm);
}

static bool
in_quiet_hours(const struct config *cfg, int minute)
{
	int s = cfg->nudges.quiet_start, e = cfg->nudges.quiet_end;

	if (!cfg->nudges.quiet || s == e)
		return false;
	return s < e ? minute >= s && minute < e : minute >= s || minute < e;
}

/* PRAGMA synchronous: FULL around the outbox's writes (a lost commit could
 * mean a mail sent twice, or never), NORMAL, the store's default, after. */
static int
outbox_sync(struct store *st, bool full)
{
	sqlite3_stmt *s = full
		? store_stmt(st, STMT_O_SYNC_FULL, "PRAGMA synchronous = FULL")
		: store_stmt(st, STMT_O_SYNC_NORMAL, "PRAGMA synchronous = NORMAL");

	if (!s)
		return -1;
	return store_step_done(st, s, "setting synchronous");
}

static int
outbox_begin(struct store *st)
{
	if (outbox_sync(st, true) < 0)
		return -1;
	if (store_begin(st) < 0) {
		outbox_sync(st, false);
		return -1;
	}
	return 0;
}

/* Commits (ok) or rolls back, then goes back to synchronous NORMAL. */
static int
outbox_end(struct store *st, bool ok)
{
	int rc = ok ? store_commit(st) : (store_rollback(st), -1);

	if (rc < 0 && ok)
		store_rollback(st);
	outbox_sync(st, false);
	return rc;
}

/* Rows queued since t: kind "digest", or any nudge mail when kind is NULL. */
static int
outbox_count_since(struct store *st, int64_t t, const char *kind, int64_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_COUNT_SINCE,
		"SELECT count(*) FROM outbox WHERE created_at >= ?1"
		" AND (kind = ?2 OR (?2 IS NULL AND kind IN ('nudge', 'digest')))");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, t);
	store_bind_text(s, 2, kind);
	rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_reset(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, "counting today's messages");
}

static void
due_nudges_free(struct due_nudge *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].evidence);
		free(v[i].name);
		free(v[i].email);
	}
	free(v);
}

/* The pending nudges due at now, oldest due first; muted contacts' wait. */
static int
due_nudges_load(struct store *st, int64_t now, struct due_nudge **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_DUE,
		"SELECT n.id, n.kind, n.evidence, " STORE_SQL_LABEL("c") ", "
		STORE_SQL_EMAIL("c") ", n.due"
		" FROM nudge n LEFT JOIN contact c ON c.id = n.contact_id"
		" WHERE n.state = 'pending' AND n.due <= ?1 AND coalesce(c.muted, 0) = 0"
		" ORDER BY n.due, n.id");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct due_nudge *d;

		*out = xreallocarray_grow(*out, &cap, *n + 1, sizeof **out);
		d = &(*out)[(*n)++];
		d->id = sqlite3_column_int64(s, 0);
		d->kind = store_column_strdup(s, 1);
		d->evidence = store_column_strdup(s, 2);
		d->name = store_column_strdup(s, 3);
		d->email = store_column_strdup(s, 4);
		d->due = sqlite3_column_int64(s, 5);
	}
	store_reset(s);
	if (rc != SQLITE_DONE) {
		due_nudges_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_fail(st, "reading due nudges");
	}
	return 0;
}

/* ---- words of the messages, in the owner's language ---- */

static bool
lang_fr(const struct config *cfg)
{
	return !cfg->language || strcmp(cfg->language, "en") != 0;
}

static const char *
kind_label(const struct config *cfg, const char *kind)
{
	static const char *const map[][3] = {
		{ "thank-you", "remercier", "say thank you" },
		{ "reciprocity", "rendre la pareille", "return the favour" },
		{ "keep-in-touch", "prendre des nouvelles", "keep in touch" },
		{ "follow-up", "relancer", "follow up" },
		{ "prospecting", "prospecter", "prospect" },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(kind, map[i][0]) == 0)
			return map[i][lang_fr(cfg) ? 1 : 2];
	return kind;
}

static const char *
commands_text(const struct config *cfg, bool digest)
{
	if (lang_fr(cfg) && digest)
		return "Pour agir, répondez à ce courriel, une ligne par rappel, qui\n"
		       "commence par son numéro ; par exemple :\n"
		       "  1 fait            le rappel 1 est fait\n"
		       "  2 reporter 7j     me rappeler le 2 dans 7 jours (h, j, sem)\n"
		       "  1 ignorer         laisser tomber le rappel 1\n"
		       "  2 sourdine        ne plus rien me rappeler sur la personne du 2";
	if (lang_fr(cfg))
		return "Répondez à ce courriel par un seul mot :\n"
		       "  fait            c'est fait\n"
		       "  reporter 7j     me le rappeler dans 7 jours (h, j, sem)\n"
		       "  ignorer         laisser tomber ce rappel\n"
		       "  sourdine        ne plus rien me rappeler sur cette personne";
	if (digest)
		return "To act, reply to this email, one line per reminder, starting\n"
		       "with its number; for example:\n"
		       "  1 done            reminder 1 is done\n"
		       "  2 snooze 7d       remind me of 2 in 7 days (h, d, w)\n"
		       "  1 dismiss         drop reminder 1\n"
		       "  2 mute            never remind me about the person of 2 again";
	return "Reply to this email with one word:\n"
	       "  done            it is done\n"
	       "  snooze 7d       remind me in 7 days (h, d, w)\n"
	       "  dismiss         drop this reminder\n"
	       "  mute            never remind me about this person again";
}

/* ---- building and queueing one message ---- */

struct queued {
	const char *kind;       /* outbox kind */
	const char *subject;
	const char *text;
	const char *nudge_hdr;  /* X-Merci-Nudge, NULL for none */
	const char *in_reply_to;
	int64_t reply_to;       /* outbox id answered, 0 none */
};

static int
outbox_insert(struct store *st, const struct queued *q, const char *mid, const char *data,
	      size_t len, const char *rcpt, int64_t now, int64_t *out_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_INSERT,
		"INSERT INTO outbox (kind, message_id, rcpt, data, next_attempt,"
		" created_at, expires_at, reply_to) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)");

	if (!s)
		return -1;
	store_bind_text(s, 1, q->kind);
	store_bind_text(s, 2, mid);
	store_bind_text(s, 3, rcpt);
	sqlite3_bind_blob(s, 4, data, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, now + OUTBOX_EXPIRY);
	store_bind_id(s, 7, q->reply_to);
	if (store_step_done(st, s, "queueing a message") < 0)
		return -1;
	*out_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* Renders q as a mail from merci to the owner and inserts it. */
static int
outbox_queue_one(struct store *st, const struct config *cfg, const struct queued *q,
		 int64_t now, int64_t *out_id)
{
	struct local_day ld;
	struct mail_out m = { 0 };
	char *mid = mailbuild_message_id(cfg->owner_email), *data = NULL, *err = NULL;
	size_t len = 0;
	int rc;

	local_day_get(now, &ld);
	m.from_name = "merci";
	m.from_addr = cfg->owner_email;
	m.to_name = cfg->owner_name;
	m.to_addr = cfg->owner_email;
	m.subject = q->subject;
	m.text = q->text;
	m.message_id = mid;
	m.in_reply_to = q->in_reply_to;
	m.date = now;
	m.tz_offset_min = ld.tz_offset_min;
	m.lang = lang_fr(cfg) ? "fr" : "en";
	m.nudge = q->nudge_hdr;
	rc = mailbuild_render(&m, &data, &len, &err);
	if (rc < 0) {
		/* The subject names a contact: not at error level. */
		log_error("outbox: cannot build a reminder message: %s", err);
		log_debug("outbox: the message that could not be built: \"%s\"", q->subject);
	} else {
		rc = outbox_insert(st, q, mid, data, len, cfg->owner_email, now, out_id);
	}
	free(err);
	free(data);
	free(mid);
	return rc;
}

static int
outbox_item_add(struct store *st, int64_t outbox_id, int64_t nudge_id, int line, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_ITEM,
		"INSERT INTO outbox_item (outbox_id, nudge_id, line_no) VALUES (?1, ?2, ?3)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, outbox_id);
	sqlite3_bind_int64(s, 2, nudge_id);
	sqlite3_bind_int(s, 3, line);
	if (store_step_done(st, s, "linking a nudge to its message") < 0)
		return -1;
	return store_nudge_set_state(st, nudge_id, "sent", 0, now);
}

/* Template values for one nudge; the strings live in buffers owned by the
 * caller's stack (id, due) or by n. */
static void
nudge_vars(const struct config *cfg, const struct due_nudge *n, char id[24], char due[24],
	   struct template_vars *v)
{
	bool fr = lang_fr(cfg);

	snprintf(id, 24, "%" PRId64, n->id);
	time_format_local(n->due, due, 24);
	due[10] = '\0';   /* the day is enough */
	memset(v, 0, sizeof *v);
	v->name = n->name ? n->name : fr ? "cette personne" : "this person";
	v->email = n->email ? n->email : fr ? "adresse inconnue" : "address unknown";
	v->evidence = n->evidence;
	v->due = due;
	v->kind = kind_label(cfg, n->kind);
	v->id = id;
	v->commands = commands_text(cfg, false);
}

/* One message for one nudge, and the nudge marked sent. */
static int
queue_single(struct store *st, const struct config *cfg, const struct due_nudge *n,
	     int64_t now)
{
	struct template_vars v;
	struct queued q = { .kind = "nudge" };
	char id[24], due[24], *subject = NULL, *body = NULL, *err = NULL, *hdr;
	int64_t outbox_id = 0;
	int rc;

	nudge_vars(cfg, n, id, due, &v);
	if (template_render(cfg->language, n->kind, &v, &subject, &body, &err) < 0) {
		log_error("outbox: nudge %" PRId64 ": %s", n->id, err);
		free(err);
		return -1;
	}
	hdr = xasprintf("%s %" PRId64, n->kind, n->id);
	q.subject = subject;
	q.text = body;
	q.nudge_hdr = hdr;
	rc = outbox_queue_one(st, cfg, &q, now, &outbox_id);
	if (rc == 0)
		rc = outbox_item_add(st, outbox_id, n->id, 1, now);
	free(hdr);
	free(subject);
	free(body);
	return rc;
}

/* The digest's numbered lines: "1. Remercier : Amélie Tremblay" and the
 * evidence below, indented. */
static char *
digest_items(const struct config *cfg, const struct due_nudge *v, size_t n)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < n; i++) {
		const char *who = v[i].name ? v[i].name : v[i].email;
		char *label = mailbuild_sanitise(who ? who : "", 200);
		char *ev = mailbuild_sanitise(v[i].evidence ? v[i].evidence : "", 1000);
		const char *kl = kind_label(cfg, v[i].kind);

		buf_printf(&b, "%s%zu. %c%s%s%s\n   %s\n", i ? "\n" : "", i + 1,
			   (char)(kl[0] >= 'a' && kl[0] <= 'z' ? kl[0] - 32 : kl[0]), kl + 1,
			   *label ? (lang_fr(cfg) ? " : " : ": ") : "", label, ev);
		free(label);
		free(ev);
	}
	if (b.len)
		b.data[--b.len] = '\0';   /* the template places the list */
	return buf_steal(&b);
}

/* One digest listing every due nudge once, numbered; all marked sent. */
static int
queue_digest(struct store *st, const struct config *cfg, const struct due_nudge *v,
	     size_t n, int64_t now)
{
	struct template_vars tv = { 0 };
	struct queued q = { .kind = "digest" };
	struct local_day ld;
	char *items = digest_items(cfg, v, n), *subject = NULL, *body = NULL, *err = NULL;
	char *hdr = xasprintf("digest %zu", n);
	int64_t outbox_id = 0;
	int rc;

	local_day_get(now, &ld);
	tv.due = ld.date;
	tv.items = items;
	tv.commands = commands_text(cfg, true);
	rc = template_render(cfg->language, "digest", &tv, &subject, &body, &err);
	if (rc < 0)
		log_error("outbox: digest: %s", err);
	q.subject = subject;
	q.text = body;
	q.nudge_hdr = hdr;
	if (rc == 0)
		rc = outbox_queue_one(st, cfg, &q, now, &outbox_id);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = outbox_item_add(st, outbox_id, v[i].id, (int)i + 1, now);
	free(err);
	free(items);
	free(hdr);
	free(subject);
	free(body);
	return rc;
}

/* How many of the n due nudges go now, and as what; *why says why the
 * others wait. */
static int
queue_plan(struct store *st, const struct config *cfg, int64_t now, size_t n,
	   size_t *take, const char **why)
{
	struct local_day ld;
	int64_t today = 0, digests = 0, left;

	local_day_get(now, &ld);
	*take = 0;
	*why = NULL;
	if (in_quiet_hours(cfg, ld.minute)) {
		*why = "quiet hours";
		return 0;
	}
	if (outbox_count_since(st, ld.midnight, NULL, &today) < 0)
		return -1;
	left = cfg->nudges.daily_cap - today;
	if (cfg->nudges.digest) {
		if (ld.minute < cfg->nudges.digest_minute)
			*why = "digest time";
		else if (outbox_count_since(st, ld.midnight, "digest", &digests) < 0)
			return -1;
		else if (digests > 0)
			*why = "digest time";   /* today's went out: tomorrow's */
		else if (left <= 0)
			*why = "daily cap";
		else
			*take = n;
		return 0;
	}
	*take = left <= 0 ? 0 : (size_t)left < n ? (size_t)left : n;
	if (*take < n)
		*why = "daily cap";
	return 0;
}

int
outbox_queue_due(struct store *st, const struct config *cfg, int64_t now,
		 struct outbox_queue_stats *stats)
{
	struct outbox_queue_stats dummy;
	struct due_nudge *v = NULL;
	size_t n = 0, take = 0;
	int rc;

	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof *stats);
	if (outbox_begin(st) < 0)
		return -1;
	rc = due_nudges_load(st, now, &v, &n);
	if (rc == 0 && n > 0)
		rc = queue_plan(st, cfg, now, n, &take, &stats->why_held);
	if (rc == 0 && take > 0 && cfg->nudges.digest) {
		rc = queue_digest(st, cfg, v, take, now);
		stats->messages = 1;
	}
	for (size_t i = 0; rc == 0 && !cfg->nudges.digest && i < take; i++) {
		rc = queue_single(st, cfg, &v[i], now);
		stats->messages++;
	}
	stats->nudges = (int64_t)take;
	stats->held = (int64_t)(n - take);
	due_nudges_free(v, n);
	if (outbox_end(st, rc == 0) < 0) {
		memset(stats, 0, sizeof *stats);
		return -1;
	}
	if (stats->messages)
		log_event(LOG_INFO, LOG_ID_NUDGE_QUEUED, "outbox: queued %" PRId64 " message(s) for %" PRId64 " nudge(s)",
			 stats->messages, stats->nudges);
	return 0;
}

/* ---- sending ---- */

void
outbox_msg_free(struct outbox_msg *m)
{
	free(m->kind);
	free(m->message_id);
	free(m->rcpt);
	free(m->data);
	memset(m, 0, sizeof *m);
}

static void
outbox_msg_read(sqlite3_stmt *s, struct outbox_msg *m)
{
	const void *blob = sqlite3_column_blob(s, 4);
	int len = sqlite3_column_bytes(s, 4);

	m->id = sqlite3_column_int64(s, 0);
	m->kind = store_column_strdup(s, 1);
	m->message_id = store_column_strdup(s, 2);
	m->rcpt = store_column_strdup(s, 3);
	m->len = (size_t)len;
	m->data = xmalloc(m->len + 1);
	if (len > 0)
		memcpy(m->data, blob, m->len);
	m->data[m->len] = '\0';
	m->attempts = sqlite3_column_int64(s, 5);
}

int
outbox_next(struct store *st, int64_t now, struct outbox_msg *m, bool *found)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_NEXT,
		"SELECT id, kind, message_id, rcpt, data, attempts FROM outbox"
		" WHERE state = 'queued' AND next_attempt <= ?1"
		" ORDER BY next_attempt, id LIMIT 1");
	int rc;

	memset(m, 0, sizeof *m);
	*found = false;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		outbox_msg_read(s, m);
		*found = true;
	}
	store_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "reading the outbox");
	return 0;
}

int
outbox_mark_sending(struct store *st, int64_t id, int64_t now)
{
	sqlite3_stmt *s;
	int rc;

	(void)now;
	if (outbox_begin(st) < 0)
		return -1;
	s = store_stmt(st, STMT_O_SENDING,
		"UPDATE outbox SET state = 'sending', attempts = attempts + 1"
		" WHERE id = ?1 AND state = 'queued'");
	rc = s ? 0 : -1;
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		rc = store_step_done(st, s, "marking a message as being sent");
	}
	if (rc == 0 && sqlite3_changes(st->db) != 1) {
		log_error("outbox: message %" PRId64 " is not queued", id);
		rc = -1;
	}
	return outbox_end(st, rc == 0);
}

/* 60 s, 120 s, 240 s... capped at an hour, +-20 % so that a server coming
 * back is not hit by every queue at once. */
static int64_t
outbox_backoff(int64_t attempts)
{
	int64_t base = OUTBOX_BACKOFF_MIN;
	uint32_t r = 0;

	for (int64_t i = 1; i < attempts && base < OUTBOX_BACKOFF_MAX; i++)
		base *= 2;
	if (base > OUTBOX_BACKOFF_MAX)
		base = OUTBOX_BACKOFF_MAX;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)time(NULL) * 2654435761u;
	return base * 8 / 10 + (int64_t)(r % (uint32_t)(base * 4 / 10 + 1));
}

struct row_age {
	int64_t attempts, expires_at;
	char *message_id;
};

static int
outbox_age(struct store *st, int64_t id, struct row_age *a)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_AGE,
		"SELECT attempts, expires_at, message_id FROM outbox WHERE id = ?1");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		a->attempts = sqlite3_column_int64(s, 0);
		a->expires_at = sqlite3_column_int64(s, 1);
		a->message_id = store_column_strdup(s, 2);
	}
	store_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		log_error("outbox: no message %" PRId64, id);
	return rc == SQLITE_DONE ? -1 : store_fail(st, "reading an outbox row");
}

static int
outbox_update(struct store *st, int64_t id, const char *state, int64_t next,
	      const char *error, long code, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_RESULT,
		"UPDATE outbox SET state = ?2, next_attempt = ?3, last_error = ?4,"
		" last_code = ?5, sent_at = CASE WHEN ?2 = 'sent' THEN ?6 ELSE sent_at END"
		" WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, next);
	store_bind_text(s, 4, error);
	sqlite3_bind_int64(s, 5, code);
	sqlite3_bind_int64(s, 6, now);
	return store_step_done(st, s, "recording a send");
}

int
outbox_mark_result(struct store *st, int64_t id, enum outbox_result result,
		   long code, const char *error, int64_t now)
{
	struct row_age a = { 0 };
	const char *state = "sent", *why = error ? error : "no reason given";
	int64_t next = now;
	int rc;

	if (outbox_begin(st) < 0)
		return -1;
	rc = outbox_age(st, id, &a);
	if (rc == 0 && result == OUTBOX_TEMPFAIL) {
		next = now + outbox_backoff(a.attempts);
		state = now > a.expires_at ? "failed" : "queued";
	} else if (rc == 0 && result == OUTBOX_PERMFAIL) {
		state = "failed";
	}
	if (rc == 0)
		rc = outbox_update(st, id, state, next, result == OUTBOX_SENT ? NULL : error,
				   code, now);
	rc = outbox_end(st, rc == 0);
	/* After the commit: the log says what the store says. Each row fails
	 * once, so a failure is logged once. */
	if (rc == 0 && result == OUTBOX_SENT)
		log_event(LOG_INFO, LOG_ID_MAIL_SENT, "outbox: message %s sent", a.message_id);
	else if (rc == 0 && strcmp(state, "queued") == 0)
		log_warn("outbox: message %s not sent (attempt %" PRId64 "): %s; retrying in %"
			 PRId64 " s", a.message_id, a.attempts, why, next - now);
	else if (rc == 0 && result == OUTBOX_TEMPFAIL)
		log_event(LOG_ERR, LOG_ID_MAIL_FAILED, "outbox: message %s failed: still not sent after %d days (%s); "
			  "giving up, see merci status", a.message_id, OUTBOX_EXPIRY / 86400, why);
	else if (rc == 0)
		log_event(LOG_ERR, LOG_ID_MAIL_FAILED, "outbox: message %s failed: %s; it will not be retried, see merci "
			  "status", a.message_id, why);
	free(a.message_id);
	return rc;
}

/* Logs each row a crash left "sending": its mail may have gone out. */
static int
outbox_log_sending(struct store *st, int64_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_SENDING_LIST,
		"SELECT id, message_id FROM outbox WHERE state = 'sending' ORDER BY id");
	int rc;

	*n = 0;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		(*n)++;
		log_warn("outbox: message %s was being sent when mercid stopped; sending it "
			 "again with the same Message-ID (possible duplicate)",
			 (const char *)sqlite3_column_text(s, 1));
	}
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, "reading the outbox");
}

int
outbox_recover(struct store *st, int64_t now, int64_t *n)
{
	sqlite3_stmt *s;
	int64_t count = 0;
	int rc;

	if (outbox_begin(st) < 0)
		return -1;
	rc = outbox_log_sending(st, &count);
	s = rc == 0 ? store_stmt(st, STMT_O_REQUEUE,
		"UPDATE outbox SET state = 'queued', next_attempt = ?1"
		" WHERE state = 'sending'") : NULL;
	if (s) {
		sqlite3_bind_int64(s, 1, now);
		rc = store_step_done(st, s, "requeueing interrupted sends");
	} else {
		rc = -1;
	}
	if (n)
		*n = count;
	return outbox_end(st, rc == 0);
}

int
outbox_counts(struct store *st, int64_t *queued, int64_t *failed)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_COUNTS,
		"SELECT coalesce(sum(state IN ('queued', 'sending')), 0),"
		" coalesce(sum(state = 'failed'), 0) FROM outbox");
	int rc;

	*queued = *failed = 0;
	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*queued = sqlite3_column_int64(s, 0);
		*failed = sqlite3_column_int64(s, 1);
	}
	store_reset(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, "counting the outbox");
}

static int
status_counts(struct store *st, struct outbox_status *out)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_STATUS,
		"SELECT coalesce(sum(state IN ('queued', 'sending')), 0),"
		" coalesce(sum(state = 'sent'), 0), coalesce(sum(state = 'failed'), 0)"
		" FROM outbox");
	int rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->queued = sqlite3_column_int64(s, 0);
		out->sent = sqlite3_column_int64(s, 1);
		out->failed = sqlite3_column_int64(s, 2);
	}
	store_reset(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, "counting the outbox");
}

/* A server's multi-line reply shows as its last line, the one that says
 * why. */
static char *
error_line(const char *e)
{
	const char *end, *start;

	if (!e || !*e)
		return xstrdup("no reason given");
	end = e + strlen(e);
	while (end > e && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > e && start[-1] != '\n' && start[-1] != '\r')
		start--;
	return start < end ? xstrndup(start, (size_t)(end - start)) : xstrdup("no reason given");
}

int
outbox_status_get(struct store *st, struct outbox_status *out)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if (status_counts(st, out) < 0)
		return -1;
	s = store_stmt(st, STMT_O_FAILURES,
		"SELECT id, last_code, last_error FROM outbox WHERE state = 'failed'"
		" ORDER BY id DESC LIMIT ?1");
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, OUTBOX_STATUS_FAILURES);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct outbox_failure *f;

		out->failures = xreallocarray_grow(out->failures, &cap, out->n_failures + 1,
						   sizeof *out->failures);
		f = &out->failures[out->n_failures++];
		f->id = sqlite3_column_int64(s, 0);
		f->code = (long)sqlite3_column_int64(s, 1);
		f->error = error_line((const char *)sqlite3_column_text(s, 2));
	}
	store_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	outbox_status_free(out);
	return store_fail(st, "reading the failed messages");
}

void
outbox_status_free(struct outbox_status *s)
{
	for (size_t i = 0; i < s->n_failures; i++)
		free(s->failures[i].error);
	free(s->failures);
	memset(s, 0, sizeof *s);
}

/* ---- replies that act ---- */

/* The reply functions run alone (tests, a tool) or inside the caller's
 * transaction: ingest's hook records the owner's reply and its effect
 * together, or neither. They open a transaction only when none is open;
 * inside one, the caller commits or rolls back. */
static int
reply_begin(struct store *st, bool *own)
{
	*own = sqlite3_get_autocommit(st->db) != 0;
	return *own ? outbox_begin(st) : 0;
}

static int
reply_end(struct store *st, bool own, bool ok)
{
	if (own)
		return outbox_end(st, ok);
	return ok ? 0 : -1;
}

int
outbox_find_by_message_id(struct store *st, const char *mid, int64_t *outbox_id)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_FIND,
		"SELECT id FROM outbox WHERE message_id = ?1");
	char *bare;
	size_t len;
	int rc;

	*outbox_id = 0;
	if (!s)
		return -1;
	while (*mid == ' ' || *mid == '<')
		mid++;
	bare = xstrdup(mid);
	len = strcspn(bare, "> \t\r\n");
	bare[len] = '\0';
	store_bind_text(s, 1, bare);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*outbox_id = sqlite3_column_int64(s, 0);
	store_reset(s);
	free(bare);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, "finding a message");
}

struct item {
	int64_t nudge_id;
	int line;
	int64_t contact_id;
};

static int
items_load(struct store *st, int64_t outbox_id, struct item **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_ITEMS,
		"SELECT i.nudge_id, i.line_no, coalesce(n.contact_id, 0)"
		" FROM outbox_item i JOIN nudge n ON n.id = i.nudge_id"
		" WHERE i.outbox_id = ?1 ORDER BY i.line_no");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, outbox_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray_grow(*out, &cap, *n + 1, sizeof **out);
		(*out)[*n].nudge_id = sqlite3_column_int64(s, 0);
		(*out)[*n].line = sqlite3_column_int(s, 1);
		(*out)[(*n)++].contact_id = sqlite3_column_int64(s, 2);
	}
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, "reading a message's nudges");
}

/* The item a command names: its line, or the only one. */
static const struct item *
item_pick(const struct item *v, size_t n, int line)
{
	if (line == 0)
		return n == 1 ? &v[0] : NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].line == line)
			return &v[i];
	return NULL;
}

/* Applies c to it: 0 done, 1 not applicable, -1 error. */
static int
reply_apply_one(struct store *st, const struct item *it, const struct reply_cmd *c,
		int64_t now)
{
	switch (c->action) {
	case REPLY_DONE:
		return store_nudge_set_state(st, it->nudge_id, "done", 0, now);
	case REPLY_SNOOZE:
		return store_nudge_set_state(st, it->nudge_id, "snoozed", now + c->seconds, now);
	case REPLY_DISMISS:
		return store_nudge_set_state(st, it->nudge_id, "dismissed", 0, now);
	case REPLY_MUTE:
		if (it->contact_id && store_contact_mute(st, it->contact_id, true) < 0)
			return -1;
		return store_nudge_set_state(st, it->nudge_id, "dismissed", 0, now);
	case REPLY_HELP:
	case REPLY_UNKNOWN:
		break;
	}
	return 1;
}

int
outbox_apply_reply(struct store *st, int64_t outbox_id, const struct reply_cmd *cmds,
		   size_t n, int64_t now)
{
	struct item *items = NULL;
	size_t n_items = 0;
	int rc, help = n == 0;
	bool own;

	if (reply_begin(st, &own) < 0)
		return -1;
	rc = items_load(st, outbox_id, &items, &n_items);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct item *it = item_pick(items, n_items, cmds[i].line);
		int r = it ? reply_apply_one(st, it, &cmds[i], now) : 1;

		if (r < 0)
			rc = -1;
		else if (r > 0)
			help = 1;
		else
			log_info("outbox: the owner's reply to message %" PRId64 ": %s nudge %"
				 PRId64, outbox_id, reply_action_name(cmds[i].action), it->nudge_id);
	}
	free(items);
	return reply_end(st, own, rc == 0) < 0 ? -1 : help;
}

/* Whether outbox_id already has its help reply, and its Message-ID. */
static int
help_state(struct store *st, int64_t outbox_id, bool *answered, char **mid, bool *digest)
{
	sqlite3_stmt *s = store_stmt(st, STMT_O_HELP_OF,
		"SELECT o.message_id, EXISTS (SELECT 1 FROM outbox h WHERE h.reply_to = o.id),"
		" o.kind = 'digest' FROM outbox o WHERE o.id = ?1");
	int rc;

	*mid = NULL;
	*answered = true;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, outbox_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*mid = store_column_strdup(s, 0);
		*answered = sqlite3_column_int(s, 1) != 0;
		*digest = sqlite3_column_int(s, 2) != 0;
	}
	store_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, "reading a message");
}

int
outbox_queue_help(struct store *st, const struct config *cfg, int64_t outbox_id, int64_t now)
{
	struct template_vars v = { 0 };
	struct queued q = { .kind = "reply", .reply_to = outbox_id };
	char *mid = NULL, *subject = NULL, *body = NULL, *err = NULL;
	bool answered = true, digest = false, own;
	int64_t id;
	int rc;

	if (reply_begin(st, &own) < 0)
		return -1;
	rc = help_state(st, outbox_id, &answered, &mid, &digest);
	v.commands = commands_text(cfg, digest);
	if (rc == 0 && !answered) {
		rc = template_render(cfg->language, "help", &v, &subject, &body, &err);
		if (rc < 0)
			log_error("outbox: help reply: %s", err);
		q.subject = subject;
		q.text = body;
		q.in_reply_to = mid;
		if (rc == 0)
			rc = outbox_queue_one(st, cfg, &q, now, &id);
	}
	free(mid);
	free(subject);
	free(body);
	free(err);
	return reply_end(st, own, rc == 0);
}
