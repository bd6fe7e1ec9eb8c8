/* address: e-mail address normalisation and matching.
 * Real mail holds addresses no RFC allows (consecutive dots, stray quotes,
 * eight-bit bytes, a missing domain); we keep what a person would recognise
 * as an address and refuse only what cannot be one. */
#ifndef MERCI_ADDRESS_H
#define MERCI_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* Returns a newly allocated normalised address (surrounding space, angle
 * brackets and quotes removed, lower case, "+tag" kept), or NULL when raw
 * cannot be an address (no '@' with something on both sides, spaces or
 * control characters inside, longer than 254 bytes). An address without a
 * domain is kept as-is when it is a plausible local name ("root") only if
 * allow_local is true. */
char *address_normalise(const char *raw, bool allow_local);

/* True for senders nobody reads: noreply, no-reply, donotreply, mailer-daemon,
 * postmaster, bounce(s), notifications... (local part, case-insensitive). */
bool address_is_noreply(const char *email);

/* Shell-style glob ('*' and '?') match of a normalised address against a
 * pattern such as "*@noreply.*", case-insensitive. */
bool address_match_glob(const char *pattern, const char *email);

/* Splits a comma-separated config list ("a@b, c@d") into trimmed strings.
 * Returns the count; *out is a newly allocated array of newly allocated strings. */
size_t address_split_list(const char *s, char ***out);

#endif
