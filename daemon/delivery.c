/* delivery: the outbox's sender, one child per message. See delivery.h. */
#include "delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "outbox.h"
#include "smtp_send.h"
#include "timeutil.h"
#include "xalloc.h"

#define OUTCOME_MAX 4096   /* the child writes one short line */

struct delivery {
	struct daemon *d;                  /* foreign */
	pid_t pid;                         /* 0 when idle */
	int fd;                            /* the pipe's read end, -1 when idle */
	sd_event_source *io, *child, *timeout;
	struct outbox_msg msg;             /* the message being sent */
	struct buf in;                     /* what the child wrote */
	bool eof, reaped, killed;
	bool stopping;                     /* delivery_stop: no new send */
	siginfo_t si;                      /* how the child ended */
	struct delivery_counts counts;
};

struct delivery *
delivery_new(struct daemon *d)
{
	struct delivery *dl = xcalloc(1, sizeof *dl);

	dl->d = d;
	dl->fd = -1;
	return dl;
}

bool
delivery_busy(const struct delivery *dl)
{
	return dl->pid != 0;
}

void
delivery_counts_get(const struct delivery *dl, struct delivery_counts *out)
{
	*out = dl->counts;
}

/* Drops the sources and the pipe of a finished (or killed) child. */
static void
delivery_reset(struct delivery *dl)
{
	dl->io = sd_event_source_disable_unref(dl->io);
	dl->child = sd_event_source_disable_unref(dl->child);
	dl->timeout = sd_event_source_disable_unref(dl->timeout);
	if (dl->fd >= 0)
		close(dl->fd);
	dl->fd = -1;
	dl->pid = 0;
	dl->eof = dl->reaped = dl->killed = false;
	buf_free(&dl->in);
	outbox_msg_free(&dl->msg);
}

void
delivery_free(struct delivery *dl)
{
	if (!dl)
		return;
	if (dl->pid) {
		log_warn("outbox: message %s: the send was cut off; it stays \"sending\" and is "
			 "sent again at the next start", dl->msg.message_id);
		kill(dl->pid, SIGKILL);
		waitpid(dl->pid, NULL, 0);
	}
	delivery_reset(dl);
	free(dl);
}

bool
delivery_stop(struct delivery *dl)
{
	dl->stopping = true;
	if (dl->pid)
		log_info("outbox: letting the send of message %s finish before stopping",
			 dl->msg.message_id);
	return dl->pid != 0;
}

/* The child: one send, its outcome as "RESULT CODE ERROR\n" on fd. */
static void __attribute__((noreturn))
delivery_child(const struct config *cfg, const struct outbox_msg *m, int fd)
{
	struct smtp_outcome o = { 0 };
	char *line;
	ssize_t w;

	smtp_send(cfg, cfg->owner_email, m->rcpt, m->data, m->len, &o);
	line = xasprintf("%d %ld %s\n", (int)o.result, o.code, o.error ? o.error : "");
	for (char *p = line; *p && p[1]; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	w = write(fd, line, strlen(line));
	_exit(w == (ssize_t)strlen(line) ? 0 : 1);
}

/* Reads the child's line: 0 with the outcome, -1 when it wrote none. */
static int
outcome_parse(const struct buf *in, enum outbox_result *r, long *code, char **error)
{
	int res, n = 0;

	*error = NULL;
	if (!in->data || sscanf(in->data, "%d %ld %n", &res, code, &n) != 2 || n == 0 ||
	    res < OUTBOX_SENT || res > OUTBOX_PERMFAIL)
		return -1;
	*r = (enum outbox_result)res;
	*error = xstrndup(in->data + n, strcspn(in->data + n, "\n"));
	if (!**error) {
		free(*error);
		*error = NULL;
	}
	return 0;
}

/* Both the pipe's end and the child's exit seen: record, go on. */
static void
delivery_finish(struct delivery *dl)
{
	enum outbox_result r = OUTBOX_TEMPFAIL;
	long code = 0;
	char *error = NULL;

	if (outcome_parse(&dl->in, &r, &code, &error) < 0) {
		/* It may have died after DATA: a retry may duplicate, never lose. */
		error = xasprintf("the delivery process %s before telling the outcome; "
				  "trying again later", dl->killed ? "timed out" :
				  dl->si.si_code == CLD_EXITED ? "exited" : "crashed");
		r = OUTBOX_TEMPFAIL;
	}
	if (outbox_mark_result(dl->d->store, dl->msg.id, r, code, error, time_now()) < 0)
		log_error("outbox: cannot record the outcome of message %s", dl->msg.message_id);
	dl->counts.sent += r == OUTBOX_SENT;
	dl->counts.tempfail += r == OUTBOX_TEMPFAIL;
	dl->counts.permfail += r == OUTBOX_PERMFAIL;
	free(error);
	delivery_reset(dl);
	delivery_flush(dl);
}

static int
on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct delivery *dl = userdata;
	char chunk[512];
	ssize_t n = read(fd, chunk, sizeof chunk);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0 && dl->in.len < OUTCOME_MAX) {
		buf_add(&dl->in, chunk, (size_t)n);
		return 0;
	}
	if (n > 0)
		return 0;   /* more than a line: ignored, the EOF will come */
	dl->eof = true;
	dl->io = sd_event_source_disable_unref(dl->io);
	if (dl->reaped)
		delivery_finish(dl);
	return 0;
}

static int
on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct delivery *dl = userdata;

	dl->si = *si;
	dl->reaped = true;
	dl->child = sd_event_source_unref(dl->child);
	if (si->si_code != CLD_EXITED || si->si_status != 0)
		log_warn("outbox: delivery process %d %s %d", (int)si->si_pid,
			 si->si_code == CLD_EXITED ? "exited with status" : "killed by signal",
			 si->si_status);
	if (dl->eof)
		delivery_finish(dl);
	return 0;
}

static int
on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct delivery *dl = userdata;

	log_warn("outbox: message %s: the SMTP send is stuck; killing it", dl->msg.message_id);
	dl->killed = true;
	kill(dl->pid, SIGKILL);
	return 0;
}

/* The parent's watch on a started child. */
static int
delivery_watch(struct delivery *dl)
{
	sd_event *e = dl->d->event;
	uint64_t limit = (uint64_t)(dl->d->cfg->smtp.timeout * 3 + 30) * 1000000ULL;

	if (sd_event_add_io(e, &dl->io, dl->fd, EPOLLIN, on_io, dl) < 0 ||
	    sd_event_add_child(e, &dl->child, dl->pid, WEXITED, on_child_exit, dl) < 0 ||
	    sd_event_add_time_relative(e, &dl->timeout, CLOCK_MONOTONIC, limit, 0,
				       on_timeout, dl) < 0) {
		log_error("outbox: cannot watch the delivery process");
		return -1;
	}
	return 0;
}

/* Forks the child that sends dl->msg, already marked "sending". */
static int
delivery_start(struct delivery *dl)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_error("outbox: pipe: %s", strerror(errno));
		return -1;
	}
	dl->pid = fork();
	if (dl->pid < 0) {
		log_error("outbox: fork: %s", strerror(errno));
		dl->pid = 0;
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (dl->pid == 0) {
		close(p[0]);
		delivery_child(dl->d->cfg, &dl->msg, p[1]);
	}
	close(p[1]);
	dl->fd = p[0];
	fcntl(dl->fd, F_SETFL, fcntl(dl->fd, F_GETFL) | O_NONBLOCK);
	if (delivery_watch(dl) < 0) {
		kill(dl->pid, SIGKILL);
		waitpid(dl->pid, NULL, 0);
		return -1;
	}
	log_debug("outbox: sending message %s (attempt %" PRId64 ")", dl->msg.message_id,
		  dl->msg.attempts + 1);
	return 0;
}

void
delivery_flush(struct delivery *dl)
{
	int64_t now = time_now();
	bool found = false;

	if (dl->pid)
		return;
	if (dl->stopping) {
		daemon_delivery_idle(dl->d);
		return;
	}
	if (outbox_next(dl->d->store, now, &dl->msg, &found) < 0 || !found) {
		outbox_msg_free(&dl->msg);
		daemon_delivery_idle(dl->d);
		return;
	}
	/* Durably "sending" before the first byte goes out: after a crash the
	 * message is sent again, never forgotten. */
	if (outbox_mark_sending(dl->d->store, dl->msg.id, now) < 0) {
		delivery_reset(dl);
		daemon_delivery_idle(dl->d);
		return;
	}
	if (delivery_start(dl) < 0) {
		outbox_mark_result(dl->d->store, dl->msg.id, OUTBOX_TEMPFAIL, 0,
				   "cannot start the delivery process", now);
		delivery_reset(dl);
		daemon_delivery_idle(dl->d);
	}
}
