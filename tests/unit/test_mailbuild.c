/* test_mailbuild: the nudges merci mails to its owner, as bytes a mail
 * client reads back the same, and that no text taken from mail can turn
 * into an extra header. Decoding goes through libetpan, not through our own
 * code, so an encoder bug cannot hide behind a matching decoder bug. */
#include "unit.h"
#include "mailbuild.h"
#include "buf.h"
#include "xalloc.h"

#include <libetpan/libetpan.h>
#include <stdint.h>
#include <stdlib.h>

#define MAX_FIELDS 32

struct parsed {
	size_t n;
	char *name[MAX_FIELDS];
	char *value[MAX_FIELDS];   /* unfolded: CRLF removed, the WSP kept */
	size_t longest_header;     /* longest header line, CRLF excluded */
	size_t longest;            /* longest line of the whole message */
	const char *body;
	size_t body_len;
	int malformed;             /* a header line that is neither field nor continuation */
};

static void
parsed_free(struct parsed *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->name[i]);
		free(p->value[i]);
	}
	memset(p, 0, sizeof(*p));
}

static size_t
longest_line(const char *s, size_t len)
{
	size_t best = 0, start = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n') {
			size_t l = i - start - (i > start && s[i - 1] == '\r');
			if (l > best)
				best = l;
			start = i + 1;
		}
	return best > len - start ? best : len - start;
}

static void
parse_field_line(struct parsed *p, const char *line, size_t l)
{
	const char *colon = memchr(line, ':', l);

	if (line[0] == ' ' || line[0] == '\t') {
		if (p->n == 0) {
			p->malformed++;
			return;
		}
		char *v = xasprintf("%s%.*s", p->value[p->n - 1], (int)l, line);
		free(p->value[p->n - 1]);
		p->value[p->n - 1] = v;
		return;
	}
	if (!colon || colon == line || p->n == MAX_FIELDS) {
		p->malformed++;
		return;
	}
	p->name[p->n] = xstrndup(line, (size_t)(colon - line));
	p->value[p->n] = xstrndup(colon + 1, l - (size_t)(colon + 1 - line));
	p->n++;
}

/* Splits a rendered message the way a strict reader would. */
static void
parse_message(const char *msg, size_t len, struct parsed *p)
{
	const char *s = msg, *end = msg + len;

	memset(p, 0, sizeof(*p));
	p->longest = longest_line(msg, len);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l;
		if (!nl || nl == s || nl[-1] != '\r') {
			p->malformed++;	/* bare LF, or no line end */
			return;
		}
		l = (size_t)(nl - s) - 1;
		if (l == 0) {
			p->body = nl + 1;
			p->body_len = (size_t)(end - p->body);
			return;
		}
		if (l > p->longest_header)
			p->longest_header = l;
		parse_field_line(p, s, l);
		s = nl + 1;
	}
}

static const char *
field(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcasecmp(p->name[i], name) == 0)
			return p->value[i];
	return NULL;
}

/* Decodes an unstructured value with libetpan's RFC 2047 decoder. */
static char *
decode_words(const char *v)
{
	size_t idx = 0;
	char *res = NULL;

	while (*v == ' ')
		v++;
	if (mailmime_encoded_phrase_parse("utf-8", v, strlen(v), &idx, "utf-8", &res) !=
	    MAILIMF_NO_ERROR)
		return xstrdup("(undecodable)");
	char *copy = xstrdup(res);
	free(res);
	return copy;
}

static char *
decode_qp(const char *body, size_t len, size_t *out_len)
{
	size_t idx = 0, rl = 0;
	char *res = NULL, *copy;

	if (mailmime_part_parse(body, len, &idx, MAILMIME_MECHANISM_QUOTED_PRINTABLE,
	    &res, &rl) != MAILIMF_NO_ERROR) {
		*out_len = 0;
		return xstrdup("");
	}
	copy = xstrndup(res, rl);
	*out_len = rl;
	mailmime_decoded_part_free(res);
	return copy;
}

static struct mail_out
nudge_fr(void)
{
	struct mail_out m = {
		.from_name = "merci",
		.from_addr = "camille@example.org",
		.to_name = "Camille Roy",
		.to_addr = "camille@example.org",
		.subject = "Remercier Amélie Tremblay pour la mise en relation",
		.text = "Bonjour Camille,\n\nAmélie Tremblay vous a présenté Jean Dupont "
		    "le 3 mai.\nUn mot de remerciement ?\n",
		.message_id = "merci.00112233445566778899aabbccddeeff@example.org",
		.date = 1715693400,	/* 2024-05-14 13:30:00 UTC */
		.tz_offset_min = -240,
		.lang = "fr",
		.nudge = "thank-you 42",
	};
	return m;
}

static int
render(const struct mail_out *m, char **out, size_t *len)
{
	char *err = NULL;
	int r = mailbuild_render(m, out, len, &err);

	if (r < 0) {
		fprintf(stderr, "render refused: %s\n", err);
		free(err);
	}
	return r;
}

static void
test_exact_nudge(void)
{
	struct mail_out m = nudge_fr();
	char *out;
	size_t len;
	const char *want =
	    "Date: Tue, 14 May 2024 09:30:00 -0400\r\n"
	    "From: \"merci\" <camille@example.org>\r\n"
	    "To: \"Camille Roy\" <camille@example.org>\r\n"
	    "Subject: =?UTF-8?Q?Remercier_Am=C3=A9lie_Tremblay_pour_la_mise_en_?=\r\n"
	    " =?UTF-8?Q?relation?=\r\n"
	    "Message-ID: <merci.00112233445566778899aabbccddeeff@example.org>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "Content-Language: fr\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "X-Merci-Nudge: thank-you 42\r\n"
	    "\r\n"
	    "Bonjour Camille,\r\n"
	    "\r\n"
	    "Am=C3=A9lie Tremblay vous a pr=C3=A9sent=C3=A9 Jean Dupont le 3 mai.\r\n"
	    "Un mot de remerciement ?\r\n";

	if (render(&m, &out, &len) < 0) {
		CHECK(!"the French nudge renders");
		return;
	}
	/* Line by line, so a failure names the header that differs. */
	const char *g = out, *w = want;
	while (*w) {
		size_t gl = strcspn(g, "\n"), wl = strcspn(w, "\n");
		char *gs = xstrndup(g, gl), *ws = xstrndup(w, wl);
		CHECK_STR(gs, ws);
		free(gs);
		free(ws);
		g += gl + (g[gl] == '\n');
		w += wl + (w[wl] == '\n');
	}
	CHECK_INT(len, strlen(want));
	CHECK_INT(strlen(out), len);
	free(out);
}

static void
test_reply_headers(void)
{
	struct mail_out m = nudge_fr();
	struct parsed p;
	char *out, *subj;
	size_t len;

	m.in_reply_to = "CAF=xyz.123@mail.example.net";
	m.to_name = "Amélie Tremblay";
	if (render(&m, &out, &len) < 0) {
		CHECK(!"a reply renders");
		return;
	}
	parse_message(out, len, &p);
	CHECK_INT(p.malformed, 0);
	CHECK_STR(field(&p, "In-Reply-To"), " <CAF=xyz.123@mail.example.net>");
	CHECK_STR(field(&p, "References"), " <CAF=xyz.123@mail.example.net>");
	/* The encoded name decodes back, address untouched. */
	CHECK_STR(field(&p, "To"), " =?UTF-8?Q?Am=C3=A9lie_Tremblay?= <camille@example.org>");
	subj = decode_words(field(&p, "Subject"));
	CHECK_STR(subj, "Remercier Amélie Tremblay pour la mise en relation");
	CHECK(p.longest_header <= 78);
	free(subj);
	parsed_free(&p);
	free(out);
}

static void
test_encode_words(void)
{
	const char *cases[] = {
		"Remercier Amélie Tremblay pour la mise en relation",
		"Relancer François-Xavier Bélanger-Lévesque à propos du contrat de "
		    "régie « Données & Qualité » — déjà cinq jours",
		"日本語のメールの件名がとても長い場合でもちゃんと分割されるべきです。日本語",
		"emoji 🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉 fin",
		"=?UTF-8?Q?not_an_encoded_word?=",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc = mailbuild_encode_words(cases[i]);
		char *dec = decode_words(enc);
		size_t maxw = 0;
		/* Every encoded word at most 75 chars (RFC 2047 2). */
		for (const char *w = enc; *w;) {
			size_t l = strcspn(w, " ");
			if (l > maxw)
				maxw = l;
			w += l + (w[l] == ' ');
		}
		CHECK(maxw <= 75);
		CHECK(strncmp(enc, "=?UTF-8?", 8) == 0);
		CHECK_STR(dec, cases[i]);
		free(enc);
		free(dec);
	}
	char *plain = mailbuild_encode_words("Relancer Jean Dupont");
	CHECK_STR(plain, "Relancer Jean Dupont");
	free(plain);
}

/* Decodes the body of text rendered as a nudge, CRLF turned back to LF. */
static char *
body_roundtrip(const char *text, size_t *longest)
{
	struct mail_out m = nudge_fr();
	struct parsed p;
	char *out, *dec;
	size_t len, dl;
	struct buf b = { 0 };

	m.text = text;
	if (render(&m, &out, &len) < 0)
		return xstrdup("(refused)");
	parse_message(out, len, &p);
	*longest = longest_line(p.body, p.body_len);
	dec = decode_qp(p.body, p.body_len, &dl);
	for (size_t i = 0; i < dl; i++)
		if (!(dec[i] == '\r' && i + 1 < dl && dec[i + 1] == '\n'))
			buf_addc(&b, dec[i]);
	free(dec);
	parsed_free(&p);
	free(out);
	return buf_steal(&b);
}

static void
test_quoted_printable(void)
{
	struct buf longtext = { 0 };
	const char *cases[] = {
		"Déjà vu, à l'été, garçon, œuvre, naïve.\n",
		"a=b, 2+2=4, =3D stays literal, ==\n",
		"trailing spaces   \nand a tab\t\nend \n",
		".a line starting with a dot\nFrom the start of a line\n",
		"=\n \n\t\n",
		NULL,	/* long lines, below */
	};

	for (int i = 0; i < 200; i++)
		buf_adds(&longtext, "éa=b ");
	buf_adds(&longtext, "\n");
	for (int i = 0; i < 3000; i++)
		buf_addc(&longtext, "x= é"[i % 4]);
	buf_adds(&longtext, "  \nshort\n");
	cases[5] = longtext.data;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t longest = 0;
		char *back = body_roundtrip(cases[i], &longest);
		CHECK_STR(back, cases[i]);
		CHECK(longest <= 76);
		free(back);
	}
	/* No final newline in the text: the body still ends with one. */
	size_t longest;
	char *back = body_roundtrip("sans fin", &longest);
	CHECK_STR(back, "sans fin\n");
	free(back);
	buf_free(&longtext);
}

static void
test_html_alternative(void)
{
	struct mail_out m = nudge_fr();
	struct parsed p;
	char *out, *bd;
	size_t len;

	m.html = "<p>Amélie Tremblay vous a présenté <b>Jean Dupont</b>.</p>\n";
	if (render(&m, &out, &len) < 0) {
		CHECK(!"the html nudge renders");
		return;
	}
	parse_message(out, len, &p);
	const char *ct = field(&p, "Content-Type");
	const char *q = ct ? strstr(ct, "boundary=\"") : NULL;
	CHECK(q != NULL);
	if (!q)
		goto done;
	bd = xstrndup(q + 10, strcspn(q + 10, "\""));
	CHECK(strlen(bd) >= 20);
	CHECK(field(&p, "Content-Transfer-Encoding") == NULL);
	char *open = xasprintf("\r\n--%s\r\n", bd), *close = xasprintf("\r\n--%s--\r\n", bd);
	/* Two parts: the boundary opens twice, closes once, at the end. */
	const char *first = strstr(out, open);
	CHECK(first != NULL && strstr(first + 1, open) != NULL);
	CHECK(len > strlen(close) && strcmp(out + len - strlen(close), close) == 0);
	CHECK(strstr(out, "Content-Type: text/plain; charset=utf-8\r\n") != NULL);
	CHECK(strstr(out, "Content-Type: text/html; charset=utf-8\r\n") != NULL);
	CHECK(strstr(out, "pr=C3=A9sent=C3=A9 <b>Jean Dupont</b>") != NULL);
	CHECK(p.longest_header <= 78);
	free(open);
	free(close);
	free(bd);
done:
	parsed_free(&p);
	free(out);
}

static int
refused(struct mail_out m, const char *why_part)
{
	char *out = NULL, *err = NULL;
	size_t len;
	int r = mailbuild_render(&m, &out, &len, &err);
	int ok = r == -1 && out == NULL && err && strstr(err, why_part) && !strchr(err, '\n');

	if (!ok)
		fprintf(stderr, "  expected a refusal naming \"%s\", got r=%d err=%s\n",
		    why_part, r, err ? err : "(none)");
	free(out);
	free(err);
	return ok;
}

static void
test_refusals(void)
{
	struct mail_out m;

	m = nudge_fr(); m.subject = "Merci\r\nBcc: everyone@example.net";
	CHECK(refused(m, "subject"));
	m = nudge_fr(); m.subject = "Merci\nBcc: everyone@example.net";
	CHECK(refused(m, "subject"));
	m = nudge_fr(); m.subject = "Merci\rX";
	CHECK(refused(m, "subject"));
	m = nudge_fr(); m.subject = "tab\there";
	CHECK(refused(m, "subject"));
	m = nudge_fr(); m.subject = "line\xe2\x80\xa8separator";
	CHECK(refused(m, "subject"));
	m = nudge_fr(); m.subject = "next\xc2\x85line";
	CHECK(refused(m, "subject"));
	m = nudge_fr(); m.subject = "latin1 \xe9t\xe9";
	CHECK(refused(m, "UTF-8"));
	m = nudge_fr(); m.to_name = "Amélie\r\nBcc: x@example.net";
	CHECK(refused(m, "to_name"));
	m = nudge_fr(); m.from_name = "merci\n";
	CHECK(refused(m, "from_name"));
	m = nudge_fr(); m.nudge = "thank-you\r\n42";
	CHECK(refused(m, "nudge"));
	m = nudge_fr(); m.to_addr = "camille@example.org\r\nBcc: x@example.net";
	CHECK(refused(m, "to_addr"));
	m = nudge_fr(); m.to_addr = "camille@example.org>, <x@example.net";
	CHECK(refused(m, "to_addr"));
	/* A NUL ends the C string: what is left is no address at all. */
	m = nudge_fr(); m.to_addr = "camille\0@example.org";
	CHECK(refused(m, "to_addr"));
	m = nudge_fr(); m.from_addr = "owner";
	CHECK(refused(m, "from_addr"));
	m = nudge_fr(); m.in_reply_to = "a@b>\r\nBcc: <x@y";
	CHECK(refused(m, "in_reply_to"));
	m = nudge_fr(); m.message_id = "with space@example.org";
	CHECK(refused(m, "message_id"));
	m = nudge_fr(); m.message_id = NULL;
	CHECK(refused(m, "message_id"));
	m = nudge_fr(); m.lang = "fr\r\nX: y";
	CHECK(refused(m, "lang"));
}

static void
test_sanitise(void)
{
	char *s;

	s = mailbuild_sanitise("Merci\r\nBcc: x@example.net", 100);
	CHECK_STR(s, "Merci Bcc: x@example.net");
	free(s);
	s = mailbuild_sanitise("  a\t\t b\x01\x7f" "c  ", 100);
	CHECK_STR(s, "a b c");
	free(s);
	s = mailbuild_sanitise("un\xe2\x80\xa8" "deux\xe2\x80\xa9trois\xc2\x85quatre", 100);
	CHECK_STR(s, "un deux trois quatre");
	free(s);
	s = mailbuild_sanitise("nul\0hidden", 100);
	CHECK_STR(s, "nul");
	free(s);
	s = mailbuild_sanitise("caf\xe9", 100);
	CHECK_STR(s, "caf\xef\xbf\xbd");
	free(s);
	/* Cut on a character boundary: é is two bytes, 5 bytes hold two. */
	s = mailbuild_sanitise("ééé", 5);
	CHECK_STR(s, "éé");
	free(s);
	s = mailbuild_sanitise("abc", 0);
	CHECK_STR(s, "");
	free(s);
	s = mailbuild_sanitise(NULL, 10);
	CHECK_STR(s, "");
	free(s);
}

static void
test_message_id(void)
{
	char *a = mailbuild_message_id("camille@example.org");
	char *b = mailbuild_message_id("camille@example.org");

	CHECK_INT(strlen(a), strlen("merci.") + 32 + strlen("@example.org"));
	CHECK(strncmp(a, "merci.", 6) == 0);
	CHECK(strspn(a + 6, "0123456789abcdef") == 32);
	CHECK_STR(a + 38, "@example.org");
	CHECK(strcmp(a, b) != 0);
	free(a);
	free(b);
}

/* ---- hostile strings ---- */

static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
hostile_piece(struct buf *b, uint64_t *rng)
{
	static const char *pieces[] = {
		"\r", "\n", "\r\n", "\r\nBcc: evil@example.net\r\n", "\xe2\x80\xa8",
		"\xe2\x80\xa9", "\xc2\x85", "\t", " ", "   ", "é", "日本", "🎉", "=?",
		"?=", "=?UTF-8?Q?x?=", "\"", "\\", "<", ">", ",", ":", "\x1b[31m", "\xff",
		"\xc3", "Subject: x", "From ", ".",
	};
	uint64_t r = rng_next(rng);

	if (r % 50 == 0) {
		/* A 2 KB run, ASCII or accented. */
		const char *c = (r >> 8) % 2 ? "a" : "é";
		for (size_t n = 0; n < 2048; n += strlen(c))
			buf_adds(b, c);
	} else if (r % 7 == 0)
		buf_addc(b, (char)(0x20 + (r >> 8) % 95));
	else if (r % 13 == 0)
		buf_addc(b, '\0');	/* the string ends here for C */
	else
		buf_adds(b, pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))]);
}

static void
test_hostile_strings(void)
{
	static const char *expected[] = {
		"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
		"Content-Transfer-Encoding", "Content-Language", "Auto-Submitted",
		"X-Auto-Response-Suppress", "X-Merci-Nudge",
	};
	const size_t n_exp = sizeof(expected) / sizeof(expected[0]);
	uint64_t rng = 0x6d65726369ULL;	/* fixed seed: failures reproduce */
	int refusals = 0, extra = 0, too_long = 0, folds = 0, mismatch = 0;

	for (int iter = 0; iter < 10000; iter++) {
		struct buf raw_s = { 0 }, raw_n = { 0 };
		int pieces = (int)(rng_next(&rng) % 40);
		for (int k = 0; k < pieces; k++) {
			hostile_piece(&raw_s, &rng);
			hostile_piece(&raw_n, &rng);
		}
		buf_addc(&raw_s, '\0');	/* buf may be empty */
		buf_addc(&raw_n, '\0');
		char *subj = mailbuild_sanitise(raw_s.data, iter % 2 ? 998 : 300);
		char *name = mailbuild_sanitise(raw_n.data, 200);
		struct mail_out m = nudge_fr();
		char *out = NULL, *err = NULL, *dec;
		size_t len;
		struct parsed p;

		m.subject = subj;
		m.to_name = name;
		if (mailbuild_render(&m, &out, &len, &err) < 0) {
			if (refusals++ == 0)
				fprintf(stderr, "  iteration %d refused: %s\n", iter, err);
			goto next;
		}
		parse_message(out, len, &p);
		int same = p.n == n_exp && p.malformed == 0;
		for (size_t i = 0; same && i < n_exp; i++)
			same = strcmp(p.name[i], expected[i]) == 0;
		if (!same && extra++ == 0)
			fprintf(stderr, "  iteration %d: unexpected header block:\n%.*s\n", iter,
			    (int)(p.body ? (size_t)(p.body - out) : len), out);
		too_long += p.longest > 998;
		folds += p.longest_header > 78;
		dec = decode_words(field(&p, "Subject") ? field(&p, "Subject") : "");
		if (strcmp(dec, subj) != 0 && mismatch++ == 0)
			fprintf(stderr, "  iteration %d: subject decodes to \"%s\", want \"%s\"\n",
			    iter, dec, subj);
		free(dec);
		parsed_free(&p);
next:
		free(err);
		free(out);
		free(subj);
		free(name);
		buf_free(&raw_s);
		buf_free(&raw_n);
	}
	CHECK_INT(refusals, 0);
	CHECK_INT(extra, 0);
	CHECK_INT(too_long, 0);
	CHECK_INT(folds, 0);
	CHECK_INT(mismatch, 0);
}

int
main(void)
{
	test_exact_nudge();
	test_reply_headers();
	test_encode_words();
	test_quoted_printable();
	test_html_alternative();
	test_refusals();
	test_sanitise();
	test_message_id();
	test_hostile_strings();
	return UNIT_DONE();
}
