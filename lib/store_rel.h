/* store_rel: the relationship side of the store — referrals, mandates,
 * favours, nudges, tags — as the engine writes it and the CLI reads it.
 * Same conventions as store.h: 0 on success, -1 on failure (logged once);
 * strings returned are newly allocated and freed with the matching *_free;
 * every statement prepared with bound parameters. Times are Unix seconds. */
#ifndef MERCI_STORE_REL_H
#define MERCI_STORE_REL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* ---- names shared with the CLI's JSON (stable) ---- */
/* nudge kinds:  "thank-you" "reciprocity" "keep-in-touch" "follow-up" "prospecting"
 * nudge states: "pending" "sent" "snoozed" "done" "dismissed" "resolved"
 * referral kinds: "introduction" "mention" "lead" "manual"; directions: "received" "given"
 * mandate states: "probable" "confirmed" "refused" "ended"
 * favour kinds: "referral" "introduction" "lead" "recommendation" "help";
 * favour directions: "given" "received" */

/* ---- contacts ---- */
/* Resolves what a user typed: a contact id ("12"), an address, or a name
 * (case- and accent-insensitive; a unique prefix of a full name or a unique
 * first name). 0 with *id set, or -1 with *err a newly allocated one-line
 * message ("no contact matches X" / "X matches 3 contacts: A, B, C; be more
 * precise"). */
int store_contact_resolve(struct store *st, const char *query, int64_t *id, char **err);
int store_contact_tag(struct store *st, int64_t contact_id, const char *tag, bool add);
int store_contact_mute(struct store *st, int64_t contact_id, bool muted);
/* Per-contact keep-in-touch cadence in seconds; 0 clears the override. */
int store_contact_cadence(struct store *st, int64_t contact_id, int64_t seconds);

/* ---- referrals ---- */
struct store_referral_row {
	int64_t id;
	char *kind;
	char *direction;
	int64_t from_id;          /* who made it (0 unknown) */
	char *from_name;          /* name or primary address; NULL when unknown */
	int64_t to_id;            /* who was referred/introduced (0 unknown) */
	char *to_name;
	int64_t date;
	char *evidence;
	int64_t thanked_at;       /* 0 when not thanked */
	int64_t mandate_id;       /* a mandate that came from it, 0 when none */
};
int store_referrals_list(struct store *st, struct store_referral_row **out, size_t *n);
void store_referral_rows_free(struct store_referral_row *v, size_t n);
int store_referral_add(struct store *st, const char *kind, const char *direction,
		       int64_t from_id, int64_t to_id, int64_t exchange_id, int64_t date,
		       const char *evidence, int64_t *out_id);

/* ---- mandates ---- */
struct store_mandate_row {
	int64_t id;
	int64_t client_id;
	char *client_name;
	char *state;
	char *title;              /* may be NULL */
	int64_t start, end;       /* 0 when unknown */
	int64_t referral_id;      /* 0 when none */
	char *referrer_name;      /* who referred the client, NULL when none */
	char *evidence;
	int64_t created_at;
};
int store_mandates_list(struct store *st, struct store_mandate_row **out, size_t *n);
void store_mandate_rows_free(struct store_mandate_row *v, size_t n);
/* A hand-entered mandate is confirmed; the referral it came from is found
 * (the newest referral that introduced or mentioned this client) when
 * referral_id is 0. */
int store_mandate_add(struct store *st, int64_t client_id, const char *title,
		      int64_t start, int64_t end, int64_t referral_id, int64_t *out_id);
/* state: "confirmed", "refused" or "ended" (when: end date for "ended"). */
int store_mandate_set_state(struct store *st, int64_t id, const char *state, int64_t when);

/* ---- favours ---- */
struct store_favour_row {
	int64_t id;
	int64_t contact_id;
	char *contact_name;
	char *direction;
	char *kind;
	int64_t date;
	char *source;             /* "mail" or "manual" */
	char *note;               /* evidence or the owner's note; may be NULL */
};
int store_favours_list(struct store *st, struct store_favour_row **out, size_t *n);
void store_favour_rows_free(struct store_favour_row *v, size_t n);
int store_favour_add(struct store *st, int64_t contact_id, const char *direction,
		     const char *kind, int64_t date, const char *source, const char *note,
		     int64_t exchange_id, int64_t *out_id);

/* ---- nudges ---- */
struct store_nudge_row {
	int64_t id;
	char *kind;
	char *state;
	int64_t due;
	int64_t snooze_until;     /* 0 when not snoozed */
	char *evidence;           /* why it fires, one line */
	int64_t contact_id;       /* 0 when none */
	char *contact_name;
	char *contact_email;      /* primary address */
	int64_t created_at, updated_at;
};
/* all = false: only pending, sent and snoozed. Sorted by due time. */
int store_nudges_list(struct store *st, bool all, struct store_nudge_row **out, size_t *n);
void store_nudge_rows_free(struct store_nudge_row *v, size_t n);
/* The owner acts on a nudge: "done", "dismissed", or "snoozed" until until.
 * Muting the contact is store_contact_mute. */
int store_nudge_set_state(struct store *st, int64_t id, const char *state, int64_t until, int64_t now);

/* ---- for the engine (relate.c) ---- */
/* store_favour_add that also names the referral the favour came with.
 * *out_id is 0 when this message had already recorded the same favour. */
int store_favour_add_referral(struct store *st, int64_t contact_id, const char *direction,
			      const char *kind, int64_t date, const char *source,
			      const char *note, int64_t exchange_id, int64_t referral_id,
			      int64_t *out_id);

/* ---- timeline ---- */
struct store_timeline_row {
	int64_t date;
	char *what;               /* "received" "sent" "referral" "mandate" "favour" "nudge" */
	char *text;               /* one line: subject, evidence, state... */
};
/* Everything about one contact, newest first. */
int store_timeline(struct store *st, int64_t contact_id, struct store_timeline_row **out, size_t *n);
void store_timeline_rows_free(struct store_timeline_row *v, size_t n);

#endif
