/* relate: what one new exchange means for the owner's network.
 *
 * Runs detect (detect.h) on a new, person-to-person exchange and records
 * what it found, inside ingest's transaction: introductions received and
 * given (referrals, favours, the introduced people as prospects), referral
 * mentions from new senders (resolved to a known contact), leads, probable
 * mandates, thanks sent (referrals marked thanked), questions that opened a
 * thread (the exchange expects an answer), and the exchange's language.
 * Everything it writes is unique per message, so running it twice on the
 * same exchange adds nothing. */
#ifndef MERCI_RELATE_H
#define MERCI_RELATE_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct config;
struct msg;

struct relate_input {
	const struct msg *m;
	bool outbound;           /* From is one of the owner's identities */
	int64_t exchange_id;
	const char *thread_key;  /* as ingest recorded it */
	const char *text;        /* cleaned text prefix (m->text_prefix), may be NULL */
	int64_t now;
};

/* 0, or -1 on a store error (the caller rolls back). */
int relate_message(struct store *st, const struct config *cfg, const struct relate_input *in);

#endif
