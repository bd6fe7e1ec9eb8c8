/* cmd_referrals: "merci referrals list": who introduced or referred whom,
 * and whether the owner said thank you. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "store_rel.h"

static const char usage_referrals[] =
	"usage: merci referrals list [--json]\n"
	"\n"
	"Lists introductions and referrals, received and given: who made them, who\n"
	"was introduced, when, the evidence, whether you thanked them, and the\n"
	"mandate that came of it.\n";

static void
referrals_print_json(const struct store_referral_row *v, size_t n)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "referrals");
	json_arr_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_open(&j);
		json_key(&j, "id"); json_int(&j, v[i].id);
		json_key(&j, "kind"); json_str(&j, v[i].kind);
		json_key(&j, "direction"); json_str(&j, v[i].direction);
		json_person(&j, "from", v[i].from_id, v[i].from_name);
		json_person(&j, "to", v[i].to_id, v[i].to_name);
		json_key(&j, "date"); json_time(&j, v[i].date);
		json_key(&j, "evidence"); json_str(&j, v[i].evidence);
		json_key(&j, "thanked"); json_bool(&j, v[i].thanked_at != 0);
		json_key(&j, "thanked_at"); json_time(&j, v[i].thanked_at);
		json_key(&j, "mandate_id");
		if (v[i].mandate_id)
			json_int(&j, v[i].mandate_id);
		else
			json_null(&j);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void
referrals_print_table(const struct store_referral_row *v, size_t n)
{
	static const char *headers[] = { "ID", "DATE", "KIND", "FROM", "TO", "THANKED", "EVIDENCE" };
	struct table t;

	table_init(&t, 7, headers);
	table_right_align(&t, 0);
	for (size_t i = 0; i < n; i++) {
		char id[24], date[16], thanked[16];
		const char *kind = strcmp(v[i].direction, "given") == 0 ? "given" : v[i].kind;
		const char *cells[7] = { id, output_date(v[i].date, date, sizeof date), kind,
					 v[i].from_name, v[i].to_name,
					 v[i].thanked_at ? output_date(v[i].thanked_at, thanked, sizeof thanked)
							 : "no",
					 v[i].evidence };

		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		table_add_row(&t, cells);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
	printf("%zu referral(s)\n", n);
}

int
cmd_referrals(struct cli *c, int argc, char **argv)
{
	struct store_referral_row *v = NULL;
	size_t n = 0;
	int r = cli_common_options(c, argc, argv, usage_referrals);

	if (r >= 0)
		return r;
	if (optind < argc && strcmp(argv[optind], "list") != 0) {
		fprintf(stderr, "merci: unknown referrals command \"%s\"; see merci referrals --help\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	if (store_referrals_list(c->store, &v, &n) < 0)
		return EXIT_RUNTIME;
	if (c->json)
		referrals_print_json(v, n);
	else
		referrals_print_table(v, n);
	store_referral_rows_free(v, n);
	return EXIT_OK;
}
