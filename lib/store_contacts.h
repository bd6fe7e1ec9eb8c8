/* store_contacts: contacts as the owner manages them by hand — imported
 * from an address book, merged when one person turned out to be two, shown
 * in full. Same conventions as store.h: 0 on success, -1 on failure (logged
 * once); strings returned are newly allocated and freed with the matching
 * *_free; every statement prepared with bound parameters.
 *
 * The export reads store_contacts_list (store.h): it already gives each
 * contact's name, addresses (primary first) and tags. */
#ifndef MERCI_STORE_CONTACTS_H
#define MERCI_STORE_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_import_result { STORE_IMPORT_CREATED, STORE_IMPORT_MERGED };

/* One address book entry, inside the caller's transaction. When any of
 * emails (normalised) is already known, the others join that contact and
 * a missing name is filled: MERGED. Otherwise a contact is created with
 * name (may be NULL) and every address: CREATED. Addresses that belong to
 * another contact stay where they are (merging people is the owner's call:
 * store_contacts_merge). Each tag is added to the contact. */
int store_contact_import(struct store *st, const char *name, char *const *emails,
			 size_t n_emails, char *const *tags, size_t n_tags, int64_t now,
			 enum store_import_result *result, int64_t *out_id);

/* What store_contacts_merge moved from B to A. */
struct store_merge_counts {
	int64_t addresses, tags, exchanges, favours, referrals, mandates, nudges;
};
/* Moves into into's hands everything of from — addresses (and so the
 * exchanges whose participants they are), tags, favours, referrals both
 * ways, mandates, nudges; fills into's missing name, cadence, language and
 * note — then deletes from. One transaction of its own. Rows that would
 * duplicate one of into's (the same mail-derived favour, say) go with from. */
int store_contacts_merge(struct store *st, int64_t into, int64_t from,
			 struct store_merge_counts *out);

struct store_exchange_brief {
	int64_t date;
	bool outbound;
	char *subject;           /* may be NULL */
};

struct store_contact_detail {
	int64_t id;
	char *name;              /* may be NULL */
	char **emails;           /* most used first */
	size_t n_emails;
	char **tags;
	size_t n_tags;
	int64_t cadence_days;    /* the contact's own, 0 when the default applies */
	bool muted;
	int64_t n_in, n_out;     /* person-to-person exchanges, as store_contacts_list */
	int64_t first, last;     /* 0 when none */
	int64_t favours_given, favours_received;
	int64_t referrals_made;      /* this contact introduced or referred someone */
	int64_t referrals_received;  /* someone introduced or referred this contact */
	struct store_exchange_brief *recent;   /* the last 10 exchanges, newest first */
	size_t n_recent;
};
/* Everything about contact id, read in one snapshot. */
int store_contact_detail(struct store *st, int64_t id, struct store_contact_detail *out);
void store_contact_detail_free(struct store_contact_detail *d);

#endif
