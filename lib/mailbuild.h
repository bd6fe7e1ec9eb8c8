/* mailbuild: renders the messages merci sends to its owner (nudges, digests,
 * replies to commands) as RFC 5322 bytes, built once, stored in the outbox,
 * sent as is and recognisable if sent twice (fixed Message-ID).
 *
 * Headers are folded to RFC 5322 limits and non-ASCII words are RFC 2047
 * encoded; no value can inject a header: CR, LF, NUL and other controls in
 * any header value are refused (mailbuild_render fails) or, for display
 * names and subjects coming from mail, replaced by spaces beforehand with
 * mailbuild_sanitise. Bodies are UTF-8, quoted-printable, CRLF, every line at
 * most 998 bytes (QP guarantees 76). */
#ifndef MERCI_MAILBUILD_H
#define MERCI_MAILBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mail_out {
	const char *from_name;     /* "merci" */
	const char *from_addr;     /* the owner's address (merci writes to itself) */
	const char *to_name;       /* may be NULL */
	const char *to_addr;
	const char *subject;       /* UTF-8 */
	const char *text;          /* UTF-8, '\n' line ends */
	const char *html;          /* optional UTF-8 HTML alternative, NULL for none */
	const char *message_id;    /* without brackets; required (see mailbuild_message_id) */
	const char *in_reply_to;   /* without brackets; NULL for none */
	int64_t date;              /* Unix seconds */
	int tz_offset_min;         /* for the Date header, e.g. -240 */
	const char *lang;          /* Content-Language, e.g. "fr" */
	const char *nudge;         /* X-Merci-Nudge value, e.g. "thank-you 42"; NULL for none */
	bool draft;                /* the owner's own mail to be (server_tasks.h): none of
				      the automated headers below, nor X-Merci-Nudge */
};

/* Renders m. Always adds MIME-Version; unless m->draft, also Auto-Submitted:
 * auto-generated and X-Auto-Response-Suppress: All (what the owner sends
 * from a draft is a person's mail). The body always ends with a line break.
 * Returns 0 with *out newly allocated (NUL terminated, *len bytes, CRLF
 * line ends), or -1 with *err a newly allocated one-line reason. */
int mailbuild_render(const struct mail_out *m, char **out, size_t *len, char **err);

/* A new random Message-ID "merci.<32 hex>@<domain of addr>", newly allocated. */
char *mailbuild_message_id(const char *addr);

/* Returns a copy of s with CR, LF, NUL, other C0 controls, DEL and the
 * Unicode line/paragraph separators (U+2028, U+2029, U+0085 and the other
 * C1 controls) replaced by spaces, runs of spaces collapsed, leading and
 * trailing spaces dropped, bytes that are not UTF-8 replaced by U+FFFD, and
 * cut to max bytes on a UTF-8 boundary. (A NUL ends a C string: what
 * follows it is never seen.) mailbuild_render accepts every result. Newly
 * allocated. */
char *mailbuild_sanitise(const char *s, size_t max);

/* Encodes one header value per RFC 2047 (UTF-8, Q or B, encoded words at
 * most 75 chars, never splitting a UTF-8 sequence) when it holds non-ASCII,
 * a word too long to fold, or "=?" (which a reader would take for an
 * encoded word); other ASCII is returned as is. Newly allocated; no folding
 * (mailbuild_render folds). */
char *mailbuild_encode_words(const char *utf8);

#endif
