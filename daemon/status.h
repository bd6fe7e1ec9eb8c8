/* status: the one-line STATUS= mercid tells systemd (systemctl status
 * shows it), written for the administrator: accounts synced and failing
 * (with a short reason), syncing now, nudges due, the outbox. It names
 * accounts as configured and never a person, a server reply or a secret. */
#ifndef MERCI_STATUS_H
#define MERCI_STATUS_H

struct daemon;

/* Newly allocated, e.g. "synced 2 accounts, 1 failing: work (connection
 * refused), 3 nudges due, outbox: 1 queued". */
char *status_line(const struct daemon *d);
/* A few words for why an attempt failed, from its RECERR_* class and its
 * message (err_class 0: ours); newly allocated. */
char *status_failure_words(int err_class, const char *err);

#endif
