/* ingest: turns one parsed message into store rows.
 *
 * Direction (outbound when From is one of the owner's identities), automated
 * detection, the unique message key, the thread key (headers, else subject +
 * participants), exchanges, participants, and contacts: a correspondent
 * becomes a contact once the owner has written to them (To/Cc of an outbound
 * message). Runs inside the caller's transaction; does no I/O but the store. */
#ifndef MERCI_INGEST_H
#define MERCI_INGEST_H

#include <stdint.h>

struct store;
struct config;
struct msg;

enum ingest_result {
	INGEST_NEW = 0,
	INGEST_DUPLICATE = 1,    /* already recorded (same account and message key) */
};

/* The unique key of a message within an account: "<message-id>" when it has
 * one, else "sha256:" + hex digest of date, from, to, cc and subject.
 * Newly allocated. */
char *ingest_message_key(const struct msg *m);

/* Returns 0 and sets *result, or -1 on a store error (the caller rolls back). */
int ingest_message(struct store *st, const struct config *cfg, int64_t account_id,
		   const struct msg *m, int64_t now, enum ingest_result *result);

#endif
