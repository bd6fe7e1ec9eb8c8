/* cmd_export: "merci export --vcard [FILE]": every contact as vCard 3.0, so
 * the owner's network goes back into an address book (and re-importing the
 * export changes nothing but merges every card). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "vcard.h"

static const char usage_export[] =
	"usage: merci export --vcard [FILE]\n"
	"\n"
	"Writes every contact as vCard 3.0 (UTF-8, CRLF) to FILE, or to the\n"
	"standard output: its name, its addresses (the most used one marked\n"
	"PREF) and its tags as CATEGORIES.\n";

enum { OPT_VCARD = 256 };

static int
export_on_opt(void *ctx, int ch, const char *arg)
{
	bool *vcard = ctx;

	(void)arg;
	if (ch != OPT_VCARD)
		return -1;
	*vcard = true;
	return 0;
}

/* Every contact as vCard into b. */
static int
export_cards(struct cli *c, struct buf *b)
{
	struct store_contact_row *v = NULL;
	size_t n = 0;
	int r;

	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	if (store_contacts_list(c->store, &v, &n) < 0)
		return EXIT_RUNTIME;
	for (size_t i = 0; i < n; i++) {
		/* The row's lists are borrowed, never freed through the card. */
		struct card card = {
			.name = v[i].name,
			.emails = v[i].emails, .n_emails = v[i].n_emails,
			.tags = v[i].tags, .n_tags = v[i].n_tags,
		};

		vcard_write(b, &card);
	}
	store_contact_rows_free(v, n);
	return EXIT_OK;
}

/* Writes b to path (stdout when NULL); prints why on failure. */
static int
export_write(const char *path, const struct buf *b)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	bool ok;

	if (!f) {
		fprintf(stderr, "merci: %s: %s\n", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	ok = fwrite(b->data, 1, b->len, f) == b->len;
	ok = (path ? fclose(f) == 0 : fflush(f) == 0) && ok;
	if (!ok) {
		fprintf(stderr, "merci: %s: %s\n", path ? path : "standard output", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int
cmd_export(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "vcard", no_argument, NULL, OPT_VCARD },
		{ NULL, 0, NULL, 0 },
	};
	struct buf b = { 0 };
	bool vcard = false;
	int r = cli_options(c, argc, argv, usage_export, extra, export_on_opt, &vcard);

	if (r >= 0)
		return r;
	if (!vcard || argc - optind > 1) {
		fputs(usage_export, stderr);
		return EXIT_USAGE;
	}
	buf_reserve(&b, 0);
	if ((r = export_cards(c, &b)) == EXIT_OK)
		r = export_write(argc - optind == 1 ? argv[optind] : NULL, &b);
	buf_free(&b);
	return r;
}
