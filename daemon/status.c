/* status: the STATUS= line (see status.h). */
#include "status.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "daemon.h"
#include "outbox.h"
#include "record.h"
#include "supervisor.h"
#include "xalloc.h"

#define WORDS_MAX 60

char *
status_failure_words(int err_class, const char *err)
{
	const char *sp;
	size_t n;

	/* Quoting the message could name the login, a folder or the server's
	 * reply; these classes say enough by themselves. */
	switch (err_class) {
	case RECERR_AUTH: return xstrdup("login refused");
	case RECERR_TLS: return xstrdup("TLS or certificate problem");
	case RECERR_CONFIG: return xstrdup("configuration problem");
	case RECERR_PROTOCOL: return xstrdup("IMAP protocol error");
	default: break;
	}
	if (!err || !*err)
		return xstrdup("failed");
	/* Network trouble: the message's first clause, without "host:port: ". */
	sp = strchr(err, ' ');
	if (sp && sp > err && sp[-1] == ':')
		err = sp + 1;
	n = strcspn(err, ";(");
	while (n > 0 && err[n - 1] == ' ')
		n--;
	if (n > WORDS_MAX)
		n = WORDS_MAX;
	return n ? xstrndup(err, n) : xstrdup("failed");
}

static const char *
plural(int64_t n)
{
	return n == 1 ? "" : "s";
}

char *
status_line(const struct daemon *d)
{
	struct buf b = { 0 }, failing = { 0 };
	size_t ok = 0, n_failing = 0, busy = 0;
	int64_t queued = 0, failed = 0;

	for (size_t i = 0; i < d->n_runners; i++) {
		const struct runner *r = d->runners[i];
		int cls;
		const char *err = runner_last_error(r, &cls);
		char *words;

		busy += runner_busy(r);
		if (runner_attempts(r) == 0)
			continue;
		if (!err) {
			ok++;
			continue;
		}
		words = status_failure_words(cls, err);
		buf_printf(&failing, "%s%s (%s)", n_failing ? ", " : "", runner_name(r), words);
		free(words);
		n_failing++;
	}
	buf_printf(&b, "synced %zu account%s", ok, plural((int64_t)ok));
	if (n_failing)
		buf_printf(&b, ", %zu failing: %s", n_failing, failing.data);
	if (busy)
		buf_printf(&b, ", %zu syncing now", busy);
	if (d->nudges_due >= 0)
		buf_printf(&b, ", %lld nudge%s due", (long long)d->nudges_due, plural(d->nudges_due));
	if (d->store && outbox_counts(d->store, &queued, &failed) == 0 && (queued || failed))
		buf_printf(&b, ", outbox: %lld queued, %lld failed", (long long)queued,
			   (long long)failed);
	buf_free(&failing);
	return buf_steal(&b);
}
