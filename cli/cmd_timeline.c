/* cmd_timeline: "merci timeline CONTACT": everything merci knows about one
 * person — exchanges, referrals, mandates, favours, nudges — newest first. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "output.h"
#include "store_rel.h"
#include "timeutil.h"

static const char usage_timeline[] =
	"usage: merci timeline CONTACT [--json]\n"
	"\n"
	"CONTACT is an id, an address or a name (accents and case do not matter).\n";

int
cmd_timeline(struct cli *c, int argc, char **argv)
{
	struct store_timeline_row *v = NULL;
	size_t n = 0;
	int64_t id;
	int r = cli_common_options(c, argc, argv, usage_timeline);

	if (r >= 0)
		return r;
	if (optind + 1 != argc) {
		fputs(usage_timeline, stderr);
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RO)) != 0 || (r = cli_contact(c, argv[optind], &id)) != 0)
		return r;
	if (store_timeline(c->store, id, &v, &n) < 0)
		return EXIT_RUNTIME;
	if (c->json) {
		struct json j;

		json_begin(&j, stdout);
		json_obj_open(&j);
		json_key(&j, "contact_id"); json_int(&j, id);
		json_key(&j, "events");
		json_arr_open(&j);
		for (size_t i = 0; i < n; i++) {
			json_obj_open(&j);
			json_key(&j, "date"); json_time(&j, v[i].date);
			json_key(&j, "what"); json_str(&j, v[i].what);
			json_key(&j, "text"); json_str(&j, v[i].text);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_obj_close(&j);
		json_end(&j);
	} else {
		static const char *headers[] = { "DATE", "WHAT", "" };
		struct table t;

		table_init(&t, 3, headers);
		for (size_t i = 0; i < n; i++) {
			char date[32];
			const char *cells[3] = { time_format_local(v[i].date, date, sizeof date),
						 v[i].what, v[i].text };
			table_add_row(&t, cells);
		}
		table_print(&t, stdout, output_colour(stdout));
		table_free(&t);
	}
	store_timeline_rows_free(v, n);
	return EXIT_OK;
}
