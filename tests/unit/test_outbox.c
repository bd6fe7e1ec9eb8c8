/* test_outbox: nudges become messages exactly once (one per nudge, or one
 * digest a day), quiet hours and the daily cap hold them, sends are
 * retried with backoff until sent or expired, a send interrupted by a
 * crash is sent again with the same Message-ID, and the owner's replies
 * act on the right nudges. */
#include "unit.h"

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "outbox.h"
#include "reply_cmd.h"
#include "store.h"
#include "store_p.h"
#include "store_rel.h"
#include "xalloc.h"

#define DAY 86400
#define T0 1790251200   /* 2026-09-24T12:00:00Z, a Thursday; TZ is UTC here */

struct fixture {
	char *dir, *path;
	struct store *st;
	struct config cfg;
	int64_t amelie, jp;
};

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
}

static void
exec_sql(struct fixture *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(f->st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sql failed: %s: %s\n", msg, sql);
		exit(1);
	}
}

static int64_t
sql_int(struct fixture *f, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(f->st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "sql failed: %s: %s\n", sqlite3_errmsg(f->st->db), sql);
		exit(1);
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static char *
sql_text(struct fixture *f, const char *sql)
{
	sqlite3_stmt *s;
	char *v = NULL;

	if (sqlite3_prepare_v2(f->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		exit(1);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = xstrndup((const char *)sqlite3_column_blob(s, 0),
			     (size_t)sqlite3_column_bytes(s, 0));
	sqlite3_finalize(s);
	return v;
}

static int64_t
person(struct fixture *f, const char *name, const char *email)
{
	int64_t cid = 0, aid, linked;

	CHECK(store_contact_create(f->st, name, T0, &cid) == 0);
	CHECK(store_address_upsert(f->st, email, name, false, &aid, &linked) == 0);
	CHECK(store_address_link(f->st, aid, cid) == 0);
	return cid;
}

static int64_t
nudge(struct fixture *f, const char *kind, int64_t contact, int64_t due, const char *evidence)
{
	char *sql = xasprintf("INSERT INTO nudge (kind, dedupe_key, contact_id, due, evidence,"
			      " created_at, updated_at) VALUES ('%s', 'test-' ||"
			      " (SELECT count(*) FROM nudge), %lld, %lld, '%s', %d, %d)", kind,
			      (long long)contact, (long long)due, evidence, T0, T0);

	exec_sql(f, sql);
	free(sql);
	return sqlite3_last_insert_rowid(f->st->db);
}

static char *
test_srcdir(void)
{
	const char *top = getenv("top_srcdir"), *file = __FILE__;
	const char *tail = strstr(file, "tests/unit/test_outbox.c");

	if (top && *top)
		return xstrdup(top);
	if (tail && tail > file)
		return xstrndup(file, (size_t)(tail - file - 1));
	return xstrdup(".");
}

static void
fixture_open(struct fixture *f, bool digest)
{
	const char *t = getenv("TMPDIR");
	char *err = NULL;

	memset(f, 0, sizeof *f);
	f->dir = xasprintf("%s/merci-outbox-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir))
		exit(1);
	f->path = xasprintf("%s/outbox.db", f->dir);
	if (store_open(f->path, STORE_RW, &f->st, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	f->cfg.owner_name = "Camille Roy";
	f->cfg.owner_email = "camille@example.org";
	f->cfg.language = "fr";
	f->cfg.nudges.daily_cap = 5;
	f->cfg.nudges.digest = digest;
	f->cfg.nudges.digest_minute = 8 * 60 + 30;
	f->amelie = person(f, "Amélie Tremblay", "amelie@example.net");
	f->jp = person(f, "Jean-Pierre Gagnon", "jp@example.com");
}

static void
fixture_close(struct fixture *f)
{
	store_close(f->st);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f->path);
	free(f->dir);
}

/* One message per due nudge, exactly once, with the headers merci promises. */
static void
test_single(void)
{
	struct fixture f;
	struct outbox_queue_stats qs;
	int64_t n1, n2;
	char *data;

	fixture_open(&f, false);
	n1 = nudge(&f, "thank-you", f.amelie, T0 - DAY, "Amélie Tremblay vous a présenté Jean Dupont le 20 septembre");
	n2 = nudge(&f, "follow-up", f.jp, T0 - 3600, "Vous avez écrit à Jean-Pierre le 15 septembre");
	nudge(&f, "keep-in-touch", f.jp, T0 + DAY, "Pas de nouvelles depuis 90 jours");

	CHECK(outbox_queue_due(f.st, &f.cfg, T0, &qs) == 0);
	CHECK_INT(qs.messages, 2);
	CHECK_INT(qs.nudges, 2);
	CHECK_INT(qs.held, 0);
	CHECK(outbox_queue_due(f.st, &f.cfg, T0 + 60, &qs) == 0);
	CHECK_INT(qs.messages, 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox"), 2);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM nudge WHERE state = 'sent' AND sent_at > 0"), 2);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox_item WHERE line_no = 1"), 2);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE state = 'queued'"
			      " AND expires_at = created_at + 5 * 86400"), 2);

	data = sql_text(&f, "SELECT data FROM outbox o JOIN outbox_item i ON i.outbox_id = o.id"
			    " WHERE i.nudge_id = 1");
	if (getenv("SHOW_MAIL"))
		fputs(data, stderr);
	CHECK(data && strstr(data, "\r\nAuto-Submitted: auto-generated\r\n"));
	CHECK(data && strstr(data, "\r\nX-Merci-Nudge: thank-you 1\r\n"));
	CHECK(data && strstr(data, "\r\nTo: \"Camille Roy\" <camille@example.org>\r\n"));
	CHECK(data && strstr(data, "Subject: =?UTF-8?"));
	CHECK(data && strstr(data, "Content-Language: fr"));
	CHECK(data && strstr(data, "R=C3=A9pondez")); /* the commands, in QP */
	free(data);
	(void)n1;
	(void)n2;

	/* Tomorrow, the third one is due and goes alone. */
	CHECK(outbox_queue_due(f.st, &f.cfg, T0 + DAY, &qs) == 0);
	CHECK_INT(qs.messages, 1);
	fixture_close(&f);
}

static void
test_quiet_and_cap(void)
{
	struct fixture f;
	struct outbox_queue_stats qs;

	fixture_open(&f, false);
	f.cfg.nudges.quiet = true;
	f.cfg.nudges.quiet_start = 20 * 60;
	f.cfg.nudges.quiet_end = 8 * 60;
	for (int i = 0; i < 7; i++)
		nudge(&f, "keep-in-touch", i % 2 ? f.amelie : f.jp, T0 - DAY + i, "silence");

	/* 22:00 and 07:59 are quiet: nothing goes, nothing changes. */
	CHECK(outbox_queue_due(f.st, &f.cfg, T0 + 10 * 3600, &qs) == 0);
	CHECK_INT(qs.messages, 0);
	CHECK_INT(qs.held, 7);
	CHECK_STR(qs.why_held, "quiet hours");
	CHECK(outbox_queue_due(f.st, &f.cfg, T0 + 20 * 3600 - 60, &qs) == 0);
	CHECK_INT(qs.messages, 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM nudge WHERE state = 'pending'"), 7);

	/* 08:00 the next day: five go, the cap holds two. */
	CHECK(outbox_queue_due(f.st, &f.cfg, T0 + 20 * 3600, &qs) == 0);
	CHECK_INT(qs.messages, 5);
	CHECK_INT(qs.held, 2);
	CHECK_STR(qs.why_held, "daily cap");
	CHECK(outbox_queue_due(f.st, &f.cfg, T0 + 30 * 3600, &qs) == 0);
	CHECK_INT(qs.messages, 0);
	/* The day after, the two left go, oldest due first. */
	CHECK(outbox_queue_due(f.st, &f.cfg, T0 + 2 * DAY, &qs) == 0);
	CHECK_INT(qs.messages, 2);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM nudge WHERE state = 'sent'"), 7);
	fixture_close(&f);
}

static void
test_digest(void)
{
	struct fixture f;
	struct outbox_queue_stats qs;
	int64_t day = T0 - 12 * 3600;   /* midnight */
	char *data;

	fixture_open(&f, true);
	nudge(&f, "thank-you", f.amelie, day - DAY, "Amélie vous a recommandée");
	nudge(&f, "follow-up", f.jp, day - 3600, "Pas de réponse de Jean-Pierre");
	nudge(&f, "keep-in-touch", f.jp, day + 2 * 3600, "Pas de nouvelles");

	CHECK(outbox_queue_due(f.st, &f.cfg, day + 8 * 3600, &qs) == 0);
	CHECK_INT(qs.messages, 0);
	CHECK_STR(qs.why_held, "digest time");
	CHECK(outbox_queue_due(f.st, &f.cfg, day + 9 * 3600, &qs) == 0);
	CHECK_INT(qs.messages, 1);
	CHECK_INT(qs.nudges, 3);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE kind = 'digest'"), 1);
	data = sql_text(&f, "SELECT group_concat(line_no, ',') FROM"
			    " (SELECT line_no FROM outbox_item ORDER BY line_no)");
	CHECK_STR(data, "1,2,3");
	free(data);
	CHECK_INT(sql_int(&f, "SELECT count(DISTINCT nudge_id) FROM outbox_item"), 3);
	CHECK_INT(sql_int(&f, "SELECT max(line_no) FROM outbox_item"), 3);
	data = sql_text(&f, "SELECT data FROM outbox");
	CHECK(data && strstr(data, "X-Merci-Nudge: digest 3"));
	CHECK(data && strstr(data, "1. Remercier : Am=C3=A9lie Tremblay"));
	CHECK(data && strstr(data, "3. Prendre des nouvelles : Jean-Pierre Gagnon"));
	free(data);

	/* Due later today: it waits for tomorrow's digest. */
	nudge(&f, "follow-up", f.amelie, day + 10 * 3600, "Pas de réponse d''Amélie");
	CHECK(outbox_queue_due(f.st, &f.cfg, day + 11 * 3600, &qs) == 0);
	CHECK_INT(qs.messages, 0);
	CHECK_INT(qs.held, 1);
	CHECK(outbox_queue_due(f.st, &f.cfg, day + DAY + 9 * 3600, &qs) == 0);
	CHECK_INT(qs.messages, 1);
	CHECK_INT(qs.nudges, 1);
	fixture_close(&f);
}

/* Queue one nudge, return its outbox row id. */
static int64_t
queue_one(struct fixture *f, int64_t now)
{
	nudge(f, "thank-you", f->amelie, now - 60, "Amélie vous a présenté Jean");
	CHECK(outbox_queue_due(f->st, &f->cfg, now, NULL) == 0);
	return sql_int(f, "SELECT max(id) FROM outbox");
}

static void
test_retry(void)
{
	struct fixture f;
	struct outbox_msg m;
	bool found;
	int64_t id, next;

	fixture_open(&f, false);
	id = queue_one(&f, T0);
	CHECK(outbox_next(f.st, T0, &m, &found) == 0);
	CHECK(found);
	CHECK_INT(m.id, id);
	CHECK(m.len > 100 && strlen(m.data) == m.len);
	CHECK_STR(m.rcpt, "camille@example.org");
	outbox_msg_free(&m);

	CHECK(outbox_mark_sending(f.st, id, T0) == 0);
	CHECK_INT(sql_int(&f, "SELECT attempts FROM outbox"), 1);
	CHECK(outbox_next(f.st, T0, &m, &found) == 0);
	CHECK(!found);   /* being sent: not handed out twice */
	CHECK(outbox_mark_result(f.st, id, OUTBOX_TEMPFAIL, 451, "127.0.0.1:25: greylisted", T0) == 0);
	next = sql_int(&f, "SELECT next_attempt FROM outbox");
	CHECK(next >= T0 + 48 && next <= T0 + 72);
	CHECK_INT(sql_int(&f, "SELECT last_code FROM outbox"), 451);
	CHECK(outbox_next(f.st, next - 1, &m, &found) == 0);
	CHECK(!found);

	CHECK(outbox_next(f.st, next, &m, &found) == 0);
	CHECK(found);
	outbox_msg_free(&m);
	CHECK(outbox_mark_sending(f.st, id, next) == 0);
	CHECK(outbox_mark_result(f.st, id, OUTBOX_TEMPFAIL, 0, "connection refused", next) == 0);
	CHECK(sql_int(&f, "SELECT next_attempt FROM outbox") >= next + 96);
	CHECK(sql_int(&f, "SELECT next_attempt FROM outbox") <= next + 144);
	next = sql_int(&f, "SELECT next_attempt FROM outbox");
	CHECK(outbox_mark_sending(f.st, id, next) == 0);
	CHECK(outbox_mark_result(f.st, id, OUTBOX_SENT, 250, NULL, next) == 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE state = 'sent' AND sent_at > 0"
			      " AND last_error IS NULL AND attempts = 3"), 1);
	CHECK(outbox_next(f.st, next + DAY, &m, &found) == 0);
	CHECK(!found);
	fixture_close(&f);
}

static void
test_fail_and_expire(void)
{
	struct fixture f;
	int64_t a, b, q, fl;

	fixture_open(&f, false);
	a = queue_one(&f, T0);
	b = queue_one(&f, T0 + 1);
	CHECK(outbox_mark_sending(f.st, a, T0) == 0);
	CHECK(outbox_mark_result(f.st, a, OUTBOX_PERMFAIL, 550, "127.0.0.1:25: server refused the message (550 5.1.1 No such user)", T0) == 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE state = 'failed' AND last_code = 550"
			      " AND last_error LIKE '%No such user%'"), 1);

	/* Retried for five days, then given up. */
	for (int64_t t = T0 + 1; t < T0 + OUTBOX_EXPIRY; t += OUTBOX_EXPIRY / 4) {
		CHECK(outbox_mark_sending(f.st, b, t) == 0);
		CHECK(outbox_mark_result(f.st, b, OUTBOX_TEMPFAIL, 0, "timeout", t) == 0);
	}
	CHECK_INT(sql_int(&f, "SELECT state = 'queued' FROM outbox WHERE id = 2"), 1);
	CHECK(sql_int(&f, "SELECT next_attempt FROM outbox WHERE id = 2") <=
	      T0 + OUTBOX_EXPIRY + OUTBOX_BACKOFF_MAX * 12 / 10);
	CHECK(outbox_mark_sending(f.st, b, T0 + OUTBOX_EXPIRY + 2) == 0);
	CHECK(outbox_mark_result(f.st, b, OUTBOX_TEMPFAIL, 0, "timeout", T0 + OUTBOX_EXPIRY + 2) == 0);
	CHECK_INT(sql_int(&f, "SELECT state = 'failed' FROM outbox WHERE id = 2"), 1);
	CHECK(outbox_counts(f.st, &q, &fl) == 0);
	CHECK_INT(q, 0);
	CHECK_INT(fl, 2);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox"), 2);   /* nothing deleted */
	fixture_close(&f);
}

static void
test_recover(void)
{
	struct fixture f;
	struct outbox_msg m;
	bool found;
	int64_t id, n = -1;
	char *mid, *err = NULL;

	fixture_open(&f, false);
	id = queue_one(&f, T0);
	mid = sql_text(&f, "SELECT message_id FROM outbox");
	CHECK(outbox_mark_sending(f.st, id, T0) == 0);
	/* mercid died between DATA and the 250: the row stays "sending". */
	store_close(f.st);
	CHECK(store_open(f.path, STORE_RW, &f.st, &err) == 0);
	free(err);
	CHECK(outbox_recover(f.st, T0 + 30, &n) == 0);
	CHECK_INT(n, 1);
	CHECK(outbox_next(f.st, T0 + 30, &m, &found) == 0);
	CHECK(found);
	CHECK_STR(m.message_id, mid);
	CHECK(m.data && mid && strstr(m.data, mid));
	CHECK_INT(m.attempts, 1);
	outbox_msg_free(&m);
	CHECK(outbox_recover(f.st, T0 + 31, &n) == 0);
	CHECK_INT(n, 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox"), 1);
	free(mid);
	fixture_close(&f);
}

static const char *
nudge_state(struct fixture *f, int64_t id)
{
	static char buf[32];
	char *sql = xasprintf("SELECT state FROM nudge WHERE id = %lld", (long long)id);
	char *s = sql_text(f, sql);

	snprintf(buf, sizeof buf, "%s", s ? s : "(none)");
	free(s);
	free(sql);
	return buf;
}

static void
test_replies(void)
{
	struct fixture f;
	struct reply_cmd cmds[REPLY_CMD_MAX];
	int64_t single, digest, found, a, b, c;
	size_t n;
	char *mid, *with_brackets, *data;

	fixture_open(&f, false);
	single = queue_one(&f, T0);
	mid = sql_text(&f, "SELECT message_id FROM outbox WHERE id = 1");
	with_brackets = xasprintf(" <%s>", mid);
	CHECK(outbox_find_by_message_id(f.st, with_brackets, &found) == 0);
	CHECK_INT(found, single);
	CHECK(outbox_find_by_message_id(f.st, "<nobody@example.org>", &found) == 0);
	CHECK_INT(found, 0);

	n = reply_cmd_parse("Fait !\n", cmds, REPLY_CMD_MAX);
	CHECK_INT(outbox_apply_reply(f.st, single, cmds, n, T0 + 60), 0);
	CHECK_STR(nudge_state(&f, 1), "done");

	/* A digest: line numbers pick the nudges. */
	f.cfg.nudges.digest = true;
	a = nudge(&f, "thank-you", f.amelie, T0 - 60, "a");
	b = nudge(&f, "follow-up", f.jp, T0 - 50, "b");
	c = nudge(&f, "keep-in-touch", f.jp, T0 - 40, "c");
	CHECK(outbox_queue_due(f.st, &f.cfg, T0, NULL) == 0);
	digest = sql_int(&f, "SELECT id FROM outbox WHERE kind = 'digest'");
	n = reply_cmd_parse("1 ignorer\n2 reporter 2 semaines\n3 sourdine\n", cmds, REPLY_CMD_MAX);
	CHECK_INT(n, 3);
	CHECK_INT(outbox_apply_reply(f.st, digest, cmds, n, T0 + 60), 0);
	CHECK_STR(nudge_state(&f, a), "dismissed");
	CHECK_STR(nudge_state(&f, b), "snoozed");
	CHECK_INT(sql_int(&f, "SELECT snooze_until FROM nudge WHERE id = 3"), T0 + 60 + 14 * DAY);
	CHECK_STR(nudge_state(&f, c), "dismissed");
	CHECK_INT(sql_int(&f, "SELECT muted FROM contact WHERE id = 2"), 1);
	CHECK_INT(sql_int(&f, "SELECT muted FROM contact WHERE id = 1"), 0);

	/* A bare "fait" to a digest, a line that is not there, a word merci
	 * does not know: the owner gets one help reply per message. */
	n = reply_cmd_parse("fait", cmds, REPLY_CMD_MAX);
	CHECK_INT(outbox_apply_reply(f.st, digest, cmds, n, T0 + 90), 1);
	n = reply_cmd_parse("9 fait", cmds, REPLY_CMD_MAX);
	CHECK_INT(outbox_apply_reply(f.st, digest, cmds, n, T0 + 90), 1);
	n = reply_cmd_parse("Merci pour le rappel", cmds, REPLY_CMD_MAX);
	CHECK_INT(outbox_apply_reply(f.st, single, cmds, n, T0 + 90), 1);
	CHECK(outbox_queue_help(f.st, &f.cfg, single, T0 + 90) == 0);
	CHECK(outbox_queue_help(f.st, &f.cfg, single, T0 + 95) == 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE kind = 'reply'"), 1);
	data = sql_text(&f, "SELECT data FROM outbox WHERE kind = 'reply'");
	CHECK(data && strstr(data, with_brackets + 1));   /* In-Reply-To */
	CHECK(data && strstr(data, "\r\nSubject: Ce que merci comprend\r\n"));
	free(data);
	free(with_brackets);
	free(mid);
	fixture_close(&f);
}

int
main(void)
{
	char *src = test_srcdir();
	char *dir = xasprintf("%s/conf/templates", src);

	setenv("TZ", "UTC", 1);
	setenv("MERCI_TEMPLATE_DIR", dir, 1);
	test_single();
	test_quiet_and_cap();
	test_digest();
	test_retry();
	test_fail_and_expire();
	test_recover();
	test_replies();
	free(dir);
	free(src);
	return UNIT_DONE();
}
