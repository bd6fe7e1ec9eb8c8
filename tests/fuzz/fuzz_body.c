/* fuzz_body: body_text_clean, the decoding of the first bytes of a text
 * part as the server sends them (a prefix cut anywhere: in a base64
 * quantum, a QP escape, a UTF-8 or multibyte sequence, an HTML tag), with
 * each transfer encoding, charset and HTML combination, then
 * body_strip_quotes. The first input byte picks the combination, the second
 * the output limit; the rest is the part. */
#include "fuzz.h"
#include "body.h"

#include <stdbool.h>

const char fuzz_target_name[] = "body";

static const char *const encodings[] = {
	NULL, "7bit", "8bit", "quoted-printable", "base64", "BASE64",
	"Quoted-Printable", "binary",
};

static const char *const charsets[] = {
	NULL, "utf-8", "iso-8859-1", "windows-1252", "iso-8859-15", "us-ascii",
	"koi8-r", "iso-2022-jp", "shift_jis", "utf-16", "gb2312", "x-unknown", "",
	"UTF-8", "big5", "euc-kr",
};

static const size_t limits[] = {
	BODY_TEXT_MAX, BODY_TEXT_MAX, BODY_TEXT_MAX, BODY_TEXT_MAX,
	0, 1, 2, 3, 4, 5, 7, 64, 159, 160, 1000, BODY_PREFIX_MAX,
};

/* UTF-8, no control character but '\n' (no C0, no C1). */
static void
check_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	FUZZ_CHECK(fuzz_utf8_valid(s, strlen(s)));
	for (; *p; p++) {
		FUZZ_CHECK(*p >= 0x20 || *p == '\n');
		FUZZ_CHECK(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned sel = fuzz_byte(&in), lim = fuzz_byte(&in);
	const char *enc = encodings[sel & 7];
	const char *cs = charsets[(sel >> 3) & 15];
	bool html = sel & 0x80;
	size_t max = limits[lim & 15];
	char *raw, *text, *stripped;

	/* An exact copy of the part: ASan then sees any read past its end. */
	raw = malloc(in.n ? in.n : 1);
	if (raw == NULL)
		abort();
	if (in.n)
		memcpy(raw, in.p, in.n);
	text = body_text_clean(raw, in.n, enc, cs, html, max);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(strlen(text) <= max);
	check_text(text);
	stripped = body_strip_quotes(text);
	FUZZ_CHECK(stripped != NULL);
	FUZZ_CHECK(fuzz_utf8_valid(stripped, strlen(stripped)));
	free(stripped);
	/* The text before cleaning, when it is UTF-8: long lines, controls. */
	if (memchr(raw, '\0', in.n) == NULL && fuzz_utf8_valid(raw, in.n)) {
		char *s = strndup(raw, in.n);
		if (s == NULL)
			abort();
		stripped = body_strip_quotes(s);
		FUZZ_CHECK(stripped != NULL);
		free(stripped);
		free(s);
	}
	free(text);
	free(raw);
	return 0;
}
