/* relate: turns what detect.c reads in one new exchange into referrals,
 * favours, probable mandates, prospect tags, thanked referrals, and what
 * the exchange row itself records: expects_answer / has_thanks / language
 * (relate.h). The names
 * and wording are detect's business; who is who (contacts, whether the
 * sender is new) is the store's, so that part lives here. */
#include "relate.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "detect.h"
#include "log.h"
#include "msg.h"
#include "store.h"
#include "store_p.h"
#include "store_rel.h"
#include "xalloc.h"

/* The recipients an event is about: To and Cc, without the owner, the
 * sender, or the same address twice. */
struct relate_people {
	const struct msg_addr **v;
	size_t n;
};

struct relate {
	struct store *st;
	const struct config *cfg;
	const struct relate_input *in;
	int64_t date;
	int64_t sender;          /* From's contact, 0 until asked for */
};

/* ---- contacts ---- */

static int
tag_inferred(struct store *st, int64_t contact_id, const char *tag)
{
	sqlite3_stmt *s = store_stmt(st, STMT_E_TAG,
		"INSERT OR IGNORE INTO contact_tag (contact_id, tag, inferred)"
		" VALUES (?1, ?2, 1)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	store_bind_text(s, 2, tag);
	return store_step_done(st, s, "tagging a contact");
}

/* The contact of an address, made (like ingest does for people the owner
 * writes to: joining a contact of the same full name) when missing. */
static int
person_contact(struct relate *r, const struct msg_addr *a, int64_t *out)
{
	const char *name = a->name && *a->name && !strchr(a->name, '@') ? a->name : NULL;
	int64_t aid;

	if (store_address_upsert(r->st, a->email, a->name, false, &aid, out) < 0)
		return -1;
	if (*out)
		return 0;
	if (name && strchr(name, ' ') && store_contact_find_by_name(r->st, name, out) < 0)
		return -1;
	if (!*out && store_contact_create(r->st, name, r->in->now, out) < 0)
		return -1;
	return store_address_link(r->st, aid, *out);
}

static int
sender_contact(struct relate *r, int64_t *out)
{
	const struct msg *m = r->in->m;

	*out = 0;
	if (m->from.n == 0)
		return 0;
	if (!r->sender && person_contact(r, &m->from.v[0], &r->sender) < 0)
		return -1;
	*out = r->sender;
	return 0;
}

static bool
people_has(const struct relate_people *p, const char *email)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i]->email, email) == 0)
			return true;
	return false;
}

static void
people_add_list(struct relate *r, const struct msg_addr_list *l, struct relate_people *p)
{
	const struct msg *m = r->in->m;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (config_is_identity(r->cfg, l->v[i].email) ||
		    (m->from.n && strcmp(m->from.v[0].email, l->v[i].email) == 0) ||
		    people_has(p, l->v[i].email))
			continue;
		p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
		p->v[p->n++] = &l->v[i];
	}
}

static void
people_collect(struct relate *r, struct relate_people *p)
{
	p->v = NULL;
	p->n = 0;
	people_add_list(r, &r->in->m->to, p);
	people_add_list(r, &r->in->m->cc, p);
}

static const char *
evidence_of(const struct relate *r, const struct detect_event *ev)
{
	if (ev->evidence && *ev->evidence)
		return ev->evidence;
	return r->in->m->subject;
}

/* ---- introductions ---- */

/* Someone introduced the owner to each other recipient: the introducer is
 * a referrer, each introduced person a prospect referred by them. */
static int
on_intro_received(struct relate *r, const struct detect_event *ev)
{
	struct relate_people p;
	int64_t from, to, rid;
	size_t i;
	int rc = -1;

	people_collect(r, &p);
	if (p.n == 0 || sender_contact(r, &from) < 0 || !from)
		goto out;
	if (tag_inferred(r->st, from, "referrer") < 0)
		goto fail;
	for (i = 0; i < p.n; i++) {
		if (person_contact(r, p.v[i], &to) < 0 || tag_inferred(r->st, to, "prospect") < 0 ||
		    store_referral_add(r->st, "introduction", "received", from, to,
				       r->in->exchange_id, r->date, evidence_of(r, ev), &rid) < 0 ||
		    store_favour_add_referral(r->st, from, "received", "introduction", r->date,
					      "mail", evidence_of(r, ev), r->in->exchange_id,
					      i == 0 ? rid : 0, NULL) < 0)
			goto fail;
	}
out:
	rc = 0;
fail:
	free(p.v);
	return rc;
}

/* The owner introduced the recipients to each other: a favour to each. */
static int
on_intro_given(struct relate *r, const struct detect_event *ev)
{
	struct relate_people p;
	int64_t to, rid;
	size_t i;
	int rc = 0;

	people_collect(r, &p);
	for (i = 0; p.n >= 2 && i < p.n && rc == 0; i++) {
		if (person_contact(r, p.v[i], &to) < 0 ||
		    store_referral_add(r->st, "introduction", "given", 0, to,
				       r->in->exchange_id, r->date, evidence_of(r, ev), &rid) < 0 ||
		    store_favour_add_referral(r->st, to, "given", "introduction", r->date,
					      "mail", evidence_of(r, ev), r->in->exchange_id,
					      rid, NULL) < 0)
			rc = -1;
	}
	free(p.v);
	return rc;
}

/* ---- mentions and leads ---- */

/* True when the sender's address or contact appears in an exchange older
 * than this one: a mention only counts in a first message. */
static int
sender_is_known(struct relate *r, bool *known)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_E_EARLIER,
		"SELECT 1 FROM address a JOIN participant p ON p.address_id = a.id"
		" JOIN exchange e ON e.id = p.exchange_id"
		" WHERE (a.email = ?1 OR a.contact_id ="
		"  (SELECT b.contact_id FROM address b WHERE b.email = ?1))"
		" AND e.id <> ?2 AND e.date < ?3 LIMIT 1");
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, r->in->m->from.v[0].email);
	sqlite3_bind_int64(s, 2, r->in->exchange_id);
	sqlite3_bind_int64(s, 3, r->date);
	rc = sqlite3_step(s);
	*known = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(r->st, "looking for earlier exchanges");
	store_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* A new person writes "de la part de X": X referred them to the owner. */
static int
on_mention(struct relate *r, const struct detect_event *ev)
{
	int64_t x = 0, sender, rid;
	char *err = NULL;
	bool known;

	if (!ev->who || r->in->m->from.n == 0)
		return 0;
	if (sender_is_known(r, &known) < 0)
		return -1;
	if (known)
		return 0;
	/* An unknown or ambiguous name is not an error: nothing is recorded. */
	if (store_contact_resolve(r->st, ev->who, &x, &err) < 0) {
		log_debug("referral mention \"%s\": %s", ev->who, err ? err : "");
		free(err);
		return 0;
	}
	if (sender_contact(r, &sender) < 0)
		return -1;
	if (!sender || x == sender)
		return 0;
	if (tag_inferred(r->st, sender, "prospect") < 0 ||
	    tag_inferred(r->st, x, "referrer") < 0 ||
	    store_referral_add(r->st, "mention", "received", x, sender, r->in->exchange_id,
			       r->date, evidence_of(r, ev), &rid) < 0)
		return -1;
	return store_favour_add_referral(r->st, x, "received", "referral", r->date, "mail",
					 evidence_of(r, ev), r->in->exchange_id, rid, NULL);
}

/* Someone passed the owner's name on: a lead, a favour received. */
static int
on_lead(struct relate *r, const struct detect_event *ev)
{
	int64_t from, rid;

	if (sender_contact(r, &from) < 0)
		return -1;
	if (!from)
		return 0;
	if (tag_inferred(r->st, from, "referrer") < 0 ||
	    store_referral_add(r->st, "lead", "received", from, 0, r->in->exchange_id,
			       r->date, evidence_of(r, ev), &rid) < 0)
		return -1;
	return store_favour_add_referral(r->st, from, "received", "lead", r->date, "mail",
					 evidence_of(r, ev), r->in->exchange_id, rid, NULL);
}

/* ---- mandates ---- */

/* The client is the other party: the sender of an inbound message, the
 * first recipient of an outbound one. One mandate per client and thread
 * (schema): a second "contrat" in the thread adds nothing. */
static int
on_mandate(struct relate *r, const struct detect_event *ev)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_E_MANDATE_PROBABLE,
		"INSERT INTO mandate (client_contact, referral_id, state, title, exchange_id,"
		" thread_key, evidence, created_at)"
		" VALUES (?1, (SELECT r.id FROM referral r WHERE r.to_contact = ?1"
		"  AND r.direction = 'received' AND r.kind IN ('introduction', 'mention', 'manual')"
		"  ORDER BY r.date DESC, r.id DESC LIMIT 1),"
		" 'probable', ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING");
	struct relate_people p;
	int64_t client = 0;
	int rc = 0;

	if (!s)
		return -1;
	if (!r->in->outbound) {
		rc = sender_contact(r, &client);
	} else {
		people_collect(r, &p);
		if (p.n)
			rc = person_contact(r, p.v[0], &client);
		free(p.v);
	}
	if (rc < 0 || !client)
		return rc;
	sqlite3_bind_int64(s, 1, client);
	store_bind_text(s, 2, r->in->m->subject);
	sqlite3_bind_int64(s, 3, r->in->exchange_id);
	store_bind_text(s, 4, r->in->thread_key);
	store_bind_text(s, 5, evidence_of(r, ev));
	sqlite3_bind_int64(s, 6, r->date);
	return store_step_done(r->st, s, "recording a probable mandate");
}

/* ---- thanks ---- */

/* The owner thanked the recipients: each referral they made before this
 * message is thanked. */
static int
on_thanks(struct relate *r)
{
	sqlite3_stmt *s = store_stmt(r->st, STMT_E_THANKED,
		"UPDATE referral SET thanked_at = ?2"
		" WHERE direction = 'received' AND thanked_at = 0 AND date <= ?2"
		" AND from_contact IN (SELECT a.contact_id FROM participant p"
		"  JOIN address a ON a.id = p.address_id"
		"  WHERE p.exchange_id = ?1 AND p.role IN ('to', 'cc'))");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, r->in->exchange_id);
	sqlite3_bind_int64(s, 2, r->date);
	return store_step_done(r->st, s, "marking referrals thanked");
}

/* ---- the message ---- */

static int
relate_event(struct relate *r, const struct detect_event *ev)
{
	bool out = r->in->outbound;

	switch (ev->kind) {
	case DETECT_INTRO_RECEIVED:
		return out ? 0 : on_intro_received(r, ev);
	case DETECT_INTRO_GIVEN:
		return out ? on_intro_given(r, ev) : 0;
	case DETECT_REFERRAL_MENTION:
		return out ? 0 : on_mention(r, ev);
	case DETECT_LEAD_RECEIVED:
		return out ? 0 : on_lead(r, ev);
	case DETECT_MANDATE_SIGNAL:
		return on_mandate(r, ev);
	case DETECT_THANKS:
		return out ? on_thanks(r) : 0;
	case DETECT_QUESTION:
		return 0;       /* relate_read's */
	}
	return 0;
}

static int64_t
relate_date(const struct relate_input *in)
{
	return in->m->date ? in->m->date : in->now;
}

/* Only a message that opened its thread waits for an answer (a question
 * inside a running conversation is answered by the conversation). Asked
 * before the exchange is recorded, so any exchange of the thread is
 * another one. */
static int
thread_is_new(struct store *st, const struct relate_input *in, bool *out)
{
	sqlite3_stmt *s = store_stmt(st, STMT_E_THREAD_FIRST,
		"SELECT 1 FROM exchange WHERE thread_key = ?1 AND date <= ?2 LIMIT 1");
	const struct msg *m = in->m;
	int rc;

	*out = false;
	if ((m->in_reply_to && *m->in_reply_to) || (m->references && *m->references))
		return 0;
	if (!s)
		return -1;
	store_bind_text(s, 1, in->thread_key);
	sqlite3_bind_int64(s, 2, relate_date(in));
	rc = sqlite3_step(s);
	*out = rc == SQLITE_DONE;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(st, "looking at a thread");
	store_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
relate_read(struct store *st, const struct config *cfg, const struct relate_input *in,
	    struct relate_note *out)
{
	struct detect_input din = {
		.m = in->m, .outbound = in->outbound, .text = in->text,
		.identities = cfg->identities, .n_identities = cfg->n_identities,
	};
	const char *text = in->text && *in->text ? in->text : in->m->subject;
	size_t i;

	memset(out, 0, sizeof *out);
	out->n_ev = detect_message(&din, &out->ev);
	/* Only what a person wrote tells their language (server_tasks.c's
	 * drafts read it from their inbound mail); outbound mail is in the
	 * owner's: guessing it cost every outbound message for nothing. */
	if (!in->outbound)
		out->language = detect_language(text ? text : "");
	for (i = 0; i < out->n_ev; i++) {
		if (out->ev[i].kind == DETECT_THANKS && in->outbound)
			out->has_thanks = true;
		/* Inbound, a question is a request the owner could answer
		 * (reciprocity suggests it); outbound, it may wait for an
		 * answer. */
		if (out->ev[i].kind == DETECT_QUESTION) {
			if (!in->outbound)
				out->expects_answer = true;
			else if (thread_is_new(st, in, &out->expects_answer) < 0)
				return -1;
		}
	}
	return 0;
}

int
relate_record(struct store *st, const struct config *cfg, const struct relate_input *in,
	      const struct relate_note *note)
{
	struct relate r = { .st = st, .cfg = cfg, .in = in, .date = relate_date(in) };
	size_t i;
	int rc = 0;

	for (i = 0; i < note->n_ev && rc == 0; i++)
		rc = relate_event(&r, &note->ev[i]);
	return rc;
}

void
relate_note_free(struct relate_note *note)
{
	detect_events_free(note->ev, note->n_ev);
	note->ev = NULL;
	note->n_ev = 0;
}
