/* template: the texts of the mail merci sends its owner, one file per
 * language and kind: conf/templates/{fr,en}/{thank-you,reciprocity,
 * keep-in-touch,follow-up,prospecting,digest,help}.txt, and of the draft
 * the owner may send a referrer (draft-thank-you.txt, server_tasks.h).
 *
 * A file is "Subject: ..." on its first line, a blank line, then the body.
 * Placeholders are {{name}} {{email}} {{evidence}} {{due}} {{kind}} {{id}}
 * {{items}} {{commands}}; any other {{...}} is an error naming FILE:LINE, so
 * an owner's typo in an override is caught, not mailed.
 *
 * Files are looked up in order: $MERCI_TEMPLATE_DIR (tests), the owner's
 * overrides ($CONFIGURATION_DIRECTORY/templates under systemd, then
 * $XDG_CONFIG_HOME/merci/templates or ~/.config/merci/templates), then the
 * installed PKGDATADIR/templates. */
#ifndef MERCI_TEMPLATE_H
#define MERCI_TEMPLATE_H

/* Values for the placeholders; NULL renders as empty. name, email and
 * evidence come from mail: template_render makes them single-line. */
struct template_vars {
	const char *name;
	const char *email;
	const char *evidence;
	const char *due;
	const char *kind;
	const char *id;
	const char *items;      /* the digest's numbered lines */
	const char *commands;   /* how to answer */
};

/* Finds LANG/KIND.txt, renders it. Returns 0 with *subject (one line,
 * sanitised for a header) and *body newly allocated, or -1 with *err a
 * newly allocated one-line message (FILE:LINE: what; fix). */
int template_render(const char *lang, const char *kind, const struct template_vars *v,
		    char **subject, char **body, char **err);

/* Renders text as if read from file (for messages): same contract. */
int template_render_text(const char *text, const char *file, const struct template_vars *v,
			 char **subject, char **body, char **err);

/* The path template_render would read for LANG/KIND, newly allocated; NULL
 * when no directory holds it. */
char *template_find(const char *lang, const char *kind);

#endif
