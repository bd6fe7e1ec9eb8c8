/* timeutil: owns the textual forms of time merci accepts (durations, clock
 * times, ISO 8601 instants) and the one clock everything reads, which
 * MERCI_NOW can pin so that tests and demos are reproducible. */
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* A century is far more than any delay a person would configure, and keeps
 * every product below comfortably inside int64_t. */
#define DURATION_MAX ((int64_t)100 * 366 * 86400)

struct unit {
	const char *name;
	int64_t seconds;
};

/* Longest names first so "sem" is not read as "s" followed by junk. */
static const struct unit units[] = {
	{ "sem", 7 * 86400 },
	{ "s", 1 },
	{ "m", 60 },
	{ "h", 3600 },
	{ "d", 86400 },
	{ "j", 86400 },
	{ "w", 7 * 86400 },
};

/* Reads up to max_digits decimal digits at *p; -1 when there are none. */
static int64_t
read_number(const char **p, int max_digits)
{
	int64_t v = 0;
	int n = 0;

	while (isdigit((unsigned char)**p) && n < max_digits) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n ? v : -1;
}

static const struct unit *
match_unit(const char **p)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);
		if (strncmp(*p, units[i].name, n) == 0) {
			*p += n;
			return &units[i];
		}
	}
	return NULL;
}

int
time_parse_duration(const char *s, int64_t *out_seconds)
{
	const char *p = s;
	int64_t total = 0;
	int parts = 0;

	if (!s)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return -1;
	/* One or more NUMBER UNIT parts ("1h30m"), or a bare number of seconds. */
	while (*p && !isspace((unsigned char)*p)) {
		const struct unit *u;
		int64_t n = read_number(&p, 10);

		if (n < 0)
			return -1;
		if (!*p || isspace((unsigned char)*p)) {
			if (parts > 0)
				return -1;   /* "1h30" is ambiguous */
			total += n;
			break;
		}
		if (!(u = match_unit(&p)))
			return -1;
		if (n > DURATION_MAX / u->seconds)
			return -1;
		total += n * u->seconds;
		parts++;
		if (total > DURATION_MAX)
			return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p || total > DURATION_MAX)
		return -1;
	*out_seconds = total;
	return 0;
}

int
time_parse_clock(const char *s, int *out_minutes)
{
	const char *p = s;
	int64_t h, m;

	if (!s)
		return -1;
	h = read_number(&p, 2);
	if (h < 0 || h > 23 || *p++ != ':')
		return -1;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2])
		return -1;
	m = read_number(&p, 2);
	if (m > 59)
		return -1;
	*out_minutes = (int)(h * 60 + m);
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm): no dependence on TZ or on timegm. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int64_t y, int64_t m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Reads "-" DIGITS of exactly n digits into *v. */
static int
read_field(const char **p, char sep, int n, int64_t *v)
{
	const char *start;

	if (sep && *(*p)++ != sep)
		return -1;
	start = *p;
	*v = read_number(p, n);
	return *v < 0 || *p - start != n ? -1 : 0;
}

/* Parses "Z", "+HH:MM", "+HHMM" or "+HH" into seconds east of UTC. */
static int
parse_offset(const char *p, int64_t *off)
{
	int sign;
	int64_t h, m = 0;

	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		*off = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (read_field(&p, 0, 2, &h) < 0 || h > 23)
		return -1;
	if (*p == ':')
		p++;
	if (*p && (read_field(&p, 0, 2, &m) < 0 || m > 59))
		return -1;
	if (*p)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 0;
}

/* Without an offset the text names local wall-clock time, as ISO 8601 says. */
static int64_t
local_to_unix(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s)
{
	struct tm tm = { 0 };

	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = (int)(mo - 1);
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)s;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

int
time_parse_iso8601(const char *s, int64_t *out)
{
	const char *p = s;
	int64_t y, mo, d, h, mi, sec = 0, off;

	if (!s || read_field(&p, 0, 4, &y) < 0 || read_field(&p, '-', 2, &mo) < 0 ||
	    read_field(&p, '-', 2, &d) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (read_field(&p, 0, 2, &h) < 0 || read_field(&p, ':', 2, &mi) < 0 ||
	    h > 23 || mi > 59)
		return -1;
	if (*p == ':' && (read_field(&p, ':', 2, &sec) < 0 || sec > 60))
		return -1;
	if (*p == '.' || *p == ',') {   /* fractions of a second: dropped */
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (!*p) {
		*out = local_to_unix(y, mo, d, h, mi, sec);
		return 0;
	}
	if (parse_offset(p, &off) < 0)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

int64_t
time_now(void)
{
	const char *e = getenv("MERCI_NOW");
	int64_t t;

	if (e && *e) {
		if (time_parse_iso8601(e, &t) == 0)
			return t;
		log_warn("MERCI_NOW=\"%s\" is not an ISO 8601 time "
			 "(e.g. 2026-09-25T12:00:00-04:00); using the system clock", e);
	}
	return (int64_t)time(NULL);
}

static const char *
format_tm(const struct tm *tm, bool ok, const char *fmt, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (!ok || strftime(buf, len, fmt, tm) == 0)
		buf[0] = '\0';
	return buf;
}

const char *
time_format_local(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	bool ok = localtime_r(&tt, &tm) != NULL;

	return format_tm(&tm, ok, "%Y-%m-%d %H:%M", buf, len);
}

const char *
time_format_iso(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	bool ok = gmtime_r(&tt, &tm) != NULL;

	return format_tm(&tm, ok, "%Y-%m-%dT%H:%M:%SZ", buf, len);
}
