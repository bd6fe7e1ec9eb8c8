/* store_schema: the store's schema version and its forward migrations.
 * PRAGMA user_version holds how many steps of migrations[] were applied;
 * each step runs in its own transaction, so a crash mid-way leaves the
 * store at the previous version, never half-migrated. Steps are never
 * edited once released: changes are new steps appended at the end. */
#include "store_p.h"

#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "xalloc.h"

static const char *const migrations[] = {
	/* 1: accounts, sync state, addresses, contacts, exchanges. */
	"CREATE TABLE account ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  last_sync INTEGER NOT NULL DEFAULT 0,"
	"  last_attempt INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT"
	");"
	"CREATE TABLE folder ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL DEFAULT 0,"
	"  last_uid INTEGER NOT NULL DEFAULT 0,"
	"  n_exists INTEGER NOT NULL DEFAULT 0,"
	"  highestmodseq INTEGER NOT NULL DEFAULT 0,"   /* reserved for CONDSTORE */
	"  last_sync INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (account_id, name)"
	");"
	"CREATE TABLE contact ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT,"
	"  language TEXT,"
	"  cadence_days INTEGER,"
	"  muted INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  note TEXT"
	");"
	"CREATE INDEX contact_name ON contact (name COLLATE NOCASE);"
	"CREATE TABLE contact_tag ("
	"  contact_id INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,"
	"  tag TEXT NOT NULL,"
	"  PRIMARY KEY (contact_id, tag)"
	") WITHOUT ROWID;"
	"CREATE TABLE address ("
	"  id INTEGER PRIMARY KEY,"
	"  email TEXT NOT NULL UNIQUE,"
	"  name TEXT,"
	"  contact_id INTEGER REFERENCES contact(id) ON DELETE SET NULL,"
	"  automated INTEGER NOT NULL DEFAULT 0,"
	"  first_seen INTEGER NOT NULL"
	");"
	"CREATE INDEX address_contact ON address (contact_id) WHERE contact_id IS NOT NULL;"
	"CREATE TABLE exchange ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,"
	"  msg_key TEXT NOT NULL,"
	"  message_id TEXT,"
	"  folder TEXT NOT NULL,"
	"  uid INTEGER NOT NULL DEFAULT 0,"
	"  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
	"  date INTEGER NOT NULL,"
	"  subject TEXT,"
	"  subject_norm TEXT,"
	"  thread_key TEXT NOT NULL,"
	"  in_reply_to TEXT,"
	"  automated TEXT,"
	"  UNIQUE (account_id, msg_key)"
	");"
	/* Thread lookups by key, subject matching for replies without
	 * References, per-folder counts for status. */
	"CREATE INDEX exchange_thread ON exchange (thread_key);"
	"CREATE INDEX exchange_subject ON exchange (account_id, subject_norm, date);"
	"CREATE INDEX exchange_folder ON exchange (account_id, folder);"
	"CREATE TABLE participant ("
	"  exchange_id INTEGER NOT NULL REFERENCES exchange(id) ON DELETE CASCADE,"
	"  address_id INTEGER NOT NULL REFERENCES address(id),"
	"  role TEXT NOT NULL CHECK (role IN ('from', 'to', 'cc', 'reply-to')),"
	"  PRIMARY KEY (exchange_id, address_id, role)"
	") WITHOUT ROWID;"
	/* A contact's exchanges are found from its addresses. */
	"CREATE INDEX participant_address ON participant (address_id, role, exchange_id);",

	/* 2: the relationship engine (issue 3): referrals, mandates, favours,
	 * nudges, and what relate.c reads in each exchange. Contact ids are
	 * NULL when unknown (the API says 0). Mail-derived rows are unique per
	 * message, so ingesting or detecting again adds nothing. */
	"ALTER TABLE account ADD COLUMN first_sync_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE exchange ADD COLUMN expects_answer INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE exchange ADD COLUMN has_thanks INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE exchange ADD COLUMN language TEXT;"
	/* Tags the engine infers (prospect, referrer) do not make someone
	 * "tagged explicitly" for keep-in-touch. */
	"ALTER TABLE contact_tag ADD COLUMN inferred INTEGER NOT NULL DEFAULT 0;"
	/* Rules walk a direction's exchanges by date. */
	"CREATE INDEX exchange_direction ON exchange (direction, date);"
	"CREATE TABLE referral ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL"
	"   CHECK (kind IN ('introduction', 'mention', 'lead', 'manual')),"
	"  direction TEXT NOT NULL CHECK (direction IN ('received', 'given')),"
	"  from_contact INTEGER REFERENCES contact(id) ON DELETE SET NULL,"
	"  to_contact INTEGER REFERENCES contact(id) ON DELETE SET NULL,"
	"  exchange_id INTEGER REFERENCES exchange(id) ON DELETE SET NULL,"
	"  date INTEGER NOT NULL,"
	"  evidence TEXT,"
	"  thanked_at INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX referral_mail ON referral (kind, direction,"
	"  coalesce(from_contact, 0), coalesce(to_contact, 0), exchange_id)"
	"  WHERE exchange_id IS NOT NULL;"
	"CREATE INDEX referral_from ON referral (from_contact, direction, date);"
	"CREATE INDEX referral_to ON referral (to_contact, date);"
	"CREATE TABLE mandate ("
	"  id INTEGER PRIMARY KEY,"
	"  client_contact INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,"
	"  referral_id INTEGER REFERENCES referral(id) ON DELETE SET NULL,"
	"  state TEXT NOT NULL DEFAULT 'probable'"
	"   CHECK (state IN ('probable', 'confirmed', 'refused', 'ended')),"
	"  title TEXT,"
	"  start_at INTEGER NOT NULL DEFAULT 0,"
	"  end_at INTEGER NOT NULL DEFAULT 0,"
	"  exchange_id INTEGER REFERENCES exchange(id) ON DELETE SET NULL,"
	"  thread_key TEXT,"                  /* NULL for a hand-entered one */
	"  evidence TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  confirmed_at INTEGER NOT NULL DEFAULT 0"
	");"
	/* One mandate per client and thread, whatever became of it: a
	 * refused one must not come back with the next "contrat" in the thread. */
	"CREATE UNIQUE INDEX mandate_thread ON mandate (client_contact, thread_key)"
	"  WHERE thread_key IS NOT NULL;"
	"CREATE INDEX mandate_state ON mandate (state);"
	"CREATE TABLE favour ("
	"  id INTEGER PRIMARY KEY,"
	"  contact_id INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,"
	"  direction TEXT NOT NULL CHECK (direction IN ('given', 'received')),"
	"  kind TEXT NOT NULL CHECK (kind IN"
	"   ('referral', 'introduction', 'lead', 'recommendation', 'help')),"
	"  date INTEGER NOT NULL,"
	"  source TEXT NOT NULL CHECK (source IN ('mail', 'manual')),"
	"  referral_id INTEGER REFERENCES referral(id) ON DELETE SET NULL,"
	"  exchange_id INTEGER REFERENCES exchange(id) ON DELETE SET NULL,"
	"  note TEXT,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX favour_mail ON favour (contact_id, direction, kind, exchange_id)"
	"  WHERE exchange_id IS NOT NULL;"
	"CREATE INDEX favour_contact ON favour (contact_id, direction, date);"
	/* Issue 4's outbox will point at nudge(id). */
	"CREATE TABLE nudge ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN"
	"   ('thank-you', 'reciprocity', 'keep-in-touch', 'follow-up', 'prospecting')),"
	"  dedupe_key TEXT NOT NULL UNIQUE,"
	"  contact_id INTEGER REFERENCES contact(id) ON DELETE CASCADE,"
	"  referral_id INTEGER REFERENCES referral(id) ON DELETE CASCADE,"
	"  mandate_id INTEGER REFERENCES mandate(id) ON DELETE CASCADE,"
	"  exchange_id INTEGER REFERENCES exchange(id) ON DELETE CASCADE,"
	"  favour_id INTEGER REFERENCES favour(id) ON DELETE CASCADE,"
	"  due INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"   ('pending', 'sent', 'snoozed', 'done', 'dismissed', 'resolved')),"
	"  evidence TEXT NOT NULL,"
	"  snooze_until INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  sent_at INTEGER NOT NULL DEFAULT 0,"
	"  resolved_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX nudge_state ON nudge (state, due);"
	"CREATE INDEX nudge_contact ON nudge (contact_id) WHERE contact_id IS NOT NULL;",

	/* 3: participant again, same rows, same meaning: SQLite checks
	 * "role IN (four values)" by building a temporary table for every row
	 * inserted, which was a third of ingest's time; the same test spelled
	 * with OR compares in place. No table references participant, so
	 * dropping the old one touches nothing else. */
	"CREATE TABLE participant_v3 ("
	"  exchange_id INTEGER NOT NULL REFERENCES exchange(id) ON DELETE CASCADE,"
	"  address_id INTEGER NOT NULL REFERENCES address(id),"
	"  role TEXT NOT NULL CHECK (role = 'from' OR role = 'to' OR role = 'cc'"
	"   OR role = 'reply-to'),"
	"  PRIMARY KEY (exchange_id, address_id, role)"
	") WITHOUT ROWID;"
	"INSERT INTO participant_v3 (exchange_id, address_id, role)"
	" SELECT exchange_id, address_id, role FROM participant;"
	"DROP TABLE participant;"
	"ALTER TABLE participant_v3 RENAME TO participant;"
	"CREATE INDEX participant_address ON participant (address_id, role, exchange_id);",

	/* 4: the outbox (outbox.c): every message merci sends, as the exact
	 * bytes, with its delivery state; outbox_item says which nudges a
	 * message carries (a digest's numbered lines). */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('nudge', 'digest', 'reply')),"
	"  message_id TEXT NOT NULL UNIQUE,"
	"  rcpt TEXT NOT NULL,"
	"  data BLOB NOT NULL,"              /* the exact bytes, sent as they are */
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"   CHECK (state IN ('queued', 'sending', 'sent', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_error TEXT,"
	"  last_code INTEGER NOT NULL DEFAULT 0,"
	"  reply_to INTEGER REFERENCES outbox(id),"   /* a help reply: what it answers */
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER NOT NULL DEFAULT 0,"
	"  expires_at INTEGER NOT NULL"
	");"
	"CREATE INDEX outbox_state ON outbox (state, next_attempt);"
	/* The daily cap and the one digest a day count today's rows. */
	"CREATE INDEX outbox_created ON outbox (created_at, kind);"
	/* One help reply per message answered, however often the owner errs. */
	"CREATE UNIQUE INDEX outbox_help ON outbox (reply_to)"
	"  WHERE reply_to IS NOT NULL;"
	"CREATE TABLE outbox_item ("
	"  outbox_id INTEGER NOT NULL REFERENCES outbox(id),"
	"  nudge_id INTEGER NOT NULL REFERENCES nudge(id) ON DELETE CASCADE,"
	"  line_no INTEGER NOT NULL,"         /* 1 for a single nudge; digest lines */
	"  PRIMARY KEY (outbox_id, line_no)"
	") WITHOUT ROWID;"
	"CREATE INDEX outbox_item_nudge ON outbox_item (nudge_id);",

	/* 5: outbox_item with its key columns first. SQLite 3.40's
	 * integrity_check reports a false "NULL value" for a WITHOUT ROWID
	 * table whose NOT NULL non-key column comes before a key column; a
	 * store must pass integrity_check, so the columns move, rows kept. */
	"CREATE TABLE outbox_item_v5 ("
	"  outbox_id INTEGER NOT NULL REFERENCES outbox(id),"
	"  line_no INTEGER NOT NULL,"         /* 1 for a single nudge; digest lines */
	"  nudge_id INTEGER NOT NULL REFERENCES nudge(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (outbox_id, line_no)"
	") WITHOUT ROWID;"
	"INSERT INTO outbox_item_v5 (outbox_id, line_no, nudge_id)"
	" SELECT outbox_id, line_no, nudge_id FROM outbox_item;"
	"DROP TABLE outbox_item;"
	"ALTER TABLE outbox_item_v5 RENAME TO outbox_item;"
	"CREATE INDEX outbox_item_nudge ON outbox_item (nudge_id);",

	/* 6: what merci changes in the owner's mailbox (server_tasks.c): the
	 * owner's applied replies still to flag \Seen, and the thank-you
	 * drafts for \Drafts, each kept until the IMAP child reports it done,
	 * so a crash redoes the step instead of losing or doubling it. */
	"CREATE TABLE seen_pending ("
	"  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,"
	"  folder TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (account_id, folder, uidvalidity, uid)"
	") WITHOUT ROWID;"
	"CREATE TABLE draft ("
	"  nudge_id INTEGER PRIMARY KEY REFERENCES nudge(id) ON DELETE CASCADE,"
	"  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,"
	"  message_id TEXT NOT NULL UNIQUE,"  /* searched for before a new APPEND */
	"  data BLOB NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"   CHECK (state = 'pending' OR state = 'appended'),"
	"  created_at INTEGER NOT NULL,"
	"  appended_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX draft_pending ON draft (account_id, state);",

	/* 7: what the rules keep between runs (rules_summary.c), so that a
	 * run that finds no new mail reads no old exchange. rules_contact
	 * sums each contact's exchanges up to rules_state.folded (an
	 * exchange id); rules_followup lists the outbound questions not yet
	 * settled (answered, nudged, or before the first sync window).
	 * Ingest only ever adds exchanges with their participants, above
	 * every older id; the triggers catch whatever else could make the
	 * sums wrong: an address changing contact marks both contacts for a
	 * recount (rules_stale); a changed or deleted exchange or participant
	 * has everything counted again. Both tables start empty: the first
	 * run after this step counts the whole store once. */
	"CREATE TABLE rules_state ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  folded INTEGER NOT NULL DEFAULT 0,"
	"  windows TEXT NOT NULL DEFAULT ''"    /* the first sync windows rules_followup assumed */
	");"
	"INSERT INTO rules_state (id) VALUES (1);"
	"CREATE TABLE rules_contact ("
	"  contact_id INTEGER PRIMARY KEY REFERENCES contact(id) ON DELETE CASCADE,"
	"  n_in INTEGER NOT NULL,"             /* person-to-person exchanges each way */
	"  n_out INTEGER NOT NULL,"
	"  last INTEGER,"                      /* the newest of them, NULL when none */
	"  last_account INTEGER,"
	"  last_out INTEGER,"                  /* the newest the owner wrote (To/Cc) */
	"  first_any INTEGER NOT NULL"         /* the oldest exchange naming them at all */
	");"
	/* The newest answer (inbound, from a person) in each thread. */
	"CREATE TABLE rules_thread ("
	"  thread_key TEXT PRIMARY KEY,"
	"  last_in INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE rules_stale (contact_id INTEGER PRIMARY KEY);"
	"CREATE TABLE rules_followup (exchange_id INTEGER PRIMARY KEY);"
	"CREATE TRIGGER rules_address_move AFTER UPDATE OF contact_id ON address"
	" WHEN OLD.contact_id IS NOT NEW.contact_id BEGIN"
	"  INSERT OR IGNORE INTO rules_stale (contact_id)"
	"   SELECT OLD.contact_id WHERE OLD.contact_id IS NOT NULL;"
	"  INSERT OR IGNORE INTO rules_stale (contact_id)"
	"   SELECT NEW.contact_id WHERE NEW.contact_id IS NOT NULL;"
	" END;"
	/* Not on expects_answer: relate.c sets it on the exchange being
	 * ingested only, and a trigger there would cost every message. */
	"CREATE TRIGGER rules_exchange_change"
	" AFTER UPDATE OF id, account_id, direction, date, thread_key, automated ON exchange"
	" BEGIN"
	"  UPDATE rules_state SET folded = 0 WHERE folded <> 0;"
	" END;"
	"CREATE TRIGGER rules_exchange_gone AFTER DELETE ON exchange BEGIN"
	"  UPDATE rules_state SET folded = 0 WHERE folded <> 0;"
	" END;"
	"CREATE TRIGGER rules_participant_change AFTER UPDATE ON participant BEGIN"
	"  UPDATE rules_state SET folded = 0 WHERE folded <> 0;"
	" END;"
	"CREATE TRIGGER rules_participant_gone AFTER DELETE ON participant BEGIN"
	"  UPDATE rules_state SET folded = 0 WHERE folded <> 0;"
	" END;"
	/* A follow-up nudge gone (its contact deleted) leaves its question
	 * unsettled again, as a count from scratch would. */
	"CREATE TRIGGER rules_nudge_gone AFTER DELETE ON nudge"
	" WHEN OLD.kind = 'follow-up' AND OLD.exchange_id IS NOT NULL BEGIN"
	"  INSERT OR IGNORE INTO rules_followup (exchange_id) VALUES (OLD.exchange_id);"
	" END;",

	/* 8: costs every ingested message paid for little. exchange_folder
	 * served only status's per-folder counts: folder.n_messages keeps
	 * them instead, added up by store.c in the batch's own transaction.
	 * exchange_direction served only the prospecting rule's walk through
	 * the owner's recent mail (rules_summary.c folds the rest by id): an
	 * index of outbound mail alone serves it, and inbound mail, most of
	 * it, no longer writes one.
	 * participant's foreign keys looked up the exchange and the address
	 * of every row inserted (a tenth of ingest), yet ingest writes only
	 * ids it has just read or inserted, and nothing deletes an exchange
	 * or an address: two triggers keep what the keys enforced on delete
	 * (participants go with their exchange; an address named by one
	 * stays). Dropping the table drops step 7's triggers on it: they are
	 * made again, unchanged. */
	"ALTER TABLE folder ADD COLUMN n_messages INTEGER NOT NULL DEFAULT 0;"
	"UPDATE folder SET n_messages = (SELECT count(*) FROM exchange e"
	" WHERE e.account_id = folder.account_id AND e.folder = folder.name);"
	"DROP INDEX exchange_folder;"
	"DROP INDEX exchange_direction;"
	"CREATE INDEX exchange_out ON exchange (date) WHERE direction = 'out';"
	"CREATE TABLE participant_v8 ("
	"  exchange_id INTEGER NOT NULL,"
	"  address_id INTEGER NOT NULL,"
	"  role TEXT NOT NULL CHECK (role = 'from' OR role = 'to' OR role = 'cc'"
	"   OR role = 'reply-to'),"
	"  PRIMARY KEY (exchange_id, address_id, role)"
	") WITHOUT ROWID;"
	"INSERT INTO participant_v8 (exchange_id, address_id, role)"
	" SELECT exchange_id, address_id, role FROM participant;"
	"DROP TABLE participant;"
	"ALTER TABLE participant_v8 RENAME TO participant;"
	"CREATE INDEX participant_address ON participant (address_id, role, exchange_id);"
	"CREATE TRIGGER participant_exchange_gone AFTER DELETE ON exchange BEGIN"
	"  DELETE FROM participant WHERE exchange_id = OLD.id;"
	" END;"
	"CREATE TRIGGER participant_address_kept BEFORE DELETE ON address"
	" WHEN EXISTS (SELECT 1 FROM participant WHERE address_id = OLD.id) BEGIN"
	"  SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed');"
	" END;"
	"CREATE TRIGGER rules_participant_change AFTER UPDATE ON participant BEGIN"
	"  UPDATE rules_state SET folded = 0 WHERE folded <> 0;"
	" END;"
	"CREATE TRIGGER rules_participant_gone AFTER DELETE ON participant BEGIN"
	"  UPDATE rules_state SET folded = 0 WHERE folded <> 0;"
	" END;",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int
store_schema_latest(void)
{
	return N_MIGRATIONS;
}

int
store_schema_version(struct store *st, int *out)
{
	sqlite3_stmt *s;
	int rc;

	/* Not cached: it runs at open and for status only. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return store_fail(st, "reading the schema version");
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		store_fail(st, "reading the schema version");
		sqlite3_finalize(s);
		return -1;
	}
	*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

/* Applies step v (0-based) and moves user_version to v + 1, in the open
 * transaction. */
static int
schema_apply(struct store *st, int v)
{
	char *sql;
	int rc;

	if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, "migrating the schema");
	sql = xasprintf("PRAGMA user_version = %d", v + 1);
	rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_fail(st, "setting the schema version");
	log_event(LOG_INFO, LOG_ID_STORE_MIGRATED, "store %s: schema migrated to version %d", st->path, v + 1);
	return 0;
}

/* One step in one transaction. The version is read again under the write
 * lock, so two processes opening an old store never apply a step twice.
 * Sets *done when nothing is left to do. */
static int
schema_step(struct store *st, int *version, bool *done)
{
	if (store_begin(st) < 0)
		return -1;
	if (store_schema_version(st, version) < 0)
		goto fail;
	*done = *version >= N_MIGRATIONS;
	if (!*done && schema_apply(st, *version) < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

static int
schema_refuse_newer(struct store *st, int version, char **err)
{
	if (version <= N_MIGRATIONS)
		return 0;
	*err = xasprintf("%s: store schema version %d is newer than this merci "
			 "understands (%d); upgrade merci, or point database= at "
			 "another file", st->path, version, N_MIGRATIONS);
	return -1;
}

int
store_schema_migrate(struct store *st, char **err)
{
	bool done = false;
	int version;

	if (store_schema_version(st, &version) < 0) {
		*err = xasprintf("%s: cannot read the store: %s; is database= a "
				 "merci store?", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	if (schema_refuse_newer(st, version, err) < 0)
		return -1;
	if (st->mode == STORE_RO) {
		if (version == N_MIGRATIONS)
			return 0;
		/* The daemon created the file but never got to set it up. */
		if (version == 0) {
			*err = xasprintf("%s: the store is empty, nothing was synced "
					 "yet: run `mercid --once` first", st->path);
			return -1;
		}
		*err = xasprintf("%s: store schema version %d is older than this "
				 "merci's (%d); run mercid once to upgrade it",
				 st->path, version, N_MIGRATIONS);
		return -1;
	}
	while (!done) {
		if (schema_step(st, &version, &done) < 0) {
			/* The SQLite detail is already logged. */
			*err = xasprintf("%s: cannot migrate the store from schema "
					 "version %d; see the error above", st->path, version);
			return -1;
		}
		if (schema_refuse_newer(st, version, err) < 0)
			return -1;
	}
	return 0;
}
