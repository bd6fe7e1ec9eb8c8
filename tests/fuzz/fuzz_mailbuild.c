/* fuzz_mailbuild: a nudge whose subject, names, nudge label and text come
 * from mail (the input), sanitised with mailbuild_sanitise as the rules do,
 * rendered with mailbuild_render. The message must hold no injected
 * header: CRLF line ends only, the header block made of exactly the fields
 * merci writes (each once, continuation lines starting with a blank), in
 * ASCII, and no line longer than 998 bytes. The raw values are rendered too:
 * mailbuild_render must refuse them or keep the same promises. */
#include "fuzz.h"
#include "mailbuild.h"

#include <stdbool.h>

const char fuzz_target_name[] = "mailbuild";

static const char *const fields[] = {
	"Date", "From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-Language", "Auto-Submitted", "X-Auto-Response-Suppress",
	"X-Merci-Nudge",
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static void
check_message(const char *msg, size_t len, const struct mail_out *m)
{
	unsigned count[N_FIELDS] = { 0 };
	size_t i = 0, line = 0;
	bool in_header = true;

	FUZZ_CHECK(msg != NULL && msg[len] == '\0' && memchr(msg, '\0', len) == NULL);
	FUZZ_CHECK(len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n');
	while (i < len) {
		const char *s = msg + i, *eol = memchr(s, '\n', len - i);
		size_t l;

		FUZZ_CHECK(eol != NULL && eol > s && eol[-1] == '\r');
		l = (size_t)(eol - s) - 1;           /* without CRLF */
		FUZZ_CHECK(memchr(s, '\r', l) == NULL);
		FUZZ_CHECK(l <= 998);
		line++;
		if (in_header) {
			if (l == 0) {
				in_header = false;
			} else if (s[0] == ' ' || s[0] == '\t') {
				FUZZ_CHECK(line > 1);
				/* A continuation is never blank (a reader could
				 * take it for the end of the header). */
				bool blank = true;
				for (size_t k = 0; k < l; k++)
					if (s[k] != ' ' && s[k] != '\t')
						blank = false;
				FUZZ_CHECK(!blank);
			} else {
				const char *colon = memchr(s, ':', l);
				size_t f;
				FUZZ_CHECK(colon != NULL);
				for (f = 0; f < N_FIELDS; f++)
					if (strlen(fields[f]) == (size_t)(colon - s) &&
					    strncmp(fields[f], s, (size_t)(colon - s)) == 0)
						break;
				if (f == N_FIELDS)
					fprintf(stderr, "unexpected header: %.*s\n", (int)l, s);
				FUZZ_CHECK(f < N_FIELDS);
				FUZZ_CHECK(++count[f] == 1);
			}
			for (size_t k = 0; k < l; k++)
				FUZZ_CHECK((unsigned char)s[k] < 0x80 && s[k] != '\0' &&
				    (s[k] >= 0x20 || s[k] == '\t'));
		}
		i = (size_t)(eol - msg) + 1;
	}
	FUZZ_CHECK(!in_header);
	for (size_t f = 0; f < N_FIELDS; f++) {
		const char *n = fields[f];
		bool optional = !strcmp(n, "In-Reply-To") || !strcmp(n, "References") ||
		    !strcmp(n, "Content-Language") || !strcmp(n, "X-Merci-Nudge") ||
		    !strcmp(n, "Content-Transfer-Encoding");
		FUZZ_CHECK(optional || count[f] == 1);
	}
	FUZZ_CHECK((m->nudge != NULL) == (count[N_FIELDS - 1] == 1));
}

static void
render(const struct mail_out *m, bool must_work)
{
	char *out = NULL, *err = NULL;
	size_t len = 0;
	int rc = mailbuild_render(m, &out, &len, &err);

	if (rc != 0) {
		if (must_work)
			fprintf(stderr, "render refused sanitised values: %s\n", err);
		FUZZ_CHECK(!must_work);
		FUZZ_CHECK(out == NULL && err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(err == NULL);
	check_message(out, len, m);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned sel = fuzz_byte(&in), d1 = fuzz_byte(&in), d2 = fuzz_byte(&in);
	char *subject = fuzz_str(&in), *name = fuzz_str(&in), *nudge = fuzz_str(&in);
	char *html = fuzz_str(&in), *text = fuzz_rest(&in);
	char *c_subject, *c_name, *c_nudge;
	size_t max = sel & 1 ? 998 : 4096;
	struct mail_out m = {
		.from_name = "merci",
		.from_addr = "camille@example.org",
		.to_addr = "camille@example.org",
		.message_id = "merci.0123456789abcdef@example.org",
		.in_reply_to = sel & 2 ? "CAF1234@mail.example.fr" : NULL,
		.date = 1700000000 + (int64_t)(d1 << 8 | d2) * 3607,
		.tz_offset_min = (int)(sel % 29) * 60 - 14 * 60,
		.lang = sel & 4 ? "fr" : "en",
	};

	if (!subject)
		subject = calloc(1, 1);
	if (!name)
		name = calloc(1, 1);
	c_subject = mailbuild_sanitise(subject, max);
	c_name = mailbuild_sanitise(name, max);
	FUZZ_CHECK(strlen(c_subject) <= max && strlen(c_name) <= max);
	FUZZ_CHECK(fuzz_str_utf8(c_subject) && fuzz_str_utf8(c_name));
	FUZZ_CHECK(fuzz_one_line(c_subject, 0) && fuzz_one_line(c_name, 0));
	c_nudge = nudge ? mailbuild_sanitise(nudge, 200) : NULL;

	m.subject = c_subject;
	m.to_name = sel & 8 ? NULL : c_name;
	m.nudge = c_nudge;
	m.text = text;
	m.html = sel & 16 ? html : NULL;
	if (m.html == NULL && (sel & 16))
		m.html = "";
	render(&m, true);

	/* The raw values: refused, or as safe. */
	m.subject = subject;
	m.to_name = name;
	m.nudge = nudge;
	render(&m, false);

	free(c_subject);
	free(c_name);
	free(c_nudge);
	free(subject);
	free(name);
	free(nudge);
	free(html);
	free(text);
	return 0;
}
