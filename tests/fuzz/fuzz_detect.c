/* fuzz_detect: detect_message on a message as ingest gives it: the header
 * facts msg_parse_headers read from the input up to its first blank line,
 * and the rest as the text, cleaned by body_text_clean as ingest does
 * (the first byte says whether it is HTML). detect.c scans and copies
 * phrases by hand in two languages: every event must keep detect.h's
 * promises. */
#include "fuzz.h"
#include "body.h"
#include "detect.h"
#include "msg.h"

#include <stdbool.h>

const char fuzz_target_name[] = "detect";

static char *const identities[] = { "camille@example.org", "c.roy@example.net" };

/* Where the header block ends: after the first empty line, else the end. */
static size_t
header_end(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == '\n' && s[i + 1] == '\n')
			return i + 2;
		if (s[i] == '\n' && s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n')
			return i + 3;
	}
	return n;
}

static bool
is_identity(const struct msg *m)
{
	if (m->from.n == 0)
		return false;
	for (size_t i = 0; i < sizeof(identities) / sizeof(identities[0]); i++)
		if (strcmp(m->from.v[0].email, identities[i]) == 0)
			return true;
	return false;
}

static void
run(const struct msg *m, const char *text, bool outbound)
{
	struct detect_input din = {
		.m = m, .outbound = outbound, .text = text,
		.identities = identities,
		.n_identities = sizeof(identities) / sizeof(identities[0]),
	};
	struct detect_event *ev = NULL;
	unsigned seen = 0;
	size_t n = detect_message(&din, &ev);

	FUZZ_CHECK((n == 0) == (ev == NULL));
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(ev[i].kind >= DETECT_INTRO_RECEIVED && ev[i].kind <= DETECT_QUESTION);
		FUZZ_CHECK(!(seen & (1u << ev[i].kind)));
		seen |= 1u << ev[i].kind;
		FUZZ_CHECK(ev[i].lang && (strcmp(ev[i].lang, "fr") == 0 ||
		    strcmp(ev[i].lang, "en") == 0));
		if (ev[i].evidence) {
			FUZZ_CHECK(strlen(ev[i].evidence) <= 160);
			FUZZ_CHECK(strchr(ev[i].evidence, '\n') == NULL);
			FUZZ_CHECK(fuzz_str_utf8(ev[i].evidence));
		}
		FUZZ_CHECK(ev[i].kind == DETECT_REFERRAL_MENTION || ev[i].who == NULL);
		FUZZ_CHECK(fuzz_str_utf8(ev[i].who));
	}
	detect_events_free(ev, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned sel = fuzz_byte(&in);
	const char *s = (const char *)in.p;
	size_t hl = header_end(s, in.n);
	struct msg m;
	char *text;
	const char *lang;

	memset(&m, 0, sizeof(m));
	(void)msg_parse_headers(s ? s : "", hl, &m);
	text = body_text_clean(s ? s + hl : "", in.n - hl, NULL, "utf-8", sel & 1,
	    BODY_TEXT_MAX);
	run(&m, text, is_identity(&m) != (bool)(sel & 2));
	run(&m, NULL, false);
	lang = detect_language(text);
	FUZZ_CHECK(lang && (strcmp(lang, "fr") == 0 || strcmp(lang, "en") == 0));
	free(text);
	msg_free(&m);
	return 0;
}
