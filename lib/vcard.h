/* vcard: contacts as address books exchange them. Reads vCard 2.1 (what
 * Outlook exports: bare TYPE parameters, CHARSET, quoted-printable with soft
 * line breaks), 3.0 and 4.0 (folded lines, escaped text); writes 3.0.
 *
 * A card is what merci keeps of a contact: a name, its addresses
 * (normalised, deduplicated, the preferred one first) and its categories
 * (as tags). csv_import.h produces the same cards from CSV exports. A broken
 * card never stops the reading: it becomes a problem with its line number
 * and the next card is read. */
#ifndef MERCI_VCARD_H
#define MERCI_VCARD_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

struct card {
	char *name;              /* display name, NULL when the card has none */
	char **emails;           /* normalised, the preferred one first */
	size_t n_emails;
	char **tags;             /* lower case, blanks and commas made '-' */
	size_t n_tags;
	unsigned line;           /* where the card (or CSV row) starts, from 1 */
};

struct card_problem {
	unsigned line;
	bool skipped;            /* the whole entry was dropped, not one value */
	char *reason;            /* "card without an e-mail address; skipped" */
};

struct card_list {
	struct card *cards;
	size_t n_cards, cap_cards;
	struct card_problem *problems;
	size_t n_problems, cap_problems;
	size_t n_skipped;        /* problems with skipped set */
};

/* True when data looks like vCard: BEGIN:VCARD on its first non-blank line
 * (after an optional UTF-8 byte order mark). */
bool vcard_detect(const char *data, size_t len);
/* Appends every card of data (the whole file) and every problem met to out,
 * which starts zeroed. Never fails: what cannot be read is a problem. */
void vcard_parse(const char *data, size_t len, struct card_list *out);
/* Appends c as a vCard 3.0 in UTF-8 with CRLF line ends, folded at 75
 * octets (never inside a UTF-8 sequence): FN, N when the name splits into
 * given and family names, one EMAIL per address (PREF on the first),
 * CATEGORIES from the tags. */
void vcard_write(struct buf *b, const struct card *c);

/* ---- shared with csv_import.c ---- */
/* Adds raw to c's addresses when it is one (normalised, once); false when
 * raw is not an e-mail address. */
bool card_add_email(struct card *c, const char *raw, bool preferred);
/* Adds a category as a tag (trimmed, lower case, blanks and commas as '-'). */
void card_add_tag(struct card *c, const char *raw);
/* Records a problem at line; skipped counts the entry as dropped. */
void card_list_problem(struct card_list *l, unsigned line, bool skipped,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Moves c into l (c is zeroed), or reports it as skipped when it has no
 * address (what is an entry: "card" or "row"). */
void card_list_take(struct card_list *l, struct card *c, const char *what);
void card_free(struct card *c);
void card_list_free(struct card_list *l);
/* Windows-1252 text as UTF-8 (newly allocated, *out_len set). Used when a
 * file or a value is not valid UTF-8: what Outlook's "ANSI" exports are. */
char *card_cp1252_to_utf8(const char *s, size_t len, size_t *out_len);
/* True when s[0..len) is entirely valid UTF-8. */
bool card_utf8_valid(const char *s, size_t len);

#endif
