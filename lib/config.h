/* config: merci.conf(5), the INI contract of DESIGN.md, parsed with inih.
 *
 * config_load parses and validates the whole file and reports every problem
 * as "FILE:LINE: what is wrong; the fix" (one per line in *err). Secrets are
 * not read here: config_secret_read fetches them when a connection needs
 * them, so they live in memory only as long as that. */
#ifndef MERCI_CONFIG_H
#define MERCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_mode {
	TLS_IMPLICIT,   /* imaps:// or smtps:// */
	TLS_STARTTLS,   /* imap:// or smtp://, STARTTLS required */
	TLS_NONE,       /* imap:// or smtp:// with tls = none: plain text, loopback tests only */
};

/* Where a secret comes from; exactly one is set in a section that needs one. */
struct config_secret {
	char *password;          /* inline "password =": only in a private file */
	char *password_file;
	char *password_command;  /* run without a shell, argv split on blanks, quotes honoured */
	char *credential;        /* name under $CREDENTIALS_DIRECTORY */
};

struct config_account {
	char *name;              /* from [account NAME] */
	int line;                /* line of the section header, for messages */
	char *url;
	char *host;
	int port;
	enum tls_mode tls;
	char *user;
	struct config_secret secret;
	char *ca_file;
	char **folders;          /* NULL when "auto" */
	size_t n_folders;
	int64_t poll;            /* seconds, default 300 */
	int64_t timeout;         /* seconds, connect/read timeout, default 60 */
	int64_t first_sync_window; /* seconds, default 180 days: older mail makes no nudge */
};

struct config_smtp {
	bool present;
	char *url;
	char *host;
	int port;
	enum tls_mode tls;
	char *user;              /* NULL: no AUTH */
	struct config_secret secret;
	char *ca_file;
	int64_t timeout;
};

struct config_nudges {
	int64_t thank_after;        /* default 2d */
	int64_t keep_in_touch;      /* default 90d */
	int64_t follow_up_after;    /* default 5d */
	int64_t prospect_gap;       /* default 30d */
	int64_t reciprocity_after;  /* default 30d */
	int daily_cap;              /* default 5 */
	bool digest;                /* default true */
	int digest_minute;          /* minutes after midnight, default 8:30 */
	bool quiet;                 /* quiet hours configured */
	int quiet_start, quiet_end; /* minutes after midnight */
	char **ignore;              /* address globs */
	size_t n_ignore;
	bool drafts;                /* default false: a thank-you draft in \Drafts */
};

/* [tag NAME]: delays for the contacts bearing a tag; 0 = not set (the
 * [nudges] value applies). A contact with several tags takes the shortest. */
struct config_tag {
	char *name;              /* lower case */
	int line;
	int64_t keep_in_touch;
	int64_t follow_up_after;
	int64_t thank_after;
};

struct config {
	char *path;
	char *database;
	char *owner_name;        /* may be NULL */
	char *owner_email;       /* normalised */
	char **identities;       /* normalised, owner_email included first */
	size_t n_identities;
	char *language;          /* "fr" or "en" */
	char *timezone;          /* NULL: the system's */
	char *control_socket;    /* default: $RUNTIME_DIRECTORY/control or XDG runtime dir */
	struct config_account *accounts;
	size_t n_accounts;
	struct config_smtp smtp;
	struct config_nudges nudges;
	struct config_tag *tags;
	size_t n_tags;
};

/* Loads and validates path. On failure returns -1 and sets *err to a newly
 * allocated text of one or more "FILE:LINE: problem; fix" lines (no trailing
 * newline). Also refuses a file holding "password =" that is readable by
 * group or others, or not owned by the caller. */
int config_load(const char *path, struct config **out, char **err);
void config_free(struct config *c);

/* The default config path: $MERCI_CONFIG, else $CONFIGURATION_DIRECTORY/merci.conf,
 * else $XDG_CONFIG_HOME/merci/merci.conf (~/.config/...), else /etc/merci/merci.conf
 * when running as root. Newly allocated. */
char *config_default_path(void);

/* Reads the secret of a section. Returns 0 and a newly allocated string, or
 * -1 with *err a newly allocated one-line message naming the source (never
 * the secret). A password file must be private (0600/0400, owned by us). */
int config_secret_read(const struct config *c, const struct config_secret *s,
		       const char *section, char **out, char **err);

/* The [tag NAME] section of tag (case-insensitive), NULL when none. */
const struct config_tag *config_tag_find(const struct config *c, const char *tag);

/* True when email is the owner or one of the identities (normalised input). */
bool config_is_identity(const struct config *c, const char *email);

#endif
