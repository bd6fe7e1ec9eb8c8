/* imap_session: the IMAP child's connection. It owns the libetpan session and
 * every step before mail can be read: transport and TLS mode, our own
 * certificate check (libetpan does none), refusing PREAUTH, LOGIN with a
 * password that lives only for that call, and the post-login capabilities. */
#include <arpa/inet.h>
#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "imap_session.h"
#include "log.h"
#include "record.h"
#include "tls_verify.h"
#include "xalloc.h"

/* Server words quoted in a failure line are cut here: enough to explain,
 * too short to flood the log with whatever a hostile server sends. */
#define SESSION_QUOTE_MAX 160

static void
session_set_fail(const struct imap_session *s, struct imap_failure *fail,
		 int err_class, const char *what)
{
	free(fail->text);
	fail->err_class = err_class;
	fail->text = xasprintf("%s:%d: %s", s->acct->host, s->acct->port, what);
}

/* Same, taking ownership of a formatted what. */
static void
session_set_failf(const struct imap_session *s, struct imap_failure *fail,
		  int err_class, char *what)
{
	session_set_fail(s, fail, err_class, what);
	free(what);
}

/* The server's last response text, for quoting; "" when none. */
static char *
session_server_words(const struct imap_session *s)
{
	const char *w = s->imap ? s->imap->imap_response : NULL;

	if (w == NULL || *w == '\0')
		return xstrdup("");
	return xasprintf(" (server said: %.*s)", SESSION_QUOTE_MAX, w);
}

void
imap_session_fail(const struct imap_session *s, int r, const char *what,
		  struct imap_failure *fail)
{
	char *words;

	if (r == MAILIMAP_ERROR_STREAM) {
		session_set_failf(s, fail, RECERR_TEMP, xasprintf("connection lost or timed "
				  "out during %s; merci will retry", what));
		return;
	}
	if (r == MAILIMAP_ERROR_PARSE) {
		session_set_failf(s, fail, RECERR_PROTOCOL, xasprintf("cannot parse the "
				  "server's reply to %s; report it to the server's operator", what));
		return;
	}
	words = session_server_words(s);
	session_set_failf(s, fail, RECERR_PROTOCOL, xasprintf("server refused %s%s; "
			  "check the account settings", what, words));
	free(words);
}

static int
session_is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* libetpan's only way to set SNI in 1.9.4; RFC 6066 forbids it for IPs. */
static void
session_ssl_setup(struct mailstream_ssl_context *ctx, void *data)
{
	char *host = data;

	if (!session_is_ip(host))
		mailstream_ssl_set_server_name(ctx, host);
}

static void
session_keepalive(struct imap_session *s)
{
	int fd = mailstream_low_get_fd(mailstream_get_low(s->imap->imap_stream));
	int on = 1;

	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
		log_debug("%s: cannot set SO_KEEPALIVE", s->acct->host);
}

static int
session_connect_fail(struct imap_session *s, int r, struct imap_failure *fail)
{
	if (r == MAILIMAP_NO_ERROR_AUTHENTICATED) {
		session_set_fail(s, fail, RECERR_PROTOCOL, "server greeted with PREAUTH; refusing it");
	} else if (r == MAILIMAP_ERROR_CONNECTION_REFUSED) {
		session_set_fail(s, fail, RECERR_TEMP, "connection refused; check the url "
				 "and that the server is running");
	} else if (r == MAILIMAP_ERROR_SSL) {
		session_set_fail(s, fail, RECERR_TLS, "TLS handshake failed; check that this "
				 "port speaks TLS (imaps://) or use imap://");
	} else if (r == MAILIMAP_ERROR_STREAM) {
		session_set_fail(s, fail, RECERR_TEMP, "cannot connect, or no greeting "
				 "before the timeout; check the url and the server");
	} else {
		session_set_fail(s, fail, RECERR_PROTOCOL, "server did not greet as an IMAP "
				 "server; check the url");
	}
	return -1;
}

static int
session_has_cap(struct mailimap_capability_data *cd, const char *name)
{
	clistiter *it;

	for (it = clist_begin(cd->cap_list); it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);

		if (c->cap_type == MAILIMAP_CAPABILITY_NAME && c->cap_data.cap_name &&
		    strcasecmp(c->cap_data.cap_name, name) == 0)
			return 1;
	}
	return 0;
}

static int
session_starttls(struct imap_session *s, struct imap_failure *fail)
{
	struct mailimap_capability_data *cd = NULL;
	int r, has;

	if ((r = mailimap_capability(s->imap, &cd)) != MAILIMAP_NO_ERROR) {
		imap_session_fail(s, r, "CAPABILITY", fail);
		return -1;
	}
	has = session_has_cap(cd, "STARTTLS");
	mailimap_capability_data_free(cd);
	if (!has) {
		session_set_fail(s, fail, RECERR_TLS, "server does not offer STARTTLS; use "
				 "imaps:// or set tls = none for a trusted local server");
		return -1;
	}
	r = mailimap_socket_starttls_with_callback(s->imap, session_ssl_setup,
						   s->acct->host);
	if (r != MAILIMAP_NO_ERROR) {
		session_set_fail(s, fail, RECERR_TLS, "STARTTLS failed; check the server's "
				 "TLS setup or use imaps://");
		return -1;
	}
	return 0;
}

static int
session_verify(struct imap_session *s, struct imap_failure *fail)
{
	carray *chain = mailstream_get_certificate_chain(s->imap->imap_stream);
	size_t n = chain ? carray_count(chain) : 0, i;
	struct tls_der *der = xcalloc(n ? n : 1, sizeof(*der));
	char *err = NULL;
	int rc;

	for (i = 0; i < n; i++) {
		MMAPString *m = carray_get(chain, i);

		der[i].data = (const unsigned char *)m->str;
		der[i].len = m->len;
	}
	rc = tls_verify_der_chain(der, n, s->acct->host, s->acct->ca_file, &err);
	if (rc < 0)
		session_set_fail(s, fail, RECERR_TLS, err);
	free(err);
	free(der);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return rc;
}

static int
session_connect(struct imap_session *s, struct imap_failure *fail)
{
	const struct config_account *a = s->acct;
	int r;

	s->imap = mailimap_new(0, NULL);
	if (s->imap == NULL) {
		session_set_fail(s, fail, RECERR_TEMP, "out of memory");
		return -1;
	}
	/* Only copied into the stream at connect time: set it first. */
	mailimap_set_timeout(s->imap, (time_t)a->timeout);
	if (a->tls == TLS_IMPLICIT)
		r = mailimap_ssl_connect_with_callback(s->imap, a->host, (uint16_t)a->port,
						       session_ssl_setup, a->host);
	else
		r = mailimap_socket_connect(s->imap, a->host, (uint16_t)a->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
		return session_connect_fail(s, r, fail);
	session_keepalive(s);
	if (a->tls == TLS_STARTTLS && session_starttls(s, fail) < 0)
		return -1;
	if (a->tls != TLS_NONE && session_verify(s, fail) < 0)
		return -1;
	return 0;
}

static int
session_login(struct imap_session *s, const struct config *cfg, struct imap_failure *fail)
{
	char *section = xasprintf("account %s", s->acct->name);
	char *pass = NULL, *err = NULL;
	int r;

	r = config_secret_read(cfg, &s->acct->secret, section, &pass, &err);
	free(section);
	if (r < 0) {
		session_set_fail(s, fail, RECERR_CONFIG, err ? err : "cannot read the password");
		free(err);
		return -1;
	}
	r = mailimap_login(s->imap, s->acct->user, pass);
	explicit_bzero(pass, strlen(pass));
	free(pass);
	if (r == MAILIMAP_ERROR_LOGIN) {
		char *words = session_server_words(s);

		session_set_failf(s, fail, RECERR_AUTH, xasprintf("login refused for user "
				  "%s%s; check user and the password source",
				  s->acct->user, words));
		free(words);
		return -1;
	}
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(s, r, "LOGIN", fail);
		return -1;
	}
	return 0;
}

/* Servers change their list after authentication, so ask again. */
static int
session_capabilities(struct imap_session *s, struct imap_failure *fail)
{
	struct mailimap_capability_data *cd = NULL;
	struct buf b = { 0 };
	clistiter *it;
	int r;

	if ((r = mailimap_capability(s->imap, &cd)) != MAILIMAP_NO_ERROR) {
		imap_session_fail(s, r, "CAPABILITY", fail);
		return -1;
	}
	for (it = clist_begin(cd->cap_list); it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);
		const char *name = c->cap_data.cap_name;

		if (name == NULL)
			continue;
		buf_printf(&b, "%s%s%s", b.len ? " " : "",
			   c->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE ? "AUTH=" : "", name);
	}
	mailimap_capability_data_free(cd);
	s->caps = buf_steal(&b);
	return 0;
}

int
imap_session_open(const struct config *cfg, const struct config_account *acct,
		  struct imap_session **out, struct imap_failure *fail)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));

	s->acct = acct;
	*out = NULL;
	if (session_connect(s, fail) < 0 || session_login(s, cfg, fail) < 0 ||
	    session_capabilities(s, fail) < 0) {
		imap_session_abort(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
imap_session_abort(struct imap_session *s)
{
	if (s == NULL)
		return;
	if (s->imap)
		mailimap_free(s->imap);
	free(s->caps);
	free(s);
}

void
imap_session_close(struct imap_session *s)
{
	if (s == NULL)
		return;
	if (s->imap && s->imap->imap_stream)
		(void)mailimap_logout(s->imap);
	imap_session_abort(s);
}
