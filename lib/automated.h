/* automated: is a message from a machine rather than a person?
 * Automated mail is recorded but never makes a contact or a nudge. */
#ifndef MERCI_AUTOMATED_H
#define MERCI_AUTOMATED_H

#include <stddef.h>

struct msg;

/* Returns NULL for mail from a person, else a short static reason:
 * "list-id", "list-unsubscribe", "precedence", "auto-submitted",
 * "x-autoreply", "noreply-sender", "ignore-pattern". ignore is the [nudges]
 * ignore glob list (may be NULL when n is 0). Checks the From address. */
const char *automated_reason(const struct msg *m, char *const *ignore, size_t n_ignore);

#endif
