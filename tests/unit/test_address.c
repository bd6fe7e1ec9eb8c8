/* test_address: normalisation of what real headers and configs hold. */
#include "unit.h"
#include "address.h"

#include <stdlib.h>

static void
check_norm(const char *raw, int allow_local, const char *want)
{
	char *got = address_normalise(raw, allow_local);

	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fprintf(stderr, "normalising \"%s\":\n", raw);
	CHECK_STR(got, want);
	free(got);
}

static void
test_normalise(void)
{
	char long_addr[300];

	check_norm("Camille@Example.ORG", 0, "camille@example.org");
	check_norm("  <camille+merci@example.org>  ", 0, "camille+merci@example.org");
	check_norm("\"camille@example.org\"", 0, "camille@example.org");
	check_norm("'camille@example.org'", 0, "camille@example.org");
	check_norm("<mailto:Jean@Exemple.fr>", 0, "jean@exemple.fr");
	/* Normalising twice gives what normalising once gave. */
	check_norm("m\"ailto:x@y.fr", 0, "x@y.fr");
	check_norm("ma\"ilto:@D", 0, NULL);
	check_norm("MAILTO:jean@exemple.fr", 0, "jean@exemple.fr");
	check_norm("jean..dupont@exemple.fr", 0, "jean..dupont@exemple.fr");
	check_norm("\"jean\"@exemple.fr", 0, "jean@exemple.fr");
	check_norm("J\xc3\xa9r\xc3\xb4me@exemple.fr", 0, "j\xc3\xa9r\xc3\xb4me@exemple.fr");
	check_norm("root", 1, "root");
	check_norm("root", 0, NULL);
	check_norm("jean@", 0, NULL);
	check_norm("@exemple.fr", 0, NULL);
	check_norm("jean dupont@exemple.fr", 0, NULL);
	check_norm("jean\t@exemple.fr", 0, NULL);
	check_norm("a@b@c", 0, NULL);
	check_norm("", 0, NULL);
	check_norm("<>", 1, NULL);
	check_norm(NULL, 0, NULL);
	check_norm("a\x01@b.c", 0, NULL);
	memset(long_addr, 'a', sizeof(long_addr));
	memcpy(long_addr + 250, "@example.org", 13);   /* 262 bytes */
	check_norm(long_addr, 0, NULL);
	long_addr[200] = '\0';
	memcpy(long_addr + 190, "@x.org", 7);
	check_norm(long_addr, 0, long_addr);
}

static void
test_noreply(void)
{
	static const char *const yes[] = {
		"noreply@x.com", "NoReply@x.com", "no-reply@x.com", "no_reply@x.com",
		"donotreply@x.com", "do-not-reply@x.com", "do_not_reply@x.com",
		"ne-pas-repondre@impots.gouv.fr", "nepasrepondre@x.fr",
		"MAILER-DAEMON@mx.x.com", "postmaster@x.com", "bounce@x.com",
		"bounces@x.com", "bounce+abc=x.com@lists.x.com",
		"bounces-123-jean=x.fr@mail.x.com", "notification@x.com",
		"notifications@github.com", "notify@x.com", "newsletter@shop.fr",
		"noreply+tag@x.com", "noreply-dmarc-support@google.com",
		"notifications-noreply@linkedin.com", "invitations.no-reply@x.com", NULL
	};
	static const char *const no[] = {
		"info@x.com", "contact@x.fr", "jean@x.fr", "bouncer@x.com",
		"noreplies-please@x.com", "reply@x.com", "newsletter-editor@x.com",
		"", NULL
	};
	size_t i;

	for (i = 0; yes[i]; i++) {
		if (!address_is_noreply(yes[i]))
			fprintf(stderr, "should be noreply: %s\n", yes[i]);
		CHECK(address_is_noreply(yes[i]));
	}
	for (i = 0; no[i]; i++) {
		if (address_is_noreply(no[i]))
			fprintf(stderr, "should not be noreply: %s\n", no[i]);
		CHECK(!address_is_noreply(no[i]));
	}
	CHECK(!address_is_noreply(NULL));
}

static void
test_glob(void)
{
	CHECK(address_match_glob("*@noreply.*", "x@noreply.github.com"));
	CHECK(address_match_glob("*@*.mailchimp.com", "bounce@mail123.mailchimp.com"));
	CHECK(!address_match_glob("*@*.mailchimp.com", "jean@mailchimp.com"));
	CHECK(address_match_glob("*@EXEMPLE.fr", "jean@exemple.FR"));
	CHECK(address_match_glob("j?an@*", "jean@x"));
	CHECK(!address_match_glob("j?an@*", "jn@x"));
	CHECK(address_match_glob("*", "anything"));
	CHECK(address_match_glob("a*b*c", "aXXbYYbZc"));
	CHECK(!address_match_glob("a*b*c", "aXXbYYbZ"));
	CHECK(!address_match_glob("jean@x.fr", "jean@x.fr.evil.com"));
	CHECK(address_match_glob("**@x.fr", "a@x.fr"));
	/* Pathological patterns must stay fast, not exponential. */
	CHECK(!address_match_glob("*a*a*a*a*a*a*a*a*a*a*b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void
test_split(void)
{
	char **v;
	size_t n, i;

	n = address_split_list(" a@b.com ,c@d.fr,, ,\t*@noreply.* ", &v);
	CHECK_INT(n, 3);
	CHECK_STR(v[0], "a@b.com");
	CHECK_STR(v[1], "c@d.fr");
	CHECK_STR(v[2], "*@noreply.*");
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	n = address_split_list("", &v);
	CHECK_INT(n, 0);
	free(v);
	n = address_split_list("solo", &v);
	CHECK_INT(n, 1);
	CHECK_STR(v[0], "solo");
	free(v[0]);
	free(v);
}

int
main(void)
{
	test_normalise();
	test_noreply();
	test_glob();
	test_split();
	return UNIT_DONE();
}
