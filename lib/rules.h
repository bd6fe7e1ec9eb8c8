/* rules: decides which nudges exist and when they are due.
 *
 * rules_evaluate reads the store (exchanges, referrals, mandates, favours,
 * contacts and their tags) and creates the nudges whose condition holds,
 * each under a unique dedupe key (kind + subject), so running it any number
 * of times creates nothing new; it also marks "resolved" the pending,
 * snoozed or sent nudges whose condition cleared by itself (a reply came, a
 * thank-you was sent...), wakes snoozed nudges whose time came, and spreads
 * keep-in-touch nudges so that no more than nudges.daily_cap fall due on one
 * day. Nothing fires for automated mail, for the owner's own addresses, for
 * muted contacts, or for events older than the account's first sync window.
 * One transaction; idempotent; time comes from now (MERCI_NOW in tests). */
#ifndef MERCI_RULES_H
#define MERCI_RULES_H

#include <stdint.h>

struct store;
struct config;

struct rules_stats {
	int64_t created;      /* new nudges */
	int64_t resolved;     /* cleared by themselves */
	int64_t woken;        /* snoozed ones due again */
	int64_t due;          /* pending and due now (due <= now) after the run */
};

int rules_evaluate(struct store *st, const struct config *cfg, int64_t now,
		   struct rules_stats *stats);

#endif
