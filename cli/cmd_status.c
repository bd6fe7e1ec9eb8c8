/* cmd_status: "merci status": what the store says about each account and
 * folder, and the counts of what was recorded. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "outbox.h"
#include "output.h"
#include "timeutil.h"

static const char usage_status[] =
	"usage: merci status [--json]\n"
	"\n"
	"Shows each account with its folders, checkpoints and last sync, the last\n"
	"error if any, the counts of recorded exchanges and contacts, and the\n"
	"outbox: messages queued, sent and failed, with why each failed.\n";

static void
status_folders_json(struct json *j, const struct store_status *s, const char *account)
{
	json_arr_open(j);
	for (size_t i = 0; i < s->n_folders; i++) {
		const struct store_folder_row *f = &s->folders[i];

		if (strcmp(f->account, account) != 0)
			continue;
		json_obj_open(j);
		json_key(j, "name"); json_str(j, f->folder);
		json_key(j, "uidvalidity"); json_int(j, f->uidvalidity);
		json_key(j, "last_uid"); json_int(j, f->last_uid);
		json_key(j, "exists"); json_int(j, f->exists);
		json_key(j, "messages"); json_int(j, f->messages);
		json_key(j, "last_sync"); json_time(j, f->last_sync);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void
status_outbox_json(struct json *j, const struct outbox_status *o)
{
	json_obj_open(j);
	json_key(j, "queued"); json_int(j, o->queued);
	json_key(j, "sent"); json_int(j, o->sent);
	json_key(j, "failed"); json_int(j, o->failed);
	json_key(j, "failures");
	json_arr_open(j);
	for (size_t i = 0; i < o->n_failures; i++) {
		json_obj_open(j);
		json_key(j, "id"); json_int(j, o->failures[i].id);
		json_key(j, "code"); json_int(j, o->failures[i].code);
		json_key(j, "error"); json_str(j, o->failures[i].error);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

static void
status_print_json(const struct cli *c, const struct store_status *s,
		  const struct outbox_status *o, const char *live)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "schema_version"); json_int(&j, s->schema_version);
	json_key(&j, "database"); json_str(&j, c->cfg->database);
	json_key(&j, "daemon");
	json_obj_open(&j);
	json_key(&j, "running"); json_bool(&j, live != NULL);
	if (live && live[0] == '{') {
		json_key(&j, "live");
		json_raw(&j, live);
	}
	json_obj_close(&j);
	json_key(&j, "counts");
	json_obj_open(&j);
	json_key(&j, "exchanges"); json_int(&j, s->exchanges);
	json_key(&j, "inbound"); json_int(&j, s->inbound);
	json_key(&j, "outbound"); json_int(&j, s->outbound);
	json_key(&j, "automated"); json_int(&j, s->automated);
	json_key(&j, "contacts"); json_int(&j, s->contacts);
	json_key(&j, "addresses"); json_int(&j, s->addresses);
	json_obj_close(&j);
	json_key(&j, "outbox");
	status_outbox_json(&j, o);
	json_key(&j, "accounts");
	json_arr_open(&j);
	for (size_t i = 0; i < s->n_accounts; i++) {
		const struct store_account_row *a = &s->accounts[i];

		json_obj_open(&j);
		json_key(&j, "name"); json_str(&j, a->name);
		json_key(&j, "last_sync"); json_time(&j, a->last_sync);
		json_key(&j, "last_attempt"); json_time(&j, a->last_attempt);
		json_key(&j, "last_error"); json_str(&j, a->last_error);
		json_key(&j, "folders");
		status_folders_json(&j, s, a->name);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void
status_print_folders(const struct store_status *s)
{
	static const char *headers[] = { "ACCOUNT", "FOLDER", "UIDVALIDITY", "LAST UID",
					 "ON SERVER", "RECORDED", "LAST SYNC" };
	struct table t;

	table_init(&t, 7, headers);
	for (size_t c = 2; c < 6; c++)
		table_right_align(&t, c);
	for (size_t i = 0; i < s->n_folders; i++) {
		const struct store_folder_row *f = &s->folders[i];
		char uv[16], lu[16], ex[16], msgs[24], when[32];
		const char *cells[7] = { f->account, f->folder, uv, lu, ex, msgs, when };

		snprintf(uv, sizeof uv, "%u", f->uidvalidity);
		snprintf(lu, sizeof lu, "%u", f->last_uid);
		snprintf(ex, sizeof ex, "%u", f->exists);
		snprintf(msgs, sizeof msgs, "%lld", (long long)f->messages);
		if (f->last_sync)
			time_format_local(f->last_sync, when, sizeof when);
		else
			strcpy(when, "never");
		table_add_row(&t, cells);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
}

/* The server wrote the error: no control character reaches the terminal. */
static void
status_print_error(const char *e)
{
	for (; *e; e++)
		putchar((unsigned char)*e < 0x20 || *e == 0x7f ? '?' : *e);
	putchar('\n');
}

static void
status_print_outbox(const struct outbox_status *o)
{
	printf("Outbox:    %lld queued, %lld sent, %lld failed\n", (long long)o->queued,
	       (long long)o->sent, (long long)o->failed);
	for (size_t i = 0; i < o->n_failures; i++) {
		const struct outbox_failure *f = &o->failures[i];

		printf("           message %lld failed", (long long)f->id);
		if (f->code)
			printf(" (%ld)", f->code);
		fputs(": ", stdout);
		status_print_error(f->error);
	}
	if ((int64_t)o->n_failures < o->failed)
		printf("           and %lld earlier failures\n",
		       (long long)(o->failed - (int64_t)o->n_failures));
}

static void
status_print_human(const struct cli *c, const struct store_status *s,
		   const struct outbox_status *o, const char *live)
{
	char when[32];

	printf("Store:     %s (schema %d)\n", c->cfg->database, s->schema_version);
	if (live)
		printf("Daemon:    %s\n", live);
	else
		printf("Daemon:    not running (no answer on %s)\n", c->cfg->control_socket);
	printf("Exchanges: %lld (%lld received, %lld sent, %lld automated)\n",
	       (long long)s->exchanges, (long long)s->inbound, (long long)s->outbound,
	       (long long)s->automated);
	printf("Contacts:  %lld (%lld addresses seen)\n", (long long)s->contacts,
	       (long long)s->addresses);
	status_print_outbox(o);
	putchar('\n');
	for (size_t i = 0; i < s->n_accounts; i++) {
		const struct store_account_row *a = &s->accounts[i];

		printf("Account %s: ", a->name);
		if (a->last_sync)
			printf("last sync %s", time_format_local(a->last_sync, when, sizeof when));
		else
			printf("never synced");
		if (a->last_error)
			printf("; last attempt failed: %s", a->last_error);
		putchar('\n');
	}
	if (s->n_folders) {
		putchar('\n');
		status_print_folders(s);
	}
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	struct store_status s;
	struct outbox_status o;
	char *live = NULL;
	int r = cli_common_options(c, argc, argv, usage_status);

	if (r >= 0)
		return r;
	if (optind < argc) {
		fprintf(stderr, "merci: status takes no argument; see merci status --help\n");
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	memset(&s, 0, sizeof s);
	if (store_status_get(c->store, &s) < 0)
		return EXIT_RUNTIME;
	if (outbox_status_get(c->store, &o) < 0) {
		store_status_free(&s);
		return EXIT_RUNTIME;
	}
	/* The store says what was recorded; a running daemon adds what it is doing. */
	if (cli_control(c, c->json ? "status" : "status-text", &live) < 0)
		live = NULL;
	if (c->json)
		status_print_json(c, &s, &o, live);
	else
		status_print_human(c, &s, &o, live);
	free(live);
	outbox_status_free(&o);
	store_status_free(&s);
	return EXIT_OK;
}
