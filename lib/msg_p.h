/* msg_p: private to lib/ and its unit tests: the two readings of an address
 * field, so that test_msg can check that the fast one gives the very lists
 * the full one gives, over the test corpora. */
#ifndef MERCI_MSG_P_H
#define MERCI_MSG_P_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

/* Reads the common plain forms alone ("Name <a@b>", "<a@b>", "a@b", as a
 * comma-separated list): returns true and appends them to l, or false
 * without touching l when s holds anything else (quotes, comments, groups,
 * encoded words, 8-bit bytes, odd spacing). */
bool msg_addresses_fast(const char *s, size_t n, struct msg_addr_list *l);

/* The full reading: libetpan's parser, then a tolerant one for what it
 * refuses. */
void msg_addresses_full(const char *s, size_t n, struct msg_addr_list *l);

#endif
