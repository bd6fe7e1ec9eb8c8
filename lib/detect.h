/* detect: reads one message for the events that keep a freelancer's network
 * working — introductions, referral mentions, leads, mandate signals, thanks,
 * questions that expect an answer — in French and in English.
 *
 * Pure: no store, no I/O. It sees the header facts and the cleaned start of
 * the first text part (body.h: quotes and signatures already removed), and
 * reports what the text says; the engine decides what it means for whom
 * (resolving names to contacts, checking that a sender is new, etc.). */
#ifndef MERCI_DETECT_H
#define MERCI_DETECT_H

#include <stdbool.h>
#include <stddef.h>

struct msg;

enum detect_kind {
	/* Someone writes to the owner and a third person (To/Cc) as an
	 * introduction ("Intro", "A <> B", "A / B", "mise en relation",
	 * "je vous présente", "I'd like to introduce", "meet ...", "connecting you"). */
	DETECT_INTRO_RECEIVED,
	/* The owner writes to two (or more) people with the same signals. */
	DETECT_INTRO_GIVEN,
	/* The sender names someone who sent them: "de la part de X",
	 * "X m'a donné vos coordonnées", "X m'a recommandé", "X suggested I
	 * contact you", "referred by X", "X gave me your name". who = X as written. */
	DETECT_REFERRAL_MENTION,
	/* The sender passed the owner's name on: "je lui ai donné ton nom",
	 * "je t'ai recommandé(e)", "I passed on your name", "I gave her your details". */
	DETECT_LEAD_RECEIVED,
	/* Contract words: contrat, mandat, bon de commande, purchase order,
	 * statement of work, SOW, proposition acceptée, signed/signé... */
	DETECT_MANDATE_SIGNAL,
	/* Thanks: merci, thank(s), thank you, je te remercie, gracias... */
	DETECT_THANKS,
	/* Expects an answer: a question mark in the text or subject, or a
	 * request: pourriez-vous, seriez-vous disponible, auriez-vous, pouvez-vous,
	 * could you, would you, can you, let me know, do you have... Never for a
	 * message that is only a thank-you or a closing note. */
	DETECT_QUESTION,
};

struct detect_event {
	enum detect_kind kind;
	char *who;          /* REFERRAL_MENTION: the person named, as written
			     * ("Amélie Tremblay", "Amélie", or an address); else NULL */
	char *evidence;     /* the matched phrase in context, one line, <= 160 bytes */
	const char *lang;   /* "fr" or "en": the language of the matched phrase */
};

struct detect_input {
	const struct msg *m;
	bool outbound;                 /* From is one of the owner's identities */
	const char *text;              /* cleaned text prefix, UTF-8, may be NULL */
	char *const *identities;       /* the owner's addresses (normalised) */
	size_t n_identities;
};

/* Returns the number of events found and sets *out to a newly allocated
 * array (NULL when none). Each kind appears at most once per message. */
size_t detect_message(const struct detect_input *in, struct detect_event **out);
void detect_events_free(struct detect_event *v, size_t n);

/* Guesses the language of a text: "fr" or "en" (default "fr" when unsure). */
const char *detect_language(const char *text);

#endif
