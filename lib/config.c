/* config: owns merci.conf(5). inih splits the key lines; a line reader of
 * ours feeds it, so that every problem can be reported with FILE:LINE
 * (Debian's inih hands no line numbers to the handler), sections are known
 * with their header line, and indented lines are not taken for inih's
 * multi-line continuations. Every value is validated here; the problems are
 * collected, not stopped at, so a user fixes a file in one pass. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ini.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "timeutil.h"
#include "xalloc.h"

#define SECRET_MAX 4096            /* longer than any sane password or token */
#define COMMAND_TIMEOUT_MS 30000   /* a password_command waiting for a PIN never returns */
#define ZONEINFO_DIR "/usr/share/zoneinfo"

enum sect_kind { SECT_NONE, SECT_GENERAL, SECT_ACCOUNT, SECT_SMTP, SECT_NUDGES, SECT_TAG,
		 SECT_SKIP };

struct parse;
struct key_def;
typedef void key_fn(struct parse *ps, const struct key_def *k, const char *value);

struct key_def {
	const char *name;
	key_fn *fn;
	size_t off;        /* field of the section's struct, for the generic handlers */
	int64_t min;       /* smallest accepted duration */
	bool may_be_empty; /* lists may be given empty */
};

struct seen_key {
	int sect_id;
	const char *name;  /* points into a key table */
	int line;
};

struct parse {
	const char *path;
	FILE *fp;
	int lineno;                 /* the line last handed to inih */
	char *line;                 /* getline buffer */
	size_t line_cap;
	char *long_value;           /* value of a line too long for inih's buffer */
	struct buf errs;
	struct config *c;
	enum sect_kind kind;
	int sect_id;                /* one per section instance, for duplicate keys */
	char *label;                /* "account work", for messages */
	size_t acct;                /* index into c->accounts for SECT_ACCOUNT */
	size_t tag;                 /* index into c->tags for SECT_TAG */
	int general_line;           /* 0: no [general] yet */
	int smtp_line;
	bool has_password;
	int tls_req;                /* -1, or the tls_mode asked by "tls =" */
	int url_implicit;           /* -1 until url is known, then 0 or 1 */
	struct seen_key *seen;
	size_t n_seen, cap_seen;
};

/* The fields [account] and [smtp] share, so one set of handlers serves both. */
struct endpoint {
	char **url, **host;
	int *port;
	enum tls_mode *tls;
	char **user;
	struct config_secret *secret;
	char **ca_file;
	const char *scheme;          /* "imap" or "smtp" */
	int port_implicit, port_starttls;
	const char *example_host;
};

static void perr(struct parse *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
perr(struct parse *ps, int line, const char *fmt, ...)
{
	va_list ap;

	if (ps->errs.len)
		buf_addc(&ps->errs, '\n');
	if (line > 0)
		buf_printf(&ps->errs, "%s:%d: ", ps->path, line);
	else
		buf_printf(&ps->errs, "%s: ", ps->path);
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	buf_adds(&ps->errs, msg ? msg : "(out of memory)");
	free(msg);
}

/* ---- small string helpers ---- */

static char *
trim_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool
strv_contains(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Splits a comma list into trimmed, non-empty, distinct items. */
static size_t
split_list(const char *s, char ***out)
{
	char **v = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		char *item = trim_dup(s, len);

		if (*item && !strv_contains(v, n, item)) {
			v = xreallocarray_grow(v, &cap, n + 1, sizeof(*v));
			v[n++] = item;
		} else {
			free(item);
		}
		if (!end)
			break;
		s = end + 1;
	}
	*out = v;
	return n;
}

/* Edit distance, for "did you mean"; names are short. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* A lower-cased address when s can be one; the shared normaliser decides. */
static char *
email_normalise(const char *s)
{
	if (has_control(s))
		return NULL;
	return address_normalise(s, false);
}

/* ---- key handlers: [general] ---- */

static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static void
k_database(struct parse *ps, const struct key_def *k, const char *value)
{
	(void)k;
	set_string(&ps->c->database, value);
}

static void
k_control_socket(struct parse *ps, const struct key_def *k, const char *value)
{
	(void)k;
	set_string(&ps->c->control_socket, value);
}

static void
k_owner(struct parse *ps, const struct key_def *k, const char *value)
{
	const char *lt = strrchr(value, '<');
	char *name = NULL, *email;
	size_t vlen = strlen(value);

	(void)k;
	if (lt && value[vlen - 1] == '>') {
		name = trim_dup(value, (size_t)(lt - value));
		size_t nl = strlen(name);
		if (nl >= 2 && name[0] == '"' && name[nl - 1] == '"') {
			memmove(name, name + 1, nl - 2);
			name[nl - 2] = '\0';
		}
		email = email_normalise(lt);
	} else {
		email = email_normalise(value);
	}
	if (!email) {
		perr(ps, ps->lineno, "owner = \"%s\" is not an e-mail address; "
		     "write e.g. owner = Camille Roy <camille@example.org>", value);
		free(name);
		return;
	}
	free(ps->c->owner_name);
	free(ps->c->owner_email);
	ps->c->owner_name = name && *name ? name : NULL;
	if (name && !*name)
		free(name);
	ps->c->owner_email = email;
}

static void
k_identities(struct parse *ps, const struct key_def *k, const char *value)
{
	char **items;
	size_t n = split_list(value, &items);
	struct config *c = ps->c;

	(void)k;
	for (size_t i = 0; i < n; i++) {
		char *e = email_normalise(items[i]);
		if (!e) {
			perr(ps, ps->lineno, "identities: \"%s\" is not an e-mail address; "
			     "write e.g. identities = you@example.net, you@example.com", items[i]);
			continue;
		}
		if (strv_contains(c->identities, c->n_identities, e)) {
			free(e);
			continue;
		}
		c->identities = xrealloc(c->identities, (c->n_identities + 1) * sizeof(char *));
		c->identities[c->n_identities++] = e;
	}
	strv_free(items, n);
}

static void
k_language(struct parse *ps, const struct key_def *k, const char *value)
{
	(void)k;
	if (strcasecmp(value, "fr") != 0 && strcasecmp(value, "en") != 0) {
		perr(ps, ps->lineno, "language = \"%s\" is not supported; write fr or en", value);
		return;
	}
	free(ps->c->language);
	ps->c->language = xstrdup(value);
	ps->c->language[0] = (char)tolower((unsigned char)value[0]);
	ps->c->language[1] = (char)tolower((unsigned char)value[1]);
}

static bool
timezone_exists(const char *name)
{
	const char *dir = getenv("TZDIR");
	struct stat st;
	char *path;
	bool ok;

	if (name[0] == '/' || name[0] == '.' || strstr(name, "..") || has_control(name))
		return false;
	path = xasprintf("%s/%s", dir && *dir ? dir : ZONEINFO_DIR, name);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ok;
}

static void
k_timezone(struct parse *ps, const struct key_def *k, const char *value)
{
	(void)k;
	if (!timezone_exists(value)) {
		perr(ps, ps->lineno, "timezone = \"%s\" is not a known time zone; "
		     "write a name such as Europe/Paris or America/Montreal", value);
		return;
	}
	set_string(&ps->c->timezone, value);
}

/* ---- key handlers: [account] and [smtp] ---- */

static void
endpoint_current(struct parse *ps, struct endpoint *ep)
{
#define EP_FIELDS(s) do { \
	ep->url = &(s)->url; ep->host = &(s)->host; ep->port = &(s)->port; \
	ep->tls = &(s)->tls; ep->user = &(s)->user; ep->secret = &(s)->secret; \
	ep->ca_file = &(s)->ca_file; \
} while (0)
	if (ps->kind == SECT_ACCOUNT) {
		EP_FIELDS(&ps->c->accounts[ps->acct]);
		ep->scheme = "imap";
		ep->port_implicit = 993;
		ep->port_starttls = 143;
		ep->example_host = "imap.example.org";
	} else {
		EP_FIELDS(&ps->c->smtp);
		ep->scheme = "smtp";
		ep->port_implicit = 465;
		ep->port_starttls = 587;
		ep->example_host = "smtp.example.org";
	}
#undef EP_FIELDS
}

static void *
sect_base(struct parse *ps)
{
	switch (ps->kind) {
	case SECT_ACCOUNT:
		return &ps->c->accounts[ps->acct];
	case SECT_SMTP:
		return &ps->c->smtp;
	case SECT_NUDGES:
		return &ps->c->nudges;
	case SECT_TAG:
		return &ps->c->tags[ps->tag];
	default:
		return ps->c;
	}
}

static bool
tls_fits(bool implicit_scheme, int mode)
{
	return implicit_scheme ? mode == TLS_IMPLICIT : mode != TLS_IMPLICIT;
}

static void
tls_report_misfit(struct parse *ps, const struct endpoint *ep, int mode)
{
	static const char *names[] = { "implicit", "starttls", "none" };

	if (mode == TLS_IMPLICIT)
		perr(ps, ps->lineno, "tls = implicit does not fit %s://; use %ss:// "
		     "for implicit TLS, or remove tls", ep->scheme, ep->scheme);
	else
		perr(ps, ps->lineno, "tls = %s does not fit %ss://; use %s:// for %s, or remove tls",
		     names[mode], ep->scheme, ep->scheme,
		     mode == TLS_NONE ? "a plain connection" : "STARTTLS");
}

/* Splits "scheme://host[:port][/]"; returns NULL or why it is not a URL. */
static const char *
url_split(const char *url, const struct endpoint *ep, bool *implicit, char **host, int *port)
{
	size_t sl = strlen(ep->scheme);
	const char *p = url, *h, *he;

	if (strncasecmp(p, ep->scheme, sl) != 0)
		return "has the wrong scheme";
	p += sl;
	*implicit = *p == 's' || *p == 'S';
	if (*implicit)
		p++;
	if (strncmp(p, "://", 3) != 0)
		return "has the wrong scheme";
	p += 3;
	if (strcspn(p, "@") < strcspn(p, "/"))
		return "holds a user name; put it in user =";
	if (*p == '[') {
		h = p + 1;
		he = strchr(h, ']');
		if (!he)
			return "has an unclosed [";
		p = he + 1;
	} else {
		h = p;
		p += strcspn(p, ":/");
		he = p;
	}
	if (he == h)
		return "has no host";
	*port = *implicit ? ep->port_implicit : ep->port_starttls;
	if (*p == ':') {
		char *end;
		long v = strtol(p + 1, &end, 10);
		if (end == p + 1 || v < 1 || v > 65535)
			return "has a bad port";
		*port = (int)v;
		p = end;
	}
	if (*p && strcmp(p, "/") != 0)
		return "has a path; give only scheme, host and port";
	*host = xstrndup(h, (size_t)(he - h));
	return NULL;
}

static void
k_url(struct parse *ps, const struct key_def *k, const char *value)
{
	struct endpoint ep;
	bool implicit;
	char *host = NULL;
	int port = 0;
	const char *why;

	(void)k;
	endpoint_current(ps, &ep);
	why = url_split(value, &ep, &implicit, &host, &port);
	if (why) {
		perr(ps, ps->lineno, "url = \"%s\" %s; write e.g. url = %ss://%s or %s://%s:%d",
		     value, why, ep.scheme, ep.example_host, ep.scheme, ep.example_host,
		     ep.port_starttls);
		return;
	}
	set_string(ep.url, value);
	free(*ep.host);
	*ep.host = host;
	*ep.port = (int)port;
	ps->url_implicit = implicit;
	if (ps->tls_req < 0)
		*ep.tls = implicit ? TLS_IMPLICIT : TLS_STARTTLS;
	else if (!tls_fits(implicit, ps->tls_req))
		tls_report_misfit(ps, &ep, ps->tls_req);
	else
		*ep.tls = (enum tls_mode)ps->tls_req;
}

static void
k_tls(struct parse *ps, const struct key_def *k, const char *value)
{
	struct endpoint ep;
	int mode;

	(void)k;
	endpoint_current(ps, &ep);
	if (strcasecmp(value, "implicit") == 0)
		mode = TLS_IMPLICIT;
	else if (strcasecmp(value, "starttls") == 0)
		mode = TLS_STARTTLS;
	else if (strcasecmp(value, "none") == 0)
		mode = TLS_NONE;
	else {
		perr(ps, ps->lineno, "tls = \"%s\" is not a TLS mode; write implicit, starttls or none",
		     value);
		return;
	}
	ps->tls_req = mode;
	if (ps->url_implicit >= 0 && !tls_fits(ps->url_implicit, mode))
		tls_report_misfit(ps, &ep, mode);
	else
		*ep.tls = (enum tls_mode)mode;
}

static void
k_user(struct parse *ps, const struct key_def *k, const char *value)
{
	struct endpoint ep;

	(void)k;
	endpoint_current(ps, &ep);
	set_string(ep.user, value);
}

/* Splits a command line into words on blanks, honouring '…' and "…" (no
 * shell, no expansion). Returns the word count, or -1 on an unclosed quote. */
static int
split_argv(const char *cmd, char ***out)
{
	struct buf word = { 0 };
	char **v = NULL;
	size_t n = 0, cap = 0;
	bool in_word = false;

	for (const char *p = cmd;; p++) {
		if (*p == '\'' || *p == '"') {
			const char *close = strchr(p + 1, *p);
			if (!close)
				goto unclosed;
			buf_add(&word, p + 1, (size_t)(close - p - 1));
			p = close;
			in_word = true;
		} else if (*p && !isblank((unsigned char)*p)) {
			buf_addc(&word, *p);
			in_word = true;
		} else if (in_word) {
			v = xreallocarray_grow(v, &cap, n + 2, sizeof(*v));
			v[n++] = buf_steal(&word);
			in_word = false;
		}
		if (!*p)
			break;
	}
	buf_free(&word);
	if (v)
		v[n] = NULL;
	*out = v;
	return (int)n;
unclosed:
	buf_free(&word);
	strv_free(v, n);
	*out = NULL;
	return -1;
}

static bool
credential_name_ok(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Checks the value of a secret key; the message never shows a password. */
static bool
secret_value_ok(struct parse *ps, const char *key, const char *value)
{
	if (strcmp(key, "password_command") == 0) {
		char **argv;
		int n = split_argv(value, &argv);
		if (n > 0)
			strv_free(argv, (size_t)n);
		if (n <= 0) {
			perr(ps, ps->lineno, "password_command has an unclosed quote; "
			     "close it, or quote the whole argument with ' or \"");
			return false;
		}
	} else if (strcmp(key, "credential") == 0 && !credential_name_ok(value)) {
		perr(ps, ps->lineno, "credential = \"%s\" is not a credential name; "
		     "give the name used in LoadCredential=, without a /", value);
		return false;
	}
	return true;
}

static void
k_secret(struct parse *ps, const struct key_def *k, const char *value)
{
	struct endpoint ep;
	struct config_secret *s;
	char **slots[4];
	static const char *names[] = { "password", "password_file", "password_command", "credential" };

	endpoint_current(ps, &ep);
	s = ep.secret;
	slots[0] = &s->password;
	slots[1] = &s->password_file;
	slots[2] = &s->password_command;
	slots[3] = &s->credential;
	for (size_t i = 0; i < 4; i++) {
		if (*slots[i] && strcmp(names[i], k->name) != 0) {
			perr(ps, ps->lineno, "[%s] has both %s and %s; keep only one",
			     ps->label, names[i], k->name);
			return;
		}
	}
	if (!secret_value_ok(ps, k->name, value))
		return;
	for (size_t i = 0; i < 4; i++)
		if (strcmp(names[i], k->name) == 0)
			set_string(slots[i], value);
}

static void
k_ca_file(struct parse *ps, const struct key_def *k, const char *value)
{
	struct endpoint ep;
	struct stat st;

	(void)k;
	endpoint_current(ps, &ep);
	if (access(value, R_OK) != 0 || stat(value, &st) != 0 || !S_ISREG(st.st_mode)) {
		perr(ps, ps->lineno, "ca_file %s cannot be read (%s); fix the path or remove ca_file",
		     value, errno ? strerror(errno) : "not a regular file");
		return;
	}
	set_string(ep.ca_file, value);
}

/* ---- key handlers: values shared by several sections ---- */

static void
k_duration(struct parse *ps, const struct key_def *k, const char *value)
{
	int64_t v;
	char min[32];

	if (time_parse_duration(value, &v) < 0) {
		perr(ps, ps->lineno, "%s = \"%s\" is not a duration; write e.g. 30s, 5m, 2h, 7d",
		     k->name, value);
		return;
	}
	if (v < k->min) {
		if (k->min % 60 == 0)
			snprintf(min, sizeof(min), "%" PRId64 "m", k->min / 60);
		else
			snprintf(min, sizeof(min), "%" PRId64 "s", k->min);
		perr(ps, ps->lineno, "%s = %s is too short; write at least %s", k->name, value, min);
		return;
	}
	*(int64_t *)(void *)((char *)sect_base(ps) + k->off) = v;
}

static void
k_folders(struct parse *ps, const struct key_def *k, const char *value)
{
	struct config_account *a = &ps->c->accounts[ps->acct];
	char **items;
	size_t n;

	(void)k;
	if (strcasecmp(value, "auto") == 0) {
		strv_free(a->folders, a->n_folders);
		a->folders = NULL;
		a->n_folders = 0;
		return;
	}
	n = split_list(value, &items);
	if (n == 0) {
		perr(ps, ps->lineno, "folders = \"%s\" names no folder; write auto, or e.g. "
		     "folders = INBOX, Sent", value);
		free(items);
		return;
	}
	strv_free(a->folders, a->n_folders);
	a->folders = items;
	a->n_folders = n;
}

/* ---- key handlers: [nudges] ---- */

static void
k_daily_cap(struct parse *ps, const struct key_def *k, const char *value)
{
	char *end;
	long v;

	(void)k;
	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || *end || errno || v < 0 || v > 1000) {
		perr(ps, ps->lineno, "daily_cap = \"%s\" is not a number from 0 to 1000; "
		     "write e.g. daily_cap = 5", value);
		return;
	}
	ps->c->nudges.daily_cap = (int)v;
}

static void
k_digest(struct parse *ps, const struct key_def *k, const char *value)
{
	struct config_nudges *n = &ps->c->nudges;
	int minute;

	(void)k;
	if (strcasecmp(value, "off") == 0) {
		n->digest = false;
		return;
	}
	if (strncasecmp(value, "daily", 5) != 0 || !isspace((unsigned char)value[5])) {
		minute = -1;
	} else {
		const char *p = value + 5;
		while (isspace((unsigned char)*p))
			p++;
		if (time_parse_clock(p, &minute) < 0)
			minute = -1;
	}
	if (minute < 0) {
		perr(ps, ps->lineno, "digest = \"%s\" is not a digest setting; "
		     "write off, or e.g. daily 08:30", value);
		return;
	}
	n->digest = true;
	n->digest_minute = minute;
}

static void
k_quiet_hours(struct parse *ps, const struct key_def *k, const char *value)
{
	struct config_nudges *n = &ps->c->nudges;
	const char *dash = strchr(value, '-');
	int start = -1, end = -1;

	(void)k;
	if (strcasecmp(value, "off") == 0) {
		n->quiet = false;
		return;
	}
	if (dash) {
		char *a = trim_dup(value, (size_t)(dash - value));
		char *b = trim_dup(dash + 1, strlen(dash + 1));
		if (time_parse_clock(a, &start) < 0 || time_parse_clock(b, &end) < 0)
			start = -1;
		free(a);
		free(b);
	}
	if (start < 0 || start == end) {
		perr(ps, ps->lineno, "quiet_hours = \"%s\" is not a time range; "
		     "write off, or e.g. 20:00-08:00", value);
		return;
	}
	n->quiet = true;
	n->quiet_start = start;
	n->quiet_end = end;
}

static void
k_ignore(struct parse *ps, const struct key_def *k, const char *value)
{
	struct config_nudges *n = &ps->c->nudges;
	char **items;
	size_t count = split_list(value, &items);

	(void)k;
	for (size_t i = 0; i < count; i++) {
		if (strpbrk(items[i], " \t")) {
			perr(ps, ps->lineno, "ignore: \"%s\" holds a blank; separate patterns "
			     "with commas, e.g. *@noreply.*, *@*.mailchimp.com", items[i]);
			strv_free(items, count);
			return;
		}
		for (char *p = items[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	strv_free(n->ignore, n->n_ignore);
	n->ignore = items;
	n->n_ignore = count;
}

static void
k_drafts(struct parse *ps, const struct key_def *k, const char *value)
{
	bool *field = &ps->c->nudges.drafts;

	(void)k;
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
	    strcasecmp(value, "on") == 0)
		*field = true;
	else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
		 strcasecmp(value, "off") == 0)
		*field = false;
	else
		perr(ps, ps->lineno, "drafts = \"%s\" is neither yes nor no; write drafts = yes "
		     "for a ready thank-you in the Drafts folder, or drafts = no", value);
}

/* ---- the key tables ---- */

#define ACCT(f) offsetof(struct config_account, f)
#define SMTP(f) offsetof(struct config_smtp, f)
#define NUDG(f) offsetof(struct config_nudges, f)

static const struct key_def general_keys[] = {
	{ "database", k_database, 0, 0, false },
	{ "owner", k_owner, 0, 0, false },
	{ "identities", k_identities, 0, 0, true },
	{ "language", k_language, 0, 0, false },
	{ "timezone", k_timezone, 0, 0, false },
	{ "control_socket", k_control_socket, 0, 0, false },
	{ NULL, NULL, 0, 0, false },
};

static const struct key_def account_keys[] = {
	{ "url", k_url, 0, 0, false },
	{ "tls", k_tls, 0, 0, false },
	{ "user", k_user, 0, 0, false },
	{ "password", k_secret, 0, 0, false },
	{ "password_file", k_secret, 0, 0, false },
	{ "password_command", k_secret, 0, 0, false },
	{ "credential", k_secret, 0, 0, false },
	{ "ca_file", k_ca_file, 0, 0, false },
	{ "folders", k_folders, 0, 0, false },
	{ "poll", k_duration, ACCT(poll), 30, false },
	{ "timeout", k_duration, ACCT(timeout), 1, false },
	{ "first_sync_window", k_duration, ACCT(first_sync_window), 0, false },
	{ NULL, NULL, 0, 0, false },
};

static const struct key_def smtp_keys[] = {
	{ "url", k_url, 0, 0, false },
	{ "tls", k_tls, 0, 0, false },
	{ "user", k_user, 0, 0, false },
	{ "password", k_secret, 0, 0, false },
	{ "password_file", k_secret, 0, 0, false },
	{ "password_command", k_secret, 0, 0, false },
	{ "credential", k_secret, 0, 0, false },
	{ "ca_file", k_ca_file, 0, 0, false },
	{ "timeout", k_duration, SMTP(timeout), 1, false },
	{ NULL, NULL, 0, 0, false },
};

static const struct key_def nudges_keys[] = {
	{ "thank_after", k_duration, NUDG(thank_after), 0, false },
	{ "keep_in_touch", k_duration, NUDG(keep_in_touch), 0, false },
	{ "follow_up_after", k_duration, NUDG(follow_up_after), 0, false },
	{ "prospect_gap", k_duration, NUDG(prospect_gap), 0, false },
	{ "reciprocity_after", k_duration, NUDG(reciprocity_after), 0, false },
	{ "daily_cap", k_daily_cap, 0, 0, false },
	{ "digest", k_digest, 0, 0, false },
	{ "quiet_hours", k_quiet_hours, 0, 0, false },
	{ "ignore", k_ignore, 0, 0, true },
	{ "drafts", k_drafts, 0, 0, false },
	{ NULL, NULL, 0, 0, false },
};

#define TAG(f) offsetof(struct config_tag, f)

static const struct key_def tag_keys[] = {
	{ "keep_in_touch", k_duration, TAG(keep_in_touch), 60, false },
	{ "follow_up_after", k_duration, TAG(follow_up_after), 60, false },
	{ "thank_after", k_duration, TAG(thank_after), 60, false },
	{ NULL, NULL, 0, 0, false },
};

static const struct key_def *
keys_of(enum sect_kind kind)
{
	switch (kind) {
	case SECT_GENERAL:
		return general_keys;
	case SECT_ACCOUNT:
		return account_keys;
	case SECT_SMTP:
		return smtp_keys;
	case SECT_NUDGES:
		return nudges_keys;
	case SECT_TAG:
		return tag_keys;
	default:
		return NULL;
	}
}

/* ---- sections ---- */

static void
account_init(struct config_account *a, const char *name, int line)
{
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->line = line;
	a->tls = TLS_IMPLICIT;
	a->poll = 5 * 60;
	a->timeout = 60;
	a->first_sync_window = (int64_t)180 * 86400;
}

static void
section_account(struct parse *ps, const char *name)
{
	struct config *c = ps->c;

	if (!*name) {
		perr(ps, ps->lineno, "[account] has no name; write e.g. [account work]");
		ps->kind = SECT_SKIP;
		return;
	}
	for (size_t i = 0; i < c->n_accounts; i++) {
		if (strcmp(c->accounts[i].name, name) == 0) {
			perr(ps, ps->lineno, "duplicate [account %s] (first on line %d); "
			     "give each account its own name", name, c->accounts[i].line);
			ps->kind = SECT_SKIP;
			return;
		}
	}
	c->accounts = xrealloc(c->accounts, (c->n_accounts + 1) * sizeof(*c->accounts));
	account_init(&c->accounts[c->n_accounts], name, ps->lineno);
	ps->acct = c->n_accounts++;
	ps->kind = SECT_ACCOUNT;
	ps->sect_id = 3 + (int)ps->acct;
}

/* [tag client]: per-tag delays. Tags are stored in lower case. */
static void
section_tag(struct parse *ps, const char *name)
{
	struct config *c = ps->c;
	char *tag = xstrdup(name);

	for (char *p = tag; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ps->kind = SECT_SKIP;
	if (!*tag || strpbrk(tag, " \t")) {
		perr(ps, ps->lineno, "[tag %s] needs one tag name; write e.g. [tag client]", name);
		free(tag);
		return;
	}
	for (size_t i = 0; i < c->n_tags; i++) {
		if (strcmp(c->tags[i].name, tag) == 0) {
			perr(ps, ps->lineno, "duplicate [tag %s] (first on line %d); merge them",
			     tag, c->tags[i].line);
			free(tag);
			return;
		}
	}
	c->tags = xrealloc(c->tags, (c->n_tags + 1) * sizeof(*c->tags));
	memset(&c->tags[c->n_tags], 0, sizeof(*c->tags));
	c->tags[c->n_tags].name = tag;
	c->tags[c->n_tags].line = ps->lineno;
	ps->tag = c->n_tags++;
	ps->kind = SECT_TAG;
	/* Below every account's id (3 + index) for the duplicate-key check. */
	ps->sect_id = -1 - (int)ps->tag;
}

static void
section_unknown(struct parse *ps, const char *name)
{
	static const char *known[] = { "general", "smtp", "nudges", "account", "tag" };
	size_t wl = strcspn(name, " \t");
	char *word = xstrndup(name, wl);

	ps->kind = SECT_SKIP;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (edit_distance(word, known[i]) <= 2) {
			perr(ps, ps->lineno, "unknown section [%s]; did you mean [%s%s]?",
			     name, known[i], name + wl);
			free(word);
			return;
		}
	}
	free(word);
	/* [tag NAME] is optional and rare: not offered here. */
	perr(ps, ps->lineno, "unknown section [%s]; use [general], [account NAME], "
	     "[smtp] or [nudges]", name);
}

static void
section_enter(struct parse *ps, const char *name)
{
	free(ps->label);
	ps->label = xstrdup(name);
	ps->tls_req = -1;
	ps->url_implicit = -1;
	if (strcmp(name, "general") == 0) {
		ps->kind = SECT_GENERAL;
		ps->sect_id = 0;
		if (!ps->general_line)
			ps->general_line = ps->lineno;
	} else if (strcmp(name, "smtp") == 0) {
		ps->kind = SECT_SMTP;
		ps->sect_id = 1;
		if (!ps->c->smtp.present) {
			ps->c->smtp.timeout = 60;
			ps->smtp_line = ps->lineno;
		}
		ps->c->smtp.present = true;
	} else if (strcmp(name, "nudges") == 0) {
		ps->kind = SECT_NUDGES;
		ps->sect_id = 2;
	} else if (strncmp(name, "account", 7) == 0 &&
		   (!name[7] || isspace((unsigned char)name[7]))) {
		char *acct = trim_dup(name + 7, strlen(name + 7));
		free(ps->label);
		ps->label = xasprintf("account %s", acct);
		section_account(ps, acct);
		free(acct);
	} else if (strncmp(name, "tag", 3) == 0 && isspace((unsigned char)name[3])) {
		char *tag = trim_dup(name + 3, strlen(name + 3));
		free(ps->label);
		ps->label = xasprintf("tag %s", tag);
		section_tag(ps, tag);
		free(tag);
	} else {
		section_unknown(ps, name);
	}
}

/* ---- the line reader inih pulls from ---- */

/* Where inih would stop: at one of chars, or at a ';' comment after a blank. */
static const char *
find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !(chars && strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* Sees a line before inih does; returns what inih should be given for it. */
static const char *
line_classify(struct parse *ps, const char *p)
{
	const char *end;

	if (!*p || *p == ';' || *p == '#')
		return "";   /* nothing for inih, however long the comment */
	if (*p == '[') {
		end = find_chars_or_comment(p + 1, "]");
		if (*end != ']') {
			perr(ps, ps->lineno, "section header \"%s\" has no closing ]; "
			     "write e.g. [account work]", p);
			ps->kind = SECT_SKIP;
		} else {
			char *name = trim_dup(p + 1, (size_t)(end - p - 1));
			section_enter(ps, name);
			free(name);
		}
		return "";
	}
	end = find_chars_or_comment(p, "=:");
	if (*end != '=' && *end != ':') {
		perr(ps, ps->lineno, "\"%s\" is not a key = value line; add the \"=\", "
		     "or start a comment with ;", p);
		return "";
	}
	return p;
}

/* inih copies a line into a fixed buffer of num bytes; for a longer key line
 * it gets "name=" and the handler takes the value kept here instead. */
static void
line_shorten(struct parse *ps, const char *p, char *str, int num)
{
	const char *sep = find_chars_or_comment(p, "=:");
	const char *value = sep + 1;
	const char *vend = find_chars_or_comment(value, NULL);

	free(ps->long_value);
	ps->long_value = trim_dup(value, (size_t)(vend - value));
	snprintf(str, (size_t)num, "%.*s=\n", (int)(sep - p) < num - 3 ? (int)(sep - p) : num - 3, p);
}

static char *
line_reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	const char *p;
	ssize_t n;

	free(ps->long_value);
	ps->long_value = NULL;
	n = getline(&ps->line, &ps->line_cap, ps->fp);
	if (n < 0)
		return NULL;
	ps->lineno++;
	while (n > 0 && (ps->line[n - 1] == '\n' || ps->line[n - 1] == '\r'))
		ps->line[--n] = '\0';
	p = ps->line;
	if (ps->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (isspace((unsigned char)*p))
		p++;
	p = line_classify(ps, p);
	if (strlen(p) + 2 > (size_t)num)
		line_shorten(ps, p, str, num);
	else
		snprintf(str, (size_t)num, "%s\n", p);
	return str;
}

/* ---- the inih handler ---- */

static void
report_unknown_key(struct parse *ps, const struct key_def *keys, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (const struct key_def *k = keys; k->name; k++) {
		size_t d = edit_distance(name, k->name);
		if (d < best_d) {
			best_d = d;
			best = k->name;
		}
	}
	if (best)
		perr(ps, ps->lineno, "unknown key \"%s\" in [%s]; did you mean \"%s\"?",
		     name, ps->label, best);
	else
		perr(ps, ps->lineno, "unknown key \"%s\" in [%s]; see merci.conf(5) for the keys "
		     "of this section", name, ps->label);
}

static bool
key_was_seen(const struct parse *ps, int sect_id, const char *name)
{
	for (size_t i = 0; i < ps->n_seen; i++)
		if (ps->seen[i].sect_id == sect_id && strcmp(ps->seen[i].name, name) == 0)
			return true;
	return false;
}

/* False, after a message, when the key was already given in this section. */
static bool
key_first_time(struct parse *ps, const char *name)
{
	for (size_t i = 0; i < ps->n_seen; i++) {
		struct seen_key *s = &ps->seen[i];
		if (s->sect_id == ps->sect_id && strcmp(s->name, name) == 0) {
			perr(ps, ps->lineno, "duplicate key \"%s\" in [%s] (first on line %d); "
			     "keep only one", name, ps->label, s->line);
			return false;
		}
	}
	ps->seen = xreallocarray_grow(ps->seen, &ps->cap_seen, ps->n_seen + 1, sizeof(*ps->seen));
	ps->seen[ps->n_seen++] = (struct seen_key){ ps->sect_id, name, ps->lineno };
	return true;
}

static int
ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	const struct key_def *keys, *k;

	(void)section;   /* ours is longer-lived and has the header's line */
	if (ps->long_value)
		value = ps->long_value;
	if (strcmp(name, "password") == 0)
		ps->has_password = true;
	if (ps->kind == SECT_NONE) {
		perr(ps, ps->lineno, "%s is set before any section; move it under [general] "
		     "or the section it belongs to", name);
		return 1;
	}
	if (!(keys = keys_of(ps->kind)))
		return 1;
	for (k = keys; k->name && strcmp(k->name, name) != 0; k++)
		;
	if (!k->name) {
		report_unknown_key(ps, keys, name);
		return 1;
	}
	if (!key_first_time(ps, k->name))
		return 1;
	if (has_control(value))
		perr(ps, ps->lineno, "%s in [%s] holds a control character; remove it",
		     name, ps->label);
	else if (!*value && !k->may_be_empty)
		perr(ps, ps->lineno, "%s in [%s] is empty; give it a value or remove the line",
		     name, ps->label);
	else
		k->fn(ps, k, value);
	return 1;
}

/* ---- defaults and whole-file checks ---- */

static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return h;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

/* systemd passes a colon-separated list when several directories are set. */
static char *
first_dir(const char *env)
{
	const char *v = getenv(env);

	if (!v || !*v)
		return NULL;
	return xstrndup(v, strcspn(v, ":"));
}

static char *
default_database(void)
{
	char *d = first_dir("STATE_DIRECTORY");
	const char *x = getenv("XDG_STATE_HOME");
	char *path;

	if (d)
		path = xasprintf("%s/merci.db", d);
	else if (x && *x)
		path = xasprintf("%s/merci/merci.db", x);
	else
		path = xasprintf("%s/.local/state/merci/merci.db", home_dir());
	free(d);
	return path;
}

static char *
default_control_socket(void)
{
	char *d = first_dir("RUNTIME_DIRECTORY");
	const char *x = getenv("XDG_RUNTIME_DIR");
	char *path;

	if (d)
		path = xasprintf("%s/control", d);
	else if (x && *x)
		path = xasprintf("%s/merci/control", x);
	else if (geteuid() == 0)
		path = xstrdup("/run/merci/control");
	else
		path = xasprintf("%s/.local/state/merci/control", home_dir());
	free(d);
	return path;
}

static bool
secret_was_seen(const struct parse *ps, int sect_id)
{
	return key_was_seen(ps, sect_id, "password") ||
	       key_was_seen(ps, sect_id, "password_file") ||
	       key_was_seen(ps, sect_id, "password_command") ||
	       key_was_seen(ps, sect_id, "credential");
}

/* Reports what is missing; a key given with a bad value was reported already. */
static void
check_endpoint(struct parse *ps, const char *label, int line, int sect_id,
	       const struct endpoint *ep, bool need_user)
{
	const struct config_secret *s = ep->secret;
	bool has_secret = s->password || s->password_file || s->password_command || s->credential;
	bool given_secret = has_secret || secret_was_seen(ps, sect_id);
	bool given_user = *ep->user || key_was_seen(ps, sect_id, "user");

	if (!*ep->url && !key_was_seen(ps, sect_id, "url"))
		perr(ps, line, "[%s] has no url; add url = %ss://%s", label, ep->scheme,
		     ep->example_host);
	if (!given_user && (need_user || given_secret))
		perr(ps, line, "[%s] has no user; add user = you@example.org", label);
	if (!given_secret && (need_user || given_user))
		perr(ps, line, "[%s] has no password source; add password_file = PATH, "
		     "password_command = COMMAND or credential = NAME", label);
}

static void
check_sections(struct parse *ps)
{
	struct config *c = ps->c;
	struct endpoint ep;

	if (!ps->general_line)
		perr(ps, 1, "no [general] section; add [general] with "
		     "owner = Your Name <you@example.org>");
	else if (!c->owner_email && !key_was_seen(ps, 0, "owner"))
		perr(ps, ps->general_line, "[general] has no owner; add "
		     "owner = Your Name <you@example.org>");
	if (c->n_accounts == 0)
		perr(ps, 1, "no [account NAME] section; add one, e.g. [account work] "
		     "with url, user and password_file");
	for (size_t i = 0; i < c->n_accounts; i++) {
		char *label = xasprintf("account %s", c->accounts[i].name);
		ps->kind = SECT_ACCOUNT;
		ps->acct = i;
		endpoint_current(ps, &ep);
		check_endpoint(ps, label, c->accounts[i].line, 3 + (int)i, &ep, true);
		free(label);
	}
	if (c->smtp.present) {
		ps->kind = SECT_SMTP;
		endpoint_current(ps, &ep);
		check_endpoint(ps, "smtp", ps->smtp_line, 1, &ep, false);
	}
}

/* The owner is an identity too, and comes first. */
static void
identities_finish(struct config *c)
{
	char **v;
	size_t n = 0;

	if (!c->owner_email)
		return;
	v = xmalloc((c->n_identities + 1) * sizeof(*v));
	v[n++] = xstrdup(c->owner_email);
	for (size_t i = 0; i < c->n_identities; i++) {
		if (strcmp(c->identities[i], c->owner_email) == 0)
			free(c->identities[i]);
		else
			v[n++] = c->identities[i];
	}
	free(c->identities);
	c->identities = v;
	c->n_identities = n;
}

static void
defaults_finish(struct config *c)
{
	if (!c->database)
		c->database = default_database();
	if (!c->control_socket)
		c->control_socket = default_control_socket();
	if (!c->language)
		c->language = xstrdup("fr");
	identities_finish(c);
}

/* An inline password is only acceptable in a file nobody else can read. */
static void
check_password_privacy(struct parse *ps)
{
	struct stat st;

	if (!ps->has_password || fstat(fileno(ps->fp), &st) != 0)
		return;
	if (st.st_mode & 077)
		perr(ps, 0, "holds a password but is readable by others (mode %04o); "
		     "run chmod 600 %s or use password_file",
		     (unsigned)(st.st_mode & 07777), ps->path);
	else if (st.st_uid != geteuid())
		perr(ps, 0, "holds a password but belongs to uid %u, not to you (uid %u); "
		     "chown it or use password_file", (unsigned)st.st_uid, (unsigned)geteuid());
}

static struct config *
config_new(const char *path)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->path = xstrdup(path);
	c->nudges.thank_after = 2 * 86400;
	c->nudges.keep_in_touch = 90 * 86400;
	c->nudges.follow_up_after = 5 * 86400;
	c->nudges.prospect_gap = 30 * 86400;
	c->nudges.reciprocity_after = 30 * 86400;
	c->nudges.daily_cap = 5;
	c->nudges.digest = true;
	c->nudges.digest_minute = 8 * 60 + 30;
	c->nudges.quiet = true;
	c->nudges.quiet_start = 20 * 60;
	c->nudges.quiet_end = 8 * 60;
	return c;
}

int
config_load(const char *path, struct config **out, char **err)
{
	struct parse ps = { 0 };
	int r;

	*out = NULL;
	*err = NULL;
	ps.path = path;
	ps.fp = fopen(path, "re");
	if (!ps.fp) {
		*err = xasprintf("%s: cannot read: %s; check the path given with --config",
				 path, strerror(errno));
		return -1;
	}
	ps.c = config_new(path);
	ps.tls_req = ps.url_implicit = -1;
	r = ini_parse_stream(line_reader, &ps, ini_handler_cb, &ps);
	if (r < 0 || ferror(ps.fp))
		perr(&ps, 0, "cannot read: %s; check the file", strerror(errno ? errno : EIO));
	check_sections(&ps);
	check_password_privacy(&ps);
	defaults_finish(ps.c);
	fclose(ps.fp);
	free(ps.line);
	free(ps.long_value);
	free(ps.label);
	free(ps.seen);
	if (ps.errs.len) {
		*err = buf_steal(&ps.errs);
		config_free(ps.c);
		return -1;
	}
	buf_free(&ps.errs);
	*out = ps.c;
	return 0;
}

static void
secret_free(struct config_secret *s)
{
	if (s->password)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	free(s->password_file);
	free(s->password_command);
	free(s->credential);
}

void
config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_accounts; i++) {
		struct config_account *a = &c->accounts[i];
		free(a->name);
		free(a->url);
		free(a->host);
		free(a->user);
		secret_free(&a->secret);
		free(a->ca_file);
		strv_free(a->folders, a->n_folders);
	}
	free(c->accounts);
	for (size_t i = 0; i < c->n_tags; i++)
		free(c->tags[i].name);
	free(c->tags);
	free(c->smtp.url);
	free(c->smtp.host);
	free(c->smtp.user);
	secret_free(&c->smtp.secret);
	free(c->smtp.ca_file);
	strv_free(c->nudges.ignore, c->nudges.n_ignore);
	strv_free(c->identities, c->n_identities);
	free(c->path);
	free(c->database);
	free(c->owner_name);
	free(c->owner_email);
	free(c->language);
	free(c->timezone);
	free(c->control_socket);
	free(c);
}

const struct config_tag *
config_tag_find(const struct config *c, const char *tag)
{
	for (size_t i = 0; tag && i < c->n_tags; i++)
		if (strcasecmp(c->tags[i].name, tag) == 0)
			return &c->tags[i];
	return NULL;
}

char *
config_default_path(void)
{
	const char *e = getenv("MERCI_CONFIG");
	char *d;

	if (e && *e)
		return xstrdup(e);
	if ((d = first_dir("CONFIGURATION_DIRECTORY"))) {
		char *p = xasprintf("%s/merci.conf", d);
		free(d);
		return p;
	}
	e = getenv("XDG_CONFIG_HOME");
	if (e && *e)
		return xasprintf("%s/merci/merci.conf", e);
	if (geteuid() == 0)
		return xstrdup("/etc/merci/merci.conf");
	return xasprintf("%s/.config/merci/merci.conf", home_dir());
}

bool
config_is_identity(const struct config *c, const char *email)
{
	if (!c || !email)
		return false;
	for (size_t i = 0; i < c->n_identities; i++)
		if (strcasecmp(c->identities[i], email) == 0)
			return true;
	return false;
}

/* ---- secrets ---- */

/* Keeps the first line of data (without its newline) and wipes the rest. */
static char *
secret_first_line(struct buf *data)
{
	size_t n = strcspn(data->data ? data->data : "", "\r\n");
	char *s = xstrndup(data->data ? data->data : "", n);

	if (data->data)
		explicit_bzero(data->data, data->cap);
	buf_free(data);
	return s;
}

/* Reads at most SECRET_MAX bytes of fd into data. */
static int
read_fd(int fd, struct buf *data)
{
	char chunk[512];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			explicit_bzero(chunk, sizeof(chunk));
			return -1;
		}
		if (data->len < SECRET_MAX)
			buf_add(data, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	return 0;
}

/* Why a password file is not private enough, or NULL when it is. */
static char *
privacy_problem(const char *path, const char *what, const struct stat *st)
{
	if (st->st_uid != geteuid())
		return xasprintf("%s %s belongs to uid %u, not to you; chown it to "
				 "uid %u and run chmod 600 %s", what, path,
				 (unsigned)st->st_uid, (unsigned)geteuid(), path);
	if (st->st_mode & 077)
		return xasprintf("%s %s is readable by others (mode %04o); run chmod 600 %s",
				 what, path, (unsigned)(st->st_mode & 07777), path);
	return NULL;
}

static int
secret_from_file(const char *path, const char *what, bool check_private,
		 char **out, char **err)
{
	struct buf data = { 0 };
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*err = xasprintf("%s %s cannot be read: %s; check the path", what, path,
				 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*err = xasprintf("%s %s is not a regular file; point it at a file "
				 "holding the password", what, path);
		goto fail;
	}
	if (check_private && (*err = privacy_problem(path, what, &st)))
		goto fail;
	if (read_fd(fd, &data) < 0) {
		*err = xasprintf("%s %s cannot be read: %s", what, path, strerror(errno));
		goto fail;
	}
	close(fd);
	*out = secret_first_line(&data);
	if (!**out) {
		free(*out);
		*out = NULL;
		*err = xasprintf("%s %s is empty; write the password on its first line", what, path);
		return -1;
	}
	return 0;
fail:
	close(fd);
	if (data.data)
		explicit_bzero(data.data, data.cap);
	buf_free(&data);
	return -1;
}

static int
secret_from_credential(const char *name, char **out, char **err)
{
	char *dir = first_dir("CREDENTIALS_DIRECTORY");
	char *path, *what;
	int r;

	if (!dir) {
		*err = xasprintf("credential = %s needs $CREDENTIALS_DIRECTORY "
				 "(set by systemd LoadCredential=)", name);
		return -1;
	}
	path = xasprintf("%s/%s", dir, name);
	what = xasprintf("credential %s:", name);
	/* systemd owns the credential files and their modes. */
	r = secret_from_file(path, what, false, out, err);
	free(what);
	free(path);
	free(dir);
	return r;
}

/* Child side of run_capture: only async-signal-safe calls until exec. */
static void __attribute__((noreturn))
child_exec(char **argv, int devnull, int wfd)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(devnull, 0) < 0 || dup2(wfd, 1) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

/* Reads the child's stdout until EOF or the deadline; kills it past that. */
static int
collect_output(pid_t pid, int rfd, struct buf *data, bool *timed_out)
{
	struct timespec start, now;
	char chunk[512];

	clock_gettime(CLOCK_MONOTONIC, &start);
	*timed_out = false;
	for (;;) {
		struct pollfd pfd = { .fd = rfd, .events = POLLIN };
		long elapsed;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= COMMAND_TIMEOUT_MS) {
			*timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)(COMMAND_TIMEOUT_MS - elapsed)) < 0 && errno != EINTR)
			break;
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(rfd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (data->len < SECRET_MAX)
			buf_add(data, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	return 0;
}

/* Runs argv without a shell, stdin from /dev/null; returns the wait status
 * (or -1 when it could not start) and the output in data. */
static int
run_capture(char **argv, struct buf *data, bool *timed_out)
{
	int pfd[2], devnull, status = -1;
	pid_t pid;

	*timed_out = false;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return -1;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		close(devnull);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		child_exec(argv, devnull, pfd[1]);
	close(pfd[1]);
	close(devnull);
	if (pid > 0) {
		collect_output(pid, pfd[0], data, timed_out);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(pfd[0]);
	return status;
}

static int
secret_from_command(const char *cmd, char **out, char **err)
{
	struct buf data = { 0 };
	char **argv;
	bool timed_out;
	int n = split_argv(cmd, &argv), status;

	if (n <= 0) {
		*err = xstrdup("password_command is empty or has an unclosed quote; fix it");
		return -1;
	}
	status = run_capture(argv, &data, &timed_out);
	if (timed_out)
		*err = xasprintf("password_command \"%s\" did not finish within %d s; "
				 "make it run without asking anything", argv[0],
				 COMMAND_TIMEOUT_MS / 1000);
	else if (status == -1)
		*err = xasprintf("password_command \"%s\" could not be started: %s",
				 argv[0], strerror(errno));
	else if (WIFSIGNALED(status))
		*err = xasprintf("password_command \"%s\" was killed by signal %d; "
				 "run it by hand to see why", argv[0], WTERMSIG(status));
	else if (WEXITSTATUS(status) == 127)
		*err = xasprintf("password_command \"%s\" could not be run (exit status 127); "
				 "check that the program exists and is in PATH", argv[0]);
	else if (WEXITSTATUS(status) != 0)
		*err = xasprintf("password_command \"%s\" exited with status %d; "
				 "run it by hand to see why", argv[0], WEXITSTATUS(status));
	if (!*err) {
		*out = secret_first_line(&data);
		if (!**out) {
			free(*out);
			*out = NULL;
			*err = xasprintf("password_command \"%s\" printed nothing; "
					 "make it print the password on its first line", argv[0]);
		}
	}
	if (data.data)
		explicit_bzero(data.data, data.cap);
	buf_free(&data);
	strv_free(argv, (size_t)n);
	return *err ? -1 : 0;
}

int
config_secret_read(const struct config *c, const struct config_secret *s,
		   const char *section, char **out, char **err)
{
	char *msg = NULL;
	int r;

	(void)c;   /* the sources are all absolute or relative to the cwd */
	*out = NULL;
	*err = NULL;
	if (s->password) {
		*out = xstrdup(s->password);
		return 0;
	}
	if (s->password_file)
		r = secret_from_file(s->password_file, "password_file", true, out, &msg);
	else if (s->password_command)
		r = secret_from_command(s->password_command, out, &msg);
	else if (s->credential)
		r = secret_from_credential(s->credential, out, &msg);
	else {
		msg = xstrdup("no password source; add password_file, password_command "
			      "or credential");
		r = -1;
	}
	if (r < 0) {
		*err = section ? xasprintf("[%s] %s", section, msg) : xstrdup(msg);
		free(msg);
	}
	return r;
}
