/* merci: the control CLI. A thin dispatcher: global options, then one
 * function per command group (cmd_*.c). */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "store_rel.h"
#include "timeutil.h"
#include "xalloc.h"

static const char usage_text[] =
	"usage: merci [--config FILE] [--json] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  init                 write a configuration, test the servers\n"
	"  status               accounts, folders, last sync and counts\n"
	"  sync                 ask the running mercid to sync now\n"
	"  contacts list        the people you exchange with\n"
	"  contacts tag|untag|mute|unmute CONTACT [TAG]\n"
	"  contacts show CONTACT\n"
	"                       everything about one contact\n"
	"  contacts merge A B   B's addresses, history and tags move to A\n"
	"  nudges list [--all]  reminders: pending, sent, snoozed (all: every state)\n"
	"  nudges done|dismiss ID, nudges snooze ID 7d\n"
	"                       act on a reminder, as a reply to its mail would\n"
	"  referrals list       who introduced or referred whom\n"
	"  mandates list|add|confirm|refuse|end\n"
	"  favours list|give|receive\n"
	"  timeline CONTACT     everything about one person, newest first\n"
	"  report [--since D]   your network at a glance: referrals, gaps, favours\n"
	"  config check [--connect]\n"
	"                       validate the configuration file (and log in)\n"
	"  import FILE          contacts from vCard, Outlook or Google CSV\n"
	"  export --vcard       every contact as vCard 3.0\n"
	"\n"
	"options:\n"
	"  -c, --config FILE    configuration file (default: $MERCI_CONFIG,\n"
	"                       $CONFIGURATION_DIRECTORY/merci.conf, ~/.config/merci/merci.conf)\n"
	"  -j, --json           machine-readable output (stable schema)\n"
	"  -h, --help           this help; merci COMMAND --help for a command's\n"
	"      --version        the version\n";

struct command {
	const char *name;
	int (*run)(struct cli *, int, char **);
};

static const struct command commands[] = {
	{ "init", cmd_init },
	{ "status", cmd_status },
	{ "sync", cmd_sync },
	{ "contacts", cmd_contacts },
	{ "nudges", cmd_nudges },
	{ "referrals", cmd_referrals },
	{ "mandates", cmd_mandates },
	{ "favours", cmd_favours },
	{ "timeline", cmd_timeline },
	{ "report", cmd_report },
	{ "config", cmd_config },
	{ "import", cmd_import },
	{ "export", cmd_export },
};

int
cli_config(struct cli *c)
{
	char *err = NULL;

	if (c->cfg)
		return 0;
	if (!c->config_path)
		c->config_path = config_default_path();
	if (config_load(c->config_path, &c->cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	return 0;
}

int
cli_store(struct cli *c, enum store_mode mode)
{
	char *err = NULL;
	int r;

	if (c->store)
		return 0;
	if ((r = cli_config(c)) != 0)
		return r;
	if (store_open(c->cfg->database, mode, &c->store, &err) < 0) {
		fprintf(stderr, "merci: %s\n", err);
		free(err);
		return EXIT_RUNTIME;
	}
	/* What the CLI writes is the owner's command: a power loss must not
	 * undo a cancel the owner was told is done (store.h). */
	if (store_set_durable(c->store) < 0) {
		fprintf(stderr, "merci: %s: cannot set up the store; see the error above\n",
			c->cfg->database);
		return EXIT_RUNTIME;
	}
	return 0;
}

int
cli_contact(struct cli *c, const char *query, int64_t *id)
{
	char *err = NULL;

	if (store_contact_resolve(c->store, query, id, &err) < 0) {
		fprintf(stderr, "merci: %s\n", err ? err : "cannot look up contacts");
		free(err);
		return EXIT_USAGE;
	}
	return 0;
}

int
cli_date(const char *what, const char *s, int64_t *out)
{
	char buf[64];

	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		snprintf(buf, sizeof buf, "%sT00:00", s);
		s = buf;
	}
	if (time_parse_iso8601(s, out) < 0) {
		fprintf(stderr, "merci: %s \"%s\" is not a date; write YYYY-MM-DD\n", what, s);
		return EXIT_USAGE;
	}
	return 0;
}

int
cli_options(struct cli *c, int argc, char **argv, const char *usage,
	    const struct option *extra, cli_opt_fn on_opt, void *ctx)
{
	struct option opts[16] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 2;
	int ch;

	for (; extra && extra[n - 2].name && n < 15; n++)
		opts[n] = extra[n - 2];
	/* 0, not 1: glibc then forgets the "+" (stop at the first operand) of
	 * main's own parsing, so options may follow operands here. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': c->json = true; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		case '?': fputs(usage, stderr); return EXIT_USAGE;
		default:
			if (!on_opt || on_opt(ctx, ch, optarg) != 0)
				return EXIT_USAGE;
		}
	}
	return -1;
}

int
cli_common_options(struct cli *c, int argc, char **argv, const char *usage)
{
	return cli_options(c, argc, argv, usage, NULL, NULL, NULL);
}

static int
run_command(struct cli *c, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(c, argc, argv);
	fprintf(stderr, "merci: unknown command \"%s\"; see merci --help\n", argv[0]);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	int ch, rc;

	/* Widths of accented names need a UTF-8 ctype whatever the locale is. */
	if (!setlocale(LC_CTYPE, "") || MB_CUR_MAX == 1)
		setlocale(LC_CTYPE, "C.UTF-8");
	log_init("merci");
	while ((ch = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': free(c.config_path); c.config_path = xstrdup(optarg); break;
		case 'j': c.json = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': puts("merci " PACKAGE_VERSION); return EXIT_OK;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	rc = run_command(&c, argc - optind, argv + optind);
	store_close(c.store);
	config_free(c.cfg);
	free(c.config_path);
	return rc;
}
