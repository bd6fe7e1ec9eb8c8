/* delivery: hands the outbox to the owner's SMTP server, one message at a
 * time, each in a child process: smtp_send blocks (DNS, TLS, a slow
 * server), and the event loop, the watchdog and the IMAP runners must
 * never wait on it. The child sends and writes its outcome to a pipe; the
 * parent records it (outbox_mark_result) and starts the next. A child that
 * outlives its timeout is killed and the send counts as a temporary
 * failure. */
#ifndef MERCI_DELIVERY_H
#define MERCI_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct delivery;

struct delivery *delivery_new(struct daemon *d);
/* Kills a running child (SIGKILL), reaps it, frees everything. The message
 * it was sending stays "sending" and is sent again at the next start. */
void delivery_free(struct delivery *dl);
/* For a graceful stop: starts no new send from now on. A send under way
 * goes on to its outcome (recorded as usual), then daemon_delivery_idle is
 * called. Returns whether such a send is under way. */
bool delivery_stop(struct delivery *dl);
/* Sends every message due now, one after the other, then calls
 * daemon_delivery_idle. Returns at once (no-op while a send runs). */
void delivery_flush(struct delivery *dl);
bool delivery_busy(const struct delivery *dl);

/* What this process sent since it started, for --once's summary. */
struct delivery_counts {
	int64_t sent, tempfail, permfail;
};
void delivery_counts_get(const struct delivery *dl, struct delivery_counts *out);

#endif
