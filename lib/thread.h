/* thread: thread keys and subject normalisation.
 * A thread key is the root Message-ID (first of References, else In-Reply-To,
 * else the message's own id). Mail that lacks References and In-Reply-To but
 * whose subject says it is a reply is matched by the store on the normalised
 * subject and participants (see ingest.c). */
#ifndef MERCI_THREAD_H
#define MERCI_THREAD_H

#include <stdbool.h>

struct msg;

/* Strips reply/forward prefixes, repeatedly and in any mix: "Re:", "RE :",
 * "Fwd:", "Fw:", "TR:", "Réf. :", "Ref:", "AW:", "WG:", "SV:", "Rép. :",
 * "[list] " tags, "Re[2]:"; collapses white space, lower-cases (UTF-8 aware
 * for Latin letters). Returns a newly allocated string (maybe empty). */
char *thread_subject_normalise(const char *subject);

/* True when the subject starts with a reply or forward prefix. */
bool thread_subject_is_reply(const char *subject);

/* Returns a newly allocated thread key from References / In-Reply-To /
 * Message-ID, or NULL when the message has none of them. */
char *thread_key_from_headers(const struct msg *m);

#endif
