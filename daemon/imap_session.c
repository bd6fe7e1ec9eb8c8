/* imap_session: the IMAP child's connection. It owns the libetpan session and
 * every step before mail can be read: transport and TLS mode, our own
 * certificate check (libetpan does none), refusing PREAUTH, LOGIN with a
 * password that lives only for that call, and the post-login capabilities. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>
#include <stdint.h>
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

/* The start of libetpan's private struct mailstream_ssl_context in its
 * GnuTLS build (mailstream_ssl.c). The SSL callback is the only place
 * libetpan shows us the GnuTLS session, and libetpan sets its own priority
 * ("NORMAL", TLS 1.0 included) after the callback returns, so no priority
 * set there would last: the version is checked once the handshake is done.
 * The mirror is trusted only when its fd is the one libetpan reports, and
 * the session only when it carries the connection's socket. */
struct session_gnutls_ctx {
	int fd;
	gnutls_session_t session;
};

/* Runs before the handshake: SNI (libetpan's only way in 1.9.4; RFC 6066
 * forbids it for IPs), and keeping the GnuTLS session for the version
 * check. */
static void
session_ssl_setup(struct mailstream_ssl_context *ctx, void *data)
{
	struct imap_session *s = data;
	const struct session_gnutls_ctx *g = (const void *)ctx;

	if (!session_is_ip(s->acct->host))
		mailstream_ssl_set_server_name(ctx, s->acct->host);
	s->tls = NULL;
	if (g->fd >= 0 && g->fd == mailstream_ssl_get_fd(ctx))
		s->tls = g->session;
}

static const char *
session_tls_name(int v)
{
	switch (v) {
	case GNUTLS_SSL3: return "SSL 3.0";
	case GNUTLS_TLS1_0: return "TLS 1.0";
	case GNUTLS_TLS1_1: return "TLS 1.1";
	default: return "an unknown TLS version";
	}
}

/* Refuses a handshake that settled on less than TLS 1.2, before anything
 * secret is sent. A session we could not get hold of is refused as well:
 * no LOGIN on a connection whose protocol we do not know. */
static int
session_tls_version(struct imap_session *s, struct imap_failure *fail)
{
	int fd = mailstream_low_get_fd(mailstream_get_low(s->imap->imap_stream));
	int v;

	/* The session must be the one carrying this connection's socket. */
	if (s->tls == NULL || fd < 0 ||
	    (int)(intptr_t)gnutls_transport_get_ptr(s->tls) != fd) {
		session_set_fail(s, fail, RECERR_TLS, "cannot tell which TLS version was "
				 "negotiated (unexpected libetpan build); merci requires TLS 1.2 "
				 "or newer and will not log in");
		return -1;
	}
	v = gnutls_protocol_get_version(s->tls);
	if (v >= GNUTLS_TLS1_2 && v != GNUTLS_VERSION_UNKNOWN)
		return 0;
	session_set_failf(s, fail, RECERR_TLS, xasprintf("server offers only %s; merci "
			  "requires TLS 1.2 or newer (fix the server's TLS settings)",
			  session_tls_name(v)));
	return -1;
}

/* Two gaps in libetpan 1.9.4's reads, closed by wrapping the read function
 * of the connection's driver (socket or TLS; the other functions stay
 * libetpan's own):
 * - the plain socket driver returns 0 at end of file, and the literal
 *   reader takes 0 for "no bytes yet" and loops forever, so a connection
 *   cut inside a FETCH literal spun the child until the parent killed it;
 * - mailstream_read keeps the bytes it got before a timeout and returns
 *   them, so the caller waits a whole timeout again before it sees the
 *   error: a silent server cost twice the account's timeout, or more.
 * The wrapper turns end of file into an error, as the TLS driver already
 * does, and makes a failed read final for that connection. */
struct session_guard {
	mailstream_low_driver drv;              /* first: found from low->driver */
	const mailstream_low_driver *orig;      /* libetpan's */
};

static struct session_guard session_guards[2];     /* socket, TLS */
/* The child has one connection at a time: its low once a read failed. */
static const mailstream_low *session_dead;

static ssize_t
session_guard_read(mailstream_low *low, void *buf, size_t count)
{
	const struct session_guard *g = (const void *)low->driver;
	ssize_t n;

	if (low == session_dead)
		return -1;
	n = g->orig->mailstream_read(low, buf, count);
	if (n < 0 || (n == 0 && count > 0)) {
		session_dead = low;
		return -1;
	}
	return n;
}

/* After each connect or STARTTLS: the stream's low-level part is new. */
static void
session_guard_install(struct imap_session *s)
{
	mailstream_low *low = mailstream_get_low(s->imap->imap_stream);
	struct session_guard *g = NULL;
	size_t i;

	session_dead = NULL;
	if (low == NULL || low->driver == NULL ||
	    low->driver->mailstream_read == session_guard_read)
		return;
	for (i = 0; i < sizeof(session_guards) / sizeof(*session_guards); i++) {
		g = &session_guards[i];
		if (g->orig == NULL) {
			g->orig = low->driver;
			g->drv = *low->driver;
			g->drv.mailstream_read = session_guard_read;
		}
		if (g->orig == low->driver) {
			low->driver = &g->drv;
			return;
		}
	}
	log_debug("%s: unknown libetpan stream driver; end of file not guarded",
		  s->acct->host);
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
	r = mailimap_socket_starttls_with_callback(s->imap, session_ssl_setup, s);
	if (r != MAILIMAP_NO_ERROR) {
		session_set_fail(s, fail, RECERR_TLS, "STARTTLS failed; check the server's "
				 "TLS setup or use imaps://");
		return -1;
	}
	session_guard_install(s);
	return session_tls_version(s, fail);
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
						       session_ssl_setup, s);
	else
		r = mailimap_socket_connect(s->imap, a->host, (uint16_t)a->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
		return session_connect_fail(s, r, fail);
	session_keepalive(s);
	session_guard_install(s);
	if (a->tls == TLS_IMPLICIT && session_tls_version(s, fail) < 0)
		return -1;
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
	/* mailimap_free sends LOGOUT and waits for the answer when the stream
	 * is still there: on a dead connection that cost two more timeouts. */
	if (s->imap && s->imap->imap_stream) {
		mailstream_close(s->imap->imap_stream);
		s->imap->imap_stream = NULL;
	}
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
