/* smtp_send: owns one SMTP submission through libcurl's easy interface:
 * the curl handle, the envelope checks, the password's short life in
 * memory, and the translation of curl's outcome into the outbox's three
 * results with a one-line "host:port: what; fix" reason for the owner. */
#include "smtp_send.h"

#include "config.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The last reply line, kept short: it goes into a one-line error. */
#define REPLY_MAX 160

struct upload {
	const char *data;
	size_t len, off;
};

struct session {
	char where[300];          /* "host:port" for messages */
	char reply[REPLY_MAX];    /* last server reply line, controls removed */
	char errbuf[CURL_ERROR_SIZE];
};

static size_t
upload_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = u->len - u->off, room = size * nmemb;

	if (n > room)
		n = room;
	memcpy(dst, u->data + u->off, n);
	u->off += n;
	return n;
}

/* curl hands SMTP reply lines to the header callback; keep the last 4xx or
 * 5xx one so a refusal can quote the server's own words (a later QUIT's
 * 221 must not hide it). */
static size_t
reply_keep(char *line, size_t size, size_t nmemb, void *arg)
{
	struct session *s = arg;
	size_t n = size * nmemb, j = 0;

	if (n == 0 || (line[0] != '4' && line[0] != '5'))
		return n;
	for (size_t i = 0; i < n && j + 1 < sizeof(s->reply); i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\r' || c == '\n')
			break;
		s->reply[j++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	s->reply[j] = '\0';
	return n;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* curl 7.88 sends CR/LF in envelope addresses as is: refuse them here. */
static bool
envelope_ok(const char *a)
{
	if (!a || !*a || !strchr(a, '@') || strlen(a) > 254)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

static void
outcome_set(struct smtp_outcome *o, enum smtp_result r, const struct session *s,
	    const char *what, const char *fix)
{
	o->result = r;
	o->error = xasprintf("%s: %s; %s", s->where, what, fix);
}

/* The curl errors that mean the configuration or the server's setup is
 * wrong: retrying cannot help until the owner acts. */
static bool
config_error(const struct session *s, CURLcode rc, struct smtp_outcome *o)
{
	char what[CURL_ERROR_SIZE + 64];
	const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_LOGIN_DENIED:
		snprintf(what, sizeof(what), "login refused (%s)", s->reply[0] ? s->reply : detail);
		outcome_set(o, SMTP_PERMFAIL, s, what, "check user and the password source");
		return true;
	case CURLE_USE_SSL_FAILED:
		if (s->reply[0])
			snprintf(what, sizeof(what), "STARTTLS refused (%s)", s->reply);
		else
			snprintf(what, sizeof(what), "STARTTLS not offered");
		outcome_set(o, SMTP_PERMFAIL, s, what,
		    "use smtps:// or tls = none for a trusted local server");
		return true;
	case CURLE_PEER_FAILED_VERIFICATION:
		if (strstr(detail, "does not match")) {
			snprintf(what, sizeof(what), "certificate is for another name (%s)", detail);
			outcome_set(o, SMTP_PERMFAIL, s, what,
			    "use the host name the certificate names in url");
		} else
			outcome_set(o, SMTP_PERMFAIL, s, "certificate not trusted",
			    "set ca_file or fix the server's chain");
		return true;
	case CURLE_SSL_CACERT_BADFILE:
		outcome_set(o, SMTP_PERMFAIL, s, "cannot load ca_file",
		    "point ca_file at a readable PEM file");
		return true;
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		snprintf(what, sizeof(what), "certificate refused (%s)", detail);
		outcome_set(o, SMTP_PERMFAIL, s, what, "set ca_file or fix the server's chain");
		return true;
	case CURLE_SSL_CONNECT_ERROR:
		/* Not a busy server: no shared TLS version (we ask for 1.2 or
		 * newer, and a server stuck at 1.0 often just hangs up without
		 * saying why) or no TLS on this port. Like IMAP's handshake
		 * failures, it waits for the owner to act. */
		snprintf(what, sizeof(what), "TLS handshake failed (%s)", detail);
		outcome_set(o, SMTP_PERMFAIL, s, what, "merci requires TLS 1.2 or newer: "
		    "check the server's TLS versions, and that this port speaks TLS (smtps://) "
		    "or STARTTLS (smtp://)");
		return true;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		outcome_set(o, SMTP_PERMFAIL, s, "bad server address", "fix url in [smtp]");
		return true;
	default:
		return false;
	}
}

static void
classify_reply(const struct session *s, long code, struct smtp_outcome *o)
{
	char what[REPLY_MAX + 64];
	const char *text = s->reply[0] ? s->reply : "no text";

	if (code == 530) {
		snprintf(what, sizeof(what), "server requires a login (%s)", text);
		outcome_set(o, SMTP_PERMFAIL, s, what,
		    "set user and a password source in [smtp]");
	} else if (code >= 500) {
		snprintf(what, sizeof(what), "server refused the message (%s)", text);
		outcome_set(o, SMTP_PERMFAIL, s, what,
		    "check the owner address and the server's policy");
	} else {
		snprintf(what, sizeof(what), "server asked to try later (%s)", text);
		outcome_set(o, SMTP_TEMPFAIL, s, what, "merci will try again later");
	}
}

static void
classify(const struct session *s, CURLcode rc, long code, struct smtp_outcome *o)
{
	char what[CURL_ERROR_SIZE + 64];
	const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);

	o->code = code;
	if (rc == CURLE_OK) {
		o->result = SMTP_SENT;
		return;
	}
	/* A 4xx during login or STARTTLS is the server being busy, not a
	 * configuration problem. */
	if (code >= 400 && code < 500) {
		classify_reply(s, code, o);
		return;
	}
	if (config_error(s, rc, o))
		return;
	if (code >= 500) {
		classify_reply(s, code, o);
		return;
	}
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		outcome_set(o, SMTP_TEMPFAIL, s, "host name not found",
		    "check url in [smtp]; merci will try again later");
		return;
	case CURLE_COULDNT_CONNECT:
		outcome_set(o, SMTP_TEMPFAIL, s, "connection refused or unreachable",
		    "check that the server is up and url's port; merci will try again later");
		return;
	case CURLE_OPERATION_TIMEDOUT:
		/* The body may have gone through: the fixed Message-ID lets a
		 * duplicate be recognised. */
		outcome_set(o, SMTP_TEMPFAIL, s, "timed out",
		    "merci will try again later; raise timeout in [smtp] if the server is slow");
		return;
	default:
		break;
	}
	snprintf(what, sizeof(what), "%s", detail);
	outcome_set(o, SMTP_TEMPFAIL, s, what, "merci will try again later");
}

/* Sets the credentials; the password leaves our memory as soon as curl has
 * its own copy. Returns false with o filled when the secret is unreadable. */
static bool
auth_set(CURL *c, const struct config *cfg, const struct session *s, struct smtp_outcome *o)
{
	char *pw = NULL, *err = NULL;

	if (!cfg->smtp.user)
		return true;
	if (config_secret_read(cfg, &cfg->smtp.secret, "smtp", &pw, &err) < 0) {
		outcome_set(o, SMTP_PERMFAIL, s, err ? err : "cannot read the password",
		    "fix the password source of [smtp]");
		free(err);
		return false;
	}
	curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp.user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return true;
}

void
smtp_transport_set(CURL *c, const struct config_smtp *smtp, char *url, size_t url_size)
{
	bool v6 = strchr(smtp->host, ':') != NULL;
	long t = smtp->timeout > 0 ? (long)smtp->timeout : 60;

	snprintf(url, url_size, "%s://%s%s%s:%d/", smtp->tls == TLS_IMPLICIT ? "smtps" : "smtp",
	    v6 ? "[" : "", smtp->host, v6 ? "]" : "", smtp->port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* TRY would fall back to plain text without a word: never use it. */
	if (smtp->tls == TLS_STARTTLS)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	else if (smtp->tls == TLS_NONE)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
	/* TLS 1.0 and 1.1 are broken and deprecated (RFC 8996). */
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (smtp->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, smtp->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t);
	curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, t);
	/* Each step may take t; the whole exchange is bounded too, so a
	 * trickling server cannot hold the child for ever. */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, t * 4);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

static void
session_run(CURL *c, const struct config *cfg, struct session *s, const char *mail_from,
	    struct curl_slist *rcpts, struct upload *u, struct smtp_outcome *o)
{
	char url[400], from[300];
	long code = 0;
	CURLcode rc;

	smtp_transport_set(c, &cfg->smtp, url, sizeof(url));
	snprintf(from, sizeof(from), "<%s>", mail_from);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(c, CURLOPT_READDATA, u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->len);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, reply_keep);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	if (!auth_set(c, cfg, s, o))
		return;
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	classify(s, rc, code, o);
}

void
smtp_send(const struct config *cfg, const char *mail_from, const char *rcpt,
	  const char *data, size_t len, struct smtp_outcome *out)
{
	struct session s = { 0 };
	struct upload u = { data, len, 0 };
	struct curl_slist *rcpts = NULL;
	CURL *c;

	memset(out, 0, sizeof(*out));
	snprintf(s.where, sizeof(s.where), cfg->smtp.host && strchr(cfg->smtp.host, ':') ?
	    "[%s]:%d" : "%s:%d", cfg->smtp.host ? cfg->smtp.host : "smtp", cfg->smtp.port);
	if (!cfg->smtp.present || !cfg->smtp.host) {
		outcome_set(out, SMTP_PERMFAIL, &s, "no SMTP server configured",
		    "add an [smtp] section with url");
		return;
	}
	if (!envelope_ok(mail_from) || !envelope_ok(rcpt)) {
		outcome_set(out, SMTP_PERMFAIL, &s, "invalid envelope address",
		    "use a plain address like name@example.org for owner");
		return;
	}
	if (!(c = curl_easy_init()) || !(rcpts = curl_slist_append(NULL, rcpt))) {
		outcome_set(out, SMTP_TEMPFAIL, &s, "cannot start libcurl", "merci will try again later");
		curl_easy_cleanup(c);
		return;
	}
	session_run(c, cfg, &s, mail_from, rcpts, &u, out);
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(c);
}

void
smtp_outcome_free(struct smtp_outcome *o)
{
	if (!o)
		return;
	free(o->error);
	o->error = NULL;
}
