/* Durations, clock times, ISO 8601 and the MERCI_NOW clock. */
#include <stdlib.h>
#include <time.h>

#include "timeutil.h"
#include "unit.h"

static int64_t
dur(const char *s)
{
	int64_t v = -12345;

	if (time_parse_duration(s, &v) < 0)
		return -1;
	return v;
}

static void
test_durations(void)
{
	CHECK_INT(dur("90"), 90);
	CHECK_INT(dur("0"), 0);
	CHECK_INT(dur("30s"), 30);
	CHECK_INT(dur("5m"), 300);
	CHECK_INT(dur("2h"), 7200);
	CHECK_INT(dur("7d"), 7 * 86400);
	CHECK_INT(dur("7j"), 7 * 86400);
	CHECK_INT(dur("2w"), 14 * 86400);
	CHECK_INT(dur("2sem"), 14 * 86400);
	CHECK_INT(dur("1h30m"), 5400);
	CHECK_INT(dur("  5m "), 300);
	CHECK_INT(dur("180d"), 180 * 86400);
}

static void
test_bad_durations(void)
{
	static const char *bad[] = {
		"", "   ", "m", "5 minutes", "5 m", "5x", "-5m", "1.5h", "5M", "1h30",
		"5m5", "99999999999d", "36600000d", "d5", "5mm", "1e3",
	};
	int64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (time_parse_duration(bad[i], &v) == 0)
			fprintf(stderr, "accepted bad duration \"%s\"\n", bad[i]);
		CHECK(time_parse_duration(bad[i], &v) < 0);
	}
	CHECK_INT(v, 42);   /* untouched on failure */
	CHECK(time_parse_duration(NULL, &v) < 0);
}

static void
test_clock(void)
{
	int m = -1;

	CHECK(time_parse_clock("08:30", &m) == 0);
	CHECK_INT(m, 8 * 60 + 30);
	CHECK(time_parse_clock("8:05", &m) == 0);
	CHECK_INT(m, 8 * 60 + 5);
	CHECK(time_parse_clock("00:00", &m) == 0);
	CHECK_INT(m, 0);
	CHECK(time_parse_clock("23:59", &m) == 0);
	CHECK_INT(m, 23 * 60 + 59);
	CHECK(time_parse_clock("24:00", &m) < 0);
	CHECK(time_parse_clock("12:60", &m) < 0);
	CHECK(time_parse_clock("12:5", &m) < 0);
	CHECK(time_parse_clock("1230", &m) < 0);
	CHECK(time_parse_clock("12:30x", &m) < 0);
	CHECK(time_parse_clock("", &m) < 0);
	CHECK(time_parse_clock("ab:cd", &m) < 0);
}

static int64_t
iso(const char *s)
{
	int64_t v = -1;

	if (time_parse_iso8601(s, &v) < 0)
		return -1;
	return v;
}

static void
test_iso(void)
{
	char buf[64];

	CHECK_INT(iso("1970-01-01T00:00:00Z"), 0);
	CHECK_INT(iso("2026-09-25T12:00:00Z"), 1790337600);
	CHECK_INT(iso("2026-09-25T12:00:00-04:00"), 1790337600 + 4 * 3600);
	CHECK_INT(iso("2026-09-25T12:00:00+02:00"), 1790337600 - 2 * 3600);
	CHECK_INT(iso("2026-09-25T12:00:00+0530"), 1790337600 - 5 * 3600 - 1800);
	CHECK_INT(iso("2026-09-25T12:00Z"), 1790337600);
	CHECK_INT(iso("2026-09-25T12:00:00.250Z"), 1790337600);
	CHECK_INT(iso("2024-02-29T00:00:00Z"), 1709164800);
	CHECK_INT(iso("2000-03-01T00:00:00Z"), 951868800);
	CHECK_INT(iso("1969-12-31T23:59:59Z"), -1);
	CHECK_STR(time_format_iso(1790337600, buf, sizeof(buf)), "2026-09-25T12:00:00Z");
	CHECK_STR(time_format_iso(iso("2026-09-25T12:00:00-04:00"), buf, sizeof(buf)),
		  "2026-09-25T16:00:00Z");

	static const char *bad[] = {
		"", "2026-09-25", "2026-09-25T", "2026-13-01T00:00Z", "2026-02-29T00:00Z",
		"2026-09-31T00:00Z", "2026-09-25T24:00Z", "2026-09-25T12:61Z",
		"2026-09-25T12:00:00+25:00", "2026-09-25T12:00:00 Z", "2026/09/25T12:00Z",
		"26-09-25T12:00Z", "2026-09-25T12:00:00Zjunk", "2026-09-25T12:00:00+02:00x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (iso(bad[i]) != -1)
			fprintf(stderr, "accepted bad time \"%s\"\n", bad[i]);
		CHECK(iso(bad[i]) == -1);
	}
}

static void
test_local(void)
{
	char buf[64];

	/* No offset means local wall-clock time, which TZ decides. */
	setenv("TZ", "America/Montreal", 1);
	tzset();
	CHECK_INT(iso("2026-09-25T12:00:00"), 1790337600 + 4 * 3600);
	CHECK_STR(time_format_local(1790337600, buf, sizeof(buf)), "2026-09-25 08:00");
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	CHECK_STR(time_format_local(1790337600, buf, sizeof(buf)), "2026-09-25 14:00");
	CHECK_STR(time_format_local(iso("2026-01-15T12:00:00Z"), buf, sizeof(buf)),
		  "2026-01-15 13:00");
	setenv("TZ", "UTC", 1);
	tzset();
	CHECK_STR(time_format_local(0, buf, sizeof(buf)), "1970-01-01 00:00");
	CHECK_STR(time_format_local(0, buf, 4), "");   /* too small: empty, not cut */
}

static void
test_now(void)
{
	int64_t real = (int64_t)time(NULL), t;

	setenv("MERCI_NOW", "2026-09-25T12:00:00-04:00", 1);
	CHECK_INT(time_now(), 1790337600 + 4 * 3600);
	/* Read on every call, so a test can move the clock. */
	setenv("MERCI_NOW", "2027-01-01T00:00:00Z", 1);
	CHECK_INT(time_now(), 1798761600);
	setenv("MERCI_NOW", "tomorrow", 1);
	fprintf(stderr, "(a warning about MERCI_NOW is expected next)\n");
	t = time_now();
	CHECK(t >= real && t < real + 60);
	unsetenv("MERCI_NOW");
	t = time_now();
	CHECK(t >= real && t < real + 60);
}

int
main(void)
{
	test_durations();
	test_bad_durations();
	test_clock();
	test_iso();
	test_local();
	test_now();
	return UNIT_DONE();
}
