/* automated: owns the decision "a machine sent this", from the header facts
 * msg.c extracted and the owner's ignore globs. */
#include "automated.h"
#include "address.h"
#include "msg.h"

#include <stdbool.h>
#include <string.h>

/* Compares the first word of a header value ("bulk", "auto-replied (x)"). */
static bool
automated_word_is(const char *v, const char *word)
{
	size_t n = strlen(word);

	while (*v == ' ')
		v++;
	return strncmp(v, word, n) == 0 &&
	    (v[n] == '\0' || v[n] == ' ' || v[n] == ';' || v[n] == '(');
}

static bool
automated_precedence(const char *p)
{
	static const char *const bulk[] = {
		"bulk", "list", "junk", "auto_reply", "auto-reply", NULL
	};
	size_t i;

	for (i = 0; p && bulk[i]; i++)
		if (automated_word_is(p, bulk[i]))
			return true;
	return false;
}

static bool
automated_submitted(const char *a)
{
	const char *p = a;

	if (a == NULL)
		return false;
	while (*p == ' ')
		p++;
	return *p != '\0' && !automated_word_is(p, "no");
}

const char *
automated_reason(const struct msg *m, char *const *ignore, size_t n_ignore)
{
	const char *from = m->from.n ? m->from.v[0].email : NULL;
	size_t i;

	if (m->list_id != NULL)
		return "list-id";
	if (m->list_unsubscribe)
		return "list-unsubscribe";
	if (automated_precedence(m->precedence))
		return "precedence";
	if (automated_submitted(m->auto_submitted))
		return "auto-submitted";
	if (m->x_autoreply)
		return "x-autoreply";
	if (from == NULL)
		return NULL;
	if (address_is_noreply(from))
		return "noreply-sender";
	for (i = 0; i < n_ignore; i++)
		if (ignore[i] && address_match_glob(ignore[i], from))
			return "ignore-pattern";
	return NULL;
}
