/* output: JSON writer and UTF-8 aware tables for the merci CLI. */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "timeutil.h"
#include "xalloc.h"

void
json_begin(struct json *j, FILE *f)
{
	memset(j, 0, sizeof *j);
	j->f = f;
}

void
json_end(struct json *j)
{
	fputc('\n', j->f);
}

static void
json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
}

static void
json_open(struct json *j, char c)
{
	json_sep(j);
	fputc(c, j->f);
	if (j->depth < 31)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void
json_close(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_obj_open(struct json *j) { json_open(j, '{'); }
void json_obj_close(struct json *j) { json_close(j, '}'); }
void json_arr_open(struct json *j) { json_open(j, '['); }
void json_arr_close(struct json *j) { json_close(j, ']'); }

static void
json_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void
json_key(struct json *j, const char *key)
{
	json_sep(j);
	json_write_string(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void
json_str(struct json *j, const char *s)
{
	json_sep(j);
	if (s)
		json_write_string(j->f, s);
	else
		fputs("null", j->f);
}

void
json_int(struct json *j, int64_t v)
{
	json_sep(j);
	fprintf(j->f, "%lld", (long long)v);
}

void
json_bool(struct json *j, bool v)
{
	json_sep(j);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j)
{
	json_sep(j);
	fputs("null", j->f);
}

void
json_raw(struct json *j, const char *text)
{
	json_sep(j);
	fputs(text, j->f);
}

void
json_time(struct json *j, int64_t t)
{
	char buf[32];

	if (t == 0)
		json_null(j);
	else
		json_str(j, time_format_iso(t, buf, sizeof buf));
}

void
json_person(struct json *j, const char *key, int64_t id, const char *name)
{
	json_key(j, key);
	if (!id && !name) {
		json_null(j);
		return;
	}
	json_obj_open(j);
	json_key(j, "id");
	if (id)
		json_int(j, id);
	else
		json_null(j);
	json_key(j, "name"); json_str(j, name);
	json_obj_close(j);
}

/* ---- tables ---- */

size_t
utf8_width(const char *s)
{
	mbstate_t st;
	size_t w = 0;
	const char *p = s;

	memset(&st, 0, sizeof st);
	while (*p) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, strlen(p), &st);
		int cw;

		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Not UTF-8 here: count the byte, resynchronise. */
			memset(&st, 0, sizeof st);
			w++;
			p++;
			continue;
		}
		cw = wcwidth(wc);
		w += cw > 0 ? (size_t)cw : 0;
		p += n;
	}
	return w;
}

bool
output_colour(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (nc && *nc)
		return false;
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(fileno(f));
}

const char *
output_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || !localtime_r(&tt, &tm))
		return "-";
	strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

void
table_init(struct table *t, size_t n_cols, const char **headers)
{
	memset(t, 0, sizeof *t);
	t->n_cols = n_cols;
	t->headers = headers;
	t->right = xcalloc(n_cols, sizeof *t->right);
}

void
table_right_align(struct table *t, size_t col)
{
	t->right[col] = true;
}

void
table_add_row(struct table *t, const char *const *cells)
{
	t->cells = xreallocarray_grow(t->cells, &t->cap, (t->n_rows + 1) * t->n_cols,
				      sizeof *t->cells);
	for (size_t c = 0; c < t->n_cols; c++)
		t->cells[t->n_rows * t->n_cols + c] = xstrdup(cells[c] ? cells[c] : "-");
	t->n_rows++;
}

static void
table_cell(FILE *f, const char *s, size_t width, bool right, bool last)
{
	size_t pad = width - utf8_width(s);

	if (right)
		fprintf(f, "%*s%s", (int)pad, "", s);
	else if (last)
		fputs(s, f);
	else
		fprintf(f, "%s%*s", s, (int)pad, "");
}

void
table_print(const struct table *t, FILE *f, bool colour)
{
	size_t *w = xcalloc(t->n_cols, sizeof *w);
	size_t r, c;

	for (c = 0; c < t->n_cols; c++)
		w[c] = utf8_width(t->headers[c]);
	for (r = 0; r < t->n_rows; r++)
		for (c = 0; c < t->n_cols; c++) {
			size_t cw = utf8_width(t->cells[r * t->n_cols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	if (colour)
		fputs("\033[1m", f);
	for (c = 0; c < t->n_cols; c++) {
		table_cell(f, t->headers[c], w[c], t->right[c], c + 1 == t->n_cols);
		fputs(c + 1 == t->n_cols ? "" : "  ", f);
	}
	fputs(colour ? "\033[0m\n" : "\n", f);
	for (r = 0; r < t->n_rows; r++) {
		for (c = 0; c < t->n_cols; c++) {
			table_cell(f, t->cells[r * t->n_cols + c], w[c], t->right[c],
				   c + 1 == t->n_cols);
			fputs(c + 1 == t->n_cols ? "" : "  ", f);
		}
		fputc('\n', f);
	}
	free(w);
}

void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	memset(t, 0, sizeof *t);
}
