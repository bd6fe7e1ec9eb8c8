/* control: the daemon side of the control socket (see control.h). */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"

#define CONTROL_MAX_CLIENTS 16
#define CONTROL_LINE_MAX 256
#define CONTROL_CLIENT_TIMEOUT_USEC (5 * 1000000ULL)

struct control_client {
	struct control *ctl;                 /* foreign: the server */
	int fd;
	sd_event_source *io, *timeout;
	char line[CONTROL_LINE_MAX];
	size_t len;
};

struct control {
	sd_event *event;                     /* foreign */
	const struct control_ops *ops;       /* foreign */
	void *ctx;                           /* foreign */
	int fd;
	bool created;                        /* we bound it: unlink on free */
	char *path;                          /* owned, when created */
	sd_event_source *accept;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
};

static void
client_free(struct control_client *cl)
{
	struct control *ctl = cl->ctl;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i] == cl)
			ctl->clients[i] = NULL;
	cl->io = sd_event_source_disable_unref(cl->io);
	cl->timeout = sd_event_source_disable_unref(cl->timeout);
	close(cl->fd);
	free(cl);
}

/* Replies are a line of a few hundred bytes; a client that cannot take
 * them at once is not worth blocking the loop for. */
static void
client_reply(struct control_client *cl, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = send(cl->fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
	send(cl->fd, "\n", 1, MSG_NOSIGNAL);
}

static void
client_dispatch(struct control_client *cl)
{
	struct control *ctl = cl->ctl;
	char *reply = NULL, *err = NULL;

	if (strcmp(cl->line, "status") == 0) {
		reply = ctl->ops->status_json(ctl->ctx);
	} else if (strcmp(cl->line, "status-text") == 0) {
		reply = ctl->ops->status_text(ctl->ctx);
	} else if (strcmp(cl->line, "sync") == 0) {
		reply = xstrdup(ctl->ops->sync_now(ctl->ctx) == 0 ? "ok" : "error: sync could not start");
	} else if (strcmp(cl->line, "reload") == 0) {
		if (ctl->ops->reload(ctl->ctx, &err) == 0)
			reply = xstrdup("ok");
		else
			reply = xasprintf("error: %s", err ? err : "reload failed");
	} else {
		reply = xstrdup("error: unknown command; commands: status, status-text, sync, reload");
	}
	client_reply(cl, reply);
	free(reply);
	free(err);
}

static int
on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control_client *cl = userdata;
	ssize_t n = recv(fd, cl->line + cl->len, sizeof cl->line - 1 - cl->len, 0);
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		client_free(cl);
		return 0;
	}
	cl->len += (size_t)n;
	cl->line[cl->len] = '\0';
	nl = strchr(cl->line, '\n');
	if (!nl && cl->len < sizeof cl->line - 1)
		return 0;
	if (nl) {
		*nl = '\0';
		if (nl > cl->line && nl[-1] == '\r')
			nl[-1] = '\0';
		client_dispatch(cl);
	} else {
		client_reply(cl, "error: request too long");
	}
	client_free(cl);
	return 0;
}

static int
on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	client_free(userdata);
	return 0;
}

/* Only our own user, or root, may steer the daemon. */
static bool
peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static int
on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control *ctl = userdata;
	struct control_client *cl;
	size_t slot;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd < 0)
		return 0;
	if (!peer_allowed(cfd)) {
		log_warn("control socket: refused a client of another user");
		close(cfd);
		return 0;
	}
	for (slot = 0; slot < CONTROL_MAX_CLIENTS && ctl->clients[slot]; slot++)
		;
	if (slot == CONTROL_MAX_CLIENTS) {
		close(cfd);
		return 0;
	}
	cl = xcalloc(1, sizeof *cl);
	cl->ctl = ctl;
	cl->fd = cfd;
	if (sd_event_add_io(ctl->event, &cl->io, cfd, EPOLLIN, on_client_io, cl) < 0 ||
	    sd_event_add_time_relative(ctl->event, &cl->timeout, CLOCK_MONOTONIC,
				       CONTROL_CLIENT_TIMEOUT_USEC, 0, on_client_timeout, cl) < 0) {
		client_free(cl);
		return 0;
	}
	ctl->clients[slot] = cl;
	return 0;
}

/* True when a live daemon already answers at path. */
static bool
socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
	close(fd);
	return alive;
}

static int
mkdir_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			r = -1;
	}
	free(dir);
	return r;
}

static int
control_bind(struct control *ctl, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		log_error("control socket path %s is too long; set control_socket to a shorter path", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (socket_alive(&sa)) {
		log_error("another mercid answers on %s; stop it first", path);
		return -1;
	}
	if (mkdir_parent(path) < 0) {
		log_error("cannot create the directory of %s: %s", path, strerror(errno));
		return -1;
	}
	unlink(path);   /* a stale socket of a dead daemon */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	old = umask(0177);   /* born private: no window where others may connect */
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
		umask(old);
		log_error("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	chmod(path, 0600);
	ctl->fd = fd;
	ctl->created = true;
	ctl->path = xstrdup(path);
	return 0;
}

int
control_open(sd_event *e, const char *path, const struct control_ops *ops,
	     void *ctx, struct control **out)
{
	struct control *ctl = xcalloc(1, sizeof *ctl);
	int n = sd_listen_fds(1);

	ctl->event = e;
	ctl->ops = ops;
	ctl->ctx = ctx;
	ctl->fd = -1;
	if (n >= 1 && sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) > 0) {
		ctl->fd = SD_LISTEN_FDS_START;
		fcntl(ctl->fd, F_SETFL, fcntl(ctl->fd, F_GETFL) | O_NONBLOCK);
		log_debug("control socket passed by systemd");
	} else if (control_bind(ctl, path) < 0) {
		free(ctl);
		return -1;
	}
	if (sd_event_add_io(e, &ctl->accept, ctl->fd, EPOLLIN, on_accept, ctl) < 0) {
		log_error("cannot watch the control socket");
		control_free(ctl);
		return -1;
	}
	*out = ctl;
	return 0;
}

void
control_free(struct control *ctl)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i])
			client_free(ctl->clients[i]);
	ctl->accept = sd_event_source_disable_unref(ctl->accept);
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->created)
		unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
