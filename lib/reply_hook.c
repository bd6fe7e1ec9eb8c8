/* reply_hook: finds which merci message the owner answers and applies the
 * answer. See reply_hook.h. */
#include "reply_hook.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "config.h"
#include "log.h"
#include "msg.h"
#include "outbox.h"
#include "reply_cmd.h"
#include "server_tasks.h"
#include "xalloc.h"

/* mailbuild_message_id's ids start so: any other id costs no query (the
 * owner's ordinary replies carry long References). */
#define MERCI_ID_PREFIX "merci."

/* Looks up one id ("merci.<hex>@domain", brackets optional) in the outbox. */
static int
id_lookup(struct store *st, const char *id, size_t len, int64_t *outbox_id)
{
	char *one;
	int rc;

	*outbox_id = 0;
	while (len && (*id == '<' || *id == ' ')) {
		id++;
		len--;
	}
	if (len < sizeof MERCI_ID_PREFIX || strncmp(id, MERCI_ID_PREFIX,
						     sizeof MERCI_ID_PREFIX - 1) != 0)
		return 0;
	one = xstrndup(id, len);
	rc = outbox_find_by_message_id(st, one, outbox_id);
	free(one);
	return rc;
}

/* The last id of References is the message answered; earlier ones are its
 * ancestors: walk them from the end. */
static int
refs_lookup(struct store *st, const char *refs, int64_t *outbox_id)
{
	size_t end = strlen(refs), start;

	*outbox_id = 0;
	while (end > 0) {
		while (end > 0 && refs[end - 1] == ' ')
			end--;
		start = end;
		while (start > 0 && refs[start - 1] != ' ')
			start--;
		if (end > start && id_lookup(st, refs + start, end - start, outbox_id) < 0)
			return -1;
		if (*outbox_id)
			return 0;
		end = start;
	}
	return 0;
}

int
reply_hook_match(struct store *st, const struct config *cfg, const struct msg *m,
		 int64_t *outbox_id)
{
	*outbox_id = 0;
	if (m->from.n == 0 || !config_is_identity(cfg, m->from.v[0].email))
		return 0;
	if (m->in_reply_to &&
	    id_lookup(st, m->in_reply_to, strlen(m->in_reply_to), outbox_id) < 0)
		return -1;
	if (!*outbox_id && m->references)
		return refs_lookup(st, m->references, outbox_id);
	return 0;
}

int
reply_hook_apply(struct store *st, const struct config *cfg, int64_t account_id,
		 int64_t outbox_id, const struct msg *m, int64_t now)
{
	struct reply_cmd cmds[REPLY_CMD_MAX];
	char *text;
	size_t n;
	int rc;

	if (!m->text_prefix) {
		/* Without its text a command cannot be told from an empty
		 * reply: answering it with the help would be a guess. */
		log_warn("reply to merci's message %" PRId64 " (UID %" PRIu32 " in %s) has no "
			 "readable text; not applied", outbox_id, m->uid,
			 m->folder ? m->folder : "?");
		return 0;
	}
	/* The IMAP child strips quotes already; hand-made or older records
	 * may not, and stripping is idempotent. */
	text = body_strip_quotes(m->text_prefix);
	n = reply_cmd_parse(text, cmds, REPLY_CMD_MAX);
	free(text);
	rc = outbox_apply_reply(st, outbox_id, cmds, n, now);
	if (rc == 1)
		rc = outbox_queue_help(st, cfg, outbox_id, now);
	else if (rc == 0 && m->folder && m->uid)
		rc = server_tasks_seen_add(st, account_id, m->folder, m->uid, now);
	return rc < 0 ? -1 : 0;
}
