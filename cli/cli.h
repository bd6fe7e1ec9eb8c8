/* cli: what the merci commands share: the parsed global options, and the
 * configuration and store, loaded on first use and released at exit. */
#ifndef MERCI_CLI_H
#define MERCI_CLI_H

#include <stdbool.h>

#include "store.h"

struct config;

struct cli {
	char *config_path;       /* owned */
	bool json;
	struct config *cfg;      /* owned, NULL until cli_config */
	struct store *store;     /* owned, NULL until cli_store */
};

/* Exit codes of DESIGN.md. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Loads the configuration; on failure prints every problem and returns
 * EXIT_USAGE, else 0. */
int cli_config(struct cli *c);
/* Opens the store (loading the configuration first); returns 0 or an exit code. */
int cli_store(struct cli *c, enum store_mode mode);
/* Parses the options every command takes (--json, --help) from argv, leaving
 * the operands in argv[optind..]. Returns -1 to go on, or an exit code. */
int cli_common_options(struct cli *c, int argc, char **argv, const char *usage);

int cmd_contacts(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_config(struct cli *c, int argc, char **argv);

#endif
