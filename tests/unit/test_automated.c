/* test_automated: each reason a message is from a machine, and people. */
#include "unit.h"
#include "automated.h"
#include "msg.h"

#include <stdlib.h>

static const char *
reason_of(const char *raw, char *const *ignore, size_t n)
{
	struct msg m = { 0 };
	const char *r;

	if (msg_parse_headers(raw, strlen(raw), &m) != 0)
		return "(parse failed)";
	r = automated_reason(&m, ignore, n);
	msg_free(&m);
	return r;
}

int
main(void)
{
	char *ignore[] = { "*@noreply.*", "*@*.mailchimp.com" };
	struct msg empty = { 0 };

	CHECK_STR(reason_of("From: Jean <jean@x.fr>\nSubject: Re: devis\n", ignore, 2), NULL);
	CHECK_STR(reason_of("From: Jean <jean@x.fr>\nList-Id: <l.x.fr>\n", NULL, 0), "list-id");
	CHECK_STR(reason_of("From: Jean <jean@x.fr>\nList-Unsubscribe: <mailto:u@x.fr>\n",
	    NULL, 0), "list-unsubscribe");
	CHECK_STR(reason_of("From: a@x.fr\nPrecedence: bulk\n", NULL, 0), "precedence");
	CHECK_STR(reason_of("From: a@x.fr\nPrecedence: List\n", NULL, 0), "precedence");
	CHECK_STR(reason_of("From: a@x.fr\nPrecedence: junk\n", NULL, 0), "precedence");
	CHECK_STR(reason_of("From: a@x.fr\nPrecedence: auto_reply\n", NULL, 0), "precedence");
	CHECK_STR(reason_of("From: a@x.fr\nPrecedence: first-class\n", NULL, 0), NULL);
	CHECK_STR(reason_of("From: a@x.fr\nAuto-Submitted: auto-replied (vacation)\n",
	    NULL, 0), "auto-submitted");
	CHECK_STR(reason_of("From: a@x.fr\nAuto-Submitted: no\n", NULL, 0), NULL);
	CHECK_STR(reason_of("From: a@x.fr\nAuto-Submitted: No\n", NULL, 0), NULL);
	CHECK_STR(reason_of("From: a@x.fr\nX-Autoreply: yes\n", NULL, 0), "x-autoreply");
	CHECK_STR(reason_of("From: a@x.fr\nX-Autorespond: x\n", NULL, 0), "x-autoreply");
	CHECK_STR(reason_of("From: Impots <ne-pas-repondre@dgfip.finances.gouv.fr>\n",
	    NULL, 0), "noreply-sender");
	CHECK_STR(reason_of("From: GitHub <noreply@github.com>\n", NULL, 0), "noreply-sender");
	CHECK_STR(reason_of("From: info@agence.fr\n", NULL, 0), NULL);
	CHECK_STR(reason_of("From: Bot <robot@noreply.example.com>\n", ignore, 2),
	    "ignore-pattern");
	CHECK_STR(reason_of("From: Shop <shop@us5.mailchimp.com>\n", ignore, 2),
	    "ignore-pattern");
	CHECK_STR(reason_of("From: Shop <shop@us5.mailchimp.com>\n", ignore, 0), NULL);
	/* The order of checks decides the reason when several apply. */
	CHECK_STR(reason_of("From: noreply@x.fr\nPrecedence: bulk\nList-Id: <l>\n", NULL, 0),
	    "list-id");
	CHECK_STR(reason_of("Subject: no sender\n", NULL, 0), NULL);
	CHECK_STR(automated_reason(&empty, NULL, 0), NULL);
	return UNIT_DONE();
}
