/* address: owns the rules that turn what mail headers and the config call an
 * address into one comparable form, and the few predicates on that form
 * (no-reply senders, ignore globs). */
#include "address.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ADDRESS_MAX 254

static int
address_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool
address_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Peels the wrappers people and mailers put around an address, in any order
 * and any depth: spaces, <>, quotes, "mailto:". */
static void
address_peel(const char **sp, const char **ep)
{
	const char *s = *sp, *e = *ep;
	bool again = true;

	while (again && s < e) {
		again = false;
		while (s < e && address_is_space((unsigned char)*s))
			s++, again = true;
		while (e > s && address_is_space((unsigned char)e[-1]))
			e--, again = true;
		if (s < e && (*s == '<' || *s == '"' || *s == '\''))
			s++, again = true;
		if (e > s && (e[-1] == '>' || e[-1] == '"' || e[-1] == '\''))
			e--, again = true;
		if (e - s >= 7 && strncasecmp(s, "mailto:", 7) == 0)
			s += 7, again = true;
	}
	*sp = s;
	*ep = e;
}

static bool
address_char_ok(unsigned char c)
{
	/* Quotes inside are dropped by the caller; these can never be part of
	 * something a person would type as one address. */
	return c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != ',' &&
	    c != ';' && c != '\\';
}

char *
address_normalise(const char *raw, bool allow_local)
{
	const char *s, *e, *p, *at = NULL;
	char *out, *o;

	if (raw == NULL)
		return NULL;
	s = raw;
	e = raw + strlen(raw);
	address_peel(&s, &e);
	if (s == e || (size_t)(e - s) > ADDRESS_MAX)
		return NULL;
	for (p = s; p < e; p++) {
		if (*p == '"')
			continue;
		if (!address_char_ok((unsigned char)*p))
			return NULL;
		if (*p == '@') {
			if (at != NULL)
				return NULL;
			at = p;
		}
	}
	if (at == NULL ? !allow_local : (at == s || at + 1 == e))
		return NULL;
	out = o = xmalloc((size_t)(e - s) + 1);
	for (p = s; p < e; p++)
		if (*p != '"')
			*o++ = (char)address_lower((unsigned char)*p);
	*o = '\0';
	/* A quoted local part may have been all there was ("\"\"@x"). */
	if (*out == '\0' || *out == '@' || (at != NULL && o[-1] == '@')) {
		free(out);
		return NULL;
	}
	/* Dropping inner quotes can reveal a wrapper ("ma\"ilto:x@y"): peel
	 * again, so that normalising twice gives what normalising once gave.
	 * Each round is at least 7 bytes shorter. */
	if (strncmp(out, "mailto:", 7) == 0) {
		char *again = address_normalise(out, allow_local);

		free(out);
		return again;
	}
	return out;
}

static const char *const noreply_exact[] = {
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
	"do_not_reply", "ne-pas-repondre", "nepasrepondre", "ne_pas_repondre",
	"mailer-daemon", "mailerdaemon", "postmaster", "bounce", "bounces",
	"notification", "notifications", "notify", "newsletter", "newsletters",
	NULL
};

/* Prefixes: VERP bounce addresses. */
static const char *const noreply_prefix[] = {
	"bounce+", "bounce-", "bounces+", "bounces-", NULL
};

/* Anywhere in the local part: "noreply-xyz", "notifications-noreply",
 * "invitations.no-reply" all say nobody reads the mailbox. */
static const char *const noreply_infix[] = {
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
	"do_not_reply", "ne-pas-repondre", "nepasrepondre", "ne_pas_repondre", NULL
};

bool
address_is_noreply(const char *email)
{
	char local[ADDRESS_MAX + 1];
	const char *at, *plus;
	size_t n, i;

	if (email == NULL)
		return false;
	at = strrchr(email, '@');
	n = at ? (size_t)(at - email) : strlen(email);
	if (n == 0 || n > ADDRESS_MAX)
		return false;
	for (i = 0; i < n; i++)
		local[i] = (char)address_lower((unsigned char)email[i]);
	local[n] = '\0';
	for (i = 0; noreply_prefix[i]; i++)
		if (strncmp(local, noreply_prefix[i], strlen(noreply_prefix[i])) == 0)
			return true;
	for (i = 0; noreply_infix[i]; i++)
		if (strstr(local, noreply_infix[i]))
			return true;
	plus = strchr(local, '+');
	if (plus != NULL)
		local[plus - local] = '\0';
	for (i = 0; noreply_exact[i]; i++)
		if (strcmp(local, noreply_exact[i]) == 0)
			return true;
	return false;
}

bool
address_match_glob(const char *pattern, const char *email)
{
	const char *p = pattern, *s = email, *star = NULL, *mark = NULL;

	if (pattern == NULL || email == NULL)
		return false;
	/* Iterative match with one backtrack point: linear in practice and
	 * never recursive, whatever the pattern. */
	while (*s) {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p && (*p == '?' ||
		    address_lower((unsigned char)*p) == address_lower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++mark;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

size_t
address_split_list(const char *s, char ***out)
{
	char **v;
	size_t n = 0, cap = 1;
	const char *p, *e, *t;

	for (p = s ? s : ""; *p; p++)
		if (*p == ',')
			cap++;
	v = xcalloc(cap + 1, sizeof(*v));
	for (p = s ? s : ""; ; p = e + 1) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		t = e;
		while (p < t && address_is_space((unsigned char)*p))
			p++;
		while (t > p && address_is_space((unsigned char)t[-1]))
			t--;
		if (t > p)
			v[n++] = xstrndup(p, (size_t)(t - p));
		if (*e == '\0')
			break;
	}
	*out = v;
	return n;
}
