/* msg: owns the reading of a raw header block into struct msg. Real mail
 * breaks every RFC, so each field is read on its own and tolerantly: libetpan
 * does the RFC work, our own fallbacks keep what a person would still
 * recognise, and everything that leaves here is clean, bounded UTF-8. */
#include "msg.h"
#include "msg_p.h"
#include "address.h"
#include "buf.h"
#include "utf8_p.h"
#include "xalloc.h"

#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG_MAX_STR    4096          /* no string in struct msg is longer */
#define MSG_MAX_ADDRS  500           /* per address list */
#define MSG_MAX_FIELD  (128u << 10)  /* raw bytes kept of one header field */
#define MSG_MAX_ID     998           /* longer "ids" are junk */

const char *const msg_header_fields[] = {
	"From", "To", "Cc", "Reply-To", "Date", "Message-ID", "In-Reply-To",
	"References", "Subject", "List-Id", "List-Unsubscribe", "Precedence",
	"Auto-Submitted", "X-Autoreply", "X-Autorespond", NULL
};

void
msg_addr_list_add(struct msg_addr_list *l, const char *name, const char *email)
{
	struct msg_addr *a;

	if (email == NULL || l->n >= MSG_MAX_ADDRS)
		return;
	l->v = xreallocarray_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	a = &l->v[l->n++];
	a->name = xstrdup(name);
	a->email = xstrdup(email);
}

static void
msg_addr_list_free(struct msg_addr_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].email);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
msg_free(struct msg *m)
{
	free(m->folder);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->references);
	free(m->subject);
	msg_addr_list_free(&m->from);
	msg_addr_list_free(&m->to);
	msg_addr_list_free(&m->cc);
	msg_addr_list_free(&m->reply_to);
	free(m->list_id);
	free(m->precedence);
	free(m->auto_submitted);
	free(m->text_prefix);
	memset(m, 0, sizeof(*m));
}

/* ---- text cleaning ---- */

/* Windows-1252 for 0x80-0x9f; 0 where the code page leaves a hole. */
static const unsigned short msg_cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
};

static void
msg_add_codepoint(struct buf *b, unsigned cp)
{
	char u[3];

	if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	}
}

/* Appends s as valid UTF-8 without control characters: bytes that are not
 * UTF-8 are read as Windows-1252 (what French mail clients send unlabelled),
 * controls become spaces. */
static void
msg_clean(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	size_t k;

	buf_reserve(b, n);
	while (p < e) {
		if (*p >= 0x20 && *p < 0x7f) {
			/* Header text is mostly printable ASCII: copy runs whole. */
			const unsigned char *q = p + 1;

			while (q < e && *q >= 0x20 && *q < 0x7f)
				q++;
			buf_add(b, p, (size_t)(q - p));
			p = q;
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_addc(b, ' ');
			p++;
		} else if ((k = utf8_seq_len(p, (size_t)(e - p))) == 1) {
			buf_addc(b, (char)*p++);
		} else if (k > 0) {
			if (p[0] == 0xc2 && p[1] < 0xa0)   /* C1 controls */
				buf_addc(b, ' ');
			else
				buf_add(b, p, k);
			p += k;
		} else if (*p < 0xa0) {
			msg_add_codepoint(b, msg_cp1252[*p - 0x80] ?
			    msg_cp1252[*p - 0x80] : 0xfffd);
			p++;
		} else {
			msg_add_codepoint(b, *p++);
		}
	}
}

static bool
msg_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Collapses runs of white space, trims, and cuts at MSG_MAX_STR on a
 * character boundary. Returns a new string, or NULL when nothing is left. */
static char *
msg_finish(const char *s, size_t n, bool lower)
{
	char *out = xmalloc(n + 1), *o = out;
	const char *e = s + n;

	for (; s < e; s++) {
		if (msg_is_space(*s)) {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
			continue;
		}
		*o++ = (lower && *s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
	}
	if (o > out && o[-1] == ' ')
		o--;
	if ((size_t)(o - out) > MSG_MAX_STR) {
		o = out + MSG_MAX_STR;
		while (o > out && ((unsigned char)*o & 0xc0) == 0x80)
			o--;
	}
	*o = '\0';
	if (o == out) {
		free(out);
		return NULL;
	}
	return out;
}

/* Decodes RFC 2047 words in already cleaned text; the result is cleaned
 * again because a word may claim UTF-8 and carry Latin-1. */
static char *
msg_decode_phrase(const char *s, size_t n)
{
	struct buf b = { 0 };
	char *dec = NULL, *out;
	size_t idx = 0;

	/* No encoded word (most names and subjects): nothing to decode. */
	if (memmem(s, n, "=?", 2) == NULL)
		return msg_finish(s, n, false);
	if (mailmime_encoded_phrase_parse("utf-8", s, n, &idx, "utf-8", &dec) ==
	    MAILIMF_NO_ERROR && dec != NULL) {
		msg_clean(&b, dec, strlen(dec));
		if (idx < n) {
			buf_addc(&b, ' ');
			msg_clean(&b, s + idx, n - idx);
		}
		free(dec);
	} else {
		free(dec);
		buf_add(&b, s, n);
	}
	out = msg_finish(b.data ? b.data : "", b.len, false);
	buf_free(&b);
	return out;
}

/* ---- addresses ---- */

/* Adds norm (owned: taken), an address already normalised, with its name. */
static void
msg_add_normalised(struct msg_addr_list *l, const char *name, size_t nlen, char *norm)
{
	char *dname = NULL;
	const char *e;
	struct msg_addr *a;

	if (l->n >= MSG_MAX_ADDRS) {
		free(norm);
		return;
	}
	/* Outlook and friends wrap names in single quotes too. */
	if (name != NULL) {
		e = name + nlen;
		while (name < e && (msg_is_space(*name) || *name == '"' || *name == '\''))
			name++;
		while (e > name && (msg_is_space(e[-1]) || e[-1] == '"' || e[-1] == '\''))
			e--;
		if (e > name)
			dname = msg_decode_phrase(name, (size_t)(e - name));
	}
	/* "'jean@x.fr' <jean@x.fr>" names nobody: keep no name. */
	if (dname != NULL && strcasecmp(dname, norm) == 0) {
		free(dname);
		dname = NULL;
	}
	/* msg_addr_list_add without copying the two strings again. */
	l->v = xreallocarray_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	a = &l->v[l->n++];
	a->name = dname;
	a->email = norm;
}

static void
msg_add_address(struct msg_addr_list *l, const char *name, size_t nlen,
    const char *email)
{
	char *norm = address_normalise(email, false);

	if (norm != NULL)
		msg_add_normalised(l, name, nlen, norm);
}

static void msg_addresses_tolerant(const char *, size_t, struct msg_addr_list *);

/* libetpan "succeeds" on some junk ("Sam <sam@z.org" read as the address
 * "Sam<sam@z.org"): such an address gets a second, tolerant reading. */
static void
msg_add_spec(struct msg_addr_list *l, const char *dn, size_t dnlen, const char *spec)
{
	char *norm = address_normalise(spec, false);

	if (norm != NULL)
		msg_add_normalised(l, dn, dnlen, norm);
	else
		msg_addresses_tolerant(spec, strlen(spec), l);
}

static void
msg_add_mailbox(struct msg_addr_list *l, const struct mailimf_mailbox *mb)
{
	const char *dn = mb->mb_display_name;

	if (mb->mb_addr_spec != NULL)
		msg_add_spec(l, dn, dn ? strlen(dn) : 0, mb->mb_addr_spec);
}

static void
msg_add_etpan_list(struct msg_addr_list *l, const struct mailimf_address_list *al)
{
	clistiter *it, *jt;

	for (it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		const struct mailimf_address *a = clist_content(it);

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			msg_add_mailbox(l, a->ad_data.ad_mailbox);
			continue;
		}
		if (a->ad_type != MAILIMF_ADDRESS_GROUP ||
		    a->ad_data.ad_group->grp_mb_list == NULL)
			continue;
		for (jt = clist_begin(a->ad_data.ad_group->grp_mb_list->mb_list);
		    jt != NULL; jt = clist_next(jt))
			msg_add_mailbox(l, clist_content(jt));
	}
}

/* True when libetpan read the whole list; only then are its results used. */
static bool
msg_addresses_etpan(const char *s, size_t n, struct msg_addr_list *l)
{
	struct mailimf_address_list *al = NULL;
	size_t idx = 0;

	if (mailimf_address_list_parse(s, n, &idx, &al) != MAILIMF_NO_ERROR)
		return false;
	while (idx < n && (msg_is_space(s[idx]) || s[idx] == ',' || s[idx] == ';'))
		idx++;
	if (idx == n)
		msg_add_etpan_list(l, al);
	mailimf_address_list_free(al);
	return idx == n;
}

static bool
msg_is_addr_delim(char c)
{
	return msg_is_space(c) || c == ',' || c == ';' || c == '<' || c == '>' ||
	    c == '(' || c == ')';
}

/* The fallback for lists libetpan refuses: every <...> and bare x@y token is
 * an address; the text before a <...> since the last address is its name. */
static void
msg_addresses_tolerant(const char *s, size_t n, struct msg_addr_list *l)
{
	const char *p = s, *e = s + n, *name = NULL, *q;
	char *tok;

	while (p < e) {
		if (*p == '<') {
			for (q = p + 1; q < e && *q != '>' && *q != '<' && *q != ','; q++)
				;
			tok = xstrndup(p + 1, (size_t)(q - p - 1));
			msg_add_address(l, name, name ? (size_t)(p - name) : 0, tok);
			free(tok);
			name = NULL;
			p = (q < e && *q == '>') ? q + 1 : q;
		} else if (*p == ',' || *p == ';') {
			name = NULL;
			p++;
		} else if (msg_is_addr_delim(*p)) {
			p++;
		} else if (*p == '"' && (q = memchr(p + 1, '"', (size_t)(e - p - 1))) != NULL) {
			if (name == NULL)
				name = p;
			p = q + 1;
		} else {
			for (q = p; q < e && !msg_is_addr_delim(*q); q++)
				;
			if (memchr(p, '@', (size_t)(q - p)) != NULL) {
				tok = xstrndup(p, (size_t)(q - p));
				msg_add_address(l, NULL, 0, tok);
				free(tok);
				name = NULL;
			} else if (name == NULL) {
				name = p;
			}
			p = q;
		}
	}
}

void
msg_addresses_full(const char *s, size_t n, struct msg_addr_list *l)
{
	if (!msg_addresses_etpan(s, n, l))
		msg_addresses_tolerant(s, n, l);
}

/* RFC 5322 atext: what an atom is made of. */
static bool
msg_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
	case '+': case '-': case '/': case '=': case '?': case '^': case '_':
	case '`': case '{': case '|': case '}': case '~':
		return true;
	default:
		return false;
	}
}

/* The end of the dot-atom at p (atoms joined by single dots), or NULL. */
static const char *
msg_dot_atom(const char *p, const char *e)
{
	const char *a;

	for (;;) {
		for (a = p; p < e && msg_is_atext((unsigned char)*p); p++)
			;
		if (p == a)
			return NULL;
		if (p == e || *p != '.')
			return p;
		p++;
	}
}

/* The end of the addr-spec local@domain at p, both dot-atoms, or NULL. */
static const char *
msg_plain_spec(const char *p, const char *e)
{
	if ((p = msg_dot_atom(p, e)) == NULL || p == e || *p != '@')
		return NULL;
	return msg_dot_atom(p + 1, e);
}

/* Longest addr-spec the fast path copies on the stack; longer ones take
 * the full path. */
#define MSG_FAST_SPEC 256

/* One pass of msg_addresses_fast: checks s when l is NULL, else adds. In
 * these forms libetpan's display name is the atoms of the name joined by
 * the single spaces between them, and its addr-spec the text between the
 * brackets, so both are taken from s as they stand. */
static bool
msg_addresses_plain(const char *s, size_t n, struct msg_addr_list *l)
{
	const char *p = s, *e = s + n, *name, *ne, *spec, *se, *q;
	char buf[MSG_FAST_SPEC];

	for (;;) {
		while (p < e && *p == ' ')
			p++;
		/* A name of atoms and single spaces, then <spec>; or a bare spec. */
		for (q = p; q < e && (*q == ' ' || msg_is_atext((unsigned char)*q)); q++)
			if (*q == ' ' && q + 1 < e && q[1] == ' ')
				return false;
		if (q < e && *q == '<') {
			name = p;
			ne = q;
			while (ne > name && ne[-1] == ' ')
				ne--;
			spec = q + 1;
			if ((se = msg_plain_spec(spec, e)) == NULL || se == e || *se != '>')
				return false;
			p = se + 1;
		} else {
			name = ne = NULL;
			spec = p;
			if ((se = msg_plain_spec(spec, e)) == NULL)
				return false;
			p = se;
		}
		if ((size_t)(se - spec) >= sizeof(buf))
			return false;
		if (l != NULL) {
			memcpy(buf, spec, (size_t)(se - spec));
			buf[se - spec] = '\0';
			msg_add_spec(l, name != ne ? name : NULL, (size_t)(ne - name), buf);
		}
		while (p < e && *p == ' ')
			p++;
		if (p == e)
			return true;
		if (*p != ',')
			return false;
		/* Trailing commas and spaces end the list, as for libetpan. */
		for (q = p; q < e && (*q == ',' || *q == ' '); q++)
			;
		if (q == e)
			return true;
		p++;
	}
}

bool
msg_addresses_fast(const char *s, size_t n, struct msg_addr_list *l)
{
	if (!msg_addresses_plain(s, n, NULL))
		return false;
	return msg_addresses_plain(s, n, l);
}

/* Most address fields are plain "Name <a@b>" or "a@b": read those directly,
 * which costs a fraction of libetpan's parse and its allocations. */
static void
msg_parse_addresses(const char *s, size_t n, struct msg_addr_list *l)
{
	if (!msg_addresses_fast(s, n, l))
		msg_addresses_full(s, n, l);
}

/* ---- dates ---- */

static int64_t
msg_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* zone is RFC 5322's +hhmm as a decimal number (-0430 is -430). */
static int64_t
msg_unix_time(int year, int mon, int day, int h, int mi, int s, int zone)
{
	int az = zone < 0 ? -zone : zone;
	int64_t off = (int64_t)(az / 100 * 60 + az % 100) * 60;

	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	if (year < 1900 || year > 9999 || mon < 1 || mon > 12 || day < 1 || day > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 ||
	    az % 100 > 59 || az > 1400)
		return 0;
	return msg_days_from_civil(year, mon, day) * 86400 + h * 3600 + mi * 60 +
	    s - (zone < 0 ? -off : off);
}

/* Zone names RFC 5322 does not know but mailers write anyway. */
static int
msg_zone_name(const char *s, size_t n, bool *found)
{
	static const struct { const char *name; int zone; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 }, { "WET", 0 },
		{ "BST", 100 }, { "WEST", 100 }, { "CET", 100 }, { "MET", 100 },
		{ "CEST", 200 }, { "MEST", 200 }, { "EET", 200 }, { "EEST", 300 },
		{ "MSK", 300 }, { "IST", 530 }, { "JST", 900 }, { "AEST", 1000 },
		{ "EST", -500 }, { "EDT", -400 }, { "CST", -600 }, { "CDT", -500 },
		{ "MST", -700 }, { "MDT", -600 }, { "PST", -800 }, { "PDT", -700 },
		{ "AST", -400 }, { "ADT", -300 }, { "NST", -330 }, { "NDT", -230 },
	};
	size_t i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strlen(zones[i].name) == n && strncasecmp(s, zones[i].name, n) == 0) {
			*found = true;
			return zones[i].zone;
		}
	*found = false;
	return 0;
}

static int
msg_month(const char *s, size_t n)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int i;

	if (n < 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (strncasecmp(s, months + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

struct msg_date {
	int year, mon, day, h, mi, s, zone;
	bool have_zone;
};

/* The zone glued to an ISO time: "10:00:00+02:00", "10:00:00Z". */
static void
msg_date_iso_zone(struct msg_date *d, const char *t, size_t n)
{
	const char *z = t + strcspn(t, "+-Z");
	int hh = 0, mm = 0;

	if (z == t || z >= t + n)
		return;
	if (*z == 'Z') {
		d->have_zone = true;
		d->zone = 0;
	} else if (sscanf(z + 1, "%2d:%2d", &hh, &mm) == 2 ||
	    sscanf(z + 1, "%2d%2d", &hh, &mm) == 2) {
		d->zone = (*z == '-' ? -1 : 1) * (hh * 100 + mm);
		d->have_zone = true;
	}
}

/* One token of a free-form date: "+0200", "10:00:00", "2024-06-03", "Jun". */
static void
msg_date_token(struct msg_date *d, const char *t, size_t n)
{
	int a = 0, b = 0, c = 0;
	char sep;
	bool found;

	if ((t[0] == '+' || t[0] == '-') && n == 5 && sscanf(t + 1, "%4d", &a) == 1) {
		d->zone = t[0] == '-' ? -a : a;
		d->have_zone = true;
	} else if (memchr(t, ':', n) != NULL) {
		if (sscanf(t, "%d:%d:%d", &a, &b, &c) >= 2)
			d->h = a, d->mi = b, d->s = c;
		msg_date_iso_zone(d, t, n);
	} else if (sscanf(t, "%d%c%d%c%d", &a, &sep, &b, &sep, &c) == 5 &&
	    (sep == '-' || sep == '/') && a > 31) {
		d->year = a, d->mon = b, d->day = c;
	} else if (t[0] >= '0' && t[0] <= '9') {
		a = atoi(t);
		if (d->day == 0 && a >= 1 && a <= 31 && n <= 2)
			d->day = a;
		else
			d->year = a;
	} else if (msg_month(t, n) != 0 && n <= 9) {
		d->mon = msg_month(t, n);
	} else {
		a = msg_zone_name(t, n, &found);
		if (found && !d->have_zone) {
			d->zone = a;
			d->have_zone = true;
		}
	}
}

static bool
msg_date_delim(const char *q, const char *s, const char *e)
{
	/* ISO 8601 "2024-06-03T10:00:00": the T separates two tokens. */
	if (*q == 'T' && q > s && q + 1 < e && q[-1] >= '0' && q[-1] <= '9' &&
	    q[1] >= '0' && q[1] <= '9')
		return true;
	return msg_is_space(*q) || *q == ',' || *q == '(' || *q == ')';
}

/* For what libetpan refuses: "2024-06-03 10:00:00", "3 June 2024 10:00",
 * asctime's "Mon Jun  3 10:00:00 2024". Without a zone, UTC. */
static int64_t
msg_date_tolerant(const char *s, size_t n)
{
	struct msg_date d = { 0 };
	char tok[32];
	const char *p = s, *e = s + n, *q;

	while (p < e) {
		while (p < e && msg_date_delim(p, s, e))
			p++;
		for (q = p; q < e && !msg_date_delim(q, s, e); q++)
			;
		if (q > p && (size_t)(q - p) < sizeof(tok)) {
			memcpy(tok, p, (size_t)(q - p));
			tok[q - p] = '\0';
			msg_date_token(&d, tok, (size_t)(q - p));
		}
		p = q;
	}
	if (d.year == 0 || d.mon == 0 || d.day == 0)
		return 0;
	return msg_unix_time(d.year, d.mon, d.day, d.h, d.mi, d.s, d.zone);
}

static int64_t
msg_parse_date(const char *s, size_t n)
{
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0, k;
	int zone;
	bool found;
	int64_t t;

	if (mailimf_date_time_parse(s, n, &idx, &dt) != MAILIMF_NO_ERROR)
		return msg_date_tolerant(s, n);
	zone = dt->dt_zone;
	/* libetpan stops before zone names it does not know ("CEST"). */
	while (idx < n && msg_is_space(s[idx]))
		idx++;
	for (k = idx; k < n && ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z'); k++)
		;
	if (zone == 0 && k > idx) {
		int z = msg_zone_name(s + idx, k - idx, &found);

		if (found)
			zone = z;
	}
	t = msg_unix_time(dt->dt_year, dt->dt_month, dt->dt_day, dt->dt_hour,
	    dt->dt_min, dt->dt_sec, zone);
	mailimf_date_time_free(dt);
	return t;
}

/* ---- message ids ---- */

struct msg_span {
	const char *p;
	size_t n;
};

/* Skips a (possibly nested) comment; returns where it ends. */
static const char *
msg_skip_comment(const char *p, const char *e)
{
	int depth = 0;

	for (; p < e; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return e;
}

/* Finds ids in s: every <...>, and bare tokens (only with an '@' unless
 * bare_any). Returns how many were stored in v (at most max). */
static size_t
msg_find_ids(const char *s, size_t n, struct msg_span *v, size_t max, bool bare_any)
{
	const char *p = s, *e = s + n, *q;
	size_t k = 0;

	while (p < e && k < max) {
		if (*p == '(') {
			p = msg_skip_comment(p, e);
		} else if (*p == '<') {
			q = memchr(p + 1, '>', (size_t)(e - p - 1));
			q = q ? q : e;
			v[k].p = p + 1;
			v[k].n = (size_t)(q - p - 1);
			k++;
			p = q < e ? q + 1 : e;
		} else if (msg_is_space(*p) || *p == ',' || *p == '>' || *p == ')') {
			p++;
		} else {
			for (q = p; q < e && !msg_is_space(*q) && *q != ',' && *q != '<' &&
			    *q != '('; q++)
				;
			if (bare_any || memchr(p, '@', (size_t)(q - p)) != NULL) {
				v[k].p = p;
				v[k].n = (size_t)(q - p);
				k++;
			}
			p = q;
		}
	}
	return k;
}

/* An id with folding spaces removed; NULL when empty or absurdly long. */
static char *
msg_id_dup(const struct msg_span *sp)
{
	char *out = xmalloc(sp->n + 1), *o = out;
	size_t i;

	for (i = 0; i < sp->n; i++)
		if (!msg_is_space(sp->p[i]))
			*o++ = sp->p[i];
	*o = '\0';
	if (o == out || (size_t)(o - out) > MSG_MAX_ID) {
		free(out);
		return NULL;
	}
	return out;
}

static char *
msg_parse_one_id(const char *s, size_t n, bool bare_any)
{
	struct msg_span v[32];
	size_t k, i;
	char *id;

	k = msg_find_ids(s, n, v, 32, true);
	/* A bracketed id wins over bare words ("<id> (John's message)"). */
	for (i = 0; i < k; i++)
		if (v[i].p > s && v[i].p[-1] == '<' && (id = msg_id_dup(&v[i])) != NULL)
			return id;
	for (i = 0; i < k; i++)
		if ((bare_any || memchr(v[i].p, '@', v[i].n) != NULL) &&
		    (id = msg_id_dup(&v[i])) != NULL)
			return id;
	return NULL;
}

/* References: all ids in order; when too long for MSG_MAX_STR, the root and
 * the most recent ones are kept, since those are what threading needs. */
static char *
msg_parse_references(const char *s, size_t n)
{
	struct msg_span *v = xmalloc(sizeof(*v) * (n / 2 + 1));
	char **ids = xmalloc(sizeof(*ids) * (n / 2 + 1));
	size_t k, i, m = 0, first_keep, total;
	struct buf b = { 0 };

	k = msg_find_ids(s, n, v, n / 2 + 1, false);
	for (i = 0; i < k; i++)
		if ((ids[m] = msg_id_dup(&v[i])) != NULL)
			m++;
	total = m ? strlen(ids[0]) : 0;
	for (first_keep = m; first_keep > 1; first_keep--) {
		size_t add = strlen(ids[first_keep - 1]) + 1;

		if (total + add > MSG_MAX_STR)
			break;
		total += add;
	}
	for (i = 0; i < m; i++) {
		if (i == 0 || i >= first_keep) {
			if (b.len)
				buf_addc(&b, ' ');
			buf_adds(&b, ids[i]);
		}
		free(ids[i]);
	}
	free(ids);
	free(v);
	return b.len ? buf_steal(&b) : (buf_free(&b), NULL);
}

/* ---- fields ---- */

static void
msg_set_once(char **dst, char *val)
{
	if (*dst == NULL)
		*dst = val;
	else
		free(val);
}

/* "Name <list.example.org>" is stored as the id inside the brackets. */
static char *
msg_parse_list_id(const char *s, size_t n)
{
	const char *lt = memchr(s, '<', n), *gt;

	if (lt != NULL && (gt = memchr(lt, '>', n - (size_t)(lt - s))) != NULL &&
	    gt > lt + 1)
		return msg_finish(lt + 1, (size_t)(gt - lt - 1), false);
	return msg_finish(s, n, false);
}

static void
msg_field(struct msg *m, const char *name, size_t nlen, const char *v, size_t n)
{
#define IS(f) (nlen == sizeof(f) - 1 && strncasecmp(name, f, nlen) == 0)
	if (IS("From"))
		msg_parse_addresses(v, n, &m->from);
	else if (IS("To"))
		msg_parse_addresses(v, n, &m->to);
	else if (IS("Cc"))
		msg_parse_addresses(v, n, &m->cc);
	else if (IS("Reply-To"))
		msg_parse_addresses(v, n, &m->reply_to);
	else if (IS("Date")) {
		if (m->date == 0)
			m->date = msg_parse_date(v, n);
	} else if (IS("Message-ID"))
		msg_set_once(&m->message_id, msg_parse_one_id(v, n, true));
	else if (IS("In-Reply-To"))
		msg_set_once(&m->in_reply_to, msg_parse_one_id(v, n, false));
	else if (IS("References"))
		msg_set_once(&m->references, msg_parse_references(v, n));
	else if (IS("Subject"))
		msg_set_once(&m->subject, msg_decode_phrase(v, n));
	else if (IS("List-Id"))
		msg_set_once(&m->list_id, msg_parse_list_id(v, n));
	else if (IS("List-Unsubscribe"))
		m->list_unsubscribe = true;
	else if (IS("Precedence"))
		msg_set_once(&m->precedence, msg_finish(v, n, true));
	else if (IS("Auto-Submitted"))
		msg_set_once(&m->auto_submitted, msg_finish(v, n, true));
	else if (IS("X-Autoreply") || IS("X-Autorespond"))
		m->x_autoreply = true;
#undef IS
}

/* ---- the header block ---- */

/* Length of a field name followed by ':' at the start of line p..e, or 0.
 * Space before the colon is tolerated ("Subject :"). */
static size_t
msg_field_name(const char *p, const char *e, const char **value)
{
	const char *q = p, *c;

	while (q < e && (unsigned char)*q > 32 && (unsigned char)*q < 127 && *q != ':')
		q++;
	c = q;
	while (c < e && (*c == ' ' || *c == '\t'))
		c++;
	if (q == p || c >= e || *c != ':')
		return 0;
	*value = c + 1;
	return (size_t)(q - p);
}

static const char *
msg_line_end(const char *p, const char *e, const char **next)
{
	const char *q = p;

	while (q < e && *q != '\n' && *q != '\r')
		q++;
	*next = q;
	if (*next < e && **next == '\r')
		(*next)++;
	if (*next < e && **next == '\n')
		(*next)++;
	return q;
}

struct msg_cur {
	const char *name;
	size_t nlen;
	struct buf val;     /* unfolded, cleaned value */
	size_t raw;         /* raw bytes taken so far */
};

static void
msg_cur_flush(struct msg *m, struct msg_cur *c)
{
	if (c->name != NULL)
		msg_field(m, c->name, c->nlen, c->val.data ? c->val.data : "", c->val.len);
	c->name = NULL;
	buf_reset(&c->val);
	c->raw = 0;
}

static void
msg_cur_add(struct msg_cur *c, const char *p, size_t n)
{
	if (c->raw >= MSG_MAX_FIELD)
		return;
	if (n > MSG_MAX_FIELD - c->raw)
		n = MSG_MAX_FIELD - c->raw;
	c->raw += n;
	msg_clean(&c->val, p, n);
}

int
msg_parse_headers(const char *raw, size_t len, struct msg *m)
{
	const char *p = raw, *e = raw + (raw ? len : 0), *le, *next, *v;
	struct msg_cur c = { 0 };
	int fields = 0;
	size_t nlen;

	for (; p < e; p = next) {
		le = msg_line_end(p, e, &next);
		if (le == p && fields > 0)
			break;          /* the blank line that ends a header */
		if ((*p == ' ' || *p == '\t') && c.name != NULL) {
			msg_cur_add(&c, p, (size_t)(le - p));
			continue;
		}
		msg_cur_flush(m, &c);
		if ((nlen = msg_field_name(p, le, &v)) == 0)
			continue;       /* junk line: skip it, keep the rest */
		c.name = p;
		c.nlen = nlen;
		msg_cur_add(&c, v, (size_t)(le - v));
		fields++;
	}
	msg_cur_flush(m, &c);
	buf_free(&c.val);
	return fields > 0 ? 0 : -1;
}
