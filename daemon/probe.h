/* probe: tries an account's IMAP server and the SMTP server the way mercid
 * would use them, without reading or sending any mail, and says what it
 * found, for "merci init" and "merci config check --connect".
 *
 * IMAP: connect, verify TLS, log in (imap_session), then LIST and STATUS to
 * show the folders "folders = auto" would read. SMTP: EHLO, STARTTLS and
 * AUTH through libcurl with the same TLS and login settings as smtp_send,
 * ending with a NOOP instead of a message. Blocking; no secret is ever put
 * in a line. The caller must have called curl_global_init. */
#ifndef MERCI_PROBE_H
#define MERCI_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct config_account;

struct probe_report {
	char **lines;        /* owned: human lines, in the order found */
	size_t n_lines;
	bool ok;
	char *reason;        /* owned: one line "host:port: what; fix", NULL when ok */
};

/* Both fill *out (which they reset first) and return 0 when everything
 * worked, -1 with out->reason set otherwise. */
int probe_imap(const struct config *cfg, const struct config_account *acct,
	       struct probe_report *out);
int probe_smtp(const struct config *cfg, struct probe_report *out);

/* Frees what a report owns and zeroes it. Accepts an empty report. */
void probe_report_free(struct probe_report *r);

#endif
