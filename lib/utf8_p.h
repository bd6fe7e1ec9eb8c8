/* utf8_p: private to lib/: the one strict UTF-8 check that msg.c, record.c,
 * body.c and fold_p.h rely on, in the child (cleaning) and the parent (validating). */
#ifndef MERCI_UTF8_P_H
#define MERCI_UTF8_P_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (at most n bytes available),
 * or 0 when it is not one: overlong forms, surrogates and code points above
 * U+10FFFF are refused, as RFC 3629 asks. */
static inline size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

#endif
