/* test_rules: the five nudge kinds over a fixed scenario evaluated at
 * explicit times (what MERCI_NOW does for the programs): the exact nudges
 * (kind, contact, due, state) at each time, idempotence, resolution by a
 * reply, a thank-you, a favour given and prospect mail, snoozing, the daily
 * cap, muted contacts, automated mail and mail older than the first sync
 * window; and that the sums the rules keep between runs (rules_summary.h)
 * give the nudges a count from scratch gives, whatever changed in between.
 * Dues print as hours after T0. */
#include "unit.h"

#include <dirent.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "buf.h"
#include "config.h"
#include "ingest.h"
#include "msg.h"
#include "rules.h"
#include "store.h"
#include "store_contacts.h"
#include "store_rel.h"
#include "timeutil.h"
#include "xalloc.h"

#define HOUR 3600
#define DAY 86400
#define T0 1767268800   /* 2026-01-01T12:00:00Z, also the first sync */

struct fixture {
	char *dir, *path;
	struct store *st;
	struct config cfg;
	struct config_account account;
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
	f->dir = xasprintf("%s/merci-rules-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	f->path = xasprintf("%s/rules.db", f->dir);
	if (store_open(f->path, STORE_RW, &f->st, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	f->cfg.owner_email = identities[0];
	f->cfg.identities = identities;
	f->cfg.n_identities = 1;
	f->cfg.language = "fr";
	f->account.name = "work";
	f->account.first_sync_window = 180 * DAY;
	f->cfg.accounts = &f->account;
	f->cfg.n_accounts = 1;
	f->cfg.nudges = (struct config_nudges){
		.thank_after = 2 * DAY, .keep_in_touch = 90 * DAY,
		.follow_up_after = 5 * DAY, .prospect_gap = 30 * DAY,
		.reciprocity_after = 30 * DAY, .daily_cap = 5,
	};
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

struct mail {
	const char *id, *reply_to_id, *subject, *text, *list_id;
	int64_t date;
	const char *from[2];
	const char *to[4];
	const char *cc[4];
};

static void
ingest(struct fixture *f, const struct mail *w)
{
	enum ingest_result r;
	struct msg m;
	size_t i;

	memset(&m, 0, sizeof m);
	m.folder = xstrdup("INBOX");
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
	CHECK(ingest_message(f->st, &f->cfg, f->acc, &m, T0, &r) == 0);
	CHECK_INT(r, INGEST_NEW);
	CHECK(store_commit(f->st) == 0);
	msg_free(&m);
}

/* Every nudge, oldest first: "kind name +Hh state" lines. Newly allocated. */
static char *
snapshot(struct fixture *f)
{
	struct store_nudge_row *v;
	struct buf b = { 0 };
	size_t n, i, j, k;

	CHECK(store_nudges_list(f->st, true, &v, &n) == 0);
	/* By creation, then id: the list is sorted by due. */
	for (k = 0; k < n; k++) {
		for (i = 0, j = n; i < n; i++)
			if (v[i].id == (int64_t)k + 1)
				j = i;
		if (j == n)
			continue;
		buf_printf(&b, "%s %s %+lldh %s\n", v[j].kind,
			   v[j].contact_name ? v[j].contact_name : "-",
			   (long long)((v[j].due - T0) / HOUR), v[j].state);
	}
	store_nudge_rows_free(v, n);
	return buf_steal(&b);
}

static struct rules_stats
evaluate(struct fixture *f, int64_t now)
{
	struct rules_stats s;

	CHECK(rules_evaluate(f->st, &f->cfg, now, &s) == 0);
	return s;
}

/* Evaluates at now and compares the whole nudge table with want. */
#define EXPECT_AT(f, now, want) do { \
	char *got_; \
	evaluate((f), (now)); \
	got_ = snapshot(f); \
	CHECK_STR(got_, (want)); \
	free(got_); \
} while (0)

static const char *const OWNER[2] = { "Camille Roy", "camille@example.org" };
#define FROM_OWNER { "Camille Roy", "camille@example.org" }
#define TO_OWNER { "Camille Roy", "camille@example.org" }
#define AMELIE { "Amélie Tremblay", "amelie@tremblay.example" }
#define JP { "Jean-Philippe Côté", "jp@cote.example" }

static void
scenario_mail(struct fixture *f)
{
	const struct mail m[] = {
		/* Older than first sync - 180 d: never fires. */
		{ .id = "old@paul", .date = T0 - 200 * DAY, .subject = "Intro",
		  .text = "Je te présente Zoé Vieux, elle cherche une consultante.",
		  .from = { "Paul Ancien", "paul@ancien.example" }, .to = TO_OWNER,
		  .cc = { "Zoé Vieux", "zoe@vieux.example" } },
		{ .id = "intro@tremblay", .date = T0, .subject = "Mise en relation",
		  .text = "Bonjour Camille, je te présente Jean-Philippe Côté, qui "
			  "cherche quelqu'un pour son site.",
		  .from = AMELIE, .to = TO_OWNER, .cc = JP },
		{ .id = "ask@camille", .date = T0 + HOUR, .subject = "Disponibilités",
		  .text = "Bonjour Jean-Philippe, seriez-vous disponible jeudi pour un appel ?",
		  .from = FROM_OWNER, .to = JP },
		/* List mail that reads like an introduction. */
		{ .id = "news@list", .date = T0 + 2 * HOUR, .subject = "Intro : notre équipe",
		  .text = "Je vous présente Paul, notre nouveau directeur. Des questions ?",
		  .list_id = "news.list.example", .from = { "Lettre", "news@list.example" },
		  .to = TO_OWNER, .cc = { "Paul", "paul@list.example" } },
		{ .id = "q@mallory", .date = T0 + 2 * HOUR, .subject = "Devis",
		  .text = "Pourriez-vous m'envoyer le devis ?",
		  .from = FROM_OWNER, .to = { "Mallory Muette", "mallory@muette.example" } },
	};

	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		ingest(f, &m[i]);
}

static int64_t
contact_of(struct fixture *f, const char *q)
{
	int64_t id = 0;
	char *err = NULL;

	CHECK(store_contact_resolve(f->st, q, &id, &err) == 0);
	free(err);
	return id;
}

static int64_t
only_mandate(struct fixture *f)
{
	struct store_mandate_row *v;
	int64_t id = 0;
	size_t n;

	CHECK(store_mandates_list(f->st, &v, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1)
		id = v[0].id;
	store_mandate_rows_free(v, n);
	return id;
}

static void
idempotent(struct fixture *f, int64_t now)
{
	char *before = snapshot(f), *after;
	struct rules_stats s;
	int i;

	for (i = 0; i < 10; i++) {
		s = evaluate(f, now);
		CHECK_INT(s.created, 0);
		CHECK_INT(s.resolved, 0);
	}
	after = snapshot(f);
	CHECK_STR(after, before);
	free(before);
	free(after);
}

/* Up to the follow-up: a reply resolves it, a thank-you resolves the other. */
static void
scenario_first_week(struct fixture *f)
{
	const struct mail reply = {
		.id = "reply@cote", .reply_to_id = "ask@camille", .date = T0 + 6 * DAY,
		.subject = "Re: Disponibilités",
		.text = "Jeudi me va. Je vous envoie le contrat signé.",
		.from = JP, .to = TO_OWNER,
	};
	const struct mail thanks = {
		.id = "thanks@camille", .date = T0 + 7 * DAY, .subject = "Merci !",
		.text = "Merci Amélie pour la mise en relation avec Jean-Philippe.",
		.from = FROM_OWNER, .to = AMELIE,
	};

	EXPECT_AT(f, T0 + DAY, "");
	EXPECT_AT(f, T0 + 2 * DAY, "thank-you Amélie Tremblay +48h pending\n");
	EXPECT_AT(f, T0 + 5 * DAY + HOUR,
		  "thank-you Amélie Tremblay +48h pending\n"
		  "follow-up Jean-Philippe Côté +121h pending\n");
	idempotent(f, T0 + 5 * DAY + HOUR);
	ingest(f, &reply);
	EXPECT_AT(f, T0 + 6 * DAY + HOUR,
		  "thank-you Amélie Tremblay +48h pending\n"
		  "follow-up Jean-Philippe Côté +121h resolved\n");
	ingest(f, &thanks);
	EXPECT_AT(f, T0 + 7 * DAY + HOUR,
		  "thank-you Amélie Tremblay +48h resolved\n"
		  "follow-up Jean-Philippe Côté +121h resolved\n");
}

#define WEEK1 "thank-you Amélie Tremblay +48h resolved\n" \
	      "follow-up Jean-Philippe Côté +121h resolved\n"

/* The mandate: thanks for it, reciprocity, prospecting, recommendation. */
static void
scenario_mandate(struct fixture *f)
{
	const struct mail nina = {
		.id = "nina@camille", .date = T0 + 42 * DAY, .subject = "Présentation",
		.text = "Bonjour Nina, je suis consultante web, voici mon portfolio.",
		.from = FROM_OWNER, .to = { "Nina Nouvelle", "nina@nouvelle.example" },
	};
	int64_t m = only_mandate(f);

	CHECK(store_mandate_set_state(f->st, m, "confirmed", T0 + 10 * DAY) == 0);
	EXPECT_AT(f, T0 + 12 * DAY, WEEK1 "thank-you Amélie Tremblay +288h pending\n");
	EXPECT_AT(f, T0 + 30 * DAY, WEEK1 "thank-you Amélie Tremblay +288h pending\n"
		  "reciprocity Amélie Tremblay +720h pending\n");
	EXPECT_AT(f, T0 + 40 * DAY, WEEK1 "thank-you Amélie Tremblay +288h pending\n"
		  "reciprocity Amélie Tremblay +720h pending\n"
		  "prospecting Jean-Philippe Côté +960h pending\n");
	CHECK(store_favour_add(f->st, contact_of(f, "amelie"), "given", "introduction",
			       T0 + 41 * DAY, "manual", "présentée à Nina", 0, NULL) == 0);
	ingest(f, &nina);
	CHECK(store_mandate_set_state(f->st, m, "ended", T0 + 50 * DAY) == 0);
	EXPECT_AT(f, T0 + 50 * DAY, WEEK1 "thank-you Amélie Tremblay +288h pending\n"
		  "reciprocity Amélie Tremblay +720h resolved\n"
		  "prospecting Jean-Philippe Côté +960h resolved\n"
		  "prospecting Jean-Philippe Côté +1200h pending\n");
}

#define MANDATE "thank-you Amélie Tremblay +288h pending\n" \
		"reciprocity Amélie Tremblay +720h resolved\n" \
		"prospecting Jean-Philippe Côté +960h resolved\n" \
		"prospecting Jean-Philippe Côté +1200h pending\n"

/* Silence again: a second prospecting period, keep-in-touch, snoozing. */
static void
scenario_later(struct fixture *f)
{
	struct store_nudge_row *v;
	struct rules_stats s;
	size_t n;

	EXPECT_AT(f, T0 + 72 * DAY, WEEK1 MANDATE
		  "prospecting Jean-Philippe Côté +1728h pending\n");
	EXPECT_AT(f, T0 + 97 * DAY, WEEK1 MANDATE
		  "prospecting Jean-Philippe Côté +1728h pending\n"
		  "keep-in-touch Amélie Tremblay +2328h pending\n");
	idempotent(f, T0 + 97 * DAY);
	CHECK(store_nudges_list(f->st, false, &v, &n) == 0);
	CHECK(n > 0);
	if (n > 0) {
		CHECK_STR(v[0].kind, "thank-you");
		CHECK_STR(v[0].evidence, "Le mandat avec Jean-Philippe Côté, venu par Amélie "
			  "Tremblay, est confirmé depuis le 11 janv.");
		CHECK(store_nudge_set_state(f->st, v[0].id, "snoozed", T0 + 99 * DAY,
					    T0 + 97 * DAY) == 0);
	}
	store_nudge_rows_free(v, n);
	s = evaluate(f, T0 + 98 * DAY);
	CHECK_INT(s.woken, 0);
	s = evaluate(f, T0 + 99 * DAY);
	CHECK_INT(s.woken, 1);
	CHECK_INT(s.due, 4);
}

static void
test_scenario(void)
{
	struct fixture f;

	fixture_open(&f);
	scenario_mail(&f);
	CHECK(store_contact_tag(f.st, contact_of(&f, "mallory"), "client", true) == 0);
	CHECK(store_contact_mute(f.st, contact_of(&f, "mallory"), true) == 0);
	scenario_first_week(&f);
	scenario_mandate(&f);
	scenario_later(&f);
	fixture_close(&f);
}

/* Seven clients overdue on the same day, a cap of 3: 3 today (due at the
 * start of the UTC day, 00:00 = T0 + 100 d - 12 h), 3 tomorrow, 1 after. */
static void
test_daily_cap(void)
{
	char name[32], email[64];
	struct fixture f;
	struct mail m;
	int i;

	fixture_open(&f);
	f.cfg.nudges.daily_cap = 3;
	f.cfg.language = "en";
	for (i = 0; i < 7; i++) {
		snprintf(name, sizeof name, "Client %c", 'A' + i);
		snprintf(email, sizeof email, "client%c@example.com", 'a' + i);
		char *id = xasprintf("c%d@camille", i);
		m = (struct mail){ .id = id, .date = T0 + i * HOUR, .subject = "Invoice",
			.text = "Here is the invoice.", .from = FROM_OWNER,
			.to = { name, email } };
		ingest(&f, &m);
		free(id);
		CHECK(store_contact_tag(f.st, contact_of(&f, email), "client", true) == 0);
	}
	EXPECT_AT(&f, T0 + 100 * DAY,
		  "keep-in-touch Client A +2388h pending\n"
		  "keep-in-touch Client B +2388h pending\n"
		  "keep-in-touch Client C +2388h pending\n"
		  "keep-in-touch Client D +2412h pending\n"
		  "keep-in-touch Client E +2412h pending\n"
		  "keep-in-touch Client F +2412h pending\n"
		  "keep-in-touch Client G +2436h pending\n");
	idempotent(&f, T0 + 101 * DAY);
	fixture_close(&f);
	(void)OWNER;
}

/* Per-contact cadence and per-tag delays override [nudges]. */
static void
test_overrides(void)
{
	struct config_tag tag = { .name = "partner", .keep_in_touch = 10 * DAY,
				  .follow_up_after = 1 * DAY };
	const struct mail ask = {
		.id = "ask@camille", .date = T0, .subject = "Sous-traitance",
		.text = "Aurais-tu du temps en mars ?", .from = FROM_OWNER,
		.to = { "Paul Partenaire", "paul@partenaire.example" },
	};
	const struct mail hi = {
		.id = "hi@camille", .date = T0, .subject = "Bonjour",
		.text = "Bonne année !", .from = FROM_OWNER,
		.to = { "Rita Rare", "rita@rare.example" },
	};
	struct fixture f;

	fixture_open(&f);
	f.cfg.tags = &tag;
	f.cfg.n_tags = 1;
	ingest(&f, &ask);
	ingest(&f, &hi);
	CHECK(store_contact_tag(f.st, contact_of(&f, "paul"), "partner", true) == 0);
	CHECK(store_contact_tag(f.st, contact_of(&f, "rita"), "friend", true) == 0);
	CHECK(store_contact_cadence(f.st, contact_of(&f, "rita"), 20 * DAY) == 0);
	EXPECT_AT(&f, T0 + DAY, "follow-up Paul Partenaire +24h pending\n");
	EXPECT_AT(&f, T0 + 10 * DAY, "follow-up Paul Partenaire +24h pending\n"
		  "keep-in-touch Paul Partenaire +240h pending\n");
	EXPECT_AT(&f, T0 + 20 * DAY, "follow-up Paul Partenaire +24h pending\n"
		  "keep-in-touch Paul Partenaire +240h pending\n"
		  "keep-in-touch Rita Rare +480h pending\n");
	fixture_close(&f);
}

/* ---- what the rules keep between runs ---- */

static char *
sql_dump(sqlite3 *db, const char *sql)
{
	struct buf b = { 0 };
	sqlite3_stmt *s;
	int i;

	CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(s); i++)
			buf_printf(&b, "%s%s", i ? "|" : "", sqlite3_column_text(s, i) ?
				   (const char *)sqlite3_column_text(s, i) : "NULL");
		buf_addc(&b, '\n');
	}
	sqlite3_finalize(s);
	return b.data ? buf_steal(&b) : xstrdup("");
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static char *
store_dump(const char *path)
{
	sqlite3 *db;
	char *a, *b, *all;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	a = sql_dump(db, "SELECT * FROM rules_contact ORDER BY contact_id");
	b = sql_dump(db, "SELECT kind, dedupe_key, contact_id, due, state, evidence"
		     " FROM nudge ORDER BY id");
	all = xasprintf("%s--\n%s", a, b);
	free(a);
	free(b);
	sqlite3_close(db);
	return all;
}

/* Evaluates f at now, and a copy of it that forgot everything the rules
 * kept (as on the first run after the migration), and compares the sums
 * and the whole nudge table. */
static void
same_as_fresh(struct fixture *f, int64_t now, const char *where)
{
	char *copy = xasprintf("%s/fresh.db", f->dir), *sql, *got, *want, *err = NULL;
	struct fixture g = *f;
	struct rules_stats s;

	remove(copy);
	sql = xasprintf("VACUUM INTO '%s'", copy);
	sql_exec(f->path, sql);
	free(sql);
	sql_exec(copy, "UPDATE rules_state SET folded = 0, windows = ''");
	CHECK(store_open(copy, STORE_RW, &g.st, &err) == 0);
	CHECK(rules_evaluate(g.st, &g.cfg, now, &s) == 0);
	store_close(g.st);
	evaluate(f, now);
	got = store_dump(f->path);
	want = store_dump(copy);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "%s: kept and fresh differ\n--- fresh\n%s--- kept\n%s",
			where, want, got);
	CHECK_STR(got, want);
	free(got);
	free(want);
	remove(copy);
	free(copy);
}

#define MAIL_IN(mid, when, who_name, who) \
	(struct mail){ .id = (mid), .date = (when), .subject = "Question", \
		       .text = "Pourriez-vous me rappeler ?", \
		       .from = { (who_name), (who) }, .to = TO_OWNER }
#define MAIL_OUT(mid, when, who_name, who) \
	(struct mail){ .id = (mid), .date = (when), .subject = (mid), \
		       .text = "Seriez-vous disponible jeudi ?", \
		       .from = FROM_OWNER, .to = { (who_name), (who) } }

/* Each way the sums could go stale, each followed by a comparison with a
 * count from scratch: new mail, mail from someone who becomes a contact
 * only later (their earlier mail then counts), a merge, an import giving
 * a seen address to a new contact, a re-read folder (UIDVALIDITY), a
 * deleted exchange, muting and unmuting, a wider first sync window, and
 * time passing alone. */
static void
test_kept_sums(void)
{
	struct store_merge_counts mc;
	enum store_import_result ir;
	struct fixture f;
	struct mail m;
	char *emails[] = { "lea@second.example" }, *tags[] = { "friend" };
	int64_t id, lea;
	char sql[128];
	enum ingest_result r;
	struct msg dup;
	int i;

	fixture_open(&f);
	/* Rémi writes twice before the owner ever writes to him. */
	m = MAIL_IN("r1@remi", T0 - 20 * DAY, "Rémi Roux", "remi@roux.example");
	ingest(&f, &m);
	m = MAIL_IN("r2@remi", T0 - 19 * DAY, "Rémi Roux", "remi@roux.example");
	ingest(&f, &m);
	m = MAIL_OUT("l1@camille", T0 - 18 * DAY, "Léa Lune", "lea@lune.example");
	ingest(&f, &m);
	same_as_fresh(&f, T0, "first run");
	/* Now he is a contact: his two earlier mails count. */
	m = MAIL_OUT("r3@camille", T0 - 10 * DAY, "Rémi Roux", "remi@roux.example");
	ingest(&f, &m);
	m = MAIL_OUT("r4@camille", T0 - 9 * DAY, "Rémi Roux", "remi@roux.example");
	ingest(&f, &m);
	same_as_fresh(&f, T0, "a contact made for mail already seen");
	same_as_fresh(&f, T0 + 100 * DAY, "time passing");

	/* Léa's second address, seen first, then given to a new contact by
	 * an import, then merged into Léa. */
	m = MAIL_IN("l2@lea", T0 - 8 * DAY, "L. Lune", "lea@second.example");
	ingest(&f, &m);
	m = MAIL_IN("l3@lea", T0 - 7 * DAY, "L. Lune", "lea@second.example");
	ingest(&f, &m);
	same_as_fresh(&f, T0 + 100 * DAY, "mail from an address of no contact");
	CHECK(store_contact_import(f.st, "Léa Deux", emails, 1, tags, 1, T0, &ir, &id) == 0);
	same_as_fresh(&f, T0 + 100 * DAY, "import");
	lea = contact_of(&f, "lea@lune.example");
	CHECK(store_contacts_merge(f.st, lea, id, &mc) == 0);
	CHECK_INT(mc.exchanges, 2);
	m = MAIL_OUT("l4@camille", T0 - 6 * DAY, "Léa Lune", "lea@lune.example");
	ingest(&f, &m);
	same_as_fresh(&f, T0 + 100 * DAY, "merge");

	/* A folder read again under a new UIDVALIDITY: all duplicates. */
	CHECK(store_folder_seen(f.st, f.acc, "INBOX", 99, 10, T0) == 0);
	memset(&dup, 0, sizeof dup);
	dup.folder = xstrdup("INBOX");
	dup.message_id = xstrdup("r1@remi");
	dup.date = T0 - 20 * DAY;
	dup.subject = xstrdup("Question");
	msg_addr_list_add(&dup.from, "Rémi Roux", "remi@roux.example");
	msg_addr_list_add(&dup.to, OWNER[0], OWNER[1]);
	CHECK(store_begin(f.st) == 0);
	CHECK(ingest_message(f.st, &f.cfg, f.acc, &dup, T0, &r) == 0);
	CHECK_INT(r, INGEST_DUPLICATE);
	CHECK(store_commit(f.st) == 0);
	msg_free(&dup);
	same_as_fresh(&f, T0 + 101 * DAY, "UIDVALIDITY");

	/* An unanswered question to a muted contact, unmuted once due. */
	CHECK(store_contact_mute(f.st, lea, true) == 0);
	m = MAIL_OUT("q@camille", T0 + 110 * DAY, "Léa Lune", "lea@lune.example");
	ingest(&f, &m);
	same_as_fresh(&f, T0 + 120 * DAY, "muted");
	CHECK(store_contact_mute(f.st, lea, false) == 0);
	same_as_fresh(&f, T0 + 121 * DAY, "unmuted");

	/* A deleted exchange (none is, today; the triggers recount). */
	snprintf(sql, sizeof sql, "DELETE FROM exchange WHERE message_id = 'r4@camille'");
	sql_exec(f.path, sql);
	same_as_fresh(&f, T0 + 122 * DAY, "deleted exchange");

	/* A question from before the window, inside it once it widens. */
	m = MAIL_OUT("old@camille", T0 - 190 * DAY, "Rémi Roux", "remi@roux.example");
	ingest(&f, &m);
	same_as_fresh(&f, T0 + 123 * DAY, "before the window");
	f.account.first_sync_window = 400 * DAY;
	same_as_fresh(&f, T0 + 124 * DAY, "wider window");
	for (i = 0; i < 3; i++)
		same_as_fresh(&f, T0 + (200 + 40 * i) * DAY, "later");
	fixture_close(&f);
}

/* ---- the scripted corpus (tests/corpus/README.md) ---- */

struct corpus_mail {
	char *file;
	struct msg m;
	bool ingested;
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	CHECK(fp != NULL);
	if (!fp)
		return xstrdup("");
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	*len = b.len;
	return buf_steal(&b);
}

/* The value of a header field (first occurrence, unfolded lines only),
 * from name up to the end of line or a ';'. Newly allocated or NULL. */
static char *
header_param(const char *hdr, size_t len, const char *name)
{
	size_t nl = strlen(name), i, j;

	for (i = 0; i + nl < len; i++) {
		if ((i == 0 || hdr[i - 1] == '\n') && strncasecmp(hdr + i, name, nl) == 0) {
			for (j = i + nl; j < len && hdr[j] == ' '; j++)
				;
			i = j;
			while (j < len && !strchr(";\r\n", hdr[j]))
				j++;
			return xstrndup(hdr + i, j - i);
		}
	}
	return NULL;
}

static char *
charset_of(const char *hdr, size_t len)
{
	char *ct = header_param(hdr, len, "Content-Type:"), *v = NULL, *p;
	const char *cs = ct ? strcasestr(hdr, "charset=") : NULL;

	if (cs) {
		cs += 8;
		v = xstrndup(cs, strcspn(cs, "; \r\n\""));
		for (p = v; *p; p++)
			if (*p == '"')
				*p = ' ';
	}
	free(ct);
	return v;
}

/* Parses one .eml: the header block with msg_parse_headers, the body with
 * body_text_clean (as the IMAP child does with its partial fetch). */
static void
corpus_parse(const char *path, struct msg *m)
{
	size_t len, hl;
	char *raw = slurp(path, &len), *end = strstr(raw, "\n\n"), *crlf = strstr(raw, "\r\n\r\n");
	char *cte, *cs;
	const char *body;

	if (crlf && (!end || crlf < end))
		end = crlf;
	hl = end ? (size_t)(end - raw) + 1 : len;
	body = end ? end + (end == crlf ? 4 : 2) : raw + len;
	memset(m, 0, sizeof *m);
	CHECK(msg_parse_headers(raw, hl, m) == 0);
	m->folder = xstrdup("INBOX");
	cte = header_param(raw, hl, "Content-Transfer-Encoding:");
	cs = charset_of(raw, hl);
	m->text_prefix = body_text_clean(body, strlen(body), cte, cs, false, BODY_TEXT_MAX);
	free(cte);
	free(cs);
	free(raw);
}

static int
eml_only(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && strcmp(d->d_name + n - 4, ".eml") == 0;
}

static size_t
corpus_load(const char *dir, struct corpus_mail **out)
{
	struct dirent **names;
	int n = scandir(dir, &names, eml_only, alphasort), i;
	struct corpus_mail *v;

	CHECK(n > 0);
	v = xcalloc(n > 0 ? (size_t)n : 1, sizeof *v);
	for (i = 0; i < n; i++) {
		v[i].file = xasprintf("%s/%s", dir, names[i]->d_name);
		corpus_parse(v[i].file, &v[i].m);
		v[i].m.uid = (uint32_t)i + 1;
		free(names[i]);
	}
	free(n > 0 ? names : NULL);
	*out = v;
	return n > 0 ? (size_t)n : 0;
}

/* Every nudge as "kind | contact | due | state", oldest first. */
static char *
corpus_snapshot(struct fixture *f)
{
	struct store_nudge_row *v;
	struct buf b = { 0 };
	size_t n, i, j, k;
	char due[32];

	CHECK(store_nudges_list(f->st, true, &v, &n) == 0);
	for (k = 1; k <= n; k++) {
		for (i = 0, j = n; i < n; i++)
			if (v[i].id == (int64_t)k)
				j = i;
		if (j < n)
			buf_printf(&b, "%s | %s | %s | %s\n", v[j].kind,
				   v[j].contact_name ? v[j].contact_name : "-",
				   time_format_iso(v[j].due, due, sizeof due), v[j].state);
	}
	store_nudge_rows_free(v, n);
	return buf_steal(&b);
}

/* Ingests what is dated by now, evaluates, compares with want. */
static void
corpus_check(struct fixture *f, struct corpus_mail *v, size_t n, int64_t now,
	     const char *want, const char *where)
{
	enum ingest_result r;
	char *got;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].ingested || v[i].m.date > now)
			continue;
		CHECK(store_begin(f->st) == 0);
		CHECK(ingest_message(f->st, &f->cfg, f->acc, &v[i].m, now, &r) == 0);
		CHECK(store_commit(f->st) == 0);
		v[i].ingested = true;
	}
	evaluate(f, now);
	got = corpus_snapshot(f);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "%s: nudges differ\n--- want\n%s--- got\n%s", where, want, got);
	CHECK_STR(got, want);
	free(got);
}

static void
corpus_run(const char *lang)
{
	const char *top = getenv("top_srcdir");
	char *dir = xasprintf("%s/tests/corpus/%s", top && *top ? top : ".", lang);
	char *exp = xasprintf("%s/expected.txt", dir), *text, *line, *save = NULL;
	struct buf want = { 0 };
	struct corpus_mail *v;
	struct fixture f;
	int64_t at = 0;
	size_t n, len, i;

	fixture_open(&f);
	f.cfg.language = (char *)lang;
	n = corpus_load(dir, &v);
	text = slurp(exp, &len);
	for (line = strtok_r(text, "\n", &save); ; line = strtok_r(NULL, "\n", &save)) {
		if (line && line[0] == ' ') {
			buf_printf(&want, "%s\n", line + strspn(line, " "));
			continue;
		}
		if (line && line[0] == '#')
			continue;
		if (at)
			corpus_check(&f, v, n, at, want.data ? want.data : "", exp);
		buf_reset(&want);
		if (!line)
			break;
		CHECK(strncmp(line, "at ", 3) == 0 && time_parse_iso8601(line + 3, &at) == 0);
	}
	for (i = 0; i < n; i++) {
		msg_free(&v[i].m);
		free(v[i].file);
	}
	free(v);
	buf_free(&want);
	free(text);
	free(exp);
	free(dir);
	fixture_close(&f);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_scenario();
	test_daily_cap();
	test_overrides();
	test_kept_sums();
	corpus_run("fr");
	corpus_run("en");
	return UNIT_DONE();
}
