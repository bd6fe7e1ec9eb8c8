/* msg: one message's header facts, as the IMAP child extracts them from the
 * raw header fields and the parent ingests them. A struct msg owns every
 * string and array it points to; msg_free releases them. */
#ifndef MERCI_MSG_H
#define MERCI_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msg_addr {
	char *name;     /* display name, UTF-8 (RFC 2047 decoded); NULL if none */
	char *email;    /* normalised address (see address.h); never NULL */
};

struct msg_addr_list {
	struct msg_addr *v;
	size_t n;
	size_t cap;
};

struct msg {
	char *folder;            /* mailbox name as the server spells it */
	uint32_t uid;
	char *message_id;        /* without angle brackets; NULL if absent */
	char *in_reply_to;       /* first id, without brackets; NULL if absent */
	char *references;        /* ids without brackets, separated by one space */
	int64_t date;            /* Unix seconds; 0 when absent or unreadable */
	char *subject;           /* UTF-8, decoded, CR/LF folded to spaces */
	struct msg_addr_list from, to, cc, reply_to;
	char *list_id;
	bool list_unsubscribe;
	char *precedence;        /* lower case */
	char *auto_submitted;    /* lower case */
	bool x_autoreply;        /* X-Autoreply / X-Autorespond present */
	char *text_prefix;       /* reserved for detection; NULL for now */
};

/* The header fields merci fetches; NULL-terminated. The IMAP child asks for
 * exactly these in BODY.PEEK[HEADER.FIELDS (...)]. */
extern const char *const msg_header_fields[];

/* Parses a raw header block (CRLF or LF line ends, folded lines, 8-bit bytes,
 * RFC 2047 words) into m (which must be zeroed by the caller; folder and uid
 * are left untouched). Tolerant: a bad address is dropped alone, a bad date
 * leaves date 0. Returns 0, or -1 when nothing in the block can be read as a
 * header (then m holds nothing that needs freeing beyond what msg_free does). */
int msg_parse_headers(const char *raw, size_t len, struct msg *m);

void msg_addr_list_add(struct msg_addr_list *l, const char *name, const char *email);
void msg_free(struct msg *m);    /* frees the members, not m itself */

#endif
