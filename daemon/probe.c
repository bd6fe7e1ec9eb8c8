/* probe: owns the trial connections of "merci init" and "merci config check
 * --connect". The IMAP half reuses imap_session for every step that sends a
 * secret, then lists folders the way imap_sync does for "folders = auto"
 * (replicated here, read-only, so the sync code stays its owner's). The SMTP
 * half mirrors smtp_send's transport settings but ends with NOOP: nothing
 * is ever queued or delivered. */
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "imap_folders.h"
#include "imap_session.h"
#include "imap_utf7.h"
#include "probe.h"
#include "smtp_send.h"
#include "xalloc.h"

/* Text a server chose (names, replies) is cut here and stripped of
 * controls: enough to recognise, never a terminal escape. */
#define PROBE_TEXT_MAX 160

/* Capabilities that change how mercid syncs, and what each buys. */
static const struct {
	const char *name;
	const char *why;
} probe_caps[] = {
	{ "IDLE", "new mail pushed" },
	{ "CONDSTORE", "flag changes tracked" },
	{ "QRESYNC", "fast resync" },
	{ "SPECIAL-USE", "Sent folder marked" },
};

static void
probe_line(struct probe_report *r, char *line)
{
	r->lines = xrealloc(r->lines, (r->n_lines + 1) * sizeof(*r->lines));
	r->lines[r->n_lines++] = line;
}

static int
probe_failed(struct probe_report *r, char *reason)
{
	free(r->reason);
	r->ok = false;
	r->reason = reason;
	return -1;
}

/* A copy of server-chosen text safe to print on one line. */
static char *
probe_clean(const char *s, size_t len)
{
	char *out;
	size_t i;

	if (len > PROBE_TEXT_MAX)
		len = PROBE_TEXT_MAX;
	out = xstrndup(s, len);
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return out;
}

static const char *
probe_tls_name(int tls)
{
	switch (tls) {
	case TLS_IMPLICIT: return "implicit TLS";
	case TLS_STARTTLS: return "STARTTLS";
	default: return "none (plain text)";
	}
}

static void
probe_date(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, size, "unknown");
	else
		strftime(out, size, "%Y-%m-%d", &tm);
}

/* ---- IMAP ---- */

/* "subject ..., issued by ..., expires ..." of the leaf the server sent. */
static void
probe_imap_cert(struct probe_report *r, struct mailimap *imap)
{
	carray *chain = mailstream_get_certificate_chain(imap->imap_stream);
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t der, dn = { NULL, 0 }, issuer = { NULL, 0 };
	MMAPString *leaf;
	char date[32], *s = NULL, *i = NULL;

	if (chain == NULL || carray_count(chain) == 0)
		goto out;
	leaf = carray_get(chain, 0);
	der.data = (unsigned char *)leaf->str;
	der.size = (unsigned int)leaf->len;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0 ||
	    gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0) < 0)
		goto out;
	probe_date(gnutls_x509_crt_get_expiration_time(crt), date, sizeof(date));
	s = probe_clean((const char *)dn.data, dn.size);
	i = probe_clean((const char *)issuer.data, issuer.size);
	probe_line(r, xasprintf("certificate: %s, issued by %s, expires %s", s, i, date));
out:
	free(s);
	free(i);
	gnutls_free(dn.data);
	gnutls_free(issuer.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (chain)
		mailstream_certificate_chain_free(chain);
}

static bool
probe_has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p && *p) {
		size_t len = strcspn(p, " ");

		if (len == n && strncasecmp(p, word, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

static void
probe_imap_caps(struct probe_report *r, const char *caps)
{
	struct buf has = { 0 }, lacks = { 0 };
	size_t k;

	for (k = 0; k < sizeof(probe_caps) / sizeof(probe_caps[0]); k++) {
		struct buf *b = probe_has_word(caps, probe_caps[k].name) ? &has : &lacks;

		buf_printf(b, "%s%s", b->len ? ", " : "", probe_caps[k].name);
		if (b == &has)
			buf_printf(b, " (%s)", probe_caps[k].why);
	}
	probe_line(r, xasprintf("capabilities: %s%s%s", has.len ? has.data : "none of note",
				lacks.len ? "; not offered: " : "", lacks.len ? lacks.data : ""));
	buf_free(&has);
	buf_free(&lacks);
}

static bool
probe_list_has(clist *list, const char *raw)
{
	clistiter *it;

	for (it = clist_begin(list); it; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);

		if (!imap_folder_selectable(mb))
			continue;
		if (strcasecmp(raw, "INBOX") == 0 ? strcasecmp(mb->mb_name, "INBOX") == 0 :
		    strcmp(mb->mb_name, raw) == 0)
			return true;
	}
	return false;
}

/* " (N messages)" from STATUS, or "" when the server would not say. */
static char *
probe_count(struct mailimap *imap, const char *raw)
{
	struct mailimap_status_att_list *atts = mailimap_status_att_list_new_empty();
	struct mailimap_mailbox_data_status *st = NULL;
	char *out = NULL;
	clistiter *it;
	int r;

	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
	r = mailimap_status(imap, raw, atts, &st);
	mailimap_status_att_list_free(atts);
	if (r == MAILIMAP_NO_ERROR && st != NULL) {
		for (it = clist_begin(st->st_info_list); it && !out; it = clist_next(it)) {
			const struct mailimap_status_info *si = clist_content(it);

			if (si->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
				out = xasprintf("%u message%s", si->st_value,
						si->st_value == 1 ? "" : "s");
		}
	}
	if (st)
		mailimap_mailbox_data_status_free(st);
	return out ? out : xstrdup("count unknown");
}

/* "INBOX (12 messages)" or "Sent (\Sent special-use, 3 messages)". */
static void
probe_folder_add(struct buf *b, struct mailimap *imap, const char *raw, const char *why)
{
	char *name = imap_utf7_decode(raw), *clean, *count = probe_count(imap, raw);

	clean = probe_clean(name ? name : raw, strlen(name ? name : raw));
	buf_printf(b, "%s%s (%s%s%s)", b->len ? ", " : "", clean, why ? why : "",
		   why ? ", " : "", count);
	free(clean);
	free(count);
	free(name);
}

static int
probe_imap_folders(struct probe_report *r, struct imap_session *s)
{
	const struct config_account *a = s->acct;
	struct buf b = { 0 };
	clist *list = NULL;
	const char *sent;
	bool special;
	struct imap_failure fail = { 0, NULL };
	size_t i;
	int rc = 0, ir;

	if ((ir = mailimap_list(s->imap, "", "*", &list)) != MAILIMAP_NO_ERROR) {
		imap_session_fail(s, ir, "LIST", &fail);
		return probe_failed(r, fail.text);
	}
	if (a->folders == NULL) {
		probe_folder_add(&b, s->imap, "INBOX", NULL);
		sent = imap_folder_find_sent(list, &special);
		if (sent && strcasecmp(sent, "INBOX") != 0)
			probe_folder_add(&b, s->imap, sent,
					 special ? "\\Sent special-use" : "found by name, no \\Sent mark");
		else
			buf_adds(&b, "; Sent folder: none found, mercid reads INBOX only and "
				 "will not see your replies");
		probe_line(r, xasprintf("folders (auto): %s", b.data));
	} else {
		for (i = 0; i < a->n_folders && rc == 0; i++) {
			char *raw = imap_utf7_encode(a->folders[i]);

			if (raw && probe_list_has(list, raw)) {
				probe_folder_add(&b, s->imap, raw, NULL);
			} else {
				rc = probe_failed(r, xasprintf("%s:%d: folder \"%s\" does not exist "
						  "on the server; fix folders in [account %s] (or use "
						  "folders = auto)", a->host, a->port, a->folders[i],
						  a->name));
			}
			free(raw);
		}
		if (rc == 0)
			probe_line(r, xasprintf("folders: %s", b.data));
	}
	buf_free(&b);
	mailimap_list_result_free(list);
	return rc;
}

int
probe_imap(const struct config *cfg, const struct config_account *acct,
	   struct probe_report *out)
{
	struct imap_failure fail = { 0, NULL };
	struct imap_session *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	probe_line(out, xasprintf("server: %s:%d, TLS: %s", acct->host, acct->port,
				  probe_tls_name(acct->tls)));
	if (imap_session_open(cfg, acct, &s, &fail) < 0)
		return probe_failed(out, fail.text ? fail.text :
				    xasprintf("%s:%d: cannot connect", acct->host, acct->port));
	if (acct->tls != TLS_NONE) {
		probe_line(out, xasprintf("TLS: %s, certificate verified for %s%s",
					  probe_tls_name(acct->tls), acct->host,
					  acct->ca_file ? " (with ca_file)" : ""));
		probe_imap_cert(out, s->imap);
	}
	probe_line(out, xasprintf("login: ok as %s", acct->user));
	probe_imap_caps(out, s->caps ? s->caps : "");
	rc = probe_imap_folders(out, s);
	imap_session_close(s);
	if (rc == 0)
		out->ok = true;
	return rc;
}

/* ---- SMTP ---- */

struct probe_smtp_state {
	char where[300];             /* "host:port" */
	char reply[PROBE_TEXT_MAX];  /* last 4xx/5xx reply line */
	char errbuf[CURL_ERROR_SIZE];
	struct buf ehlo;             /* keywords of the last EHLO reply */
	struct buf cur;              /* the EHLO reply being read */
	bool in_ehlo;
};

/* curl hands every reply line to the header callback: keep the last
 * refusal, and the keywords of the last EHLO (the one after STARTTLS is
 * what a login sees). */
static size_t
probe_smtp_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct probe_smtp_state *st = arg;
	size_t n = size * nmemb, len = n;
	char *clean;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 4 && (line[0] == '4' || line[0] == '5')) {
		clean = probe_clean(line, len);
		snprintf(st->reply, sizeof(st->reply), "%s", clean);
		free(clean);
		return n;
	}
	if (len < 4 || strncmp(line, "250", 3) != 0)
		return n;
	if (line[3] == '-' && !st->in_ehlo) {
		/* The first line is the server's name, not a keyword. */
		st->in_ehlo = true;
		buf_reset(&st->cur);
		return n;
	}
	if (!st->in_ehlo)
		return n;
	clean = probe_clean(line + 4, len - 4);
	buf_printf(&st->cur, "%s%s", st->cur.len ? ", " : "", clean);
	free(clean);
	if (line[3] == ' ') {
		st->in_ehlo = false;
		buf_reset(&st->ehlo);
		if (st->cur.len)
			buf_adds(&st->ehlo, st->cur.data);
	}
	return n;
}

static size_t
probe_discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

static char *
probe_smtp_reason(const struct probe_smtp_state *st, CURLcode rc, long code)
{
	const char *detail = st->errbuf[0] ? st->errbuf : curl_easy_strerror(rc);
	const char *said = st->reply[0] ? st->reply : detail;

	switch (rc) {
	case CURLE_LOGIN_DENIED:
		return xasprintf("%s: login refused (%s); check user and the password "
				 "source in [smtp]", st->where, said);
	case CURLE_USE_SSL_FAILED:
		return xasprintf("%s: STARTTLS %s; use smtps:// or tls = none for a trusted "
				 "local server", st->where, st->reply[0] ? "refused" : "not offered");
	case CURLE_PEER_FAILED_VERIFICATION:
		if (strstr(detail, "does not match"))
			return xasprintf("%s: certificate is for another name (%s); use the "
					 "host name the certificate names in url", st->where, detail);
		return xasprintf("%s: certificate not trusted (%s); set ca_file or fix the "
				 "server's chain", st->where, detail);
	case CURLE_SSL_CACERT_BADFILE:
		return xasprintf("%s: cannot load ca_file; point ca_file at a readable PEM "
				 "file", st->where);
	case CURLE_SSL_CONNECT_ERROR:
		return xasprintf("%s: TLS handshake failed (%s); check that this port speaks "
				 "TLS (smtps://) or use smtp://", st->where, detail);
	case CURLE_COULDNT_RESOLVE_HOST:
		return xasprintf("%s: host name not found; check url in [smtp]", st->where);
	case CURLE_COULDNT_CONNECT:
		return xasprintf("%s: connection refused or unreachable; check url's port "
				 "and that the server is up", st->where);
	case CURLE_OPERATION_TIMEDOUT:
		return xasprintf("%s: timed out; check the url, or raise timeout in [smtp]",
				 st->where);
	default:
		break;
	}
	if (code == 530)
		return xasprintf("%s: server requires a login (%s); set user and a password "
				 "source in [smtp]", st->where, said);
	if (code >= 400)
		return xasprintf("%s: server answered %ld (%s); check the [smtp] settings",
				 st->where, code, said);
	return xasprintf("%s: %s; check the [smtp] settings", st->where, detail);
}

/* "certificate: ..., issued by ..., expires ..." from curl's CERTINFO. */
static void
probe_smtp_cert(struct probe_report *r, CURL *c)
{
	struct curl_certinfo *ci = NULL;
	const char *subj = NULL, *iss = NULL, *exp = NULL;
	struct curl_slist *sl;
	char *a, *b, *e;

	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return;
	/* Labels differ in case between curl's TLS back-ends. */
	for (sl = ci->certinfo[0]; sl; sl = sl->next) {
		if (strncasecmp(sl->data, "Subject:", 8) == 0)
			subj = sl->data + 8;
		else if (strncasecmp(sl->data, "Issuer:", 7) == 0)
			iss = sl->data + 7;
		else if (strncasecmp(sl->data, "Expire date:", 12) == 0)
			exp = sl->data + 12;
	}
	if (subj == NULL)
		return;
	a = probe_clean(subj, strlen(subj));
	b = probe_clean(iss ? iss : "?", strlen(iss ? iss : "?"));
	/* "2036-11-20 07:13:25 GMT": the day is enough, as for IMAP. */
	e = probe_clean(exp ? exp : "unknown", exp ? strcspn(exp, " ") : 7);
	probe_line(r, xasprintf("certificate: %s, issued by %s, expires %s", a, b, e));
	free(a);
	free(b);
	free(e);
}

/* One session that ends with cmd ("NOOP", or "VRFY" with rcpt). Sets the
 * credentials last so the password leaves our memory at once. */
static CURLcode
probe_smtp_run(CURL *c, const struct config *cfg, struct probe_smtp_state *st,
	       const char *cmd, struct curl_slist *rcpt, long *code, char **err)
{
	char url[400], *pw = NULL, *perr = NULL;
	CURLcode rc;

	curl_easy_reset(c);
	smtp_transport_set(c, &cfg->smtp, url, sizeof(url));
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cmd);
	if (rcpt)
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, probe_smtp_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, st);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, probe_discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, st->errbuf);
	st->errbuf[0] = st->reply[0] = '\0';
	st->in_ehlo = false;
	*code = 0;
	if (cfg->smtp.user) {
		if (config_secret_read(cfg, &cfg->smtp.secret, "smtp", &pw, &perr) < 0) {
			*err = xasprintf("%s: %s; fix the password source of [smtp]", st->where,
					 perr ? perr : "cannot read the password");
			free(perr);
			return CURLE_LOGIN_DENIED;
		}
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp.user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pw);
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	return rc;
}

/* After a 5xx to NOOP (some servers disable it), VRFY proves the session
 * got as far as a command; 252 and 550 are answers, not failures. */
static bool
probe_smtp_vrfy_ok(CURLcode rc, long code)
{
	return rc == CURLE_OK || code == 250 || code == 251 || code == 252 ||
	       code == 550 || code == 551 || code == 553;
}

int
probe_smtp(const struct config *cfg, struct probe_report *out)
{
	struct probe_smtp_state st;
	struct curl_slist *rcpt = NULL;
	char *err = NULL;
	long code = 0;
	CURLcode rc;
	CURL *c;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	if (!cfg->smtp.present || cfg->smtp.host == NULL)
		return probe_failed(out, xstrdup("no [smtp] section; nudges can only be "
						 "listed with merci nudges; add [smtp] with url"));
	snprintf(st.where, sizeof(st.where), strchr(cfg->smtp.host, ':') ? "[%s]:%d" : "%s:%d",
		 cfg->smtp.host, cfg->smtp.port);
	probe_line(out, xasprintf("server: %s, TLS: %s", st.where, probe_tls_name(cfg->smtp.tls)));
	if ((c = curl_easy_init()) == NULL)
		return probe_failed(out, xasprintf("%s: cannot start libcurl", st.where));
	rc = probe_smtp_run(c, cfg, &st, "NOOP", NULL, &code, &err);
	if (err == NULL && rc != CURLE_OK && code >= 500 && code != 530 &&
	    rc != CURLE_LOGIN_DENIED && cfg->owner_email) {
		rcpt = curl_slist_append(NULL, cfg->owner_email);
		rc = probe_smtp_run(c, cfg, &st, "VRFY", rcpt, &code, &err);
		if (err == NULL && probe_smtp_vrfy_ok(rc, code))
			rc = CURLE_OK;
		curl_slist_free_all(rcpt);
	}
	if (err == NULL && rc != CURLE_OK)
		err = probe_smtp_reason(&st, rc, code);
	if (err == NULL) {
		if (cfg->smtp.tls != TLS_NONE) {
			probe_line(out, xasprintf("TLS: %s, certificate verified for %s%s",
						  probe_tls_name(cfg->smtp.tls), cfg->smtp.host,
						  cfg->smtp.ca_file ? " (with ca_file)" : ""));
			probe_smtp_cert(out, c);
		}
		if (st.ehlo.len)
			probe_line(out, xasprintf("server offers: %s", st.ehlo.data));
		probe_line(out, cfg->smtp.user ? xasprintf("login: ok as %s", cfg->smtp.user) :
			   xstrdup("login: none configured (no user in [smtp])"));
		probe_line(out, xstrdup("no mail sent (NOOP only)"));
		out->ok = true;
	}
	curl_easy_cleanup(c);
	buf_free(&st.ehlo);
	buf_free(&st.cur);
	return err ? probe_failed(out, err) : 0;
}

void
probe_report_free(struct probe_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_lines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}
