/* test_relate: what relate.c records for messages built by hand and passed
 * through ingest_message: an introduction received (referral, favour,
 * prospect), a mention from a new sender (resolved referrer), thanks
 * (thanked_at), a question opening a thread (expects_answer), a probable
 * mandate, and nothing for list mail or a second ingest. */
#include "unit.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "ingest.h"
#include "msg.h"
#include "store.h"
#include "store_rel.h"
#include "xalloc.h"

#define DAY 86400
#define T0 1767268800   /* 2026-01-01T12:00:00Z */

struct fixture {
	char *dir, *path;
	struct store *st;
	struct config cfg;
	int64_t acc;
	uint32_t uid;
};

static char *identities[] = { "camille@example.org" };

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
}

static void
fixture_open(struct fixture *f)
{
	const char *t = getenv("TMPDIR");
	char *err = NULL;

	memset(f, 0, sizeof *f);
	f->dir = xasprintf("%s/merci-relate-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	f->path = xasprintf("%s/relate.db", f->dir);
	if (store_open(f->path, STORE_RW, &f->st, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	f->cfg.owner_email = identities[0];
	f->cfg.identities = identities;
	f->cfg.n_identities = 1;
	if (store_account_ensure(f->st, "work", &f->acc) < 0)
		exit(1);
}

static void
fixture_close(struct fixture *f)
{
	store_close(f->st);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->path);
	free(f->dir);
}

/* A message from one person to others; the owner's address is
 * camille@example.org. to and cc are "Name <addr>" pairs as two strings. */
struct mail {
	const char *id, *reply_to_id, *subject, *text, *list_id;
	int64_t date;
	const char *from[2];
	const char *to[4];
	const char *cc[4];
};

static int
ingest(struct fixture *f, const struct mail *w)
{
	enum ingest_result r;
	struct msg m;
	size_t i;
	int rc;

	memset(&m, 0, sizeof m);
	m.folder = xstrdup(strcmp(w->from[1], identities[0]) == 0 ? "Sent" : "INBOX");
	m.uid = ++f->uid;
	m.message_id = xstrdup(w->id);
	m.in_reply_to = xstrdup(w->reply_to_id);
	m.references = xstrdup(w->reply_to_id);
	m.date = w->date;
	m.subject = xstrdup(w->subject);
	m.text_prefix = xstrdup(w->text);
	m.list_id = xstrdup(w->list_id);
	msg_addr_list_add(&m.from, w->from[0], w->from[1]);
	for (i = 0; i < 4 && w->to[i]; i += 2)
		msg_addr_list_add(&m.to, w->to[i], w->to[i + 1]);
	for (i = 0; i < 4 && w->cc[i]; i += 2)
		msg_addr_list_add(&m.cc, w->cc[i], w->cc[i + 1]);
	CHECK(store_begin(f->st) == 0);
	rc = ingest_message(f->st, &f->cfg, f->acc, &m, T0, &r);
	CHECK(store_commit(f->st) == 0);
	msg_free(&m);
	return rc < 0 ? -1 : (int)r;
}

/* One integer from the store, by a read-only side connection. */
static long long
query_int(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

static const struct mail intro = {
	.id = "intro@tremblay", .date = T0,
	.subject = "Mise en relation : Camille / Jean-Philippe",
	.text = "Bonjour Camille,\nje te présente Jean-Philippe Côté, qui cherche "
		"quelqu'un pour refaire son site.\nAmélie",
	.from = { "Amélie Tremblay", "amelie@tremblay.example" },
	.to = { "Camille Roy", "camille@example.org" },
	.cc = { "Jean-Philippe Côté", "jp@cote.example" },
};

static void
test_intro_received(void)
{
	struct store_referral_row *rv;
	struct store_favour_row *fv;
	struct fixture f;
	size_t n, k;

	fixture_open(&f);
	CHECK_INT(ingest(&f, &intro), INGEST_NEW);
	CHECK_INT(ingest(&f, &intro), INGEST_DUPLICATE);
	CHECK(store_referrals_list(f.st, &rv, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(rv[0].kind, "introduction");
		CHECK_STR(rv[0].direction, "received");
		CHECK_STR(rv[0].from_name, "Amélie Tremblay");
		CHECK_STR(rv[0].to_name, "Jean-Philippe Côté");
		CHECK_INT(rv[0].date, T0);
		CHECK_INT(rv[0].thanked_at, 0);
	}
	store_referral_rows_free(rv, n);
	CHECK(store_favours_list(f.st, &fv, &k) == 0);
	CHECK_INT(k, 1);
	if (k == 1) {
		CHECK_STR(fv[0].contact_name, "Amélie Tremblay");
		CHECK_STR(fv[0].direction, "received");
		CHECK_STR(fv[0].kind, "introduction");
		CHECK_STR(fv[0].source, "mail");
	}
	store_favour_rows_free(fv, k);
	CHECK_INT(query_int(&f, "SELECT count(*) FROM contact_tag t JOIN address a"
			    " ON a.contact_id = t.contact_id WHERE a.email = 'jp@cote.example'"
			    " AND t.tag = 'prospect' AND t.inferred = 1"), 1);
	CHECK_INT(query_int(&f, "SELECT count(*) FROM contact_tag t JOIN address a"
			    " ON a.contact_id = t.contact_id"
			    " WHERE a.email = 'amelie@tremblay.example' AND t.tag = 'referrer'"), 1);
	CHECK_INT(query_int(&f, "SELECT count(*) FROM exchange WHERE language = 'fr'"), 1);
	CHECK_INT(query_int(&f, "SELECT first_sync_at FROM account"), T0);
	fixture_close(&f);
}

static void
test_mention_thanks(void)
{
	const struct mail hello = {
		.id = "hello@camille", .date = T0 - 10 * DAY, .subject = "Bonne année",
		.text = "Bonne année Amélie !",
		.from = { "Camille Roy", "camille@example.org" },
		.to = { "Amélie Tremblay", "amelie@tremblay.example" },
	};
	const struct mail first = {
		.id = "first@dube", .date = T0, .subject = "Projet de refonte",
		.text = "Bonjour,\nAmélie m'a donné vos coordonnées : je cherche une "
			"consultante pour notre site.\nMarc Dubé",
		.from = { "Marc Dubé", "marc@dube.example" },
		.to = { "Camille Roy", "camille@example.org" },
	};
	const struct mail again = {
		.id = "again@dube", .date = T0 + DAY, .subject = "Autre chose",
		.text = "Jeanne Roy m'a donné vos coordonnées aussi.",
		.from = { "Marc Dubé", "marc@dube.example" },
		.to = { "Camille Roy", "camille@example.org" },
	};
	const struct mail thanks = {
		.id = "thanks@camille", .date = T0 + 2 * DAY, .subject = "Merci !",
		.text = "Merci Amélie de m'avoir recommandée à Marc.",
		.from = { "Camille Roy", "camille@example.org" },
		.to = { "Amélie Tremblay", "amelie@tremblay.example" },
	};
	struct store_referral_row *rv;
	struct fixture f;
	size_t n;

	fixture_open(&f);
	CHECK_INT(ingest(&f, &hello), INGEST_NEW);
	CHECK_INT(ingest(&f, &first), INGEST_NEW);
	CHECK_INT(ingest(&f, &again), INGEST_NEW);
	CHECK(store_referrals_list(f.st, &rv, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(rv[0].kind, "mention");
		CHECK_STR(rv[0].from_name, "Amélie Tremblay");
		CHECK_STR(rv[0].to_name, "Marc Dubé");
		CHECK_INT(rv[0].thanked_at, 0);
	}
	store_referral_rows_free(rv, n);
	CHECK_INT(query_int(&f, "SELECT count(*) FROM favour WHERE kind = 'referral'"
			    " AND direction = 'received'"), 1);
	CHECK_INT(ingest(&f, &thanks), INGEST_NEW);
	CHECK_INT(query_int(&f, "SELECT thanked_at FROM referral"), T0 + 2 * DAY);
	CHECK_INT(query_int(&f, "SELECT has_thanks FROM exchange"
			    " WHERE message_id = 'thanks@camille'"), 1);
	CHECK_INT(query_int(&f, "SELECT expects_answer FROM exchange"
			    " WHERE message_id = 'thanks@camille'"), 0);
	fixture_close(&f);
}

static void
test_question_mandate_list(void)
{
	const struct mail ask = {
		.id = "ask@camille", .date = T0 + DAY, .subject = "Disponibilités",
		.text = "Bonjour Jean-Philippe,\nseriez-vous disponible jeudi pour un appel ?",
		.from = { "Camille Roy", "camille@example.org" },
		.to = { "Jean-Philippe Côté", "jp@cote.example" },
	};
	const struct mail reply = {
		.id = "reply@camille", .reply_to_id = "ask@camille", .date = T0 + 2 * DAY,
		.subject = "Re: Disponibilités", .text = "Et vendredi, pourriez-vous ?",
		.from = { "Camille Roy", "camille@example.org" },
		.to = { "Jean-Philippe Côté", "jp@cote.example" },
	};
	const struct mail contract = {
		.id = "contract@cote", .reply_to_id = "ask@camille", .date = T0 + 3 * DAY,
		.subject = "Re: Disponibilités",
		.text = "Voici le contrat signé pour la refonte.",
		.from = { "Jean-Philippe Côté", "jp@cote.example" },
		.to = { "Camille Roy", "camille@example.org" },
	};
	const struct mail contract2 = {
		.id = "contract2@cote", .reply_to_id = "ask@camille", .date = T0 + 4 * DAY,
		.subject = "Re: Disponibilités", .text = "Le contrat, version finale.",
		.from = { "Jean-Philippe Côté", "jp@cote.example" },
		.to = { "Camille Roy", "camille@example.org" },
	};
	const struct mail list = {
		.id = "news@list", .date = T0 + DAY, .subject = "Intro : notre nouvelle offre",
		.text = "Je vous présente Paul, notre nouveau directeur.", .list_id = "news.example",
		.from = { "Lettre", "news@list.example" },
		.to = { "Camille Roy", "camille@example.org" },
		.cc = { "Paul", "paul@list.example" },
	};
	struct store_mandate_row *mv;
	struct fixture f;
	size_t n;

	fixture_open(&f);
	CHECK_INT(ingest(&f, &intro), INGEST_NEW);
	CHECK_INT(ingest(&f, &ask), INGEST_NEW);
	CHECK_INT(ingest(&f, &reply), INGEST_NEW);
	CHECK_INT(ingest(&f, &contract), INGEST_NEW);
	CHECK_INT(ingest(&f, &contract2), INGEST_NEW);
	CHECK_INT(ingest(&f, &list), INGEST_NEW);
	CHECK_INT(query_int(&f, "SELECT expects_answer FROM exchange"
			    " WHERE message_id = 'ask@camille'"), 1);
	CHECK_INT(query_int(&f, "SELECT expects_answer FROM exchange"
			    " WHERE message_id = 'reply@camille'"), 0);
	CHECK(store_mandates_list(f.st, &mv, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(mv[0].state, "probable");
		CHECK_STR(mv[0].client_name, "Jean-Philippe Côté");
		CHECK_STR(mv[0].referrer_name, "Amélie Tremblay");
		CHECK(mv[0].evidence != NULL);
	}
	store_mandate_rows_free(mv, n);
	/* The list mail made nothing: one referral (the intro), no Paul. */
	CHECK_INT(query_int(&f, "SELECT count(*) FROM referral"), 1);
	CHECK_INT(query_int(&f, "SELECT count(*) FROM address WHERE email = 'paul@list.example'"
			    " AND contact_id IS NOT NULL"), 0);
	fixture_close(&f);
}

int
main(void)
{
	test_intro_received();
	test_mention_thanks();
	test_question_mandate_list();
	return UNIT_DONE();
}
