/* test_vcard: vCard 2.1 (quoted-printable Latin-1, soft line breaks, bare
 * parameters), 3.0 and 4.0 (folding, escapes, several EMAIL, CATEGORIES),
 * broken cards reported with their line and the rest read, and the 3.0
 * writer read back. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"
#include "vcard.h"

static void
parse(const char *text, struct card_list *l)
{
	memset(l, 0, sizeof *l);
	vcard_parse(text, strlen(text), l);
}

static void
test_outlook_21(void)
{
	struct card_list l;

	/* Latin-1 bytes behind QP, a soft break inside "Tremblay", PREF on the second. */
	parse("BEGIN:VCARD\r\n"
	      "VERSION:2.1\r\n"
	      "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Tremblay;Am=E9lie;;;\r\n"
	      "FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Am=E9lie Trem=\r\n"
	      "blay, =C9quipe\r\n"
	      "EMAIL;INTERNET:amelie@example.com\r\n"
	      "EMAIL;INTERNET;PREF:Amelie.Tremblay@Example.ORG\r\n"
	      "END:VCARD\r\n", &l);
	CHECK_INT(l.n_cards, 1);
	CHECK_INT(l.n_problems, 0);
	if (l.n_cards == 1) {
		CHECK_STR(l.cards[0].name, "Amélie Tremblay, Équipe");
		CHECK_INT(l.cards[0].n_emails, 2);
		CHECK_STR(l.cards[0].emails[0], "amelie.tremblay@example.org");
		CHECK_STR(l.cards[0].emails[1], "amelie@example.com");
		CHECK_INT(l.cards[0].line, 1);
	}
	card_list_free(&l);
}

static void
test_30_40(void)
{
	struct card_list l;

	parse("BEGIN:VCARD\n"
	      "VERSION:3.0\n"
	      "FN:Jean-Philippe C\xc3\xb4t\xc3\xa9\\, ing.\\; associ\xc3\xa9\n"
	      "N:C\xc3\xb4t\xc3\xa9;Jean-Philippe;;;\n"
	      "ORG:C\xc3\xb4t\xc3\xa9 conseil\n"
	      "NOTE:Rencontr\xc3\xa9 au salon\\nrappeler\n"
	      "EMAIL;TYPE=work:jp@example.com\n"
	      "item1.EMAIL;TYPE=INTERNET,HOME:jp.cote@exam\n"
	      " ple.net\n"
	      "CATEGORIES:Clients,Partenaires de r\xc3\xa9\\,seau\n"
	      "END:VCARD\n"
	      "BEGIN:VCARD\n"
	      "VERSION:4.0\n"
	      "N:Lévesque;Sébastien;;;\n"
	      "EMAIL;TYPE=\"work,pref\";PREF=1:seb@example.com\n"
	      "EMAIL:\tseb@example.org\n"
	      "END:VCARD\n", &l);
	CHECK_INT(l.n_cards, 2);
	CHECK_INT(l.n_problems, 0);
	if (l.n_cards == 2) {
		CHECK_STR(l.cards[0].name, "Jean-Philippe Côté, ing.; associé");
		CHECK_INT(l.cards[0].n_emails, 2);
		CHECK_STR(l.cards[0].emails[1], "jp.cote@example.net");
		CHECK_INT(l.cards[0].n_tags, 2);
		if (l.cards[0].n_tags == 2) {
			CHECK_STR(l.cards[0].tags[0], "clients");
			CHECK_STR(l.cards[0].tags[1], "partenaires-de-ré-seau");
		}
		/* No FN: the name comes from N, given name first. */
		CHECK_STR(l.cards[1].name, "Sébastien Lévesque");
		CHECK_STR(l.cards[1].emails[0], "seb@example.com");
		CHECK_INT(l.cards[1].line, 12);
	}
	card_list_free(&l);
}

static void
test_broken(void)
{
	struct card_list l;

	parse("BEGIN:VCARD\n"                    /* 1 */
	      "FN:Un\n"
	      "EMAIL:un@example.com\n"
	      "END:VCARD\n"
	      "BEGIN:VCARD\n"                    /* 5: no address */
	      "FN:Sans adresse\n"
	      "END:VCARD\n"
	      "BEGIN:VCARD\n"                    /* 8: never ended */
	      "FN:Coupé\n"
	      "EMAIL:coupe@example.com\n"
	      "BEGIN:VCARD\n"                    /* 11 */
	      "FN:Deux\n"
	      "this line has no colon\n"         /* 13: ignored */
	      "EMAIL:not an address\n"           /* 14: ignored */
	      "EMAIL:deux@example.com\n"
	      "EMAIL:DEUX@example.com\n"         /* the same, once */
	      "END:VCARD\n"
	      "BEGIN:VCARD\n"                    /* 18: cut by the end of the file */
	      "FN:Trois\n"
	      "EMAIL:trois@example.com\n", &l);
	CHECK_INT(l.n_cards, 2);
	CHECK_INT(l.n_skipped, 3);
	CHECK_INT(l.n_problems, 5);
	if (l.n_cards == 2) {
		CHECK_STR(l.cards[1].name, "Deux");
		CHECK_INT(l.cards[1].n_emails, 1);
		CHECK_INT(l.cards[1].line, 11);
	}
	if (l.n_problems == 5) {
		CHECK_INT(l.problems[0].line, 5);
		CHECK_STR(l.problems[0].reason, "card without an e-mail address; skipped");
		CHECK_INT(l.problems[1].line, 8);
		CHECK(l.problems[1].skipped);
		CHECK_INT(l.problems[2].line, 13);
		CHECK(!l.problems[2].skipped);
		CHECK_INT(l.problems[3].line, 14);
		CHECK_INT(l.problems[4].line, 18);
	}
	card_list_free(&l);
}

static void
test_detect(void)
{
	CHECK(vcard_detect("\xef\xbb\xbf\r\nbegin:vcard\r\n", 18));
	CHECK(!vcard_detect("First Name,Last Name\n", 21));
	CHECK(!vcard_detect("", 0));
}

/* Written, folded at 75 octets without cutting an accent, read back equal. */
static void
test_write_roundtrip(void)
{
	char *emails[] = { "ana@example.com", "a.tres.long.nom.de.boite@sous-domaine.exemple.example.org" };
	char *tags[] = { "client", "réseau" };
	struct card c = {
		.name = "Ana Élisabeth de la Montagne-Sainte-Geneviève, conseillère; associée",
		.emails = emails, .n_emails = 2, .tags = tags, .n_tags = 2,
	};
	struct buf b = { 0 };
	struct card_list l;
	const char *p, *nl;

	vcard_write(&b, &c);
	CHECK(strstr(b.data, "EMAIL;TYPE=INTERNET,PREF:ana@example.com\r\n") != NULL);
	CHECK(strstr(b.data, "N:Élisabeth de la") != NULL);
	for (p = b.data; (nl = strstr(p, "\r\n")); p = nl + 2) {
		CHECK(nl - p <= 75);
		CHECK(((unsigned char)*p & 0xc0) != 0x80);
	}
	parse(b.data, &l);
	CHECK_INT(l.n_cards, 1);
	CHECK_INT(l.n_problems, 0);
	if (l.n_cards == 1) {
		CHECK_STR(l.cards[0].name, c.name);
		CHECK_STR(l.cards[0].emails[0], emails[0]);
		CHECK_STR(l.cards[0].emails[1], emails[1]);
		CHECK_INT(l.cards[0].n_tags, 2);
		CHECK_STR(l.cards[0].tags[1], "réseau");
	}
	card_list_free(&l);
	buf_free(&b);
}

int
main(void)
{
	test_outlook_21();
	test_30_40();
	test_broken();
	test_detect();
	test_write_roundtrip();
	return UNIT_DONE();
}
