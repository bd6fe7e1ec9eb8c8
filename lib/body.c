/* body: owns the turn from a MIME part prefix (transfer-encoded, any
 * charset, maybe HTML, cut anywhere) into the few kilobytes of clean UTF-8
 * the sender actually wrote: no quoted reply, no forwarded header block,
 * no signature. detect.c reads only what this returns. */
#include "body.h"
#include "buf.h"
#include "fold_p.h"
#include "utf8_p.h"
#include "xalloc.h"

#include <libetpan/charconv.h>
#include <libetpan/mailmime_content.h>
#include <libetpan/mailmime_types.h>
#include <libetpan/mmapstring.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- transfer encoding ---- */

static bool
body_is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* The fetch is a prefix: keep whole base64 quanta and whole QP escapes
 * only, so a cut at the end never turns into a decoding error. */
static size_t
body_complete_len(const char *raw, size_t len, int mech)
{
	size_t i, count = 0, cut = 0;

	if (mech == MAILMIME_MECHANISM_BASE64) {
		for (i = 0; i < len; i++)
			if (body_is_b64((unsigned char)raw[i]) && ++count % 4 == 0)
				cut = i + 1;
		return cut;
	}
	if (len >= 1 && raw[len - 1] == '=')
		return len - 1;
	if (len >= 2 && raw[len - 2] == '=')
		return len - 2;
	return len;
}

static int
body_mechanism(const char *encoding)
{
	if (encoding == NULL)
		return MAILMIME_MECHANISM_8BIT;
	while (*encoding == ' ' || *encoding == '"')
		encoding++;
	if (strncasecmp(encoding, "base64", 6) == 0)
		return MAILMIME_MECHANISM_BASE64;
	if (strncasecmp(encoding, "quoted-printable", 16) == 0)
		return MAILMIME_MECHANISM_QUOTED_PRINTABLE;
	return MAILMIME_MECHANISM_8BIT;
}

/* Returns the decoded bytes (newly allocated, NUL-terminated). */
static char *
body_transfer_decode(const char *raw, size_t len, const char *encoding, size_t *outlen)
{
	int mech = body_mechanism(encoding);
	size_t idx = 0, n, rlen = 0;
	char *res = NULL, *out;

	if (mech != MAILMIME_MECHANISM_8BIT) {
		n = body_complete_len(raw, len, mech);
		if (n > 0 && mailmime_part_parse(raw, n, &idx, mech, &res, &rlen) ==
		    MAILIMF_NO_ERROR && res != NULL) {
			/* decoded bytes may hold NULs: copy by length */
			out = xmalloc(rlen + 1);
			memcpy(out, res, rlen);
			out[rlen] = '\0';
			*outlen = rlen;
			mmap_string_unref(res);
			return out;
		}
		if (n == 0) {
			*outlen = 0;
			return xstrdup("");
		}
	}
	*outlen = len;
	out = xmalloc(len + 1);
	memcpy(out, raw, len);
	out[len] = '\0';
	return out;
}

/* ---- charset ---- */

/* windows-1252 0x80..0x9f; 0 where the code page leaves a hole. */
static const unsigned short body_cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

static void
body_put_cp(struct buf *b, unsigned cp)
{
	char u[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

static unsigned
body_cp1252_of(unsigned char c)
{
	if (c >= 0x80 && c < 0xa0)
		return body_cp1252[c - 0x80];
	return c;
}

/* True when p[0..n) is the start of a UTF-8 sequence the prefix cut. */
static bool
body_cut_sequence(const unsigned char *p, size_t n)
{
	size_t need, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return false;
	if (n >= need)
		return false;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return false;
	return true;
}

/* UTF-8 where the bytes are UTF-8, windows-1252 byte by byte where they
 * are not (or everywhere when strict_1252): what unlabelled and mislabelled
 * French mail needs. A cut sequence at the very end is dropped. */
static char *
body_mixed_to_utf8(const char *in, size_t n, bool strict_1252)
{
	const unsigned char *u = (const unsigned char *)in;
	struct buf b = { 0 };
	size_t i = 0, sl;
	unsigned cp;

	buf_add(&b, "", 0);
	buf_reserve(&b, n);
	while (i < n) {
		if (u[i] == '\0') {    /* would end the text early */
			i++;
			continue;
		}
		sl = strict_1252 ? (u[i] < 0x80) : utf8_seq_len(u + i, n - i);
		if (sl > 0) {
			buf_add(&b, in + i, sl);
			i += sl;
			continue;
		}
		if (!strict_1252 && body_cut_sequence(u + i, n - i))
			break;
		cp = body_cp1252_of(u[i]);
		if (cp != 0)
			body_put_cp(&b, cp);
		i++;
	}
	return buf_steal(&b);
}

static bool
body_charset_in(const char *cs, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strcasecmp(cs, names[i]) == 0)
			return true;
	return false;
}

static char *
body_to_utf8(const char *in, size_t n, const char *charset)
{
	static const char *const utf8[] = { "utf-8", "utf8", "us-ascii", "ascii", NULL };
	static const char *const latin[] = {
		"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1",
		"windows-1252", "cp1252", "x-cp1252", NULL
	};
	char *res = NULL, *out;
	size_t drop, rlen = 0;

	if (charset == NULL || *charset == '\0' || body_charset_in(charset, utf8))
		return body_mixed_to_utf8(in, n, false);
	/* ISO-8859-1 labels on 0x80-0x9f bytes mean windows-1252 in practice
	 * (’ “ ” from Word), as browsers have long assumed. */
	if (body_charset_in(charset, latin))
		return body_mixed_to_utf8(in, n, true);
	/* A multibyte charset cut mid-character: retry without the tail. */
	for (drop = 0; drop < 4 && drop <= n; drop++) {
		if (charconv_buffer("utf-8", charset, in, n - drop, &res, &rlen) ==
		    MAIL_CHARCONV_NO_ERROR && res != NULL) {
			out = body_mixed_to_utf8(res, rlen, false);
			charconv_buffer_free(res);
			return out;
		}
		if (res != NULL)
			charconv_buffer_free(res);
		res = NULL;
	}
	return body_mixed_to_utf8(in, n, false);
}

/* ---- control characters ---- */

/* Keeps '\n' as the only control character: CR and CRLF become '\n',
 * tabs and the non-breaking spaces a space; C0, C1, BOM and zero-width
 * characters go. Input is well-formed UTF-8. */
static char *
body_sanitize(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, sl;
	struct buf b = { 0 };
	unsigned cp;

	buf_add(&b, "", 0);
	buf_reserve(&b, n);
	while (i < n) {
		sl = utf8_seq_len(u + i, n - i);
		if (sl == 0) {
			i++;
			continue;
		}
		cp = sl == 1 ? u[i] : fold_decode(u + i, sl);
		if (cp == '\r') {
			buf_addc(&b, '\n');
			if (i + 1 < n && u[i + 1] == '\n')
				i++;
		} else if (cp == '\t' || cp == 0xa0 || cp == 0x202f || cp == 0x2007) {
			buf_addc(&b, ' ');
		} else if (cp == 0x2028 || cp == 0x2029 || cp == '\n') {
			buf_addc(&b, '\n');
		} else if (!(cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xfeff ||
		    (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xad)) {
			buf_add(&b, s + i, sl);
		}
		i += sl;
	}
	return buf_steal(&b);
}

/* ---- HTML ---- */

struct body_entity {
	const char *name;
	unsigned cp;
};

static const struct body_entity body_entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "laquo", 0xab }, { "raquo", 0xbb },
	{ "eacute", 0xe9 }, { "egrave", 0xe8 }, { "ecirc", 0xea }, { "euml", 0xeb },
	{ "agrave", 0xe0 }, { "acirc", 0xe2 }, { "auml", 0xe4 }, { "ccedil", 0xe7 },
	{ "icirc", 0xee }, { "iuml", 0xef }, { "ocirc", 0xf4 }, { "ouml", 0xf6 },
	{ "ugrave", 0xf9 }, { "ucirc", 0xfb }, { "uuml", 0xfc }, { "oelig", 0x153 },
	{ "Eacute", 0xc9 }, { "Egrave", 0xc8 }, { "Ecirc", 0xca }, { "Agrave", 0xc0 },
	{ "Acirc", 0xc2 }, { "Ccedil", 0xc7 }, { "Ocirc", 0xd4 }, { "Icirc", 0xce },
	{ "Ucirc", 0xdb }, { "OElig", 0x152 }, { "rsquo", 0x2019 }, { "lsquo", 0x2018 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "hellip", 0x2026 },
	{ "ndash", 0x2013 }, { "mdash", 0x2014 }, { "euro", 0x20ac }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "trade", 0x2122 }, { "middot", 0xb7 }, { "bull", 0x2022 },
	{ "deg", 0xb0 }, { "shy", 0 }, { "zwnj", 0 }, { "zwj", 0 },
};

static bool
body_cp_ok(unsigned cp)
{
	return cp == '\n' || (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) &&
	    !(cp >= 0xd800 && cp <= 0xdfff) && cp <= 0x10ffff);
}

/* Decodes the entity at s (on '&'); returns the bytes consumed, 0 when it
 * is not one (the '&' is then text). */
static size_t
body_entity(const char *s, struct buf *out)
{
	const char *semi = memchr(s, ';', strnlen(s, 12));
	size_t n, i;
	unsigned long cp;
	char *end;

	if (semi == NULL || semi == s + 1)
		return 0;
	n = (size_t)(semi - s) + 1;
	if (s[1] == '#') {
		if (s[2] == 'x' || s[2] == 'X')
			cp = strtoul(s + 3, &end, 16);
		else
			cp = strtoul(s + 2, &end, 10);
		if (end != semi)
			return 0;
		if (cp >= 0x80 && cp < 0xa0)
			cp = body_cp1252_of((unsigned char)cp);
		if (cp == 0xa0)
			cp = ' ';
		if (body_cp_ok((unsigned)cp))
			body_put_cp(out, (unsigned)cp);
		return n;
	}
	for (i = 0; i < sizeof(body_entities) / sizeof(body_entities[0]); i++) {
		if (strlen(body_entities[i].name) == n - 2 &&
		    strncmp(s + 1, body_entities[i].name, n - 2) == 0) {
			if (body_entities[i].cp != 0)
				body_put_cp(out, body_entities[i].cp);
			return n;
		}
	}
	return 0;
}

/* Where the reply ends and the quoted conversation starts, by client. */
static const char *const body_quote_markers[] = {
	"gmail_quote", "divrplyfwdmsg", "appendonsend", "yahoo_quoted", NULL
};

static bool
body_tag_in(const char *name, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static void
body_newline(struct buf *out, bool always)
{
	if (always || (out->len > 0 && out->data[out->len - 1] != '\n'))
		buf_addc(out, '\n');
}

/* Finds the '>' closing the tag starting at s, across quoted attributes. */
static const char *
body_tag_end(const char *s)
{
	char q = 0;

	for (; *s != '\0'; s++) {
		if (q != 0 && *s == q)
			q = 0;
		else if (q == 0 && (*s == '"' || *s == '\''))
			q = *s;
		else if (q == 0 && *s == '>')
			return s;
	}
	return NULL;
}

static const char *
body_find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* Handles the tag at *p ('<'); returns false when the text ends here
 * (quoted reply, or a tag the prefix cut). */
static bool
body_html_tag(const char **p, struct buf *out)
{
	static const char *const skip[] = { "style", "script", "head", "title", NULL };
	static const char *const block[] = {
		"p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4",
		"h5", "h6", "pre", NULL
	};
	const char *s = *p + 1, *end, *close;
	char name[16], attrs[512], needle[20];
	size_t n = 0, i;
	bool closing = *s == '/';

	if (strncmp(*p, "<!--", 4) == 0) {
		close = strstr(*p + 4, "-->");
		*p = close ? close + 3 : *p + strlen(*p);
		return close != NULL;
	}
	if (closing)
		s++;
	while (n < sizeof(name) - 1 && ((*s >= 'a' && *s <= 'z') ||
	    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		name[n++] = (char)(*s++ | 0x20);
	name[n] = '\0';
	if ((end = body_tag_end(s)) == NULL)
		return false;
	n = (size_t)(end - s) < sizeof(attrs) - 1 ? (size_t)(end - s) : sizeof(attrs) - 1;
	for (i = 0; i < n; i++)
		attrs[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] | 0x20 : s[i]);
	attrs[n] = '\0';
	*p = end + 1;
	if (!closing && strcmp(name, "blockquote") == 0)
		return false;
	for (i = 0; body_quote_markers[i] != NULL; i++)
		if (!closing && strstr(attrs, body_quote_markers[i]) != NULL)
			return false;
	if (!closing && body_tag_in(name, skip)) {
		snprintf(needle, sizeof(needle), "</%s", name);
		if ((close = body_find_ci(*p, needle)) == NULL ||
		    (end = strchr(close, '>')) == NULL)
			return false;
		*p = end + 1;
	} else if (strcmp(name, "br") == 0) {
		body_newline(out, true);
	} else if (body_tag_in(name, block)) {
		body_newline(out, false);
	} else if (strcmp(name, "td") == 0 && closing) {
		buf_addc(out, ' ');
	}
	return true;
}

static char *
body_html_to_text(const char *s)
{
	struct buf out = { 0 };
	size_t n;

	buf_add(&out, "", 0);
	buf_reserve(&out, strlen(s));
	while (*s != '\0') {
		if (*s == '<' && (s[1] == '/' || s[1] == '!' ||
		    ((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z'))) {
			if (!body_html_tag(&s, &out))
				break;
		} else if (*s == '&' && (n = body_entity(s, &out)) > 0) {
			s += n;
		} else if (*s == ' ' || *s == '\n') {
			if (out.len > 0 && out.data[out.len - 1] != ' ' &&
			    out.data[out.len - 1] != '\n')
				buf_addc(&out, ' ');
			s++;
		} else {
			buf_addc(&out, *s++);
		}
	}
	return buf_steal(&out);
}

/* ---- quotes and signatures ---- */

struct body_line {
	const char *s;      /* trimmed, not NUL-terminated */
	size_t len;
	struct fold f;      /* folded copy for matching */
};

/* Lines that begin what the sender did not write (folded, trimmed, with
 * the surrounding dashes, underscores and asterisks removed). */
static const char *const body_separators[] = {
	"original message", "message d'origine", "message transfere",
	"forwarded message", "message original", NULL
};
static const char *const body_separator_starts[] = {
	"debut du message reexpedie", "begin forwarded message", NULL
};
static const char *const body_signoffs[] = {
	"envoye de mon ", "envoye depuis mon ", "sent from my ", "sent from outlook",
	"get outlook for ", "obtenir outlook pour ", "telecharger outlook pour ",
	"sent from mail for windows", "envoye a partir de outlook",
	"envoye a partir de mon ", NULL
};
static const char *const body_attr_ends_full[] = {
	"a ecrit :", "a ecrit:", "wrote:", "wrote :", NULL
};
static const char *const body_attr_ends[] = {
	"a ecrit :", "a ecrit:", "ecrit :", "ecrit:", "wrote:", "wrote :", NULL
};

static bool
body_starts(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && strncmp(s, p, k) == 0;
}

static bool
body_starts_any(const char *s, size_t n, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (body_starts(s, n, list[i]))
			return true;
	return false;
}

static bool
body_ends_any(const char *s, size_t n, const char *const *list)
{
	size_t i, k;

	for (i = 0; list[i] != NULL; i++) {
		k = strlen(list[i]);
		if (n >= k && memcmp(s + n - k, list[i], k) == 0)
			return true;
	}
	return false;
}

/* The folded line without decoration: "-----Original Message-----",
 * "*De :* Julie" and "________" all reduce to their words. */
static const char *
body_core(const struct body_line *l, size_t *n)
{
	const char *s = l->f.s;
	size_t len = l->f.len;

	while (len > 0 && strchr("-_* ", *s) != NULL) {
		s++;
		len--;
	}
	while (len > 0 && strchr("-_* ", s[len - 1]) != NULL)
		len--;
	*n = len;
	return s;
}

static bool
body_is_separator(const struct body_line *l)
{
	size_t n, i;
	const char *c = body_core(l, &n);

	if (l->len >= 20 && n == 0 && l->s[0] == '_')
		return true;
	for (i = 0; body_separators[i] != NULL; i++)
		if (n == strlen(body_separators[i]) && memcmp(c, body_separators[i], n) == 0)
			return n != l->f.len;   /* decorated, not a sentence */
	return body_starts_any(c, n, body_separator_starts);
}

/* "De : X" followed within 4 lines by "Envoyé :"/"Sent:"/"Date :" and
 * "À :"/"To:": Outlook's and Apple's header block of the quoted mail. */
static bool
body_is_header_block(const struct body_line *v, size_t n, size_t i)
{
	static const char *const from[] = { "de :", "de:", "from:", "from :", NULL };
	static const char *const sent[] = {
		"envoye :", "envoye:", "sent:", "sent :", "date :", "date:", NULL
	};
	static const char *const to[] = { "a :", "a:", "to:", "to :", "pour :", NULL };
	bool has_sent = false, has_to = false;
	const char *c;
	size_t k, cn;

	c = body_core(&v[i], &cn);
	if (!body_starts_any(c, cn, from))
		return false;
	for (k = i + 1; k < n && k <= i + 4; k++) {
		c = body_core(&v[k], &cn);
		has_sent = has_sent || body_starts_any(c, cn, sent);
		has_to = has_to || body_starts_any(c, cn, to);
	}
	return has_sent && has_to;
}

/* Number of lines (1 or 2) of the attribution starting at line i, or 0. */
static size_t
body_attribution(const struct body_line *v, size_t n, size_t i)
{
	const struct fold *f = &v[i].f;

	if (f->len < 200 && body_ends_any(f->s, f->len, body_attr_ends_full))
		return 1;
	if (i + 1 < n && (body_starts(f->s, f->len, "le ") || body_starts(f->s, f->len, "on ")) &&
	    v[i + 1].f.len < 80 && body_ends_any(v[i + 1].f.s, v[i + 1].f.len, body_attr_ends))
		return 2;
	return 0;
}

static bool
body_is_signature(const struct body_line *l)
{
	if (l->len == 2 && memcmp(l->s, "--", 2) == 0)
		return true;
	return body_starts_any(l->f.s, l->f.len, body_signoffs);
}

static size_t
body_split_lines(const char *text, struct body_line **out)
{
	struct body_line *v = NULL;
	size_t n = 0, cap = 0;
	const char *p = text, *e;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		v = xreallocarray_grow(v, &cap, n + 1, sizeof(*v));
		v[n].s = p;
		v[n].len = (size_t)(e - p);
		while (v[n].len > 0 && (*v[n].s == ' ' || *v[n].s == '\t')) {
			v[n].s++;
			v[n].len--;
		}
		while (v[n].len > 0 && (v[n].s[v[n].len - 1] == ' ' ||
		    v[n].s[v[n].len - 1] == '\t' || v[n].s[v[n].len - 1] == '\r'))
			v[n].len--;
		fold_text(v[n].s, v[n].len, &v[n].f);
		n++;
		p = *e ? e + 1 : e;
	}
	*out = v;
	return n;
}

/* Index of the first line that is not blank after line i, or n. */
static size_t
body_next_text(const struct body_line *v, size_t n, size_t i)
{
	while (i < n && v[i].len == 0)
		i++;
	return i;
}

char *
body_strip_quotes(const char *text)
{
	struct body_line *v = NULL;
	struct buf out = { 0 };
	size_t n, i, a, k;
	bool blank = false;

	buf_add(&out, "", 0);
	n = body_split_lines(text ? text : "", &v);
	for (i = 0; i < n; i++) {
		if (v[i].len > 0 && v[i].s[0] == '>')
			continue;
		if ((a = body_attribution(v, n, i)) > 0) {
			/* Bottom-posted and inline replies go on after the quote. */
			k = body_next_text(v, n, i + a);
			if (k < n && v[k].s[0] == '>') {
				i += a - 1;
				continue;
			}
			break;
		}
		if (body_is_separator(&v[i]) || body_is_signature(&v[i]) ||
		    body_is_header_block(v, n, i))
			break;
		if (v[i].len == 0) {
			blank = out.len > 0;
			continue;
		}
		if (blank)
			buf_addc(&out, '\n');
		if (out.len > 0)
			buf_addc(&out, '\n');
		buf_add(&out, v[i].s, v[i].len);
		blank = false;
	}
	for (i = 0; i < n; i++)
		fold_free(&v[i].f);
	free(v);
	return buf_steal(&out);
}

/* ---- the whole pipeline ---- */

static void
body_bound(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		s[n] = '\0';
	}
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

char *
body_text_clean(const char *raw, size_t len, const char *encoding,
		const char *charset, bool html, size_t max)
{
	char *decoded, *utf8, *clean, *text, *out;
	size_t dlen;

	if (raw == NULL)
		return xstrdup("");
	decoded = body_transfer_decode(raw, len, encoding, &dlen);
	utf8 = body_to_utf8(decoded, dlen, charset);
	free(decoded);
	clean = body_sanitize(utf8);
	free(utf8);
	if (html) {
		text = body_html_to_text(clean);
		free(clean);
		clean = text;
	}
	out = body_strip_quotes(clean);
	free(clean);
	body_bound(out, max);
	return out;
}
