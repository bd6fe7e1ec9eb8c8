/* Tests the STATUS= line (daemon/status.c) over stand-in runners: counts,
 * the failing accounts with a few words of why and nothing more, plurals. */
#include <stdbool.h>
#include <stdlib.h>

#include "../../daemon/daemon.h"
#include "../../daemon/status.h"
#include "../../daemon/supervisor.h"
#include "record.h"
#include "unit.h"

/* The runner as status.c sees it through supervisor.h. */
struct runner {
	const char *name;
	unsigned attempts;
	const char *error;
	int err_class;
	bool busy;
};

const char *runner_name(const struct runner *r) { return r->name; }
unsigned runner_attempts(const struct runner *r) { return r->attempts; }
bool runner_busy(const struct runner *r) { return r->busy; }

const char *
runner_last_error(const struct runner *r, int *err_class)
{
	*err_class = r->err_class;
	return r->error;
}

static char *
line_of(struct runner *v, size_t n, int64_t due)
{
	struct runner *p[8];
	struct daemon d = { .n_runners = n, .runners = p, .nudges_due = due };

	for (size_t i = 0; i < n; i++)
		p[i] = &v[i];
	return status_line(&d);
}

#define CHECK_LINE(v, n, due, want) do { \
	char *line_ = line_of(v, n, due); \
	CHECK_STR(line_, want); \
	free(line_); \
} while (0)

#define CHECK_WORDS(cls, err, want) do { \
	char *words_ = status_failure_words(cls, err); \
	CHECK_STR(words_, want); \
	free(words_); \
} while (0)

int
main(void)
{
	struct runner start[] = { { "home", 0, NULL, 0, true } };
	struct runner three[] = {
		{ "home", 4, NULL, 0, false },
		{ "work", 2, "imap.example.org:993: connection refused; check the url", RECERR_TEMP, false },
		{ "old", 1, "imap.example.net:143: login refused for user camille@example.org "
			    "(server said: no); check user", RECERR_AUTH, true },
	};
	struct runner ok3[] = {
		{ "a", 1, NULL, 0, false }, { "b", 1, NULL, 0, false }, { "c", 1, NULL, 0, false },
	};

	CHECK_LINE(start, 1, -1, "synced 0 accounts, 1 syncing now");
	CHECK_LINE(ok3, 3, 2, "synced 3 accounts, 2 nudges due");
	CHECK_LINE(ok3, 1, 1, "synced 1 account, 1 nudge due");
	CHECK_LINE(three, 3, 0, "synced 1 account, 2 failing: work (connection refused), "
		   "old (login refused), 1 syncing now, 0 nudges due");

	/* Never the login, the server's words or a path: class words, or the
	 * first clause of a network error without its host. */
	CHECK_WORDS(RECERR_AUTH, "h:1: login refused for user camille (server said: x)", "login refused");
	CHECK_WORDS(RECERR_CONFIG, "h:1: folder \"Clients/Alice\" does not exist", "configuration problem");
	CHECK_WORDS(RECERR_TLS, "h:1: certificate for other.example", "TLS or certificate problem");
	CHECK_WORDS(RECERR_PROTOCOL, "h:1: server refused SELECT (server said: x)", "IMAP protocol error");
	CHECK_WORDS(RECERR_TEMP, "[::1]:993: connection lost or timed out during LOGIN; merci will retry",
		    "connection lost or timed out during LOGIN");
	CHECK_WORDS(0, "IMAP process killed by signal 11 (Segmentation fault); the server",
		    "IMAP process killed by signal 11");
	CHECK_WORDS(0, "", "failed");
	CHECK_WORDS(RECERR_TEMP, "h:1: ;", "failed");
	return UNIT_DONE();
}
