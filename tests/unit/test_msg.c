/* test_msg: header blocks as real servers return them, oddities included. */
#include "unit.h"
#include "msg.h"
#include "msg_p.h"
#include "xalloc.h"
#include "buf.h"

#include <dirent.h>
#include <stdlib.h>
#include <strings.h>

static int
parse(const char *raw, struct msg *m)
{
	memset(m, 0, sizeof(*m));
	return msg_parse_headers(raw, strlen(raw), m);
}

static const char *
name_at(const struct msg_addr_list *l, size_t i)
{
	return i < l->n ? l->v[i].name : "(missing)";
}

static const char *
email_at(const struct msg_addr_list *l, size_t i)
{
	return i < l->n ? l->v[i].email : "(missing)";
}

/* True when s is valid UTF-8 with no control characters. */
static int
clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return 1;
	while (*p) {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
		    (*p & 0xf8) == 0xf0 ? 4 : 0;
		if (n == 0 || *p < 0x20 || *p == 0x7f)
			return 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += n;
	}
	return 1;
}

static int
msg_all_clean(const struct msg *m)
{
	const struct msg_addr_list *ls[] = { &m->from, &m->to, &m->cc, &m->reply_to };
	int ok = clean_utf8(m->message_id) && clean_utf8(m->in_reply_to) &&
	    clean_utf8(m->references) && clean_utf8(m->subject) &&
	    clean_utf8(m->list_id) && clean_utf8(m->precedence) &&
	    clean_utf8(m->auto_submitted);

	for (size_t k = 0; k < 4; k++)
		for (size_t i = 0; i < ls[k]->n; i++)
			ok = ok && clean_utf8(ls[k]->v[i].name) && clean_utf8(ls[k]->v[i].email) &&
			    ls[k]->v[i].email != NULL && strlen(ls[k]->v[i].email) <= 254;
	return ok;
}

static void
test_french_plain(void)
{
	struct msg m;
	const char *raw =
	    "From: =?iso-8859-1?Q?Fran=E7ois_L=E9ger?= <Francois.Leger@Exemple.FR>\r\n"
	    "To: =?UTF-8?B?w4lsb2TDrWUgQ8O0dMOp?= <elodie@exemple.fr>,\r\n"
	    " \"Camille Roy\" <camille@example.org>,\r\n"
	    " 'Marc@Exemple.fr' <marc@exemple.fr>\r\n"
	    "Cc: =?windows-1252?Q?Ren=E9e_=93la_boss=94?= <renee@x.fr>\r\n"
	    "Subject: =?UTF-8?Q?R=C3=A9union_de_lancement?=\r\n"
	    " =?UTF-8?Q?_du_projet?=\r\n"
	    "Date: Tue, 4 Jun 2024 09:15:00 +0200\r\n"
	    "Message-ID: <CAF1234@mail.exemple.fr>\r\n"
	    "\r\n";

	CHECK_INT(parse(raw, &m), 0);
	CHECK_INT(m.from.n, 1);
	CHECK_STR(name_at(&m.from, 0), "François Léger");
	CHECK_STR(email_at(&m.from, 0), "francois.leger@exemple.fr");
	CHECK_INT(m.to.n, 3);
	CHECK_STR(name_at(&m.to, 0), "Élodíe Côté");
	CHECK_STR(name_at(&m.to, 2), NULL);
	CHECK_STR(email_at(&m.to, 2), "marc@exemple.fr");
	CHECK_STR(email_at(&m.to, 0), "elodie@exemple.fr");
	CHECK_STR(name_at(&m.to, 1), "Camille Roy");
	CHECK_STR(name_at(&m.cc, 0), "Renée “la boss”");
	CHECK_STR(m.subject, "Réunion de lancement du projet");
	CHECK_INT(m.date, 1717485300);
	CHECK_STR(m.message_id, "CAF1234@mail.exemple.fr");
	CHECK(m.in_reply_to == NULL && m.references == NULL);
	CHECK(msg_all_clean(&m));
	msg_free(&m);
}

static void
test_eight_bit(void)
{
	struct msg m;
	/* Unlabelled Latin-1 (what old French clients send) and raw UTF-8. */
	const char *raw =
	    "From: Fran\xe7ois M\xfcller <fm@x.fr>\n"
	    "To: J\xc3\xa9r\xc3\xb4me <jerome@x.fr>\n"
	    "Subject: Devis \xe9t\xe9 2024 \x80 50\tHT\n";

	CHECK_INT(parse(raw, &m), 0);
	CHECK_STR(name_at(&m.from, 0), "François Müller");
	CHECK_STR(name_at(&m.to, 0), "Jérôme");
	CHECK_STR(m.subject, "Devis été 2024 € 50 HT");
	CHECK(msg_all_clean(&m));
	msg_free(&m);
}

static void
test_groups_and_broken_lists(void)
{
	struct msg m;
	const char *raw =
	    "From: Alice <alice@a.com>\n"
	    "To: undisclosed-recipients:;\n"
	    "Cc: Name <a@b.com>, broken, c@d.com\n"
	    "Reply-To: team: x@t.com, y@t.com;, Zed <z@t.com>\n";

	CHECK_INT(parse(raw, &m), 0);
	CHECK_INT(m.to.n, 0);
	CHECK_INT(m.cc.n, 2);
	CHECK_STR(email_at(&m.cc, 0), "a@b.com");
	CHECK_STR(name_at(&m.cc, 0), "Name");
	CHECK_STR(email_at(&m.cc, 1), "c@d.com");
	CHECK_INT(m.reply_to.n, 3);
	CHECK_STR(email_at(&m.reply_to, 1), "y@t.com");
	CHECK_STR(name_at(&m.reply_to, 2), "Zed");
	msg_free(&m);

	/* Libetpan refuses these; the tolerant path must keep the good ones. */
	raw = "To: \"Doe, John <john@x.com>, b@y.org, Bad <@nowhere>,"
	    " Sam <sam@z.org\n"
	    "Cc: Jean <jean@>, Paul <paul..martin@exemple.fr>, \"Odd\"Quote\" <oq@x.fr>\n";
	CHECK_INT(parse(raw, &m), 0);
	CHECK_INT(m.to.n, 3);
	CHECK_STR(email_at(&m.to, 0), "john@x.com");
	CHECK_STR(email_at(&m.to, 1), "b@y.org");
	CHECK_STR(email_at(&m.to, 2), "sam@z.org");
	CHECK_STR(name_at(&m.to, 2), "Sam");
	CHECK_INT(m.cc.n, 2);
	CHECK_STR(email_at(&m.cc, 0), "paul..martin@exemple.fr");
	CHECK_STR(email_at(&m.cc, 1), "oq@x.fr");
	CHECK(msg_all_clean(&m));
	msg_free(&m);
}

static void
test_ids(void)
{
	struct msg m;
	const char *raw =
	    "Message-ID: <\"abc\"def@icloud.com>\r\n"
	    "In-Reply-To: <parent@x.com> (Jean's message of Mon, 3 Jun 2024)\r\n"
	    "References: <root@x.com>\r\n"
	    "\t<mid@x.com>   <parent@x.com>\r\n"
	    " bare@y.com\r\n";

	CHECK_INT(parse(raw, &m), 0);
	CHECK_STR(m.message_id, "\"abc\"def@icloud.com");
	CHECK_STR(m.in_reply_to, "parent@x.com");
	CHECK_STR(m.references, "root@x.com mid@x.com parent@x.com bare@y.com");
	msg_free(&m);

	CHECK_INT(parse("Message-ID: 1234.5678@host\nIn-Reply-To: your mail\n", &m), 0);
	CHECK_STR(m.message_id, "1234.5678@host");
	CHECK(m.in_reply_to == NULL);
	msg_free(&m);
}

static void
check_date(const char *value, int64_t want)
{
	struct msg m;
	char *raw = xasprintf("Date: %s\r\n", value);

	CHECK_INT(parse(raw, &m), 0);
	if (m.date != want)
		fprintf(stderr, "date \"%s\":\n", value);
	CHECK_INT(m.date, want);
	msg_free(&m);
	free(raw);
}

static void
test_dates(void)
{
	/* 2024-06-03 08:00:00 UTC is 1717401600. */
	check_date("Mon, 3 Jun 2024 10:00:00 +0200", 1717401600);
	check_date("3 Jun 2024 10:00:00 +0200", 1717401600);
	check_date("Mon, 03 Jun 2024 08:00:00 GMT", 1717401600);
	check_date("Mon, 3 Jun 2024 04:00:00 EDT", 1717401600);
	check_date("Mon, 3 Jun 2024 03:00:00 EST", 1717401600);
	check_date("Mon, 3 Jun 2024 10:00:00 CEST", 1717401600);
	check_date("Mon, 3 Jun 2024 10:00:00 +0200 (CEST)", 1717401600);
	check_date("Mon, 3 Jun 24 10:00:00 +0200", 1717401600);
	check_date("Mon, 3 Jun 2024 02:30:00 -0530", 1717401600);
	check_date("Mon, 3 Jun 2024 10:00 +0200", 1717401600);
	check_date("Monday, 3 June 2024 10:00:00 +0200", 1717401600);
	check_date("2024-06-03T10:00:00+02:00", 1717401600);
	check_date("2024-06-03 08:00:00", 1717401600);
	check_date("Mon Jun  3 08:00:00 2024", 1717401600);
	check_date("31 Dec 1999 23:59:59 -0000", 946684799);
	check_date("yesterday around noon", 0);
	check_date("Mon, 45 Jun 2024 10:00:00 +0200", 0);
}

static void
test_flags_and_lists(void)
{
	struct msg m;
	const char *raw =
	    "From: Newsletter <news@shop.example>\n"
	    "List-Id: Shop news <news.shop.example>\n"
	    "List-Unsubscribe: <mailto:unsub@shop.example>\n"
	    "Precedence:  BULK \n"
	    "Auto-Submitted: Auto-Generated\n"
	    "X-Autoreply: yes\n";

	CHECK_INT(parse(raw, &m), 0);
	CHECK_STR(m.list_id, "news.shop.example");
	CHECK(m.list_unsubscribe);
	CHECK_STR(m.precedence, "bulk");
	CHECK_STR(m.auto_submitted, "auto-generated");
	CHECK(m.x_autoreply);
	msg_free(&m);

	CHECK_INT(parse("From: a@b.com\nX-Autorespond: 1\n", &m), 0);
	CHECK(m.x_autoreply);
	CHECK(!m.list_unsubscribe && m.list_id == NULL && m.precedence == NULL);
	msg_free(&m);
}

static void
test_line_ends_and_junk(void)
{
	struct msg a, b;
	const char *lf = "From: A <a@x.com>\nSubject: long\n  folded\n\tsubject\n";
	const char *crlf = "From: A <a@x.com>\r\nSubject: long\r\n  folded\r\n\tsubject\r\n";
	static const char bin[] = "\x01\x02\xff\xfe\x00garbage without colon\n\x80\x81";

	CHECK_INT(parse(lf, &a), 0);
	CHECK_INT(parse(crlf, &b), 0);
	CHECK_STR(a.subject, "long folded subject");
	CHECK_STR(b.subject, a.subject);
	CHECK_STR(email_at(&b.from, 0), "a@x.com");
	msg_free(&a);
	msg_free(&b);

	memset(&a, 0, sizeof(a));
	CHECK_INT(msg_parse_headers(bin, sizeof(bin) - 1, &a), -1);
	CHECK_INT(msg_parse_headers("", 0, &a), -1);
	CHECK_INT(msg_parse_headers("\r\n", 2, &a), -1);
	msg_free(&a);

	/* A junk line in the middle costs only itself. */
	CHECK_INT(parse("\x01junk\nSubject: ok\n", &a), 0);
	CHECK_STR(a.subject, "ok");
	msg_free(&a);
	/* Controls and NUL inside a value become spaces. */
	static const char nul[] = "Subject: a\x00" "b\x1b" "c\n";
	memset(&a, 0, sizeof(a));
	CHECK_INT(msg_parse_headers(nul, sizeof(nul) - 1, &a), 0);
	CHECK_STR(a.subject, "a b c");
	msg_free(&a);
}

static void
test_huge_block(void)
{
	struct buf raw = { 0 };
	struct msg m;
	int i;

	buf_adds(&raw, "From: Boss <boss@x.com>\r\nTo: ");
	for (i = 0; i < 2500; i++)
		buf_printf(&raw, "%sPerson %d <p%d@example.com>", i ? ",\r\n " : "", i, i);
	buf_adds(&raw, "\r\nSubject: ");
	for (i = 0; i < 2000; i++)
		buf_adds(&raw, "\xc3\xa9t\xc3\xa9 ");
	buf_adds(&raw, "\r\nReferences:");
	for (i = 0; i < 400; i++)
		buf_printf(&raw, " <ref%d@host.example>", i);
	buf_adds(&raw, "\r\n");
	CHECK(raw.len > 100000);
	CHECK_INT(parse(raw.data, &m), 0);
	CHECK_INT(m.to.n, 500);
	CHECK_STR(email_at(&m.to, 499), "p499@example.com");
	CHECK(m.subject != NULL && strlen(m.subject) <= 4096);
	CHECK(m.references != NULL && strlen(m.references) <= 4096);
	/* The root of the thread and the latest parent survive truncation. */
	CHECK(m.references && strncmp(m.references, "ref0@host.example ", 18) == 0);
	CHECK(m.references && strstr(m.references, " ref399@host.example") != NULL);
	CHECK(msg_all_clean(&m));
	msg_free(&m);
	buf_free(&raw);
}

static void
test_field_list(void)
{
	int n = 0;

	while (msg_header_fields[n])
		n++;
	CHECK_INT(n, 15);
	CHECK_STR(msg_header_fields[0], "From");
	CHECK_STR(msg_header_fields[14], "X-Autorespond");
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Mutated real headers and random bytes: never a crash, always clean. */
static void
test_random(void)
{
	static const char *const seeds[] = {
		"From: =?utf-8?B?w4lsb2TDrWU=?= <e@x.fr>, \"Doe, J\" <j@x.com>\r\n"
		"To: team: a@x, b@y;, <c@z>\r\nSubject: =?iso-8859-1?Q?R=E9f_:?= x\r\n"
		"Date: Mon, 3 Jun 2024 10:00:00 +0200 (CEST)\r\n"
		"References: <a@b> <c@d>\r\n",
		"Cc: \"broken <a@b>, c@d (comment (nested)) e@\nDate: 2024-06-03T10:00Z\n",
	};
	char buf[600];
	uint32_t seed = 77;
	int i, dirty = 0;

	for (i = 0; i < 20000; i++) {
		const char *src = seeds[i % 2];
		size_t n = strlen(src), j;
		struct msg m = { 0 };

		if (i % 3 == 0) {
			n = rnd(&seed) % sizeof(buf);
			for (j = 0; j < n; j++)
				buf[j] = (char)rnd(&seed);
		} else {
			memcpy(buf, src, n);
			for (j = rnd(&seed) % 6 + 1; j > 0; j--)
				buf[rnd(&seed) % n] = (char)rnd(&seed);
		}
		msg_parse_headers(buf, n, &m);
		if (!msg_all_clean(&m))
			dirty++;
		msg_free(&m);
	}
	CHECK_INT(dirty, 0);
}

/* The fuzz seed corpus (when the test driver tells us where the sources
 * are): every seed parses to clean strings; only the junk seed fails. */
static void
test_corpus(void)
{
	const char *top = getenv("top_srcdir");
	char *dir, *path;
	struct dirent *de;
	DIR *d;
	int files = 0;

	if (top == NULL)
		return;
	dir = xasprintf("%s/tests/fuzz/corpus/headers", top);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct buf b = { 0 };
		struct msg m = { 0 };
		char chunk[4096];
		size_t n;
		FILE *f;

		/* The hand-written seeds (*.eml) say what they hold; the inputs
		 * libFuzzer merged beside them promise nothing. */
		if (de->d_name[0] == '.' || !strstr(de->d_name, ".eml"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) != NULL) {
			while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
				buf_add(&b, chunk, n);
			fclose(f);
			CHECK_INT(msg_parse_headers(b.data ? b.data : "", b.len, &m),
			    strstr(de->d_name, "junk") ? -1 : 0);
			CHECK(msg_all_clean(&m));
			msg_free(&m);
			files++;
		}
		buf_free(&b);
		free(path);
	}
	closedir(d);
	free(dir);
	CHECK(files >= 12);
}

/* ---- the fast address path against the full one ---- */

struct diff_stats {
	int values;     /* inputs tried */
	int fast;       /* inputs the fast path took */
};

static int
same_lists(const struct msg_addr_list *a, const struct msg_addr_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if ((a->v[i].name == NULL) != (b->v[i].name == NULL) ||
		    (a->v[i].name && strcmp(a->v[i].name, b->v[i].name) != 0) ||
		    strcmp(a->v[i].email, b->v[i].email) != 0)
			return 0;
	}
	return 1;
}

/* When the fast path takes s, it must give what libetpan's path gives. */
static void
diff_value(const char *s, size_t n, struct diff_stats *st)
{
	struct msg fast = { 0 }, full = { 0 };

	st->values++;
	if (msg_addresses_fast(s, n, &fast.to)) {
		st->fast++;
		msg_addresses_full(s, n, &full.to);
		if (!same_lists(&fast.to, &full.to)) {
			fprintf(stderr, "fast and full address paths differ on \"%.*s\"\n",
				(int)n, s);
			CHECK(0);
		}
	} else {
		CHECK_INT(fast.to.n, 0);
	}
	msg_free(&fast);
	msg_free(&full);
}

static int
is_addr_field(const char *p, size_t n, size_t *skip)
{
	static const char *const names[] = { "From:", "To:", "Cc:", "Reply-To:", NULL };
	size_t i, k;

	for (i = 0; names[i]; i++) {
		k = strlen(names[i]);
		if (n >= k && strncasecmp(p, names[i], k) == 0) {
			*skip = k;
			return 1;
		}
	}
	return 0;
}

/* Every address field of a header block, each line alone and unfolded, and
 * every line and the whole text of a raw seed. */
static void
diff_text(const char *s, size_t n, int raw, struct diff_stats *st)
{
	const char *p = s, *e = s + n, *le, *next;
	size_t skip;

	if (raw)
		diff_value(s, n, st);
	for (; p < e; p = next) {
		le = memchr(p, '\n', (size_t)(e - p));
		next = le ? le + 1 : e;
		le = le ? le : e;
		if (le > p && le[-1] == '\r')
			le--;
		if (raw) {
			diff_value(p, (size_t)(le - p), st);
		} else if (is_addr_field(p, (size_t)(le - p), &skip)) {
			struct buf v = { 0 };
			const char *q = next, *qe, *qn;

			diff_value(p + skip, (size_t)(le - p - skip), st);
			buf_add(&v, p + skip, (size_t)(le - p - skip));
			for (; q < e && (*q == ' ' || *q == '\t'); q = qn) {
				qe = memchr(q, '\n', (size_t)(e - q));
				qn = qe ? qe + 1 : e;
				qe = qe ? qe : e;
				if (qe > q && qe[-1] == '\r')
					qe--;
				buf_add(&v, q, (size_t)(qe - q));
			}
			if (v.len)
				diff_value(v.data, v.len, st);
			buf_free(&v);
		}
	}
}

static void
diff_dir(const char *top, const char *sub, int raw, struct diff_stats *st)
{
	char *dir = xasprintf("%s/%s", top, sub), *path;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "test_msg: no %s\n", dir);
		CHECK(0);
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct buf b = { 0 };
		char chunk[4096];
		size_t n;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) != NULL) {
			while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
				buf_add(&b, chunk, n);
			fclose(f);
			diff_text(b.data ? b.data : "", b.len, raw, st);
		}
		buf_free(&b);
		free(path);
	}
	closedir(d);
	free(dir);
}

/* The fast path reads the plain forms and must give exactly the lists
 * libetpan's path gives; anything else it must leave to that path. */
static void
test_fast_addresses(void)
{
	static const char *const cases[] = {
		"Jean Dupont <jean@x.fr>", "<jean@x.fr>", "jean@x.fr", " jean@x.fr ",
		"Jean <jean@x.fr>, Marie <marie@y.fr>", "a@b.c, d@e.f,", "a@b.c,, d@e.f",
		"Jean <JEAN@X.FR>", "jean@x.fr <jean@x.fr>", "Jean<jean@x.fr>",
		"O'Neil <o'neil@x.ie>", "'jean@x.fr' <jean@x.fr>", "JEAN@X.FR <jean@x.fr>",
		"=?utf-8?q?Am=C3=A9lie?= <amelie@x.fr>", "=?utf-8?b?w4ltaWxl?= <e@x.fr>",
		"noreply <noreply@x>", "a..b@x.fr", "a.@x.fr", ".a@x.fr", "a@x..fr",
		"Jean  Dupont <j@x.fr>", "Jean\tDupont <j@x.fr>", "Jean <j@x.fr> Dupont",
		"Jean <j@x.fr", "<j@x.fr>>", "j@x.fr j@y.fr", "Undisclosed recipients:;",
		"\"Dupont, Jean\" <j@x.fr>", "Jean (work) <j@x.fr>", "", " ", ",",
		"a@b", "a@b, ", "x <@y>", "x <y@>", "<>", "Jean Dupont <jean@[1.2.3.4]>",
		"sam@z.org, Sam <sam@z.org", "a+tag@x.fr", "{}|~ <a@b.c>",
		"Jean Dupont <jean@x.fr>,Marie <marie@y.fr>", "- <a@b.c>", "? <a@b.c>",
		NULL
	};
	struct diff_stats st = { 0 };
	const char *top = getenv("top_srcdir");
	size_t i;

	for (i = 0; cases[i]; i++)
		diff_value(cases[i], strlen(cases[i]), &st);
	CHECK(st.fast >= 15);
	if (top == NULL)
		return;
	diff_dir(top, "tests/fuzz/corpus/headers", 0, &st);
	diff_dir(top, "tests/fuzz/corpus/address", 1, &st);
	diff_dir(top, "tests/corpus/en", 0, &st);
	diff_dir(top, "tests/corpus/fr", 0, &st);
	fprintf(stderr, "test_msg: fast address path took %d of %d values\n", st.fast, st.values);
	CHECK(st.fast >= 100);
}

int
main(void)
{
	test_french_plain();
	test_eight_bit();
	test_groups_and_broken_lists();
	test_ids();
	test_dates();
	test_flags_and_lists();
	test_line_ends_and_junk();
	test_huge_block();
	test_field_list();
	test_random();
	test_corpus();
	test_fast_addresses();
	return UNIT_DONE();
}
