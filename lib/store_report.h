/* store_report: the queries behind `merci report`, the owner's network at
 * a glance. Aggregates only, over the existing indexes, so the report stays
 * well under a second on a store of 100,000 exchanges.
 *
 * Same conventions as store.h: 0 on success, -1 on failure (logged once);
 * strings are newly allocated and released by store_report_free. Times are
 * Unix seconds. */
#ifndef MERCI_STORE_REPORT_H
#define MERCI_STORE_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* The nudge kinds in the order the report lists them (store_rel.h names). */
enum { STORE_REPORT_N_KINDS = 5 };
extern const char *const store_report_kinds[STORE_REPORT_N_KINDS];

struct store_report_opts {
	int64_t now;
	int64_t since;            /* events before it are not counted; 0: all */
	int64_t keep_in_touch;    /* cadence of contacts without their own */
};

/* A contact who referred the owner (referrals received from them). */
struct store_report_referrer {
	int64_t id;
	char *name;
	int64_t referrals;
	int64_t unthanked;        /* neither thanked_at nor a thank-you nudge done */
	int64_t mandates;         /* confirmed or ended mandates that came of them */
	int64_t last;             /* date of the newest referral */
};

/* Favours received from a contact and not yet returned: each favour given
 * settles the oldest one received before it, as the reciprocity rule does. */
struct store_report_owed {
	int64_t id;
	char *name;
	int64_t received, given;
	int64_t owed;
	int64_t oldest;           /* date of the oldest favour not returned */
};

/* A network contact silent for longer than its cadence. */
struct store_report_cold {
	int64_t id;
	char *name;
	int64_t last;             /* last person-to-person exchange */
	int64_t cadence_days;
};

struct store_report {
	/* mandates confirmed or ended, started since opts.since */
	int64_t mandates;
	int64_t from_referrals;
	/* gaps between the starts of consecutive mandates counted above */
	int64_t n_gaps;
	int64_t gap_total;        /* seconds, summed */
	int64_t gap_last;         /* seconds, 0 when no gap */
	/* start of the newest mandate (whatever --since), 0 when none */
	int64_t last_start;
	struct store_report_referrer *referrers;   /* most mandates first */
	size_t n_referrers;
	struct store_report_owed *owed;            /* oldest first */
	size_t n_owed;
	struct store_report_cold *cold;            /* silent longest first */
	size_t n_cold;
	/* open nudges (pending, sent, snoozed) per store_report_kinds[] */
	int64_t nudges[STORE_REPORT_N_KINDS];
};

int store_report_build(struct store *st, const struct store_report_opts *o,
		       struct store_report *out);
void store_report_free(struct store_report *r);

#endif
