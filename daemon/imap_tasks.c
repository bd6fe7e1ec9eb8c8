/* imap_tasks: \Seen on applied replies and drafts in Drafts, done by the
 * IMAP child between a round's last batch and its DONE or IDLE. See
 * imap_tasks.h; the rows behind them are lib/server_tasks.c's. */
#include "imap_tasks.h"

#include <errno.h>
#include <libetpan/libetpan.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "imap_folders.h"
#include "imap_session.h"
#include "imap_utf7.h"
#include "log.h"
#include "record.h"
#include "xalloc.h"

/* The parent's answer is a few frames; more than this is not one. */
#define TASKS_MAX_IN (8u << 20)

struct tasks {
	struct imap_session *sess;          /* foreign */
	int fd;
	struct imap_failure *fail;          /* foreign */
	struct record *seen, *drafts;       /* owned: the parent's list */
	size_t n_seen, cap_seen, n_drafts, cap_drafts;
	struct buf out;                     /* reports not yet written */
};

static int
tasks_failf(struct tasks *t, int err_class, const char *what)
{
	free(t->fail->text);
	t->fail->err_class = err_class;
	t->fail->text = xasprintf("%s:%d: %s", t->sess->acct->host, t->sess->acct->port, what);
	return -1;
}

static int
tasks_write(int fd, const struct buf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = write(fd, b->data + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Takes in the whole frames at the front of in; 1 once the closing
 * REC_TASKS came, 0 for more, -1 on a frame that is not part of an answer. */
static int
tasks_take(struct tasks *t, struct buf *in)
{
	size_t off = 0, used;
	const char *why;
	int rc = 0;

	while (rc == 0 && off < in->len) {
		struct record r;
		int n;

		/* A wake byte ("sync now") sent while we were syncing anyway. */
		if (in->data[off] != 0) {
			off++;
			continue;
		}
		n = record_decode(in->data + off, in->len - off, &r, &used, &why);
		if (n == 0)
			break;
		if (n < 0)
			return -1;
		off += used;
		if (r.type == REC_TASKS) {
			rc = 1;
		} else if (r.type == REC_SEEN) {
			t->seen = xreallocarray_grow(t->seen, &t->cap_seen, t->n_seen + 1, sizeof r);
			t->seen[t->n_seen++] = r;
			continue;
		} else if (r.type == REC_DRAFT && r.text && r.data) {
			t->drafts = xreallocarray_grow(t->drafts, &t->cap_drafts, t->n_drafts + 1,
						       sizeof r);
			t->drafts[t->n_drafts++] = r;
			continue;
		} else {
			rc = -1;
		}
		record_free(&r);
	}
	buf_consume(in, off);
	return rc;
}

/* Asks the parent and reads its answer. 0, -1 (fail set), -2 parent gone. */
static int
tasks_fetch(struct tasks *t, int64_t wait_s)
{
	struct buf in = { 0 };
	struct timespec end, now;
	int rc = 0;

	record_encode(&(struct record){ .type = REC_TASKS }, &in);
	if (tasks_write(t->fd, &in) < 0) {
		buf_free(&in);
		return -2;
	}
	buf_reset(&in);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)wait_s;
	while (rc == 0) {
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		int64_t ms;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = ((int64_t)end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			rc = tasks_failf(t, RECERR_TEMP, "merci's main process did not answer the "
					 "IMAP process in time; merci will retry");
			break;
		}
		if (poll(&p, 1, ms > INT32_MAX ? INT32_MAX : (int)ms) < 0 && errno != EINTR) {
			rc = tasks_failf(t, RECERR_TEMP, "cannot wait for merci's main process "
					 "(poll failed); merci will retry");
			break;
		}
		if (!p.revents)
			continue;
		buf_reserve(&in, 65536);
		n = read(t->fd, in.data + in.len, 65536);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			rc = -2;
			break;
		}
		in.len += (size_t)n;
		if ((rc = tasks_take(t, &in)) < 0 || in.len > TASKS_MAX_IN)
			rc = tasks_failf(t, RECERR_PROTOCOL, "merci's main process sent the IMAP "
					 "process something it cannot read; merci will retry");
	}
	buf_free(&in);
	return rc < 0 ? rc : 0;
}

static void
tasks_report(struct tasks *t, const struct record *r)
{
	record_encode(r, &t->out);
}

/* ---- \Seen ---- */

/* Flags seen[a..b), one folder under one UIDVALIDITY, with one UID STORE. */
static int
tasks_seen_group(struct tasks *t, size_t a, size_t b)
{
	struct mailimap *imap = t->sess->imap;
	const struct record *g = &t->seen[a];
	struct mailimap_store_att_flags *att = NULL;
	struct mailimap_flag_list *fl;
	struct mailimap_set *set;
	char *raw = imap_utf7_encode(g->folder);
	bool done = true;
	int r = MAILIMAP_NO_ERROR;

	if (raw == NULL)
		goto report;
	r = mailimap_select(imap, raw);
	if (r == MAILIMAP_ERROR_SELECT) {
		/* Gone or renamed: the message is no longer where it was read. */
		log_info("%s: folder %s cannot be opened; %zu applied repl%s not flagged as read",
			 t->sess->acct->name, g->folder, b - a, b - a == 1 ? "y" : "ies");
		r = MAILIMAP_NO_ERROR;
		goto report;
	}
	if (r != MAILIMAP_NO_ERROR)
		goto out;
	if (imap->imap_selection_info->sel_uidvalidity != g->uidvalidity)
		goto report;    /* the UIDs now name other messages */
	set = mailimap_set_new_empty();
	fl = mailimap_flag_list_new_empty();
	if (set == NULL || fl == NULL ||
	    mailimap_flag_list_add(fl, mailimap_flag_new_seen()) != MAILIMAP_NO_ERROR ||
	    (att = mailimap_store_att_flags_new_add_flags_silent(fl)) == NULL) {
		if (fl && !att)
			mailimap_flag_list_free(fl);
		if (set)
			mailimap_set_free(set);
		done = false;
		goto out;
	}
	for (size_t i = a; i < b; i++)
		mailimap_set_add_single(set, t->seen[i].uid);
	r = mailimap_uid_store(imap, set, att);
	mailimap_set_free(set);
	mailimap_store_att_flags_free(att);
	if (r == MAILIMAP_ERROR_UID_STORE) {
		/* A read-only folder, a server that keeps no flags: asking again
		 * every round would change nothing. */
		log_warn("%s: the server refused to flag %zu applied repl%s in %s as read: %s",
			 t->sess->acct->name, b - a, b - a == 1 ? "y" : "ies", g->folder,
			 imap->imap_response ? imap->imap_response : "");
		r = MAILIMAP_NO_ERROR;
	}
	if (r != MAILIMAP_NO_ERROR)
		goto out;
report:
	for (size_t i = a; i < b; i++)
		tasks_report(t, &t->seen[i]);
out:
	free(raw);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(t->sess, r, "UID STORE +FLAGS.SILENT (\\Seen)", t->fail);
		return -1;
	}
	return done ? 0 : tasks_failf(t, RECERR_TEMP, "out of memory building UID STORE");
}

static int
tasks_seen(struct tasks *t)
{
	size_t a = 0, b;

	/* The parent lists them by folder and UIDVALIDITY. */
	while (a < t->n_seen) {
		for (b = a + 1; b < t->n_seen && t->seen[b].uidvalidity == t->seen[a].uidvalidity &&
		     strcmp(t->seen[b].folder, t->seen[a].folder) == 0; b++)
			;
		if (tasks_seen_group(t, a, b) < 0)
			return -1;
		a = b;
	}
	return 0;
}

/* ---- drafts ---- */

/* The Drafts folder's raw name (newly allocated), NULL when there is none
 * (*r says whether LIST itself failed). */
static char *
tasks_drafts_folder(struct tasks *t, int *r)
{
	clist *list = NULL;
	const char *name;
	char *out = NULL;
	bool special;

	*r = mailimap_list(t->sess->imap, "", "*", &list);
	if (*r != MAILIMAP_NO_ERROR)
		return NULL;
	name = imap_folder_find_drafts(list, &special);
	if (name)
		out = xstrdup(name);
	mailimap_list_result_free(list);
	return out;
}

/* Whether the folder selected holds a message with that Message-ID: an
 * APPEND whose report a crash lost. 1 yes, 0 no, or minus a libetpan error. */
static int
tasks_draft_there(struct tasks *t, const char *mid)
{
	struct mailimap_search_key *key;
	clist *found = NULL;
	int r;

	key = mailimap_search_key_new_header(xstrdup("Message-ID"), xstrdup(mid));
	if (key == NULL)
		return -MAILIMAP_ERROR_MEMORY;
	r = mailimap_uid_search(t->sess->imap, NULL, key, &found);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return -r;
	r = clist_count(found) > 0;
	mailimap_search_result_free(found);
	return r;
}

static int
tasks_draft_append(struct tasks *t, const char *folder, const struct record *d)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct buf crlf = { 0 };
	int r;

	/* Drafts carry \Draft; \Seen as mail clients save theirs, so the
	 * folder shows no unread count. */
	if (fl == NULL)
		return MAILIMAP_ERROR_MEMORY;
	mailimap_flag_list_add(fl, mailimap_flag_new_draft());
	mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	for (const char *p = d->data; *p; p++) {
		if (*p == '\n')
			buf_addc(&crlf, '\r');
		buf_addc(&crlf, *p);
	}
	r = mailimap_append(t->sess->imap, folder, fl, NULL, crlf.data, crlf.len);
	mailimap_flag_list_free(fl);
	buf_free(&crlf);
	return r;
}

static int
tasks_drafts(struct tasks *t)
{
	char *folder;
	int r = MAILIMAP_NO_ERROR, there;
	const char *what = "LIST";

	if (t->n_drafts == 0)
		return 0;
	folder = tasks_drafts_folder(t, &r);
	if (folder == NULL) {
		if (r != MAILIMAP_NO_ERROR)
			goto fail;
		log_warn("%s: no Drafts folder (none marked \\Drafts, nor Drafts or Brouillons); "
			 "%zu thank-you draft(s) wait: create a Drafts folder, or set drafts = no",
			 t->sess->acct->name, t->n_drafts);
		return 0;
	}
	what = "EXAMINE of the Drafts folder";
	if ((r = mailimap_examine(t->sess->imap, folder)) != MAILIMAP_NO_ERROR)
		goto fail;
	for (size_t i = 0; i < t->n_drafts; i++) {
		const struct record *d = &t->drafts[i];

		what = "UID SEARCH HEADER Message-ID";
		there = tasks_draft_there(t, d->text);
		if (there < 0) {
			r = -there;
			goto fail;
		}
		if (!there) {
			what = "APPEND to the Drafts folder";
			r = tasks_draft_append(t, folder, d);
			if (r == MAILIMAP_ERROR_APPEND) {
				log_warn("%s: the server refused the thank-you draft of nudge %lld: %s; "
					 "merci will try again", t->sess->acct->name, (long long)d->id,
					 t->sess->imap->imap_response ? t->sess->imap->imap_response : "");
				continue;
			}
			if (r != MAILIMAP_NO_ERROR)
				goto fail;
		}
		tasks_report(t, &(struct record){ .type = REC_DRAFT, .id = d->id });
	}
	free(folder);
	return 0;
fail:
	free(folder);
	imap_session_fail(t->sess, r, what, t->fail);
	return -1;
}

int
imap_tasks_run(struct imap_session *sess, int fd, int64_t wait_s, struct imap_failure *fail)
{
	struct tasks t = { .sess = sess, .fd = fd, .fail = fail };
	int rc = tasks_fetch(&t, wait_s);

	if (rc == 0 && tasks_seen(&t) < 0)
		rc = -1;
	if (rc == 0 && tasks_drafts(&t) < 0)
		rc = -1;
	/* What was done is reported even when a later step failed. */
	if (rc != -2 && t.out.len && tasks_write(fd, &t.out) < 0)
		rc = -2;
	for (size_t i = 0; i < t.n_seen; i++)
		record_free(&t.seen[i]);
	for (size_t i = 0; i < t.n_drafts; i++)
		record_free(&t.drafts[i]);
	free(t.seen);
	free(t.drafts);
	buf_free(&t.out);
	return rc;
}
