/* relate: what one new exchange means for the owner's network.
 *
 * Runs detect (detect.h) on a new, person-to-person exchange and records
 * what it found, inside ingest's transaction, in two steps around the
 * exchange's insert (relate_read, relate_record): introductions received and
 * given (referrals, favours, the introduced people as prospects), referral
 * mentions from new senders (resolved to a known contact), leads, probable
 * mandates, thanks sent (referrals marked thanked), questions that opened a
 * thread (the exchange expects an answer), and the language a person
 * wrote in.
 * Everything it writes is unique per message, so running it twice on the
 * same exchange adds nothing. */
#ifndef MERCI_RELATE_H
#define MERCI_RELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct config;
struct detect_event;
struct msg;

struct relate_input {
	const struct msg *m;
	bool outbound;           /* From is one of the owner's identities */
	int64_t exchange_id;     /* relate_record only */
	const char *thread_key;  /* as ingest records it */
	const char *text;        /* cleaned text prefix (m->text_prefix), may be NULL */
	int64_t now;
};

/* What detect found in the message, and what the exchange row records of
 * it. Read before the row is written, so the row is written once. */
struct relate_note {
	bool expects_answer;     /* a request, or an outbound question that opened its thread */
	bool has_thanks;         /* the owner thanked the recipients */
	const char *language;    /* static: "fr" or "en"; NULL when outbound */
	struct detect_event *ev; /* owned: for relate_record */
	size_t n_ev;
};

/* Step one, before the exchange is recorded: fills *out (free it with
 * relate_note_free whatever the result). 0, or -1 on a store error. */
int relate_read(struct store *st, const struct config *cfg, const struct relate_input *in,
		struct relate_note *out);
/* Step two, once the exchange (in->exchange_id) and its participants are
 * recorded: everything else. 0, or -1 on a store error (the caller rolls
 * back). */
int relate_record(struct store *st, const struct config *cfg, const struct relate_input *in,
		  const struct relate_note *note);
void relate_note_free(struct relate_note *note);

#endif
