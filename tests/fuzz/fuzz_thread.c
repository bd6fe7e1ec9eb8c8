/* fuzz_thread: subject normalisation, run on every subject a sender wrote
 * ("Re: Fwd: TR: [liste] RE[2]: ..."): it walks prefixes by hand and lower-
 * cases UTF-8 Latin letters in place. */
#include "fuzz.h"
#include "thread.h"

const char fuzz_target_name[] = "thread";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char *s = fuzz_rest(&in), *n, *again;

	n = thread_subject_normalise(s);
	FUZZ_CHECK(n != NULL && strlen(n) <= strlen(s));
	FUZZ_CHECK(n[0] != ' ' && strstr(n, "  ") == NULL);
	FUZZ_CHECK(*n == '\0' || n[strlen(n) - 1] != ' ');
	for (const char *p = n; *p; p++)
		FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
	/* Valid UTF-8 stays valid: lower-casing never breaks a sequence. */
	FUZZ_CHECK(!fuzz_str_utf8(s) || fuzz_str_utf8(n));
	(void)thread_subject_is_reply(s);
	again = thread_subject_normalise(n);
	FUZZ_CHECK(again != NULL && strlen(again) <= strlen(n));
	free(again);
	free(n);
	free(s);
	return 0;
}
