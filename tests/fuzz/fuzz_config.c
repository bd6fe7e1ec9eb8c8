/* fuzz_config: config_load on any file (inih plus merci's own value
 * parsers: URLs, durations, clock ranges, address lists, sections). The
 * input is written to a private file (mode 0600, so an inline password is
 * accepted and its checks run) in a temporary folder made once. */
#include "fuzz.h"
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

const char fuzz_target_name[] = "config";

static char *dir, *path;

static void
cleanup(void)
{
	if (path)
		unlink(path);
	if (dir)
		rmdir(dir);
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	tmpl = malloc(strlen(tmp) + 32);
	path = malloc(strlen(tmp) + 64);
	if (!tmpl || !path)
		abort();
	sprintf(tmpl, "%s/merci-fuzz-config.XXXXXX", tmp);
	dir = mkdtemp(tmpl);
	if (!dir) {
		perror("fuzz_config: mkdtemp");
		abort();
	}
	sprintf(path, "%s/merci.conf", dir);
	atexit(cleanup);
	/* Secrets are never read by config_load; no credentials either. */
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void
write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0) {
		perror("fuzz_config: open");
		abort();
	}
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			perror("fuzz_config: write");
			abort();
		}
		off += (size_t)w;
	}
	close(fd);
}

static void
check(const struct config *c)
{
	FUZZ_CHECK(c->owner_email != NULL && c->language != NULL);
	FUZZ_CHECK(strcmp(c->language, "fr") == 0 || strcmp(c->language, "en") == 0);
	FUZZ_CHECK(c->n_identities >= 1 && strcmp(c->identities[0], c->owner_email) == 0);
	FUZZ_CHECK(config_is_identity(c, c->owner_email));
	FUZZ_CHECK(c->nudges.daily_cap >= 0);
	FUZZ_CHECK(c->nudges.digest_minute >= 0 && c->nudges.digest_minute < 24 * 60);
	FUZZ_CHECK(c->nudges.quiet_start >= 0 && c->nudges.quiet_start < 24 * 60);
	FUZZ_CHECK(c->nudges.quiet_end >= 0 && c->nudges.quiet_end < 24 * 60);
	for (size_t i = 0; i < c->n_accounts; i++) {
		const struct config_account *a = &c->accounts[i];
		FUZZ_CHECK(a->name && a->host && a->port > 0 && a->port < 65536);
		FUZZ_CHECK(a->poll > 0 && a->timeout > 0);
	}
	if (c->smtp.present)
		FUZZ_CHECK(c->smtp.host && c->smtp.port > 0 && c->smtp.port < 65536);
	for (size_t i = 0; i < c->n_tags; i++)
		FUZZ_CHECK(config_tag_find(c, c->tags[i].name) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char *err = NULL;

	if (!dir)
		setup();
	write_input(data, size);
	if (config_load(path, &c, &err) == 0) {
		FUZZ_CHECK(c != NULL && err == NULL);
		check(c);
		config_free(c);
	} else {
		FUZZ_CHECK(c == NULL && err != NULL && *err != '\0');
		free(err);
	}
	return 0;
}
