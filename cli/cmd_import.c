/* cmd_import: "merci import FILE": contacts from an address book export.
 * The file is read whole (address books are small), parsed into cards,
 * then written in one transaction: an import is all or nothing for the
 * store, while a broken entry only costs that entry. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "csv_import.h"
#include "output.h"
#include "store_contacts.h"
#include "timeutil.h"
#include "vcard.h"
#include "xalloc.h"

static const char usage_import[] =
	"usage: merci import FILE [--tag TAG] [--json]\n"
	"\n"
	"Imports contacts from a vCard file (2.1 as Outlook writes it, 3.0, 4.0)\n"
	"or from the CSV export of Outlook (English or French) or Google Contacts.\n"
	"A contact whose address is already known is merged into the existing one;\n"
	"categories become tags. Entries that cannot be read are reported as\n"
	"FILE:LINE: and skipped; the rest is imported.\n"
	"\n"
	"  --tag TAG   tag every imported contact with TAG\n"
	"  -j, --json  {\"created\":N,\"merged\":N,\"skipped\":N,\"problems\":[{\"line\":N,\"reason\":\"...\"}]}\n";

enum { OPT_TAG = 256 };

struct import_opts {
	const char *tag;
};

struct import_counts {
	size_t created, merged;
};

static int
import_on_opt(void *ctx, int ch, const char *arg)
{
	struct import_opts *o = ctx;

	if (ch != OPT_TAG)
		return -1;
	if (!*arg || strlen(arg) > 64 || strpbrk(arg, " \t\r\n,")) {
		fprintf(stderr, "merci: \"%s\" is not a tag; use one word without spaces or commas\n", arg);
		return -1;
	}
	o->tag = arg;
	return 0;
}

/* The whole file into b; prints why and returns -1 when it cannot be read. */
static int
import_read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int err;

	if (!f) {
		fprintf(stderr, "merci: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(b, chunk, n);
	err = ferror(f) ? errno : 0;
	fclose(f);
	if (err) {
		fprintf(stderr, "merci: %s: %s\n", path, strerror(err));
		return -1;
	}
	buf_reserve(b, 0);
	return 0;
}

/* Parses data as whichever format it is; NULL when none (nothing read). */
static const char *
import_parse(const struct buf *data, struct card_list *cards)
{
	enum csv_format f;

	if (vcard_detect(data->data, data->len)) {
		vcard_parse(data->data, data->len, cards);
		return "vCard";
	}
	if ((f = csv_detect(data->data, data->len)) == CSV_UNKNOWN)
		return NULL;
	csv_parse(data->data, data->len, cards);
	return csv_format_name(f);
}

/* One card, with the --tag tag added to its own. */
static int
import_card(struct store *st, const struct card *c, const char *tag, int64_t now,
	    struct import_counts *n)
{
	char **tags = xcalloc(c->n_tags + 1, sizeof *tags);
	enum store_import_result result;
	size_t n_tags = c->n_tags;
	int64_t id;
	int rc;

	if (c->n_tags)
		memcpy(tags, c->tags, c->n_tags * sizeof *tags);
	if (tag)
		tags[n_tags++] = (char *)tag;
	rc = store_contact_import(st, c->name, c->emails, c->n_emails, tags, n_tags, now,
				  &result, &id);
	free(tags);
	if (rc == 0 && result == STORE_IMPORT_CREATED)
		n->created++;
	else if (rc == 0)
		n->merged++;
	return rc;
}

static int
import_store(struct cli *c, const struct card_list *cards, const char *tag,
	     struct import_counts *n)
{
	int64_t now = time_now();
	size_t i;
	int r;

	if ((r = cli_store(c, STORE_RW)) != 0)
		return r;
	if (store_begin(c->store) < 0)
		return EXIT_RUNTIME;
	for (i = 0; i < cards->n_cards; i++)
		if (import_card(c->store, &cards->cards[i], tag, now, n) < 0)
			break;
	if (i < cards->n_cards || store_commit(c->store) < 0) {
		store_rollback(c->store);
		fprintf(stderr, "merci: nothing was imported; see the error above\n");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* Problems come in reading order, which a card's missing END can upset:
 * a stable insertion sort by line (the list is nearly sorted). */
static void
import_sort_problems(struct card_list *l)
{
	for (size_t i = 1; i < l->n_problems; i++) {
		struct card_problem p = l->problems[i];
		size_t j = i;

		for (; j > 0 && l->problems[j - 1].line > p.line; j--)
			l->problems[j] = l->problems[j - 1];
		l->problems[j] = p;
	}
}

static void
import_report(const struct cli *c, const char *path, const char *format,
	      const struct card_list *l, const struct import_counts *n)
{
	struct json j;
	size_t i;

	if (!c->json) {
		for (i = 0; i < l->n_problems; i++)
			fprintf(stderr, "%s:%u: %s\n", path, l->problems[i].line, l->problems[i].reason);
		printf("%s (%s): created %zu, merged %zu, skipped %zu\n", path, format,
		       n->created, n->merged, l->n_skipped);
		return;
	}
	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "created"); json_int(&j, (int64_t)n->created);
	json_key(&j, "merged"); json_int(&j, (int64_t)n->merged);
	json_key(&j, "skipped"); json_int(&j, (int64_t)l->n_skipped);
	json_key(&j, "problems");
	json_arr_open(&j);
	for (i = 0; i < l->n_problems; i++) {
		json_obj_open(&j);
		json_key(&j, "line"); json_int(&j, l->problems[i].line);
		json_key(&j, "reason"); json_str(&j, l->problems[i].reason);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static int
import_file(struct cli *c, const char *path, const char *tag)
{
	struct buf data = { 0 };
	struct card_list cards = { 0 };
	struct import_counts n = { 0 };
	const char *format;
	int r = EXIT_RUNTIME;

	if (import_read_file(path, &data) < 0)
		goto out;
	if (!(format = import_parse(&data, &cards))) {
		fprintf(stderr, "merci: %s: not a format merci knows; it reads vCard (.vcf: 2.1, "
			"3.0, 4.0) and the CSV exports of Outlook and Google Contacts\n", path);
		r = EXIT_USAGE;
		goto out;
	}
	if ((r = import_store(c, &cards, tag, &n)) != EXIT_OK)
		goto out;
	import_sort_problems(&cards);
	import_report(c, path, format, &cards, &n);
out:
	card_list_free(&cards);
	buf_free(&data);
	return r;
}

int
cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "tag", required_argument, NULL, OPT_TAG },
		{ NULL, 0, NULL, 0 },
	};
	struct import_opts o = { 0 };
	int r = cli_options(c, argc, argv, usage_import, extra, import_on_opt, &o);

	if (r >= 0)
		return r;
	if (argc - optind != 1) {
		fputs(usage_import, stderr);
		return EXIT_USAGE;
	}
	return import_file(c, argv[optind], o.tag);
}
