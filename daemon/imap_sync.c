/* imap_sync: the IMAP child's whole job for one account. It owns the choice
 * of folders (and skipping those STATUS shows unchanged), the UID ranges to
 * fetch from the parent's checkpoints, each batch's header fetch and text
 * fetch, the recovery from broken replies, and the record stream to the
 * parent. A batch is held until its texts are in, then written at once and
 * closed by BATCH_END, so the parent commits whole batches.
 *
 * Recovery tells a broken message from a broken connection. After a reply
 * breaks the stream, the child reconnects and first asks for the UIDs of the
 * range alone (a probe): if even that fails, the connection is at fault and
 * the sync ends with a TEMP error and no BATCH_END, so the parent keeps its
 * checkpoint and the next sync reads the range again. If the probe passes,
 * the range is fetched again in smaller chunks; a single UID is skipped only
 * when its own fetch fails on a fresh connection right after the fetch of a
 * neighbour succeeded there: the fault follows that message.
 *
 * In daemon mode the child may then stay (IDLE, see imap_sync.h): it keeps
 * its own copy of the checkpoints, moved with every BATCH_END it sends, so
 * each later round starts where the parent's store now stands. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "automated.h"
#include "body.h"
#include "config.h"
#include "buf.h"
#include "imap_body.h"
#include "imap_session.h"
#include "imap_sync.h"
#include "imap_folders.h"
#include "imap_tasks.h"
#include "imap_utf7.h"
#include "log.h"
#include "msg.h"
#include "record.h"
#include "store.h"
#include "xalloc.h"

/* libetpan holds a whole FETCH answer's bytes in memory (the messages are
 * handed over one by one as parsed, see sync_uid_fetch): 2,000 header
 * blocks are about 1 MB, and fewer round trips and commits than 500. */
#define SYNC_DEFAULT_BATCH 2000
/* Reconnects allowed between two messages isolated and skipped. Isolating
 * one bad message in a batch of 2,000 takes about five (one per level of a
 * 16-way split, one after the skip); a connection that keeps failing is
 * caught sooner by the probe after each reconnect. */
#define SYNC_MAX_RECONNECTS 8
/* Chunks a broken range is cut into before it is fetched again. */
#define SYNC_SPLIT 16
/* Distinct text sections fetched per batch (one UID FETCH each). */
#define SYNC_MAX_SECTIONS 8
#define SYNC_FLUSH_AT (256u << 10)
/* Room for records the parent has not read yet, so fetching and committing
 * overlap; Linux caps it at net.core.wmem_max (usually 4 MB or less). */
#define SYNC_SNDBUF (4 << 20)
/* Longest wait in IDLE: RFC 2177 lets servers drop an IDLE after 29 min. */
#define SYNC_IDLE_MAX (25 * 60)

struct sync_folder {
	char *raw;      /* owned: the name as the server spells it (modified UTF-7) */
	char *name;     /* owned: decoded UTF-8, the name in records */
};

/* One message of the batch being read, held until its text is in. */
struct sync_msg {
	uint32_t uid;
	const char *skip_why;               /* static: a SKIP instead of a message */
	/* Worth a text: recent and not automated; once its BODYSTRUCTURE is
	 * in, also holding a text part (then part is set). */
	bool want_text;
	bool has_part;                      /* part was picked from BODYSTRUCTURE */
	struct imap_body_part part;
	struct msg msg;                     /* owned, but msg.folder stays NULL */
};

struct sync {
	const struct imap_job *job;
	struct imap_session *sess;          /* owned; NULL after a broken reply */
	struct mailimap_fetch_type *ft;     /* owned: built once, reused per range */
	struct buf out;                     /* encoded records not yet written */
	struct imap_failure fail;           /* owned text */
	uint32_t batch;
	uint32_t uidvalidity;               /* of the folder being read */
	const struct sync_folder *folder;   /* foreign: the folder being read */
	struct sync_msg *pend;              /* owned: the batch, in UID order */
	size_t n_pend, cap_pend;
	uint32_t *probe;                    /* owned: UIDs the last probe listed */
	size_t n_probe, cap_probe;
	uint32_t good_uid;                  /* last UID fetched whole in this folder */
	uint32_t ckpt_uid;                  /* the parent's checkpoint here, 0 if none */
	int64_t text_since;                 /* fetch texts of mail dated from here */
	bool proven;                        /* a whole fetch passed on this connection */
	bool can_idle;                      /* the server offered IDLE after login */
	bool inbox_selected;                /* INBOX was opened for IDLE: STATUS of it may be stale */
	int reconnects;
	int parent_gone;
	/* owned: the parent's checkpoints, moved along with each BATCH_END we
	 * send, so a later round (after IDLE) starts where this one ended */
	struct store_folder_state *states;
	size_t n_states, cap_states;
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

		if (imap_folder_selectable(mb) && sync_same_mailbox(mb->mb_name, raw))
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
	bool special;
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
		sent = imap_folder_find_sent(list, &special);
		if (sent != NULL && strcasecmp(sent, "INBOX") != 0)
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
	bool draft;             /* flagged \Draft */
	const struct mailimap_date_time *idate;
	const struct mailimap_body *bs;
	const char *data;       /* the body section: header fields or text */
	size_t len;
};

/* One UID FETCH read as libetpan parses it: each message is handed to each()
 * at once and freed by libetpan afterwards, so no batch-sized result list is
 * built (less memory, and the header text is still in cache when parsed). */
struct sync_fetch {
	struct sync *sy;
	void (*each)(struct sync_fetch *f, const struct sync_item *it);
	uint32_t a, b;          /* the UID range asked for (header fetch) */
	bool keep;              /* header fetch: add the messages to the batch */
	bool got;               /* a message of a:b came back */
	uint32_t last;          /* the last UID of a:b that came back */
	const char *section;    /* text fetch: the section asked for */
};

static bool
sync_flags_draft(const struct mailimap_msg_att_dynamic *dyn)
{
	clistiter *c;

	for (c = dyn && dyn->att_list ? clist_begin(dyn->att_list) : NULL; c; c = clist_next(c)) {
		const struct mailimap_flag_fetch *f = clist_content(c);

		if (f->fl_type == MAILIMAP_FLAG_FETCH_OTHER && f->fl_flag &&
		    f->fl_flag->fl_type == MAILIMAP_FLAG_DRAFT)
			return true;
	}
	return false;
}

static void
sync_item_read(const struct mailimap_msg_att *ma, struct sync_item *it)
{
	clistiter *c;

	memset(it, 0, sizeof(*it));
	for (c = clist_begin(ma->att_list); c; c = clist_next(c)) {
		const struct mailimap_msg_att_item *item = clist_content(c);
		const struct mailimap_msg_att_static *st;

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			it->draft = it->draft || sync_flags_draft(item->att_data.att_dyn);
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID) {
			it->uid = st->att_data.att_uid;
		} else if (st->att_type == MAILIMAP_MSG_ATT_INTERNALDATE) {
			it->idate = st->att_data.att_internal_date;
		} else if (st->att_type == MAILIMAP_MSG_ATT_BODYSTRUCTURE) {
			it->bs = st->att_data.att_bodystructure;
		} else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			   st->att_data.att_body_section->sec_body_part) {
			it->data = st->att_data.att_body_section->sec_body_part;
			it->len = st->att_data.att_body_section->sec_length;
		}
	}
}

static struct sync_msg *
sync_pend_add(struct sync *sy, uint32_t uid)
{
	struct sync_msg *m;

	sy->pend = xreallocarray_grow(sy->pend, &sy->cap_pend, sy->n_pend + 1, sizeof(*sy->pend));
	m = &sy->pend[sy->n_pend++];
	memset(m, 0, sizeof(*m));
	m->uid = uid;
	return m;
}

static void
sync_pend_clear(struct sync *sy)
{
	size_t i;

	for (i = 0; i < sy->n_pend; i++)
		msg_free(&sy->pend[i].msg);
	sy->n_pend = 0;
}

static void
sync_pend_skip(struct sync *sy, uint32_t uid, const char *why)
{
	sync_pend_add(sy, uid)->skip_why = why;
}

/* Parses one fetched message into the batch and decides whether its text is
 * worth a fetch: not for automated mail (it never makes a nudge), not for
 * mail older than the first-sync window, not without a text part. */
static void
sync_pend_item(struct sync *sy, const struct sync_item *it)
{
	const struct config *cfg = sy->job->cfg;
	struct sync_msg *m = sync_pend_add(sy, it->uid);

	if (msg_parse_headers(it->data ? it->data : "", it->data ? it->len : 0, &m->msg) < 0) {
		msg_free(&m->msg);
		memset(&m->msg, 0, sizeof(m->msg));
		m->skip_why = "no readable header field";
		return;
	}
	if (m->msg.date == 0)
		m->msg.date = sync_internaldate(it->idate);
	/* The text part is picked later, from a BODYSTRUCTURE fetched for
	 * these messages alone (sync_parts): most of an initial sync is older
	 * than the window, and asking every message's structure costs the
	 * server a parse of each message and the child a parse of each reply. */
	m->want_text = m->msg.date >= sy->text_since &&
		       automated_reason(&m->msg, cfg->nudges.ignore, cfg->nudges.n_ignore) == NULL;
}

static struct mailimap_fetch_type *
sync_fetch_type(void)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *fields = clist_new();
	size_t i;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	/* For \Draft only (sync_fetch_range): what the owner reads or flags
	 * otherwise is not merci's business. */
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate());
	for (i = 0; msg_header_fields[i]; i++)
		clist_append(fields, xstrdup(msg_header_fields[i]));
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section(
			mailimap_section_new_header_fields(mailimap_header_list_new(fields))));
	return ft;
}

/* Replies after which the stream cannot be trusted: the session must go. */
static bool
sync_broken(int r)
{
	return r == MAILIMAP_ERROR_PARSE || r == MAILIMAP_ERROR_STREAM ||
	       r == MAILIMAP_ERROR_FATAL;
}

/* Drops a connection whose stream broke; the next fetch reconnects. */
static void
sync_drop(struct sync *sy)
{
	imap_session_abort(sy->sess);
	sy->sess = NULL;
	sy->proven = false;
}

static void
sync_on_msg_att(struct mailimap_msg_att *ma, void *ctx)
{
	struct sync_fetch *f = ctx;
	struct sync_item it;

	sync_item_read(ma, &it);
	f->each(f, &it);
}

/* libetpan streams messages to the handler only while a progress callback
 * is set; there is nothing to report. */
static void
sync_on_progress(size_t current, size_t maximum, void *ctx)
{
	(void)current;
	(void)maximum;
	(void)ctx;
}

/* Runs one UID FETCH, handing each message to f->each as it is parsed.
 * Returns libetpan's code. Messages handed over before a broken reply are
 * the caller's to discard. */
static int
sync_uid_fetch(struct sync *sy, struct mailimap_set *set, struct mailimap_fetch_type *ft,
	       struct sync_fetch *f)
{
	mailimap *imap = sy->sess->imap;
	clist *res = NULL;
	clistiter *c;
	int r;

	f->sy = sy;
	mailimap_set_progress_callback(imap, sync_on_progress, sync_on_progress, NULL);
	mailimap_set_msg_att_handler(imap, sync_on_msg_att, f);
	r = mailimap_uid_fetch(imap, set, ft, &res);
	mailimap_set_msg_att_handler(imap, NULL, NULL);
	mailimap_set_progress_callback(imap, NULL, NULL, NULL);
	/* The handler took every message; a library that ignored it would
	 * list them here instead. */
	for (c = r == MAILIMAP_NO_ERROR && res ? clist_begin(res) : NULL; c; c = clist_next(c))
		sync_on_msg_att(clist_content(c), f);
	if (res)
		mailimap_fetch_list_free(res);
	return r;
}

static void
sync_range_each(struct sync_fetch *f, const struct sync_item *it)
{
	struct sync *sy = f->sy;

	/* Unsolicited FETCH responses, and "n:*" answering with the last
	 * message even below n, are not ours to report. */
	if (it->uid < f->a || it->uid > f->b)
		return;
	f->last = it->uid;
	f->got = true;
	/* A draft was not sent: neither merci's thank-you drafts nor the
	 * owner's own say the owner wrote to anyone, wherever they lie (a
	 * Drafts folder listed in folders, Gmail's All Mail). The batch's
	 * checkpoint passes over it like over any message; the copy a client
	 * files in Sent when the draft goes out is a new message without the
	 * flag. */
	if (f->keep && it->draft)
		log_debug("%s: UID %u of \"%s\" is a draft (\\Draft); not read as mail",
			  sy->job->acct->name, it->uid, sy->folder->name);
	else if (f->keep)
		sync_pend_item(sy, it);
}

/* One UID FETCH a:b of the header fields of the batch. keep: add the
 * messages to the batch (else this is a neighbour's test fetch; *got tells
 * whether a message came back). Returns 0, -1 on failure (sy->fail set), or
 * 1 when the stream broke (the session is dropped, and the messages of this
 * reply read before the break are dropped too: the range is read again). */
static int
sync_fetch_range(struct sync *sy, uint32_t a, uint32_t b, bool keep, bool *got)
{
	struct mailimap_set *set = mailimap_set_new_interval(a, b);
	struct sync_fetch f = { .each = sync_range_each, .a = a, .b = b, .keep = keep };
	size_t n0 = sy->n_pend, i;
	int r;

	r = sync_uid_fetch(sy, set, sy->ft, &f);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		for (i = n0; i < sy->n_pend; i++)
			msg_free(&sy->pend[i].msg);
		sy->n_pend = n0;
	}
	if (sync_broken(r)) {
		sync_drop(sy);
		return 1;
	}
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(sy->sess, r, "UID FETCH", &sy->fail);
		return -1;
	}
	sy->proven = true;
	if (f.got) {
		sy->good_uid = f.last;
		if (got)
			*got = true;
	}
	return 0;
}

/* ---- recovery ---- */

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

/* A new connection after the old one was dropped. */
static int
sync_reopen(struct sync *sy)
{
	sync_drop(sy);
	if (++sy->reconnects > SYNC_MAX_RECONNECTS) {
		sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "the connection broke too "
			      "many times during the sync; merci will retry later"));
		return -1;
	}
	return imap_session_open(sy->job->cfg, sy->job->acct, &sy->sess, &sy->fail);
}

/* Asks for the UIDs of a:b alone, into sy->probe. The answer names no
 * message content, so when it breaks too the fault is the connection's. */
static int
sync_probe(struct sync *sy, uint32_t a, uint32_t b)
{
	struct mailimap_set *set = mailimap_set_new_interval(a, b);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att(
		mailimap_fetch_att_new_uid());
	clist *res = NULL;
	clistiter *c;
	struct sync_item it;
	int r;

	r = mailimap_uid_fetch(sy->sess->imap, set, ft, &res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR && !sync_broken(r)) {
		imap_session_fail(sy->sess, r, "UID FETCH", &sy->fail);
		return -1;
	}
	if (r != MAILIMAP_NO_ERROR) {
		sync_drop(sy);
		sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "the connection broke during "
			      "UID FETCH and again right after reconnecting; merci will "
			      "retry later"));
		return -1;
	}
	sy->n_probe = 0;
	for (c = clist_begin(res); c; c = clist_next(c)) {
		sync_item_read(clist_content(c), &it);
		if (it.uid < a || it.uid > b ||
		    (sy->n_probe > 0 && it.uid <= sy->probe[sy->n_probe - 1]))
			continue;
		sy->probe = xreallocarray_grow(sy->probe, &sy->cap_probe, sy->n_probe + 1,
					       sizeof(*sy->probe));
		sy->probe[sy->n_probe++] = it.uid;
	}
	mailimap_fetch_list_free(res);
	return 0;
}

/* The connection for fetching a:b: the current one, or after a broken reply
 * a new one, on the same folder, with the same UIDVALIDITY, that passed the
 * probe of a:b. */
static int
sync_ready(struct sync *sy, uint32_t a, uint32_t b)
{
	uint32_t before = sy->uidvalidity, uidnext, exists;

	if (sy->sess != NULL)
		return 0;
	if (sync_reopen(sy) < 0 || sync_examine(sy, sy->folder, &uidnext, &exists) < 0)
		return -1;
	if (sy->uidvalidity != before) {
		sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "a folder's UIDVALIDITY "
			      "changed during the sync; merci will read it again"));
		return -1;
	}
	return sync_probe(sy, a, b);
}

/* x alone broke the stream. On a fresh connection that passed the probe, a
 * neighbour fetched whole first proves the connection; if x then fails
 * again, the fault follows x and x alone is skipped. Returns 0, -1, or 2
 * when no neighbour is known yet (the caller tries again later). */
static int
sync_resolve_single(struct sync *sy, uint32_t x)
{
	uint32_t nb = sy->good_uid ? sy->good_uid : sy->ckpt_uid;
	int r;

	if (nb == 0 || nb == x)
		return 2;
	if (sync_ready(sy, x, x) < 0)
		return -1;
	if (sy->n_probe == 0)
		return 0;       /* expunged meanwhile */
	if ((r = sync_fetch_range(sy, nb, nb, false, NULL)) != 0) {
		if (r == 1)
			sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "the connection "
				      "breaks on every UID FETCH; merci will retry later"));
		return -1;
	}
	if ((r = sync_fetch_range(sy, x, x, true, NULL)) != 1)
		return r;
	log_warn("%s: UID %u of \"%s\": the server's reply cannot be parsed; skipped",
		 sy->job->acct->name, x, sy->folder->name);
	sync_pend_skip(sy, x, "the server's reply for this message could not be parsed");
	sy->reconnects = 0;
	return 0;
}

/* Single UIDs that failed before any neighbour was fetched whole, tried
 * again once one is: if none ever is, every message of the range breaks
 * the connection, which is the connection's fault, not theirs. */
static int
sync_resolve_deferred(struct sync *sy, const uint32_t *v, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = sync_resolve_single(sy, v[i])) == 2) {
			sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "every message asked "
				      "for broke the connection; merci will retry later"));
			return -1;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

/* a:b broke the stream: reconnect, probe, and fetch it again in chunks of
 * the UIDs the probe listed, isolating whatever breaks again. */
static int
sync_isolate(struct sync *sy, uint32_t a, uint32_t b)
{
	uint32_t *uids, *later;
	size_t n, n_later = 0, per, i, j;
	int r = 0;

	if (sync_ready(sy, a, b) < 0)
		return -1;
	if (sy->n_probe == 0)
		return 0;       /* expunged meanwhile: nothing left to read */
	/* Nested calls probe again: keep our own copy of the list. */
	n = sy->n_probe;
	uids = xcalloc(n, sizeof(*uids));
	later = xcalloc(n, sizeof(*later));
	memcpy(uids, sy->probe, n * sizeof(*uids));
	per = (n + SYNC_SPLIT - 1) / SYNC_SPLIT;
	for (i = 0; i < n && r == 0; i += per) {
		j = i + per < n ? i + per - 1 : n - 1;
		r = sync_ready(sy, uids[i], uids[j]);
		if (r == 0)
			r = sync_fetch_range(sy, uids[i], uids[j], true, NULL);
		if (r == 1)
			r = i == j ? sync_resolve_single(sy, uids[i]) : sync_isolate(sy, uids[i], uids[j]);
		if (r == 2) {
			later[n_later++] = uids[i];
			r = 0;
		}
	}
	if (r == 0)
		r = sync_resolve_deferred(sy, later, n_later);
	free(later);
	free(uids);
	return r;
}

/* ---- texts ---- */

static int
sync_pend_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct sync_msg *)a)->uid, y = ((const struct sync_msg *)b)->uid;

	return x < y ? -1 : x > y;
}

static struct sync_msg *
sync_pend_find(struct sync *sy, uint32_t uid)
{
	struct sync_msg key = { .uid = uid };

	return bsearch(&key, sy->pend, sy->n_pend, sizeof(*sy->pend), sync_pend_cmp);
}

/* The UIDs of the batch whose text lies in section (any that wants a text
 * when section is NULL), as ranges of consecutive UIDs (a batch is mostly
 * one run); NULL when none. */
static struct mailimap_set *
sync_text_set(const struct sync *sy, const char *section)
{
	struct mailimap_set *set = NULL;
	uint32_t lo = 0, hi = 0;
	size_t i;

	for (i = 0; i <= sy->n_pend; i++) {
		const struct sync_msg *m = i < sy->n_pend ? &sy->pend[i] : NULL;
		bool in = m && m->want_text &&
			  (section == NULL || strcmp(m->part.section, section) == 0);

		if (in && lo != 0 && m->uid == hi + 1) {
			hi = m->uid;
			continue;
		}
		if (lo != 0) {
			if (set == NULL)
				set = mailimap_set_new_empty();
			mailimap_set_add_interval(set, lo, hi);
			lo = 0;
		}
		if (in)
			lo = hi = m->uid;
	}
	return set;
}

static void
sync_text_each(struct sync_fetch *f, const struct sync_item *it)
{
	struct sync_msg *m = sync_pend_find(f->sy, it->uid);

	if (m == NULL || !m->want_text || m->msg.text_prefix != NULL || it->data == NULL ||
	    strcmp(m->part.section, f->section) != 0)
		return;
	m->msg.text_prefix = body_text_clean(it->data, it->len, m->part.encoding,
					     m->part.charset[0] ? m->part.charset : NULL,
					     m->part.html, BODY_TEXT_MAX);
	if (m->msg.text_prefix[0] == '\0') {
		free(m->msg.text_prefix);
		m->msg.text_prefix = NULL;
	}
}

/* One UID FETCH of BODY.PEEK[section]<0.N> over the batch's UIDs with that
 * section. Returns 0, -1 on failure, 1 when the stream broke. */
static int
sync_text_fetch(struct sync *sy, const char *section)
{
	struct mailimap_set *set = sync_text_set(sy, section);
	struct mailimap_fetch_type *ft;
	struct mailimap_fetch_att *att = imap_body_fetch_att(section, BODY_PREFIX_MAX);
	struct sync_fetch f = { .each = sync_text_each, .section = section };
	int r;

	if (set == NULL || att == NULL) {
		if (set)
			mailimap_set_free(set);
		if (att)
			mailimap_fetch_att_free(att);
		return 0;
	}
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, att);
	r = sync_uid_fetch(sy, set, ft, &f);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (sync_broken(r)) {
		sync_drop(sy);
		return 1;
	}
	if (r != MAILIMAP_NO_ERROR) {
		/* A refusal leaves the connection in step; texts are a bonus. */
		log_warn("%s: the server refused the text of part %s in \"%s\"; going on "
			 "without", sy->job->acct->name, section, sy->folder->name);
		return 0;
	}
	return 0;
}

static void
sync_part_each(struct sync_fetch *f, const struct sync_item *it)
{
	struct sync_msg *m = sync_pend_find(f->sy, it->uid);

	if (m == NULL || !m->want_text || m->has_part || it->bs == NULL)
		return;
	m->has_part = imap_body_pick(it->bs, &m->part) == 0;
}

/* The text parts of the messages that want one: one UID FETCH of
 * BODYSTRUCTURE over them alone. Afterwards only those with a text part
 * still want one. Returns 0 or -1 (the connection is at fault). When the
 * reply breaks the stream, a reconnect and probe tell the connection's
 * fault from the bytes of one structure; for the latter the batch goes on
 * without texts, as after a broken text fetch. */
static int
sync_parts(struct sync *sy)
{
	struct mailimap_set *set = sync_text_set(sy, NULL);
	struct mailimap_fetch_type *ft;
	struct sync_fetch f = { .each = sync_part_each };
	size_t i;
	int r;

	if (set == NULL)
		return 0;
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_bodystructure());
	r = sync_uid_fetch(sy, set, ft, &f);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		for (i = 0; i < sy->n_pend; i++)
			sy->pend[i].has_part = false;
	}
	for (i = 0; i < sy->n_pend; i++)
		sy->pend[i].want_text = sy->pend[i].want_text && sy->pend[i].has_part;
	if (sync_broken(r)) {
		sync_drop(sy);
		if (sync_ready(sy, sy->pend[0].uid, sy->pend[sy->n_pend - 1].uid) < 0)
			return -1;
		log_warn("%s: the server's reply with message structures in \"%s\" cannot be "
			 "parsed; recording UIDs %u:%u without text", sy->job->acct->name,
			 sy->folder->name, sy->pend[0].uid, sy->pend[sy->n_pend - 1].uid);
	} else if (r != MAILIMAP_NO_ERROR) {
		/* A refusal leaves the connection in step; texts are a bonus. */
		log_warn("%s: the server refused the structure of messages in \"%s\"; going "
			 "on without their text", sy->job->acct->name, sy->folder->name);
	}
	return 0;
}

/* The texts of the batch: one UID FETCH per distinct section (most mail has
 * its text in "1" or "1.1"). When a reply breaks the stream, a reconnect and
 * probe tell whether the connection is at fault (then the batch is not
 * closed) or the bytes of one text (then the batch goes on without texts). */
static int
sync_texts(struct sync *sy)
{
	const char *done[SYNC_MAX_SECTIONS];
	size_t n_done = 0, i, k;
	int r;

	/* A batch of drafts alone holds nothing, and pend may not exist yet. */
	if (sy->n_pend == 0)
		return 0;
	qsort(sy->pend, sy->n_pend, sizeof(*sy->pend), sync_pend_cmp);
	if (sync_parts(sy) < 0)
		return -1;
	for (i = 0; i < sy->n_pend; i++) {
		const char *sec = sy->pend[i].part.section;

		if (!sy->pend[i].want_text)
			continue;
		for (k = 0; k < n_done && strcmp(done[k], sec) != 0; k++)
			;
		if (k < n_done)
			continue;               /* fetched with an earlier one */
		if (n_done == SYNC_MAX_SECTIONS) {
			/* Odd structures: not worth one round trip each. */
			sy->pend[i].want_text = false;
			continue;
		}
		done[n_done++] = sec;
		r = sync_text_fetch(sy, sec);
		if (r < 0)
			return -1;
		if (r == 1) {
			if (sync_ready(sy, sy->pend[0].uid, sy->pend[sy->n_pend - 1].uid) < 0)
				return -1;
			log_warn("%s: the server's reply with message texts in \"%s\" cannot be "
				 "parsed; recording UIDs %u:%u without text", sy->job->acct->name,
				 sy->folder->name, sy->pend[0].uid, sy->pend[sy->n_pend - 1].uid);
			return 0;
		}
	}
	return 0;
}

/* ---- one batch ---- */

static int
sync_emit_pending(struct sync *sy)
{
	struct record r;
	size_t i;

	for (i = 0; i < sy->n_pend; i++) {
		struct sync_msg *m = &sy->pend[i];

		memset(&r, 0, sizeof(r));
		r.folder = sy->folder->name;
		r.uid = m->uid;
		if (m->skip_why) {
			r.type = REC_SKIP;
			r.text = (char *)m->skip_why;
		} else {
			r.type = REC_MSG;
			r.msg = m->msg;
			r.msg.folder = sy->folder->name;    /* borrowed */
			r.msg.uid = m->uid;
		}
		if (sync_emit(sy, &r, 0) < 0)
			return -1;
	}
	return 0;
}

static struct store_folder_state *
sync_state_find(struct sync *sy, const char *name)
{
	size_t i;

	for (i = 0; i < sy->n_states; i++)
		if (sy->states[i].name && strcmp(sy->states[i].name, name) == 0)
			return &sy->states[i];
	return NULL;
}

/* The parent commits a BATCH_END as the folder's checkpoint: do the same
 * here, for the next round on this connection. */
static void
sync_state_move(struct sync *sy, const char *name, uint32_t uidvalidity, uint32_t last)
{
	struct store_folder_state *st = sync_state_find(sy, name);

	if (st == NULL) {
		sy->states = xreallocarray_grow(sy->states, &sy->cap_states, sy->n_states + 1,
						sizeof(*sy->states));
		st = &sy->states[sy->n_states++];
		st->name = xstrdup(name);
	}
	st->uidvalidity = uidvalidity;
	st->last_uid = last;
}

static int
sync_batch_end(struct sync *sy, uint32_t last)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = REC_BATCH_END;
	r.folder = sy->folder->name;
	r.uidvalidity = sy->uidvalidity;
	r.uid = last;
	if (sync_emit(sy, &r, 1) < 0)
		return -1;
	sync_state_move(sy, sy->folder->name, sy->uidvalidity, last);
	return 0;
}

/* Reads a:b whole, or fails without closing the batch: the parent then
 * keeps its checkpoint before a and the next sync reads a:b again. */
static int
sync_batch_run(struct sync *sy, uint32_t a, uint32_t b)
{
	int r;

	sync_pend_clear(sy);
	if (sync_ready(sy, a, b) < 0)
		return -1;
	r = sync_fetch_range(sy, a, b, true, NULL);
	if (r == 1) {
		log_warn("%s: broken reply for UIDs %u:%u of \"%s\"; reconnecting",
			 sy->job->acct->name, a, b, sy->folder->name);
		r = sync_isolate(sy, a, b);
	}
	if (r < 0 || sync_texts(sy) < 0 || sync_emit_pending(sy) < 0)
		return -1;
	sync_pend_clear(sy);
	return sync_batch_end(sy, b);
}

/* ---- one folder ---- */

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


/* STATUS (UIDNEXT UIDVALIDITY MESSAGES): servers answer it from their
 * indexes without opening the folder. Returns 0, 1 when the server refused
 * or left a value out (then EXAMINE tells), -1 on failure. */
static int
sync_status(struct sync *sy, const struct sync_folder *f, uint32_t *uidvalidity,
	    uint32_t *uidnext, uint32_t *messages)
{
	struct mailimap_status_att_list *atts = mailimap_status_att_list_new_empty();
	struct mailimap_mailbox_data_status *st = NULL;
	clistiter *it;
	int r, seen = 0;

	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDNEXT);
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDVALIDITY);
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
	r = mailimap_status(sy->sess->imap, f->raw, atts, &st);
	mailimap_status_att_list_free(atts);
	if (sync_broken(r)) {
		imap_session_fail(sy->sess, r, "STATUS", &sy->fail);
		return -1;
	}
	if (r != MAILIMAP_NO_ERROR || st == NULL) {
		if (st)
			mailimap_mailbox_data_status_free(st);
		return 1;
	}
	for (it = clist_begin(st->st_info_list); it; it = clist_next(it)) {
		const struct mailimap_status_info *si = clist_content(it);

		if (si->st_att == MAILIMAP_STATUS_ATT_UIDNEXT)
			*uidnext = si->st_value, seen |= 1;
		else if (si->st_att == MAILIMAP_STATUS_ATT_UIDVALIDITY)
			*uidvalidity = si->st_value, seen |= 2;
		else if (si->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
			*messages = si->st_value, seen |= 4;
	}
	mailimap_mailbox_data_status_free(st);
	return seen == 7 ? 0 : 1;
}

static int
sync_folder_record(struct sync *sy, uint32_t uidnext, uint32_t exists)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = REC_FOLDER;
	r.folder = sy->folder->name;
	r.uidvalidity = sy->uidvalidity;
	r.uidnext = uidnext;
	r.exists = exists;
	return sync_emit(sy, &r, 0);
}

/* True when STATUS shows nothing past the checkpoint: no need to open the
 * folder at all (EXAMINE of a big folder costs the server real work). */
static int
sync_folder_unchanged(struct sync *sy, const struct store_folder_state *st)
{
	uint32_t uv = 0, uidnext = 0, messages = 0;
	int r;

	/* STATUS of the selected mailbox may answer from before the IDLE. */
	if (st == NULL || (sy->inbox_selected && sync_same_mailbox(sy->folder->raw, "INBOX")))
		return 0;
	if ((r = sync_status(sy, sy->folder, &uv, &uidnext, &messages)) != 0)
		return r < 0 ? -1 : 0;
	if (uv == 0 || uv != st->uidvalidity || uidnext == 0 ||
	    (st->last_uid != UINT32_MAX && uidnext - 1 > st->last_uid))
		return 0;
	sy->uidvalidity = uv;
	return sync_folder_record(sy, uidnext, messages) < 0 ? -1 : 1;
}

static int
sync_folder_run(struct sync *sy, const struct sync_folder *f)
{
	const struct store_folder_state *st = sync_state_find(sy, f->name);
	uint32_t uidnext, exists, start = 1, top, a, b;
	int r;

	sy->folder = f;
	sy->good_uid = 0;
	sy->ckpt_uid = 0;
	/* A connection dropped at the end of the last folder is replaced
	 * here; the probe in sync_ready is for a range of this folder. */
	if (sy->sess == NULL && sync_reopen(sy) < 0)
		return -1;
	if ((r = sync_folder_unchanged(sy, st)) != 0)
		return r < 0 ? -1 : 0;
	if (sync_examine(sy, f, &uidnext, &exists) < 0 ||
	    sync_folder_record(sy, uidnext, exists) < 0)
		return -1;
	/* A changed UIDVALIDITY means every UID is new: read from 1. */
	if (st && st->uidvalidity == sy->uidvalidity) {
		if (st->last_uid == UINT32_MAX)
			return 0;
		start = st->last_uid + 1;
		sy->ckpt_uid = st->last_uid;
	}
	if (exists == 0) {
		/* Nothing to read, but the checkpoint may still move past old UIDs. */
		return uidnext > start ? sync_batch_end(sy, uidnext - 1) : 0;
	}
	if (uidnext != 0)
		top = uidnext - 1;
	else if (sync_highest_uid(sy, &top) < 0)
		return -1;
	for (a = start; a != 0 && a <= top; a = b + 1) {
		b = top - a < sy->batch - 1 ? top : a + sy->batch - 1;
		if (sync_batch_run(sy, a, b) < 0)
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

/* Picks the folders and reads each past its checkpoint, on the current
 * connection (or a new one, when the last round dropped it). */
static int
sync_round(struct sync *sy)
{
	struct sync_folder *folders = NULL;
	size_t n = 0, i;
	int rc = -1;

	/* The limit is per round: a connection that lives for weeks may break
	 * now and then without that being a pattern. */
	sy->reconnects = 0;
	if (sy->sess == NULL && sync_reopen(sy) < 0)
		return -1;
	if (sync_pick_folders(sy, &folders, &n) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (sync_folder_run(sy, &folders[i]) < 0)
			goto out;
	rc = 0;
out:
	sync_folders_free(folders, n);
	return rc;
}

static int
sync_end(struct sync *sy, enum record_type type)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	return sync_emit(sy, &r, 1);
}

/* The round's chores (imap_tasks.h: \Seen on applied replies, drafts),
 * once every batch is written: the parent answers after committing them,
 * so what this round ingested is already on its list. */
static int
sync_tasks(struct sync *sy)
{
	int r;

	if (sync_flush(sy) < 0 || (sy->sess == NULL && sync_reopen(sy) < 0))
		return -1;
	r = imap_tasks_run(sy->sess, sy->job->fd, sy->job->acct->timeout * 3 + 30, &sy->fail);
	if (r == -2)
		sy->parent_gone = 1;
	return r < 0 ? -1 : 0;
}

/* ---- IDLE ---- */

/* Bytes the next read returns although the socket will not turn readable:
 * libetpan's own buffer, or a TLS record already decrypted. Polling then
 * would sleep through an EXISTS that has arrived. */
static bool
sync_idle_buffered(const struct sync *sy)
{
	if (sy->sess->imap->imap_stream->read_buffer_len > 0)
		return true;
	return sy->sess->tls && gnutls_record_check_pending(sy->sess->tls) > 0;
}

/* Waits while the server is in IDLE. Returns 0 when the timeout passed or
 * the parent asked for a sync, 1 when the server sent something, 2 when the
 * parent went away, -1 when poll failed. */
static int
sync_idle_poll(struct sync *sy, const struct timespec *deadline)
{
	struct pollfd p[2];
	struct timespec now;
	char byte[64];
	int64_t ms;
	ssize_t n;

	for (;;) {
		if (sync_idle_buffered(sy))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = ((int64_t)deadline->tv_sec - now.tv_sec) * 1000 +
		     (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return 0;
		p[0].fd = mailimap_idle_get_fd(sy->sess->imap);
		p[0].events = POLLIN;
		p[1].fd = sy->job->fd;
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, ms > INT32_MAX ? INT32_MAX : (int)ms) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents) {
			/* The parent writes a byte for "sync now"; EOF means it
			 * is gone (it never closes its end otherwise). */
			n = read(sy->job->fd, byte, sizeof(byte));
			if (n < 0 && errno == EINTR)
				continue;
			return n > 0 ? 0 : 2;
		}
		if (p[0].revents)
			return 1;
	}
}

/* Opens INBOX, where new mail arrives, and waits in IDLE until the server
 * announces a new message there, the parent asks for a sync, or the poll
 * interval (at most SYNC_IDLE_MAX) passes. Other folders are caught up by
 * the round that follows. Returns 0 to sync again, -1 on failure or when
 * the parent is gone (sy->parent_gone). */
static int
sync_idle_wait(struct sync *sy)
{
	struct mailimap *imap;
	struct mailimap_selection_info *info;
	struct timespec deadline;
	int64_t wait = sy->job->acct->poll;
	int r, w;

	if (sy->sess == NULL && sync_reopen(sy) < 0)
		return -1;
	imap = sy->sess->imap;
	r = mailimap_examine(imap, "INBOX");
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(sy->sess, r, "EXAMINE INBOX", &sy->fail);
		return -1;
	}
	sy->inbox_selected = true;
	if (wait <= 0 || wait > SYNC_IDLE_MAX)
		wait = SYNC_IDLE_MAX;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)wait;
	for (;;) {
		r = mailimap_idle(imap);
		if (r != MAILIMAP_NO_ERROR) {
			imap_session_fail(sy->sess, r, "IDLE", &sy->fail);
			return -1;
		}
		info = imap->imap_selection_info;
		/* mailimap_idle clears these, then reads what came before the
		 * "+": new mail may already be announced. */
		w = info->sel_has_exists || info->sel_has_recent ? 1 : sync_idle_poll(sy, &deadline);
		if (w < 0) {
			sync_set_fail(sy, RECERR_TEMP, sync_prefix(sy, "cannot wait for new mail "
				      "(poll failed); merci will reconnect"));
			return -1;
		}
		r = mailimap_idle_done(imap);
		if (r != MAILIMAP_NO_ERROR) {
			imap_session_fail(sy->sess, r, "IDLE", &sy->fail);
			return -1;
		}
		if (w == 2) {
			sy->parent_gone = 1;
			return -1;
		}
		/* Keepalives, flag changes and expunges need no sync. */
		if (w == 0 || info->sel_has_exists || info->sel_has_recent)
			return 0;
	}
}

static int
sync_all(struct sync *sy)
{
	if (imap_session_open(sy->job->cfg, sy->job->acct, &sy->sess, &sy->fail) < 0 ||
	    sync_hello(sy) < 0)
		return -1;
	sy->can_idle = sy->job->idle && mailimap_has_idle(sy->sess->imap);
	sy->ft = sync_fetch_type();
	if (sync_round(sy) < 0 || sync_tasks(sy) < 0)
		return -1;
	if (!sy->can_idle)
		return sync_end(sy, REC_DONE);
	for (;;) {
		if (sync_end(sy, REC_IDLE) < 0 || sync_idle_wait(sy) < 0 ||
		    sync_round(sy) < 0 || sync_tasks(sy) < 0)
			return -1;
	}
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
	int rc = 1, sndbuf = SYNC_SNDBUF;
	size_t i;

	memset(&sy, 0, sizeof(sy));
	sy.job = job;
	sy.batch = job->batch ? job->batch : SYNC_DEFAULT_BATCH;
	for (i = 0; i < job->n_states; i++)
		if (job->states[i].name)
			sync_state_move(&sy, job->states[i].name, job->states[i].uidvalidity,
					job->states[i].last_uid);
	/* Older mail never makes a nudge: its text is not worth fetching. */
	if (job->acct->first_sync_window > 0)
		sy.text_since = (int64_t)time(NULL) - job->acct->first_sync_window;
	/* A parent that went away must show up as EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (setsockopt(job->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)
		log_debug("%s: cannot enlarge the record socket's buffer", job->acct->name);
	if (sync_all(&sy) == 0)
		rc = 0;
	else if (!sy.parent_gone)
		sync_send_error(&sy);
	if (rc == 0)
		imap_session_close(sy.sess);
	else
		imap_session_abort(sy.sess);
	if (sy.ft)
		mailimap_fetch_type_free(sy.ft);
	sync_pend_clear(&sy);
	free(sy.pend);
	free(sy.probe);
	free(sy.fail.text);
	for (i = 0; i < sy.n_states; i++)
		free(sy.states[i].name);
	free(sy.states);
	buf_free(&sy.out);
	return rc;
}
