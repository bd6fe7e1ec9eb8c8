/* daemon: the top-level context of mercid.
 *
 * struct daemon owns everything the main process holds: the event loop, the
 * configuration in force, the store, and one runner per account. It is the
 * only mutable state of the process; modules receive it, never a global. */
#ifndef MERCI_DAEMON_H
#define MERCI_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct config;
struct store;
struct runner;
struct delivery;
struct control;

struct daemon {
	sd_event *event;
	char *config_path;           /* owned */
	struct config *cfg;          /* owned; replaced whole on reload */
	struct store *store;         /* owned */
	struct runner **runners;     /* owned, one per account of cfg */
	size_t n_runners;
	bool once;                   /* --once: one cycle, then exit */
	bool reload_pending;         /* SIGHUP while a sync ran: apply when idle */
	size_t n_done;               /* --once: runners that finished their cycle */
	int exit_code;
	struct delivery *delivery;   /* owned: the outbox's sender */
	sd_event_source *tick;       /* every minute: rules, queue, flush */
	bool smtp_warned;            /* "no [smtp]" said once */
	struct control *control;     /* owned: the control socket (not in --once) */
	int64_t started;             /* Unix seconds */
	bool ready;                  /* READY=1 sent (not in --once) */
	sd_event_source *ready_timer; /* READY=1 at the latest when it fires */
	int64_t nudges_due;          /* pending and due at the last rules run; -1 before */
	bool stopping;               /* SIGTERM seen: waiting for a send under way */
	sd_event_source *stop_timer; /* the stop's deadline for that send */
};

/* Called by a runner when its sync attempt ended (ok or not). */
void daemon_runner_finished(struct daemon *d, struct runner *r, bool ok);
/* Called by the delivery when nothing more can be sent now. */
void daemon_delivery_idle(struct daemon *d);

#endif
