/* vcard: reading vCard 2.1, 3.0 and 4.0, writing 3.0 (vcard.h).
 *
 * The reader works on logical lines: a physical line starting with a blank
 * continues the previous one (RFC 6350 folding), and in a quoted-printable
 * value of vCard 2.1 a '=' at the end of a line is a soft line break.
 * Values are decoded (quoted-printable, then CHARSET, or Windows-1252 when
 * they are not UTF-8) before the text escapes are undone, component by
 * component, so "\;" in a name never splits it. */
#include "vcard.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "utf8_p.h"
#include "xalloc.h"

/* ---- cards (shared with csv_import.c) ---- */

bool
card_add_email(struct card *c, const char *raw, bool preferred)
{
	char *email;
	size_t i;

	if (strncasecmp(raw, "mailto:", 7) == 0)
		raw += 7;
	if (!(email = address_normalise(raw, false)))
		return false;
	for (i = 0; i < c->n_emails; i++)
		if (strcmp(c->emails[i], email) == 0)
			break;
	if (i == c->n_emails) {
		c->emails = xrealloc(c->emails, (c->n_emails + 1) * sizeof *c->emails);
		c->emails[c->n_emails++] = email;
	} else {
		free(email);
	}
	/* The preferred address goes first: it becomes the primary one. */
	if (preferred && i > 0) {
		char *p = c->emails[i];

		memmove(c->emails + 1, c->emails, i * sizeof *c->emails);
		c->emails[0] = p;
	}
	return true;
}

void
card_add_tag(struct card *c, const char *raw)
{
	struct buf b = { 0 };
	size_t i;

	while (isspace((unsigned char)*raw))
		raw++;
	for (; *raw; raw++) {
		unsigned char ch = (unsigned char)*raw;

		if (isspace(ch) || ch == ',' || ch < 0x20 || ch == 0x7f)
			buf_addc(&b, '-');
		else
			buf_addc(&b, (char)tolower(ch));
	}
	while (b.len && b.data[b.len - 1] == '-')
		b.data[--b.len] = '\0';
	for (i = 0; b.len && b.len <= 64 && i < c->n_tags; i++)
		if (strcmp(c->tags[i], b.data) == 0)
			break;
	if (!b.len || b.len > 64 || i < c->n_tags) {
		buf_free(&b);
		return;
	}
	c->tags = xrealloc(c->tags, (c->n_tags + 1) * sizeof *c->tags);
	c->tags[c->n_tags++] = buf_steal(&b);
}

/* Turns every C0 control character and DEL into a space, in place. */
static void
card_clean_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void
card_list_problem(struct card_list *l, unsigned line, bool skipped, const char *fmt, ...)
{
	struct card_problem *p;
	char reason[512];        /* reasons are one short line */
	va_list ap;

	l->problems = xreallocarray_grow(l->problems, &l->cap_problems,
					 l->n_problems + 1, sizeof *l->problems);
	p = &l->problems[l->n_problems++];
	p->line = line;
	p->skipped = skipped;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	/* Reasons quote what the file holds and reach a terminal: a CR, LF
	 * or escape sequence from the file must not forge lines or colours. */
	card_clean_line(reason);
	p->reason = xstrdup(reason);
	if (skipped)
		l->n_skipped++;
}

void
card_list_take(struct card_list *l, struct card *c, const char *what)
{
	if (c->name) {
		/* A name is one line, without the blanks the controls became at
		 * its ends (as vCard would read it back). */
		size_t n;

		card_clean_line(c->name);
		n = strlen(c->name);
		while (n && c->name[n - 1] == ' ')
			c->name[--n] = '\0';
		n = strspn(c->name, " ");
		memmove(c->name, c->name + n, strlen(c->name + n) + 1);
		if (!*c->name) {
			free(c->name);
			c->name = NULL;
		}
	}
	if (c->n_emails == 0) {
		card_list_problem(l, c->line, true, "%s without an e-mail address; skipped", what);
		card_free(c);
		return;
	}
	l->cards = xreallocarray_grow(l->cards, &l->cap_cards, l->n_cards + 1, sizeof *l->cards);
	l->cards[l->n_cards++] = *c;
	memset(c, 0, sizeof *c);
}

void
card_free(struct card *c)
{
	size_t i;

	free(c->name);
	for (i = 0; i < c->n_emails; i++)
		free(c->emails[i]);
	free(c->emails);
	for (i = 0; i < c->n_tags; i++)
		free(c->tags[i]);
	free(c->tags);
	memset(c, 0, sizeof *c);
}

void
card_list_free(struct card_list *l)
{
	size_t i;

	for (i = 0; i < l->n_cards; i++)
		card_free(&l->cards[i]);
	free(l->cards);
	for (i = 0; i < l->n_problems; i++)
		free(l->problems[i].reason);
	free(l->problems);
	memset(l, 0, sizeof *l);
}

/* Code points of Windows-1252 0x80..0x9f; 0 where the code page has none
 * (those bytes become U+FFFD). */
static const unsigned short cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

char *
card_cp1252_to_utf8(const char *s, size_t len, size_t *out_len)
{
	struct buf b = { 0 };
	size_t i;

	buf_reserve(&b, len + len / 4);
	for (i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];

		if (c >= 0x80 && c < 0xa0)
			c = cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : 0xfffd;
		if (c < 0x80) {
			buf_addc(&b, (char)c);
		} else if (c < 0x800) {
			buf_addc(&b, (char)(0xc0 | c >> 6));
			buf_addc(&b, (char)(0x80 | (c & 0x3f)));
		} else {
			buf_addc(&b, (char)(0xe0 | c >> 12));
			buf_addc(&b, (char)(0x80 | ((c >> 6) & 0x3f)));
			buf_addc(&b, (char)(0x80 | (c & 0x3f)));
		}
	}
	*out_len = b.len;
	return buf_steal(&b);
}

bool
card_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq_len(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* ---- reading: lines ---- */

struct vreader {
	const char *p, *end;
	unsigned lineno;         /* number of the last physical line read */
};

/* The next physical line without its CR LF; false at the end. */
static bool
vreader_phys(struct vreader *r, const char **s, size_t *n)
{
	const char *nl;

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	*s = r->p;
	*n = (size_t)((nl ? nl : r->end) - r->p);
	r->p = nl ? nl + 1 : r->end;
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	r->lineno++;
	return true;
}

/* True when the property part of line (before ':') asks for quoted-printable. */
static bool
line_is_qp(const struct buf *line)
{
	const char *colon = memchr(line->data, ':', line->len);
	size_t n = colon ? (size_t)(colon - line->data) : 0;
	const char *k = "QUOTED-PRINTABLE";

	for (size_t i = 0; i + 16 <= n; i++)
		if (strncasecmp(line->data + i, k, 16) == 0)
			return true;
	return false;
}

/* The next logical line into line, *start its first physical line. */
static bool
vreader_line(struct vreader *r, struct buf *line, unsigned *start)
{
	const char *s;
	size_t n;

	if (!vreader_phys(r, &s, &n))
		return false;
	buf_reset(line);
	buf_add(line, s, n);
	*start = r->lineno;
	while (r->p < r->end) {
		if (*r->p == ' ' || *r->p == '\t') {
			vreader_phys(r, &s, &n);
			buf_add(line, s + 1, n - 1);
		} else if (line->len && line->data[line->len - 1] == '=' && line_is_qp(line)) {
			line->data[--line->len] = '\0';
			vreader_phys(r, &s, &n);
			buf_add(line, s, n);
		} else {
			break;
		}
	}
	return true;
}

/* ---- reading: properties ---- */

struct vprop {
	const char *name;        /* group removed */
	bool qp, pref;
	const char *charset;     /* NULL when not given */
	char *value;             /* decoded UTF-8, escapes still in; owned */
};

/* The first sep in s outside double quotes, or NULL. */
static char *
find_unquoted(char *s, char sep)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == sep && !quoted)
			return s;
	}
	return NULL;
}

static bool
type_has_pref(const char *v)
{
	char *copy = xstrdup(v), *save = NULL, *t;
	bool pref = false;

	for (t = strtok_r(copy, ",\"", &save); t; t = strtok_r(NULL, ",\"", &save))
		if (strcasecmp(t, "pref") == 0)
			pref = true;
	free(copy);
	return pref;
}

/* One parameter: "TYPE=work,pref", "CHARSET=x", "ENCODING=QUOTED-PRINTABLE",
 * "PREF=1" (4.0) or a bare 2.1 value ("INTERNET", "PREF", "QUOTED-PRINTABLE"). */
static void
vprop_param(struct vprop *p, char *param)
{
	char *eq = strchr(param, '=');
	const char *v = eq ? eq + 1 : param;

	if (eq)
		*eq = '\0';
	if (!eq || strcasecmp(param, "ENCODING") == 0) {
		if (strcasecmp(v, "QUOTED-PRINTABLE") == 0)
			p->qp = true;
	}
	if (!eq && strcasecmp(v, "PREF") == 0)
		p->pref = true;
	else if (eq && strcasecmp(param, "TYPE") == 0 && type_has_pref(v))
		p->pref = true;
	else if (eq && strcasecmp(param, "PREF") == 0)
		p->pref = true;
	else if (eq && strcasecmp(param, "CHARSET") == 0)
		p->charset = v;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = toupper(c);
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable decoding; a malformed escape is kept as it is. */
static void
qp_decode(const char *s, struct buf *out)
{
	for (; *s; s++) {
		int hi, lo;

		if (*s == '=' && s[1] && s[2] && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			buf_addc(out, (char)(hi << 4 | lo));
			s += 2;
		} else {
			buf_addc(out, *s);
		}
	}
}

/* The value as UTF-8: quoted-printable undone, then the charset converted
 * (only UTF-8 and the Latin ones exist in real exports). */
static char *
vprop_decode(const struct vprop *p, const char *raw)
{
	struct buf b = { 0 };
	size_t n;
	char *out;

	if (p->qp)
		qp_decode(raw, &b);
	else
		buf_adds(&b, raw);
	if ((p->charset && strcasecmp(p->charset, "UTF-8") != 0) ||
	    !card_utf8_valid(b.data, b.len)) {
		out = card_cp1252_to_utf8(b.data, b.len, &n);
		buf_free(&b);
		return out;
	}
	return buf_steal(&b);
}

/* Splits line in place into p; false when it has no ':'. */
static bool
vprop_parse(char *line, struct vprop *p)
{
	char *colon = find_unquoted(line, ':'), *semi, *dot;

	memset(p, 0, sizeof *p);
	if (!colon)
		return false;
	*colon = '\0';
	semi = find_unquoted(line, ';');
	if (semi)
		*semi++ = '\0';
	/* "item1.EMAIL" (Apple) names a group before the property. */
	dot = strrchr(line, '.');
	p->name = dot ? dot + 1 : line;
	while (semi) {
		char *param = semi;

		if ((semi = find_unquoted(semi, ';')))
			*semi++ = '\0';
		vprop_param(p, param);
	}
	p->value = vprop_decode(p, colon + 1);
	return true;
}

/* Splits an escaped text value at sep (none: 0), undoing \n \, \; \\ in
 * each component. Returns the count; *out newly allocated strings. */
static size_t
text_split(const char *s, char sep, char ***out)
{
	struct buf b = { 0 };
	size_t n = 0;

	*out = NULL;
	for (;; s++) {
		if (*s == '\0' || (sep && *s == sep)) {
			*out = xrealloc(*out, (n + 1) * sizeof **out);
			(*out)[n++] = buf_steal(&b);
			if (*s == '\0')
				return n;
		} else if (*s == '\\' && s[1]) {
			s++;
			buf_addc(&b, *s == 'n' || *s == 'N' ? '\n' : *s);
		} else {
			buf_addc(&b, *s);
		}
	}
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Trimmed copy, or NULL when only blanks remain. */
static char *
text_trim(const char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n ? xstrndup(s, n) : NULL;
}

/* ---- reading: cards ---- */

struct vstate {
	struct card card;
	bool in_card;
	char *fn;                /* FN, trimmed */
	char *n_name;            /* "Given Middle Family" from N */
};

/* N is Family;Given;Middle;Prefix;Suffix: a name reads given name first. */
static char *
name_from_n(const char *value)
{
	static const int order[] = { 1, 2, 0 };
	struct buf b = { 0 };
	char **parts, *t;
	size_t n = text_split(value, ';', &parts);

	for (size_t i = 0; i < 3; i++) {
		if ((size_t)order[i] >= n || !(t = text_trim(parts[order[i]])))
			continue;
		buf_printf(&b, "%s%s", b.len ? " " : "", t);
		free(t);
	}
	strv_free(parts, n);
	if (!b.len) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static void
vstate_reset(struct vstate *v)
{
	card_free(&v->card);
	free(v->fn);
	free(v->n_name);
	memset(v, 0, sizeof *v);
}

static void
vstate_end(struct vstate *v, struct card_list *l)
{
	v->card.name = v->fn ? v->fn : v->n_name;
	if (v->fn)
		free(v->n_name);
	v->fn = v->n_name = NULL;
	card_list_take(l, &v->card, "card");
	vstate_reset(v);
}

static void
vstate_email(struct vstate *v, struct card_list *l, const struct vprop *p, unsigned line)
{
	char **parts, *t;
	size_t n = text_split(p->value, 0, &parts);

	t = text_trim(parts[0]);
	if (t && !card_add_email(&v->card, t, p->pref))
		card_list_problem(l, line, false, "\"%s\" is not an e-mail address; ignored", t);
	free(t);
	strv_free(parts, n);
}

static void
vstate_property(struct vstate *v, struct card_list *l, const struct vprop *p, unsigned line)
{
	char **parts;
	size_t n, i;

	if (strcasecmp(p->name, "EMAIL") == 0) {
		vstate_email(v, l, p, line);
	} else if (strcasecmp(p->name, "FN") == 0 && !v->fn) {
		n = text_split(p->value, 0, &parts);
		v->fn = text_trim(parts[0]);
		strv_free(parts, n);
	} else if (strcasecmp(p->name, "N") == 0 && !v->n_name) {
		v->n_name = name_from_n(p->value);
	} else if (strcasecmp(p->name, "CATEGORIES") == 0) {
		n = text_split(p->value, ',', &parts);
		for (i = 0; i < n; i++)
			card_add_tag(&v->card, parts[i]);
		strv_free(parts, n);
	}
}

static void
vstate_begin(struct vstate *v, struct card_list *l, unsigned line)
{
	if (v->in_card) {
		card_list_problem(l, v->card.line, true,
				  "card without END:VCARD (a new card starts at line %u); skipped", line);
		vstate_reset(v);
	}
	v->in_card = true;
	v->card.line = line;
}

/* One logical line (modified in place) starting at physical line no. */
static void
vcard_line(struct vstate *v, struct card_list *l, char *text, unsigned no)
{
	struct vprop p;

	if (!vprop_parse(text, &p)) {
		if (*text && strspn(text, " \t") != strlen(text))
			card_list_problem(l, no, false, "line without ':'; ignored");
		return;
	}
	if (strcasecmp(p.name, "BEGIN") == 0 && strcasecmp(p.value, "VCARD") == 0)
		vstate_begin(v, l, no);
	else if (!v->in_card)
		card_list_problem(l, no, false, "%s outside a card; ignored", p.name);
	else if (strcasecmp(p.name, "END") == 0)
		vstate_end(v, l);
	else
		vstate_property(v, l, &p, no);
	free(p.value);
}

static size_t
skip_bom(const char *data, size_t len)
{
	return len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

void
vcard_parse(const char *data, size_t len, struct card_list *out)
{
	size_t bom = skip_bom(data, len);
	struct vreader r = { data + bom, data + len, 0 };
	struct vstate v = { 0 };
	struct buf line = { 0 };
	unsigned no;

	while (vreader_line(&r, &line, &no))
		vcard_line(&v, out, line.data, no);
	if (v.in_card)
		card_list_problem(out, v.card.line, true,
				  "card without END:VCARD (end of file); skipped");
	vstate_reset(&v);
	buf_free(&line);
}

bool
vcard_detect(const char *data, size_t len)
{
	size_t i = skip_bom(data, len);

	while (i < len && isspace((unsigned char)data[i]))
		i++;
	return len - i >= 11 && strncasecmp(data + i, "BEGIN:VCARD", 11) == 0;
}

/* ---- writing ---- */

/* Appends s with the text escapes of RFC 2426. */
static void
text_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == ',' || *s == ';')
			buf_addc(b, '\\');
		if (*s == '\n')
			buf_adds(b, "\\n");
		else if (*s != '\r')
			buf_addc(b, *s);
	}
}

/* Emits one logical line folded at 75 octets, never inside a UTF-8 sequence. */
static void
line_emit(struct buf *out, const struct buf *line)
{
	size_t pos = 0, max = 75;

	while (line->len - pos > max) {
		size_t cut = pos + max;

		while (cut > pos + 1 && ((unsigned char)line->data[cut] & 0xc0) == 0x80)
			cut--;
		buf_add(out, line->data + pos, cut - pos);
		buf_adds(out, "\r\n ");
		pos = cut;
		max = 74;        /* the leading space counts */
	}
	buf_add(out, line->data + pos, line->len - pos);
	buf_adds(out, "\r\n");
}

/* N: Family;Given;;; when the name has a first word and a rest ("Jean de
 * la Fontaine": given "Jean"); nothing when it is one word. */
static void
write_n(struct buf *b, const char *name)
{
	const char *sp = strchr(name, ' ');
	char *given;

	if (!sp || !sp[1])
		return;
	given = xstrndup(name, (size_t)(sp - name));
	buf_adds(b, "N:");
	text_escape(b, sp + 1);
	buf_addc(b, ';');
	text_escape(b, given);
	buf_adds(b, ";;;");
	free(given);
}

static void
write_prop(struct buf *out, struct buf *line)
{
	if (line->len)
		line_emit(out, line);
	buf_reset(line);
}

void
vcard_write(struct buf *b, const struct card *c)
{
	struct buf line = { 0 };
	size_t i;

	buf_adds(b, "BEGIN:VCARD\r\nVERSION:3.0\r\n");
	buf_adds(&line, "FN:");
	text_escape(&line, c->name ? c->name : "");
	write_prop(b, &line);
	if (c->name)
		write_n(&line, c->name);
	write_prop(b, &line);
	for (i = 0; i < c->n_emails; i++) {
		buf_printf(&line, "EMAIL;TYPE=INTERNET%s:", i == 0 ? ",PREF" : "");
		text_escape(&line, c->emails[i]);
		write_prop(b, &line);
	}
	for (i = 0; i < c->n_tags; i++) {
		buf_adds(&line, i ? "," : "CATEGORIES:");
		text_escape(&line, c->tags[i]);
	}
	write_prop(b, &line);
	buf_adds(b, "END:VCARD\r\n");
	buf_free(&line);
}
