/* test_reply_hook: the owner's answers to merci's mail, ingested as the
 * daemon does (inside a transaction), act on the right nudge once; merci's
 * own mail coming back, other people's replies and unreadable replies act
 * on nothing; none of them makes a contact. */
#include "unit.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "ingest.h"
#include "msg.h"
#include "outbox.h"
#include "store.h"
#include "store_p.h"
#include "xalloc.h"

#define DAY 86400
#define T0 1790251200   /* 2026-09-24T12:00:00Z */

static char *identities[] = { "camille@example.org", "c.roy@example.net" };

struct fixture {
	char *dir;
	struct store *st;
	struct config cfg;
	int64_t acc, amelie, jp;
	uint32_t uid;
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

/* The first column of the first row of sql, as text ("" for none). */
static const char *
sql_str(struct fixture *f, const char *fmt, ...)
{
	static char out[512];
	sqlite3_stmt *s;
	char *sql;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		exit(1);
	va_end(ap);
	if (sqlite3_prepare_v2(f->st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "sql failed: %s: %s\n", sqlite3_errmsg(f->st->db), sql);
		exit(1);
	}
	out[0] = '\0';
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	free(sql);
	return out;
}

static int64_t
sql_int(struct fixture *f, const char *sql)
{
	return strtoll(sql_str(f, "%s", sql), NULL, 10);
}

static int64_t
person(struct fixture *f, const char *name, const char *email)
{
	int64_t cid = 0, aid, linked;

	CHECK(store_contact_create(f->st, name, T0 - 30 * DAY, &cid) == 0);
	CHECK(store_address_upsert(f->st, email, name, false, &aid, &linked) == 0);
	CHECK(store_address_link(f->st, aid, cid) == 0);
	return cid;
}

static int64_t
nudge(struct fixture *f, const char *kind, int64_t contact)
{
	char *sql = xasprintf("INSERT INTO nudge (kind, dedupe_key, contact_id, due, evidence,"
			      " created_at, updated_at) VALUES ('%s', 'test-' ||"
			      " (SELECT count(*) FROM nudge), %lld, %d, 'test', %d, %d)", kind,
			      (long long)contact, T0 - DAY, T0 - DAY, T0 - DAY);

	exec_sql(f, sql);
	free(sql);
	return sqlite3_last_insert_rowid(f->st->db);
}

static void
fixture_open(struct fixture *f)
{
	const char *t = getenv("TMPDIR");
	char *path, *err = NULL;

	memset(f, 0, sizeof *f);
	f->dir = xasprintf("%s/merci-reply-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir))
		exit(1);
	path = xasprintf("%s/reply.db", f->dir);
	if (store_open(path, STORE_RW, &f->st, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	free(path);
	f->cfg.owner_name = "Camille Roy";
	f->cfg.owner_email = identities[0];
	f->cfg.identities = identities;
	f->cfg.n_identities = 2;
	f->cfg.language = "fr";
	f->cfg.nudges.daily_cap = 50;
	CHECK(store_account_ensure(f->st, "work", &f->acc) == 0);
	f->amelie = person(f, "Amélie Tremblay", "amelie@example.net");
	f->jp = person(f, "Jean-Pierre Gagnon", "jp@example.com");
}

static void
fixture_close(struct fixture *f)
{
	store_close(f->st);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f->dir);
}

/* Queues the due nudges; the Message-ID of the message carrying nudge id. */
static char *
queue_mid(struct fixture *f, int64_t id)
{
	CHECK(outbox_queue_due(f->st, &f->cfg, T0, NULL) == 0);
	return xstrdup(sql_str(f, "SELECT o.message_id FROM outbox o JOIN outbox_item i"
			       " ON i.outbox_id = o.id WHERE i.nudge_id = %lld", (long long)id));
}

/* A message as the IMAP child hands it over: from, to the owner. */
static void
reply_init(struct fixture *f, struct msg *m, const char *id, const char *from,
	   const char *in_reply_to, const char *text)
{
	memset(m, 0, sizeof *m);
	m->folder = xstrdup("INBOX");
	m->uid = ++f->uid;
	m->message_id = xstrdup(id);
	m->date = T0 + 3600;
	m->subject = xstrdup("Re: Remercier Amélie Tremblay");
	m->in_reply_to = in_reply_to ? xstrdup(in_reply_to) : NULL;
	m->text_prefix = text ? xstrdup(text) : NULL;
	msg_addr_list_add(&m->from, NULL, from);
	msg_addr_list_add(&m->to, "merci", identities[0]);
}

/* Ingests m in one transaction, as the daemon's batch does; frees m. */
static enum ingest_result
ingest(struct fixture *f, struct msg *m)
{
	enum ingest_result res = INGEST_DUPLICATE;

	CHECK(store_begin(f->st) == 0);
	CHECK(ingest_message(f->st, &f->cfg, f->acc, m, T0 + 7200, &res) == 0);
	CHECK(store_commit(f->st) == 0);
	msg_free(m);
	return res;
}

static const char *
state_of(struct fixture *f, int64_t nudge_id)
{
	return sql_str(f, "SELECT state FROM nudge WHERE id = %lld", (long long)nudge_id);
}

static const char *
reason_of(struct fixture *f, const char *mid)
{
	return sql_str(f, "SELECT automated FROM exchange WHERE message_id = '%s'", mid);
}

/* fait, reporter 7j, a quoted copy under "dismiss": each acts on its nudge,
 * is recorded automated, and makes no contact; a second copy does nothing. */
static void
test_commands(void)
{
	struct fixture f;
	struct msg m;
	int64_t a, b, c;
	char *ma, *mb, *mc, *refs;

	fixture_open(&f);
	a = nudge(&f, "thank-you", f.amelie);
	b = nudge(&f, "follow-up", f.jp);
	c = nudge(&f, "keep-in-touch", f.jp);
	ma = queue_mid(&f, a);
	mb = queue_mid(&f, b);
	mc = queue_mid(&f, c);

	reply_init(&f, &m, "r1@mail.example.org", "camille@example.org", ma, "Fait, merci !");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(state_of(&f, a), "done");
	CHECK_STR(state_of(&f, b), "sent");
	CHECK_STR(reason_of(&f, "r1@mail.example.org"), "merci-command");

	/* Only References name it (a client that sets In-Reply-To elsewhere),
	 * from the owner's other identity. */
	reply_init(&f, &m, "r2@mail.example.org", "c.roy@example.net", "other@example.com",
		   "reporter 7j");
	refs = xasprintf("first@example.com %s other@example.com", mb);
	m.references = refs;
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(state_of(&f, b), "snoozed");
	CHECK_INT(sql_int(&f, "SELECT snooze_until FROM nudge WHERE id = 2"), T0 + 7200 + 7 * DAY);

	/* Quoted text below the answer is not read. */
	reply_init(&f, &m, "r3@mail.example.org", "camille@example.org", mc,
		   "dismiss\n\nLe jeu. 24 sept. 2026 à 12:00, merci <camille@example.org> a écrit :\n"
		   "> fait\n> sourdine\n");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(state_of(&f, c), "dismissed");
	CHECK_INT(sql_int(&f, "SELECT muted FROM contact WHERE id = 2"), 0);

	/* The same reply again (a UIDVALIDITY reset, another folder): a
	 * duplicate, which acts on nothing. */
	exec_sql(&f, "UPDATE nudge SET state = 'sent' WHERE id = 1");
	reply_init(&f, &m, "r1@mail.example.org", "camille@example.org", ma, "fait");
	CHECK_INT(ingest(&f, &m), INGEST_DUPLICATE);
	CHECK_STR(state_of(&f, a), "sent");

	CHECK_INT(sql_int(&f, "SELECT count(*) FROM contact"), 2);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE kind = 'reply'"), 0);
	free(ma);
	free(mb);
	free(mc);
	fixture_close(&f);
}

/* sourdine mutes the contact; in a digest "2 done" picks line 2. */
static void
test_mute_and_digest(void)
{
	struct fixture f;
	struct msg m;
	int64_t a, b, c;
	char *ma, *md;

	fixture_open(&f);
	a = nudge(&f, "thank-you", f.amelie);
	ma = queue_mid(&f, a);
	reply_init(&f, &m, "r1@mail.example.org", "camille@example.org", ma, "Sourdine");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(state_of(&f, a), "dismissed");
	CHECK_INT(sql_int(&f, "SELECT muted FROM contact WHERE id = 1"), 1);

	f.cfg.nudges.digest = true;
	b = nudge(&f, "follow-up", f.jp);
	c = nudge(&f, "keep-in-touch", f.jp);
	md = queue_mid(&f, b);
	CHECK_STR(md, sql_str(&f, "SELECT message_id FROM outbox WHERE kind = 'digest'"));
	reply_init(&f, &m, "r2@mail.example.org", "camille@example.org", md, "2 done\n");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(state_of(&f, b), "sent");
	CHECK_STR(state_of(&f, c), "done");
	free(ma);
	free(md);
	fixture_close(&f);
}

/* An unknown word gets one help reply per message answered, in reply to it. */
static void
test_help(void)
{
	struct fixture f;
	struct msg m;
	int64_t a;
	char *ma;

	fixture_open(&f);
	a = nudge(&f, "thank-you", f.amelie);
	ma = queue_mid(&f, a);
	reply_init(&f, &m, "r1@mail.example.org", "camille@example.org", ma, "bonjour");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	reply_init(&f, &m, "r2@mail.example.org", "camille@example.org", ma, "Bonjour encore");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(state_of(&f, a), "sent");
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE kind = 'reply'"), 1);
	CHECK_STR(sql_str(&f, "SELECT count(*) FROM outbox WHERE kind = 'reply'"
			  " AND CAST(data AS TEXT) LIKE '%%In-Reply-To: <%s>%%'", ma), "1");
	free(ma);
	fixture_close(&f);
}

/* merci's own mail coming back (the nudge, the help reply), a reply from
 * someone else, a reply whose text was not fetched: nothing acts. */
static void
test_not_commands(void)
{
	struct fixture f;
	struct msg m;
	int64_t a;
	char *ma, *help;

	fixture_open(&f);
	a = nudge(&f, "thank-you", f.amelie);
	ma = queue_mid(&f, a);

	/* The help merci sent in reply to its nudge, back in INBOX. */
	reply_init(&f, &m, "merci.00ff@example.org", "camille@example.org", ma, "bonjour");
	free(m.from.v[0].name);
	m.from.v[0].name = xstrdup("merci");
	m.auto_submitted = xstrdup("auto-generated");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(reason_of(&f, "merci.00ff@example.org"), "auto-submitted");

	reply_init(&f, &m, "r1@mail.example.net", "amelie@example.net", ma, "fait");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(reason_of(&f, "r1@mail.example.net"), "");

	reply_init(&f, &m, "r2@mail.example.org", "camille@example.org", ma, NULL);
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(reason_of(&f, "r2@mail.example.org"), "merci-command");

	CHECK_STR(state_of(&f, a), "sent");
	help = xstrdup(sql_str(&f, "SELECT count(*) FROM outbox WHERE kind = 'reply'"));
	CHECK_STR(help, "0");
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM contact"), 2);
	free(help);
	free(ma);
	fixture_close(&f);
}

/* The reply and its effect commit together: a batch rolled back leaves
 * the nudge as it was, and the reply is read again next time. */
static void
test_atomic(void)
{
	struct fixture f;
	struct msg m;
	enum ingest_result res;
	int64_t a;
	char *ma;

	fixture_open(&f);
	a = nudge(&f, "thank-you", f.amelie);
	ma = queue_mid(&f, a);
	reply_init(&f, &m, "r1@mail.example.org", "camille@example.org", ma, "bonjour");
	CHECK(store_begin(f.st) == 0);
	CHECK(ingest_message(f.st, &f.cfg, f.acc, &m, T0 + 7200, &res) == 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE kind = 'reply'"), 1);
	CHECK(store_rollback(f.st) == 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM outbox WHERE kind = 'reply'"), 0);
	CHECK_INT(sql_int(&f, "SELECT count(*) FROM exchange"), 0);
	free(m.text_prefix);
	m.text_prefix = xstrdup("fait");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK_STR(state_of(&f, a), "done");
	free(ma);
	fixture_close(&f);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char *dir;

	if (!top || !*top) {
		const char *tail = strstr(__FILE__, "/tests/unit/");

		dir = tail ? xasprintf("%.*s/conf/templates", (int)(tail - __FILE__), __FILE__)
			   : xstrdup("conf/templates");
	} else {
		dir = xasprintf("%s/conf/templates", top);
	}
	setenv("TZ", "UTC", 1);
	setenv("MERCI_TEMPLATE_DIR", dir, 1);
	test_commands();
	test_mute_and_digest();
	test_help();
	test_not_commands();
	test_atomic();
	free(dir);
	return UNIT_DONE();
}
