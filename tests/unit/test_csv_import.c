/* test_csv_import: Outlook (English and French headers) and Google (old and
 * new layouts) CSV exports; RFC 4180 quoting (separators, doubled quotes and
 * line breaks inside quotes), a UTF-8 BOM, Windows-1252, ';' separators;
 * duplicates within a row; broken rows reported with the line they start on. */
#include <stdlib.h>
#include <string.h>

#include "csv_import.h"
#include "unit.h"

static void
test_outlook_en(void)
{
	struct card_list l;
	const char *text =
		"\xef\xbb\xbf" "First Name,Middle Name,Last Name,Title,E-mail Address,E-mail 2 Address,"
		"E-mail 3 Address,Categories,Notes\r\n"
		"Amélie,,Tremblay,,amelie@example.com,AMELIE@example.com,a.t@example.org,"
		"Clients;Réseau,\"Vue au salon, \"\"à rappeler\"\"\r\nligne 2\"\r\n"
		"Marc,,Gagnon,,marc@example.com,,,,\r\n";

	memset(&l, 0, sizeof l);
	CHECK_INT(csv_detect(text, strlen(text)), CSV_OUTLOOK);
	CHECK_INT(csv_parse(text, strlen(text), &l), CSV_OUTLOOK);
	CHECK_INT(l.n_cards, 2);
	CHECK_INT(l.n_problems, 0);
	if (l.n_cards == 2) {
		CHECK_STR(l.cards[0].name, "Amélie Tremblay");
		CHECK_INT(l.cards[0].n_emails, 2);
		CHECK_INT(l.cards[0].n_tags, 2);
		CHECK_STR(l.cards[0].tags[1], "réseau");
		/* The note's quoted line break moves the next row to line 4. */
		CHECK_INT(l.cards[1].line, 4);
		CHECK_STR(l.cards[1].name, "Marc Gagnon");
	}
	card_list_free(&l);
}

/* French Excel: ';' separators, Windows-1252 bytes (é = 0xe9, ' = 0x92). */
static void
test_outlook_fr_cp1252(void)
{
	struct card_list l;
	const char *text =
		"Pr\xe9nom;Deuxi\xe8me pr\xe9nom;Nom;Adresse de messagerie;Adresse de messagerie 2;Cat\xe9gories\r\n"
		"S\xe9" "bastien;;L\xe9vesque;seb@example.com;;Partenaire\r\n"
		"Ren\xe9" "e;;D\x92" "Amour;\"renee@example.com\";renee@example.org;\r\n"
		";;Sans adresse;;;\r\n"
		"Trop;de;champs;x@example.com;;;;en trop\r\n";

	memset(&l, 0, sizeof l);
	CHECK_INT(csv_detect(text, strlen(text)), CSV_OUTLOOK);
	CHECK_INT(csv_parse(text, strlen(text), &l), CSV_OUTLOOK);
	CHECK_INT(l.n_cards, 2);
	CHECK_INT(l.n_skipped, 2);
	if (l.n_cards == 2) {
		CHECK_STR(l.cards[0].name, "Sébastien Lévesque");
		CHECK_STR(l.cards[0].tags[0], "partenaire");
		CHECK_STR(l.cards[1].name, "Renée D\xe2\x80\x99" "Amour");
		CHECK_INT(l.cards[1].n_emails, 2);
	}
	if (l.n_problems == 2) {
		CHECK_INT(l.problems[0].line, 4);
		CHECK_STR(l.problems[0].reason, "row without an e-mail address; skipped");
		CHECK_INT(l.problems[1].line, 5);
		CHECK_STR(l.problems[1].reason, "row has 8 fields, the header has 6; skipped");
	}
	card_list_free(&l);
}

static void
test_google_old(void)
{
	struct card_list l;
	const char *text =
		"Name,Given Name,Additional Name,Family Name,Group Membership,"
		"E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value\n"
		"Chloé Bouchard,Chloé,,Bouchard,* myContacts ::: Clients,* Work,"
		"chloe@example.com ::: chloe.b@example.com,Home,chloe@example.com\n"
		",Léa,,Roy,* myContacts,Work,not-an-address,,lea@example.com\n"
		"\"Open quote,,,,,,x@example.com\n";

	memset(&l, 0, sizeof l);
	CHECK_INT(csv_detect(text, strlen(text)), CSV_GOOGLE);
	CHECK_INT(csv_parse(text, strlen(text), &l), CSV_GOOGLE);
	CHECK_INT(l.n_cards, 2);
	if (l.n_cards == 2) {
		CHECK_STR(l.cards[0].name, "Chloé Bouchard");
		CHECK_INT(l.cards[0].n_emails, 2);
		CHECK_INT(l.cards[0].n_tags, 1);
		CHECK_STR(l.cards[0].tags[0], "clients");
		CHECK_STR(l.cards[1].name, "Léa Roy");
		CHECK_INT(l.cards[1].n_emails, 1);
	}
	CHECK_INT(l.n_problems, 2);
	CHECK_INT(l.n_skipped, 1);
	if (l.n_problems == 2) {
		CHECK_INT(l.problems[0].line, 3);
		CHECK(!l.problems[0].skipped);
		CHECK_INT(l.problems[1].line, 4);
		CHECK(l.problems[1].skipped);
	}
	card_list_free(&l);
}

static void
test_google_new(void)
{
	struct card_list l;
	const char *text =
		"First Name,Middle Name,Last Name,Labels,E-mail 1 - Label,E-mail 1 - Value\n"
		"Hugo,,Gagné,Partenaires ::: * starred,Work,hugo@example.com\n"
		"\n"
		"Hugo,,Gagné,,Work,hugo@example.com\n";

	memset(&l, 0, sizeof l);
	CHECK_INT(csv_detect(text, strlen(text)), CSV_GOOGLE);
	CHECK_INT(csv_parse(text, strlen(text), &l), CSV_GOOGLE);
	/* The duplicate is the store's to merge: both rows come out. */
	CHECK_INT(l.n_cards, 2);
	CHECK_INT(l.n_problems, 0);
	if (l.n_cards == 2) {
		CHECK_STR(l.cards[0].tags[0], "partenaires");
		CHECK_INT(l.cards[0].n_tags, 1);
		CHECK_INT(l.cards[1].line, 4);
	}
	card_list_free(&l);
}

static void
test_unknown(void)
{
	struct card_list l = { 0 };
	const char *text = "foo,bar\n1,2\n";

	CHECK_INT(csv_detect(text, strlen(text)), CSV_UNKNOWN);
	CHECK_INT(csv_parse(text, strlen(text), &l), CSV_UNKNOWN);
	CHECK_INT(l.n_cards, 0);
	card_list_free(&l);
}

/* A quoted header field that spans lines: csv_detect and csv_parse read the
 * same header row, so the import neither refuses a file it could read nor
 * reads one it said it would not (they used to stop at the first line). */
static void
test_header_spans_lines(void)
{
	struct card_list l = { 0 };
	const char *spans = "\"Notes\r\n(long)\",First Name,E-mail Address\r\n"
		"vue au salon,Amélie,amelie@example.com\r\n";
	/* The first physical line alone looks like an e-mail column. */
	const char *lure = "\"E-mail Address\nor not\",Name\nx,y\n";

	CHECK_INT(csv_detect(spans, strlen(spans)), CSV_OUTLOOK);
	CHECK_INT(csv_parse(spans, strlen(spans), &l), CSV_OUTLOOK);
	CHECK_INT(l.n_cards, 1);
	if (l.n_cards == 1) {
		CHECK_STR(l.cards[0].name, "Amélie");
		CHECK_INT(l.cards[0].line, 3);
	}
	card_list_free(&l);
	memset(&l, 0, sizeof l);
	CHECK_INT(csv_detect(lure, strlen(lure)), CSV_UNKNOWN);
	CHECK_INT(csv_parse(lure, strlen(lure), &l), CSV_UNKNOWN);
	CHECK_INT(l.n_cards, 0);
	card_list_free(&l);
}

int
main(void)
{
	test_outlook_en();
	test_outlook_fr_cp1252();
	test_google_old();
	test_google_new();
	test_unknown();
	test_header_spans_lines();
	return UNIT_DONE();
}
