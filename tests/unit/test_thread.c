/* test_thread: reply prefixes as clients write them, and thread keys. */
#include "unit.h"
#include "msg.h"
#include "thread.h"

#include <stdlib.h>

static void
check_norm(const char *subject, const char *want)
{
	char *got = thread_subject_normalise(subject);

	if (strcmp(got, want) != 0)
		fprintf(stderr, "normalising \"%s\":\n", subject);
	CHECK_STR(got, want);
	free(got);
}

static void
test_normalise(void)
{
	check_norm("Re: Devis", "devis");
	check_norm("RE : Devis", "devis");
	check_norm("RE\xc2\xa0: Devis", "devis");           /* French NBSP */
	check_norm("TR : Fwd: RE: Devis", "devis");
	check_norm("R\xc3\xa9" "f. : Devis", "devis");
	check_norm("R\xc3\x89" "P. : Devis", "devis");
	check_norm("R\xc3\xa9p. : Devis", "devis");
	check_norm("Ref: Devis", "devis");
	check_norm("AW: WG: Angebot", "angebot");
	check_norm("FW: Devis", "devis");
	check_norm("Re[2]: Devis", "devis");
	check_norm("Re^3: Devis", "devis");
	check_norm("Re(2): Devis", "devis");
	check_norm("[freelances] Re: [Urgent] Re:  Mission   Lyon ", "mission lyon");
	check_norm("SV: Offert", "offert");
	check_norm("\xc3\x89T\xc3\x89 \xc3\x80 PARIS", "\xc3\xa9t\xc3\xa9 \xc3\xa0 paris");
	check_norm("R\xc3\xa9union de lancement", "r\xc3\xa9union de lancement");
	check_norm("Reunion: ordre du jour", "reunion: ordre du jour");
	check_norm("Rebonjour", "rebonjour");
	check_norm("Re:", "");
	check_norm("", "");
	check_norm(NULL, "");
	check_norm("\xc5\x92UVRE", "\xc5\x93uvre");
}

static void
test_is_reply(void)
{
	CHECK(thread_subject_is_reply("Re: x"));
	CHECK(thread_subject_is_reply("RE : x"));
	CHECK(thread_subject_is_reply("TR : x"));
	CHECK(thread_subject_is_reply("Fwd : x"));
	CHECK(thread_subject_is_reply("[liste] Re: x"));
	CHECK(thread_subject_is_reply("R\xc3\xa9" "f. : x"));
	CHECK(!thread_subject_is_reply("[liste] x"));
	CHECK(!thread_subject_is_reply("Relance facture"));
	CHECK(!thread_subject_is_reply("Rendez-vous: lundi"));
	CHECK(!thread_subject_is_reply(NULL));
}

static void
test_keys(void)
{
	struct msg m = { 0 };
	char *k;

	CHECK(thread_key_from_headers(&m) == NULL);
	m.message_id = "self@x";
	k = thread_key_from_headers(&m);
	CHECK_STR(k, "self@x");
	free(k);
	m.in_reply_to = "parent@x";
	k = thread_key_from_headers(&m);
	CHECK_STR(k, "parent@x");
	free(k);
	m.references = "root@x mid@x parent@x";
	k = thread_key_from_headers(&m);
	CHECK_STR(k, "root@x");
	free(k);
	m.references = "solo@x";
	k = thread_key_from_headers(&m);
	CHECK_STR(k, "solo@x");
	free(k);
	m.references = "";
	k = thread_key_from_headers(&m);
	CHECK_STR(k, "parent@x");
	free(k);
}

int
main(void)
{
	test_normalise();
	test_is_reply();
	test_keys();
	return UNIT_DONE();
}
