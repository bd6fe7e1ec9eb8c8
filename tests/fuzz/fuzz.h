/* fuzz: what every libFuzzer target of tests/fuzz/ shares.
 *
 * A target defines LLVMFuzzerTestOneInput and fuzz_target_name (the name of
 * its corpus/ and crashes/ folders). It is linked either with libFuzzer
 * (tests/fuzz/run.sh, clang -fsanitize=fuzzer) or with replay.c, which
 * feeds it every file of its corpus and crash folders (make check).
 *
 * Inputs that carry several values cut them at NUL bytes: a C string ends
 * there anyway, so no value loses a byte it could have held. */
#ifndef MERCI_FUZZ_H
#define MERCI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const char fuzz_target_name[];

/* A broken promise of the code under test: libFuzzer and replay.c both see
 * the abort() as a crash. */
#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/* One byte of the input, 0 once it is used up. */
static inline unsigned
fuzz_byte(struct fuzz_in *in)
{
	unsigned c;

	if (in->n == 0)
		return 0;
	c = in->p[0];
	in->p++;
	in->n--;
	return c;
}

/* The bytes up to the next NUL (or the end), as a new NUL-terminated string;
 * NULL once the input is used up. */
static inline char *
fuzz_str(struct fuzz_in *in)
{
	const uint8_t *z;
	size_t len;
	char *s;

	if (in->p == NULL)
		return NULL;
	z = memchr(in->p, '\0', in->n);
	len = z ? (size_t)(z - in->p) : in->n;
	s = malloc(len + 1);
	if (s == NULL)
		abort();
	memcpy(s, in->p, len);
	s[len] = '\0';
	if (z) {
		in->p += len + 1;
		in->n -= len + 1;
	} else {
		in->p = NULL;
		in->n = 0;
	}
	return s;
}

/* The rest of the input as a new NUL-terminated string (NUL bytes inside
 * end it early, as for any C string). */
static inline char *
fuzz_rest(struct fuzz_in *in)
{
	char *s = malloc(in->n + 1);

	if (s == NULL)
		abort();
	if (in->n)
		memcpy(s, in->p, in->n);
	s[in->n] = '\0';
	in->n = 0;
	return s;
}

/* True when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong form, no
 * surrogate, nothing above U+10FFFF). Written here, not taken from lib/,
 * so a bug in the library's own check cannot hide itself. */
static inline int
fuzz_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], cp;
		size_t k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			k = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			k = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			k = 4, cp = c & 0x07;
		else
			return 0;
		if (n - i < k)
			return 0;
		for (size_t j = 1; j < k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
		    (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k;
	}
	return 1;
}

static inline int
fuzz_str_utf8(const char *s)
{
	return s == NULL || fuzz_utf8_valid(s, strlen(s));
}

/* True when s holds no CR, LF or other C0 control (tab allowed when tab). */
static inline int
fuzz_one_line(const char *s, int tab)
{
	if (s == NULL)
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && !(tab && *s == '\t'))
			return 0;
	return 1;
}

#endif
