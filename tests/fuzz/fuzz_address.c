/* fuzz_address: address normalisation (every From/To/Cc of every message
 * goes through it), the config's comma lists and the ignore globs, which
 * the owner writes but which run against addresses the senders chose. */
#include "fuzz.h"
#include "address.h"

#include <stdbool.h>

const char fuzz_target_name[] = "address";

#define ADDR_MAX 254

static void
check_normalised(const char *raw, const char *a, bool allow_local)
{
	const char *at;

	if (a == NULL)
		return;
	FUZZ_CHECK(*a != '\0' && strlen(a) <= ADDR_MAX && strlen(a) <= strlen(raw));
	for (const char *p = a; *p; p++) {
		unsigned char c = (unsigned char)*p;
		FUZZ_CHECK(c > 0x20 && c != 0x7f && !(c >= 'A' && c <= 'Z'));
		FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != ',');
	}
	at = strchr(a, '@');
	if (at == NULL) {
		FUZZ_CHECK(allow_local);
		return;
	}
	FUZZ_CHECK(at > a && at[1] != '\0' && strchr(at + 1, '@') == NULL);
	/* An address matches itself as a pattern, and "*". */
	FUZZ_CHECK(address_match_glob(a, a));
	FUZZ_CHECK(address_match_glob("*", a));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char *pattern = fuzz_str(&in), *raw = fuzz_rest(&in), *a, *b;
	char **list = NULL;
	size_t n;

	if (pattern == NULL)
		pattern = calloc(1, 1);
	a = address_normalise(raw, false);
	check_normalised(raw, a, false);
	b = address_normalise(raw, true);
	check_normalised(raw, b, true);
	FUZZ_CHECK(a == NULL || (b != NULL && strcmp(a, b) == 0));
	(void)address_is_noreply(raw);
	(void)address_is_noreply(b);
	(void)address_match_glob(pattern, raw);
	(void)address_match_glob(pattern, b ? b : "");

	n = address_split_list(raw, &list);
	FUZZ_CHECK(list != NULL && list[n] == NULL);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(list[i]);
		FUZZ_CHECK(l > 0 && strchr(list[i], ',') == NULL);
		FUZZ_CHECK(list[i][0] != ' ' && list[i][l - 1] != ' ');
		(void)address_match_glob(list[i], b ? b : "x@y");
		free(list[i]);
	}
	free(list);
	free(a);
	free(b);
	free(raw);
	free(pattern);
	return 0;
}
