/* record: owns the wire format between the IMAP child and the parent. The
 * encoder sanitises so an honest child always produces valid frames; the
 * decoder trusts nothing and checks every length, string and count before a
 * record reaches the store. One string field may hold LF: T_TEXT_BODY, the
 * message text (T_TEXT_PREFIX, its single-line predecessor, still decodes);
 * every other string stays one line. */
#include "record.h"
#include "utf8_p.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define REC_MAX_ADDRS  500
#define REC_NAME_NONE  0xffffffffu   /* address field: no display name */
#define REC_SMALL_STR  200           /* string cap when a frame runs too big */

/* Field tags. Numbers are the wire contract: never reuse or renumber. */
enum rec_tag {
	T_FOLDER = 1, T_UIDVALIDITY = 2, T_UIDNEXT = 3, T_EXISTS = 4, T_UID = 5,
	T_TEXT = 6, T_ERR_CLASS = 7,
	T_MESSAGE_ID = 16, T_IN_REPLY_TO = 17, T_REFERENCES = 18, T_DATE = 19,
	T_SUBJECT = 20, T_FROM = 21, T_TO = 22, T_CC = 23, T_REPLY_TO = 24,
	T_LIST_ID = 25, T_LIST_UNSUB = 26, T_PRECEDENCE = 27,
	T_AUTO_SUBMITTED = 28, T_X_AUTOREPLY = 29, T_TEXT_PREFIX = 30,
	T_TEXT_BODY = 31, T_ID = 32, T_DATA = 33,
	T_MAX = 34
};

#define BIT(t) (1ull << (t))
#define MSG_TAGS (BIT(T_FOLDER) | BIT(T_UID) | BIT(T_MESSAGE_ID) | \
	BIT(T_IN_REPLY_TO) | BIT(T_REFERENCES) | BIT(T_DATE) | BIT(T_SUBJECT) | \
	BIT(T_FROM) | BIT(T_TO) | BIT(T_CC) | BIT(T_REPLY_TO) | BIT(T_LIST_ID) | \
	BIT(T_LIST_UNSUB) | BIT(T_PRECEDENCE) | BIT(T_AUTO_SUBMITTED) | \
	BIT(T_X_AUTOREPLY) | BIT(T_TEXT_PREFIX) | BIT(T_TEXT_BODY))

/* Which tags each record type carries (index: enum record_type), and which
 * of them it cannot do without. Other tags are skipped like unknown ones. */
static const uint64_t rec_allowed[] = {
	[REC_HELLO] = BIT(T_TEXT),
	[REC_FOLDER] = BIT(T_FOLDER) | BIT(T_UIDVALIDITY) | BIT(T_UIDNEXT) | BIT(T_EXISTS),
	[REC_MSG] = MSG_TAGS,
	[REC_SKIP] = BIT(T_FOLDER) | BIT(T_UID) | BIT(T_TEXT),
	[REC_BATCH_END] = BIT(T_FOLDER) | BIT(T_UIDVALIDITY) | BIT(T_UID),
	[REC_DONE] = 0,
	[REC_ERROR] = BIT(T_ERR_CLASS) | BIT(T_TEXT),
	[REC_IDLE] = 0,
	[REC_TASKS] = 0,
	[REC_SEEN] = BIT(T_FOLDER) | BIT(T_UIDVALIDITY) | BIT(T_UID),
	[REC_DRAFT] = BIT(T_ID) | BIT(T_TEXT) | BIT(T_DATA),
};

static const uint64_t rec_required[] = {
	[REC_HELLO] = 0,
	[REC_FOLDER] = BIT(T_FOLDER) | BIT(T_UIDVALIDITY),
	[REC_MSG] = BIT(T_FOLDER) | BIT(T_UID),
	[REC_SKIP] = BIT(T_FOLDER) | BIT(T_UID),
	[REC_BATCH_END] = BIT(T_FOLDER) | BIT(T_UIDVALIDITY) | BIT(T_UID),
	[REC_DONE] = 0,
	[REC_ERROR] = BIT(T_ERR_CLASS),
	[REC_IDLE] = 0,
	[REC_TASKS] = 0,
	[REC_SEEN] = BIT(T_FOLDER) | BIT(T_UIDVALIDITY) | BIT(T_UID),
	[REC_DRAFT] = BIT(T_ID),
};

/* ---- encoding ---- */

static void
rec_put32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static void
rec_add32(struct buf *b, uint32_t v)
{
	char p[4];

	rec_put32(p, v);
	buf_add(b, p, 4);
}

static void
rec_field_u32(struct buf *b, int tag, uint32_t v)
{
	buf_addc(b, (char)tag);
	rec_add32(b, 4);
	rec_add32(b, v);
}

static void
rec_field_bool(struct buf *b, int tag, bool v)
{
	buf_addc(b, (char)tag);
	rec_add32(b, 1);
	buf_addc(b, v ? 1 : 0);
}

static void
rec_field_i64(struct buf *b, int tag, int64_t v)
{
	uint64_t u = (uint64_t)v;

	buf_addc(b, (char)tag);
	rec_add32(b, 8);
	rec_add32(b, (uint32_t)(u >> 32));
	rec_add32(b, (uint32_t)u);
}

/* Appends s sanitised: invalid UTF-8 becomes U+FFFD, NUL/CR/LF spaces (LF
 * stays when keep_lf: the text of a message body), and the result is cut on
 * a character boundary at max bytes. Copies whole valid runs at once: this
 * is the hot path of a big sync. utf8_seq_len(p, 4) never reads past the
 * NUL: it stops at the first non-continuation byte. */
static void
rec_add_clean(struct buf *b, const char *s, size_t max, bool keep_lf)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	size_t room = max, k;

	buf_reserve(b, strlen(s) < max ? strlen(s) : max);
	for (;; p += k) {
		if (*p == '\0' || *p == '\r' || (*p == '\n' && !keep_lf) ||
		    (k = utf8_seq_len(p, 4)) == 0) {
			buf_add(b, run, (size_t)(p - run));
			if (*p == '\0')
				return;
			k = (*p == '\r' || *p == '\n') ? 1 : 3;
			if (k > room)
				return;
			buf_add(b, k == 1 ? " " : "\xef\xbf\xbd", k);
			room -= k;
			k = 1;
			run = p + 1;
			continue;
		}
		if (k > room) {
			buf_add(b, run, (size_t)(p - run));
			return;
		}
		room -= k;
	}
}

static void
rec_field_text(struct buf *b, int tag, const char *s, size_t max, bool keep_lf)
{
	size_t at;

	if (s == NULL)
		return;
	buf_addc(b, (char)tag);
	at = b->len;
	rec_add32(b, 0);
	rec_add_clean(b, s, max, keep_lf);
	rec_put32(b->data + at, (uint32_t)(b->len - at - 4));
}

static void
rec_field_str(struct buf *b, int tag, const char *s, size_t max)
{
	rec_field_text(b, tag, s, max, false);
}

/* One address per field: u32 name length (REC_NAME_NONE: no name), the
 * name, then the email up to the end of the field. */
static void
rec_field_addrs(struct buf *b, int tag, const struct msg_addr_list *l, size_t max)
{
	size_t i, at, nat;

	for (i = 0; i < l->n && i < REC_MAX_ADDRS; i++) {
		if (l->v[i].email == NULL || l->v[i].email[0] == '\0')
			continue;       /* the decoder refuses these */
		buf_addc(b, (char)tag);
		at = b->len;
		rec_add32(b, 0);
		nat = b->len;
		rec_add32(b, REC_NAME_NONE);
		if (l->v[i].name != NULL) {
			rec_add_clean(b, l->v[i].name, max, false);
			rec_put32(b->data + nat, (uint32_t)(b->len - nat - 4));
		}
		rec_add_clean(b, l->v[i].email, max, false);
		rec_put32(b->data + at, (uint32_t)(b->len - at - 4));
	}
}

static void
rec_encode_msg(const struct record *r, struct buf *b, size_t max)
{
	const struct msg *m = &r->msg;

	rec_field_str(b, T_FOLDER, m->folder ? m->folder : r->folder, max);
	rec_field_u32(b, T_UID, m->uid ? m->uid : r->uid);
	rec_field_str(b, T_MESSAGE_ID, m->message_id, max);
	rec_field_str(b, T_IN_REPLY_TO, m->in_reply_to, max);
	rec_field_str(b, T_REFERENCES, m->references, max);
	rec_field_i64(b, T_DATE, m->date);
	rec_field_str(b, T_SUBJECT, m->subject, max);
	rec_field_addrs(b, T_FROM, &m->from, max);
	rec_field_addrs(b, T_TO, &m->to, max);
	rec_field_addrs(b, T_CC, &m->cc, max);
	rec_field_addrs(b, T_REPLY_TO, &m->reply_to, max);
	rec_field_str(b, T_LIST_ID, m->list_id, max);
	rec_field_bool(b, T_LIST_UNSUB, m->list_unsubscribe);
	rec_field_str(b, T_PRECEDENCE, m->precedence, max);
	rec_field_str(b, T_AUTO_SUBMITTED, m->auto_submitted, max);
	rec_field_bool(b, T_X_AUTOREPLY, m->x_autoreply);
	/* T_TEXT_BODY, not the single-line T_TEXT_PREFIX: the paragraphs of
	 * the text matter to detection. */
	rec_field_text(b, T_TEXT_BODY, m->text_prefix, max, true);
}

static void
rec_encode_payload(const struct record *r, struct buf *b, size_t max)
{
	buf_addc(b, (char)r->type);
	switch (r->type) {
	case REC_HELLO:
		rec_field_str(b, T_TEXT, r->text, max);
		break;
	case REC_FOLDER:
		rec_field_str(b, T_FOLDER, r->folder ? r->folder : "", max);
		rec_field_u32(b, T_UIDVALIDITY, r->uidvalidity);
		rec_field_u32(b, T_UIDNEXT, r->uidnext);
		rec_field_u32(b, T_EXISTS, r->exists);
		break;
	case REC_MSG:
		rec_encode_msg(r, b, max);
		break;
	case REC_SKIP:
		rec_field_str(b, T_FOLDER, r->folder ? r->folder : "", max);
		rec_field_u32(b, T_UID, r->uid);
		rec_field_str(b, T_TEXT, r->text, max);
		break;
	case REC_BATCH_END:
		rec_field_str(b, T_FOLDER, r->folder ? r->folder : "", max);
		rec_field_u32(b, T_UIDVALIDITY, r->uidvalidity);
		rec_field_u32(b, T_UID, r->uid);
		break;
	case REC_DONE:
	case REC_IDLE:
	case REC_TASKS:
		break;
	case REC_SEEN:
		rec_field_str(b, T_FOLDER, r->folder ? r->folder : "", max);
		rec_field_u32(b, T_UIDVALIDITY, r->uidvalidity);
		rec_field_u32(b, T_UID, r->uid);
		break;
	case REC_DRAFT:
		rec_field_i64(b, T_ID, r->id);
		rec_field_str(b, T_TEXT, r->text, max);
		rec_field_text(b, T_DATA, r->data, max, true);
		break;
	case REC_ERROR:
		rec_field_u32(b, T_ERR_CLASS, r->err_class >= RECERR_TEMP &&
		    r->err_class <= RECERR_PROTOCOL ? (uint32_t)r->err_class :
		    RECERR_PROTOCOL);
		rec_field_str(b, T_TEXT, r->text, max);
		break;
	}
}

void
record_encode(const struct record *r, struct buf *out)
{
	size_t at = out->len;

	rec_add32(out, 0);
	rec_encode_payload(r, out, RECORD_MAX_STRING);
	/* Only a message with hundreds of huge addresses gets here; shorter
	 * strings always fit (see REC_SMALL_STR). */
	if (out->len - at - 4 > RECORD_MAX_FRAME) {
		out->len = at + 4;
		rec_encode_payload(r, out, REC_SMALL_STR);
	}
	rec_put32(out->data + at, (uint32_t)(out->len - at - 4));
	out->data[out->len] = '\0';
}

/* ---- decoding ---- */

struct rec_in {
	const unsigned char *p;
	size_t n;
	const char **err;
};

static uint32_t
rec_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
rec_fail(const char **err, const char *why)
{
	*err = why;
	return -1;
}

static const char *
rec_check_text(const unsigned char *p, size_t n, bool allow_lf)
{
	size_t i = 0, k;

	if (n > RECORD_MAX_STRING)
		return "string too long";
	while (i < n) {
		if (p[i] == '\0' || p[i] == '\r' || (p[i] == '\n' && !allow_lf))
			return "string holds NUL, CR or LF";
		if ((k = utf8_seq_len(p + i, n - i)) == 0)
			return "string is not valid UTF-8";
		i += k;
	}
	return NULL;
}

static const char *
rec_check_str(const unsigned char *p, size_t n)
{
	return rec_check_text(p, n, false);
}

static int
rec_get_text(char **dst, const unsigned char *p, size_t n, const char **err, bool allow_lf)
{
	const char *why = rec_check_text(p, n, allow_lf);

	if (why != NULL)
		return rec_fail(err, why);
	if (*dst != NULL)
		return rec_fail(err, "duplicate field");
	*dst = xstrndup((const char *)p, n);
	return 0;
}

static int
rec_get_str(char **dst, const unsigned char *p, size_t n, const char **err)
{
	return rec_get_text(dst, p, n, err, false);
}

static int
rec_get_u32(uint32_t *dst, const unsigned char *p, size_t n, const char **err)
{
	if (n != 4)
		return rec_fail(err, "integer field of wrong size");
	*dst = rec_get32(p);
	return 0;
}

static int
rec_get_bool(bool *dst, const unsigned char *p, size_t n, const char **err)
{
	if (n != 1 || p[0] > 1)
		return rec_fail(err, "bad boolean field");
	*dst = p[0] == 1;
	return 0;
}

static int
rec_get_addr(struct msg_addr_list *l, const unsigned char *p, size_t n, const char **err)
{
	uint32_t nlen;
	bool has_name;
	const char *why;
	struct msg_addr *a;

	if (l->n >= REC_MAX_ADDRS)
		return rec_fail(err, "too many addresses in one list");
	if (n < 4)
		return rec_fail(err, "address field too short");
	nlen = rec_get32(p);
	has_name = nlen != REC_NAME_NONE;
	nlen = has_name ? nlen : 0;
	if (nlen > n - 4)
		return rec_fail(err, "address name overruns its field");
	p += 4;
	n -= 4;
	if (n == nlen)
		return rec_fail(err, "address without email");
	if ((why = rec_check_str(p, nlen)) != NULL ||
	    (why = rec_check_str(p + nlen, n - nlen)) != NULL)
		return rec_fail(err, why);
	l->v = xreallocarray_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	a = &l->v[l->n++];
	a->name = has_name ? xstrndup((const char *)p, nlen) : NULL;
	a->email = xstrndup((const char *)p + nlen, n - nlen);
	return 0;
}

static int
rec_get_msg_field(struct record *r, int tag, const unsigned char *p, size_t n,
    const char **err)
{
	struct msg *m = &r->msg;
	uint32_t hi, lo;

	switch (tag) {
	case T_MESSAGE_ID: return rec_get_str(&m->message_id, p, n, err);
	case T_IN_REPLY_TO: return rec_get_str(&m->in_reply_to, p, n, err);
	case T_REFERENCES: return rec_get_str(&m->references, p, n, err);
	case T_SUBJECT: return rec_get_str(&m->subject, p, n, err);
	case T_LIST_ID: return rec_get_str(&m->list_id, p, n, err);
	case T_PRECEDENCE: return rec_get_str(&m->precedence, p, n, err);
	case T_AUTO_SUBMITTED: return rec_get_str(&m->auto_submitted, p, n, err);
	case T_TEXT_PREFIX: return rec_get_str(&m->text_prefix, p, n, err);
	/* Either tag fills text_prefix; a frame with both is refused as a
	 * duplicate (the second finds the field set). */
	case T_TEXT_BODY: return rec_get_text(&m->text_prefix, p, n, err, true);
	case T_FROM: return rec_get_addr(&m->from, p, n, err);
	case T_TO: return rec_get_addr(&m->to, p, n, err);
	case T_CC: return rec_get_addr(&m->cc, p, n, err);
	case T_REPLY_TO: return rec_get_addr(&m->reply_to, p, n, err);
	case T_LIST_UNSUB: return rec_get_bool(&m->list_unsubscribe, p, n, err);
	case T_X_AUTOREPLY: return rec_get_bool(&m->x_autoreply, p, n, err);
	case T_DATE:
		if (n != 8)
			return rec_fail(err, "date field of wrong size");
		hi = rec_get32(p);
		lo = rec_get32(p + 4);
		m->date = (int64_t)((uint64_t)hi << 32 | lo);
		return 0;
	}
	return 0;
}

static int
rec_get_field(struct record *r, int tag, const unsigned char *p, size_t n,
    const char **err)
{
	uint32_t v;

	switch (tag) {
	case T_FOLDER: return rec_get_str(&r->folder, p, n, err);
	case T_UIDVALIDITY: return rec_get_u32(&r->uidvalidity, p, n, err);
	case T_UIDNEXT: return rec_get_u32(&r->uidnext, p, n, err);
	case T_EXISTS: return rec_get_u32(&r->exists, p, n, err);
	case T_UID: return rec_get_u32(&r->uid, p, n, err);
	case T_TEXT: return rec_get_str(&r->text, p, n, err);
	case T_DATA: return rec_get_text(&r->data, p, n, err, true);
	case T_ID:
		if (n != 8)
			return rec_fail(err, "id field of wrong size");
		r->id = (int64_t)((uint64_t)rec_get32(p) << 32 | rec_get32(p + 4));
		return 0;
	case T_ERR_CLASS:
		if (rec_get_u32(&v, p, n, err) < 0)
			return -1;
		if (v < RECERR_TEMP || v > RECERR_PROTOCOL)
			return rec_fail(err, "unknown error class");
		r->err_class = (int)v;
		return 0;
	}
	return rec_get_msg_field(r, tag, p, n, err);
}

/* Walks the fields of one payload (after the type byte). */
static int
rec_get_fields(struct record *r, const unsigned char *p, size_t n, const char **err)
{
	uint64_t seen = 0, allowed = rec_allowed[r->type];
	uint32_t flen;
	int tag;

	while (n > 0) {
		if (n < 5)
			return rec_fail(err, "truncated field header");
		tag = p[0];
		flen = rec_get32(p + 1);
		if (flen > n - 5)
			return rec_fail(err, "field overruns the frame");
		if (tag < T_MAX && (allowed & BIT(tag))) {
			if (tag != T_FROM && tag != T_TO && tag != T_CC &&
			    tag != T_REPLY_TO && (seen & BIT(tag)))
				return rec_fail(err, "duplicate field");
			seen |= BIT(tag);
			if (rec_get_field(r, tag, p + 5, flen, err) < 0)
				return -1;
		}
		p += 5 + flen;
		n -= 5 + flen;
	}
	if ((seen & rec_required[r->type]) != rec_required[r->type])
		return rec_fail(err, "required field missing");
	return 0;
}

static int
rec_finish_msg(struct record *r, const char **err)
{
	if (r->folder == NULL || *r->folder == '\0')
		return rec_fail(err, "message without folder");
	if (r->uid == 0)
		return rec_fail(err, "message without uid");
	r->msg.folder = xstrdup(r->folder);
	r->msg.uid = r->uid;
	return 0;
}

int
record_decode(const void *data, size_t len, struct record *r, size_t *consumed,
    const char **err)
{
	const unsigned char *p = data;
	uint32_t plen;
	const char *dummy;

	err = err ? err : &dummy;
	memset(r, 0, sizeof(*r));
	*consumed = 0;
	if (len < 4)
		return 0;
	plen = rec_get32(p);
	if (plen > RECORD_MAX_FRAME)
		return rec_fail(err, "frame too large");
	if (plen == 0)
		return rec_fail(err, "empty frame");
	if (len - 4 < plen)
		return 0;
	if (p[4] < REC_HELLO || p[4] > REC_TYPE_LAST)
		return rec_fail(err, "unknown record type");
	r->type = (enum record_type)p[4];
	if (rec_get_fields(r, p + 5, plen - 1, err) < 0 ||
	    (r->type == REC_MSG && rec_finish_msg(r, err) < 0)) {
		record_free(r);
		return -1;
	}
	*consumed = 4 + (size_t)plen;
	return 1;
}

void
record_free(struct record *r)
{
	free(r->folder);
	free(r->text);
	free(r->data);
	msg_free(&r->msg);
	memset(r, 0, sizeof(*r));
}
