/* cmd_nudges: "merci nudges ...": the reminders merci made, and acting on
 * them by hand (the same as answering the nudge's email). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "store_rel.h"
#include "timeutil.h"

static const char usage_nudges[] =
	"usage: merci nudges list [--all] [--json]\n"
	"       merci nudges done|dismiss ID\n"
	"       merci nudges snooze ID DURATION      (e.g. 7d, 2w, 7j)\n"
	"\n"
	"Lists reminders (pending, sent and snoozed; --all adds done, dismissed and\n"
	"resolved ones) with their kind, state, due time, why they fire and who\n"
	"they are about. Kinds: thank-you, reciprocity, keep-in-touch, follow-up,\n"
	"prospecting.\n";

static void
nudges_print_json(const struct store_nudge_row *v, size_t n)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "nudges");
	json_arr_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_open(&j);
		json_key(&j, "id"); json_int(&j, v[i].id);
		json_key(&j, "kind"); json_str(&j, v[i].kind);
		json_key(&j, "state"); json_str(&j, v[i].state);
		json_key(&j, "due"); json_time(&j, v[i].due);
		json_key(&j, "snooze_until"); json_time(&j, v[i].snooze_until);
		json_key(&j, "evidence"); json_str(&j, v[i].evidence);
		json_key(&j, "contact");
		if (v[i].contact_id) {
			json_obj_open(&j);
			json_key(&j, "id"); json_int(&j, v[i].contact_id);
			json_key(&j, "name"); json_str(&j, v[i].contact_name);
			json_key(&j, "email"); json_str(&j, v[i].contact_email);
			json_obj_close(&j);
		} else {
			json_null(&j);
		}
		json_key(&j, "created"); json_time(&j, v[i].created_at);
		json_key(&j, "updated"); json_time(&j, v[i].updated_at);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void
nudges_print_table(const struct store_nudge_row *v, size_t n)
{
	static const char *headers[] = { "ID", "KIND", "STATE", "DUE", "CONTACT", "WHY" };
	struct table t;

	table_init(&t, 6, headers);
	table_right_align(&t, 0);
	for (size_t i = 0; i < n; i++) {
		char id[24], due[32];
		const char *cells[6] = { id, v[i].kind, v[i].state, due,
					 v[i].contact_name ? v[i].contact_name : v[i].contact_email,
					 v[i].evidence };

		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		time_format_local(v[i].due, due, sizeof due);
		table_add_row(&t, cells);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
	printf("%zu nudge(s)\n", n);
}

struct nudges_opts {
	bool all;
};

static int
nudges_opt(void *ctx, int ch, const char *arg)
{
	((struct nudges_opts *)ctx)->all = true;
	return 0;
}

static int
nudges_list(struct cli *c, bool all)
{
	struct store_nudge_row *v = NULL;
	size_t n = 0;
	int r;

	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	if (store_nudges_list(c->store, all, &v, &n) < 0)
		return EXIT_RUNTIME;
	if (c->json)
		nudges_print_json(v, n);
	else
		nudges_print_table(v, n);
	store_nudge_rows_free(v, n);
	return EXIT_OK;
}

static int
nudges_act(struct cli *c, const char *verb, int argc, char **argv)
{
	int64_t id, until = 0, now = time_now(), span;
	const char *state;
	char *end;
	int r;

	if (argc < 1 || (strcmp(verb, "snooze") == 0) != (argc == 2) || argc > 2) {
		fputs(usage_nudges, stderr);
		return EXIT_USAGE;
	}
	id = strtoll(argv[0], &end, 10);
	if (*end || id <= 0) {
		fprintf(stderr, "merci: \"%s\" is not a nudge id; see merci nudges list\n", argv[0]);
		return EXIT_USAGE;
	}
	if (strcmp(verb, "snooze") == 0) {
		if (time_parse_duration(argv[1], &span) < 0 || span <= 0) {
			fprintf(stderr, "merci: \"%s\" is not a duration; write e.g. 7d, 2w, 12h\n", argv[1]);
			return EXIT_USAGE;
		}
		until = now + span;
		state = "snoozed";
	} else {
		state = strcmp(verb, "done") == 0 ? "done" : "dismissed";
	}
	if ((r = cli_store(c, STORE_RW)) != 0)
		return r;
	if (store_nudge_set_state(c->store, id, state, until, now) < 0) {
		fprintf(stderr, "merci: cannot change nudge %lld; see merci nudges list --all\n",
			(long long)id);
		return EXIT_RUNTIME;
	}
	printf("nudge %lld: %s\n", (long long)id, state);
	return EXIT_OK;
}

int
cmd_nudges(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "all", no_argument, NULL, 256 },
		{ NULL, 0, NULL, 0 },
	};
	struct nudges_opts o = { false };
	const char *verb;
	int r = cli_options(c, argc, argv, usage_nudges, extra, nudges_opt, &o);

	if (r >= 0)
		return r;
	verb = optind < argc ? argv[optind] : "list";
	if (strcmp(verb, "list") == 0)
		return nudges_list(c, o.all);
	if (strcmp(verb, "done") == 0 || strcmp(verb, "dismiss") == 0 ||
	    strcmp(verb, "snooze") == 0)
		return nudges_act(c, verb, argc - optind - 1, argv + optind + 1);
	fprintf(stderr, "merci: unknown nudges command \"%s\"; see merci nudges --help\n", verb);
	return EXIT_USAGE;
}
