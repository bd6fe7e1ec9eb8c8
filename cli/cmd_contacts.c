/* cmd_contacts: "merci contacts ...": the people the owner exchanges with. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "output.h"
#include "xalloc.h"

static const char usage_contacts[] =
	"usage: merci contacts list [--json]\n"
	"\n"
	"Lists each contact: name, addresses (most used first), tags, messages\n"
	"received from and sent to them, first and last exchange.\n";

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

int
cmd_contacts(struct cli *c, int argc, char **argv)
{
	int r = cli_common_options(c, argc, argv, usage_contacts);

	if (r >= 0)
		return r;
	if (optind >= argc || strcmp(argv[optind], "list") == 0)
		return contacts_list(c);
	fprintf(stderr, "merci: unknown contacts command \"%s\"; see merci contacts --help\n",
		argv[optind]);
	return EXIT_USAGE;
}
