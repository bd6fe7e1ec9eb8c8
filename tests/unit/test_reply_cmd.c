/* test_reply_cmd: the owner's answers to nudges, in French and English,
 * with accents, capitals, line numbers, durations, and what is not a
 * command. */
#include "unit.h"

#include "reply_cmd.h"

#define DAY 86400

static struct reply_cmd cmds[REPLY_CMD_MAX];

/* Parses text and checks it gives exactly one command. */
static void
one(const char *text, enum reply_action action, int line, int64_t seconds)
{
	size_t n = reply_cmd_parse(text, cmds, REPLY_CMD_MAX);

	CHECK_INT(n, 1);
	if (cmds[0].action != action || cmds[0].line != line || cmds[0].seconds != seconds)
		fprintf(stderr, "  for \"%s\": action %s line %d seconds %" PRId64 "\n", text,
			reply_action_name(cmds[0].action), cmds[0].line, cmds[0].seconds);
	CHECK_INT(cmds[0].action, action);
	CHECK_INT(cmds[0].line, line);
	CHECK_INT(cmds[0].seconds, seconds);
}

static void
test_words(void)
{
	one("done", REPLY_DONE, 0, 0);
	one("Fait", REPLY_DONE, 0, 0);
	one("FAIT.", REPLY_DONE, 0, 0);
	one("ok", REPLY_DONE, 0, 0);
	one("OK, merci !", REPLY_DONE, 0, 0);
	one("C'est fait", REPLY_DONE, 0, 0);
	one("C\xe2\x80\x99" "est fait, je l'ai appelée hier", REPLY_DONE, 0, 0);
	one("Terminé", REPLY_DONE, 0, 0);
	one("dismiss", REPLY_DISMISS, 0, 0);
	one("Ignorer", REPLY_DISMISS, 0, 0);
	one("ignore", REPLY_DISMISS, 0, 0);
	one("IGNORÉ", REPLY_DISMISS, 0, 0);
	one("mute", REPLY_MUTE, 0, 0);
	one("Sourdine", REPLY_MUTE, 0, 0);
	one("aide", REPLY_HELP, 0, 0);
	one("help", REPLY_HELP, 0, 0);
}

static void
test_snooze(void)
{
	one("snooze 7d", REPLY_SNOOZE, 0, 7 * DAY);
	one("snooze 3h", REPLY_SNOOZE, 0, 3 * 3600);
	one("snooze 2w", REPLY_SNOOZE, 0, 14 * DAY);
	one("Snooze for 2 weeks", REPLY_SNOOZE, 0, 14 * DAY);
	one("snooze", REPLY_SNOOZE, 0, REPLY_SNOOZE_DEFAULT);
	one("reporter 7j", REPLY_SNOOZE, 0, 7 * DAY);
	one("Reporter 10 jours", REPLY_SNOOZE, 0, 10 * DAY);
	one("reporte 2 semaines", REPLY_SNOOZE, 0, 14 * DAY);
	one("Reporté de 2 sem.", REPLY_SNOOZE, 0, 14 * DAY);
	one("reporter à dans 3 jours", REPLY_SNOOZE, 0, 3 * DAY);
	one("reporter 1 mois", REPLY_SNOOZE, 0, 30 * DAY);
	one("REPORTER 5", REPLY_SNOOZE, 0, 5 * DAY);
	one("reporter 4 heures", REPLY_SNOOZE, 0, 4 * 3600);
	one("reporter à lundi", REPLY_SNOOZE, 0, REPLY_SNOOZE_DEFAULT);
	one("reporter\xc2\xa0" "7j", REPLY_SNOOZE, 0, 7 * DAY);
	one("\treporter\t7 j\r", REPLY_SNOOZE, 0, 7 * DAY);
}

static void
test_lines(void)
{
	size_t n;

	one("2 done", REPLY_DONE, 2, 0);
	one("2. fait", REPLY_DONE, 2, 0);
	one("3) reporter 7j", REPLY_SNOOZE, 3, 7 * DAY);
	one("#4 ignorer", REPLY_DISMISS, 4, 0);
	one("12 sourdine", REPLY_MUTE, 12, 0);
	one("- 1 fait", REPLY_DONE, 1, 0);

	n = reply_cmd_parse("1 fait\n2 reporter 2 semaines\r\n\n3 ignorer\n4 sourdine\n"
			    "Merci pour le rappel !\n5 fait\n", cmds, REPLY_CMD_MAX);
	CHECK_INT(n, 4);
	CHECK_INT(cmds[0].action, REPLY_DONE);
	CHECK_INT(cmds[0].line, 1);
	CHECK_INT(cmds[1].action, REPLY_SNOOZE);
	CHECK_INT(cmds[1].line, 2);
	CHECK_INT(cmds[1].seconds, 14 * DAY);
	CHECK_INT(cmds[2].action, REPLY_DISMISS);
	CHECK_INT(cmds[2].line, 3);
	CHECK_INT(cmds[3].action, REPLY_MUTE);
	CHECK_INT(cmds[3].line, 4);

	n = reply_cmd_parse("\n\n  Done\nThanks, talk soon\n", cmds, REPLY_CMD_MAX);
	CHECK_INT(n, 1);
	CHECK_INT(cmds[0].action, REPLY_DONE);

	/* At most max commands are read. */
	n = reply_cmd_parse("1 done\n2 done\n3 done\n", cmds, 2);
	CHECK_INT(n, 2);
}

static void
test_unknown(void)
{
	one("", REPLY_UNKNOWN, 0, 0);
	one("\n\n \n", REPLY_UNKNOWN, 0, 0);
	one("Merci, je m'en occupe", REPLY_UNKNOWN, 0, 0);
	one("Faites-moi penser à lui écrire", REPLY_UNKNOWN, 0, 0);
	one("okay", REPLY_UNKNOWN, 0, 0);
	one("done2", REPLY_UNKNOWN, 0, 0);
	one("0 fait", REPLY_UNKNOWN, 0, 0);
	one("1000 fait", REPLY_UNKNOWN, 0, 0);
	one("2fait", REPLY_UNKNOWN, 0, 0);
	one("7j", REPLY_UNKNOWN, 0, 0);
	one("\xff\xfe fait", REPLY_UNKNOWN, 0, 0);
	CHECK_INT(reply_cmd_parse(NULL, cmds, REPLY_CMD_MAX), 1);
	CHECK_INT(cmds[0].action, REPLY_UNKNOWN);
	CHECK_INT(reply_cmd_parse("done", cmds, 0), 0);
	CHECK_STR(reply_action_name(REPLY_SNOOZE), "snooze");
	CHECK_STR(reply_action_name(REPLY_UNKNOWN), "unknown");
}

int
main(void)
{
	test_words();
	test_snooze();
	test_lines();
	test_unknown();
	return UNIT_DONE();
}
