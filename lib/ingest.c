/* ingest: the rules that turn one parsed message into store rows: its
 * unique key, direction, automated reason, thread key, the exchange and its
 * participants, and which correspondents become contacts; then hands each
 * new person-to-person exchange to relate.c, and the owner's answers to
 * merci's mail to reply_hook.c. It writes only through the store, inside
 * the caller's transaction. */
#include "ingest.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "automated.h"
#include "buf.h"
#include "config.h"
#include "msg.h"
#include "relate.h"
#include "reply_hook.h"
#include "store.h"
#include "store_p.h"
#include "thread.h"
#include "xalloc.h"

/* How far back a reply without References may find its thread. */
#define THREAD_MATCH_WINDOW (90 * 24 * 60 * 60)

/* One address of the message, as recorded. */
struct ingest_addr {
	const struct msg_addr *a;
	const char *role;
	int64_t id;
	int64_t contact;     /* 0: none */
	bool identity;
};

struct ingest_addrs {
	struct ingest_addr *v;
	size_t n, cap;
};

static void
key_add_list(struct buf *b, const struct msg_addr_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i)
			buf_addc(b, ',');
		buf_adds(b, l->v[i].email);
	}
	buf_addc(b, '|');
}

char *
ingest_message_key(const struct msg *m)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[32];
	char out[sizeof "sha256:" + 2 * sizeof digest];
	struct buf b = { 0 };
	size_t i;

	if (m->message_id && *m->message_id)
		return xasprintf("<%s>", m->message_id);
	/* Without an id, the facts a copy of the same message keeps in every
	 * folder (not the UID or the folder). */
	buf_printf(&b, "%lld|", (long long)m->date);
	key_add_list(&b, &m->from);
	key_add_list(&b, &m->to);
	key_add_list(&b, &m->cc);
	buf_adds(&b, m->subject ? m->subject : "");
	gnutls_hash_fast(GNUTLS_DIG_SHA256, b.data, b.len, digest);
	buf_free(&b);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < sizeof digest; i++) {
		out[7 + 2 * i] = hex[digest[i] >> 4];
		out[7 + 2 * i + 1] = hex[digest[i] & 15];
	}
	out[sizeof out - 1] = '\0';
	return xstrdup(out);
}

/* Records the addresses of one header. Only the senders of automated mail
 * are flagged automated: its recipients (the owner) are people. */
static int
addrs_add_list(struct store *st, const struct config *cfg, const struct msg_addr_list *l,
	       const char *role, bool automated, struct ingest_addrs *out)
{
	bool sender = strcmp(role, "from") == 0 || strcmp(role, "reply-to") == 0;
	struct ingest_addr *r;
	size_t i;

	for (i = 0; i < l->n; i++) {
		out->v = xreallocarray_grow(out->v, &out->cap, out->n + 1, sizeof *out->v);
		r = &out->v[out->n];
		r->a = &l->v[i];
		r->role = role;
		r->identity = config_is_identity(cfg, l->v[i].email);
		if (store_address_upsert(st, l->v[i].email, l->v[i].name,
					 automated && sender, &r->id, &r->contact) < 0)
			return -1;
		out->n++;
	}
	return 0;
}

static int
addrs_record(struct store *st, const struct config *cfg, const struct msg *m,
	     bool automated, struct ingest_addrs *out)
{
	if (addrs_add_list(st, cfg, &m->from, "from", automated, out) < 0 ||
	    addrs_add_list(st, cfg, &m->to, "to", automated, out) < 0 ||
	    addrs_add_list(st, cfg, &m->cc, "cc", automated, out) < 0 ||
	    addrs_add_list(st, cfg, &m->reply_to, "reply-to", automated, out) < 0)
		return -1;
	return 0;
}

/* A reply whose client dropped References ("RE : devis") joins the latest
 * exchange with the same subject and one of the same correspondents. */
static int
thread_match(struct store *st, int64_t account_id, const struct msg *m,
	     const char *norm, const struct ingest_addrs *addrs, char **out)
{
	int64_t *ids = xcalloc(addrs->n ? addrs->n : 1, sizeof *ids);
	size_t i, k = 0;
	int rc;

	for (i = 0; i < addrs->n; i++)
		if (!addrs->v[i].identity)
			ids[k++] = addrs->v[i].id;
	rc = store_thread_find(st, account_id, norm, ids, k, m->date,
			       THREAD_MATCH_WINDOW, out);
	free(ids);
	return rc;
}

static int
thread_key(struct store *st, int64_t account_id, const struct msg *m, const char *key,
	   const char *norm, const struct ingest_addrs *addrs, char **out)
{
	bool has_refs = (m->references && *m->references) ||
			(m->in_reply_to && *m->in_reply_to);

	*out = NULL;
	if (!has_refs && m->subject && thread_subject_is_reply(m->subject)) {
		if (thread_match(st, account_id, m, norm, addrs, out) < 0)
			return -1;
		if (*out)
			return 0;
	}
	*out = thread_key_from_headers(m);
	if (!*out)
		*out = xstrdup(key);
	return 0;
}

/* The display name a new contact takes: none when it is empty or just
 * repeats an address. */
static const char *
contact_name(const struct msg_addr *a)
{
	if (!a->name || !*a->name || strchr(a->name, '@'))
		return NULL;
	return a->name;
}

/* The contact an address joins: the one already bearing the same full
 * name (one person, several addresses), else a new one. */
static int
contact_for(struct store *st, const struct msg_addr *a, int64_t now, int64_t *out)
{
	const char *name = contact_name(a);

	*out = 0;
	if (name && strchr(name, ' ') && store_contact_find_by_name(st, name, out) < 0)
		return -1;
	if (*out)
		return 0;
	return store_contact_create(st, name, now, out);
}

/* The owner wrote to them: every To/Cc correspondent becomes a contact. */
/* Writing to a machine (a no-reply sender, a bounce address, an ignored
 * pattern: "please unsubscribe me") does not make it someone. */
static bool
addr_is_machine(const struct config *cfg, const char *email)
{
	if (address_is_noreply(email))
		return true;
	for (size_t i = 0; i < cfg->nudges.n_ignore; i++)
		if (address_match_glob(cfg->nudges.ignore[i], email))
			return true;
	return false;
}

static int
contacts_make(struct store *st, const struct config *cfg, struct ingest_addrs *addrs,
	      int64_t now)
{
	struct ingest_addr *r;
	int64_t cid;
	size_t i, j;

	for (i = 0; i < addrs->n; i++) {
		r = &addrs->v[i];
		if (r->identity || r->contact ||
		    (strcmp(r->role, "to") != 0 && strcmp(r->role, "cc") != 0) ||
		    addr_is_machine(cfg, r->a->email))
			continue;
		if (contact_for(st, r->a, now, &cid) < 0 ||
		    store_address_link(st, r->id, cid) < 0)
			return -1;
		/* The same address may appear again further on. */
		for (j = i; j < addrs->n; j++)
			if (addrs->v[j].id == r->id)
				addrs->v[j].contact = cid;
	}
	return 0;
}

static int
participants_add(struct store *st, int64_t exchange_id, const struct ingest_addrs *addrs)
{
	size_t i;

	for (i = 0; i < addrs->n; i++)
		if (store_participant_add(st, exchange_id, addrs->v[i].id, addrs->v[i].role) < 0)
			return -1;
	return 0;
}

/* Why m is automated (NULL: a person wrote it), and which merci message it
 * answers when it is the owner's command (*answered, 0 none): a command
 * is recorded as automated, so it makes no contact and no nudge. */
static int
exchange_reason(struct store *st, const struct config *cfg, const struct msg *m,
		const char **reason, int64_t *answered)
{
	*answered = 0;
	*reason = automated_reason(m, cfg->nudges.ignore, cfg->nudges.n_ignore);
	if (*reason)
		return 0;
	if (reply_hook_match(st, cfg, m, answered) < 0)
		return -1;
	if (*answered)
		*reason = REPLY_HOOK_REASON;
	return 0;
}

static int
exchange_record(struct store *st, const struct config *cfg, int64_t account_id,
		const struct msg *m, const char *key, int64_t now)
{
	bool outbound = m->from.n > 0 && config_is_identity(cfg, m->from.v[0].email);
	struct ingest_addrs addrs = { 0 };
	char *norm = thread_subject_normalise(m->subject ? m->subject : "");
	struct relate_note note = { 0 };
	struct relate_input rin;
	struct store_exchange e;
	const char *reason = NULL;
	char *tkey = NULL;
	int64_t xid, answered = 0;
	int rc = -1;

	if (exchange_reason(st, cfg, m, &reason, &answered) < 0 ||
	    addrs_record(st, cfg, m, reason != NULL, &addrs) < 0 ||
	    thread_key(st, account_id, m, key, norm, &addrs, &tkey) < 0)
		goto out;
	rin = (struct relate_input){
		.m = m, .outbound = outbound, .thread_key = tkey,
		.text = m->text_prefix, .now = now,
	};
	/* What detect reads goes into the row as it is inserted. */
	if (!reason && relate_read(st, cfg, &rin, &note) < 0)
		goto out;
	e = (struct store_exchange){
		.msg_key = key, .message_id = m->message_id, .folder = m->folder,
		.uid = m->uid, .outbound = outbound, .date = m->date,
		.subject = m->subject, .subject_norm = norm, .thread_key = tkey,
		.in_reply_to = m->in_reply_to, .automated = reason,
		.expects_answer = note.expects_answer, .has_thanks = note.has_thanks,
		.language = note.language,
	};
	if (store_exchange_insert(st, account_id, &e, &xid) < 0 ||
	    participants_add(st, xid, &addrs) < 0)
		goto out;
	if (answered && reply_hook_apply(st, cfg, account_id, answered, m, now) < 0)
		goto out;
	/* Automated mail never makes a contact, whoever it is addressed to. */
	if (outbound && !reason && contacts_make(st, cfg, &addrs, now) < 0)
		goto out;
	rin.exchange_id = xid;
	if (!reason && relate_record(st, cfg, &rin, &note) < 0)
		goto out;
	rc = 0;
out:
	relate_note_free(&note);
	free(addrs.v);
	free(norm);
	free(tkey);
	return rc;
}

int
ingest_message(struct store *st, const struct config *cfg, int64_t account_id,
	       const struct msg *m, int64_t now, enum ingest_result *result)
{
	char *key = ingest_message_key(m);
	bool exists;
	int rc = -1;

	if (store_exchange_exists(st, account_id, key, &exists) < 0)
		goto out;
	if (exists) {
		*result = INGEST_DUPLICATE;
	} else {
		/* The first sync window of the rules counts from the first mail read. */
		if (exchange_record(st, cfg, account_id, m, key, now) < 0 ||
		    store_account_first_sync(st, account_id, now) < 0)
			goto out;
		*result = INGEST_NEW;
	}
	rc = 0;
out:
	free(key);
	return rc;
}
