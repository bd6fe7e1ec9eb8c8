/* output: how merci prints. JSON with a stable schema (--json), and aligned
 * human tables that measure UTF-8 text by display width, with colour only on
 * a terminal and never when NO_COLOR is set. */
#ifndef MERCI_OUTPUT_H
#define MERCI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- JSON: a tiny streaming writer that handles commas and escaping ---- */
struct json {
	FILE *f;
	int depth;
	bool need_comma[32];
	bool after_key;
};

void json_begin(struct json *j, FILE *f);
void json_end(struct json *j);            /* final newline */
void json_obj_open(struct json *j);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j);
void json_arr_close(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);     /* NULL prints null */
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* A value that is already JSON (from a trusted producer: our own daemon). */
void json_raw(struct json *j, const char *text);
void json_time(struct json *j, int64_t t);        /* ISO 8601 UTC, 0 prints null */
/* key: {"id": N|null, "name": "..."}, or null when both are unknown. */
void json_person(struct json *j, const char *key, int64_t id, const char *name);

/* ---- tables ---- */
struct table {
	size_t n_cols;
	const char **headers;
	char **cells;          /* row-major, owned */
	size_t n_rows, cap;
	bool *right;           /* right-align column */
};

void table_init(struct table *t, size_t n_cols, const char **headers);
void table_right_align(struct table *t, size_t col);
/* Adds a row of n_cols cells; each cell is copied (NULL prints "-"). */
void table_add_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f, bool colour);
void table_free(struct table *t);

/* Display width of UTF-8 text in terminal columns. */
size_t utf8_width(const char *s);
/* True when colour may be used on f. */
bool output_colour(FILE *f);
/* A short human date: "2026-09-20", or "-" for 0. Uses buf. */
const char *output_date(int64_t t, char *buf, size_t len);

#endif
