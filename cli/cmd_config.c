/* cmd_config: "merci config check": validates the configuration file the way
 * mercid --check-config does, printing each problem on its own line. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"

static const char usage_config[] =
	"usage: merci config check\n"
	"\n"
	"Validates the configuration file: every problem on its own line as\n"
	"FILE:LINE: what is wrong; the fix. Exit status 0 when valid, 2 when not.\n";

int
cmd_config(struct cli *c, int argc, char **argv)
{
	int r = cli_common_options(c, argc, argv, usage_config);

	if (r >= 0)
		return r;
	if (optind >= argc || strcmp(argv[optind], "check") != 0) {
		fputs(usage_config, stderr);
		return EXIT_USAGE;
	}
	if ((r = cli_config(c)) != 0)
		return r;
	printf("%s: ok, %zu account(s)%s\n", c->config_path, c->cfg->n_accounts,
	       c->cfg->smtp.present ? ", smtp configured" : "");
	return EXIT_OK;
}
