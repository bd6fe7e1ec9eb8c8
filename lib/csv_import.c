/* csv_import: Outlook and Google Contacts CSV exports as cards
 * (csv_import.h). Columns are found by their header, never by position:
 * both programs change the column set between versions and languages. */
#include "csv_import.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xalloc.h"

enum csv_role { ROLE_NONE, ROLE_FIRST, ROLE_MIDDLE, ROLE_LAST, ROLE_FULL, ROLE_EMAIL, ROLE_TAGS };

struct csv_header_name {
	const char *name;
	enum csv_role role;
};

/* Outlook (English, French), Google old ("Given Name") and new layouts.
 * E-mail columns of Google ("E-mail 1 - Value") are matched by pattern. */
static const struct csv_header_name header_names[] = {
	{ "First Name", ROLE_FIRST }, { "Prénom", ROLE_FIRST }, { "Given Name", ROLE_FIRST },
	{ "Middle Name", ROLE_MIDDLE }, { "Deuxième prénom", ROLE_MIDDLE },
	{ "Additional Name", ROLE_MIDDLE },
	{ "Last Name", ROLE_LAST }, { "Nom", ROLE_LAST }, { "Family Name", ROLE_LAST },
	{ "Name", ROLE_FULL },
	{ "E-mail Address", ROLE_EMAIL }, { "E-mail 2 Address", ROLE_EMAIL },
	{ "E-mail 3 Address", ROLE_EMAIL },
	{ "Adresse de messagerie", ROLE_EMAIL }, { "Adresse de messagerie 2", ROLE_EMAIL },
	{ "Adresse de messagerie 3", ROLE_EMAIL },
	{ "Categories", ROLE_TAGS }, { "Catégories", ROLE_TAGS },
	{ "Group Membership", ROLE_TAGS }, { "Labels", ROLE_TAGS },
};

struct csv_reader {
	const char *p, *end;
	char sep;
	unsigned lineno;         /* current physical line, from 1 */
};

struct csv_row {
	char **fields;
	size_t n, cap;
	unsigned line;           /* where the row starts */
	bool unterminated;       /* a quoted field ran to the end of the file */
};

static void
row_clear(struct csv_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->fields[i]);
	r->n = 0;
	r->unterminated = false;
}

/* A quoted field from just after its opening quote; what follows the
 * closing quote up to the separator is kept too (Excel writes such fields). */
static void
csv_quoted(struct csv_reader *r, struct buf *b, bool *unterminated)
{
	for (;;) {
		if (r->p >= r->end) {
			*unterminated = true;
			return;
		}
		if (*r->p == '"' && r->p + 1 < r->end && r->p[1] == '"') {
			buf_addc(b, '"');
			r->p += 2;
		} else if (*r->p == '"') {
			r->p++;
			return;
		} else {
			if (*r->p == '\n')
				r->lineno++;
			buf_addc(b, *r->p++);
		}
	}
}

/* One field; true when the row goes on after it. */
static bool
csv_field(struct csv_reader *r, struct csv_row *row)
{
	struct buf b = { 0 };
	bool more = false;

	if (r->p < r->end && *r->p == '"') {
		r->p++;
		csv_quoted(r, &b, &row->unterminated);
	}
	while (r->p < r->end && *r->p != r->sep && *r->p != '\n')
		buf_addc(&b, *r->p++);
	if (b.len && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	if (r->p < r->end) {
		more = *r->p == r->sep;
		if (*r->p++ == '\n')
			r->lineno++;
	}
	row->fields = xreallocarray_grow(row->fields, &row->cap, row->n + 1, sizeof *row->fields);
	row->fields[row->n++] = buf_steal(&b);
	return more;
}

/* The next row into row; false at the end of data. */
static bool
csv_row_read(struct csv_reader *r, struct csv_row *row)
{
	row_clear(row);
	if (r->p >= r->end)
		return false;
	row->line = r->lineno;
	while (csv_field(r, row))
		;
	return true;
}

/* The separator the header row uses most: ',' ';' or tab. */
static char
csv_separator(const char *p, const char *end)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool quoted = false;

	for (; p < end && (quoted || *p != '\n'); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			comma++;
		else if (!quoted && *p == ';')
			semi++;
		else if (!quoted && *p == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	return tab > comma ? '\t' : ',';
}

static enum csv_role
header_role(const char *h, bool *google)
{
	char *t = xstrdup(h);
	size_t n = strlen(t);
	enum csv_role role = ROLE_NONE;
	int k, used = 0;

	while (n && isspace((unsigned char)t[n - 1]))
		t[--n] = '\0';
	for (size_t i = 0; i < sizeof header_names / sizeof header_names[0]; i++)
		if (strcasecmp(t + strspn(t, " "), header_names[i].name) == 0)
			role = header_names[i].role;
	if (sscanf(t, "E-mail %d - Value%n", &k, &used) == 1 && used == (int)n) {
		role = ROLE_EMAIL;
		*google = true;
	}
	free(t);
	return role;
}

struct csv_layout {
	enum csv_format format;
	enum csv_role *roles;
	size_t n;
};

/* Roles of the header's columns, and which export it is. */
static void
csv_layout_read(const struct csv_row *header, struct csv_layout *lay)
{
	bool google = false, email = false;

	lay->n = header->n;
	lay->roles = xcalloc(header->n ? header->n : 1, sizeof *lay->roles);
	for (size_t i = 0; i < header->n; i++) {
		lay->roles[i] = header_role(header->fields[i], &google);
		email |= lay->roles[i] == ROLE_EMAIL;
	}
	lay->format = !email ? CSV_UNKNOWN : google ? CSV_GOOGLE : CSV_OUTLOOK;
}

/* Google joins several values of one column with " ::: "; Outlook joins
 * categories with ';'. Calls add for each trimmed, non-empty piece. */
static void
csv_each_value(const char *field, bool tags, struct card *c, struct card_list *l,
	       unsigned line)
{
	char *copy = xstrdup(field), *p = copy, *next, *t;

	for (; p; p = next) {
		size_t skip = 3;

		next = strstr(p, ":::");
		if (tags) {
			char *semi = strchr(p, ';');

			if (semi && (!next || semi < next))
				next = semi, skip = 1;
		}
		if (next)
			*next = '\0', next += skip;
		t = p + strspn(p, " \t\r\n");
		/* "* myContacts", "* starred": Google's own groups, not tags. */
		if (!*t || (tags && *t == '*'))
			continue;
		if (tags)
			card_add_tag(c, t);
		else if (!card_add_email(c, t, false))
			card_list_problem(l, line, false, "\"%s\" is not an e-mail address; ignored", t);
	}
	free(copy);
}

static void
name_add(struct buf *b, const char *part)
{
	const char *e;

	part += strspn(part, " \t");
	e = part + strlen(part);
	while (e > part && isspace((unsigned char)e[-1]))
		e--;
	if (e == part)
		return;
	if (b->len)
		buf_addc(b, ' ');
	buf_add(b, part, (size_t)(e - part));
}

/* The name: Google's "Name" when given, else first, middle and last. */
static char *
csv_row_name(const struct csv_layout *lay, const struct csv_row *row)
{
	static const enum csv_role order[] = { ROLE_FULL, ROLE_FIRST, ROLE_MIDDLE, ROLE_LAST };
	struct buf b = { 0 };

	for (size_t k = 0; k < 4; k++) {
		for (size_t i = 0; i < row->n && i < lay->n; i++)
			if (lay->roles[i] == order[k])
				name_add(&b, row->fields[i]);
		if (k == 0 && b.len)
			break;
	}
	return b.len ? buf_steal(&b) : NULL;
}

static void
csv_row_card(const struct csv_layout *lay, const struct csv_row *row, struct card_list *l)
{
	struct card c = { .line = row->line };

	if (row->unterminated) {
		card_list_problem(l, row->line, true,
				  "quoted field never closed: the rest of the file is skipped");
		return;
	}
	if (row->n > lay->n) {
		card_list_problem(l, row->line, true, "row has %zu fields, the header has %zu; skipped",
				  row->n, lay->n);
		return;
	}
	c.name = csv_row_name(lay, row);
	for (size_t i = 0; i < row->n; i++)
		if (lay->roles[i] == ROLE_EMAIL || lay->roles[i] == ROLE_TAGS)
			csv_each_value(row->fields[i], lay->roles[i] == ROLE_TAGS, &c, l, row->line);
	card_list_take(l, &c, "row");
}

static bool
row_blank(const struct csv_row *row)
{
	for (size_t i = 0; i < row->n; i++)
		if (row->fields[i][strspn(row->fields[i], " \t")])
			return false;
	return true;
}

/* data as UTF-8 without its byte order mark; *copy is what to free. The
 * encoding is decided on the whole file, so that a header that is valid
 * UTF-8 is still read as Windows-1252 when a later byte is not UTF-8. */
static const char *
csv_text(const char *data, size_t *len, char **copy)
{
	*copy = NULL;
	if (*len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		*len -= 3;
	}
	if (!card_utf8_valid(data, *len))
		data = *copy = card_cp1252_to_utf8(data, *len, len);
	return data;
}

/* The one reading of the header, shared by csv_detect and csv_parse so
 * they cannot disagree: the text decoded as a whole, its separator, and
 * the first row read by the row reader (a quoted header field may span
 * lines). On return r stands on the first data row; *copy is what to free. */
static void
csv_header_read(const char *data, size_t len, struct csv_reader *r, struct csv_layout *lay,
		char **copy)
{
	const char *text = csv_text(data, &len, copy);
	struct csv_row row = { 0 };

	*r = (struct csv_reader){ text, text + len, csv_separator(text, text + len), 1 };
	*lay = (struct csv_layout){ CSV_UNKNOWN, NULL, 0 };
	if (csv_row_read(r, &row))
		csv_layout_read(&row, lay);
	row_clear(&row);
	free(row.fields);
}

enum csv_format
csv_parse(const char *data, size_t len, struct card_list *out)
{
	struct csv_reader r;
	struct csv_row row = { 0 };
	struct csv_layout lay;
	char *copy;

	csv_header_read(data, len, &r, &lay, &copy);
	while (lay.format != CSV_UNKNOWN && csv_row_read(&r, &row))
		if (!row_blank(&row))
			csv_row_card(&lay, &row, out);
	row_clear(&row);
	free(row.fields);
	free(lay.roles);
	free(copy);
	return lay.format;
}

enum csv_format
csv_detect(const char *data, size_t len)
{
	struct csv_reader r;
	struct csv_layout lay;
	char *copy;

	/* Decoding a Windows-1252 file whole costs a copy; reading the header
	 * any other way than csv_parse does would answer differently. */
	csv_header_read(data, len, &r, &lay, &copy);
	free(lay.roles);
	free(copy);
	return lay.format;
}

const char *
csv_format_name(enum csv_format f)
{
	return f == CSV_OUTLOOK ? "Outlook CSV" : f == CSV_GOOGLE ? "Google CSV" : "unknown CSV";
}
