/* test_store_rel: the relationship side of the store (store_rel.h): contact
 * resolution (accents, first names, ambiguity messages), tags, mute,
 * cadence, referrals, mandates, favours, nudges and the timeline. */
#include "unit.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "store_rel.h"
#include "xalloc.h"

#define DAY 86400
#define T0 1767268800   /* 2026-01-01T12:00:00Z */

struct fixture {
	char *dir, *path;
	struct store *st;
	int64_t acc;
	int64_t amelie, jp, jean, jeanne, anon;
};

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
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

static void
fixture_open(struct fixture *f)
{
	const char *t = getenv("TMPDIR");
	char *err = NULL;

	memset(f, 0, sizeof *f);
	f->dir = xasprintf("%s/merci-rel-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	f->path = xasprintf("%s/rel.db", f->dir);
	if (store_open(f->path, STORE_RW, &f->st, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	CHECK(store_account_ensure(f->st, "work", &f->acc) == 0);
	f->amelie = person(f, "Amélie Tremblay", "amelie@tremblay.example");
	f->jp = person(f, "Jean-Philippe Côté", "jp@cote.example");
	f->jean = person(f, "Jean Dupont", "jean@dupont.example");
	f->jeanne = person(f, "Jeanne Roy", "jeanne@roy.example");
	f->anon = person(f, NULL, "x@anon.example");
}

static void
fixture_close(struct fixture *f)
{
	store_close(f->st);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->path);
	free(f->dir);
}

static int64_t
exchange(struct fixture *f, const char *key, int64_t date, bool out)
{
	struct store_exchange e = {
		.msg_key = key, .folder = out ? "Sent" : "INBOX", .outbound = out,
		.date = date, .subject = key, .subject_norm = key, .thread_key = key,
	};
	int64_t id = 0;

	CHECK(store_exchange_insert(f->st, f->acc, &e, &id) == 0);
	return id;
}

/* Resolves q and checks the id, or the error when want_err is set. */
static void
check_resolve(struct fixture *f, const char *q, int64_t want, const char *want_err)
{
	int64_t id = -1;
	char *err = NULL;
	int rc = store_contact_resolve(f->st, q, &id, &err);

	if (want_err) {
		CHECK_INT(rc, -1);
		CHECK_STR(err, want_err);
	} else {
		CHECK_INT(rc, 0);
		CHECK_INT(id, want);
		CHECK(err == NULL);
	}
	free(err);
}

static void
test_resolve(void)
{
	struct fixture f;
	char buf[32];

	fixture_open(&f);
	check_resolve(&f, "amelie", f.amelie, NULL);
	check_resolve(&f, "AMÉLIE  tremblay", f.amelie, NULL);
	check_resolve(&f, "Amelie T", f.amelie, NULL);
	check_resolve(&f, "jean-philippe", f.jp, NULL);
	check_resolve(&f, "jean philippe cote", f.jp, NULL);
	check_resolve(&f, "Jean-Philippe Côté", f.jp, NULL);
	check_resolve(&f, "jean dupont", f.jean, NULL);
	check_resolve(&f, "jeanne", f.jeanne, NULL);
	/* "jean" is a whole first name of two contacts, a prefix of a third. */
	check_resolve(&f, "jean", 0, "jean matches 2 contacts: Jean-Philippe Côté, "
		      "Jean Dupont; be more precise");
	check_resolve(&f, "jea", 0, "jea matches 3 contacts: Jean-Philippe Côté, "
		      "Jean Dupont, Jeanne Roy; be more precise");
	check_resolve(&f, "zoé", 0, "no contact matches zoé");
	check_resolve(&f, "JP@Cote.example", f.jp, NULL);
	check_resolve(&f, "x@anon.example", f.anon, NULL);
	check_resolve(&f, "nobody@anon.example", 0, "no contact matches nobody@anon.example");
	snprintf(buf, sizeof buf, "%lld", (long long)f.jeanne);
	check_resolve(&f, buf, f.jeanne, NULL);
	check_resolve(&f, "999", 0, "no contact has id 999; see `merci contacts`");
	fixture_close(&f);
}

static struct store_contact_row *
row_of(struct store_contact_row *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

static void
test_tags_mute_cadence(void)
{
	struct store_contact_row *v, *r;
	struct fixture f;
	size_t n;

	fixture_open(&f);
	CHECK(store_contact_tag(f.st, f.amelie, "Client", true) == 0);
	CHECK(store_contact_tag(f.st, f.amelie, "client", true) == 0);
	CHECK(store_contact_tag(f.st, f.amelie, "partner", true) == 0);
	CHECK(store_contact_tag(f.st, f.amelie, "partner", false) == 0);
	CHECK(store_contact_mute(f.st, f.jp, true) == 0);
	CHECK(store_contact_mute(f.st, 999, true) == -1);
	CHECK(store_contact_cadence(f.st, f.jean, 36 * 3600) == 0);
	CHECK(store_contact_cadence(f.st, 999, DAY) == -1);
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	r = row_of(v, n, f.amelie);
	CHECK(r && r->n_tags == 1);
	if (r && r->n_tags == 1)
		CHECK_STR(r->tags[0], "client");
	r = row_of(v, n, f.jp);
	CHECK(r && r->muted);
	store_contact_rows_free(v, n);
	fixture_close(&f);
}

static void
test_referrals_mandates(void)
{
	struct store_referral_row *rv;
	struct store_mandate_row *mv;
	int64_t x, r1, r2, r3, m1, m2;
	struct fixture f;
	size_t n;

	fixture_open(&f);
	x = exchange(&f, "intro", T0, false);
	CHECK(store_referral_add(f.st, "introduction", "received", f.amelie, f.jp, x, T0,
				 "je vous présente", &r1) == 0);
	CHECK(store_referral_add(f.st, "introduction", "received", f.amelie, f.jp, x, T0,
				 "again", &r2) == 0);
	CHECK_INT(r2, r1);
	CHECK(store_referral_add(f.st, "lead", "received", f.jean, 0, x, T0, NULL, &r3) == 0);
	CHECK(r3 != r1);
	CHECK(store_referral_add(f.st, "bogus", "received", f.jean, 0, x, T0, NULL, &r3) == -1);
	/* A hand-entered mandate finds the referral its client came from. */
	CHECK(store_mandate_add(f.st, f.jp, "Refonte", T0 + DAY, T0 + 60 * DAY, 0, &m1) == 0);
	CHECK(store_mandate_add(f.st, f.jeanne, NULL, T0 - 30 * DAY, 0, 0, &m2) == 0);
	CHECK(store_mandate_set_state(f.st, m2, "ended", T0 + 9 * DAY) == 0);
	CHECK(store_mandate_set_state(f.st, m2, "probable", 0) == -1);
	CHECK(store_mandate_set_state(f.st, 999, "refused", 0) == -1);
	CHECK(store_mandates_list(f.st, &mv, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(mv[0].id, m1);
		CHECK_STR(mv[0].state, "confirmed");
		CHECK_STR(mv[0].title, "Refonte");
		CHECK_INT(mv[0].referral_id, r1);
		CHECK_STR(mv[0].referrer_name, "Amélie Tremblay");
		CHECK_STR(mv[0].client_name, "Jean-Philippe Côté");
		CHECK_STR(mv[1].state, "ended");
		CHECK_INT(mv[1].end, T0 + 9 * DAY);
		CHECK_INT(mv[1].referral_id, 0);
	}
	store_mandate_rows_free(mv, n);
	CHECK(store_referrals_list(f.st, &rv, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(rv[1].id, r1);
		CHECK_STR(rv[1].from_name, "Amélie Tremblay");
		CHECK_STR(rv[1].to_name, "Jean-Philippe Côté");
		CHECK_INT(rv[1].mandate_id, m1);
		CHECK_STR(rv[0].kind, "lead");
		CHECK(rv[0].to_name == NULL);
		CHECK_INT(rv[0].to_id, 0);
	}
	store_referral_rows_free(rv, n);
	fixture_close(&f);
}

static void
test_favours(void)
{
	struct store_favour_row *v;
	struct fixture f;
	int64_t x, a, b, c;
	size_t n;

	fixture_open(&f);
	x = exchange(&f, "fav", T0, false);
	CHECK(store_favour_add(f.st, f.amelie, "received", "introduction", T0, "mail",
			       "intro", x, &a) == 0);
	CHECK(a > 0);
	CHECK(store_favour_add(f.st, f.amelie, "received", "introduction", T0, "mail",
			       "intro", x, &b) == 0);
	CHECK_INT(b, 0);   /* the same message recorded it already */
	CHECK(store_favour_add(f.st, f.amelie, "given", "help", T0 + DAY, "manual",
			       "relu son devis", 0, &c) == 0);
	CHECK(store_favour_add(f.st, f.amelie, "given", "gift", T0, "manual", NULL, 0, &c) == -1);
	CHECK(store_favours_list(f.st, &v, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(v[0].kind, "help");
		CHECK_STR(v[0].source, "manual");
		CHECK_STR(v[0].note, "relu son devis");
		CHECK_STR(v[1].contact_name, "Amélie Tremblay");
		CHECK_STR(v[1].direction, "received");
	}
	store_favour_rows_free(v, n);
	fixture_close(&f);
}

static void
nudge_raw(struct fixture *f, const char *kind, const char *key, int64_t contact, int64_t due)
{
	sqlite3 *db;
	char *sql = xasprintf("INSERT INTO nudge (kind, dedupe_key, contact_id, due, evidence,"
			      " created_at, updated_at) VALUES ('%s', '%s', %lld, %lld, 'why',"
			      " 0, 0)", kind, key, (long long)contact, (long long)due);

	CHECK(sqlite3_open(f->path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	free(sql);
}

static void
test_nudges_timeline(void)
{
	struct store_timeline_row *tv;
	struct store_nudge_row *v;
	struct fixture f;
	size_t n;

	fixture_open(&f);
	nudge_raw(&f, "thank-you", "thank-you:referral:1", f.amelie, T0 + 2 * DAY);
	nudge_raw(&f, "follow-up", "follow-up:exchange:1", f.jp, T0 + DAY);
	CHECK(store_nudges_list(f.st, false, &v, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(v[0].kind, "follow-up");
		CHECK_STR(v[0].state, "pending");
		CHECK_STR(v[0].contact_email, "jp@cote.example");
		CHECK_STR(v[1].contact_name, "Amélie Tremblay");
		CHECK(store_nudge_set_state(f.st, v[0].id, "done", 0, T0) == 0);
		CHECK(store_nudge_set_state(f.st, v[1].id, "snoozed", T0 + 7 * DAY, T0) == 0);
		CHECK(store_nudge_set_state(f.st, v[1].id, "snoozed", T0 - 1, T0) == -1);
		CHECK(store_nudge_set_state(f.st, v[1].id, "resolved", 0, T0) == -1);
	}
	CHECK(store_nudge_set_state(f.st, 999, "done", 0, T0) == -1);
	store_nudge_rows_free(v, n);
	CHECK(store_nudges_list(f.st, false, &v, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(v[0].state, "snoozed");
		CHECK_INT(v[0].snooze_until, T0 + 7 * DAY);
	}
	store_nudge_rows_free(v, n);
	CHECK(store_nudges_list(f.st, true, &v, &n) == 0);
	CHECK_INT(n, 2);
	store_nudge_rows_free(v, n);
	CHECK(store_favour_add(f.st, f.amelie, "given", "help", T0 + 5 * DAY, "manual",
			       "coup de main", 0, NULL) == 0);
	CHECK(store_timeline(f.st, f.amelie, &tv, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(tv[0].what, "favour");
		CHECK_STR(tv[0].text, "help given: coup de main");
		CHECK_STR(tv[1].what, "nudge");
		CHECK_STR(tv[1].text, "thank-you (snoozed): why");
	}
	store_timeline_rows_free(tv, n);
	fixture_close(&f);
}

int
main(void)
{
	test_resolve();
	test_tags_mute_cadence();
	test_referrals_mandates();
	test_favours();
	test_nudges_timeline();
	return UNIT_DONE();
}
