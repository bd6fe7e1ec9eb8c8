/* mailbuild: owns the rendering of merci's own messages to RFC 5322 bytes:
 * header validation (nothing from mail may inject a header), RFC 2047
 * encoded words, header folding, quoted-printable bodies and the
 * multipart/alternative wrapper. Everything it returns is newly allocated
 * and belongs to the caller. */
#include "mailbuild.h"

#include "buf.h"
#include "utf8_p.h"
#include "xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Folding aims at 78 columns; RFC 5322 forbids more than 998. */
#define LINE_SOFT 78
#define LINE_HARD 998
/* Encoded words stay short enough that the longest header name we encode
 * ("X-Merci-Nudge: ", 15) plus one word still fits in 78 columns. */
#define WORD_MAX 62
#define WORD_PREFIX "=?UTF-8?Q?"
#define WORD_PREFIX_B "=?UTF-8?B?"
/* An ASCII word longer than this cannot be folded inside 78 columns. */
#define PLAIN_WORD_MAX 60
#define ID_MAX 250
#define ADDR_MAX 254

static const char hexdig[] = "0123456789ABCDEF";

static void
random_fill(void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t r = getrandom(c, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			abort();	/* no entropy source: nothing sane to fall back to */
		}
		c += r;
		n -= (size_t)r;
	}
}

static void
hex_random(struct buf *b, size_t nbytes)
{
	unsigned char r[32];

	random_fill(r, nbytes);
	for (size_t i = 0; i < nbytes; i++) {
		buf_addc(b, "0123456789abcdef"[r[i] >> 4]);
		buf_addc(b, "0123456789abcdef"[r[i] & 15]);
	}
}

char *
mailbuild_message_id(const char *addr)
{
	struct buf b = { 0 };
	const char *at = addr ? strrchr(addr, '@') : NULL;
	const char *dom = at && at[1] ? at + 1 : "merci.invalid";

	buf_adds(&b, "merci.");
	hex_random(&b, 16);
	buf_printf(&b, "@%s", dom);
	return buf_steal(&b);
}

/* ---- sanitising and validating header text ---- */

/* Length of a character that ends a line or is a control: C0, DEL, C1
 * (U+0080..U+009F, U+0085 among them), U+2028, U+2029. 0 otherwise. */
static size_t
control_len(const unsigned char *p, size_t n)
{
	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	if (n >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
		return 3;
	return 0;
}

/* Appends one space unless the output is empty or already ends in one, so
 * runs collapse and nothing leads. */
static void
space_add(struct buf *b)
{
	if (b->len > 0 && b->data[b->len - 1] != ' ')
		buf_addc(b, ' ');
}

char *
mailbuild_sanitise(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0;
	struct buf b = { 0 };

	buf_reserve(&b, n < max ? n : max);
	b.data[0] = '\0';	/* buf_reserve leaves the new space unterminated */
	while (i < n) {
		size_t c = control_len(p + i, n - i);
		size_t l = c ? c : utf8_seq_len(p + i, n - i);

		if (c || p[i] == ' ') {
			if (b.len + 1 > max)
				break;
			space_add(&b);
		} else if (l == 0) {
			l = 1;	/* a byte that is not UTF-8 becomes U+FFFD */
			if (b.len + 3 > max)
				break;
			buf_add(&b, "\xef\xbf\xbd", 3);
		} else {
			if (b.len + l > max)
				break;
			buf_add(&b, p + i, l);
		}
		i += l;
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	return buf_steal(&b);
}

/* NULL when s is well-formed UTF-8 without any control or line separator,
 * else what is wrong with it. */
static const char *
text_problem(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t l;
		if (control_len(p + i, n - i))
			return "holds a control character or line break; clean it with mailbuild_sanitise";
		if ((l = utf8_seq_len(p + i, n - i)) == 0)
			return "is not valid UTF-8; clean it with mailbuild_sanitise";
		i += l;
	}
	return NULL;
}

static bool
is_atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* A bare addr-spec in the plain dot-atom form merci writes to. */
static bool
addr_ok(const char *a)
{
	const char *at = strchr(a, '@');

	if (!at || at == a || !at[1] || strchr(at + 1, '@') || strlen(a) > ADDR_MAX)
		return false;
	for (const char *p = a; p < at; p++)
		if (!is_atext((unsigned char)*p) && *p != '.')
			return false;
	for (const char *p = at + 1; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:", *p))
			return false;
	return true;
}

/* A msg-id without its brackets: dot-atom-ish text, no space, no <>. */
static bool
id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (!is_atext((unsigned char)*p) && !strchr(".@[]", *p))
			return false;
	return true;
}

static bool
lang_ok(const char *l)
{
	size_t n = strlen(l);

	if (n == 0 || n > 35)
		return false;
	for (; *l; l++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", *l))
			return false;
	return true;
}

/* ---- RFC 2047 ---- */

/* Characters RFC 2047 (5.3) lets a Q word carry as is, even in a phrase. */
static bool
q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static size_t
q_len(const unsigned char *p, size_t l)
{
	size_t n = 0;

	for (size_t i = 0; i < l; i++)
		n += q_plain(p[i]) || p[i] == ' ' ? 1 : 3;
	return n;
}

static void
q_add(struct buf *b, const unsigned char *p, size_t l)
{
	for (size_t i = 0; i < l; i++) {
		if (q_plain(p[i]))
			buf_addc(b, (char)p[i]);
		else if (p[i] == ' ')
			buf_addc(b, '_');
		else {
			buf_addc(b, '=');
			buf_addc(b, hexdig[p[i] >> 4]);
			buf_addc(b, hexdig[p[i] & 15]);
		}
	}
}

static void
b64_add(struct buf *b, const unsigned char *p, size_t l)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < l; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < l)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < l)
			v |= p[i + 2];
		buf_addc(b, t[v >> 18 & 63]);
		buf_addc(b, t[v >> 12 & 63]);
		buf_addc(b, i + 1 < l ? t[v >> 6 & 63] : '=');
		buf_addc(b, i + 2 < l ? t[v & 63] : '=');
	}
}

/* Whether an ASCII value must be encoded anyway: a word too long to fold,
 * or text a reader would mistake for an encoded word. */
static bool
needs_encoding(const char *s)
{
	size_t run = 0;

	if (strstr(s, "=?"))
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80)
			return true;
		run = *p == ' ' ? 0 : run + 1;
		if (run > PLAIN_WORD_MAX)
			return true;
	}
	return false;
}

/* Bytes of s (from start, n total) that fit one encoded word, whole UTF-8
 * characters only. */
static size_t
word_take(const unsigned char *p, size_t start, size_t n, bool use_b)
{
	size_t room = WORD_MAX - strlen(WORD_PREFIX) - 2, i = start, used = 0;
	size_t after_space = start;

	while (i < n) {
		size_t l = utf8_seq_len(p + i, n - i);
		size_t el;

		if (l == 0)
			l = 1;	/* validated by the callers; keep going regardless */
		el = use_b ? (i + l - start + 2) / 3 * 4 : used + q_len(p + i, l);
		if (i > start && el > room)
			/* Ending a word after a space keeps the raw header readable. */
			return (after_space > start ? after_space : i) - start;
		used = el;
		i += l;
		if (p[i - 1] == ' ')
			after_space = i;
	}
	return i - start;
}

/* Q reads better for French; B is shorter when most bytes need escaping. */
static char *
encode_all(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	bool use_b = q_len(p, n) > n * 4 / 3 + 4;
	struct buf b = { 0 };

	while (i < n) {
		size_t k = word_take(p, i, n, use_b);

		if (b.len)
			buf_addc(&b, ' ');
		buf_adds(&b, use_b ? WORD_PREFIX_B : WORD_PREFIX);
		if (use_b)
			b64_add(&b, p + i, k);
		else
			q_add(&b, p + i, k);
		buf_adds(&b, "?=");
		i += k;
	}
	return buf_steal(&b);
}

char *
mailbuild_encode_words(const char *utf8)
{
	if (!needs_encoding(utf8))
		return xstrdup(utf8);
	return encode_all(utf8);
}

/* ---- headers ---- */

/* Appends "name: value" folded at spaces: a line breaks before a word that
 * would pass LINE_SOFT, never before an empty one (so no line is blank). */
static void
header_fold(struct buf *b, const char *name, const char *value)
{
	size_t col = strlen(name) + 1;
	const char *p = value;

	buf_printf(b, "%s:", name);
	for (;;) {
		const char *sp = strchr(p, ' ');
		size_t wl = sp ? (size_t)(sp - p) : strlen(p);

		if (wl > 0 && col + 1 + wl > LINE_SOFT && col > strlen(name) + 1) {
			buf_adds(b, "\r\n");
			col = 0;
		}
		buf_addc(b, ' ');
		buf_add(b, p, wl);
		col += 1 + wl;
		if (!sp)
			break;
		p = sp + 1;
	}
	buf_adds(b, "\r\n");
}

static void
header_text(struct buf *b, const char *name, const char *value)
{
	char *enc = mailbuild_encode_words(value);

	header_fold(b, name, enc);
	free(enc);
}

/* A display name, quoted when plain ASCII, encoded words otherwise. */
static void
header_address(struct buf *b, const char *name, const char *dname, const char *addr)
{
	struct buf v = { 0 };

	if (dname && *dname && needs_encoding(dname)) {
		char *enc = encode_all(dname);
		buf_printf(&v, "%s ", enc);
		free(enc);
	} else if (dname && *dname) {
		buf_addc(&v, '"');
		for (const char *p = dname; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(&v, '\\');
			buf_addc(&v, *p);
		}
		buf_adds(&v, "\" ");
	}
	buf_printf(&v, "<%s>", addr);
	header_fold(b, name, v.data);
	buf_free(&v);
}

static void
header_date(struct buf *b, int64_t t, int off)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = (time_t)(t + (int64_t)off * 60);
	struct tm tm;
	int a = off < 0 ? -off : off;

	gmtime_r(&local, &tm);
	buf_printf(b, "Date: %s, %d %s %04d %02d:%02d:%02d %c%02d%02d\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', a / 60, a % 60);
}

/* ---- quoted-printable (RFC 2045 6.7) ---- */

static bool
qp_literal(const unsigned char *line, size_t i, size_t n)
{
	unsigned char c = line[i];

	if (c == ' ' || c == '\t')
		return i + 1 < n;	/* trailing white space would be lost */
	if (c < 33 || c > 126 || c == '=')
		return false;
	/* Kept safe through mbox "From " munging and naive dot handling. */
	if (i == 0 && (c == '.' || (c == 'F' && n >= 5 && memcmp(line, "From ", 5) == 0)))
		return false;
	return true;
}

static void
qp_line(struct buf *b, const unsigned char *line, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		bool lit = qp_literal(line, i, n);
		size_t w = lit ? 1 : 3;
		/* A soft break "=" takes a column too; the last char needs none. */
		size_t need = i + 1 < n ? w + 1 : w;

		if (col + need > 76) {
			buf_adds(b, "=\r\n");
			col = 0;
		}
		if (lit)
			buf_addc(b, (char)line[i]);
		else {
			buf_addc(b, '=');
			buf_addc(b, hexdig[line[i] >> 4]);
			buf_addc(b, hexdig[line[i] & 15]);
		}
		col += w;
	}
	buf_adds(b, "\r\n");
}

/* Each '\n' (or "\r\n") of text is a hard line break; the body always ends
 * with one. */
static void
qp_body(struct buf *b, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		size_t l = n;
		if (l > 0 && p[l - 1] == '\r' && p[n] == '\n')
			l--;
		qp_line(b, (const unsigned char *)p, l);
		p += n;
		if (*p == '\n')
			p++;
	}
}

/* ---- the message ---- */

static int
fail(char **err, const char *field, const char *why)
{
	*err = xasprintf("%s %s", field, why);
	return -1;
}

static int
check_texts(const struct mail_out *m, char **err)
{
	const struct { const char *name, *v; bool need; } t[] = {
		{ "from_name", m->from_name, false },
		{ "to_name", m->to_name, false },
		{ "subject", m->subject, true },
		{ "nudge", m->nudge, false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *why;
		if (!t[i].v) {
			if (t[i].need)
				return fail(err, t[i].name, "is missing");
			continue;
		}
		if ((why = text_problem(t[i].v)))
			return fail(err, t[i].name, why);
	}
	return 0;
}

static int
check_ids(const struct mail_out *m, char **err)
{
	if (!m->from_addr || !addr_ok(m->from_addr))
		return fail(err, "from_addr", "is not a plain address (local@domain)");
	if (!m->to_addr || !addr_ok(m->to_addr))
		return fail(err, "to_addr", "is not a plain address (local@domain)");
	if (!m->message_id || !id_ok(m->message_id))
		return fail(err, "message_id", "is missing or not a msg-id");
	if (m->in_reply_to && !id_ok(m->in_reply_to))
		return fail(err, "in_reply_to", "is not a msg-id");
	if (m->lang && !lang_ok(m->lang))
		return fail(err, "lang", "is not a language tag");
	if (!m->text)
		return fail(err, "text", "is missing");
	if (m->tz_offset_min <= -24 * 60 || m->tz_offset_min >= 24 * 60)
		return fail(err, "tz_offset_min", "is not within a day");
	return 0;
}

/* "=_" never appears in quoted-printable output ('=' is always followed by
 * two hex digits or a line break), so the boundary cannot occur in a part. */
static char *
boundary_new(void)
{
	struct buf b = { 0 };

	buf_adds(&b, "=_merci_");
	hex_random(&b, 12);
	return buf_steal(&b);
}

static void
part_add(struct buf *b, const char *boundary, const char *type, const char *body)
{
	buf_printf(b, "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, type);
	qp_body(b, body);
}

/* The top-level Content-Type, and the boundary when there is one. */
static char *
render_content_type(struct buf *b, const struct mail_out *m)
{
	char *bd;

	if (!m->html) {
		buf_adds(b, "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n");
		return NULL;
	}
	bd = boundary_new();
	buf_printf(b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n", bd);
	return bd;
}

static void
render_body(struct buf *b, const struct mail_out *m, const char *bd)
{
	if (!bd) {
		qp_body(b, m->text);
		return;
	}
	part_add(b, bd, "text/plain", m->text);
	part_add(b, bd, "text/html", m->html);
	buf_printf(b, "--%s--\r\n", bd);
}

static bool
lines_fit(const char *s, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			col = 0;
		else if (++col > LINE_HARD + 1)	/* +1: the CR of CRLF */
			return false;
	}
	return true;
}

int
mailbuild_render(const struct mail_out *m, char **out, size_t *len, char **err)
{
	struct buf b = { 0 };
	char *bd;

	*out = NULL;
	*len = 0;
	*err = NULL;
	if (check_ids(m, err) < 0 || check_texts(m, err) < 0)
		return -1;
	header_date(&b, m->date, m->tz_offset_min);
	header_address(&b, "From", m->from_name, m->from_addr);
	header_address(&b, "To", m->to_name, m->to_addr);
	header_text(&b, "Subject", m->subject);
	buf_printf(&b, "Message-ID: <%s>\r\n", m->message_id);
	if (m->in_reply_to)
		buf_printf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n",
		    m->in_reply_to, m->in_reply_to);
	buf_adds(&b, "MIME-Version: 1.0\r\n");
	bd = render_content_type(&b, m);
	if (m->lang)
		buf_printf(&b, "Content-Language: %s\r\n", m->lang);
	if (!m->draft)
		buf_adds(&b, "Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n");
	if (m->nudge && !m->draft)
		header_text(&b, "X-Merci-Nudge", m->nudge);
	buf_adds(&b, "\r\n");
	render_body(&b, m, bd);
	free(bd);
	if (!lines_fit(b.data, b.len)) {
		buf_free(&b);
		*err = xstrdup("a line would pass 998 bytes");
		return -1;
	}
	*len = b.len;
	*out = buf_steal(&b);
	return 0;
}
