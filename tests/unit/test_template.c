/* test_template: every shipped template renders in French and English,
 * placeholders are checked (an unknown one names FILE:LINE), values from
 * mail cannot break the subject line, and the owner's overrides win over
 * the installed texts. */
#include "unit.h"

#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"
#include "xalloc.h"

static const char *const kinds[] = {
	"thank-you", "reciprocity", "keep-in-touch", "follow-up", "prospecting",
	"digest", "help", NULL,
};

static const struct template_vars sample = {
	.name = "Amélie Tremblay",
	.email = "amelie@example.net",
	.evidence = "Amélie Tremblay vous a présenté Jean Dupont le 20 septembre",
	.due = "2026-09-24",
	.kind = "remercier",
	.id = "42",
	.items = "1. Remercier : Amélie Tremblay\n   elle vous a présenté Jean",
	.commands = "Répondez à ce courriel : fait, reporter 7j, ignorer, sourdine",
};

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

static char *
srcdir(void)
{
	const char *top = getenv("top_srcdir"), *file = __FILE__;
	const char *tail = strstr(file, "tests/unit/test_template.c");

	if (top && *top)
		return xstrdup(top);
	if (tail && tail > file)
		return xstrndup(file, (size_t)(tail - file - 1));
	return xstrdup(".");
}

/* Every template renders, says something concrete, and uses its values. */
static void
test_shipped(const char *lang)
{
	for (size_t i = 0; kinds[i]; i++) {
		char *subject = NULL, *body = NULL, *err = NULL;
		bool nudge = strcmp(kinds[i], "digest") != 0 && strcmp(kinds[i], "help") != 0;

		CHECK(template_render(lang, kinds[i], &sample, &subject, &body, &err) == 0);
		if (err)
			fprintf(stderr, "  %s/%s: %s\n", lang, kinds[i], err);
		CHECK(subject && *subject && !strchr(subject, '\n') && !strstr(subject, "{{"));
		CHECK(body && !strstr(body, "{{") && strstr(body, "fait, reporter 7j"));
		if (nudge)
			CHECK(body && strstr(body, "vous a présenté Jean Dupont"));
		if (nudge)
			CHECK(body && strstr(body, "42"));
		if (strcmp(kinds[i], "digest") == 0)
			CHECK(body && strstr(body, "1. Remercier") && strstr(subject, "2026-09-24"));
		free(subject);
		free(body);
		free(err);
	}
}

static void
expect_error(const char *text, const char *want)
{
	char *subject = NULL, *body = NULL, *err = NULL;

	CHECK(template_render_text(text, "fr/x.txt", &sample, &subject, &body, &err) < 0);
	CHECK(subject == NULL && body == NULL);
	CHECK_STR(err, want);
	free(err);
}

static void
test_errors(void)
{
	expect_error("Subject: Bonjour {{nom}}\n\nx\n",
		     "fr/x.txt:1: unknown placeholder {{nom}}; use name, email, evidence, "
		     "due, kind, id, items or commands");
	expect_error("Subject: x\n\nUn\nDeux {{ name }} {{evdence}}\n",
		     "fr/x.txt:4: unknown placeholder {{evdence}}; use name, email, evidence, "
		     "due, kind, id, items or commands");
	expect_error("Subject: x\n\n{{name\n}}\n",
		     "fr/x.txt:3: \"{{\" is not closed by \"}}\" on its line; close it or remove it");
	expect_error("Objet : x\n\ny\n",
		     "fr/x.txt:1: the first line must be \"Subject: ...\"; add it");
	expect_error("Subject: x\ny\n", "fr/x.txt:2: a blank line must follow the subject; add one");
}

/* A name from mail with CR/LF cannot add a header, in the subject or body. */
static void
test_sanitise(void)
{
	struct template_vars v = sample;
	char *subject = NULL, *body = NULL, *err = NULL;

	v.name = "Eve\r\nBcc: thief@example.net";
	v.evidence = "ligne 1\nligne 2";
	CHECK(template_render_text("Subject: Remercier {{ name }}\n\n{{name}}: {{evidence}}\n{{items}}\n",
				   "t", &v, &subject, &body, &err) == 0);
	CHECK_STR(subject, "Remercier Eve Bcc: thief@example.net");
	CHECK(body && strstr(body, "Eve Bcc: thief@example.net: ligne 1 ligne 2\n1. Remercier"));
	free(subject);
	free(body);
	v.name = NULL;
	CHECK(template_render_text("Subject: a {{name}}b\n\n{{email}}\n", "t", &v, &subject, &body, &err) == 0);
	CHECK_STR(subject, "a b");
	free(subject);
	free(body);
}

/* MERCI_TEMPLATE_DIR, then the owner's directory, then the installed one. */
static void
test_lookup(const char *shipped)
{
	const char *t = getenv("TMPDIR");
	char *dir = xasprintf("%s/merci-tpl-XXXXXX", t && *t ? t : "/tmp");
	char *sub, *path, *found, *subject = NULL, *body = NULL, *err = NULL;
	FILE *f;

	if (!mkdtemp(dir))
		exit(1);
	sub = xasprintf("%s/merci", dir);
	CHECK(mkdir(sub, 0700) == 0);
	free(sub);
	sub = xasprintf("%s/merci/templates", dir);
	CHECK(mkdir(sub, 0700) == 0);
	free(sub);
	sub = xasprintf("%s/merci/templates/en", dir);
	CHECK(mkdir(sub, 0700) == 0);
	path = xasprintf("%s/thank-you.txt", sub);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("Subject: Say thanks to {{name}}\r\n\r\nMine.\r\n", f);
		fclose(f);
	}
	unsetenv("MERCI_TEMPLATE_DIR");
	unsetenv("CONFIGURATION_DIRECTORY");
	setenv("XDG_CONFIG_HOME", dir, 1);
	found = template_find("en", "thank-you");
	CHECK_STR(found, path);
	free(found);
	CHECK(template_render("en", "thank-you", &sample, &subject, &body, &err) == 0);
	CHECK_STR(subject, "Say thanks to Amélie Tremblay");
	CHECK_STR(body, "Mine.\n");
	free(subject);
	free(body);
	/* Not overridden: not taken from the owner's directory. */
	found = template_find("en", "follow-up");
	CHECK(!found || strncmp(found, dir, strlen(dir)) != 0);
	free(found);
	CHECK(template_render("xx", "nothing", &sample, &subject, &body, &err) < 0);
	CHECK(err && strstr(err, "no template xx/nothing.txt"));
	free(err);
	setenv("MERCI_TEMPLATE_DIR", shipped, 1);
	found = template_find("en", "thank-you");
	CHECK(found && strncmp(found, shipped, strlen(shipped)) == 0);
	free(found);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(path);
	free(sub);
	free(dir);
}

int
main(void)
{
	char *src = srcdir();
	char *dir = xasprintf("%s/conf/templates", src);

	setenv("MERCI_TEMPLATE_DIR", dir, 1);
	test_shipped("fr");
	test_shipped("en");
	test_errors();
	test_sanitise();
	test_lookup(dir);
	free(dir);
	free(src);
	return UNIT_DONE();
}
