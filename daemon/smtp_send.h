/* smtp_send: hands one rendered message to the owner's SMTP server with
 * libcurl: smtps:// or smtp:// with STARTTLS required (unless tls = none),
 * AUTH when a user is configured, certificate and host verification on
 * (plus ca_file), connect and response timeouts. Blocking: the daemon calls
 * it in a child process, never on the event loop.
 *
 * The outcome is classified for the outbox: transient failures (no
 * connection, timeouts, 4xx) are retried later, permanent ones (5xx, TLS or
 * authentication refused) are not. */
#ifndef MERCI_SMTP_SEND_H
#define MERCI_SMTP_SEND_H

#include <curl/curl.h>
#include <stddef.h>

struct config;

enum smtp_result {
	SMTP_SENT = 0,
	SMTP_TEMPFAIL = 1,
	SMTP_PERMFAIL = 2,
};

struct smtp_outcome {
	enum smtp_result result;
	long code;          /* last SMTP reply code, 0 when none came */
	char *error;        /* newly allocated one-line reason (server:port, what, fix); NULL when sent */
};

/* Sends data (len bytes, CRLF) from mail_from to rcpt (bare addresses,
 * validated: no CR/LF/NUL/space/<>) through cfg->smtp. The password, if
 * any, is read with config_secret_read and wiped after use. */
void smtp_send(const struct config *cfg, const char *mail_from, const char *rcpt,
	       const char *data, size_t len, struct smtp_outcome *out);
void smtp_outcome_free(struct smtp_outcome *o);

struct config_smtp;
/* Points c at the configured server with merci's transport rules (TLS as
 * configured, never opportunistic, TLS 1.2 or newer, peer and host
 * verified, timeouts); url (url_size bytes) must outlive the transfer.
 * Shared with the connection probe so both reach the server the same way. */
void smtp_transport_set(CURL *c, const struct config_smtp *smtp, char *url, size_t url_size);

#endif
