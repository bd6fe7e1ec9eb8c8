/* rules_summary: what the rules keep between runs so that a run reads only
 * what changed (schema step 6).
 *
 * rules_contact holds, per contact, what keep-in-touch, thank-you and
 * prospecting ask of all its exchanges: person-to-person counts each way,
 * the newest such exchange and its account, the newest mail the owner
 * wrote them, the oldest exchange naming them. rules_thread dates the
 * newest answer (inbound, from a person) in each thread. rules_followup lists the
 * outbound questions that may still call for a follow-up: not answered,
 * not nudged, inside the first sync window. Both are brought up to date
 * from the exchanges above a high-water mark, and counted again, per
 * contact or whole, when the store's triggers say older rows changed
 * (an address moved to another contact, an exchange changed or went).
 * Both calls run inside the rules' transaction. */
#ifndef MERCI_RULES_SUMMARY_H
#define MERCI_RULES_SUMMARY_H

struct store;

/* SQL: whether date falls inside the first sync window of account acc;
 * :win is a JSON object {"account id": start} (rules.c builds it). */
#define RULES_SQL_IN_WINDOW(date, acc) \
	"(" date " >= coalesce(json_extract(:win, '$.\"' || " acc " || '\"'), 0))"

/* Folds every exchange added since the last run (and recounts what the
 * triggers marked). fingerprint names the first sync windows of the
 * accounts that have mail: when it differs from the last run's, the
 * questions dropped as too old are looked at again. */
int rules_summary_update(struct store *st, const char *fingerprint);

/* After the run's nudges are written: forgets the questions that can no
 * longer call for a follow-up (answered, nudged, before the window). */
int rules_summary_settle(struct store *st, const char *windows);

#endif
