/* cmd_contacts: "merci contacts ...": the people the owner exchanges with. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "output.h"
#include "store_rel.h"
#include "xalloc.h"

static const char usage_contacts[] =
	"usage: merci contacts list [--json]\n"
	"       merci contacts tag|untag CONTACT TAG\n"
	"       merci contacts mute|unmute CONTACT\n"
	"\n"
	"Lists each contact: name, addresses (most used first), tags, messages\n"
	"received from and sent to them, first and last exchange. Tags that matter\n"
	"to reminders: client, partner, prospect, referrer. A muted contact gets no\n"
	"reminder. CONTACT is an id, an address or a name.\n";

static void
contacts_print_json(const struct store_contact_row *v, size_t n)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "contacts");
	json_arr_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_open(&j);
		json_key(&j, "id"); json_int(&j, v[i].id);
		json_key(&j, "name"); json_str(&j, v[i].name);
		json_key(&j, "emails");
		json_arr_open(&j);
		for (size_t e = 0; e < v[i].n_emails; e++)
			json_str(&j, v[i].emails[e]);
		json_arr_close(&j);
		json_key(&j, "tags");
		json_arr_open(&j);
		for (size_t t = 0; t < v[i].n_tags; t++)
			json_str(&j, v[i].tags[t]);
		json_arr_close(&j);
		json_key(&j, "messages_in"); json_int(&j, v[i].n_in);
		json_key(&j, "messages_out"); json_int(&j, v[i].n_out);
		json_key(&j, "first"); json_time(&j, v[i].first);
		json_key(&j, "last"); json_time(&j, v[i].last);
		json_key(&j, "muted"); json_bool(&j, v[i].muted);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void
contacts_print_table(const struct store_contact_row *v, size_t n)
{
	static const char *headers[] = { "NAME", "EMAIL", "IN", "OUT", "FIRST", "LAST", "TAGS" };
	struct table t;

	table_init(&t, 7, headers);
	table_right_align(&t, 2);
	table_right_align(&t, 3);
	for (size_t i = 0; i < n; i++) {
		char in[24], out[24], first[16], last[16];
		struct buf email = { 0 }, tags = { 0 };
		const char *cells[7];

		buf_adds(&email, v[i].n_emails ? v[i].emails[0] : "-");
		if (v[i].n_emails > 1)
			buf_printf(&email, " (+%zu)", v[i].n_emails - 1);
		for (size_t k = 0; k < v[i].n_tags; k++)
			buf_printf(&tags, "%s%s", k ? "," : "", v[i].tags[k]);
		snprintf(in, sizeof in, "%lld", (long long)v[i].n_in);
		snprintf(out, sizeof out, "%lld", (long long)v[i].n_out);
		cells[0] = v[i].name ? v[i].name : "-";
		cells[1] = email.data;
		cells[2] = in;
		cells[3] = out;
		cells[4] = output_date(v[i].first, first, sizeof first);
		cells[5] = output_date(v[i].last, last, sizeof last);
		cells[6] = tags.len ? tags.data : "-";
		table_add_row(&t, cells);
		buf_free(&email);
		buf_free(&tags);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
	printf("%zu contact(s)\n", n);
}

static int
contacts_list(struct cli *c)
{
	struct store_contact_row *v = NULL;
	size_t n = 0;
	int r;

	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	if (store_contacts_list(c->store, &v, &n) < 0)
		return EXIT_RUNTIME;
	if (c->json)
		contacts_print_json(v, n);
	else
		contacts_print_table(v, n);
	store_contact_rows_free(v, n);
	return EXIT_OK;
}

static bool
tag_valid(const char *tag)
{
	if (!*tag || strlen(tag) > 64)
		return false;
	for (const unsigned char *p = (const unsigned char *)tag; *p; p++)
		if (*p <= ' ' || *p == ',' || *p == 0x7f)
			return false;
	return true;
}

static int
contacts_change(struct cli *c, const char *verb, int argc, char **argv)
{
	bool tagging = strcmp(verb, "tag") == 0 || strcmp(verb, "untag") == 0;
	int64_t id;
	int r;

	if (argc != (tagging ? 2 : 1)) {
		fputs(usage_contacts, stderr);
		return EXIT_USAGE;
	}
	if (tagging && !tag_valid(argv[1])) {
		fprintf(stderr, "merci: \"%s\" is not a tag; use one word without spaces or commas\n", argv[1]);
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RW)) != 0 || (r = cli_contact(c, argv[0], &id)) != 0)
		return r;
	if (tagging)
		r = store_contact_tag(c->store, id, argv[1], strcmp(verb, "tag") == 0);
	else
		r = store_contact_mute(c->store, id, strcmp(verb, "mute") == 0);
	if (r < 0)
		return EXIT_RUNTIME;
	printf("contact %lld: %s%s%s\n", (long long)id, verb, tagging ? " " : "", tagging ? argv[1] : "");
	return EXIT_OK;
}

int
cmd_contacts(struct cli *c, int argc, char **argv)
{
	int r = cli_common_options(c, argc, argv, usage_contacts);

	if (r >= 0)
		return r;
	if (optind >= argc || strcmp(argv[optind], "list") == 0)
		return contacts_list(c);
	if (strcmp(argv[optind], "tag") == 0 || strcmp(argv[optind], "untag") == 0 ||
	    strcmp(argv[optind], "mute") == 0 || strcmp(argv[optind], "unmute") == 0)
		return contacts_change(c, argv[optind], argc - optind - 1, argv + optind + 1);
	fprintf(stderr, "merci: unknown contacts command \"%s\"; see merci contacts --help\n",
		argv[optind]);
	return EXIT_USAGE;
}
