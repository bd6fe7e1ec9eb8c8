/* cli: what the merci commands share: the parsed global options, and the
 * configuration and store, loaded on first use and released at exit. */
#ifndef MERCI_CLI_H
#define MERCI_CLI_H

#include <stdbool.h>
#include <stdint.h>

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
/* The same, plus a command's own long options (terminated by a zeroed
 * entry; use vals >= 256): on_opt gets each with its argument and returns
 * 0, or non-zero after printing why the value is wrong. */
struct option;
typedef int (*cli_opt_fn)(void *ctx, int ch, const char *arg);
int cli_options(struct cli *c, int argc, char **argv, const char *usage,
		const struct option *extra, cli_opt_fn on_opt, void *ctx);

/* Resolves a contact as the user typed it (id, address or name); prints the
 * reason and returns an exit code on failure, 0 on success. */
int cli_contact(struct cli *c, const char *query, int64_t *id);
/* Parses YYYY-MM-DD (local midnight) or ISO 8601; prints the error and
 * returns EXIT_USAGE on failure. */
int cli_date(const char *what, const char *s, int64_t *out);

/* Sends one request to the running mercid's control socket. Returns 0 with
 * *reply newly allocated (one line), or -1 when no daemon answers. */
int cli_control(struct cli *c, const char *cmd, char **reply);

/* Tries every account's IMAP server and the SMTP server (daemon/probe.c),
 * printing one block each that ends with "ok" or "failed: reason".
 * Returns EXIT_OK, or EXIT_RUNTIME when a connection failed. */
int cli_probe_all(const struct config *cfg);

int cmd_init(struct cli *c, int argc, char **argv);
int cmd_contacts(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_nudges(struct cli *c, int argc, char **argv);
int cmd_referrals(struct cli *c, int argc, char **argv);
int cmd_mandates(struct cli *c, int argc, char **argv);
int cmd_favours(struct cli *c, int argc, char **argv);
int cmd_timeline(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_config(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);

#endif
