/* test_body: what merci keeps of a message body: decoded, in UTF-8, as
 * text, without the quoted conversation and the signature, bounded. */
#include "unit.h"
#include "body.h"

#include <stdbool.h>
#include <stdlib.h>

/* Strict UTF-8 with '\n' as the only control character. */
static bool
valid_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;
		if (n == 0 || *p > 0xf4)
			return false;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

static char *
clean(const char *raw, const char *enc, const char *cs, bool html)
{
	return body_text_clean(raw, strlen(raw), enc, cs, html, BODY_TEXT_MAX);
}

#define CHECK_CLEAN(raw, enc, cs, html, want) do { \
	char *got_ = clean(raw, enc, cs, html); \
	CHECK_STR(got_, want); \
	CHECK(valid_text(got_)); \
	free(got_); \
} while (0)

#define CHECK_STRIP(text, want) do { \
	char *got_ = body_strip_quotes(text); \
	CHECK_STR(got_, want); \
	free(got_); \
} while (0)

/* "Bonjour Amélie, je vous présente Julie. Ça vous va ?" and more. */
static const char b64[] =
    "Qm9uam91ciBBbcOpbGllLApqZSB2b3VzIHByw6lzZW50ZSBKdWxpZS4gw4dhIHZvdXMgdmEgPwpN\r\n"
    "ZXJjaSDDoCB2b3VzIOKAlCDDoCBiaWVudMO0dCDigJk=\r\n";
static const char b64_text[] =
    "Bonjour Amélie,\nje vous présente Julie. Ça vous va ?\nMerci à vous — à bientôt ’";

static const char qp[] =
    "Bonjour Am=C3=A9lie,\r\nje vous pr=C3=A9sente Julie. =C3=87a vous va ?\r\nMerci =\r\n"
    "=C3=A0 vous =E2=80=94 =C3=A0 bient=C3=B4t =E2=80=99";

/* A prefix cut anywhere in its last 8 bytes decodes to a prefix of the
 * whole text, valid UTF-8, without failing. */
static void
test_cut_prefixes(const char *raw, const char *enc, const char *whole)
{
	size_t len = strlen(raw), cut;
	char *got;

	for (cut = len - 8; cut <= len; cut++) {
		got = body_text_clean(raw, cut, enc, "utf-8", false, BODY_TEXT_MAX);
		CHECK(valid_text(got));
		CHECK(strlen(got) > 40 && strncmp(got, whole, strlen(got)) == 0);
		free(got);
	}
}

static void
test_decoding(void)
{
	CHECK_CLEAN(b64, "base64", "utf-8", false, b64_text);
	CHECK_CLEAN(b64, "BASE64", "UTF-8", false, b64_text);
	CHECK_CLEAN(qp, "quoted-printable", "utf-8", false, b64_text);
	test_cut_prefixes(b64, "base64", b64_text);
	test_cut_prefixes(qp, "quoted-printable", b64_text);
	/* Latin-1 and its Windows superset, with Word's quotes. */
	CHECK_CLEAN("Caf\xe9 cr\xe8me, \xe0 bient\xf4t", "8bit", "iso-8859-1", false,
	    "Café crème, à bientôt");
	CHECK_CLEAN("l\x92id\xe9" "e \x93top\x94 \x85", "8bit", "windows-1252", false,
	    "l’idée “top” …");
	CHECK_CLEAN("l=92id=E9e =93top=94", "quoted-printable", "ISO-8859-1", false,
	    "l’idée “top”");
	/* iconv through libetpan for the rest: the euro of Latin-9. */
	CHECK_CLEAN("Tarif : 500 \xa4 par jour", NULL, "iso-8859-15", false,
	    "Tarif : 500 € par jour");
	/* Raw 8-bit without a charset: UTF-8 when it is, windows-1252 if not. */
	CHECK_CLEAN("Fran\xe7ois a r\xe9pondu", NULL, NULL, false, "François a répondu");
	CHECK_CLEAN("François a répondu", NULL, NULL, false, "François a répondu");
	CHECK_CLEAN("Fran\xe7ois", "8bit", "x-unknown-charset", false, "François");
	/* A UTF-8 sequence cut by the prefix is dropped, not turned into Ã. */
	CHECK_CLEAN("Merci Am\xc3", "8bit", "utf-8", false, "Merci Am");
	CHECK_CLEAN("Voil\xe2\x80", "8bit", NULL, false, "Voil");
	/* Only '\n' survives among control characters. */
	CHECK_CLEAN("a\x01" "b\tc\r\nd\re\x7f", NULL, NULL, false, "ab c\nd\ne");
	CHECK_CLEAN("", "base64", NULL, false, "");
	CHECK_CLEAN("!!!!", "base64", NULL, false, "");
	{
		char *e = body_text_clean(NULL, 0, NULL, NULL, false, 100);
		CHECK_STR(e, "");
		free(e);
	}
}

static void
test_html(void)
{
	CHECK_CLEAN("<html><head><title>x</title><style>p{color:red}</style></head><body>"
	    "<p>Bonjour&nbsp;Camille,</p><div>Je te pr&eacute;sente Julie &amp; Marc &#8212; "
	    "l&#x2019;id&eacute;e &lt;ok&gt; &quot;top&quot; &#39;a&#39;</div>"
	    "<script>alert(1)</script>Fin<br>ligne<blockquote>Merci</blockquote></body></html>",
	    NULL, "utf-8", true,
	    "Bonjour Camille,\nJe te présente Julie & Marc — l’idée <ok> \"top\" 'a'\nFin\nligne");
	CHECK_CLEAN("<div dir=\"ltr\">Parfait, merci !</div><br><div class=\"gmail_quote\">"
	    "<div class=\"gmail_attr\">Le lun. 7 sept. 2026, Julie a écrit :</div>"
	    "<div>Peux-tu ?</div></div>", NULL, "utf-8", true, "Parfait, merci !");
	CHECK_CLEAN("<p>OK pour moi.</p><hr><div id=\"divRplyFwdMsg\"><b>De :</b> Julie</div>"
	    "<div>Question ?</div>", NULL, "utf-8", true, "OK pour moi.");
	CHECK_CLEAN("<div>Vu.</div><div id=\"appendonsend\"></div><div>Ancien</div>",
	    NULL, "utf-8", true, "Vu.");
	CHECK_CLEAN("<p>2 &lt; 3 &unknown; a < b &#0; &#1;</p>", NULL, "utf-8", true,
	    "2 < 3 &unknown; a < b");
	/* HTML in Latin-1, QP-encoded, cut inside a tag. */
	CHECK_CLEAN("<p>Caf=E9 cr=E8me</p><p>suite</p><a href=3D\"x", "quoted-printable",
	    "iso-8859-1", true, "Café crème\nsuite");
	CHECK_CLEAN("<!-- commentaire --><p>Texte</p><!-- coupé", NULL, NULL, true, "Texte");
}

static void
test_quotes(void)
{
	CHECK_STRIP("Oui.\n> Tu viens ?\n>> Ancien", "Oui.");
	CHECK_STRIP("D'accord pour jeudi.\n\nLe 7 sept. 2026 à 10:00, Julie Martin "
	    "<julie@martin.ca> a écrit :\nMerci pour tout", "D'accord pour jeudi.");
	CHECK_STRIP("D'accord.\nLe lun. 7 sept. 2026 à 10:00, Julie Martin <julie@martin.ca> a\n"
	    "écrit :\n\n> Merci", "D'accord.");
	CHECK_STRIP("D'accord.\nLe lun. 7 sept. 2026 à 10:00, X <x@y.fr> a écrit :\nMerci !",
	    "D'accord.");
	CHECK_STRIP("Sure.\n\nOn Mon, Sep 7, 2026 at 10:00 AM Tom Lee <tom@studio.com> wrote:\n"
	    "Thanks!", "Sure.");
	CHECK_STRIP("Sure.\nOn Mon, Sep 7, 2026 at 10:00 AM Tom Lee <tom@studio.com>\nwrote:\n"
	    "> Thanks!", "Sure.");
	/* Bottom-posted reply: the quote goes, the answer under it stays. */
	CHECK_STRIP("Le 7 sept. 2026, Julie a écrit :\n> Tu es libre ?\n\nOui, jeudi.",
	    "Oui, jeudi.");
	CHECK_STRIP("Voici.\n-----Original Message-----\nFrom: a", "Voici.");
	CHECK_STRIP("Voici.\n----- Message d'origine -----\nDe : a", "Voici.");
	CHECK_STRIP("Pour info.\n-------- Message transféré --------\nSujet : x", "Pour info.");
	CHECK_STRIP("FYI\n---------- Forwarded message ---------\nFrom: a", "FYI");
	CHECK_STRIP("Bien reçu.\n\nDe : Julie Martin <julie@martin.ca>\nEnvoyé : lundi 7 "
	    "septembre 2026 10:00\nÀ : Camille Roy\nObjet : Devis\n\nMerci !", "Bien reçu.");
	CHECK_STRIP("Got it.\n________________________________\nFrom: Tom Lee\nSent: Monday\n"
	    "To: Camille\nSubject: Quote\n\nThanks", "Got it.");
	CHECK_STRIP("Got it.\n*From:* Tom Lee\n*Sent:* Monday\n*To:* Camille\n", "Got it.");
	/* "De :" alone, without the header block, is a sentence. */
	CHECK_STRIP("De : mon côté, tout va bien.\nÀ bientôt", "De : mon côté, tout va bien.\n"
	    "À bientôt");
	CHECK_STRIP("Merci !\n-- \nCamille Roy\nGraphiste", "Merci !");
	CHECK_STRIP("Merci !\n--\nCamille Roy", "Merci !");
	CHECK_STRIP("Merci !\n\nEnvoyé de mon iPhone", "Merci !");
	CHECK_STRIP("Merci !\nEnvoyé depuis mon mobile Orange", "Merci !");
	CHECK_STRIP("Thanks!\n\nSent from my iPhone\n\n> old", "Thanks!");
	CHECK_STRIP("Thanks!\nSent from Outlook for iOS", "Thanks!");
	CHECK_STRIP("Thanks!\nGet Outlook for Android<https://aka.ms/x>", "Thanks!");
	CHECK_STRIP("  a  \n\n\n\n  b\n\n", "a\n\nb");
	CHECK_STRIP("", "");
	CHECK_STRIP("-- coucou, c'est moi --", "-- coucou, c'est moi --");
}

static void
test_bounds(void)
{
	size_t n = 100 * 1024, i, max;
	char *raw = malloc(n + 1), *got;

	for (i = 0; i + 2 <= n; i += 2)
		memcpy(raw + i, (i / 2) % 40 == 39 ? "\n\n" : "\xc3\xa9", 2);
	raw[i] = '\0';
	for (max = 4093; max <= 4096; max++) {
		got = body_text_clean(raw, strlen(raw), "8bit", "utf-8", false, max);
		CHECK(strlen(got) <= max && strlen(got) > max - 80);
		CHECK(valid_text(got));
		free(got);
	}
	got = body_text_clean(raw, strlen(raw), NULL, NULL, false, 0);
	CHECK_STR(got, "");
	free(got);
	free(raw);
}

int
main(void)
{
	test_decoding();
	test_html();
	test_quotes();
	test_bounds();
	return UNIT_DONE();
}
