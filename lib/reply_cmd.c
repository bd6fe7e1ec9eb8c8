/* reply_cmd: parses the owner's answer to a nudge. See reply_cmd.h.
 *
 * Each line is first folded to lower-case ASCII (accents dropped, curly
 * apostrophes and no-break spaces made plain), so the vocabulary below is
 * written once, without accents, and "Reporté", "REPORTER" and "reporte"
 * all match. */
#include "reply_cmd.h"

#include <stdbool.h>
#include <string.h>

#define LINE_MAX_FOLDED 256
#define LINE_NO_MAX 999

struct word {
	const char *text;
	enum reply_action action;
};

static const struct word commands[] = {
	{ "done", REPLY_DONE }, { "fait", REPLY_DONE }, { "faite", REPLY_DONE },
	{ "ok", REPLY_DONE }, { "fini", REPLY_DONE }, { "termine", REPLY_DONE },
	{ "snooze", REPLY_SNOOZE }, { "reporter", REPLY_SNOOZE }, { "reporte", REPLY_SNOOZE },
	{ "reportez", REPLY_SNOOZE }, { "postpone", REPLY_SNOOZE }, { "later", REPLY_SNOOZE },
	{ "dismiss", REPLY_DISMISS }, { "ignore", REPLY_DISMISS }, { "ignorer", REPLY_DISMISS },
	{ "skip", REPLY_DISMISS },
	{ "mute", REPLY_MUTE }, { "sourdine", REPLY_MUTE }, { "silence", REPLY_MUTE },
	{ "help", REPLY_HELP }, { "aide", REPLY_HELP },
	{ NULL, REPLY_UNKNOWN },
};

struct unit {
	const char *text;
	int64_t seconds;
};

static const struct unit units[] = {
	{ "h", 3600 }, { "hr", 3600 }, { "hrs", 3600 }, { "hour", 3600 }, { "hours", 3600 },
	{ "heure", 3600 }, { "heures", 3600 },
	{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
	{ "j", 86400 }, { "jr", 86400 }, { "jrs", 86400 }, { "jour", 86400 }, { "jours", 86400 },
	{ "w", 7 * 86400 }, { "wk", 7 * 86400 }, { "week", 7 * 86400 }, { "weeks", 7 * 86400 },
	{ "sem", 7 * 86400 }, { "semaine", 7 * 86400 }, { "semaines", 7 * 86400 },
	{ "s", 7 * 86400 },
	{ "month", 30 * 86400 }, { "months", 30 * 86400 }, { "mois", 30 * 86400 },
	{ NULL, 0 },
};

/* Words that may stand between "reporter" and its duration. */
static const char *const fillers[] = { "de", "d", "for", "pour", "dans", "in", "by", "a", NULL };

/* The ASCII letter a two-byte UTF-8 Latin-1 letter (0xC3 second byte)
 * folds to, 0 when it is not one we know. */
static char
fold_latin1(unsigned char b)
{
	static const char lower[] = "aaaaaaaceeeeiiiidnooooo/ouuuuyty";

	if (b >= 0x80 && b <= 0x9F)
		b += 0x20;   /* upper-case row to lower-case row */
	if (b >= 0xA0 && b <= 0xBF)
		return lower[b - 0xA0];
	return 0;
}

/* Folds one line (up to its '\n') of s into out; returns the bytes of s used,
 * the '\n' included. */
static size_t
fold_line(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (p[i] && p[i] != '\n') {
		char c;

		if (p[i] == 0xC3 && p[i + 1] && (c = fold_latin1(p[i + 1])) != 0) {
			i += 2;
		} else if (p[i] == 0xC2 && p[i + 1] == 0xA0) {
			c = ' ';
			i += 2;
		} else if (p[i] == 0xE2 && p[i + 1] == 0x80 && p[i + 2] == 0x99) {
			c = '\'';
			i += 3;
		} else if (p[i] >= 0x80) {
			c = '~';   /* some other character: not a letter of ours */
			i++;
		} else {
			c = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
			i++;
		}
		if (o + 1 < cap)
			out[o++] = c == '\t' || c == '\r' ? ' ' : c;
	}
	out[o] = '\0';
	return p[i] == '\n' ? i + 1 : i;
}

static bool
is_alpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *
skip_blanks(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* Copies the letters at *p into w (at most cap - 1) and moves *p past them. */
static void
take_word(const char **p, char *w, size_t cap)
{
	size_t n = 0;

	while (is_alpha(**p)) {
		if (n + 1 < cap)
			w[n++] = **p;
		(*p)++;
	}
	w[n] = '\0';
}

static bool
word_in(const char *w, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

static int64_t
unit_seconds(const char *w)
{
	for (size_t i = 0; units[i].text; i++)
		if (strcmp(w, units[i].text) == 0)
			return units[i].seconds;
	return 0;
}

/* "7d", "7 j", "2 semaines", "pour 3 jours", "1,5 h" (read as 1): the
 * duration after a snooze word, REPLY_SNOOZE_DEFAULT when none is written.
 * A number without a unit counts days. */
static int64_t
parse_duration(const char *p)
{
	char w[16];
	int64_t n = 0, unit;

	p = skip_blanks(p);
	for (int i = 0; i < 2 && is_alpha(*p); i++) {
		const char *q = p;

		take_word(&q, w, sizeof w);
		if (!word_in(w, fillers))
			break;
		p = skip_blanks(*q == '\'' ? q + 1 : q);
	}
	if (!is_digit(*p))
		return REPLY_SNOOZE_DEFAULT;
	while (is_digit(*p) && n < 10000)
		n = n * 10 + (*p++ - '0');
	while (is_digit(*p) || *p == ',' || *p == '.')
		p++;
	p = skip_blanks(p);
	take_word(&p, w, sizeof w);
	unit = w[0] ? unit_seconds(w) : 86400;
	if (n <= 0 || unit == 0)
		return REPLY_SNOOZE_DEFAULT;
	return n * unit;
}

/* A leading "2", "2.", "2)" or "#2": the digest line; 0 when none. */
static int
parse_line_no(const char **pp)
{
	const char *p = *pp;
	int n = 0;

	if (*p == '#')
		p++;
	if (!is_digit(*p))
		return 0;
	while (is_digit(*p) && n <= LINE_NO_MAX)
		n = n * 10 + (*p++ - '0');
	if (n < 1 || n > LINE_NO_MAX)
		return -1;
	/* "2.fait" reads as a line number, "2fait" as nothing. */
	if (*p == '.' || *p == ')' || *p == ':' || *p == '-')
		p++;
	else if (*p != ' ')
		return -1;
	*pp = skip_blanks(p);
	return n;
}

static enum reply_action
action_of(const char *w)
{
	for (size_t i = 0; commands[i].text; i++)
		if (strcmp(w, commands[i].text) == 0)
			return commands[i].action;
	return REPLY_UNKNOWN;
}

/* One folded line into *c; false when it is not a command. */
static bool
parse_line(const char *p, struct reply_cmd *c)
{
	char w[16];

	memset(c, 0, sizeof *c);
	p = skip_blanks(p);
	while (*p == '-' || *p == '*' || *p == '>' || *p == ' ')
		p++;
	c->line = parse_line_no(&p);
	if (c->line < 0)
		return false;
	if (strncmp(p, "c'est ", 6) == 0 || strncmp(p, "c est ", 6) == 0)
		p = skip_blanks(p + 6);
	take_word(&p, w, sizeof w);
	/* "fait", not "faites-moi": the word must end here. */
	if (is_digit(*p) || (c->action = action_of(w)) == REPLY_UNKNOWN)
		return false;
	if (c->action == REPLY_SNOOZE)
		c->seconds = parse_duration(p);
	return true;
}

size_t
reply_cmd_parse(const char *text, struct reply_cmd *out, size_t max)
{
	char line[LINE_MAX_FOLDED];
	size_t n = 0;

	if (max == 0)
		return 0;
	while (text && *text && n < max) {
		text += fold_line(text, line, sizeof line);
		/* Blank lines around and between commands are the mail client's. */
		if (skip_blanks(line)[0] == '\0')
			continue;
		if (!parse_line(line, &out[n]))
			break;
		n++;
	}
	if (n == 0) {
		memset(&out[0], 0, sizeof out[0]);
		n = 1;
	}
	return n;
}

const char *
reply_action_name(enum reply_action a)
{
	switch (a) {
	case REPLY_HELP: return "help";
	case REPLY_DONE: return "done";
	case REPLY_SNOOZE: return "snooze";
	case REPLY_DISMISS: return "dismiss";
	case REPLY_MUTE: return "mute";
	case REPLY_UNKNOWN: break;
	}
	return "unknown";
}
