/* merci.conf: values and defaults, every error with its FILE:LINE, the
 * privacy rules for inline passwords, and the three secret sources. Files
 * are written in a fresh temporary directory we chdir into, so messages
 * name "merci.conf" exactly as a user running from that directory sees. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"
#include "xalloc.h"

static void
write_file(const char *name, const char *text, mode_t mode)
{
	FILE *f;

	unlink(name);
	f = fopen(name, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", name, strerror(errno));
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(name, mode);
}

/* Loads text as merci.conf; returns the config, or NULL with *err set. */
static struct config *
load(const char *text, char **err)
{
	struct config *c = NULL;

	write_file("merci.conf", text, 0600);
	*err = NULL;
	if (config_load("merci.conf", &c, err) < 0)
		return NULL;
	return c;
}

/* Checks that text fails to load with exactly the message want. */
static void
check_error(const char *text, const char *want, int line)
{
	char *err = NULL;
	struct config *c = load(text, &err);

	if (!err || strcmp(err, want) != 0)
		fprintf(stderr, "(case from line %d)\n", line);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	config_free(c);
	free(err);
}
#define CHECK_ERROR(text, want) check_error(text, want, __LINE__)

#define GOOD_GENERAL "[general]\nowner = Camille Roy <camille@example.org>\n"
#define GOOD_ACCOUNT "[account work]\nurl = imaps://imap.example.org\n" \
	"user = camille\npassword_file = work.pass\n"

static const char full[] =
	"; a complete file\n"
	"[general]\n"
	"database   = /var/lib/merci/merci.db   ; where the store lives\n"
	"owner      = \"Camille Roy\" <Camille@Example.ORG>\n"
	"identities = C.Roy@Example.NET, camille@example.org ,  cr@example.com\n"
	"language   = EN\n"
	"timezone   = America/Montreal\n"
	"control_socket = /run/merci/control\n"
	"\n"
	"[account work]\n"
	"  url           = imaps://imap.example.org\n"   /* indented lines are keys */
	"  user          = camille@example.org\n"
	"  password_file = work.pass\n"
	"  ca_file       = ca.pem\n"
	"  folders       = INBOX, Envoyés, Archives 2025 ,Clients/Été\n"
	"  poll          = 30s\n"
	"  timeout       = 2m\n"
	"  first_sync_window = 30j\n"
	"\n"
	"[account perso]\n"
	"url = imap://127.0.0.1:1143/\n"
	"tls = none\n"
	"user = cam\n"
	"credential = perso.pass\n"
	"\n"
	"[account other]\n"
	"url: imap://mail.example.com\n"
	"user = x\n"
	"password_command = pass show mail\n"
	"\n"
	"[smtp]\n"
	"url = smtp://smtp.example.org\n"
	"user = camille@example.org\n"
	"password_command = printf '%s\\n' 'a b'\n"
	"\n"
	"[nudges]\n"
	"thank_after = 3d\n"
	"keep_in_touch = 2sem\n"
	"daily_cap = 0\n"
	"digest = off\n"
	"quiet_hours = 22:15-07:00\n"
	"ignore = *@noreply.*, *@*.MailChimp.com\n";

static void
test_full(void)
{
	char *err = NULL;
	struct config *c;

	write_file("ca.pem", "not really a certificate\n", 0644);
	c = load(full, &err);
	CHECK_STR(err, NULL);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_STR(c->path, "merci.conf");
	CHECK_STR(c->database, "/var/lib/merci/merci.db");
	CHECK_STR(c->owner_name, "Camille Roy");
	CHECK_STR(c->owner_email, "camille@example.org");
	CHECK_INT(c->n_identities, 3);
	if (c->n_identities == 3) {
		CHECK_STR(c->identities[0], "camille@example.org");
		CHECK_STR(c->identities[1], "c.roy@example.net");
		CHECK_STR(c->identities[2], "cr@example.com");
	}
	CHECK(config_is_identity(c, "c.roy@example.net"));
	CHECK(config_is_identity(c, "camille@example.org"));
	CHECK(!config_is_identity(c, "someone@example.org"));
	CHECK_STR(c->language, "en");
	CHECK_STR(c->timezone, "America/Montreal");
	CHECK_STR(c->control_socket, "/run/merci/control");

	CHECK_INT(c->n_accounts, 3);
	if (c->n_accounts != 3)
		goto out;
	struct config_account *a = &c->accounts[0];
	CHECK_STR(a->name, "work");
	CHECK_INT(a->line, 10);
	CHECK_STR(a->host, "imap.example.org");
	CHECK_INT(a->port, 993);
	CHECK_INT(a->tls, TLS_IMPLICIT);
	CHECK_STR(a->user, "camille@example.org");
	CHECK_STR(a->secret.password_file, "work.pass");
	CHECK_STR(a->secret.password, NULL);
	CHECK_STR(a->ca_file, "ca.pem");
	CHECK_INT(a->n_folders, 4);
	if (a->n_folders == 4) {
		CHECK_STR(a->folders[0], "INBOX");
		CHECK_STR(a->folders[1], "Envoyés");
		CHECK_STR(a->folders[2], "Archives 2025");
		CHECK_STR(a->folders[3], "Clients/Été");
	}
	CHECK_INT(a->poll, 30);
	CHECK_INT(a->timeout, 120);
	CHECK_INT(a->first_sync_window, 30 * 86400);

	a = &c->accounts[1];
	CHECK_STR(a->name, "perso");
	CHECK_STR(a->host, "127.0.0.1");
	CHECK_INT(a->port, 1143);
	CHECK_INT(a->tls, TLS_NONE);
	CHECK_STR(a->secret.credential, "perso.pass");
	CHECK(a->folders == NULL);   /* auto */
	CHECK_INT(a->poll, 300);
	CHECK_INT(a->timeout, 60);
	CHECK_INT(a->first_sync_window, 180 * 86400);

	a = &c->accounts[2];
	CHECK_INT(a->port, 143);
	CHECK_INT(a->tls, TLS_STARTTLS);
	CHECK_STR(a->secret.password_command, "pass show mail");

	CHECK(c->smtp.present);
	CHECK_STR(c->smtp.host, "smtp.example.org");
	CHECK_INT(c->smtp.port, 587);
	CHECK_INT(c->smtp.tls, TLS_STARTTLS);
	CHECK_INT(c->smtp.timeout, 60);

	CHECK_INT(c->nudges.thank_after, 3 * 86400);
	CHECK_INT(c->nudges.keep_in_touch, 14 * 86400);
	CHECK_INT(c->nudges.follow_up_after, 5 * 86400);
	CHECK_INT(c->nudges.daily_cap, 0);
	CHECK(!c->nudges.digest);
	CHECK(c->nudges.quiet);
	CHECK_INT(c->nudges.quiet_start, 22 * 60 + 15);
	CHECK_INT(c->nudges.quiet_end, 7 * 60);
	CHECK_INT(c->nudges.n_ignore, 2);
	if (c->nudges.n_ignore == 2) {
		CHECK_STR(c->nudges.ignore[0], "*@noreply.*");
		CHECK_STR(c->nudges.ignore[1], "*@*.mailchimp.com");
	}

	/* The secret of [smtp] comes from the command, quotes honoured. */
	char *secret = NULL;
	CHECK(config_secret_read(c, &c->smtp.secret, "smtp", &secret, &err) == 0);
	CHECK_STR(secret, "a b");
	CHECK_STR(err, NULL);
	free(secret);
	free(err);
out:
	config_free(c);
}

static void
test_defaults(void)
{
	char *err = NULL;
	struct config *c;

	setenv("STATE_DIRECTORY", "/var/lib/merci:/var/lib/other", 1);
	setenv("RUNTIME_DIRECTORY", "/run/merci", 1);
	c = load("[general]\nowner = camille@example.org\n"
		 "[account a]\nurl = imap://h:10143\nuser = u\npassword_file = p\n"
		 "[smtp]\nurl = smtps://smtp.example.org\n", &err);
	CHECK_STR(err, NULL);
	if (!c)
		return;
	CHECK_STR(c->database, "/var/lib/merci/merci.db");
	CHECK_STR(c->control_socket, "/run/merci/control");
	CHECK_STR(c->owner_name, NULL);
	CHECK_INT(c->n_identities, 1);
	CHECK_STR(c->language, "fr");
	CHECK_STR(c->timezone, NULL);
	CHECK_INT(c->accounts[0].port, 10143);
	CHECK_INT(c->accounts[0].tls, TLS_STARTTLS);
	CHECK_INT(c->smtp.port, 465);
	CHECK_INT(c->smtp.tls, TLS_IMPLICIT);
	CHECK_STR(c->smtp.user, NULL);
	CHECK_INT(c->nudges.thank_after, 2 * 86400);
	CHECK_INT(c->nudges.keep_in_touch, 90 * 86400);
	CHECK_INT(c->nudges.follow_up_after, 5 * 86400);
	CHECK_INT(c->nudges.prospect_gap, 30 * 86400);
	CHECK_INT(c->nudges.reciprocity_after, 30 * 86400);
	CHECK_INT(c->nudges.daily_cap, 5);
	CHECK(c->nudges.digest);
	CHECK_INT(c->nudges.digest_minute, 8 * 60 + 30);
	CHECK(c->nudges.quiet);
	CHECK_INT(c->nudges.quiet_start, 20 * 60);
	CHECK_INT(c->nudges.quiet_end, 8 * 60);
	CHECK_INT(c->nudges.n_ignore, 0);
	config_free(c);

	unsetenv("STATE_DIRECTORY");
	setenv("XDG_STATE_HOME", "/home/cam/.state", 1);
	c = load(GOOD_GENERAL GOOD_ACCOUNT, &err);
	CHECK_STR(c ? c->database : err, "/home/cam/.state/merci/merci.db");
	config_free(c);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/cam", 1);
	c = load(GOOD_GENERAL GOOD_ACCOUNT "[nudges]\ndigest = daily 7:05\n", &err);
	CHECK_STR(c ? c->database : err, "/home/cam/.local/state/merci/merci.db");
	CHECK_INT(c ? c->nudges.digest_minute : -1, 7 * 60 + 5);
	config_free(c);
	unsetenv("RUNTIME_DIRECTORY");
}

static void
test_errors(void)
{
	CHECK_ERROR(GOOD_GENERAL "[account work]\nurl = imaps://imap.example.org\nuser = u\n"
		    "credential = c\npol = 5m\n",
		    "merci.conf:7: unknown key \"pol\" in [account work]; did you mean \"poll\"?");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "poll = 5 minutes\n",
		    "merci.conf:7: poll = \"5 minutes\" is not a duration; "
		    "write e.g. 30s, 5m, 2h, 7d");
	CHECK_ERROR(GOOD_GENERAL "\n[account work]\nuser = u\npassword_file = p\n",
		    "merci.conf:4: [account work] has no url; add url = imaps://imap.example.org");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "poll = 10s\n",
		    "merci.conf:7: poll = 10s is too short; write at least 30s");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "user = again\n",
		    "merci.conf:7: duplicate key \"user\" in [account work] (first on line 5); "
		    "keep only one");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT GOOD_ACCOUNT,
		    "merci.conf:7: duplicate [account work] (first on line 3); "
		    "give each account its own name");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "[acount x]\n",
		    "merci.conf:7: unknown section [acount x]; did you mean [account x]?");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "[extras]\nfoo = 1\n",
		    "merci.conf:7: unknown section [extras]; use [general], [account NAME], "
		    "[smtp] or [nudges]");
	CHECK_ERROR("[general]\nlanguage = fr\n" GOOD_ACCOUNT,
		    "merci.conf:1: [general] has no owner; add owner = Your Name <you@example.org>");
	CHECK_ERROR(GOOD_ACCOUNT,
		    "merci.conf:1: no [general] section; add [general] with "
		    "owner = Your Name <you@example.org>");
	CHECK_ERROR(GOOD_GENERAL,
		    "merci.conf:1: no [account NAME] section; add one, e.g. [account work] "
		    "with url, user and password_file");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "url = imaps://imap.example.org\n",
		    "merci.conf:7: duplicate key \"url\" in [account work] (first on line 4); "
		    "keep only one");
	CHECK_ERROR(GOOD_GENERAL "[account work]\nurl = imaps://h\ntls = none\nuser = u\n"
		    "password_file = p\n",
		    "merci.conf:5: tls = none does not fit imaps://; use imap:// for a plain "
		    "connection, or remove tls");
	CHECK_ERROR(GOOD_GENERAL "[account work]\ntls = none\nurl = imaps://h\nuser = u\n"
		    "password_file = p\n",
		    "merci.conf:5: tls = none does not fit imaps://; use imap:// for a plain "
		    "connection, or remove tls");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "password_command = pass x\n",
		    "merci.conf:7: [account work] has both password_file and password_command; "
		    "keep only one");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "ca_file = missing.pem\n",
		    "merci.conf:7: ca_file missing.pem cannot be read (No such file or directory); "
		    "fix the path or remove ca_file");
	CHECK_ERROR("[general]\nowner = Camille <not an address>\n" GOOD_ACCOUNT,
		    "merci.conf:2: owner = \"Camille <not an address>\" is not an e-mail address; "
		    "write e.g. owner = Camille Roy <camille@example.org>");
	CHECK_ERROR("[general]\nowner = camille@example.org\nlanguage = de\n" GOOD_ACCOUNT,
		    "merci.conf:3: language = \"de\" is not supported; write fr or en");
	CHECK_ERROR(GOOD_GENERAL "timezone = Mars/Olympus\n" GOOD_ACCOUNT,
		    "merci.conf:3: timezone = \"Mars/Olympus\" is not a known time zone; "
		    "write a name such as Europe/Paris or America/Montreal");
	CHECK_ERROR(GOOD_GENERAL "[account work]\nurl = https://h\nuser = u\npassword_file = p\n",
		    "merci.conf:4: url = \"https://h\" has the wrong scheme; write e.g. "
		    "url = imaps://imap.example.org or imap://imap.example.org:143");
	CHECK_ERROR(GOOD_GENERAL "[account work]\nurl = imaps://h:99999\nuser = u\n"
		    "password_file = p\n",
		    "merci.conf:4: url = \"imaps://h:99999\" has a bad port; write e.g. "
		    "url = imaps://imap.example.org or imap://imap.example.org:143");
	CHECK_ERROR(GOOD_GENERAL "[account work]\nurl = imaps://h\nuser =\npassword_file = p\n",
		    "merci.conf:5: user in [account work] is empty; give it a value or remove the line");
	CHECK_ERROR(GOOD_GENERAL "[account work]\nurl = imaps://h\nuser = u\x01v\npassword_file = p\n",
		    "merci.conf:5: user in [account work] holds a control character; remove it");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "[nudges]\ndaily_cap = 1001\n",
		    "merci.conf:8: daily_cap = \"1001\" is not a number from 0 to 1000; "
		    "write e.g. daily_cap = 5");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "[nudges]\ndigest = weekly\n",
		    "merci.conf:8: digest = \"weekly\" is not a digest setting; "
		    "write off, or e.g. daily 08:30");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "[nudges]\nquiet_hours = 20h-8h\n",
		    "merci.conf:8: quiet_hours = \"20h-8h\" is not a time range; "
		    "write off, or e.g. 20:00-08:00");
	CHECK_ERROR("owner = a@b.c\n" GOOD_GENERAL GOOD_ACCOUNT,
		    "merci.conf:1: owner is set before any section; move it under [general] "
		    "or the section it belongs to");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "just some words\n",
		    "merci.conf:7: \"just some words\" is not a key = value line; add the \"=\", "
		    "or start a comment with ;");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "[smtp]\nurl = smtp://s\nuser = u\n",
		    "merci.conf:7: [smtp] has no password source; add password_file = PATH, "
		    "password_command = COMMAND or credential = NAME");
	CHECK_ERROR(GOOD_GENERAL GOOD_ACCOUNT "password_command = 'unclosed\n",
		    "merci.conf:7: [account work] has both password_file and password_command; "
		    "keep only one");
	CHECK_ERROR(GOOD_GENERAL "[account work]\nurl = imaps://h\nuser = u\n"
		    "password_command = pass 'unclosed\n",
		    "merci.conf:6: password_command has an unclosed quote; close it, or quote "
		    "the whole argument with ' or \"");
}

static void
test_many_errors(void)
{
	/* Every problem is reported, in file order, then the missing keys. */
	CHECK_ERROR("[general]\n"
		    "owner = camille@example.org\n"
		    "langage = fr\n"
		    "[account work]\n"
		    "url = imaps://imap.example.org\n"
		    "poll = soon\n"
		    "[account home]\n"
		    "url = imap://h\n"
		    "tls = implicit\n"
		    "user = u\n"
		    "credential = c\n"
		    "[nudges]\n"
		    "daily_cap = many\n",
		    "merci.conf:3: unknown key \"langage\" in [general]; did you mean \"language\"?\n"
		    "merci.conf:6: poll = \"soon\" is not a duration; write e.g. 30s, 5m, 2h, 7d\n"
		    "merci.conf:9: tls = implicit does not fit imap://; use imaps:// for implicit "
		    "TLS, or remove tls\n"
		    "merci.conf:13: daily_cap = \"many\" is not a number from 0 to 1000; "
		    "write e.g. daily_cap = 5\n"
		    "merci.conf:4: [account work] has no user; add user = you@example.org\n"
		    "merci.conf:4: [account work] has no password source; add password_file = PATH, "
		    "password_command = COMMAND or credential = NAME");
}

static void
test_long_line(void)
{
	struct { char s[4096]; } b;
	char *err = NULL;
	struct config *c;
	size_t n = 0;

	/* Longer than inih's line buffer: the value must still arrive whole,
	 * and a long comment must stay a comment. */
	n += (size_t)snprintf(b.s, sizeof(b.s), GOOD_GENERAL GOOD_ACCOUNT "[nudges]\n; ");
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(b.s + n, sizeof(b.s) - n, "words = a long comment: ");
	n += (size_t)snprintf(b.s + n, sizeof(b.s) - n, "\nignore = ");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(b.s + n, sizeof(b.s) - n, "%s*@list%02d.example.org",
				      i ? ", " : "", i);
	snprintf(b.s + n, sizeof(b.s) - n, " ; a comment\nfoo = bar\n");
	c = load(b.s, &err);
	CHECK_STR(err, "merci.conf:10: unknown key \"foo\" in [nudges]; see merci.conf(5) "
		  "for the keys of this section");
	free(err);
	config_free(c);
	*strstr(b.s, "foo = bar\n") = '\0';
	c = load(b.s, &err);
	CHECK_STR(err, NULL);
	CHECK_INT(c ? c->nudges.n_ignore : 0, 40);
	if (c && c->nudges.n_ignore == 40)
		CHECK_STR(c->nudges.ignore[39], "*@list39.example.org");
	config_free(c);
}

static void
test_inline_password(void)
{
	const char *text = GOOD_GENERAL "[account work]\nurl = imaps://h\nuser = u\n"
			   "password = s3cret ; inline\n";
	struct config *c = NULL;
	char *err = NULL, *secret = NULL;

	write_file("merci.conf", text, 0644);
	CHECK(config_load("merci.conf", &c, &err) < 0);
	CHECK_STR(err, "merci.conf: holds a password but is readable by others (mode 0644); "
		  "run chmod 600 merci.conf or use password_file");
	CHECK(!err || !strstr(err, "s3cret"));
	free(err);
	chmod("merci.conf", 0640);
	CHECK(config_load("merci.conf", &c, &err) < 0);
	free(err);
	chmod("merci.conf", 0600);
	CHECK(config_load("merci.conf", &c, &err) == 0);
	CHECK_STR(err, NULL);
	if (c) {
		CHECK(config_secret_read(c, &c->accounts[0].secret, "account work",
					 &secret, &err) == 0);
		CHECK_STR(secret, "s3cret");
		free(secret);
	}
	config_free(c);
	c = NULL;

	/* A password in a section we do not know still counts. */
	write_file("merci.conf", GOOD_GENERAL GOOD_ACCOUNT "[old]\npassword = x\n", 0644);
	CHECK(config_load("merci.conf", &c, &err) < 0);
	CHECK(err && strstr(err, "merci.conf: holds a password but is readable by others"));
	free(err);
}

static char *
read_secret(struct config *c, const char *password_file, const char *command,
	    const char *credential, char **err)
{
	struct config_secret s = { 0 };
	char *out = NULL;

	s.password_file = (char *)password_file;
	s.password_command = (char *)command;
	s.credential = (char *)credential;
	*err = NULL;
	if (config_secret_read(c, &s, "account work", &out, err) < 0)
		return NULL;
	return out;
}

#define CHECK_SECRET(file, cmd, cred, want_secret, want_err) do { \
	char *e_ = NULL, *s_ = read_secret(NULL, file, cmd, cred, &e_); \
	CHECK_STR(s_, want_secret); \
	CHECK_STR(e_, want_err); \
	free(s_); \
	free(e_); \
} while (0)

static void
test_secrets(const char *dir)
{
	write_file("work.pass", "pa ss\nsecond line\n", 0600);
	CHECK_SECRET("work.pass", NULL, NULL, "pa ss", NULL);
	write_file("crlf.pass", "pw\r\n", 0400);
	CHECK_SECRET("crlf.pass", NULL, NULL, "pw", NULL);
	write_file("nonl.pass", "tail", 0600);
	CHECK_SECRET("nonl.pass", NULL, NULL, "tail", NULL);
	chmod("work.pass", 0644);
	CHECK_SECRET("work.pass", NULL, NULL, NULL,
		     "[account work] password_file work.pass is readable by others (mode 0644); "
		     "run chmod 600 work.pass");
	chmod("work.pass", 0660);
	CHECK_SECRET("work.pass", NULL, NULL, NULL,
		     "[account work] password_file work.pass is readable by others (mode 0660); "
		     "run chmod 600 work.pass");
	write_file("empty.pass", "\n", 0600);
	CHECK_SECRET("empty.pass", NULL, NULL, NULL,
		     "[account work] password_file empty.pass is empty; "
		     "write the password on its first line");
	CHECK_SECRET("none.pass", NULL, NULL, NULL,
		     "[account work] password_file none.pass cannot be read: "
		     "No such file or directory; check the path");

	CHECK_SECRET(NULL, "printf '%s\\n' \"it's\"' 'x second", NULL, "it's x", NULL);
	CHECK_SECRET(NULL, "echo   spaced\tout", NULL, "spaced out", NULL);
	CHECK_SECRET(NULL, "sh -c 'echo leaked; exit 3'", NULL, NULL,
		     "[account work] password_command \"sh\" exited with status 3; "
		     "run it by hand to see why");
	CHECK_SECRET(NULL, "true --secret-arg", NULL, NULL,
		     "[account work] password_command \"true\" printed nothing; "
		     "make it print the password on its first line");
	CHECK_SECRET(NULL, "merci-no-such-program-x y", NULL, NULL,
		     "[account work] password_command \"merci-no-such-program-x\" could not be run "
		     "(exit status 127); check that the program exists and is in PATH");
	/* stdin is /dev/null: a command that reads it gets EOF, not our terminal. */
	CHECK_SECRET(NULL, "cat", NULL, NULL,
		     "[account work] password_command \"cat\" printed nothing; "
		     "make it print the password on its first line");

	unsetenv("CREDENTIALS_DIRECTORY");
	CHECK_SECRET(NULL, NULL, "mail", NULL,
		     "[account work] credential = mail needs $CREDENTIALS_DIRECTORY "
		     "(set by systemd LoadCredential=)");
	mkdir("creds", 0700);
	write_file("creds/mail", "from-systemd\n", 0440);
	char *creds = xasprintf("%s/creds", dir);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	CHECK_SECRET(NULL, NULL, "mail", "from-systemd", NULL);
	char *want = xasprintf("[account work] credential other: %s/creds/other cannot be read: "
			       "No such file or directory; check the path", dir);
	CHECK_SECRET(NULL, NULL, "other", NULL, want);
	free(want);
	free(creds);
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void
test_unreadable(void)
{
	struct config *c = NULL;
	char *err = NULL;

	CHECK(config_load("no-such.conf", &c, &err) < 0);
	CHECK(c == NULL);
	CHECK_STR(err, "no-such.conf: cannot read: No such file or directory; "
		  "check the path given with --config");
	free(err);
}

static void
test_default_path(void)
{
	char *p;

	setenv("MERCI_CONFIG", "/x/m.conf", 1);
	setenv("CONFIGURATION_DIRECTORY", "/etc/merci", 1);
	setenv("XDG_CONFIG_HOME", "/home/cam/.cfg", 1);
	p = config_default_path();
	CHECK_STR(p, "/x/m.conf");
	free(p);
	unsetenv("MERCI_CONFIG");
	p = config_default_path();
	CHECK_STR(p, "/etc/merci/merci.conf");
	free(p);
	unsetenv("CONFIGURATION_DIRECTORY");
	p = config_default_path();
	CHECK_STR(p, "/home/cam/.cfg/merci/merci.conf");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/cam", 1);
	p = config_default_path();
	CHECK_STR(p, geteuid() == 0 ? "/etc/merci/merci.conf" : "/home/cam/.config/merci/merci.conf");
	free(p);
}

static void
test_sample(const char *cwd)
{
	const char *top = getenv("top_srcdir");
	struct config *c = NULL;
	char *path, *err = NULL;

	if (!top) {
		printf("note: top_srcdir is not set; not loading conf/merci.conf\n");
		return;
	}
	path = top[0] == '/' ? xasprintf("%s/conf/merci.conf", top)
			     : xasprintf("%s/%s/conf/merci.conf", cwd, top);
	CHECK(config_load(path, &c, &err) == 0);
	CHECK_STR(err, NULL);
	if (c) {
		CHECK_STR(c->owner_email, "camille@example.org");
		CHECK(c->n_accounts >= 1);
		CHECK(c->smtp.present);
	}
	config_free(c);
	free(err);
	free(path);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/merci-test-config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)) || !mkdtemp(dir) || chdir(dir) != 0) {
		fprintf(stderr, "cannot set up a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	umask(022);
	test_full();
	test_defaults();
	test_errors();
	test_many_errors();
	test_long_line();
	test_inline_password();
	test_secrets(dir);
	test_unreadable();
	test_default_path();
	test_sample(cwd);
	if (chdir(cwd) == 0) {
		char *cmd = xasprintf("rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
		free(cmd);
	}
	free(dir);
	return UNIT_DONE();
}
