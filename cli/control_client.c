/* control_client: the CLI side of mercid's control socket (daemon/control.h):
 * one request line, one reply line, with a short timeout so a wedged daemon
 * never hangs the command. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"

#define CONTROL_TIMEOUT_MS 5000

static int
control_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || strlen(path) >= sizeof sa.sun_path)
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
control_read_reply(int fd, struct buf *b)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		char chunk[4096];
		ssize_t n;

		if (poll(&p, 1, CONTROL_TIMEOUT_MS) <= 0)
			return -1;
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return b->len ? 0 : -1;
		buf_add(b, chunk, (size_t)n);
		if (memchr(chunk, '\n', (size_t)n))
			return 0;
	}
}

int
cli_control(struct cli *c, const char *cmd, char **reply)
{
	struct buf b = { 0 };
	size_t len = strlen(cmd);
	int fd, r = -1;

	*reply = NULL;
	if (cli_config(c) != 0)
		return -1;
	fd = control_connect(c->cfg->control_socket);
	if (fd < 0)
		return -1;
	if (write(fd, cmd, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
	    control_read_reply(fd, &b) == 0) {
		while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
			b.data[--b.len] = '\0';
		*reply = buf_steal(&b);
		r = 0;
	}
	buf_free(&b);
	close(fd);
	return r;
}
