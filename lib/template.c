/* template: finds and renders the owner-facing texts. See template.h. */
#include "template.h"

#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "mailbuild.h"
#include "xalloc.h"

#ifndef PKGDATADIR
#error "PKGDATADIR must name the installed data directory (the Makefile passes it)"
#endif

#define TEMPLATE_MAX (64 * 1024)   /* a template is a short mail */
#define VALUE_MAX 1000             /* one mail-derived value in a body */
#define SUBJECT_MAX 250
#define N_DIRS 4

static const char placeholder_list[] =
	"name, email, evidence, due, kind, id, items or commands";

/* The directories to search, most specific first; entries newly allocated
 * or NULL. */
static void
template_dirs(char *dirs[N_DIRS])
{
	const char *env = getenv("MERCI_TEMPLATE_DIR");
	const char *conf = getenv("CONFIGURATION_DIRECTORY");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	dirs[0] = env && *env ? xstrdup(env) : NULL;
	dirs[1] = conf && *conf ? xasprintf("%s/templates", conf) : NULL;
	if (xdg && *xdg)
		dirs[2] = xasprintf("%s/merci/templates", xdg);
	else
		dirs[2] = home && *home ? xasprintf("%s/.config/merci/templates", home) : NULL;
	dirs[3] = xstrdup(PKGDATADIR "/templates");
}

char *
template_find(const char *lang, const char *kind)
{
	char *dirs[N_DIRS], *found = NULL;

	template_dirs(dirs);
	for (int i = 0; i < N_DIRS; i++) {
		if (dirs[i] && !found) {
			char *p = xasprintf("%s/%s/%s.txt", dirs[i], lang, kind);

			if (access(p, R_OK) == 0)
				found = p;
			else
				free(p);
		}
		free(dirs[i]);
	}
	return found;
}

/* Reads path whole, without CRs (a template saved by a Windows editor). */
static int
template_read(const char *path, char **out, char **err)
{
	FILE *f = fopen(path, "r");
	struct buf b = { 0 };
	int c;

	if (!f) {
		*err = xasprintf("%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	while ((c = getc(f)) != EOF && b.len <= TEMPLATE_MAX)
		if (c != '\r')
			buf_addc(&b, (char)c);
	fclose(f);
	if (b.len > TEMPLATE_MAX) {
		buf_free(&b);
		*err = xasprintf("%s: longer than %d bytes; shorten it", path, TEMPLATE_MAX);
		return -1;
	}
	*out = buf_steal(&b);
	return 0;
}

/* The value of placeholder name (len bytes); *known false when it is none
 * of ours. Mail-derived ones are flagged for sanitising. */
static const char *
template_value(const struct template_vars *v, const char *name, size_t len,
	       bool *known, bool *from_mail)
{
	static const struct { const char *name; size_t off; bool mail; } table[] = {
		{ "name", offsetof(struct template_vars, name), true },
		{ "email", offsetof(struct template_vars, email), true },
		{ "evidence", offsetof(struct template_vars, evidence), true },
		{ "due", offsetof(struct template_vars, due), false },
		{ "kind", offsetof(struct template_vars, kind), false },
		{ "id", offsetof(struct template_vars, id), false },
		{ "items", offsetof(struct template_vars, items), false },
		{ "commands", offsetof(struct template_vars, commands), false },
	};

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0) {
			*known = true;
			*from_mail = table[i].mail;
			return *(const char *const *)((const char *)v + table[i].off);
		}
	}
	*known = false;
	return NULL;
}

/* Appends value to out; in a header, or when it came from mail, on one
 * line with no control character (mailbuild_sanitise). */
static void
template_put(struct buf *out, const char *value, bool one_line)
{
	char *clean;

	if (!value)
		return;
	if (!one_line) {
		buf_adds(out, value);
		return;
	}
	clean = mailbuild_sanitise(value, VALUE_MAX);
	buf_adds(out, clean);
	free(clean);
}

/* Expands the placeholders of s (which starts at line *line of file) into
 * out, counting lines. */
static int
template_expand(const char *s, const char *file, int *line, bool header,
		const struct template_vars *v, struct buf *out, char **err)
{
	while (*s) {
		const char *end, *name;
		const char *value;
		bool known, mail;
		size_t len;

		if (s[0] != '{' || s[1] != '{') {
			*line += *s == '\n';
			buf_addc(out, *s++);
			continue;
		}
		end = strstr(s + 2, "}}");
		if (!end || memchr(s + 2, '\n', (size_t)(end - s - 2))) {
			*err = xasprintf("%s:%d: \"{{\" is not closed by \"}}\" on its line; "
					 "close it or remove it", file, *line);
			return -1;
		}
		for (name = s + 2; *name == ' '; name++)
			;
		for (len = (size_t)(end - name); len && name[len - 1] == ' '; len--)
			;
		value = template_value(v, name, len, &known, &mail);
		if (!known) {
			*err = xasprintf("%s:%d: unknown placeholder {{%.*s}}; use %s", file,
					 *line, (int)len, name, placeholder_list);
			return -1;
		}
		template_put(out, value, header || mail);
		s = end + 2;
	}
	return 0;
}

/* Splits "Subject: ...\n\nbody" into its subject line and body. */
static int
template_split(const char *text, const char *file, const char **subj, size_t *subj_len,
	       const char **body, char **err)
{
	const char *nl = strchr(text, '\n');

	if (strncasecmp(text, "Subject:", 8) != 0 || !nl) {
		*err = xasprintf("%s:1: the first line must be \"Subject: ...\"; add it", file);
		return -1;
	}
	if (nl[1] != '\n') {
		*err = xasprintf("%s:2: a blank line must follow the subject; add one", file);
		return -1;
	}
	*subj = text + 8;
	*subj_len = (size_t)(nl - *subj);
	*body = nl + 2;
	return 0;
}

int
template_render_text(const char *text, const char *file, const struct template_vars *v,
		     char **subject, char **body, char **err)
{
	struct buf s = { 0 }, b = { 0 };
	const char *subj, *rest;
	char *subj_tpl;
	size_t subj_len;
	int line = 1, rc;

	*subject = *body = NULL;
	if (template_split(text, file, &subj, &subj_len, &rest, err) < 0)
		return -1;
	subj_tpl = xstrndup(subj, subj_len);
	rc = template_expand(subj_tpl, file, &line, true, v, &s, err);
	free(subj_tpl);
	line = 3;
	if (rc == 0)
		rc = template_expand(rest, file, &line, false, v, &b, err);
	if (rc < 0) {
		buf_free(&s);
		buf_free(&b);
		return -1;
	}
	*subject = mailbuild_sanitise(s.data ? s.data : "", SUBJECT_MAX);
	buf_free(&s);
	*body = buf_steal(&b);
	return 0;
}

int
template_render(const char *lang, const char *kind, const struct template_vars *v,
		char **subject, char **body, char **err)
{
	char *path = template_find(lang, kind), *text = NULL;
	int rc;

	*subject = *body = NULL;
	if (!path) {
		*err = xasprintf("no template %s/%s.txt in $MERCI_TEMPLATE_DIR, the owner's "
				 "templates directory or %s/templates; reinstall merci or "
				 "add the file", lang, kind, PKGDATADIR);
		return -1;
	}
	rc = template_read(path, &text, err);
	if (rc == 0)
		rc = template_render_text(text, path, v, subject, body, err);
	free(text);
	free(path);
	return rc;
}
