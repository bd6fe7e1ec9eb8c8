/* imap_body: which part of a message holds its text, from BODYSTRUCTURE.
 *
 * Detection reads the cleaned start of a message's first text part. The IMAP
 * child asks for BODYSTRUCTURE of the batch's messages that want a text
 * (recent, not automated), picks the part here, then fetches
 * BODY.PEEK[section]<0.BODY_PREFIX_MAX> for them and decodes it with
 * lib/body.h. Pure: no I/O, nothing kept from the libetpan
 * structure after the call. */
#ifndef MERCI_IMAP_BODY_H
#define MERCI_IMAP_BODY_H

#include <stdbool.h>

struct mailimap_body;        /* libetpan */
struct mailimap_fetch_att;   /* libetpan */

#define IMAP_BODY_SECTION_MAX 24   /* "1.2.3": deeper parts are ignored */
#define IMAP_BODY_CHARSET_MAX 40

/* The chosen part, copied out of the libetpan structure. */
struct imap_body_part {
	char section[IMAP_BODY_SECTION_MAX];  /* IMAP part number, e.g. "1" or "1.1" */
	const char *encoding;                 /* static: "7bit", "base64"...; NULL = 7bit */
	char charset[IMAP_BODY_CHARSET_MAX];  /* "" when absent or too long */
	bool html;
};

/* Finds the first text/plain part of bs that is not an attachment, else the
 * first text/html one, walking multiparts (alternative, mixed, related...)
 * but not into attached messages (message/rfc822). Returns 0 and fills *part,
 * or -1 when the message has no such part (or bs is NULL). */
int imap_body_pick(const struct mailimap_body *bs, struct imap_body_part *part);

/* BODY.PEEK[section]<0.max>, newly allocated (the fetch type that receives
 * it owns it); NULL when section is not a dotted part number. */
struct mailimap_fetch_att *imap_body_fetch_att(const char *section, unsigned max);

#endif
