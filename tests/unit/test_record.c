/* test_record: the child-to-parent frames: round trips, truncation, every
 * kind of malformed frame, sanitising, and random bytes. */
#include "unit.h"
#include "buf.h"
#include "record.h"
#include "xalloc.h"

#include <stdlib.h>

/* Tags as on the wire (record.c); the tests pin them down. */
enum { T_FOLDER = 1, T_UIDVALIDITY = 2, T_UID = 5, T_TEXT = 6, T_ERR = 7,
	T_SUBJECT = 20, T_FROM = 21, T_LIST_UNSUB = 26 };

static int
decode_all(const struct buf *b, struct record *r)
{
	size_t used = 0;
	const char *err = NULL;
	int rc = record_decode(b->data, b->len, r, &used, &err);

	if (rc == 1 && used != b->len)
		return 99;
	if (rc < 0 && err == NULL)
		return 98;
	return rc;
}

static void
fill_msg(struct msg *m)
{
	m->folder = xstrdup("INBOX/Clients été");
	m->uid = 4242;
	m->message_id = xstrdup("abc@x.fr");
	m->in_reply_to = xstrdup("parent@x.fr");
	m->references = xstrdup("root@x.fr parent@x.fr");
	m->date = -1234567890123LL;
	m->subject = xstrdup("Réunion");
	msg_addr_list_add(&m->from, "François", "f@x.fr");
	msg_addr_list_add(&m->to, NULL, "a@x.fr");
	msg_addr_list_add(&m->to, "", "b@x.fr");
	msg_addr_list_add(&m->cc, "C", "c@x.fr");
	msg_addr_list_add(&m->reply_to, "R", "r@x.fr");
	m->list_id = xstrdup("l.x.fr");
	m->list_unsubscribe = true;
	m->precedence = xstrdup("bulk");
	m->auto_submitted = xstrdup("auto-replied");
	m->x_autoreply = true;
	m->text_prefix = xstrdup("Bonjour");
}

static void
check_same_list(const struct msg_addr_list *a, const struct msg_addr_list *b)
{
	CHECK_INT(a->n, b->n);
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		CHECK_STR(a->v[i].name, b->v[i].name);
		CHECK_STR(a->v[i].email, b->v[i].email);
	}
}

static void
test_msg_round_trip(void)
{
	struct record in = { .type = REC_MSG }, out;
	struct buf b = { 0 };
	size_t i;

	fill_msg(&in.msg);
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_MSG);
	CHECK_STR(out.folder, "INBOX/Clients été");
	CHECK_STR(out.msg.folder, "INBOX/Clients été");
	CHECK_INT(out.msg.uid, 4242);
	CHECK_INT(out.uid, 4242);
	CHECK_STR(out.msg.message_id, "abc@x.fr");
	CHECK_STR(out.msg.in_reply_to, "parent@x.fr");
	CHECK_STR(out.msg.references, "root@x.fr parent@x.fr");
	CHECK_INT(out.msg.date, -1234567890123LL);
	CHECK_STR(out.msg.subject, "Réunion");
	check_same_list(&in.msg.from, &out.msg.from);
	check_same_list(&in.msg.to, &out.msg.to);
	check_same_list(&in.msg.cc, &out.msg.cc);
	check_same_list(&in.msg.reply_to, &out.msg.reply_to);
	CHECK(out.msg.to.n == 2 && out.msg.to.v[0].name == NULL);
	CHECK_STR(out.msg.list_id, "l.x.fr");
	CHECK(out.msg.list_unsubscribe);
	CHECK_STR(out.msg.precedence, "bulk");
	CHECK_STR(out.msg.auto_submitted, "auto-replied");
	CHECK(out.msg.x_autoreply);
	CHECK_STR(out.msg.text_prefix, "Bonjour");
	record_free(&out);

	/* Every proper prefix needs more bytes; the whole is one frame. */
	int all_zero = 1;
	for (i = 0; i < b.len; i++) {
		size_t used = 7;
		const char *err = NULL;

		if (record_decode(b.data, i, &out, &used, &err) != 0 || used != 0)
			all_zero = 0;
	}
	CHECK(all_zero);

	/* Two frames back to back decode one at a time. */
	record_encode(&in, &b);
	size_t used = 0, first = b.len / 2;
	const char *err = NULL;
	CHECK_INT(record_decode(b.data, b.len, &out, &used, &err), 1);
	CHECK_INT(used, first);
	record_free(&out);
	CHECK_INT(record_decode(b.data + used, b.len - used, &out, &used, &err), 1);
	record_free(&out);
	msg_free(&in.msg);
	buf_free(&b);
}

static void
test_other_round_trips(void)
{
	struct record in, out;
	struct buf b = { 0 };

	in = (struct record){ .type = REC_HELLO, .text = "IMAP4rev1 IDLE CONDSTORE" };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_HELLO);
	CHECK_STR(out.text, "IMAP4rev1 IDLE CONDSTORE");
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_FOLDER, .folder = "Sent", .uidvalidity = 7,
	    .uidnext = 4294967295u, .exists = 12 };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_FOLDER);
	CHECK_STR(out.folder, "Sent");
	CHECK_INT(out.uidvalidity, 7);
	CHECK_INT(out.uidnext, 4294967295u);
	CHECK_INT(out.exists, 12);
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_SKIP, .folder = "INBOX", .uid = 99,
	    .text = "unparseable header" };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_SKIP);
	CHECK_STR(out.folder, "INBOX");
	CHECK_INT(out.uid, 99);
	CHECK_STR(out.text, "unparseable header");
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_BATCH_END, .folder = "INBOX", .uidvalidity = 3,
	    .uid = 1000 };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_BATCH_END);
	CHECK_STR(out.folder, "INBOX");
	CHECK_INT(out.uidvalidity, 3);
	CHECK_INT(out.uid, 1000);
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_DONE };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_DONE);
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_IDLE };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_IDLE);
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_SEEN, .folder = "Boîte", .uidvalidity = 7, .uid = 42 };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_SEEN);
	CHECK_STR(out.folder, "Boîte");
	CHECK_INT(out.uidvalidity, 7);
	CHECK_INT(out.uid, 42);
	record_free(&out);

	/* A draft crosses with its line ends; an id alone says it was appended. */
	buf_reset(&b);
	in = (struct record){ .type = REC_DRAFT, .id = 5000000000LL,
	    .data = "Subject: Merci\n\nBonjour,\n" };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_DRAFT);
	CHECK(out.id == 5000000000LL);
	CHECK_STR(out.data, "Subject: Merci\n\nBonjour,\n");
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_TASKS };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_TASKS);
	record_free(&out);

	buf_reset(&b);
	in = (struct record){ .type = REC_ERROR, .err_class = RECERR_TLS,
	    .text = "certificate does not match host" };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.type, REC_ERROR);
	CHECK_INT(out.err_class, RECERR_TLS);
	CHECK_STR(out.text, "certificate does not match host");
	record_free(&out);
	buf_free(&b);
}

/* ---- hand-built frames ---- */

static void
put32(struct buf *b, uint32_t v)
{
	char p[4] = { (char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v };

	buf_add(b, p, 4);
}

static void
field(struct buf *b, int tag, const void *p, size_t n)
{
	buf_addc(b, (char)tag);
	put32(b, (uint32_t)n);
	buf_add(b, p, n);
}

static void
field32(struct buf *b, int tag, uint32_t v)
{
	buf_addc(b, (char)tag);
	put32(b, 4);
	put32(b, v);
}

/* Wraps the payload p in a frame header. */
static void
frame(struct buf *out, const struct buf *p)
{
	buf_reset(out);
	put32(out, (uint32_t)p->len);
	buf_add(out, p->data, p->len);
}

static int
decode_payload(const struct buf *p, const char **err)
{
	struct buf f = { 0 };
	struct record r;
	size_t used;
	int rc;

	frame(&f, p);
	*err = NULL;
	rc = record_decode(f.data, f.len, &r, &used, err);
	if (rc == 1)
		record_free(&r);
	buf_free(&f);
	return rc;
}

/* A MSG payload: folder, uid, then whatever extra holds. */
static void
msg_payload(struct buf *p, const char *folder, uint32_t uid)
{
	buf_reset(p);
	buf_addc(p, REC_MSG);
	if (folder)
		field(p, T_FOLDER, folder, strlen(folder));
	if (uid)
		field32(p, T_UID, uid);
}

static void
expect_bad(const struct buf *p, const char *what)
{
	const char *err = NULL;
	int rc = decode_payload(p, &err);

	if (rc != -1)
		fprintf(stderr, "accepted: %s\n", what);
	CHECK_INT(rc, -1);
	CHECK(err != NULL);
}

static void
test_malformed(void)
{
	struct buf p = { 0 }, f = { 0 };
	struct record r;
	const char *err = NULL;
	size_t used, i;
	char *big;

	/* Frame length over the limit: refused before the bytes arrive. */
	put32(&f, RECORD_MAX_FRAME + 1);
	buf_addc(&f, REC_DONE);
	CHECK_INT(record_decode(f.data, f.len, &r, &used, &err), -1);
	CHECK(err != NULL);
	buf_reset(&f);
	put32(&f, 0);
	CHECK_INT(record_decode(f.data, f.len, &r, &used, &err), -1);

	buf_reset(&p);
	buf_addc(&p, 0);
	expect_bad(&p, "record type 0");
	buf_reset(&p);
	buf_addc(&p, REC_TYPE_LAST + 1);
	expect_bad(&p, "record type past the last");

	msg_payload(&p, "INBOX", 5);
	buf_addc(&p, T_SUBJECT);
	put32(&p, 100);
	buf_adds(&p, "short");
	expect_bad(&p, "field overrunning the frame");

	msg_payload(&p, "INBOX", 5);
	buf_add(&p, "\x14\x00\x00", 3);
	expect_bad(&p, "truncated field header");

	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, "caf\xe9", 4);
	expect_bad(&p, "Latin-1 string");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, "\xed\xa0\x80", 3);
	expect_bad(&p, "UTF-8 surrogate");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, "\xc0\xaf", 2);
	expect_bad(&p, "overlong UTF-8");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, "a\0b", 3);
	expect_bad(&p, "NUL in string");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, "a\rb", 3);
	expect_bad(&p, "CR in string");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, "a\nb", 3);
	expect_bad(&p, "LF in string");

	big = xmalloc(RECORD_MAX_STRING + 1);
	memset(big, 'x', RECORD_MAX_STRING + 1);
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, big, RECORD_MAX_STRING + 1);
	expect_bad(&p, "string over the limit");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, big, RECORD_MAX_STRING);
	CHECK_INT(decode_payload(&p, &err), 1);
	free(big);

	msg_payload(&p, NULL, 5);
	expect_bad(&p, "MSG without folder");
	msg_payload(&p, "", 5);
	expect_bad(&p, "MSG with empty folder");
	msg_payload(&p, "INBOX", 0);
	expect_bad(&p, "MSG without uid");
	msg_payload(&p, "INBOX", 0);
	field32(&p, T_UID, 0);
	expect_bad(&p, "MSG with uid 0");

	msg_payload(&p, "INBOX", 5);
	for (i = 0; i < 501; i++)
		field(&p, T_FROM, "\xff\xff\xff\xff" "a@b.c", 9);
	expect_bad(&p, "501 addresses");
	msg_payload(&p, "INBOX", 5);
	for (i = 0; i < 500; i++)
		field(&p, T_FROM, "\xff\xff\xff\xff" "a@b.c", 9);
	CHECK_INT(decode_payload(&p, &err), 1);
	msg_payload(&p, "INBOX", 5);
	field(&p, T_FROM, "\x00\x00\x00\x09" "a@b.c", 9);
	expect_bad(&p, "address name overrunning");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_FROM, "\x00\x00\x00\x01" "a", 5);
	expect_bad(&p, "address without email");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_FROM, "\x00\x00", 2);
	expect_bad(&p, "address field too short");

	msg_payload(&p, "INBOX", 5);
	field(&p, T_LIST_UNSUB, "\x02", 1);
	expect_bad(&p, "boolean 2");
	msg_payload(&p, "INBOX", 5);
	field(&p, T_UIDVALIDITY + 100, "", 0);
	CHECK_INT(decode_payload(&p, &err), 1);     /* unknown tag: skipped */
	msg_payload(&p, "INBOX", 5);
	field(&p, T_SUBJECT, "a", 1);
	field(&p, T_SUBJECT, "b", 1);
	expect_bad(&p, "duplicate subject");

	buf_reset(&p);
	buf_addc(&p, REC_FOLDER);
	field(&p, T_FOLDER, "INBOX", 5);
	field(&p, T_UIDVALIDITY, "\x00\x01", 2);
	expect_bad(&p, "u32 of 2 bytes");
	buf_reset(&p);
	buf_addc(&p, REC_BATCH_END);
	field(&p, T_FOLDER, "INBOX", 5);
	expect_bad(&p, "BATCH_END without checkpoint");
	buf_reset(&p);
	buf_addc(&p, REC_ERROR);
	field32(&p, T_ERR, 42);
	expect_bad(&p, "error class 42");
	buf_reset(&p);
	buf_addc(&p, REC_ERROR);
	field(&p, T_TEXT, "no class", 8);
	expect_bad(&p, "error without class");

	buf_free(&p);
	buf_free(&f);
}

static void
test_sanitise(void)
{
	struct record in = { .type = REC_MSG }, out;
	struct buf b = { 0 };
	char *big = xmalloc(RECORD_MAX_STRING + 100);
	size_t i;

	in.msg.folder = xstrdup("INBOX");
	in.msg.uid = 1;
	in.msg.subject = xstrdup("caf\xe9\r\nau\nlait\xc3");
	memset(big, 'y', RECORD_MAX_STRING + 99);
	memcpy(big + RECORD_MAX_STRING - 1, "\xc3\xa9", 2);   /* straddles the cut */
	big[RECORD_MAX_STRING + 99] = '\0';
	in.msg.message_id = big;
	msg_addr_list_add(&in.msg.from, "Bad\xff", "bad\rx@y.fr");
	msg_addr_list_add(&in.msg.to, NULL, "");    /* nothing to send */
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_STR(out.msg.subject, "caf\xef\xbf\xbd  au lait\xef\xbf\xbd");
	CHECK_INT(strlen(out.msg.message_id), RECORD_MAX_STRING - 1);
	CHECK_STR(out.msg.from.n ? out.msg.from.v[0].name : NULL, "Bad\xef\xbf\xbd");
	CHECK_STR(out.msg.from.n ? out.msg.from.v[0].email : NULL, "bad x@y.fr");
	CHECK_INT(out.msg.to.n, 0);
	record_free(&out);
	msg_free(&in.msg);

	/* A message too big for one frame still encodes to a valid one. */
	buf_reset(&b);
	in = (struct record){ .type = REC_MSG };
	in.msg.folder = xstrdup("INBOX");
	in.msg.uid = 2;
	big = xmalloc(3000);
	memset(big, 'n', 2999);
	big[2999] = '\0';
	for (i = 0; i < 500; i++)
		msg_addr_list_add(&in.msg.to, big, "to@x.fr");
	free(big);
	record_encode(&in, &b);
	CHECK(b.len <= RECORD_MAX_FRAME + 4);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.msg.to.n, 500);
	record_free(&out);
	msg_free(&in.msg);

	/* An error class out of range is sent as a protocol error. */
	buf_reset(&b);
	in = (struct record){ .type = REC_ERROR, .err_class = 0 };
	record_encode(&in, &b);
	CHECK_INT(decode_all(&b, &out), 1);
	CHECK_INT(out.err_class, RECERR_PROTOCOL);
	record_free(&out);
	buf_free(&b);
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_random(void)
{
	struct record in = { .type = REC_MSG }, out;
	struct buf valid = { 0 };
	unsigned char buf[512];
	uint32_t seed = 20240603;
	int i, ok = 0, bad = 0;

	fill_msg(&in.msg);
	record_encode(&in, &valid);
	msg_free(&in.msg);
	for (i = 0; i < 100000; i++) {
		size_t n = rnd(&seed) % sizeof(buf), j, used;
		const char *err;
		int rc;

		if (i % 2 && valid.len <= sizeof(buf)) {
			/* Mutate a valid frame: more reach the deep checks. */
			n = valid.len;
			memcpy(buf, valid.data, n);
			for (j = rnd(&seed) % 4 + 1; j > 0; j--)
				buf[rnd(&seed) % n] = (unsigned char)rnd(&seed);
		} else {
			for (j = 0; j < n; j++)
				buf[j] = (unsigned char)rnd(&seed);
			if (n >= 5 && rnd(&seed) % 2) {   /* plausible header */
				buf[0] = buf[1] = 0;
				buf[2] = (unsigned char)((n - 4) >> 8);
				buf[3] = (unsigned char)(n - 4);
				buf[4] = (unsigned char)(rnd(&seed) % 8);
			}
		}
		rc = record_decode(buf, n, &out, &used, &err);
		if (rc == 1) {
			ok++;
			CHECK(used <= n);
			record_free(&out);
		} else if (rc < 0) {
			bad++;
		}
	}
	CHECK(ok > 0 && bad > 0);
	buf_free(&valid);
}

int
main(void)
{
	test_msg_round_trip();
	test_other_round_trips();
	test_malformed();
	test_sanitise();
	test_random();
	return UNIT_DONE();
}
