/* fuzz_record: record_decode, the parent's trust boundary: whatever bytes a
 * compromised IMAP child writes, the parent must refuse or decode them into
 * a record that keeps every promise of record.h, and that record must go
 * through record_encode and back unchanged. The input also builds a MSG
 * record from arbitrary strings: the encoder must turn it into a frame the
 * decoder accepts (an honest child never gets its records refused). */
#include "fuzz.h"
#include "record.h"

#include <stdbool.h>

const char fuzz_target_name[] = "record";

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* A decoded string: valid UTF-8, bounded, no CR/LF (lf_ok: the body). */
static void
check_str(const char *s, bool lf_ok)
{
	if (s == NULL)
		return;
	FUZZ_CHECK(strlen(s) <= RECORD_MAX_STRING);
	FUZZ_CHECK(fuzz_str_utf8(s));
	FUZZ_CHECK(strchr(s, '\r') == NULL);
	FUZZ_CHECK(lf_ok || strchr(s, '\n') == NULL);
}

static void
check_addrs(const struct msg_addr_list *l)
{
	FUZZ_CHECK(l->n <= l->cap || l->v == NULL);
	for (size_t i = 0; i < l->n; i++) {
		FUZZ_CHECK(l->v[i].email != NULL && l->v[i].email[0] != '\0');
		check_str(l->v[i].email, false);
		check_str(l->v[i].name, false);
	}
}

static void
check_record(const struct record *r)
{
	const struct msg *m = &r->msg;

	FUZZ_CHECK(r->type >= REC_HELLO && r->type <= REC_TYPE_LAST);
	check_str(r->folder, false);
	check_str(r->text, false);
	check_str(r->data, true);
	if (r->type == REC_ERROR)
		FUZZ_CHECK(r->err_class >= RECERR_TEMP && r->err_class <= RECERR_PROTOCOL);
	if (r->type == REC_FOLDER || r->type == REC_SKIP || r->type == REC_BATCH_END)
		FUZZ_CHECK(r->folder != NULL);
	if (r->type != REC_MSG)
		return;
	FUZZ_CHECK(r->folder && *r->folder && r->uid != 0);
	FUZZ_CHECK(m->folder && strcmp(m->folder, r->folder) == 0 && m->uid == r->uid);
	check_str(m->message_id, false);
	check_str(m->in_reply_to, false);
	check_str(m->references, false);
	check_str(m->subject, false);
	check_str(m->list_id, false);
	check_str(m->precedence, false);
	check_str(m->auto_submitted, false);
	check_str(m->text_prefix, true);
	check_addrs(&m->from);
	check_addrs(&m->to);
	check_addrs(&m->cc);
	check_addrs(&m->reply_to);
}

static bool
addrs_eq(const struct msg_addr_list *a, const struct msg_addr_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!str_eq(a->v[i].name, b->v[i].name) || !str_eq(a->v[i].email, b->v[i].email))
			return false;
	return true;
}

static bool
record_eq(const struct record *a, const struct record *b)
{
	const struct msg *x = &a->msg, *y = &b->msg;

	if (a->type != b->type || !str_eq(a->folder, b->folder))
		return false;
	switch (a->type) {
	case REC_HELLO:
		return str_eq(a->text, b->text);
	case REC_FOLDER:
		return a->uidvalidity == b->uidvalidity && a->uidnext == b->uidnext &&
		    a->exists == b->exists;
	case REC_SKIP:
		return a->uid == b->uid && str_eq(a->text, b->text);
	case REC_BATCH_END:
		return a->uidvalidity == b->uidvalidity && a->uid == b->uid;
	case REC_DONE:
	case REC_IDLE:
	case REC_TASKS:
		return true;
	case REC_SEEN:
		return a->uidvalidity == b->uidvalidity && a->uid == b->uid;
	case REC_DRAFT:
		return a->id == b->id && str_eq(a->data, b->data);
	case REC_ERROR:
		return a->err_class == b->err_class && str_eq(a->text, b->text);
	case REC_MSG:
		break;
	}
	return a->uid == b->uid && str_eq(x->message_id, y->message_id) &&
	    str_eq(x->in_reply_to, y->in_reply_to) && str_eq(x->references, y->references) &&
	    x->date == y->date && str_eq(x->subject, y->subject) &&
	    addrs_eq(&x->from, &y->from) && addrs_eq(&x->to, &y->to) &&
	    addrs_eq(&x->cc, &y->cc) && addrs_eq(&x->reply_to, &y->reply_to) &&
	    str_eq(x->list_id, y->list_id) && x->list_unsubscribe == y->list_unsubscribe &&
	    str_eq(x->precedence, y->precedence) &&
	    str_eq(x->auto_submitted, y->auto_submitted) &&
	    x->x_autoreply == y->x_autoreply && str_eq(x->text_prefix, y->text_prefix);
}

/* Encodes r and decodes the frame: must give back one whole frame. */
static void
reencode(const struct record *r, struct record *back)
{
	struct buf b = { 0 };
	size_t used = 0;
	const char *err = NULL;
	int rc;

	record_encode(r, &b);
	rc = record_decode(b.data, b.len, back, &used, &err);
	if (rc != 1)
		fprintf(stderr, "re-encoded frame refused: %s\n", err ? err : "(need more)");
	FUZZ_CHECK(rc == 1);
	FUZZ_CHECK(used == b.len);
	/* Every proper prefix needs more bytes, never looks like an error. */
	for (size_t cut = 0; cut < b.len && cut < 16; cut++) {
		struct record tmp;
		size_t u2;
		FUZZ_CHECK(record_decode(b.data, cut, &tmp, &u2, &err) == 0);
	}
	buf_free(&b);
}

/* The decoding side: frames one after the other, as the parent reads the
 * socket, then each decoded record re-encoded. */
static void
fuzz_decode(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct record r, back;
		size_t used = 0;
		const char *err = NULL;
		int rc = record_decode(data + off, size - off, &r, &used, &err);

		if (rc < 0) {
			FUZZ_CHECK(err != NULL);
			return;
		}
		if (rc == 0) {
			FUZZ_CHECK(used == 0);
			return;
		}
		FUZZ_CHECK(used >= 5 && used <= size - off);
		check_record(&r);
		reencode(&r, &back);
		check_record(&back);
		FUZZ_CHECK(record_eq(&r, &back));
		record_free(&back);
		record_free(&r);
		off += used;
	}
}

static void
take_addrs(struct fuzz_in *in, struct msg_addr_list *l, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		char *name = fuzz_str(in), *email = fuzz_str(in);
		if (email == NULL) {
			free(name);
			return;
		}
		msg_addr_list_add(l, *name ? name : NULL, email);
		free(name);
		free(email);
	}
}

/* The encoding side: a record of arbitrary strings, as a child holding
 * hostile server data would build it. */
static void
fuzz_encode(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct record r = { 0 }, back;
	unsigned sel = fuzz_byte(&in), counts = fuzz_byte(&in);
	struct msg *m = &r.msg;

	r.type = (enum record_type)(sel % 7 + 1);
	r.uid = fuzz_byte(&in) | 1u;
	r.uidvalidity = fuzz_byte(&in);
	r.err_class = (int)(fuzz_byte(&in) % 8);
	r.folder = fuzz_str(&in);
	if (r.folder == NULL || (r.type == REC_MSG && *r.folder == '\0')) {
		free(r.folder);
		r.folder = strdup("INBOX");
	}
	r.text = fuzz_str(&in);
	if (r.type == REC_MSG) {
		m->message_id = fuzz_str(&in);
		m->subject = fuzz_str(&in);
		m->references = fuzz_str(&in);
		m->text_prefix = fuzz_str(&in);
		m->date = (int64_t)(sel * 0x9e3779b97f4a7c15ull);
		m->list_unsubscribe = sel & 0x40;
		m->x_autoreply = sel & 0x80;
		take_addrs(&in, &m->from, counts & 3);
		take_addrs(&in, &m->to, (counts >> 2) & 7);
		take_addrs(&in, &m->cc, counts >> 5);
	}
	reencode(&r, &back);
	check_record(&back);
	FUZZ_CHECK(back.type == r.type);
	record_free(&back);
	record_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decode(data, size);
	fuzz_encode(data, size);
	return 0;
}
