/* tls_verify: the IMAP child's certificate check. libetpan accepts any
 * certificate, so everything that makes TLS worth having lives here: the
 * chain must lead to a trusted anchor (system store or the account's
 * ca_file), be within its dates, and name the host we meant to reach. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "tls_verify.h"
#include "xalloc.h"

/* Longer chains are not something a mail server sends; refusing them bounds
 * the work an attacker can ask of us. */
#define TLS_MAX_CHAIN 16

static void
tls_format_date(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d", &tm) == 0)
		snprintf(out, size, "an unknown date");
}

static void
tls_add_san(struct buf *b, int type, const char *name, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (type == GNUTLS_SAN_DNSNAME) {
		buf_printf(b, "%s%.*s", b->len ? ", " : "", (int)size, name);
	} else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
		if (inet_ntop(size == 4 ? AF_INET : AF_INET6, name, text, sizeof(text)))
			buf_printf(b, "%s%s", b->len ? ", " : "", text);
	}
}

/* The names a certificate is for: its DNS and IP subject alternative names,
 * else its common name. Only used to tell the owner what was presented. */
static char *
tls_cert_names(gnutls_x509_crt_t crt)
{
	struct buf b = { 0 };
	char name[256];
	unsigned int i;

	for (i = 0; i < 8; i++) {
		size_t size = sizeof(name);
		int t = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &size, NULL);

		if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (t >= 0)
			tls_add_san(&b, t, name, size);
	}
	if (b.len == 0) {
		size_t size = sizeof(name);

		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
						  name, &size) == 0)
			buf_adds(&b, name);
		else
			buf_adds(&b, "no name");
	}
	return buf_steal(&b);
}

static char *
tls_cert_issuer(gnutls_x509_crt_t crt)
{
	gnutls_datum_t dn = { NULL, 0 };
	char *s;

	if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) < 0)
		return xstrdup("an unreadable name");
	s = xstrndup((const char *)dn.data, dn.size);
	gnutls_free(dn.data);
	return s;
}

/* Turns a GnuTLS verification status into the owner's one line. */
static char *
tls_status_text(gnutls_x509_crt_t leaf, size_t n, unsigned int status)
{
	char date[32];
	char *issuer, *s;
	gnutls_datum_t out = { NULL, 0 };

	if (status & GNUTLS_CERT_EXPIRED) {
		tls_format_date(gnutls_x509_crt_get_expiration_time(leaf), date, sizeof(date));
		return xasprintf("certificate expired on %s (or a CA in its chain did); "
				 "renew the server certificate", date);
	}
	if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		tls_format_date(gnutls_x509_crt_get_activation_time(leaf), date, sizeof(date));
		return xasprintf("certificate is not valid before %s; check this machine's "
				 "clock or the server certificate", date);
	}
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) {
		if (n == 1 && gnutls_x509_crt_check_issuer(leaf, leaf))
			return xstrdup("certificate is self-signed and not trusted; set ca_file "
				       "to that certificate or use one from a trusted CA");
		issuer = tls_cert_issuer(leaf);
		s = xasprintf("certificate is issued by an untrusted authority (%s); "
			      "set ca_file to that CA's certificate", issuer);
		free(issuer);
		return s;
	}
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
							 &out, 0) == 0) {
		s = xasprintf("certificate rejected: %.*s; fix the server certificate",
			      (int)out.size, out.data);
		gnutls_free(out.data);
		return s;
	}
	return xstrdup("certificate rejected; fix the server certificate");
}

static int
tls_load_trust(gnutls_x509_trust_list_t tl, const char *ca_file, char **err)
{
	int r;

	/* A machine without a system store can still trust ca_file alone. */
	(void)gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (ca_file == NULL)
		return 0;
	r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
						  GNUTLS_X509_FMT_PEM, 0, 0);
	if (r <= 0) {
		*err = xasprintf("cannot read a PEM certificate from ca_file %s (%s); "
				 "fix the ca_file setting", ca_file,
				 r < 0 ? gnutls_strerror(r) : "no certificate in it");
		return -1;
	}
	return 0;
}

static int
tls_import_chain(const struct tls_der *chain, size_t n, gnutls_x509_crt_t *crts,
		 size_t *n_crts, char **err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		gnutls_datum_t d = { (unsigned char *)chain[i].data, (unsigned int)chain[i].len };

		if (gnutls_x509_crt_init(&crts[i]) < 0) {
			*err = xstrdup("cannot allocate a certificate; retry later");
			return -1;
		}
		*n_crts = i + 1;
		if (chain[i].len > 0xffffffffu ||
		    gnutls_x509_crt_import(crts[i], &d, GNUTLS_X509_FMT_DER) < 0) {
			*err = xasprintf("server sent an unreadable certificate (#%zu in its "
					 "chain); fix the server certificate", i + 1);
			return -1;
		}
	}
	return 0;
}

static int
tls_check_host(gnutls_x509_crt_t leaf, const char *host, char **err)
{
	char *names;

	if (gnutls_x509_crt_check_hostname2(leaf, host, 0))
		return 0;
	names = tls_cert_names(leaf);
	*err = xasprintf("certificate is for %s, not %s; fix the url host or the "
			 "server certificate", names, host);
	free(names);
	return -1;
}

int
tls_verify_der_chain(const struct tls_der *chain, size_t n, const char *host,
		     const char *ca_file, char **err)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t crts[TLS_MAX_CHAIN];
	size_t n_crts = 0, i;
	unsigned int status = 0;
	int rc = -1;

	*err = NULL;
	if (n == 0) {
		*err = xstrdup("server sent no certificate; fix the server's TLS setup");
		return -1;
	}
	if (n > TLS_MAX_CHAIN) {
		*err = xasprintf("server sent %zu certificates, more than %d; fix the "
				 "server's certificate chain", n, TLS_MAX_CHAIN);
		return -1;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		*err = xstrdup("cannot set up the certificate trust list; retry later");
		return -1;
	}
	if (tls_load_trust(tl, ca_file, err) < 0 ||
	    tls_import_chain(chain, n, crts, &n_crts, err) < 0)
		goto out;
	if (gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned int)n_crts, NULL, 0,
					       0, &status, NULL) < 0) {
		*err = xstrdup("cannot verify the certificate chain; fix the server "
			       "certificate");
		goto out;
	}
	if (status != 0) {
		*err = tls_status_text(crts[0], n_crts, status);
		goto out;
	}
	rc = tls_check_host(crts[0], host, err);
out:
	for (i = 0; i < n_crts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}
