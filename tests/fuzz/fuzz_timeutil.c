/* fuzz_timeutil: the hand-written parsers of durations ("1h30m", "2sem"),
 * clock times ("08:30") and ISO 8601 dates (MERCI_NOW, imports), where an
 * overflow would be undefined behaviour. */
#include "fuzz.h"
#include "timeutil.h"

const char fuzz_target_name[] = "timeutil";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char *s = fuzz_rest(&in), buf[64];
	int64_t v = -1, t = 0;
	int mins = -1;

	if (time_parse_duration(s, &v) == 0)
		FUZZ_CHECK(v >= 0);
	if (time_parse_clock(s, &mins) == 0)
		FUZZ_CHECK(mins >= 0 && mins < 24 * 60);
	if (time_parse_iso8601(s, &t) == 0) {
		int64_t back = 0;
		/* Years are four digits: the result formats and parses back. */
		FUZZ_CHECK(time_format_iso(t, buf, sizeof(buf)) != NULL);
		if (time_parse_iso8601(buf, &back) == 0)
			FUZZ_CHECK(back == t);
		(void)time_format_local(t, buf, sizeof(buf));
	}
	free(s);
	return 0;
}
