/* cmd_mandates: "merci mandates ...": contracts with clients, probable ones
 * detected in mail and the owner's word on them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "store_rel.h"
#include "timeutil.h"

static const char usage_mandates[] =
	"usage: merci mandates list [--json]\n"
	"       merci mandates add CONTACT [--title TEXT] [--start DATE] [--end DATE]\n"
	"       merci mandates confirm|refuse ID\n"
	"       merci mandates end ID [--end DATE]\n"
	"\n"
	"Mandates detected in mail are \"probable\" until you confirm or refuse them.\n"
	"A confirmed mandate from a referred client credits the referrer. DATE is\n"
	"YYYY-MM-DD; CONTACT an id, an address or a name.\n";

struct mandate_opts {
	const char *title;
	int64_t start, end;
	int bad;
};

static int
mandates_opt(void *ctx, int ch, const char *arg)
{
	struct mandate_opts *o = ctx;

	switch (ch) {
	case 256: o->title = arg; return 0;
	case 257: return cli_date("--start", arg, &o->start) ? 1 : 0;
	case 258: return cli_date("--end", arg, &o->end) ? 1 : 0;
	}
	return 1;
}

static void
mandates_print_json(const struct store_mandate_row *v, size_t n)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "mandates");
	json_arr_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_open(&j);
		json_key(&j, "id"); json_int(&j, v[i].id);
		json_person(&j, "client", v[i].client_id, v[i].client_name);
		json_key(&j, "state"); json_str(&j, v[i].state);
		json_key(&j, "title"); json_str(&j, v[i].title);
		json_key(&j, "start"); json_time(&j, v[i].start);
		json_key(&j, "end"); json_time(&j, v[i].end);
		json_key(&j, "referral_id");
		if (v[i].referral_id)
			json_int(&j, v[i].referral_id);
		else
			json_null(&j);
		json_key(&j, "referrer"); json_str(&j, v[i].referrer_name);
		json_key(&j, "evidence"); json_str(&j, v[i].evidence);
		json_key(&j, "created"); json_time(&j, v[i].created_at);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void
mandates_print_table(const struct store_mandate_row *v, size_t n)
{
	static const char *headers[] = { "ID", "CLIENT", "STATE", "START", "END", "REFERRED BY", "TITLE / EVIDENCE" };
	struct table t;

	table_init(&t, 7, headers);
	table_right_align(&t, 0);
	for (size_t i = 0; i < n; i++) {
		char id[24], start[16], end[16];
		const char *cells[7] = { id, v[i].client_name, v[i].state,
					 output_date(v[i].start, start, sizeof start),
					 output_date(v[i].end, end, sizeof end), v[i].referrer_name,
					 v[i].title ? v[i].title : v[i].evidence };

		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		table_add_row(&t, cells);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
	printf("%zu mandate(s)\n", n);
}

static int
mandates_list(struct cli *c)
{
	struct store_mandate_row *v = NULL;
	size_t n = 0;
	int r;

	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	if (store_mandates_list(c->store, &v, &n) < 0)
		return EXIT_RUNTIME;
	if (c->json)
		mandates_print_json(v, n);
	else
		mandates_print_table(v, n);
	store_mandate_rows_free(v, n);
	return EXIT_OK;
}

static int
mandates_add(struct cli *c, const char *who, const struct mandate_opts *o)
{
	int64_t client, id;
	int r;

	if ((r = cli_store(c, STORE_RW)) != 0 || (r = cli_contact(c, who, &client)) != 0)
		return r;
	if (store_mandate_add(c->store, client, o->title, o->start, o->end, 0, &id) < 0)
		return EXIT_RUNTIME;
	printf("mandate %lld recorded (confirmed)\n", (long long)id);
	return EXIT_OK;
}

static int
mandates_set(struct cli *c, const char *verb, const char *arg, const struct mandate_opts *o)
{
	const char *state = strcmp(verb, "confirm") == 0 ? "confirmed"
			  : strcmp(verb, "refuse") == 0 ? "refused" : "ended";
	int64_t when = o->end ? o->end : time_now();
	char *endp;
	long long id = strtoll(arg, &endp, 10);
	int r;

	if (*endp || id <= 0) {
		fprintf(stderr, "merci: \"%s\" is not a mandate id; see merci mandates list\n", arg);
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RW)) != 0)
		return r;
	if (store_mandate_set_state(c->store, id, state, when) < 0) {
		fprintf(stderr, "merci: cannot change mandate %lld; see merci mandates list\n", id);
		return EXIT_RUNTIME;
	}
	printf("mandate %lld: %s\n", id, state);
	return EXIT_OK;
}

int
cmd_mandates(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "title", required_argument, NULL, 256 },
		{ "start", required_argument, NULL, 257 },
		{ "end", required_argument, NULL, 258 },
		{ NULL, 0, NULL, 0 },
	};
	struct mandate_opts o = { NULL, 0, 0, 0 };
	const char *verb;
	int r = cli_options(c, argc, argv, usage_mandates, extra, mandates_opt, &o);

	if (r >= 0)
		return r;
	verb = optind < argc ? argv[optind] : "list";
	if (strcmp(verb, "list") == 0 && optind + 1 >= argc)
		return mandates_list(c);
	if (optind + 2 != argc) {
		fputs(usage_mandates, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(verb, "add") == 0)
		return mandates_add(c, argv[optind + 1], &o);
	if (strcmp(verb, "confirm") == 0 || strcmp(verb, "refuse") == 0 || strcmp(verb, "end") == 0)
		return mandates_set(c, verb, argv[optind + 1], &o);
	fprintf(stderr, "merci: unknown mandates command \"%s\"; see merci mandates --help\n", verb);
	return EXIT_USAGE;
}
