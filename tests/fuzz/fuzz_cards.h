/* fuzz_cards: the checks fuzz_vcard.c and fuzz_csv.c share on the cards
 * an import produced (vcard.h), and the round trip through vcard_write and
 * vcard_parse that `merci contacts export` then `merci import` make. */
#ifndef MERCI_FUZZ_CARDS_H
#define MERCI_FUZZ_CARDS_H

#include "fuzz.h"
#include "address.h"
#include "buf.h"
#include "vcard.h"

#include <stdbool.h>
#include <strings.h>

static inline bool
fuzz_str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static inline void
fuzz_check_cards(const struct card_list *l)
{
	size_t skipped = 0;

	for (size_t i = 0; i < l->n_cards; i++) {
		const struct card *c = &l->cards[i];
		FUZZ_CHECK(c->n_emails >= 1 && c->line >= 1);
		FUZZ_CHECK(fuzz_str_utf8(c->name));
		for (size_t k = 0; k < c->n_emails; k++) {
			const char *e = c->emails[k];
			FUZZ_CHECK(e && strchr(e, '@') && e[0] != '@');
			for (const char *p = e; *p; p++)
				FUZZ_CHECK((unsigned char)*p > 0x20 && !(*p >= 'A' && *p <= 'Z'));
			for (size_t j = 0; j < k; j++)
				FUZZ_CHECK(strcmp(c->emails[j], e) != 0);
		}
		for (size_t k = 0; k < c->n_tags; k++) {
			const char *t = c->tags[k];
			FUZZ_CHECK(t && *t && strlen(t) <= 64);
			/* vcard.h: lower case, blanks and commas made '-'.
			 * (Other controls are kept today: see README.md.) */
			for (const char *p = t; *p; p++)
				FUZZ_CHECK(*p != ',' && *p != ' ' && *p != '\t' &&
				    *p != '\n' && *p != '\r' && !(*p >= 'A' && *p <= 'Z'));
		}
	}
	for (size_t i = 0; i < l->n_problems; i++) {
		/* Not checked: that a reason is one line. It quotes the raw
		 * value, controls included (see README.md). */
		FUZZ_CHECK(l->problems[i].reason != NULL && *l->problems[i].reason);
		skipped += l->problems[i].skipped;
	}
	FUZZ_CHECK(skipped == l->n_skipped);
}

/* True when e reads back as itself (card_add_email: "mailto:" dropped,
 * then address_normalise). */
static inline bool
fuzz_email_fixed(const char *e)
{
	char *n;
	bool same;

	if (strncasecmp(e, "mailto:", 7) == 0)
		return false;
	n = address_normalise(e, false);
	same = n != NULL && strcmp(n, e) == 0;
	free(n);
	return same;
}

/* Names compared without their C0 controls: the readers keep them (a CR
 * from "=0D" or a CSV field, see README.md) and vCard cannot write them. */
static inline bool
fuzz_name_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	for (;;) {
		while (*a && (unsigned char)*a < 0x20)
			a++;
		while (*b && (unsigned char)*b < 0x20)
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

/* No C0 control in s: what reaches a terminal or a header stays one line. */
static inline bool
fuzz_no_controls(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Each card written as vCard 3.0 reads back as the same card. */
static inline void
fuzz_cards_round_trip(const struct card_list *l)
{
	struct buf b = { 0 };
	struct card_list back = { 0 };

	/* Problems are printed as "FILE:LINE: reason"; names and tags end up
	 * in tables and mail: none may carry a control character. */
	for (size_t i = 0; i < l->n_problems; i++)
		FUZZ_CHECK(fuzz_no_controls(l->problems[i].reason));
	for (size_t i = 0; i < l->n_cards; i++) {
		FUZZ_CHECK(fuzz_no_controls(l->cards[i].name));
		for (size_t k = 0; k < l->cards[i].n_tags; k++)
			FUZZ_CHECK(fuzz_no_controls(l->cards[i].tags[k]));
	}

	/* Every stored address must read back as itself (address_normalise
	 * is idempotent); a file breaking that fails here. */
	for (size_t i = 0; i < l->n_cards; i++)
		for (size_t k = 0; k < l->cards[i].n_emails; k++)
			FUZZ_CHECK(fuzz_email_fixed(l->cards[i].emails[k]));
	for (size_t i = 0; i < l->n_cards; i++)
		vcard_write(&b, &l->cards[i]);
	if (b.len == 0)
		return;
	for (size_t i = 0; i < b.len; i++)
		FUZZ_CHECK(b.data[i] != '\0');
	FUZZ_CHECK(vcard_detect(b.data, b.len));
	vcard_parse(b.data, b.len, &back);
	if (back.n_cards != l->n_cards)
		fprintf(stderr, "round trip: %zu cards written, %zu read back\n",
		    l->n_cards, back.n_cards);
	FUZZ_CHECK(back.n_cards == l->n_cards);
	for (size_t i = 0; i < l->n_cards; i++) {
		const struct card *a = &l->cards[i], *c = &back.cards[i];
		if (!fuzz_name_eq(a->name, c->name))
			fprintf(stderr, "round trip: name \"%s\" read back as \"%s\"\n",
			    a->name ? a->name : "(null)", c->name ? c->name : "(null)");
		FUZZ_CHECK(fuzz_name_eq(a->name, c->name));
		FUZZ_CHECK(a->n_emails == c->n_emails);
		for (size_t k = 0; k < a->n_emails; k++)
			FUZZ_CHECK(strcmp(a->emails[k], c->emails[k]) == 0);
		FUZZ_CHECK(a->n_tags == c->n_tags);
		for (size_t k = 0; k < a->n_tags; k++)
			FUZZ_CHECK(strcmp(a->tags[k], c->tags[k]) == 0);
	}
	card_list_free(&back);
	buf_free(&b);
}

#endif
