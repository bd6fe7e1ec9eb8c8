/* server_tasks: the rows behind the \Seen flags and the drafts merci puts
 * in the owner's mailbox, and the lists the IMAP child is handed. See
 * server_tasks.h. */
#include "server_tasks.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mailbuild.h"
#include "record.h"
#include "store_p.h"
#include "template.h"
#include "xalloc.h"

/* Rows handed to the child per round: a backlog drains over a few rounds
 * instead of one huge answer. */
#define SEEN_PER_ROUND 500
#define DRAFTS_PER_ROUND 20

int
server_tasks_seen_add(struct store *st, int64_t account_id, const char *folder,
		      uint32_t uid, int64_t now)
{
	/* The folder row holds the UIDVALIDITY the message was read under:
	 * its FOLDER record is committed before any of its batches. */
	sqlite3_stmt *s = store_stmt(st, STMT_T_SEEN_ADD,
		"INSERT OR IGNORE INTO seen_pending (account_id, folder, uidvalidity, uid,"
		" created_at) SELECT ?1, ?2, f.uidvalidity, ?3, ?4 FROM folder f"
		" WHERE f.account_id = ?1 AND f.name = ?2");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	store_bind_text(s, 2, folder);
	sqlite3_bind_int64(s, 3, uid);
	sqlite3_bind_int64(s, 4, now);
	return store_step_done(st, s, "noting a reply to flag as read");
}

/* ---- drafts ---- */

struct draft_due {
	int64_t nudge_id;
	char *name, *email, *lang;
};

/* What the draft calls the person: the first word of their name (a
 * thank-you says "Bonjour Jean,"), else the local part of the address. */
static char *
draft_first_name(const char *name, const char *email)
{
	const char *p = name;
	size_t n;

	if (p) {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ,");
		if (n)
			return xstrndup(p, n);
	}
	return xstrndup(email, strcspn(email, "@"));
}

/* The contact's language when merci writes templates for it, else the
 * owner's: a contact's language may be any tag ("fr-CA", "English"). */
static const char *
draft_lang(const struct config *cfg, const char *lang)
{
	if (lang && tolower((unsigned char)lang[0]) == 'f' && tolower((unsigned char)lang[1]) == 'r')
		return "fr";
	if (lang && tolower((unsigned char)lang[0]) == 'e' && tolower((unsigned char)lang[1]) == 'n')
		return "en";
	return cfg->language ? cfg->language : "fr";
}

static int
draft_render(const struct config *cfg, const struct draft_due *d, int64_t now,
	     char **mid, char **data, size_t *len)
{
	const char *lang = draft_lang(cfg, d->lang);
	char *first = draft_first_name(d->name, d->email);
	struct template_vars v = { .name = first, .email = d->email };
	char *subject = NULL, *body = NULL, *err = NULL, *rnd;
	struct mail_out m = { 0 };
	time_t t = (time_t)now;
	struct tm tm;
	int rc;

	*data = NULL;
	/* mailbuild's random id with its own prefix: reply_hook.c looks up
	 * only "merci." ids, and a reply to the owner's thank-you is none of
	 * merci's business. */
	rnd = mailbuild_message_id(cfg->owner_email);
	*mid = xasprintf("merci-draft.%s", rnd + strlen("merci."));
	free(rnd);
	localtime_r(&t, &tm);
	rc = template_render(lang, "draft-thank-you", &v, &subject, &body, &err);
	if (rc == 0) {
		m.from_name = cfg->owner_name;
		m.from_addr = cfg->owner_email;
		m.to_name = d->name;
		m.to_addr = d->email;
		m.subject = subject;
		m.text = body;
		m.message_id = *mid;
		m.date = now;
		m.tz_offset_min = (int)(tm.tm_gmtoff / 60);
		m.lang = lang;
		m.draft = true;
		free(err);
		err = NULL;
		rc = mailbuild_render(&m, data, len, &err);
	}
	if (rc < 0)
		log_error("drafts: cannot build the thank-you draft of nudge %lld: %s",
			  (long long)d->nudge_id, err ? err : "?");
	free(first);
	free(subject);
	free(body);
	free(err);
	return rc;
}

static void
drafts_due_free(struct draft_due *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].email);
		free(v[i].lang);
	}
	free(v);
}

/* Thank-you nudges of the account mailed lately that have no draft yet.
 * The account is the one holding the latest exchange with the person
 * (the first one when there is none, e.g. a referral entered by hand); the
 * language, the contact's or that of what they wrote last. */
static int
drafts_due(struct store *st, int64_t account_id, int64_t now, struct draft_due **out,
	   size_t *n_out)
{
	sqlite3_stmt *s = store_stmt(st, STMT_T_DRAFT_DUE,
		"SELECT n.id, c.name, " STORE_SQL_EMAIL("c") ","
		" coalesce(c.language, (SELECT e.language FROM address a"
		"  JOIN participant p ON p.address_id = a.id AND p.role = 'from'"
		"  JOIN exchange e ON e.id = p.exchange_id"
		"  WHERE a.contact_id = c.id AND e.language IS NOT NULL"
		"  ORDER BY e.date DESC LIMIT 1))"
		" FROM nudge n JOIN contact c ON c.id = n.contact_id"
		" WHERE n.kind = 'thank-you' AND n.state = 'sent' AND n.sent_at >= ?2"
		"  AND NOT EXISTS (SELECT 1 FROM draft d WHERE d.nudge_id = n.id)"
		"  AND coalesce((SELECT e.account_id FROM address a"
		"   JOIN participant p ON p.address_id = a.id"
		"   JOIN exchange e ON e.id = p.exchange_id"
		"   WHERE a.contact_id = c.id ORDER BY e.date DESC LIMIT 1),"
		"   (SELECT min(id) FROM account)) = ?1"
		" ORDER BY n.id LIMIT ?3");
	struct draft_due *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, now - SERVER_TASKS_DRAFT_WINDOW);
	sqlite3_bind_int(s, 3, DRAFTS_PER_ROUND);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 2) == SQLITE_NULL)
			continue;       /* nobody to address it to */
		v = xreallocarray_grow(v, &cap, n + 1, sizeof *v);
		v[n].nudge_id = sqlite3_column_int64(s, 0);
		v[n].name = store_column_strdup(s, 1);
		v[n].email = store_column_strdup(s, 2);
		v[n].lang = store_column_strdup(s, 3);
		n++;
	}
	store_reset(s);
	if (rc != SQLITE_DONE) {
		drafts_due_free(v, n);
		return store_fail(st, "listing the thank-you drafts to make");
	}
	*out = v;
	*n_out = n;
	return 0;
}

static int
draft_insert(struct store *st, int64_t account_id, int64_t nudge_id, const char *mid,
	     const char *data, size_t len, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, STMT_T_DRAFT_ADD,
		"INSERT OR IGNORE INTO draft (nudge_id, account_id, message_id, data, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, nudge_id);
	sqlite3_bind_int64(s, 2, account_id);
	store_bind_text(s, 3, mid);
	sqlite3_bind_blob(s, 4, data, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	return store_step_done(st, s, "recording a draft");
}

/* Renders and records the drafts now due, in one transaction: each nudge
 * gets its bytes and Message-ID once, whatever happens next. Returns how
 * many were recorded, or -1. */
static int
drafts_make(struct store *st, const struct config *cfg, int64_t account_id, int64_t now)
{
	struct draft_due *due = NULL;
	size_t n = 0, len;
	char *mid, *data;
	int rc = -1, made = 0;

	if (store_begin(st) < 0)
		return -1;
	if (drafts_due(st, account_id, now, &due, &n) < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		/* One that cannot be built (a broken template override) is
		 * logged and tried again next round. */
		if (draft_render(cfg, &due[i], now, &mid, &data, &len) == 0) {
			if (draft_insert(st, account_id, due[i].nudge_id, mid, data, len, now) < 0) {
				rc = -1;
			} else {
				made++;
				log_info("drafts: a thank-you to %s is ready for the Drafts folder "
					 "(nudge %lld)", due[i].email, (long long)due[i].nudge_id);
			}
		}
		free(mid);
		free(data);
	}
out:
	drafts_due_free(due, n);
	if (rc == 0)
		return store_commit(st) < 0 ? -1 : made;
	store_rollback(st);
	return -1;
}

int
server_tasks_make(struct store *st, const struct config *cfg, int64_t account_id, int64_t now)
{
	return cfg->nudges.drafts ? drafts_make(st, cfg, account_id, now) : 0;
}

/* ---- the answer ---- */

static int
answer_seen(struct store *st, int64_t account_id, struct buf *out)
{
	sqlite3_stmt *s = store_stmt(st, STMT_T_SEEN_LIST,
		"SELECT folder, uidvalidity, uid FROM seen_pending WHERE account_id = ?1"
		" ORDER BY folder, uidvalidity, uid LIMIT ?2");
	struct record r = { .type = REC_SEEN };
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int(s, 2, SEEN_PER_ROUND);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.folder = (char *)sqlite3_column_text(s, 0);
		r.uidvalidity = (uint32_t)sqlite3_column_int64(s, 1);
		r.uid = (uint32_t)sqlite3_column_int64(s, 2);
		record_encode(&r, out);
	}
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, "listing the replies to flag as read");
}

/* Encodes one draft; the wire carries LF line ends (lib/record.h), the
 * child puts the CRs back. */
static void
answer_draft_one(int64_t nudge_id, const char *mid, const char *data, size_t len,
		 struct buf *out)
{
	struct record r = { .type = REC_DRAFT, .id = nudge_id, .text = (char *)mid };
	struct buf lf = { 0 };

	for (size_t i = 0; i < len; i++)
		if (data[i] != '\r')
			buf_addc(&lf, data[i]);
	if (lf.len > RECORD_MAX_STRING || strlen(lf.data) != lf.len) {
		/* mailbuild's drafts are a few kilobytes of text. */
		log_error("drafts: the draft of nudge %lld cannot be handed over; skipped",
			  (long long)nudge_id);
	} else {
		r.data = lf.data;
		record_encode(&r, out);
	}
	buf_free(&lf);
}

static int
answer_drafts(struct store *st, int64_t account_id, int64_t now, struct buf *out)
{
	/* Only while the nudge waits: a thank-you already done or dismissed
	 * needs no draft any more. */
	sqlite3_stmt *s = store_stmt(st, STMT_T_DRAFT_LIST,
		"SELECT d.nudge_id, d.message_id, d.data FROM draft d"
		" JOIN nudge n ON n.id = d.nudge_id"
		" WHERE d.account_id = ?1 AND d.state = 'pending' AND n.state = 'sent'"
		"  AND d.created_at >= ?2 ORDER BY d.nudge_id LIMIT ?3");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, now - SERVER_TASKS_DRAFT_WINDOW);
	sqlite3_bind_int(s, 3, DRAFTS_PER_ROUND);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		answer_draft_one(sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
				 sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2), out);
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, "listing the drafts to append");
}

int
server_tasks_answer(struct store *st, const struct config *cfg, int64_t account_id,
		    int64_t now, struct buf *out)
{
	size_t at = out->len;

	if (server_tasks_make(st, cfg, account_id, now) < 0)
		goto fail;
	if (answer_seen(st, account_id, out) < 0 ||
	    (cfg->nudges.drafts && answer_drafts(st, account_id, now, out) < 0))
		goto fail;
	record_encode(&(struct record){ .type = REC_TASKS }, out);
	return 0;
fail:
	out->len = at;
	return -1;
}

int
server_tasks_done(struct store *st, int64_t account_id, const struct record *r, int64_t now)
{
	sqlite3_stmt *s;

	if (r->type == REC_SEEN) {
		s = store_stmt(st, STMT_T_SEEN_DONE,
			"DELETE FROM seen_pending WHERE account_id = ?1 AND folder = ?2"
			" AND uidvalidity = ?3 AND uid = ?4");
		if (!s)
			return -1;
		sqlite3_bind_int64(s, 1, account_id);
		store_bind_text(s, 2, r->folder);
		sqlite3_bind_int64(s, 3, r->uidvalidity);
		sqlite3_bind_int64(s, 4, r->uid);
		return store_step_done(st, s, "forgetting a reply flagged as read");
	}
	s = store_stmt(st, STMT_T_DRAFT_DONE,
		"UPDATE draft SET state = 'appended', appended_at = ?3"
		" WHERE nudge_id = ?1 AND account_id = ?2 AND state = 'pending'");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_int64(s, 2, account_id);
	sqlite3_bind_int64(s, 3, now);
	return store_step_done(st, s, "recording a draft as appended");
}
