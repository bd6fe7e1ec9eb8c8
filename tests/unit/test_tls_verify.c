/* Tests tls_verify against the certificates of tests/fixtures/tls (made by
 * make-certs.sh): trust, dates, host names and IP addresses. */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>

#include "../../daemon/tls_verify.h"
#include "unit.h"
#include "xalloc.h"

/* A fixture certificate in DER, as a server would send it. */
struct der_file {
	struct tls_der der;
	gnutls_datum_t raw;
};

static char *
fixture(const char *name)
{
	const char *top = getenv("top_srcdir");

	return xasprintf("%s/tests/fixtures/tls/%s", top ? top : ".", name);
}

static int
load_der(const char *name, struct der_file *f)
{
	char *path = fixture(name);
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	int r = -1;

	f->raw.data = NULL;
	if (gnutls_load_file(path, &pem) < 0 || gnutls_x509_crt_init(&crt) < 0)
		goto out;
	if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &f->raw) < 0)
		goto out;
	f->der.data = f->raw.data;
	f->der.len = f->raw.size;
	r = 0;
out:
	if (r < 0)
		fprintf(stderr, "cannot load fixture %s (set top_srcdir)\n", path);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	gnutls_free(pem.data);
	free(path);
	return r;
}

/* Verifies the leaf (plus the CA when with_ca) for host against ca_name's
 * file; returns the result and leaves the message in *err. */
static int
verify(const char *leaf, int with_ca, const char *host, const char *ca_name, char **err)
{
	struct der_file f[2];
	struct tls_der chain[2];
	char *ca = ca_name ? fixture(ca_name) : NULL;
	size_t n = 1;
	int r;

	*err = NULL;
	if (load_der(leaf, &f[0]) < 0 || (with_ca && load_der("ca.pem", &f[1]) < 0)) {
		free(ca);
		*err = xstrdup("fixture missing");
		return -2;
	}
	chain[0] = f[0].der;
	if (with_ca) {
		chain[1] = f[1].der;
		n = 2;
	}
	r = tls_verify_der_chain(chain, n, host, ca, err);
	gnutls_free(f[0].raw.data);
	if (with_ca)
		gnutls_free(f[1].raw.data);
	free(ca);
	return r;
}

static int
contains(const char *s, const char *part)
{
	if (s == NULL || strstr(s, part) == NULL) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", s ? s : "(null)", part);
		return 0;
	}
	return 1;
}

static void
test_good(void)
{
	char *err;

	CHECK_INT(verify("localhost.pem", 0, "localhost", "ca.pem", &err), 0);
	CHECK(err == NULL);
	free(err);
	CHECK_INT(verify("localhost.pem", 1, "localhost", "ca.pem", &err), 0);
	free(err);
	/* The IP SAN matches an address literal in the url. */
	CHECK_INT(verify("localhost.pem", 0, "127.0.0.1", "ca.pem", &err), 0);
	free(err);
	CHECK_INT(verify("localhost.pem", 0, "LocalHost", "ca.pem", &err), 0);
	free(err);
}

static void
test_wrong_host(void)
{
	char *err;

	CHECK_INT(verify("other.pem", 0, "localhost", "ca.pem", &err), -1);
	CHECK_STR(err, "certificate is for other.example, not localhost; "
		  "fix the url host or the server certificate");
	free(err);
	CHECK_INT(verify("localhost.pem", 0, "127.0.0.2", "ca.pem", &err), -1);
	CHECK(contains(err, "certificate is for localhost, 127.0.0.1, not 127.0.0.2"));
	free(err);
	CHECK_INT(verify("localhost.pem", 0, "evil-localhost", "ca.pem", &err), -1);
	free(err);
}

static void
test_untrusted(void)
{
	char *err;

	CHECK_INT(verify("expired.pem", 0, "localhost", "ca.pem", &err), -1);
	CHECK(contains(err, "certificate expired on 2001-01-01"));
	CHECK(contains(err, "renew the server certificate"));
	free(err);
	CHECK_INT(verify("selfsigned.pem", 0, "localhost", "ca.pem", &err), -1);
	CHECK(contains(err, "self-signed and not trusted; set ca_file"));
	free(err);
	/* Signed by a real CA, but not one we trust. */
	CHECK_INT(verify("wrongca.pem", 0, "localhost", "ca.pem", &err), -1);
	CHECK(contains(err, "untrusted authority (CN=merci unrelated test CA)"));
	free(err);
	CHECK_INT(verify("localhost.pem", 0, "localhost", "other-ca.pem", &err), -1);
	CHECK(contains(err, "untrusted authority (CN=merci test CA); set ca_file"));
	free(err);
	/* Without ca_file only the system store counts, and it knows no test CA. */
	CHECK_INT(verify("localhost.pem", 1, "localhost", NULL, &err), -1);
	CHECK(contains(err, "untrusted authority"));
	free(err);
}

static void
test_bad_input(void)
{
	struct tls_der junk = { (const unsigned char *)"\x30\x03\x02\x01\x01", 5 };
	char *err;

	CHECK_INT(tls_verify_der_chain(NULL, 0, "localhost", NULL, &err), -1);
	CHECK(contains(err, "server sent no certificate"));
	free(err);
	CHECK_INT(tls_verify_der_chain(&junk, 1, "localhost", NULL, &err), -1);
	CHECK(contains(err, "unreadable certificate"));
	free(err);
	CHECK_INT(verify("localhost.pem", 0, "localhost", "no-such-ca.pem", &err), -1);
	CHECK(contains(err, "ca_file"));
	free(err);
}

int
main(void)
{
	test_good();
	test_wrong_host();
	test_untrusted();
	test_bad_input();
	return UNIT_DONE();
}
