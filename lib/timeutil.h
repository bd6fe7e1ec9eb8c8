/* timeutil: durations ("5m", "2d", "1w"), clock times ("08:30"), and the
 * injectable clock: MERCI_NOW (ISO 8601, e.g. 2026-09-25T12:00:00-04:00)
 * replaces the system clock in mercid and merci so tests are deterministic. */
#ifndef MERCI_TIMEUTIL_H
#define MERCI_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Parses "90", "30s", "5m", "2h", "7d", "2w" (also French "j" for days and
 * "sem" for weeks) into seconds. Returns 0, or -1 when s is not a duration. */
int time_parse_duration(const char *s, int64_t *out_seconds);
/* Parses "HH:MM" into minutes after midnight. */
int time_parse_clock(const char *s, int *out_minutes);
/* Parses ISO 8601 "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM|-HH:MM]" into Unix seconds. */
int time_parse_iso8601(const char *s, int64_t *out);
/* Now, honouring MERCI_NOW. */
int64_t time_now(void);
/* Formats t (Unix seconds) as local "YYYY-MM-DD HH:MM" into buf. */
const char *time_format_local(int64_t t, char *buf, size_t len);
/* Formats t as ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" into buf. */
const char *time_format_iso(int64_t t, char *buf, size_t len);

#endif
