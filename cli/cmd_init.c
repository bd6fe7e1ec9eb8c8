/* cmd_init: "merci init": writes a first, commented configuration from
 * flags (or by asking on a terminal), keeps the passwords in private files
 * next to it, validates it with config_load and tries the servers.
 *
 * Passwords never come from argv (visible in ps): from a file the user
 * already has, from standard input, or typed without echo. They live in
 * memory only until written, then are wiped. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "xalloc.h"

static const char usage_init[] =
	"usage: merci init [--config FILE] [--owner \"Name <addr>\"] [--language fr|en]\n"
	"                  [--imap-url URL] [--imap-user USER]\n"
	"                  [--imap-password-file FILE | --imap-password-stdin]\n"
	"                  [--smtp-url URL] [--smtp-user USER]\n"
	"                  [--smtp-password-file FILE | --smtp-password-stdin]\n"
	"                  [--ca-file FILE] [--no-check] [--force]\n"
	"\n"
	"Writes a commented configuration (mode 0600; default path as for\n"
	"--config), then logs in to the servers and says what it found.\n"
	"On a terminal, asks for what the flags leave out. A password given on\n"
	"standard input (first line IMAP, next line SMTP) is stored in a private\n"
	"file next to the configuration (imap.pass, smtp.pass); without an SMTP\n"
	"password source, the SMTP login reuses the IMAP password when the user\n"
	"is the same. Never overwrites a file without --force.\n"
	"Exit status 0 when all is well, 1 when a connection failed, 2 for a\n"
	"usage or configuration error.\n";

enum {
	OPT_CONFIG = 256, OPT_OWNER, OPT_LANGUAGE, OPT_IMAP_URL, OPT_IMAP_USER,
	OPT_IMAP_PASS_FILE, OPT_IMAP_PASS_STDIN, OPT_SMTP_URL, OPT_SMTP_USER,
	OPT_SMTP_PASS_FILE, OPT_SMTP_PASS_STDIN, OPT_CA_FILE, OPT_NO_CHECK, OPT_FORCE,
};

struct init {
	char *config, *owner, *language, *ca_file;
	char *imap_url, *imap_user, *imap_pass_file;
	char *smtp_url, *smtp_user, *smtp_pass_file;
	bool imap_stdin, smtp_stdin, no_check, force;
	bool fr;                  /* prompts in French */
	bool ask;                 /* stdin and stdout are a terminal */
	char *imap_pass, *smtp_pass;   /* secrets, wiped before free */
	char *dir;                /* the configuration's directory, absolute */
	char *made[3];            /* files this run created, removed on failure */
	size_t n_made;
};

/* ---- small helpers ---- */

static void
init_secret_free(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void
init_set(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* Text only the user will read: French when their locale is French. */
static const char *
init_tr(const struct init *in, const char *fr, const char *en)
{
	return in->fr ? fr : en;
}

static bool
init_locale_fr(void)
{
	const char *vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strncmp(v, "fr", 2) == 0;
	}
	return false;
}

/* A line from stdin without its newline; NULL at end of input. */
static char *
init_read_line(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		if (line)
			explicit_bzero(line, cap);
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* Asks on the terminal; an empty answer takes def (which may be NULL). */
static char *
init_ask(const struct init *in, const char *fr, const char *en, const char *def)
{
	char *line;

	if (def && *def)
		printf("%s [%s]: ", init_tr(in, fr, en), def);
	else
		printf("%s: ", init_tr(in, fr, en));
	fflush(stdout);
	if ((line = init_read_line()) == NULL) {
		printf("\n");
		return NULL;
	}
	if (*line == '\0' && def) {
		free(line);
		return xstrdup(def);
	}
	return line;
}

static struct termios init_saved_tty;
static volatile sig_atomic_t init_tty_changed;

/* An interrupted password prompt must not leave the terminal mute. */
static void
init_on_signal(int sig)
{
	if (init_tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &init_saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static char *
init_ask_secret(const struct init *in, const char *fr, const char *en)
{
	struct termios quiet;
	struct sigaction sa, old_int, old_term;
	char *line;

	if (tcgetattr(STDIN_FILENO, &init_saved_tty) < 0)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = init_on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	printf("%s: ", init_tr(in, fr, en));
	fflush(stdout);
	quiet = init_saved_tty;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	init_tty_changed = 1;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	line = init_read_line();
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &init_saved_tty);
	init_tty_changed = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return line;
}

/* The bare address of "Name <addr>" or of a bare address. */
static char *
init_owner_address(const char *owner)
{
	const char *lt = strrchr(owner, '<'), *gt;

	if (lt && (gt = strchr(lt, '>')) != NULL)
		return xstrndup(lt + 1, (size_t)(gt - lt - 1));
	return xstrdup(owner);
}

/* Values go into an INI line: no line breaks, no controls, and no " ;"
 * or " #" that inih would take for the start of a comment. */
static int
init_value_ok(const char *what, const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "merci init: %s has a control character or a line "
				"break; give it on one line\n", what);
			return -1;
		}
		if ((*p == ';' || *p == '#') && p > (const unsigned char *)v &&
		    (p[-1] == ' ' || p[-1] == '\t')) {
			fprintf(stderr, "merci init: %s holds \" %c\", which would start a "
				"comment in the file; remove it\n", what, *p);
			return -1;
		}
	}
	return 0;
}

static char *
init_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

/* mkdir -p, the directories it makes private: they will hold secrets. */
static int
init_mkdirs(const char *dir)
{
	char *p = xstrdup(dir), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		bool end = *s == '\0';

		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "merci init: cannot create the directory %s: %s\n",
				p, strerror(errno));
			rc = -1;
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

/* Writes data to path, mode 0600, through a temporary file: atomically
 * replaced with force, else linked into place only when path is free. */
static int
init_write_private(struct init *in, const char *path, const char *data)
{
	char *tmp = xasprintf("%s.XXXXXX", path);
	size_t len = strlen(data), off = 0;
	int fd = mkstemp(tmp), rc = 0;

	if (fd < 0) {
		fprintf(stderr, "merci init: cannot write in %s: %s\n", in->dir, strerror(errno));
		free(tmp);
		return -1;
	}
	/* mkstemp already made it 0600; say so for a reader of the code. */
	(void)fchmod(fd, 0600);
	while (off < len && rc == 0) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = -1;
		else
			off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "merci init: cannot write %s: %s\n", path, strerror(errno));
	else if (in->force ? rename(tmp, path) < 0 : link(tmp, path) < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "merci init: %s already exists; keep it, or run merci "
				"init --force to replace it\n", path);
		else
			fprintf(stderr, "merci init: cannot create %s: %s\n", path, strerror(errno));
		rc = -1;
	} else if (in->n_made < sizeof(in->made) / sizeof(in->made[0])) {
		in->made[in->n_made++] = xstrdup(path);
	}
	(void)unlink(tmp);   /* after link(), or after a failure; gone after rename */
	free(tmp);
	return rc;
}

/* ---- gathering the answers ---- */

static int
init_on_opt(void *ctx, int ch, const char *arg)
{
	struct init *in = ctx;

	switch (ch) {
	case OPT_CONFIG: init_set(&in->config, arg); break;
	case OPT_OWNER: init_set(&in->owner, arg); break;
	case OPT_LANGUAGE:
		if (strcmp(arg, "fr") != 0 && strcmp(arg, "en") != 0) {
			fprintf(stderr, "merci init: --language is fr or en, not \"%s\"\n", arg);
			return -1;
		}
		init_set(&in->language, arg);
		break;
	case OPT_IMAP_URL: init_set(&in->imap_url, arg); break;
	case OPT_IMAP_USER: init_set(&in->imap_user, arg); break;
	case OPT_IMAP_PASS_FILE: init_set(&in->imap_pass_file, arg); break;
	case OPT_IMAP_PASS_STDIN: in->imap_stdin = true; break;
	case OPT_SMTP_URL: init_set(&in->smtp_url, arg); break;
	case OPT_SMTP_USER: init_set(&in->smtp_user, arg); break;
	case OPT_SMTP_PASS_FILE: init_set(&in->smtp_pass_file, arg); break;
	case OPT_SMTP_PASS_STDIN: in->smtp_stdin = true; break;
	case OPT_CA_FILE: init_set(&in->ca_file, arg); break;
	case OPT_NO_CHECK: in->no_check = true; break;
	case OPT_FORCE: in->force = true; break;
	default: return -1;
	}
	return 0;
}

static int
init_parse(struct init *in, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "owner", required_argument, NULL, OPT_OWNER },
		{ "language", required_argument, NULL, OPT_LANGUAGE },
		{ "imap-url", required_argument, NULL, OPT_IMAP_URL },
		{ "imap-user", required_argument, NULL, OPT_IMAP_USER },
		{ "imap-password-file", required_argument, NULL, OPT_IMAP_PASS_FILE },
		{ "imap-password-stdin", no_argument, NULL, OPT_IMAP_PASS_STDIN },
		{ "smtp-url", required_argument, NULL, OPT_SMTP_URL },
		{ "smtp-user", required_argument, NULL, OPT_SMTP_USER },
		{ "smtp-password-file", required_argument, NULL, OPT_SMTP_PASS_FILE },
		{ "smtp-password-stdin", no_argument, NULL, OPT_SMTP_PASS_STDIN },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "no-check", no_argument, NULL, OPT_NO_CHECK },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	/* More options than cli_options takes: parse here, the same way
	 * (optind 0 resets glibc's "+" from main's parsing). */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_init, stdout);
			return EXIT_OK;
		}
		if (ch == '?' || init_on_opt(in, ch, optarg) != 0) {
			fputs(usage_init, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "merci init: unexpected argument \"%s\"\n", argv[optind]);
		return EXIT_USAGE;
	}
	if ((in->imap_stdin && in->imap_pass_file) || (in->smtp_stdin && in->smtp_pass_file)) {
		fprintf(stderr, "merci init: give a password either as a file or on "
			"standard input, not both\n");
		return EXIT_USAGE;
	}
	return -1;
}

static int
init_missing(const char *flag)
{
	fprintf(stderr, "merci init: %s is required (or run merci init on a terminal "
		"to be asked)\n", flag);
	return EXIT_USAGE;
}

/* Passwords on stdin: the first line for IMAP, the next for SMTP. */
static int
init_read_stdin_secrets(struct init *in)
{
	if (in->imap_stdin && ((in->imap_pass = init_read_line()) == NULL || !*in->imap_pass)) {
		fprintf(stderr, "merci init: --imap-password-stdin: no password on the "
			"first line of standard input\n");
		return EXIT_USAGE;
	}
	if (in->smtp_stdin && ((in->smtp_pass = init_read_line()) == NULL || !*in->smtp_pass)) {
		fprintf(stderr, "merci init: --smtp-password-stdin: no password on the %s "
			"line of standard input\n", in->imap_stdin ? "second" : "first");
		return EXIT_USAGE;
	}
	return 0;
}

/* Asks for what is missing when on a terminal, else says what is missing.
 * Returns -1 to go on, or an exit code. */
static int
init_gather(struct init *in)
{
	char *addr = NULL;
	int rc = -1;

	if (!in->owner && (!in->ask || !(in->owner = init_ask(in,
	    "Votre nom et adresse (ex. Camille Roy <camille@example.org>)",
	    "Your name and address (e.g. Camille Roy <camille@example.org>)", NULL)) ||
	    !*in->owner))
		return init_missing("--owner");
	addr = init_owner_address(in->owner);
	if (!in->language)
		in->language = in->ask ? init_ask(in, "Langue des rappels (fr ou en)",
						  "Language of the reminders (fr or en)",
						  in->fr ? "fr" : "en") : xstrdup(in->fr ? "fr" : "en");
	if (!in->imap_url && (!in->ask || !(in->imap_url = init_ask(in,
	    "Serveur IMAP (imaps://hôte ou imap://hôte:port)",
	    "IMAP server (imaps://host or imap://host:port)", NULL)) || !*in->imap_url)) {
		rc = init_missing("--imap-url");
		goto out;
	}
	if (!in->imap_user)
		in->imap_user = in->ask ? init_ask(in, "Identifiant IMAP", "IMAP user name", addr) :
				xstrdup(addr);
	if (!in->imap_pass_file && !in->imap_pass) {
		if (!in->ask || (in->imap_pass = init_ask_secret(in, "Mot de passe IMAP "
		    "(rien ne s'affiche)", "IMAP password (not shown)")) == NULL || !*in->imap_pass) {
			rc = init_missing("--imap-password-file or --imap-password-stdin");
			goto out;
		}
	}
	if (!in->smtp_url && in->ask && !in->smtp_user)
		in->smtp_url = init_ask(in, "Serveur SMTP pour vous envoyer les rappels "
					"(smtp://hôte:587 ; vide : aucun)",
					"SMTP server to mail you the reminders "
					"(smtp://host:587; empty: none)", NULL);
	if (in->smtp_url && !*in->smtp_url) {
		free(in->smtp_url);
		in->smtp_url = NULL;
	}
	if (!in->smtp_url)
		goto done;
	if (!in->smtp_user)
		in->smtp_user = in->ask ? init_ask(in, "Identifiant SMTP", "SMTP user name",
						   in->imap_user) : xstrdup(in->imap_user);
	if (!in->smtp_pass_file && !in->smtp_pass && in->ask &&
	    (in->smtp_pass = init_ask_secret(in, "Mot de passe SMTP (vide : le même "
	    "qu'IMAP)", "SMTP password (empty: the same as IMAP)")) && !*in->smtp_pass)
		init_secret_free(&in->smtp_pass);
	if (!in->smtp_pass_file && !in->smtp_pass && strcmp(in->smtp_user, in->imap_user) != 0 &&
	    !in->ask) {
		rc = init_missing("--smtp-password-file or --smtp-password-stdin "
				  "(the SMTP user differs from the IMAP one)");
		goto out;
	}
done:
	if (init_value_ok("--owner", in->owner) < 0 ||
	    init_value_ok("--language", in->language) < 0 ||
	    init_value_ok("--imap-url", in->imap_url) < 0 ||
	    init_value_ok("--imap-user", in->imap_user) < 0 ||
	    (in->imap_pass_file && init_value_ok("--imap-password-file", in->imap_pass_file) < 0) ||
	    (in->smtp_url && init_value_ok("--smtp-url", in->smtp_url) < 0) ||
	    (in->smtp_user && init_value_ok("--smtp-user", in->smtp_user) < 0) ||
	    (in->smtp_pass_file && init_value_ok("--smtp-password-file", in->smtp_pass_file) < 0) ||
	    (in->ca_file && init_value_ok("--ca-file", in->ca_file) < 0))
		rc = EXIT_USAGE;
out:
	free(addr);
	return rc;
}

/* ---- writing ---- */

/* The file, in the words of conf/merci.conf: one comment per key. */
static char *
init_render(const struct init *in)
{
	struct buf b = { 0 };

	buf_adds(&b, "; merci.conf, written by \"merci init\"; see merci.conf(5).\n"
		 "; Check it with: merci config check --connect\n"
		 "; Keep secrets out of this file: the passwords are in private files.\n\n"
		 "[general]\n"
		 "; The SQLite store. Default: $STATE_DIRECTORY/merci.db, else\n"
		 "; $XDG_STATE_HOME/merci/merci.db, else ~/.local/state/merci/merci.db.\n"
		 ";database = /var/lib/merci/merci.db\n\n"
		 "; Who you are: nudges are mailed to this address, and mail from or to it is yours.\n");
	buf_printf(&b, "owner = %s\n\n", in->owner);
	buf_adds(&b, "; Your other addresses, comma-separated (default: none).\n"
		 ";identities = c.roy@example.net\n\n"
		 "; Language of the nudges: fr or en.\n");
	buf_printf(&b, "language = %s\n\n", in->language);
	buf_adds(&b, "; Time zone for quiet hours, the digest and dates (default: the system's).\n"
		 ";timezone = America/Montreal\n\n"
		 "; The mailbox to read; the name after \"account\" is yours to choose.\n"
		 "[account main]\n"
		 "; imaps://host[:port] (implicit TLS, port 993) or imap://host[:port] (STARTTLS, 143).\n");
	buf_printf(&b, "url = %s\n\n; The IMAP login name.\nuser = %s\n\n", in->imap_url,
		   in->imap_user);
	buf_adds(&b, "; First line of a file only you can read (chmod 600); or password_command,\n"
		 "; or credential (a systemd credential name).\n");
	buf_printf(&b, "password_file = %s\n\n", in->imap_pass_file);
	buf_adds(&b, "; Optional extra trust anchor: a CA certificate (PEM) for a private CA.\n");
	if (in->ca_file)
		buf_printf(&b, "ca_file = %s\n\n", in->ca_file);
	else
		buf_adds(&b, ";ca_file = /etc/merci/ca.pem\n\n");
	buf_adds(&b, "; Folders to read, comma-separated; auto = INBOX and the folder marked \\Sent.\n"
		 "folders = auto\n\n"
		 "; How often to look for new mail (at least 30s).\n"
		 "poll = 5m\n\n");
	if (in->smtp_url) {
		buf_adds(&b, "; The server nudges are mailed through.\n[smtp]\n"
			 "; smtps://host[:port] (implicit TLS, 465) or smtp://host[:port] (STARTTLS, 587).\n");
		buf_printf(&b, "url = %s\n\n; The SMTP login name.\nuser = %s\n\n", in->smtp_url,
			   in->smtp_user);
		buf_adds(&b, "; As in [account]: a private file, password_command or credential.\n");
		buf_printf(&b, "password_file = %s\n\n", in->smtp_pass_file);
		buf_adds(&b, "; Optional extra CA certificate, as in [account].\n");
		if (in->ca_file)
			buf_printf(&b, "ca_file = %s\n\n", in->ca_file);
		else
			buf_adds(&b, ";ca_file = /etc/merci/ca.pem\n\n");
	} else {
		buf_adds(&b, "; No [smtp]: nudges are listed by \"merci nudges\", never mailed.\n"
			 ";[smtp]\n;url = smtp://smtp.example.org:587\n;user = camille@example.org\n"
			 ";password_file = /etc/merci/smtp.pass\n\n");
	}
	buf_adds(&b, "; When and how often nudges come; the defaults are shown.\n"
		 "[nudges]\n"
		 "; Thank someone who introduced or referred you, this long after the event.\n"
		 "thank_after = 2d\n"
		 "; Remind you of a contact you have not exchanged with for this long.\n"
		 "keep_in_touch = 90d\n"
		 "; Remind you of a mail of yours nobody answered after this long.\n"
		 "follow_up_after = 5d\n"
		 "; While a mandate runs, remind you to prospect after this long without one.\n"
		 "prospect_gap = 30d\n"
		 "; Remind you to return a favour received this long ago and not returned.\n"
		 "reciprocity_after = 30d\n"
		 "; At most this many nudges a day (0: none are sent).\n"
		 "daily_cap = 5\n"
		 "; \"daily HH:MM\": one digest a day at that time; \"off\": one mail per nudge.\n"
		 "digest = daily 08:30\n"
		 "; \"HH:MM-HH:MM\": no mail in that window; \"off\".\n"
		 "quiet_hours = 20:00-08:00\n");
	return buf_steal(&b);
}

/* Stores a typed or piped password as DIR/NAME and points *file at it. */
static int
init_store_secret(struct init *in, char **secret, const char *name, char **file)
{
	char *path = xasprintf("%s/%s", in->dir, name);
	char *data = xasprintf("%s\n", *secret);
	int rc = init_write_private(in, path, data);

	explicit_bzero(data, strlen(data));
	free(data);
	init_secret_free(secret);
	if (rc == 0) {
		printf("%s %s (mode 0600)\n", init_tr(in, "Mot de passe rangé dans",
		       "Password stored in"), path);
		free(*file);
		*file = path;
	} else {
		free(path);
	}
	return rc;
}

static int
init_write(struct init *in, const char *path)
{
	char *text;
	int rc;

	if (in->imap_pass_file) {
		char *abs = init_absolute(in->imap_pass_file);

		free(in->imap_pass_file);
		in->imap_pass_file = abs;
	}
	if (in->smtp_pass_file) {
		char *abs = init_absolute(in->smtp_pass_file);

		free(in->smtp_pass_file);
		in->smtp_pass_file = abs;
	}
	if (in->ca_file) {
		char *abs = init_absolute(in->ca_file);

		free(in->ca_file);
		in->ca_file = abs;
	}
	if (in->imap_pass && init_store_secret(in, &in->imap_pass, "imap.pass",
					       &in->imap_pass_file) < 0)
		return -1;
	if (in->smtp_url && in->smtp_pass &&
	    init_store_secret(in, &in->smtp_pass, "smtp.pass", &in->smtp_pass_file) < 0)
		return -1;
	/* The same login on both sides: one password, one file. */
	if (in->smtp_url && !in->smtp_pass_file)
		in->smtp_pass_file = xstrdup(in->imap_pass_file);
	text = init_render(in);
	rc = init_write_private(in, path, text);
	free(text);
	if (rc == 0)
		printf("%s %s (mode 0600)\n", init_tr(in, "Configuration écrite dans",
		       "Configuration written to"), path);
	return rc;
}

/* A failed run leaves nothing half-made behind. */
static void
init_undo(struct init *in)
{
	size_t i;

	for (i = 0; i < in->n_made; i++)
		(void)unlink(in->made[i]);
}

static void
init_free(struct init *in)
{
	size_t i;

	init_secret_free(&in->imap_pass);
	init_secret_free(&in->smtp_pass);
	free(in->config);
	free(in->owner);
	free(in->language);
	free(in->ca_file);
	free(in->imap_url);
	free(in->imap_user);
	free(in->imap_pass_file);
	free(in->smtp_url);
	free(in->smtp_user);
	free(in->smtp_pass_file);
	free(in->dir);
	for (i = 0; i < in->n_made; i++)
		free(in->made[i]);
}

static void
init_next_steps(const struct init *in, const char *path, bool is_default)
{
	char *opt = is_default ? xstrdup("") : xasprintf(" --config %s", path);

	printf("\n%s\n  mercid --once%s\n%s\n  systemctl --user enable --now mercid\n",
	       init_tr(in, "Étape suivante : une première synchronisation :",
		       "Next step: a first sync:"), opt,
	       init_tr(in, "puis le service, qui tourne en continu :",
		       "then the service, which keeps running:"));
	if (!is_default)
		printf("%s\n", init_tr(in, "(le service lit le fichier par défaut ; "
		       "placez-y celui-ci ou définissez MERCI_CONFIG)",
		       "(the service reads the default file: move this one there or "
		       "set MERCI_CONFIG)"));
	free(opt);
}

int
cmd_init(struct cli *c, int argc, char **argv)
{
	struct init in;
	struct config *cfg = NULL;
	char *path = NULL, *def = config_default_path(), *err = NULL, *slash;
	struct stat st;
	int rc;

	memset(&in, 0, sizeof(in));
	in.fr = init_locale_fr();
	if ((rc = init_parse(&in, argc, argv)) >= 0)
		goto out;
	in.ask = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !in.imap_stdin &&
		 !in.smtp_stdin;
	path = init_absolute(in.config ? in.config : c->config_path ? c->config_path : def);
	/* Before asking anything: a refusal after the questions would waste them. */
	if (!in.force && lstat(path, &st) == 0) {
		fprintf(stderr, "merci init: %s already exists; check it with merci config "
			"check, or run merci init --force to replace it\n", path);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = init_read_stdin_secrets(&in)) != 0 || (rc = init_gather(&in)) >= 0)
		goto out;
	in.dir = xstrdup(path);
	if ((slash = strrchr(in.dir, '/')) != NULL)
		slash[slash == in.dir ? 1 : 0] = '\0';
	if (init_mkdirs(in.dir) < 0 || init_write(&in, path) < 0) {
		init_undo(&in);
		rc = EXIT_USAGE;
		goto out;
	}
	if (config_load(path, &cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		fprintf(stderr, "merci init: %s; run merci init again with the value fixed\n",
			init_tr(&in, "rien n'est conservé", "nothing was kept"));
		init_undo(&in);
		rc = EXIT_USAGE;
		goto out;
	}
	rc = EXIT_OK;
	if (!in.no_check) {
		printf("\n%s\n", init_tr(&in, "Essai des serveurs (aucun message n'est lu "
		       "ni envoyé) :", "Trying the servers (no mail is read or sent):"));
		rc = cli_probe_all(cfg);
	}
	if (rc == EXIT_OK)
		init_next_steps(&in, path, strcmp(path, def) == 0);
	else
		printf("\n%s\n  merci%s%s config check --connect\n",
		       init_tr(&in, "Corrigez ce qui est indiqué ci-dessus, puis vérifiez avec :",
			       "Fix what is reported above, then check again with:"),
		       strcmp(path, def) == 0 ? "" : " --config ",
		       strcmp(path, def) == 0 ? "" : path);
out:
	config_free(cfg);
	free(err);
	free(path);
	free(def);
	init_free(&in);
	return rc;
}
