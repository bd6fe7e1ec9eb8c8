/* imap_utf7: modified UTF-7 codec for mailbox names. Printable ASCII stands
 * for itself ("&" is "&-"); anything else is UTF-16BE in base64 with ","
 * for "/", between "&" and "-". */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "imap_utf7.h"

static const char utf7_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
utf7_value(char c)
{
	const char *p = c ? strchr(utf7_alphabet, c) : NULL;

	return p ? (int)(p - utf7_alphabet) : -1;
}

static void
utf8_put(struct buf *b, uint32_t cp)
{
	char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, o, n);
}

/* Decodes one base64 run (the bytes between "&" and "-"); returns the
 * number of bytes consumed up to the "-", or -1. */
static int
utf7_decode_run(const char *p, struct buf *b)
{
	uint32_t bits = 0, high = 0;
	int nbits = 0, i, v;

	for (i = 0; p[i] != '-'; i++) {
		if ((v = utf7_value(p[i])) < 0)
			return -1;
		bits = (bits << 6 | (uint32_t)v) & 0xffffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;

		if (u >= 0xd800 && u < 0xdc00) {
			if (high)
				return -1;
			high = u;
		} else if (u >= 0xdc00 && u < 0xe000) {
			if (!high)
				return -1;
			utf8_put(b, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
			high = 0;
		} else {
			/* Printable ASCII must not be encoded; a lone surrogate is no character. */
			if (high || (u >= 0x20 && u < 0x7f))
				return -1;
			utf8_put(b, u);
		}
	}
	if (i == 0 || high || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	return i;
}

char *
imap_utf7_decode(const char *in)
{
	struct buf b = { 0 };
	int n;

	buf_reserve(&b, strlen(in));
	for (const char *p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f)
			goto fail;
		if (c != '&') {
			buf_addc(&b, (char)c);
		} else if (p[1] == '-') {
			buf_addc(&b, '&');
			p++;
		} else {
			if ((n = utf7_decode_run(p + 1, &b)) < 0)
				goto fail;
			p += n + 1;
		}
	}
	return buf_steal(&b);
fail:
	buf_free(&b);
	return NULL;
}

/* Reads one UTF-8 code point at *p, advancing it; returns -1 when invalid. */
static int32_t
utf8_get(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	int n, i;

	if (s[0] < 0x80)
		return *p += 1, s[0];
	if (s[0] >= 0xc2 && s[0] < 0xe0)
		cp = s[0] & 0x1f, n = 1;
	else if (s[0] >= 0xe0 && s[0] < 0xf0)
		cp = s[0] & 0x0f, n = 2;
	else if (s[0] >= 0xf0 && s[0] < 0xf5)
		cp = s[0] & 0x07, n = 3;
	else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp < 0xe000))
		return -1;
	*p += n + 1;
	return (int32_t)cp;
}

static void
utf7_put_unit(struct buf *b, uint32_t u, uint32_t *bits, int *nbits)
{
	*bits = (*bits << 16 | u) & 0xffffffff;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		buf_addc(b, utf7_alphabet[(*bits >> *nbits) & 0x3f]);
	}
}

char *
imap_utf7_encode(const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	struct buf b = { 0 };
	uint32_t bits = 0;
	int nbits = 0, in_run = 0;
	int32_t cp;

	while (*p) {
		if ((cp = utf8_get(&p)) < 0) {
			buf_free(&b);
			return NULL;
		}
		if (cp >= 0x20 && cp < 0x7f) {
			if (in_run) {
				if (nbits)
					buf_addc(&b, utf7_alphabet[(bits << (6 - nbits)) & 0x3f]);
				buf_addc(&b, '-');
				in_run = 0, nbits = 0, bits = 0;
			}
			buf_adds(&b, cp == '&' ? "&-" : (char[2]){ (char)cp, 0 });
			continue;
		}
		if (!in_run)
			buf_addc(&b, '&'), in_run = 1;
		if (cp >= 0x10000) {
			utf7_put_unit(&b, 0xd800 + (((uint32_t)cp - 0x10000) >> 10), &bits, &nbits);
			utf7_put_unit(&b, 0xdc00 + (((uint32_t)cp - 0x10000) & 0x3ff), &bits, &nbits);
		} else {
			utf7_put_unit(&b, (uint32_t)cp, &bits, &nbits);
		}
	}
	if (in_run) {
		if (nbits)
			buf_addc(&b, utf7_alphabet[(bits << (6 - nbits)) & 0x3f]);
		buf_addc(&b, '-');
	}
	return buf_steal(&b);
}
