/* thread: owns how merci recognises that two messages belong together: the
 * thread key from the id headers, and a subject stripped of the reply and
 * forward prefixes mail clients in several languages add. */
#include "thread.h"
#include "msg.h"
#include "xalloc.h"

#include <string.h>

#define THREAD_TAG_MAX 64
#define THREAD_WORD_MAX 8

/* Lower case, accents kept: "réf" and "rép" are French clients' spellings. */
static const char *const thread_prefixes[] = {
	"re", "fw", "fwd", "tr", "ref", "r\xc3\xa9" "f", "rep", "r\xc3\xa9" "p",
	"aw", "wg", "sv", "vs", "antw", "res", "enc", "rif", "odp", NULL
};

/* Length of a white space character at p (ASCII, NBSP, narrow NBSP), or 0. */
static size_t
thread_space_len(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	if (*u == ' ' || *u == '\t' || *u == '\r' || *u == '\n')
		return 1;
	if (u[0] == 0xc2 && u[1] == 0xa0)
		return 2;
	if (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xaf || u[2] == 0x89))
		return 3;
	return 0;
}

static const char *
thread_skip_space(const char *p)
{
	size_t n;

	while ((n = thread_space_len(p)) > 0)
		p += n;
	return p;
}

/* "[list-name] ": returns the position after the tag, or NULL. */
static const char *
thread_skip_tag(const char *p)
{
	const char *e;

	if (*p != '[')
		return NULL;
	for (e = p + 1; *e && *e != ']' && *e != '[' && e - p < THREAD_TAG_MAX; e++)
		;
	return *e == ']' ? e + 1 : NULL;
}

/* Reads a prefix word into w (lower case, é kept as UTF-8). */
static const char *
thread_read_word(const char *p, char *w, size_t wsize)
{
	size_t n = 0;

	for (;;) {
		unsigned char c = (unsigned char)*p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		if (c >= 'a' && c <= 'z') {
			if (n + 1 >= wsize)
				return NULL;
			w[n++] = (char)c;
			p++;
		} else if (c == 0xc3 && (p[1] == '\xa9' || p[1] == '\x89')) {
			if (n + 2 >= wsize)
				return NULL;
			w[n++] = '\xc3';
			w[n++] = '\xa9';
			p += 2;
		} else {
			break;
		}
	}
	w[n] = '\0';
	return n ? p : NULL;
}

/* "Re:", "RE :", "Réf. :", "Re[2]:", "Re^2:", "AW:": returns the position
 * after the colon, or NULL when p does not start with such a prefix. */
static const char *
thread_skip_prefix(const char *p)
{
	char w[THREAD_WORD_MAX + 1];
	size_t i;

	p = thread_read_word(p, w, sizeof(w));
	if (p == NULL)
		return NULL;
	for (i = 0; thread_prefixes[i]; i++)
		if (strcmp(w, thread_prefixes[i]) == 0)
			break;
	if (thread_prefixes[i] == NULL)
		return NULL;
	if (*p == '.')
		p++;
	if (*p == '[' || *p == '(' || *p == '^') {
		char close = *p == '[' ? ']' : *p == '(' ? ')' : '\0';

		p++;
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
		if (close && *p++ != close)
			return NULL;
	}
	p = thread_skip_space(p);
	if (*p == ':')
		return p + 1;
	if (strncmp(p, "\xef\xbc\x9a", 3) == 0)     /* fullwidth colon */
		return p + 3;
	return NULL;
}

/* Skips every tag and prefix; *replies counts the prefixes. */
static const char *
thread_skip_all(const char *s, int *replies)
{
	const char *p = s, *q;

	*replies = 0;
	for (;;) {
		p = thread_skip_space(p);
		if ((q = thread_skip_tag(p)) != NULL) {
			p = q;
		} else if ((q = thread_skip_prefix(p)) != NULL) {
			p = q;
			(*replies)++;
		} else {
			return p;
		}
	}
}

/* Lower-cases one character in place: ASCII, Latin-1 capitals, Œ, Ÿ. */
static size_t
thread_lower_char(const char *p, char *o)
{
	unsigned char c = (unsigned char)p[0], d = (unsigned char)p[1];

	if (c >= 'A' && c <= 'Z') {
		o[0] = (char)(c + 32);
		return 1;
	}
	if (c == 0xc3 && d >= 0x80 && d <= 0x9e && d != 0x97) {
		o[0] = (char)c;
		o[1] = (char)(d + 0x20);
		return 2;
	}
	if (c == 0xc5 && d == 0x92) {
		o[0] = (char)c;
		o[1] = (char)0x93;
		return 2;
	}
	if (c == 0xc5 && d == 0xb8) {
		o[0] = (char)0xc3;
		o[1] = (char)0xbf;
		return 2;
	}
	o[0] = (char)c;
	return 1;
}

char *
thread_subject_normalise(const char *subject)
{
	const char *p;
	char *out, *o;
	int replies;
	size_t n;

	if (subject == NULL)
		return xstrdup("");
	p = thread_skip_all(subject, &replies);
	out = o = xmalloc(strlen(p) + 1);
	while (*p) {
		if ((n = thread_space_len(p)) > 0) {
			p = thread_skip_space(p);
			if (*p && o > out)
				*o++ = ' ';
			continue;
		}
		n = thread_lower_char(p, o);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

bool
thread_subject_is_reply(const char *subject)
{
	int replies;

	if (subject == NULL)
		return false;
	thread_skip_all(subject, &replies);
	return replies > 0;
}

char *
thread_key_from_headers(const struct msg *m)
{
	const char *r = m->references;
	size_t n;

	if (r != NULL) {
		while (*r == ' ')
			r++;
		n = strcspn(r, " ");
		if (n > 0)
			return xstrndup(r, n);
	}
	if (m->in_reply_to != NULL && *m->in_reply_to)
		return xstrdup(m->in_reply_to);
	if (m->message_id != NULL && *m->message_id)
		return xstrdup(m->message_id);
	return NULL;
}
