/* test_ingest: direction, dedupe, contacts, threads and the CLI queries
 * over messages ingested through ingest_message. */
#include "unit.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "ingest.h"
#include "msg.h"
#include "store.h"
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

static char *identities[] = { "camille@example.org", "c.roy@example.net" };

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
}

static void
fixture_open(struct fixture *f, const char *name)
{
	const char *t = getenv("TMPDIR");
	char *err = NULL;

	memset(f, 0, sizeof *f);
	f->dir = xasprintf("%s/merci-ingest-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	f->path = xasprintf("%s/%s.db", f->dir, name);
	if (store_open(f->path, STORE_RW, &f->st, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	f->cfg.owner_email = identities[0];
	f->cfg.identities = identities;
	f->cfg.n_identities = 2;
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

static void
msg_init(struct fixture *f, struct msg *m, const char *folder, const char *id,
	 int64_t date, const char *subject)
{
	memset(m, 0, sizeof *m);
	m->folder = xstrdup(folder);
	m->uid = ++f->uid;
	m->message_id = xstrdup(id);
	m->date = date;
	m->subject = xstrdup(subject);
}

/* Ingests and frees m; returns the result, -1 on failure. */
static int
ingest(struct fixture *f, struct msg *m)
{
	enum ingest_result r;
	int rc = ingest_message(f->st, &f->cfg, f->acc, m, T0 + 200 * DAY, &r);

	msg_free(m);
	return rc < 0 ? -1 : (int)r;
}

/* The owner writes to `to` (and optionally cc). */
static int
send_out(struct fixture *f, const char *id, int64_t date, const char *subject,
	 const char *to_name, const char *to, const char *cc_name, const char *cc)
{
	struct msg m;

	msg_init(f, &m, "Sent", id, date, subject);
	msg_addr_list_add(&m.from, "Camille Roy", "camille@example.org");
	msg_addr_list_add(&m.to, to_name, to);
	if (cc)
		msg_addr_list_add(&m.cc, cc_name, cc);
	return ingest(f, &m);
}

static int
receive(struct fixture *f, const char *id, int64_t date, const char *subject,
	const char *from_name, const char *from)
{
	struct msg m;

	msg_init(f, &m, "INBOX", id, date, subject);
	msg_addr_list_add(&m.from, from_name, from);
	msg_addr_list_add(&m.to, "Camille Roy", "camille@example.org");
	return ingest(f, &m);
}

static struct store_contact_row *
find_contact(struct store_contact_row *v, size_t n, const char *email)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < v[i].n_emails; j++)
			if (strcmp(v[i].emails[j], email) == 0)
				return &v[i];
	return NULL;
}

static char *
thread_of(struct fixture *f, const char *message_id)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *key = NULL;

	if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT thread_key FROM exchange WHERE message_id = ?1",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, message_id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			key = xstrdup((const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return key;
}

static void
test_contacts(void)
{
	struct store_contact_row *v, *alice, *bob;
	struct fixture f;
	size_t n;

	fixture_open(&f, "contacts");
	CHECK_INT(receive(&f, "a1@client.fr", T0, "Projet", "Alice Martin", "alice@client.fr"),
		  INGEST_NEW);
	/* Someone who only wrote to the owner is no contact yet. */
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	CHECK_INT(n, 0);
	store_contact_rows_free(v, n);

	CHECK_INT(send_out(&f, "c1@example.org", T0 + DAY, "Re: Projet", "Alice Martin",
			   "alice@client.fr", "Bob", "bob@partner.fr"), INGEST_NEW);
	CHECK_INT(receive(&f, "a2@client.fr", T0 + 3 * DAY, "Re: Projet", "Alice Martin",
			  "alice@client.fr"), INGEST_NEW);
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	CHECK_INT(n, 2);
	alice = find_contact(v, n, "alice@client.fr");
	bob = find_contact(v, n, "bob@partner.fr");
	CHECK(alice && bob && alice != bob);
	if (alice && bob) {
		CHECK_STR(alice->name, "Alice Martin");
		/* Her mail from before she became a contact counts too. */
		CHECK_INT(alice->n_in, 2);
		CHECK_INT(alice->n_out, 1);
		CHECK_INT(alice->first, T0);
		CHECK_INT(alice->last, T0 + 3 * DAY);
		CHECK_STR(bob->name, "Bob");
		CHECK_INT(bob->n_in, 0);
		CHECK_INT(bob->n_out, 1);
		CHECK_INT(bob->first, T0 + DAY);
		CHECK_INT(bob->last, T0 + DAY);
		/* Newest exchange first. */
		CHECK(v[0].id == alice->id);
	}
	CHECK(find_contact(v, n, "camille@example.org") == NULL);
	store_contact_rows_free(v, n);
	fixture_close(&f);
}

static void
test_identities(void)
{
	struct store_contact_row *v;
	struct store_status s;
	struct fixture f;
	struct msg m;
	size_t n;

	fixture_open(&f, "identities");
	/* Sent from the second identity, copying the first and a client. */
	msg_init(&f, &m, "Sent", "i1@example.net", T0, "Facture");
	msg_addr_list_add(&m.from, "Camille", "c.roy@example.net");
	msg_addr_list_add(&m.to, "Camille Roy", "camille@example.org");
	msg_addr_list_add(&m.cc, NULL, "compta@client.fr");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(v[0].n_emails, 1);
		CHECK_STR(v[0].emails[0], "compta@client.fr");
		CHECK_STR(v[0].name, NULL);
		CHECK_INT(v[0].n_out, 1);
	}
	store_contact_rows_free(v, n);
	CHECK(store_status_get(f.st, &s) == 0);
	CHECK_INT(s.outbound, 1);
	CHECK_INT(s.addresses, 3);   /* identities are addresses, never contacts */
	store_status_free(&s);
	fixture_close(&f);
}

static void
test_automated(void)
{
	struct store_contact_row *v;
	struct store_status s;
	struct fixture f;
	struct msg m;
	size_t n;

	fixture_open(&f, "automated");
	msg_init(&f, &m, "INBOX", "news1@news.example.com", T0, "Our newsletter");
	msg_addr_list_add(&m.from, "News", "news@news.example.com");
	msg_addr_list_add(&m.to, NULL, "camille@example.org");
	m.list_id = xstrdup("news.example.com");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	/* The owner's vacation auto-reply makes no contact either. */
	msg_init(&f, &m, "Sent", "vac1@example.org", T0 + DAY, "Absence");
	msg_addr_list_add(&m.from, NULL, "camille@example.org");
	msg_addr_list_add(&m.to, "Dave Stone", "dave@prospect.io");
	m.auto_submitted = xstrdup("auto-replied");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	CHECK_INT(n, 0);
	store_contact_rows_free(v, n);
	CHECK(store_status_get(f.st, &s) == 0);
	CHECK_INT(s.exchanges, 2);
	CHECK_INT(s.automated, 2);
	CHECK_INT(s.contacts, 0);
	CHECK_INT(s.addresses, 3);
	store_status_free(&s);

	/* Once the owner writes to Dave personally, the auto-reply still does
	 * not count as an exchange with him. */
	CHECK_INT(send_out(&f, "d1@example.org", T0 + 2 * DAY, "Hello", "Dave Stone",
			   "dave@prospect.io", NULL, NULL), INGEST_NEW);
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	CHECK(n == 1 && v[0].n_out == 1 && v[0].first == T0 + 2 * DAY);
	store_contact_rows_free(v, n);
	fixture_close(&f);
}

static void
test_duplicates(void)
{
	struct store_status s;
	struct fixture f;
	struct msg m, m2;
	char *k1, *k2;

	fixture_open(&f, "dupes");
	CHECK_INT(receive(&f, "same@client.fr", T0, "Hi", "Alice", "alice@client.fr"), INGEST_NEW);
	CHECK_INT(receive(&f, "same@client.fr", T0, "Hi", "Alice", "alice@client.fr"),
		  INGEST_DUPLICATE);

	/* No Message-ID: the same message in two folders is one exchange. */
	msg_init(&f, &m, "INBOX", NULL, T0 + 5, "Sans identifiant");
	msg_addr_list_add(&m.from, NULL, "eve@client.fr");
	msg_addr_list_add(&m.to, NULL, "camille@example.org");
	k1 = ingest_message_key(&m);
	CHECK(strncmp(k1, "sha256:", 7) == 0 && strlen(k1) == 7 + 64);
	CHECK_INT(ingest(&f, &m), INGEST_NEW);
	msg_init(&f, &m, "Archive", NULL, T0 + 5, "Sans identifiant");
	msg_addr_list_add(&m.from, NULL, "eve@client.fr");
	msg_addr_list_add(&m.to, NULL, "camille@example.org");
	k2 = ingest_message_key(&m);
	CHECK_STR(k2, k1);
	CHECK_INT(ingest(&f, &m), INGEST_DUPLICATE);
	free(k2);
	/* ...but another subject is another message. */
	msg_init(&f, &m2, "INBOX", NULL, T0 + 5, "Autre chose");
	msg_addr_list_add(&m2.from, NULL, "eve@client.fr");
	msg_addr_list_add(&m2.to, NULL, "camille@example.org");
	k2 = ingest_message_key(&m2);
	CHECK(strcmp(k1, k2) != 0);
	CHECK_INT(ingest(&f, &m2), INGEST_NEW);
	free(k1);
	free(k2);

	CHECK(store_status_get(f.st, &s) == 0);
	CHECK_INT(s.exchanges, 3);
	CHECK_INT(s.inbound, 3);
	store_status_free(&s);
	fixture_close(&f);
}

static void
test_same_name(void)
{
	struct store_contact_row *v, *a;
	struct fixture f;
	size_t n;

	fixture_open(&f, "samename");
	CHECK_INT(send_out(&f, "n1@example.org", T0, "Un", "Alice Martin",
			   "alice@client.fr", NULL, NULL), INGEST_NEW);
	CHECK_INT(send_out(&f, "n2@example.org", T0 + DAY, "Deux", "Alice Martin",
			   "alice@client.fr", NULL, NULL), INGEST_NEW);
	CHECK_INT(send_out(&f, "n3@example.org", T0 + 2 * DAY, "Trois", "alice martin",
			   "alice.martin@gmail.com", NULL, NULL), INGEST_NEW);
	/* A first name alone is too weak to merge two addresses. */
	CHECK_INT(send_out(&f, "n4@example.org", T0 + 3 * DAY, "Quatre", "Bob",
			   "bob@a.fr", NULL, NULL), INGEST_NEW);
	CHECK_INT(send_out(&f, "n5@example.org", T0 + 4 * DAY, "Cinq", "Bob",
			   "bob@b.fr", NULL, NULL), INGEST_NEW);
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	CHECK_INT(n, 3);
	a = find_contact(v, n, "alice.martin@gmail.com");
	CHECK(a && a == find_contact(v, n, "alice@client.fr"));
	if (a && a->n_emails == 2) {
		CHECK_STR(a->emails[0], "alice@client.fr");   /* the most used first */
		CHECK_STR(a->emails[1], "alice.martin@gmail.com");
		CHECK_INT(a->n_out, 3);
	}
	CHECK(find_contact(v, n, "bob@a.fr") != find_contact(v, n, "bob@b.fr"));
	store_contact_rows_free(v, n);
	fixture_close(&f);
}

static void
test_threads(void)
{
	char *orig, *reply, *stranger, *late, *refd;
	struct fixture f;
	struct msg m;

	fixture_open(&f, "threads");
	CHECK_INT(send_out(&f, "devis-1@example.org", T0, "Devis site web", "Alice Martin",
			   "alice@client.fr", NULL, NULL), INGEST_NEW);
	/* Her client dropped References but kept the subject. */
	CHECK_INT(receive(&f, "r1@client.fr", T0 + 2 * DAY, "RE : Devis site web",
			  "Alice Martin", "alice@client.fr"), INGEST_NEW);
	CHECK_INT(receive(&f, "r2@other.fr", T0 + 2 * DAY, "RE : Devis site web",
			  "Zoe", "zoe@other.fr"), INGEST_NEW);
	CHECK_INT(receive(&f, "r3@client.fr", T0 + 120 * DAY, "Re: Devis site web",
			  "Alice Martin", "alice@client.fr"), INGEST_NEW);
	msg_init(&f, &m, "INBOX", "r4@client.fr", T0 + 3 * DAY, "Re: autre sujet");
	msg_addr_list_add(&m.from, NULL, "alice@client.fr");
	msg_addr_list_add(&m.to, NULL, "camille@example.org");
	m.in_reply_to = xstrdup("root@elsewhere");
	m.references = xstrdup("root@elsewhere mid@elsewhere");
	CHECK_INT(ingest(&f, &m), INGEST_NEW);

	orig = thread_of(&f, "devis-1@example.org");
	reply = thread_of(&f, "r1@client.fr");
	stranger = thread_of(&f, "r2@other.fr");
	late = thread_of(&f, "r3@client.fr");
	refd = thread_of(&f, "r4@client.fr");
	CHECK(orig != NULL);
	CHECK_STR(reply, orig);
	CHECK(stranger && orig && strcmp(stranger, orig) != 0);
	CHECK(late && orig && strcmp(late, orig) != 0);
	CHECK_STR(refd, "root@elsewhere");
	free(orig);
	free(reply);
	free(stranger);
	free(late);
	free(refd);
	fixture_close(&f);
}

static void
test_status(void)
{
	struct store_status s;
	struct fixture f;
	size_t i;

	fixture_open(&f, "status");
	CHECK(store_folder_seen(f.st, f.acc, "INBOX", 1, 3, T0) == 0);
	CHECK(store_folder_seen(f.st, f.acc, "Sent", 2, 1, T0) == 0);
	CHECK_INT(receive(&f, "s1@client.fr", T0, "A", "Alice Martin", "alice@client.fr"), 0);
	CHECK_INT(receive(&f, "s2@client.fr", T0 + 1, "B", "Alice Martin", "alice@client.fr"), 0);
	CHECK_INT(receive(&f, "s3@x.fr", T0 + 2, "C", NULL, "noreply@x.fr"), 0);
	CHECK_INT(send_out(&f, "s4@example.org", T0 + 3, "D", "Alice Martin",
			   "alice@client.fr", NULL, "bob@partner.fr"), 0);
	CHECK(store_status_get(f.st, &s) == 0);
	CHECK(s.schema_version >= 1);
	CHECK_INT(s.exchanges, 4);
	CHECK_INT(s.inbound, 3);
	CHECK_INT(s.outbound, 1);
	CHECK_INT(s.automated, 1);
	CHECK_INT(s.contacts, 2);
	CHECK_INT(s.addresses, 4);
	CHECK_INT(s.n_accounts, 1);
	CHECK_INT(s.n_folders, 2);
	for (i = 0; i < s.n_folders; i++) {
		CHECK_STR(s.folders[i].account, "work");
		if (strcmp(s.folders[i].folder, "INBOX") == 0) {
			CHECK_INT(s.folders[i].messages, 3);
			CHECK_INT(s.folders[i].exists, 3);
		} else {
			CHECK_STR(s.folders[i].folder, "Sent");
			CHECK_INT(s.folders[i].messages, 1);
			CHECK_INT(s.folders[i].uidvalidity, 2);
		}
	}
	store_status_free(&s);
	fixture_close(&f);
}

/* A year of mail with 200 correspondents, in one transaction. */
static void
test_bulk(void)
{
	enum { N = 20000, PEOPLE = 200 };
	struct store_contact_row *v, *c;
	int64_t in = 0, out = 0;
	struct fixture f;
	char id[64], email[64], name[64];
	size_t n, i;
	int bad = 0;

	fixture_open(&f, "bulk");
	CHECK(store_begin(f.st) == 0);
	for (i = 0; i < N; i++) {
		int p = (int)(i % PEOPLE);
		int64_t date = T0 + (int64_t)i * 1000;

		snprintf(id, sizeof id, "bulk-%zu@example.org", i);
		snprintf(email, sizeof email, "person%d@client%d.fr", p, p % 17);
		snprintf(name, sizeof name, "Person Number%d", p);
		if ((i / PEOPLE) % 2 == 0)
			bad += send_out(&f, id, date, "Point hebdo", name, email, NULL, NULL) != 0;
		else
			bad += receive(&f, id, date, "Re: Point hebdo", name, email) != 0;
	}
	CHECK(store_commit(f.st) == 0);
	CHECK_INT(bad, 0);
	CHECK(store_contacts_list(f.st, &v, &n) == 0);
	CHECK_INT(n, PEOPLE);
	for (i = 0; i < n; i++) {
		in += v[i].n_in;
		out += v[i].n_out;
	}
	CHECK_INT(in, N / 2);
	CHECK_INT(out, N / 2);
	c = find_contact(v, n, "person7@client7.fr");
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->name, "Person Number7");
		CHECK_INT(c->first, T0 + 7 * 1000);
		CHECK_INT(c->last, T0 + (int64_t)(N - PEOPLE + 7) * 1000);
	}
	/* The one who wrote last is listed first. */
	CHECK(n > 0 && v[0].last == T0 + (int64_t)(N - 1) * 1000);
	store_contact_rows_free(v, n);
	fixture_close(&f);
}

int
main(void)
{
	test_contacts();
	test_identities();
	test_automated();
	test_duplicates();
	test_same_name();
	test_threads();
	test_status();
	test_bulk();
	return UNIT_DONE();
}
