/* imap_body: picks the text part of a message from its BODYSTRUCTURE and
 * builds the partial fetch for it. The structure comes from the server, so
 * every pointer is checked and the walk is bounded in depth. */
#include <libetpan/libetpan.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_body.h"

/* Real mail nests three or four levels; a server sending more is not worth
 * following (and must not exhaust the stack). */
#define BODY_MAX_DEPTH 8

static const char *
body_encoding(const struct mailimap_body_fld_enc *e)
{
	if (e == NULL)
		return NULL;
	switch (e->enc_type) {
	case MAILIMAP_BODY_FLD_ENC_8BIT: return "8bit";
	case MAILIMAP_BODY_FLD_ENC_BINARY: return "binary";
	case MAILIMAP_BODY_FLD_ENC_BASE64: return "base64";
	case MAILIMAP_BODY_FLD_ENC_QUOTED_PRINTABLE: return "quoted-printable";
	case MAILIMAP_BODY_FLD_ENC_OTHER:
		/* body_text_clean knows only the standard names; "x-uuencode"
		 * and friends are read as 7bit, which is what they look like. */
		if (e->enc_value && strcasecmp(e->enc_value, "base64") == 0)
			return "base64";
		if (e->enc_value && strcasecmp(e->enc_value, "quoted-printable") == 0)
			return "quoted-printable";
		return NULL;
	default: return NULL;
	}
}

static void
body_charset(const struct mailimap_body_fields *f, char *out, size_t size)
{
	clistiter *it;

	out[0] = '\0';
	if (f->bd_parameter == NULL)
		return;
	for (it = clist_begin(f->bd_parameter->pa_list); it; it = clist_next(it)) {
		const struct mailimap_single_body_fld_param *p = clist_content(it);

		if (p && p->pa_name && p->pa_value && strcasecmp(p->pa_name, "charset") == 0) {
			if (strlen(p->pa_value) < size)
				strcpy(out, p->pa_value);
			return;
		}
	}
}

static bool
body_is_attachment(const struct mailimap_body_type_1part *one)
{
	const struct mailimap_body_fld_dsp *d =
		one->bd_ext_1part ? one->bd_ext_1part->bd_disposition : NULL;

	return d && d->dsp_type && strcasecmp(d->dsp_type, "attachment") == 0;
}

/* Is this leaf the text we look for? */
static bool
body_leaf_matches(const struct mailimap_body_type_1part *one, bool html)
{
	const struct mailimap_body_type_text *t;

	if (one->bd_type != MAILIMAP_BODY_TYPE_1PART_TEXT ||
	    (t = one->bd_data.bd_type_text) == NULL || t->bd_media_text == NULL ||
	    t->bd_fields == NULL || body_is_attachment(one))
		return false;
	return strcasecmp(t->bd_media_text, html ? "html" : "plain") == 0;
}

static int
body_walk(const struct mailimap_body *b, const char *path, int depth, bool html,
	  struct imap_body_part *out)
{
	const struct mailimap_body_type_text *t;
	char sub[IMAP_BODY_SECTION_MAX];
	clistiter *it;
	int i = 1, n;

	if (b == NULL || depth > BODY_MAX_DEPTH)
		return -1;
	if (b->bd_type == MAILIMAP_BODY_1PART) {
		if (b->bd_data.bd_body_1part == NULL ||
		    !body_leaf_matches(b->bd_data.bd_body_1part, html))
			return -1;
		t = b->bd_data.bd_body_1part->bd_data.bd_type_text;
		/* A message that is not multipart has just part 1 (RFC 3501 6.4.5). */
		snprintf(out->section, sizeof(out->section), "%s", *path ? path : "1");
		out->encoding = body_encoding(t->bd_fields->bd_encoding);
		body_charset(t->bd_fields, out->charset, sizeof(out->charset));
		out->html = html;
		return 0;
	}
	if (b->bd_type != MAILIMAP_BODY_MPART || b->bd_data.bd_body_mpart == NULL)
		return -1;
	for (it = clist_begin(b->bd_data.bd_body_mpart->bd_list); it; it = clist_next(it), i++) {
		n = snprintf(sub, sizeof(sub), *path ? "%s.%d" : "%s%d", path, i);
		if (n < 0 || (size_t)n >= sizeof(sub))
			return -1;
		if (body_walk(clist_content(it), sub, depth + 1, html, out) == 0)
			return 0;
	}
	return -1;
}

int
imap_body_pick(const struct mailimap_body *bs, struct imap_body_part *part)
{
	memset(part, 0, sizeof(*part));
	if (body_walk(bs, "", 0, false, part) == 0 || body_walk(bs, "", 0, true, part) == 0)
		return 0;
	memset(part, 0, sizeof(*part));
	return -1;
}

struct mailimap_fetch_att *
imap_body_fetch_att(const char *section, unsigned max)
{
	clist *ids = clist_new();
	clistiter *it;
	const char *p = section;
	char *end;

	if (ids == NULL)
		return NULL;
	while (*p) {
		unsigned long v = strtoul(p, &end, 10);
		uint32_t *id;

		if (end == p || v == 0 || v > UINT32_MAX || (*end != '.' && *end != '\0') ||
		    (id = malloc(sizeof(*id))) == NULL)
			goto fail;
		*id = (uint32_t)v;
		if (clist_append(ids, id) < 0) {
			free(id);
			goto fail;
		}
		p = *end ? end + 1 : end;
	}
	if (clist_isempty(ids))
		goto fail;
	return mailimap_fetch_att_new_body_peek_section_partial(
		mailimap_section_new_part(mailimap_section_part_new(ids)), 0, max);
fail:
	for (it = clist_begin(ids); it; it = clist_next(it))
		free(clist_content(it));
	clist_free(ids);
	return NULL;
}
