/* imap_session: one authenticated IMAP connection of the IMAP child.
 *
 * Owns the libetpan session: connects with the account's TLS mode (implicit
 * TLS, mandatory STARTTLS, or plain for a trusted local server), verifies the
 * certificate chain and host name (tls_verify) before any secret is sent,
 * refuses PREAUTH, logs in with the password read just for that moment, and
 * refreshes the capability list. Failures come back as a record error class
 * (lib/record.h) plus one line naming the server and the fix. */
#ifndef MERCI_IMAP_SESSION_H
#define MERCI_IMAP_SESSION_H

struct config;
struct config_account;
struct mailimap;            /* libetpan */

struct imap_session {
	struct mailimap *imap;              /* owned */
	const struct config_account *acct;  /* foreign */
	char *caps;                         /* owned: capabilities after login, space separated */
	void *tls;                          /* foreign: libetpan's gnutls_session_t, NULL in clear */
};

/* The outcome of a failed step: class is an enum record_err, text a newly
 * allocated "host:port: what happened; the fix" line (never a secret). */
struct imap_failure {
	int err_class;
	char *text;
};

/* Connects, verifies and logs in. Returns 0 and a new session in *out, or -1
 * and fills *fail (the caller frees fail->text). */
int imap_session_open(const struct config *cfg, const struct config_account *acct,
		      struct imap_session **out, struct imap_failure *fail);

/* Logs out politely when the connection is still in step, then frees all.
 * Accepts NULL. */
void imap_session_close(struct imap_session *s);

/* Drops the connection without a LOGOUT: for a desynchronised stream. */
void imap_session_abort(struct imap_session *s);

/* Fills *fail for a libetpan error code r returned by the step named what
 * (e.g. "EXAMINE INBOX"): timeouts and stream errors are TEMP, parse errors
 * PROTOCOL, server refusals carry the server's own words. */
void imap_session_fail(const struct imap_session *s, int r, const char *what,
		       struct imap_failure *fail);

#endif
