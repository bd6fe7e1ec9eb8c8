/* supervisor: runs each account's IMAP child and commits what it streams.
 * See supervisor.h for the contract; the child side lives in imap_sync.c. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "imap_sync.h"
#include "ingest.h"
#include "log.h"
#include "record.h"
#include "server_tasks.h"
#include "store.h"
#include "timeutil.h"
#include "xalloc.h"

#define BACKOFF_MIN 30
#define BACKOFF_MAX 3600
/* The child's longest wait in IDLE (imap_sync.c) before it syncs again. */
#define IDLE_MAX (25 * 60)
#define READ_CHUNK 65536

struct runner {
	struct daemon *d;                   /* foreign */
	const struct config_account *acct;  /* foreign: points into d->cfg */
	int64_t account_id;

	pid_t pid;                          /* 0 when idle */
	int fd;                             /* our end of the socketpair, -1 when idle */
	sd_event_source *io, *child, *stall, *timer;
	struct buf in;                      /* bytes received, not yet decoded */
	char *folder;                       /* the folder the child announced last */

	struct record *batch;               /* MSG and SKIP records of the open batch */
	size_t n_batch, cap_batch;

	bool got_done, eof, reaped;
	bool idling;                        /* the child synced and waits in IDLE */
	bool cycle_ended;                   /* an IDLE record to report to the daemon */
	bool tasks_new;                     /* chores made after the child asked for its list */
	int exit_status;                    /* the child's, when it exited */
	int term_signal;                    /* the signal that killed it, 0 if none */
	char *error;                        /* the child's REC_ERROR text, or ours */
	int error_class;
	uint64_t n_new, n_dup, n_skipped;
	unsigned failures;                  /* consecutive failed attempts, for backoff */
	unsigned attempts;                  /* sync attempts ended, ok or not */
	char *last_error;                   /* why the last one failed; NULL if it did not */
	int last_class;                     /* its RECERR_*, 0 when ours */
};

static void runner_finish(struct runner *r);
static void runner_cycle_end(struct runner *r);
static void runner_wake(struct runner *r);

const char *
runner_name(const struct runner *r)
{
	return r->acct->name;
}

unsigned
runner_attempts(const struct runner *r)
{
	return r->attempts;
}

const char *
runner_last_error(const struct runner *r, int *err_class)
{
	*err_class = r->last_class;
	return r->last_error;
}

bool
runner_busy(const struct runner *r)
{
	/* An idling child holds no sync in flight: reloads and --once-style
	 * bookkeeping need not wait for it (it is killed on reload). */
	return r->pid != 0 && !r->idling;
}

static uint64_t
stall_usec(const struct runner *r)
{
	/* The child enforces acct->timeout on every network read; the parent only
	 * guards against a child that is stuck outside the network. An idling
	 * child is silent until its IDLE wait (at most the poll interval, capped
	 * like imap_sync.c does) ends with a new round of records. */
	uint64_t s = (uint64_t)(r->acct->timeout * 3 + 30);

	if (r->idling)
		s += (uint64_t)(r->acct->poll > 0 && r->acct->poll < IDLE_MAX ? r->acct->poll : IDLE_MAX);
	return s * 1000000ULL;
}

static void
batch_clear(struct runner *r)
{
	for (size_t i = 0; i < r->n_batch; i++)
		record_free(&r->batch[i]);
	r->n_batch = 0;
}

static void
runner_fail(struct runner *r, int class, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records our own reason for failing the attempt and stops the child. */
static void
runner_fail(struct runner *r, int class, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!r->error) {
		r->error = msg ? msg : xstrdup("internal error");
		r->error_class = class;
	} else {
		free(msg);
	}
	if (r->pid > 0)
		kill(r->pid, SIGKILL);
}

static int
batch_commit(struct runner *r, const struct record *end)
{
	struct store *st = r->d->store;
	int64_t now = time_now();
	enum ingest_result res;
	size_t i;

	if (store_begin(st) < 0)
		return -1;
	for (i = 0; i < r->n_batch; i++) {
		struct record *rec = &r->batch[i];

		if (rec->type == REC_SKIP) {
			log_account(LOG_WARNING, r->acct->name, NULL, "%s UID %u skipped: %s",
				    rec->folder, rec->uid, rec->text ? rec->text : "unreadable");
			r->n_skipped++;
			continue;
		}
		if (ingest_message(st, r->d->cfg, r->account_id, &rec->msg, now, &res) < 0)
			goto fail;
		if (res == INGEST_NEW)
			r->n_new++;
		else
			r->n_dup++;
	}
	if (store_folder_checkpoint(st, r->account_id, end->folder, end->uidvalidity,
				    end->uid, now) < 0)
		goto fail;
	if (store_commit(st) < 0)
		goto fail;
	batch_clear(r);
	return 0;
fail:
	store_rollback(st);
	return -1;
}

static void
batch_push(struct runner *r, struct record *rec)
{
	r->batch = xreallocarray_grow(r->batch, &r->cap_batch, r->n_batch + 1, sizeof *r->batch);
	r->batch[r->n_batch++] = *rec;
	memset(rec, 0, sizeof *rec);
}

/* Writes all of b to the child, which waits for it (our end of the socket
 * does not block; a child that reads nothing for this long is stuck). */
static int
runner_send(struct runner *r, const struct buf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = send(r->fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN &&
		    poll(&(struct pollfd){ .fd = r->fd, .events = POLLOUT }, 1, 5000) > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* The child asks for the round's chores (lib/server_tasks.h): every batch
 * it sent before is committed by now, so a reply ingested this round is
 * on the list. */
static int
runner_tasks_answer(struct runner *r)
{
	struct buf b = { 0 };
	int rc = 0;

	r->tasks_new = false;
	if (server_tasks_answer(r->d->store, r->d->cfg, r->account_id, time_now(), &b) < 0)
		rc = -2;
	else if (runner_send(r, &b) < 0)
		runner_fail(r, RECERR_TEMP, "cannot answer the IMAP process: %s", strerror(errno));
	buf_free(&b);
	return rc;
}

/* Every record belongs to the folder the child announced last. */
static bool
record_in_folder(const struct record *rec, const char *folder)
{
	const char *f = rec->type == REC_MSG ? rec->msg.folder : rec->folder;
	return folder && f && strcmp(f, folder) == 0;
}

static int
runner_handle(struct runner *r, struct record *rec)
{
	/* Anything but IDLE from an idling child starts its next round. */
	if (rec->type != REC_IDLE)
		r->idling = false;
	switch (rec->type) {
	case REC_HELLO:
		log_debug("account %s: server capabilities: %s", r->acct->name,
			  rec->text ? rec->text : "");
		return 0;
	case REC_FOLDER:
		if (r->n_batch)
			return -1;
		free(r->folder);
		r->folder = xstrdup(rec->folder);
		return store_folder_seen(r->d->store, r->account_id, rec->folder,
					 rec->uidvalidity, rec->exists, time_now()) < 0 ? -2 : 0;
	case REC_MSG:
	case REC_SKIP:
		if (!record_in_folder(rec, r->folder))
			return -1;
		batch_push(r, rec);
		return 0;
	case REC_BATCH_END:
		if (!record_in_folder(rec, r->folder))
			return -1;
		return batch_commit(r, rec) < 0 ? -2 : 0;
	case REC_DONE:
		r->got_done = true;
		return 0;
	case REC_IDLE:
		if (r->n_batch)
			return -1;
		runner_cycle_end(r);
		/* Chores made while it ran its last ones: another round now. */
		if (r->tasks_new)
			runner_wake(r);
		return 0;
	case REC_TASKS:
		return r->n_batch ? -1 : runner_tasks_answer(r);
	case REC_SEEN:
	case REC_DRAFT:
		return server_tasks_done(r->d->store, r->account_id, rec, time_now()) < 0 ? -2 : 0;
	case REC_ERROR:
		free(r->error);
		r->error = xstrdup(rec->text ? rec->text : "unknown IMAP error");
		r->error_class = rec->err_class;
		return 0;
	}
	return -1;
}

/* Decodes and applies every whole record in r->in. Returns -1 after failing
 * the attempt (bad frame, or a store error). */
static int
runner_drain(struct runner *r)
{
	size_t off = 0, used;
	const char *why;
	int ret = 0;

	while (off < r->in.len) {
		struct record rec;
		int n = record_decode(r->in.data + off, r->in.len - off, &rec, &used, &why);

		if (n == 0)
			break;
		if (n < 0) {
			runner_fail(r, RECERR_PROTOCOL, "IMAP process sent an invalid record (%s)", why);
			ret = -1;
			break;
		}
		off += used;
		n = runner_handle(r, &rec);
		record_free(&rec);
		if (n == -1) {
			runner_fail(r, RECERR_PROTOCOL, "IMAP process sent records out of order");
			ret = -1;
			break;
		}
		if (n == -2) {
			runner_fail(r, RECERR_TEMP, "could not write to the store %s", r->d->cfg->database);
			ret = -1;
			break;
		}
	}
	buf_consume(&r->in, off);
	return ret;
}

static void
runner_maybe_finish(struct runner *r)
{
	if (r->eof && r->reaped)
		runner_finish(r);
}

static int
on_child_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct runner *r = userdata;

	for (;;) {
		ssize_t n;

		buf_reserve(&r->in, READ_CHUNK);
		n = read(fd, r->in.data + r->in.len, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			r->eof = true;
			r->io = sd_event_source_disable_unref(r->io);
			break;
		}
		r->in.len += (size_t)n;
		if (r->in.len > 4 * RECORD_MAX_FRAME || runner_drain(r) < 0)
			break;
	}
	if (r->stall)
		sd_event_source_set_time_relative(r->stall, stall_usec(r));
	if (r->eof && r->reaped) {
		runner_finish(r);
		return 0;
	}
	/* Last: the daemon may free every runner from here (a reload). */
	if (r->cycle_ended) {
		r->cycle_ended = false;
		daemon_runner_finished(r->d, r, true);
	}
	return 0;
}

static int
on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct runner *r = userdata;

	if (si->si_code == CLD_EXITED)
		r->exit_status = si->si_status;
	else
		r->term_signal = si->si_status;
	r->reaped = true;
	r->child = sd_event_source_unref(r->child);
	runner_maybe_finish(r);
	return 0;
}

static int
on_stall(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runner *r = userdata;

	runner_fail(r, RECERR_TEMP, "%s:%d: IMAP process made no progress for %llu s; killed, "
		    "merci will retry", r->acct->host, r->acct->port,
		    (unsigned long long)(stall_usec(r) / 1000000));
	return 0;
}

static int
on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	runner_sync_now(userdata);
	return 0;
}

static char *
runner_describe_failure(const struct runner *r)
{
	if (r->error)
		return xstrdup(r->error);
	if (r->term_signal)
		return xasprintf("IMAP process killed by signal %d (%s); the server sent something the IMAP library could not survive",
				 r->term_signal, strsignal(r->term_signal));
	if (!r->got_done)
		return xstrdup("IMAP process ended before finishing the sync");
	return xasprintf("IMAP process exited with status %d", r->exit_status);
}

/* MERCI_BACKOFF_MIN (seconds, 1..BACKOFF_MIN) is a test knob: it shortens
 * the first retry so the reconnect tests stay short. Not for production. */
static int64_t
backoff_min(void)
{
	const char *e = getenv("MERCI_BACKOFF_MIN");
	long v;

	if (!e)
		return BACKOFF_MIN;
	v = strtol(e, NULL, 10);
	return v >= 1 && v <= BACKOFF_MIN ? v : BACKOFF_MIN;
}

static int64_t
backoff_delay(unsigned failures)
{
	int64_t d = backoff_min();
	uint32_t rnd = 0;

	while (failures-- > 1 && d < BACKOFF_MAX)
		d *= 2;
	if (d > BACKOFF_MAX)
		d = BACKOFF_MAX;
	/* Jitter of +-20 % so several accounts on one server do not stampede. */
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
		rnd = (uint32_t)getpid();
	return d * 8 / 10 + (int64_t)(rnd % (uint32_t)(d * 4 / 10 + 1));
}

/* The child synced every folder and stays connected in IDLE: the result
 * of the round is recorded like runner_finish does, but the child, its
 * socket and its watchers stay. The daemon is told by on_child_io once the
 * buffer is drained (it may free the runner). */
static void
runner_cycle_end(struct runner *r)
{
	store_account_result(r->d->store, r->account_id, time_now(), NULL);
	log_account(LOG_INFO, r->acct->name, LOG_ID_SYNC_DONE, "synced, %llu new message(s), "
		    "%llu already known, %llu skipped; waiting for new mail (IDLE)",
		    (unsigned long long)r->n_new, (unsigned long long)r->n_dup,
		    (unsigned long long)r->n_skipped);
	r->failures = 0;
	r->attempts++;
	free(r->last_error);
	r->last_error = NULL;
	r->n_new = r->n_dup = r->n_skipped = 0;
	free(r->folder);
	r->folder = NULL;
	r->idling = true;
	r->cycle_ended = true;
}

static void
runner_finish(struct runner *r)
{
	bool ok = r->got_done && !r->error && !r->term_signal && r->exit_status == 0;
	char *err = ok ? NULL : runner_describe_failure(r);

	batch_clear(r);   /* an unfinished batch is re-read next time */
	store_account_result(r->d->store, r->account_id, time_now(), err);
	if (ok) {
		log_account(LOG_INFO, r->acct->name, LOG_ID_SYNC_DONE, "synced, %llu new message(s), "
			    "%llu already known, %llu skipped", (unsigned long long)r->n_new,
			    (unsigned long long)r->n_dup, (unsigned long long)r->n_skipped);
		r->failures = 0;
	} else {
		log_account(LOG_ERR, r->acct->name, r->error && r->error_class == RECERR_TEMP ?
			    LOG_ID_SYNC_RETRY : LOG_ID_SYNC_FAILED, "%s", err);
		r->failures++;
	}
	r->attempts++;
	free(r->last_error);
	r->last_error = err;
	r->last_class = r->error ? r->error_class : 0;
	r->stall = sd_event_source_disable_unref(r->stall);
	r->io = sd_event_source_disable_unref(r->io);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->pid = 0;
	r->idling = r->cycle_ended = r->tasks_new = false;
	buf_reset(&r->in);
	free(r->folder);
	r->folder = NULL;
	free(r->error);
	r->error = NULL;
	runner_schedule(r, ok ? r->acct->poll : backoff_delay(r->failures));
	daemon_runner_finished(r->d, r, ok);
}

static uint32_t
batch_size_from_env(void)
{
	const char *e = getenv("MERCI_IMAP_BATCH");
	long v;

	if (!e)
		return 0;
	v = strtol(e, NULL, 10);
	return v > 0 && v <= 100000 ? (uint32_t)v : 0;
}

/* In the child: never returns. The parent's loop, store and other sockets
 * are left alone; only the job's fd is used. */
static void __attribute__((noreturn))
runner_child_main(struct runner *r, int fd, struct store_folder_state *states, size_t n_states)
{
	struct imap_job job = {
		.cfg = r->d->cfg,
		.acct = r->acct,
		.states = states,
		.n_states = n_states,
		.fd = fd,
		.batch = batch_size_from_env(),
		/* --once means one sync and exit: no IDLE there. */
		.idle = !r->d->once,
	};
	sigset_t all;

	/* Die with the parent: a child of a killed mercid must not go on. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	_exit(imap_sync_run(&job));
}

static void
runner_reset_attempt(struct runner *r)
{
	r->got_done = r->eof = r->reaped = false;
	r->exit_status = r->term_signal = 0;
	r->n_new = r->n_dup = r->n_skipped = 0;
	r->timer = sd_event_source_disable_unref(r->timer);
}

/* Asks an idling child for a round now: it polls its end of the socketpair
 * along with the IMAP socket while in IDLE, so one byte wakes it and it
 * syncs on the connection it has (no new login, no lost IDLE). If the write
 * fails the socket is full or broken: the child is then not waiting in
 * IDLE, or it is dying and on_child_exit follows. */
static void
runner_wake(struct runner *r)
{
	if (send(r->fd, "s", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
		r->idling = false;
		if (r->stall)
			sd_event_source_set_time_relative(r->stall, stall_usec(r));
		log_debug("account %s: sync requested while idling", r->acct->name);
	}
}

int
runner_sync_now(struct runner *r)
{
	struct store_folder_state *states = NULL;
	size_t n_states = 0;
	int sv[2];
	pid_t pid;

	if (r->pid) {
		if (r->idling)
			runner_wake(r);
		return 0;
	}
	runner_reset_attempt(r);
	if (store_folder_states(r->d->store, r->account_id, &states, &n_states) < 0)
		goto fail_early;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_account(LOG_ERR, r->acct->name, NULL, "socketpair: %s", strerror(errno));
		goto fail_early;
	}
	pid = fork();
	if (pid < 0) {
		log_account(LOG_ERR, r->acct->name, NULL, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto fail_early;
	}
	if (pid == 0) {
		close(sv[0]);
		runner_child_main(r, sv[1], states, n_states);
	}
	close(sv[1]);
	store_folder_states_free(states, n_states);
	r->pid = pid;
	r->fd = sv[0];
	fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
	/* Room for a few batches in flight, so the child keeps fetching while
	 * we commit (the kernel caps it at net.core.rmem_max). */
	setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 }, sizeof(int));
	if (sd_event_add_io(r->d->event, &r->io, r->fd, EPOLLIN, on_child_io, r) < 0 ||
	    sd_event_add_child(r->d->event, &r->child, pid, WEXITED, on_child_exit, r) < 0 ||
	    sd_event_add_time_relative(r->d->event, &r->stall, CLOCK_MONOTONIC,
				       stall_usec(r), 0, on_stall, r) < 0) {
		/* Cannot watch it: stop it; the reaping below keeps no zombie. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		r->child = sd_event_source_unref(r->child);
		r->reaped = r->eof = true;
		r->error = xstrdup("cannot watch the IMAP process (event loop error)");
		runner_finish(r);
		return -1;
	}
	sd_event_source_set_enabled(r->stall, SD_EVENT_ON);
	log_debug("account %s: IMAP process %d started", r->acct->name, (int)pid);
	return 0;

fail_early:
	store_folder_states_free(states, n_states);
	r->reaped = r->eof = true;
	r->error = xstrdup("cannot start the IMAP process");
	runner_finish(r);
	return -1;
}

void
runner_tasks_refresh(struct runner *r)
{
	int made;

	if (r->d->once || r->pid == 0)
		return;
	made = server_tasks_make(r->d->store, r->d->cfg, r->account_id, time_now());
	if (made <= 0)
		return;
	/* An idling child asked for its list before these existed; a busy one
	 * may have asked already: wake it when its round ends. */
	if (r->idling)
		runner_wake(r);
	else
		r->tasks_new = true;
}

void
runner_schedule(struct runner *r, int64_t delay)
{
	if (r->d->once)
		return;
	r->timer = sd_event_source_disable_unref(r->timer);
	if (sd_event_add_time_relative(r->d->event, &r->timer, CLOCK_BOOTTIME,
				       (uint64_t)delay * 1000000ULL, 1000000ULL, on_timer, r) < 0)
		log_account(LOG_ERR, r->acct->name, NULL, "cannot arm the poll timer");
	else
		log_debug("account %s: next sync in %lld s", r->acct->name, (long long)delay);
}

struct runner *
runner_new(struct daemon *d, const struct config_account *acct)
{
	struct runner *r = xcalloc(1, sizeof *r);

	r->d = d;
	r->acct = acct;
	r->fd = -1;
	if (store_account_ensure(d->store, acct->name, &r->account_id) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void
runner_free(struct runner *r)
{
	if (!r)
		return;
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		if (!r->reaped)
			waitpid(r->pid, NULL, 0);
	}
	r->io = sd_event_source_disable_unref(r->io);
	r->child = sd_event_source_disable_unref(r->child);
	r->stall = sd_event_source_disable_unref(r->stall);
	r->timer = sd_event_source_disable_unref(r->timer);
	if (r->fd >= 0)
		close(r->fd);
	batch_clear(r);
	free(r->batch);
	buf_free(&r->in);
	free(r->folder);
	free(r->error);
	free(r->last_error);
	free(r);
}
