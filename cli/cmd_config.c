/* cmd_config: "merci config check [--connect]": validates the configuration
 * file the way mercid --check-config does, printing each problem on its own
 * line, then on request tries every server (daemon/probe.c) and says what it
 * found. Also owns cli_probe_all, which "merci init" reuses. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "probe.h"
#include "xalloc.h"

static const char usage_config[] =
	"usage: merci config check [--connect]\n"
	"\n"
	"Validates the configuration file: every problem on its own line as\n"
	"FILE:LINE: what is wrong; the fix. With --connect, also logs in to each\n"
	"account's IMAP server and to the SMTP server (no mail is read or sent)\n"
	"and prints what it found: TLS, certificate, capabilities, the folders\n"
	"merci reads.\n"
	"Exit status 0 when all is well, 1 when a connection failed, 2 when the\n"
	"file is invalid.\n";

enum { OPT_CONNECT = 256 };

static void
config_print_report(const char *title, const struct probe_report *r)
{
	size_t i;

	printf("%s\n", title);
	for (i = 0; i < r->n_lines; i++)
		printf("  %s\n", r->lines[i]);
	if (r->ok)
		printf("  ok\n");
	else
		printf("  failed: %s\n", r->reason ? r->reason : "unknown error");
}

int
cli_probe_all(const struct config *cfg)
{
	struct probe_report r;
	bool failed = false;
	size_t i;

	/* libcurl wants this once, before any thread could exist. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < cfg->n_accounts; i++) {
		char *title = xasprintf("[account %s] IMAP", cfg->accounts[i].name);

		printf("\n");
		fflush(stdout);
		if (probe_imap(cfg, &cfg->accounts[i], &r) < 0)
			failed = true;
		config_print_report(title, &r);
		probe_report_free(&r);
		free(title);
	}
	printf("\n");
	fflush(stdout);
	if (cfg->smtp.present) {
		if (probe_smtp(cfg, &r) < 0)
			failed = true;
		config_print_report("[smtp] SMTP", &r);
		probe_report_free(&r);
	} else {
		printf("[smtp] SMTP\n  not configured: nudges are only listed by "
		       "\"merci nudges\", never mailed\n");
	}
	fflush(stdout);
	curl_global_cleanup();
	return failed ? EXIT_RUNTIME : EXIT_OK;
}

static int
config_on_opt(void *ctx, int ch, const char *arg)
{
	bool *connect = ctx;

	(void)arg;
	if (ch == OPT_CONNECT)
		*connect = true;
	return 0;
}

int
cmd_config(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "connect", no_argument, NULL, OPT_CONNECT },
		{ NULL, 0, NULL, 0 },
	};
	bool connect = false;
	int r = cli_options(c, argc, argv, usage_config, extra, config_on_opt, &connect);

	if (r >= 0)
		return r;
	if (optind >= argc || strcmp(argv[optind], "check") != 0 || optind + 1 != argc) {
		fputs(usage_config, stderr);
		return EXIT_USAGE;
	}
	if ((r = cli_config(c)) != 0)
		return r;
	printf("%s: ok, %zu account(s)%s\n", c->config_path, c->cfg->n_accounts,
	       c->cfg->smtp.present ? ", smtp configured" : "");
	if (!connect)
		return EXIT_OK;
	return cli_probe_all(c->cfg);
}
