/* cmd_favours: "merci favours ...": favours given and received, from mail
 * or recorded by hand, which the reciprocity reminders weigh. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "store_rel.h"
#include "timeutil.h"

static const char usage_favours[] =
	"usage: merci favours list [--json]\n"
	"       merci favours give|receive CONTACT [--kind KIND] [--note TEXT] [--date DATE]\n"
	"\n"
	"KIND is referral, introduction, lead, recommendation or help (default help).\n"
	"Recording a favour you gave settles a reciprocity reminder.\n";

static const char *const favour_kinds[] = {
	"referral", "introduction", "lead", "recommendation", "help", NULL,
};

struct favour_opts {
	const char *kind;
	const char *note;
	int64_t date;
};

static int
favours_opt(void *ctx, int ch, const char *arg)
{
	struct favour_opts *o = ctx;

	switch (ch) {
	case 256:
		for (size_t i = 0; favour_kinds[i]; i++)
			if (strcmp(arg, favour_kinds[i]) == 0) {
				o->kind = favour_kinds[i];
				return 0;
			}
		fprintf(stderr, "merci: --kind %s is not a favour kind; use referral, introduction, lead, recommendation or help\n", arg);
		return 1;
	case 257: o->note = arg; return 0;
	case 258: return cli_date("--date", arg, &o->date) ? 1 : 0;
	}
	return 1;
}

static void
favours_print_json(const struct store_favour_row *v, size_t n)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "favours");
	json_arr_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_open(&j);
		json_key(&j, "id"); json_int(&j, v[i].id);
		json_person(&j, "contact", v[i].contact_id, v[i].contact_name);
		json_key(&j, "direction"); json_str(&j, v[i].direction);
		json_key(&j, "kind"); json_str(&j, v[i].kind);
		json_key(&j, "date"); json_time(&j, v[i].date);
		json_key(&j, "source"); json_str(&j, v[i].source);
		json_key(&j, "note"); json_str(&j, v[i].note);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void
favours_print_table(const struct store_favour_row *v, size_t n)
{
	static const char *headers[] = { "ID", "DATE", "DIRECTION", "CONTACT", "KIND", "SOURCE", "NOTE" };
	struct table t;

	table_init(&t, 7, headers);
	table_right_align(&t, 0);
	for (size_t i = 0; i < n; i++) {
		char id[24], date[16];
		const char *cells[7] = { id, output_date(v[i].date, date, sizeof date), v[i].direction,
					 v[i].contact_name, v[i].kind, v[i].source, v[i].note };

		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		table_add_row(&t, cells);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
	printf("%zu favour(s)\n", n);
}

static int
favours_list(struct cli *c)
{
	struct store_favour_row *v = NULL;
	size_t n = 0;
	int r;

	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	if (store_favours_list(c->store, &v, &n) < 0)
		return EXIT_RUNTIME;
	if (c->json)
		favours_print_json(v, n);
	else
		favours_print_table(v, n);
	store_favour_rows_free(v, n);
	return EXIT_OK;
}

static int
favours_add(struct cli *c, const char *verb, const char *who, const struct favour_opts *o)
{
	const char *direction = strcmp(verb, "give") == 0 ? "given" : "received";
	int64_t contact, id;
	int r;

	if ((r = cli_store(c, STORE_RW)) != 0 || (r = cli_contact(c, who, &contact)) != 0)
		return r;
	if (store_favour_add(c->store, contact, direction, o->kind, o->date ? o->date : time_now(),
			     "manual", o->note, 0, &id) < 0)
		return EXIT_RUNTIME;
	printf("favour %lld recorded: %s, %s\n", (long long)id, direction, o->kind);
	return EXIT_OK;
}

int
cmd_favours(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "kind", required_argument, NULL, 256 },
		{ "note", required_argument, NULL, 257 },
		{ "date", required_argument, NULL, 258 },
		{ NULL, 0, NULL, 0 },
	};
	struct favour_opts o = { "help", NULL, 0 };
	const char *verb;
	int r = cli_options(c, argc, argv, usage_favours, extra, favours_opt, &o);

	if (r >= 0)
		return r;
	verb = optind < argc ? argv[optind] : "list";
	if (strcmp(verb, "list") == 0 && optind + 1 >= argc)
		return favours_list(c);
	if ((strcmp(verb, "give") == 0 || strcmp(verb, "receive") == 0) && optind + 2 == argc)
		return favours_add(c, verb, argv[optind + 1], &o);
	fputs(usage_favours, stderr);
	return EXIT_USAGE;
}
