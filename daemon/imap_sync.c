/* imap_sync: the IMAP child's whole job for one account. It owns the choice
 * of folders, the UID ranges to fetch from the parent's checkpoints, the
 * recovery from replies libetpan cannot parse (reconnect and bisect down to
 * the one bad message), and the record stream to the parent. Records are
 * buffered and flushed at each batch end, so the parent sees whole batches
 * without one write per message. */
#include <errno.h>
#include <libetpan/libetpan.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "buf.h"
#include "imap_session.h"
#include "imap_sync.h"
#include "imap_utf7.h"
#include "log.h"
#include "msg.h"
#include "record.h"
#include "store.h"
#include "xalloc.h"

#define SYNC_DEFAULT_BATCH 500
/* Enough to isolate a few bad messages by bisection (about ten reconnects
 * each in a batch of 500), few enough that a dying server ends the run. */
#define SYNC_MAX_RECONNECTS 40
#define SYNC_FLUSH_AT (64u << 10)

struct sync_folder {
	char *raw;      /* owned: the name as the server spells it (modified UTF-7) */
	char *name;     /* owned: decoded UTF-8, the name in records */
};

struct sync {
	const struct imap_job *job;
	struct imap_session *sess;          /* owned */
	struct mailimap_fetch_type *ft;     /* owned: built once, reused per range */
	struct buf out;                     /* encoded records not yet written */
	struct imap_failure fail;           /* owned text */
	uint32_t batch;
	uint32_t uidvalidity;               /* of the folder being read */
	int reconnects;
	int parent_gone;
};

static const char *const sync_sent_names[] = {
	"Sent", "Sent Items", "Sent Messages", "Envoyés", "Éléments envoyés",
	"[Gmail]/Sent Mail", NULL,
};

static int
sync_flush(struct sync *sy)
{
	size_t off = 0;
	ssize_t n;

	while (off < sy->out.len) {
		n = write(sy->job->fd, sy->out.data + off, sy->out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EPIPE and the like: nobody is left to tell. */
			sy->parent_gone = 1;
			return -1;
		}
		off += (size_t)n;
	}
	buf_reset(&sy->out);
	return 0;
}

static int
sync_emit(struct sync *sy, const struct record *r, int flush)
{
	record_encode(r, &sy->out);
	if (flush || sy->out.len >= SYNC_FLUSH_AT)
		return sync_flush(sy);
	return 0;
}

static void
sync_set_fail(struct sync *sy, int err_class, char *text)
{
	free(sy->fail.text);
	sy->fail.err_class = err_class;
	sy->fail.text = text;
}

static char *
sync_prefix(const struct sync *sy, const char *what)
{
	return xasprintf("%s:%d: %s", sy->job->acct->host, sy->job->acct->port, what);
}

/* ---- folders ---- */

static int
sync_list_flag(const struct mailimap_mailbox_list *mb, const char *ext, int sflag)
{
	clistiter *it;

	if (mb->mb_flag == NULL)
		return 0;
	if (sflag && mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    mb->mb_flag->mbf_sflag == sflag)
		return 1;
	for (it = clist_begin(mb->mb_flag->mbf_oflags); ext && it; it = clist_next(it)) {
		struct mailimap_mbx_list_oflag *of = clist_content(it);

		if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && of->of_flag_ext &&
		    strcasecmp(of->of_flag_ext, ext) == 0)
			return 1;
	}
	return 0;
}

static int
sync_selectable(const struct mailimap_mailbox_list *mb)
{
	return mb->mb_name && !sync_list_flag(mb, "NonExistent", MAILIMAP_MBX_LIST_SFLAG_NOSELECT);
}

static int
sync_same_mailbox(const char *a, const char *b)
{
	/* INBOX is case-insensitive (RFC 3501 5.1); every other name is not. */
	if (strcasecmp(a, "INBOX") == 0)
		return strcasecmp(b, "INBOX") == 0;
	return strcmp(a, b) == 0;
}

static const struct mailimap_mailbox_list *
sync_list_find(clist *list, const char *raw)
{
	clistiter *it;

	for (it = clist_begin(list); it; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);

		if (sync_selectable(mb) && sync_same_mailbox(mb->mb_name, raw))
			return mb;
	}
	return NULL;
}

static void
sync_folder_add(struct sync_folder **v, size_t *n, const char *raw)
{
	char *name = imap_utf7_decode(raw);

	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].raw = xstrdup(raw);
	(*v)[*n].name = name ? name : xstrdup(raw);
	(*n)++;
}

/* The \Sent special-use folder, else the first well-known name found (also
 * under a personal namespace such as "INBOX."). NULL when none. */
static const char *
sync_find_sent(clist *list)
{
	const char *best = NULL;
	size_t best_rank = SIZE_MAX, k;
	clistiter *it;

	for (it = clist_begin(list); it; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);
		char *name;

		if (!sync_selectable(mb))
			continue;
		if (sync_list_flag(mb, "Sent", 0))
			return mb->mb_name;
		if ((name = imap_utf7_decode(mb->mb_name)) == NULL)
			continue;
		for (k = 0; sync_sent_names[k] && k < best_rank; k++) {
			size_t nl = strlen(name), cl = strlen(sync_sent_names[k]);
			int under_inbox = nl == cl + 6 && strncasecmp(name, "INBOX", 5) == 0 &&
					  name[5] == mb->mb_delimiter;

			if (strcmp(name, sync_sent_names[k]) == 0 ||
			    (under_inbox && strcmp(name + 6, sync_sent_names[k]) == 0)) {
				best = mb->mb_name;
				best_rank = k;
			}
		}
		free(name);
	}
	return best;
}

static int
sync_pick_configured(struct sync *sy, clist *list, struct sync_folder **v, size_t *n)
{
	const struct config_account *a = sy->job->acct;
	size_t i;

	for (i = 0; i < a->n_folders; i++) {
		char *raw = imap_utf7_encode(a->folders[i]);
		const struct mailimap_mailbox_list *mb = raw ? sync_list_find(list, raw) : NULL;

		free(raw);
		if (mb == NULL) {
			char *what = xasprintf("folder \"%s\" does not exist on the server; fix "
					       "folders in [account %s] (or use folders = auto)",
					       a->folders[i], a->name);

			sync_set_fail(sy, RECERR_CONFIG, sync_prefix(sy, what));
			free(what);
			return -1;
		}
		sync_folder_add(v, n, strcasecmp(mb->mb_name, "INBOX") == 0 ? "INBOX" : mb->mb_name);
	}
	return 0;
}

static int
sync_pick_folders(struct sync *sy, struct sync_folder **v, size_t *n)
{
	clist *list = NULL;
	const char *sent;
	int r, rc = 0;

	r = mailimap_list(sy->sess->imap, "", "*", &list);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(sy->sess, r, "LIST", &sy->fail);
		return -1;
	}
	if (sy->job->acct->folders != NULL) {
		rc = sync_pick_configured(sy, list, v, n);
	} else {
		sync_folder_add(v, n, "INBOX");
		if ((sent = sync_find_sent(list)) != NULL && strcasecmp(sent, "INBOX") != 0)
			sync_folder_add(v, n, sent);
		else
			log_info("%s: no Sent folder found; reading INBOX only", sy->job->acct->name);
	}
	mailimap_list_result_free(list);
	return rc;
}

static void
sync_folders_free(struct sync_folder *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].raw);
		free(v[i].name);
	}
	free(v);
}

/* ---- messages ---- */

static int64_t
sync_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* INTERNALDATE as Unix seconds; 0 when out of range. */
static int64_t
sync_internaldate(const struct mailimap_date_time *d)
{
	int z, off;

	if (d == NULL || d->dt_month < 1 || d->dt_month > 12 || d->dt_day < 1 ||
	    d->dt_day > 31 || d->dt_year < 1970 || d->dt_year > 9999 ||
	    d->dt_hour > 23 || d->dt_min > 59 || d->dt_sec > 60 ||
	    d->dt_zone < -2400 || d->dt_zone > 2400)
		return 0;
	z = d->dt_zone < 0 ? -d->dt_zone : d->dt_zone;
	off = (z / 100) * 3600 + (z % 100) * 60;
	return sync_days_from_civil(d->dt_year, d->dt_month, d->dt_day) * 86400 +
	       d->dt_hour * 3600 + d->dt_min * 60 + d->dt_sec -
	       (d->dt_zone < 0 ? -off : off);
}

struct sync_item {
	uint32_t uid;
	const struct mailimap_date_time *idate;
	const char *hdr;
	size_t len;
};

static void
sync_item_read(const struct mailimap_msg_att *ma, struct sync_item *it)
{
	clistiter *c;

	memset(it, 0, sizeof(*it));
	for (c = clist_begin(ma->att_list); c; c = clist_next(c)) {
		const struct mailimap_msg_att_item *item = clist_content(c);
		const struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID) {
			it->uid = st->att_data.att_uid;
		} else if (st->att_type == MAILIMAP_MSG_ATT_INTERNALDATE) {
			it->idate = st->att_data.att_internal_date;
		} else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			   st->att_data.att_body_section->sec_body_part) {
			it->hdr = st->att_data.att_body_section->sec_body_part;
			it->len = st->att_data.att_body_section->sec_length;
		}
	}
}

static int
sync_emit_msg(struct sync *sy, const char *folder, const struct sync_item *it)
{
	struct record r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.folder = (char *)folder;
	r.uid = it->uid;
	if (msg_parse_headers(it->hdr ? it->hdr : "", it->hdr ? it->len : 0, &r.msg) < 0) {
		msg_free(&r.msg);
		memset(&r.msg, 0, sizeof(r.msg));
		r.type = REC_SKIP;
		r.text = (char *)"no readable header field";
		return sync_emit(sy, &r, 0);
	}
	r.type = REC_MSG;
	r.msg.folder = (char *)folder;
	r.msg.uid = it->uid;
	if (r.msg.date == 0)
		r.msg.date = sync_internaldate(it->idate);
	rc = sync_emit(sy, &r, 0);
	r.msg.folder = NULL;    /* borrowed: msg_free must not free it */
	msg_free(&r.msg);
	return rc;
}

static struct mailimap_fetch_type *
sync_fetch_type(void)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *fields = clist_new();
	size_t i;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate());
	for (i = 0; msg_header_fields[i]; i++)
		clist_append(fields, xstrdup(msg_header_fields[i]));
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section(
			mailimap_section_new_header_fields(mailimap_header_list_new(fields))));
	return ft;
}

/* One UID FETCH a:b. Returns 0, -1 on failure (sy->fail set, or the parent
 * gone), or 1 when the stream is desynchronised and must be reopened. */
static int
sync_fetch_range(struct sync *sy, const char *folder, uint32_t a, uint32_t b)
{
	struct mailimap_set *set = mailimap_set_new_interval(a, b);
	clist *res = NULL;
	clistiter *c;
	struct sync_item it;
	int r, rc = 0;

	r = mailimap_uid_fetch(sy->sess->imap, set, sy->ft, &res);
	mailimap_set_free(set);
	if (r == MAILIMAP_ERROR_PARSE || r == MAILIMAP_ERROR_STREAM)
		return 1;
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(sy->sess, r, "UID FETCH", &sy->fail);
		return -1;
	}
	for (c = clist_begin(res); c && rc == 0; c = clist_next(c)) {
		sync_item_read(clist_content(c), &it);
		/* Unsolicited FETCH responses, and "n:*" answering with the last
		 * message even below n, are not ours to report. */
		if (it.uid >= a && it.uid <= b)
			rc = sync_emit_msg(sy, folder, &it);
	}
	mailimap_fetch_list_free(res);
	return rc;
}

/* ---- one folder ---- */

static int
sync_examine(struct sync *sy, const struct sync_folder *f, uint32_t *uidnext,
	     uint32_t *exists)
{
	struct mailimap_selection_info *info;
	char *what;
	int r;

	r = mailimap_examine(sy->sess->imap, f->raw);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("EXAMINE of folder \"%s\"", f->name);
		imap_session_fail(sy->sess, r, what, &sy->fail);
		free(what);
		return -1;
	}
	info = sy->sess->imap->imap_selection_info;
	sy->uidvalidity = info->sel_uidvalidity;
	*uidnext = info->sel_uidnext;
	*exists = info->sel_exists;
	return 0;
}

/* After a desynchronised reply: a fresh connection, the same folder, and
 * proof that its UIDs still mean the same messages. */
static int
sync_reconnect(struct sync *sy, const struct sync_folder *f)
{
	uint32_t before = sy->uidvalidity, uidnext, exists;

	if (++sy->reconnects > SYNC_MAX_RECONNECTS) {
		sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "too many broken replies or "
			      "dropped connections; merci will retry later"));
		return -1;
	}
	imap_session_abort(sy->sess);
	sy->sess = NULL;
	if (imap_session_open(sy->job->cfg, sy->job->acct, &sy->sess, &sy->fail) < 0 ||
	    sync_examine(sy, f, &uidnext, &exists) < 0)
		return -1;
	if (sy->uidvalidity != before) {
		sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "a folder's UIDVALIDITY "
			      "changed during the sync; merci will read it again"));
		return -1;
	}
	return 0;
}

/* Fetches a:b; when the reply breaks the stream, reconnects and halves the
 * range until the one message libetpan cannot parse stands alone, and skips
 * just that one. */
static int
sync_fetch_robust(struct sync *sy, const struct sync_folder *f, uint32_t a, uint32_t b)
{
	struct record r;
	uint32_t mid;
	int rc = sync_fetch_range(sy, f->name, a, b);

	if (rc != 1)
		return rc;
	log_warn("%s: broken reply for UIDs %u:%u of \"%s\"; reconnecting",
		 sy->job->acct->name, a, b, f->name);
	if (sync_reconnect(sy, f) < 0)
		return -1;
	if (a == b) {
		memset(&r, 0, sizeof(r));
		r.type = REC_SKIP;
		r.folder = f->name;
		r.uid = a;
		r.text = (char *)"the server's reply for this message could not be parsed";
		return sync_emit(sy, &r, 0);
	}
	mid = a + (b - a) / 2;
	if (sync_fetch_robust(sy, f, a, mid) < 0)
		return -1;
	return sync_fetch_robust(sy, f, mid + 1, b);
}

static int
sync_batch_end(struct sync *sy, const struct sync_folder *f, uint32_t last)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = REC_BATCH_END;
	r.folder = f->name;
	r.uidvalidity = sy->uidvalidity;
	r.uid = last;
	return sync_emit(sy, &r, 1);
}

/* The highest UID in the folder, for a server that sent no UIDNEXT. */
static int
sync_highest_uid(struct sync *sy, uint32_t *top)
{
	struct mailimap_set *set = mailimap_set_new_single(0);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att(
		mailimap_fetch_att_new_uid());
	clist *res = NULL;
	clistiter *c;
	struct sync_item it;
	int r;

	*top = 0;
	r = mailimap_uid_fetch(sy->sess->imap, set, ft, &res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(sy->sess, r, "UID FETCH *", &sy->fail);
		return -1;
	}
	for (c = clist_begin(res); c; c = clist_next(c)) {
		sync_item_read(clist_content(c), &it);
		if (it.uid > *top)
			*top = it.uid;
	}
	mailimap_fetch_list_free(res);
	return 0;
}

static const struct store_folder_state *
sync_state_find(const struct imap_job *job, const char *name)
{
	size_t i;

	for (i = 0; i < job->n_states; i++)
		if (job->states[i].name && strcmp(job->states[i].name, name) == 0)
			return &job->states[i];
	return NULL;
}

static int
sync_folder_run(struct sync *sy, const struct sync_folder *f)
{
	const struct store_folder_state *st = sync_state_find(sy->job, f->name);
	uint32_t uidnext, exists, start = 1, top, a, b;
	struct record r;

	if (sync_examine(sy, f, &uidnext, &exists) < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.type = REC_FOLDER;
	r.folder = f->name;
	r.uidvalidity = sy->uidvalidity;
	r.uidnext = uidnext;
	r.exists = exists;
	if (sync_emit(sy, &r, 0) < 0)
		return -1;
	/* A changed UIDVALIDITY means every UID is new: read from 1. */
	if (st && st->uidvalidity == sy->uidvalidity) {
		if (st->last_uid == UINT32_MAX)
			return 0;
		start = st->last_uid + 1;
	}
	if (exists == 0) {
		/* Nothing to read, but the checkpoint may still move past old UIDs. */
		return uidnext > start ? sync_batch_end(sy, f, uidnext - 1) : 0;
	}
	if (uidnext != 0)
		top = uidnext - 1;
	else if (sync_highest_uid(sy, &top) < 0)
		return -1;
	for (a = start; a != 0 && a <= top; a = b + 1) {
		b = top - a < sy->batch - 1 ? top : a + sy->batch - 1;
		if (sync_fetch_robust(sy, f, a, b) < 0 || sync_batch_end(sy, f, b) < 0)
			return -1;
	}
	return 0;
}

/* ---- the run ---- */

static int
sync_hello(struct sync *sy)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = REC_HELLO;
	r.text = sy->sess->caps;
	return sync_emit(sy, &r, 1);
}

static int
sync_all(struct sync *sy)
{
	struct sync_folder *folders = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (imap_session_open(sy->job->cfg, sy->job->acct, &sy->sess, &sy->fail) < 0 ||
	    sync_hello(sy) < 0 || sync_pick_folders(sy, &folders, &n) < 0)
		goto out;
	sy->ft = sync_fetch_type();
	for (i = 0; i < n; i++)
		if (sync_folder_run(sy, &folders[i]) < 0)
			goto out;
	rc = 0;
out:
	sync_folders_free(folders, n);
	return rc;
}

static void
sync_send_error(struct sync *sy)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = REC_ERROR;
	r.err_class = sy->fail.text ? sy->fail.err_class : RECERR_TEMP;
	r.text = sy->fail.text ? sy->fail.text :
		 sync_prefix(sy, "the sync failed for an unknown reason; merci will retry");
	(void)sync_emit(sy, &r, 1);
	if (r.text != sy->fail.text)
		free(r.text);
}

int
imap_sync_run(const struct imap_job *job)
{
	struct sync sy;
	struct record done;
	int rc = 1;

	memset(&sy, 0, sizeof(sy));
	sy.job = job;
	sy.batch = job->batch ? job->batch : SYNC_DEFAULT_BATCH;
	/* A parent that went away must show up as EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (sync_all(&sy) == 0) {
		memset(&done, 0, sizeof(done));
		done.type = REC_DONE;
		if (sync_emit(&sy, &done, 1) == 0)
			rc = 0;
	} else if (!sy.parent_gone) {
		sync_send_error(&sy);
	}
	if (rc == 0)
		imap_session_close(sy.sess);
	else
		imap_session_abort(sy.sess);
	if (sy.ft)
		mailimap_fetch_type_free(sy.ft);
	free(sy.fail.text);
	buf_free(&sy.out);
	return rc;
}
