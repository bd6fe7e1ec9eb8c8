/* control: mercid's control socket, through which `merci` asks the running
 * daemon for its live status, a sync now, or a reload.
 *
 * A Unix stream socket: passed by systemd (mercid.socket, sd_listen_fds), or
 * created at the configured path with mode 0600 in a 0700 directory. Only
 * the daemon's own user (or root) may talk to it: the peer's credentials are
 * checked on accept. The protocol is one request line ("status",
 * "status-text", "sync", "reload") and one reply line, then the daemon
 * closes the connection: "status" answers a JSON object, "status-text" a
 * sentence; the others "ok" or "error: <why>". */
#ifndef MERCI_CONTROL_H
#define MERCI_CONTROL_H

#include <systemd/sd-event.h>

struct control;

/* What the daemon does for each request; ctx is passed back. */
struct control_ops {
	char *(*status_json)(void *ctx);          /* newly allocated, one line */
	char *(*status_text)(void *ctx);          /* the same for a person, one line */
	int (*sync_now)(void *ctx);               /* 0 or -1 */
	int (*reload)(void *ctx, char **err);     /* 0, or -1 and *err allocated */
};

/* Opens the socket (systemd's if passed, else path) and serves it on e.
 * Returns 0, or -1 after logging why (e.g. another mercid answers there). */
int control_open(sd_event *e, const char *path, const struct control_ops *ops,
		 void *ctx, struct control **out);
/* Stops serving; removes the socket file if we created it. */
void control_free(struct control *c);

#endif
