/* fuzz_headers: msg_parse_headers, which the IMAP child runs on whatever
 * header block the server returns. What it leaves in struct msg must be the
 * clean, bounded UTF-8 msg.h promises, and must travel to the parent: the
 * record the child encodes from it is accepted and decodes to the same
 * facts. */
#include "fuzz.h"
#include "msg.h"
#include "record.h"
#include "thread.h"

#include <stdbool.h>

const char fuzz_target_name[] = "headers";

#define MAX_STR 4096     /* msg.c: no string in struct msg is longer */

static void
check_str(const char *s, bool one_line)
{
	if (s == NULL)
		return;
	FUZZ_CHECK(strlen(s) <= MAX_STR);
	FUZZ_CHECK(fuzz_str_utf8(s));
	FUZZ_CHECK(!one_line || (strchr(s, '\r') == NULL && strchr(s, '\n') == NULL));
}

static void
check_lower(const char *s)
{
	for (; s && *s; s++)
		FUZZ_CHECK(!(*s >= 'A' && *s <= 'Z'));
}

static void
check_addrs(const struct msg_addr_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *e = l->v[i].email;
		FUZZ_CHECK(e != NULL && *e != '\0');
		check_str(e, true);
		check_lower(e);
		for (const char *p = e; *p; p++)
			FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f);
		check_str(l->v[i].name, true);
	}
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void
check_travel(const struct msg *m)
{
	struct record r = { 0 }, back;
	struct buf b = { 0 };
	size_t used;
	const char *err = NULL;
	int rc;

	r.type = REC_MSG;
	r.msg = *m;
	r.msg.folder = (char *)"INBOX";
	r.msg.uid = 7;
	record_encode(&r, &b);
	rc = record_decode(b.data, b.len, &back, &used, &err);
	if (rc != 1)
		fprintf(stderr, "record refused: %s\n", err ? err : "(need more)");
	FUZZ_CHECK(rc == 1 && used == b.len);
	FUZZ_CHECK(str_eq(back.msg.subject, m->subject));
	FUZZ_CHECK(str_eq(back.msg.message_id, m->message_id));
	FUZZ_CHECK(str_eq(back.msg.references, m->references));
	FUZZ_CHECK(back.msg.date == m->date);
	FUZZ_CHECK(back.msg.from.n == m->from.n && back.msg.to.n == m->to.n &&
	    back.msg.cc.n == m->cc.n && back.msg.reply_to.n == m->reply_to.n);
	for (size_t i = 0; i < m->from.n; i++)
		FUZZ_CHECK(str_eq(back.msg.from.v[i].email, m->from.v[i].email) &&
		    str_eq(back.msg.from.v[i].name, m->from.v[i].name));
	record_free(&back);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg m;
	char *key, *norm;
	int rc;

	memset(&m, 0, sizeof(m));
	rc = msg_parse_headers((const char *)data, size, &m);
	FUZZ_CHECK(rc == 0 || rc == -1);
	check_str(m.message_id, true);
	check_str(m.in_reply_to, true);
	check_str(m.references, true);
	check_str(m.subject, true);
	check_str(m.list_id, true);
	check_str(m.precedence, true);
	check_str(m.auto_submitted, true);
	check_lower(m.precedence);
	check_lower(m.auto_submitted);
	check_addrs(&m.from);
	check_addrs(&m.to);
	check_addrs(&m.cc);
	check_addrs(&m.reply_to);
	if (rc == 0) {
		check_travel(&m);
		key = thread_key_from_headers(&m);
		check_str(key, true);
		free(key);
		norm = thread_subject_normalise(m.subject);
		FUZZ_CHECK(norm != NULL && fuzz_str_utf8(norm));
		free(norm);
	}
	msg_free(&m);
	return 0;
}
