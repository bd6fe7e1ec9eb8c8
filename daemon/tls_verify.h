/* tls_verify: checks a server's certificate chain and host name with GnuTLS.
 *
 * libetpan verifies nothing, so the IMAP child hands the DER chain it got
 * from the server to this module before sending any secret. The module owns
 * nothing beyond the duration of a call: it builds a GnuTLS trust list (the
 * system store plus an optional CA file), verifies, and frees it all. */
#ifndef MERCI_TLS_VERIFY_H
#define MERCI_TLS_VERIFY_H

#include <stddef.h>

/* One certificate in DER form; the caller owns the bytes. */
struct tls_der {
	const unsigned char *data;
	size_t len;
};

/* Verifies chain (leaf first, as the server sent it) against the system trust
 * store plus ca_file (PEM, may be NULL), its validity dates, and that the leaf
 * is for host (a DNS name or an IP address literal). Returns 0 when all hold.
 * Otherwise returns -1 and sets *err to a newly allocated one-line reason
 * without a "host:port:" prefix, ending with the fix, e.g.
 * "certificate is for other.example, not localhost; fix the url host or the
 * server certificate". */
int tls_verify_der_chain(const struct tls_der *chain, size_t n, const char *host,
			 const char *ca_file, char **err);

#endif
