/* cmd_sync: "merci sync": asks the running mercid to sync every account now. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

static const char usage_sync[] =
	"usage: merci sync\n"
	"\n"
	"Asks the running mercid (through its control socket) to sync every account\n"
	"now. Without a running daemon, use mercid --once.\n";

int
cmd_sync(struct cli *c, int argc, char **argv)
{
	char *reply = NULL;
	int r = cli_common_options(c, argc, argv, usage_sync);

	if (r >= 0)
		return r;
	if (optind < argc) {
		fputs(usage_sync, stderr);
		return EXIT_USAGE;
	}
	if ((r = cli_config(c)) != 0)
		return r;
	if (cli_control(c, "sync", &reply) < 0) {
		fprintf(stderr, "merci: mercid is not running (no answer on %s); start it, or run mercid --once\n",
			c->cfg->control_socket);
		return EXIT_RUNTIME;
	}
	if (strcmp(reply, "ok") != 0) {
		fprintf(stderr, "merci: mercid: %s\n", reply);
		free(reply);
		return EXIT_RUNTIME;
	}
	puts("mercid is syncing every account now");
	free(reply);
	return EXIT_OK;
}
