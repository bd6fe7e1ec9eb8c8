/* fold_p: private to body.c and detect.c: the one accent- and
 * case-insensitive view of UTF-8 text both match their French and English
 * phrase tables against. French writers mix "é" and "e", "’" and "'",
 * non-breaking and plain spaces; folding removes those differences once so
 * the tables stay plain ASCII. A map from each folded byte back to the
 * original lets callers quote the original text as evidence. */
#ifndef MERCI_FOLD_P_H
#define MERCI_FOLD_P_H

#include "utf8_p.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct fold {
	char *s;        /* folded text, NUL-terminated, never longer than the input */
	size_t len;
	size_t *map;    /* map[i]: offset in the input of folded byte i; map[len] = input length */
};

/* U+00C0..U+00FF folded: letters lose case and accent; NULL keeps the
 * character (×, ÷). */
static const char *const fold_latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y",
};

static inline const char *
fold_codepoint(unsigned cp)
{
	if (cp >= 0xc0 && cp <= 0xff)
		return fold_latin1[cp - 0xc0];
	switch (cp) {
	case 0x152: case 0x153:
		return "oe";
	case 0x2018: case 0x2019: case 0x02bc: case 0x00b4: case 0x2032:
		return "'";
	case 0x00a0: case 0x202f: case 0x2007: case 0x2009: case 0x200a:
		return " ";
	case 0x2010: case 0x2011: case 0x2013: case 0x2014:
		return "-";
	default:
		return NULL;
	}
}

static inline unsigned
fold_decode(const unsigned char *p, size_t n)
{
	if (n == 2)
		return (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	if (n == 3)
		return (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 |
		    (p[2] & 0x3f);
	return (unsigned)(p[0] & 0x07) << 18 | (unsigned)(p[1] & 0x3f) << 12 |
	    (unsigned)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
}

/* Folds n bytes of in. Bytes that are not well-formed UTF-8 are copied
 * as they are: matching only ever looks for ASCII. */
static inline void
fold_text(const char *in, size_t n, struct fold *f)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i = 0, o = 0, k, sl;
	const char *rep;

	f->s = xmalloc(n + 1);
	f->map = xmalloc((n + 1) * sizeof(*f->map));
	while (i < n) {
		sl = u[i] < 0x80 ? 1 : utf8_seq_len(u + i, n - i);
		rep = NULL;
		if (sl == 1 && u[i] >= 'A' && u[i] <= 'Z') {
			f->map[o] = i;
			f->s[o++] = (char)(u[i] - 'A' + 'a');
			i++;
			continue;
		}
		if (sl > 1)
			rep = fold_codepoint(fold_decode(u + i, sl));
		if (sl == 0)
			sl = 1;
		if (rep == NULL) {
			for (k = 0; k < sl; k++) {
				f->map[o] = i + k;
				f->s[o++] = in[i + k];
			}
		} else {
			for (k = 0; rep[k] != '\0'; k++) {
				f->map[o] = i;
				f->s[o++] = rep[k];
			}
		}
		i += sl;
	}
	f->map[o] = n;
	f->s[o] = '\0';
	f->len = o;
}

static inline void
fold_free(struct fold *f)
{
	free(f->s);
	free(f->map);
	f->s = NULL;
	f->map = NULL;
}

/* Word characters for boundaries: ASCII letters and digits, and any byte of
 * a non-ASCII character (what folding left is a letter of another script). */
static inline bool
fold_is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80;
}

#endif
