/* test_detect: a corpus of short real-life messages, French and English,
 * each with the exact set of events a freelancer expects merci to see in
 * it, and the traps that must stay silent. Texts go through
 * body_strip_quotes first, as they do in the daemon. */
#include "unit.h"
#include "body.h"
#include "detect.h"
#include "msg.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>

#define I (1u << DETECT_INTRO_RECEIVED)
#define G (1u << DETECT_INTRO_GIVEN)
#define R (1u << DETECT_REFERRAL_MENTION)
#define L (1u << DETECT_LEAD_RECEIVED)
#define M (1u << DETECT_MANDATE_SIGNAL)
#define T (1u << DETECT_THANKS)
#define Q (1u << DETECT_QUESTION)

#define OWNER "camille@roy.fr"

struct corpus_case {
	bool outbound;
	const char *from;
	const char *to;        /* space-separated addresses */
	const char *cc;
	const char *subject;
	const char *text;
	unsigned want;
	const char *who;       /* REFERRAL_MENTION */
};

static const struct corpus_case corpus[] = {
	/* 0 introductions received: subject forms */
	{ false, "paul@agence.fr", OWNER, "julie@martin.ca",
	  "Intro : Julie Martin <> Camille Roy",
	  "Bonjour à vous deux,\nJulie cherche une graphiste pour son nouveau site. "
	  "Camille est la meilleure que je connaisse. Je vous laisse poursuivre !\nPaul",
	  I, NULL },
	{ false, "sophie@lumen.ca", OWNER, "marc@lumen.ca", "Mise en relation",
	  "Salut Camille,\nJe te présente Marc Dubois, directeur marketing chez Lumen. "
	  "Il veut refaire son site.\nSophie", I, NULL },
	{ false, "paul@agence.fr", OWNER " julie@martin.ca", NULL, "Julie Martin / Camille Roy",
	  "Bonjour,\nComme promis : Julie lance son cabinet et a besoin d'une identité "
	  "visuelle. Camille fait ça très bien.\nBonne journée,\nPaul", I, NULL },
	{ false, "tom@studio.com", OWNER, "dana@acme.com", "Intro - Dana (Acme) <> Camille",
	  "Hi both,\nI'd like to introduce Dana Whitfield, who runs product at Acme.\nBest,\nTom",
	  I, NULL },
	{ false, "tom@studio.com", OWNER " priya@shah.io", NULL, "Hello from Tom",
	  "Camille, meet Priya. Priya is hiring a freelance UX designer this spring.\n"
	  "Cheers, Tom", I, NULL },
	{ false, "helene@cabinet.fr", OWNER, "yves@conseil.fr", "Présentation : Yves / Camille",
	  "Bonjour,\nje me permets de vous présenter Yves, consultant en stratégie. "
	  "Vous partagez plusieurs clients.\nHélène", I, NULL },
	{ false, "tom@studio.com", OWNER, "ben@shop.com", "Quick note",
	  "Connecting you two as promised: Ben builds Shopify stores and you need one by June.",
	  I, NULL },
	/* 7 introductions given by the owner */
	{ true, OWNER, "julie@martin.ca", "marc@lumen.ca", "Intro : Julie <> Marc",
	  "Bonjour Julie, bonjour Marc,\nJe vous mets en contact : Julie cherche un "
	  "développeur, Marc en est un excellent.\nCamille", G, NULL },
	{ true, OWNER, "sarah@bakery.com ben@shop.com", NULL, "Sarah / Ben",
	  "Hi Sarah, hi Ben,\nI'd like to introduce you to each other: Ben builds "
	  "online stores and Sarah needs one by June.\nCamille", G, NULL },
	/* 9 owner writes to one person and his own other address: no intro */
	{ true, OWNER, "julie@martin.ca", "c.roy@example.net", "Intro",
	  "Je te présente mon associée. Merci !", T, NULL },
	/* 10 traps: the introduced person replies, alone or with the introducer */
	{ false, "julie@martin.ca", OWNER, NULL, "Re: Intro : Julie Martin <> Camille Roy",
	  "Bonjour Camille,\nRavie de faire ta connaissance ! Quand serais-tu disponible "
	  "pour un café la semaine prochaine ?\nJulie", Q, NULL },
	{ false, "julie@martin.ca", OWNER, "paul@agence.fr", "RE: Intro : Julie Martin <> Camille Roy",
	  "Merci Paul pour la mise en relation (je te passe en Cci).\nCamille, es-tu libre jeudi ?",
	  T | Q, NULL },
	{ false, "news@agence.fr", OWNER, "equipe@agence.fr",
	  "Rencontrez nos experts lors de notre webinaire",
	  "Rencontrez nos experts en fiscalité des travailleurs autonomes le 12 mars. "
	  "Inscription gratuite.", 0, NULL },
	{ false, "paul@agence.fr", OWNER, NULL, "Intro",
	  "Je te présente Julie, elle va t'écrire.", 0, NULL },
	{ false, "julie@martin.ca", OWNER, "marc@lumen.ca", "Livraison",
	  "Je vous présente mes excuses pour le retard de livraison.", 0, NULL },
	{ false, "tom@studio.com", OWNER, "dana@acme.com", "Design review",
	  "Can we meet Tuesday at 10?", Q, NULL },
	{ false, "writer@lyon.fr", OWNER, "assistant@lyon.fr", "Hello",
	  "I'd like to introduce myself: I'm a copywriter based in Lyon.", 0, NULL },
	/* 17 referral mentions */
	{ false, "nadia@client.fr", OWNER, NULL, "Rapport annuel",
	  "Bonjour,\nJulie m'a donné vos coordonnées : nous cherchons une graphiste pour "
	  "notre rapport annuel. Seriez-vous disponible pour en discuter ?", R | Q, "Julie" },
	{ false, "rh@banque.ca", OWNER, NULL, "Image de marque",
	  "Bonjour Madame Roy,\nJe vous écris de la part de Marc Dubois, avec qui vous avez "
	  "travaillé chez Lumen. Nous aurions besoin d'un accompagnement.", R, "Marc Dubois" },
	{ false, "direction@ecole.ca", OWNER, NULL, "Traduction",
	  "Bonjour,\nsur la recommandation de j.tremblay@uqar.ca, je me permets de vous "
	  "contacter au sujet d'un mandat de traduction.", R | M, "j.tremblay@uqar.ca" },
	{ false, "boutique@savon.ca", OWNER, NULL, "Logo",
	  "Bonjour Camille, c'est Amélie Tremblay qui m’a parlé de vous. Je lance une "
	  "boutique en ligne et je cherche quelqu'un pour le logo.", R, "Amélie Tremblay" },
	{ false, "cfo@pme.fr", OWNER, NULL, "Accompagnement",
	  "Sur les conseils de Jean-François Caron, je vous contacte pour notre refonte.",
	  R, "Jean-François Caron" },
	{ false, "lead@acme.com", OWNER, NULL, "Q3 launch",
	  "Hi Camille,\nPriya Shah suggested I reach out. We're looking for a designer for "
	  "our Q3 launch. Are you taking on new clients?", R | Q, "Priya Shah" },
	{ false, "ops@startup.io", OWNER, NULL, "Rates",
	  "Hello,\nI got your name from Tom, at the coworking space. Could you send me your "
	  "rates.", R | Q, "Tom" },
	{ false, "ceo@brand.com", OWNER, NULL, "Brand refresh",
	  "I was referred by Dana Whitfield. We need a brand refresh this fall.", R,
	  "Dana Whitfield" },
	{ false, "marie@asso.fr", OWNER, NULL, "Site de l'association",
	  "Bonjour,\nM. Gagnon m'a recommandé de vous écrire pour le site de l'association.",
	  R, "Gagnon" },
	/* 26 traps: a pronoun or someone unnamed is no referrer */
	{ false, "x@salon.fr", OWNER, NULL, "Salon",
	  "Bonjour,\nOn m'a donné vos coordonnées lors du salon. Elle m'a parlé de vous en bien.",
	  0, NULL },
	{ false, "y@meetup.com", OWNER, NULL, "Meetup",
	  "Someone gave me your details at the meetup. Thanks!", T, NULL },
	/* 28 outbound: a referral phrase of the owner is not a mention */
	{ true, OWNER, "julie@martin.ca", NULL, "Merci",
	  "Marc m'a donné ton nom, merci pour la mise en relation !", T, NULL },
	/* 29 leads */
	{ false, "julie@martin.ca", OWNER, NULL, "Lumen",
	  "Salut Camille,\nJ'ai dîné avec la directrice de Lumen hier : je lui ai donné ton nom, "
	  "elle devrait t'écrire cette semaine.\nJulie", L, NULL },
	{ false, "julie@martin.ca", OWNER, NULL, "Desjardins",
	  "Je t’ai recommandée auprès de mon ancien patron chez Desjardins.", L, NULL },
	{ false, "julie@martin.ca", OWNER, NULL, "Compta",
	  "Je t'ai recommandé de contacter Marc pour ta comptabilité, l'as-tu fait ?", Q, NULL },
	{ false, "tom@studio.com", OWNER, NULL, "Acme",
	  "Hi Camille, I passed your name to the CTO at Acme; she's hiring a contractor.",
	  L, NULL },
	{ false, "tom@studio.com", OWNER, NULL, "FYI",
	  "I gave her your details, expect an email from Rachel soon.", L, NULL },
	{ false, "sophie@lumen.ca", OWNER, NULL, "Gala",
	  "Je lui ai parlé de toi au gala, il est très intéressé.", L, NULL },
	/* 35 mandate signals */
	{ false, "achats@client.fr", OWNER, NULL, "Bon de commande n° 2026-114",
	  "Bonjour,\nVeuillez trouver ci-joint le document pour la refonte du site.", M, NULL },
	{ false, "achats@client.fr", OWNER, NULL, "Refonte",
	  "Devis signé en pièce jointe. On démarre lundi 14.", M, NULL },
	{ false, "pm@acme.com", OWNER, NULL, "Q3 design work",
	  "Hi Camille,\nAttached is the SOW. Please confirm the start date.", M | Q, NULL },
	{ false, "pm@acme.com", OWNER, NULL, "Proposal",
	  "We accept your proposal. A purchase order will follow.", M, NULL },
	{ false, "rh@banque.ca", OWNER, NULL, "Prolongation",
	  "Bonne nouvelle : votre mandat est prolongé jusqu'en décembre.", M, NULL },
	/* 40 traps: the verb "sow", a "mandataire" */
	{ false, "tom@studio.com", OWNER, NULL, "Weekend",
	  "Spring is here, I'm sowing tomatoes this weekend. Talk soon!", 0, NULL },
	{ false, "greffe@tribunal.fr", OWNER, NULL, "Dossier",
	  "Le mandataire judiciaire reprendra contact avec vous.", 0, NULL },
	/* 42 thanks only: no question */
	{ false, "julie@martin.ca", OWNER, NULL, "Re: fichiers", "Merci beaucoup, bonne journée !",
	  T, NULL },
	{ false, "tom@studio.com", OWNER, NULL, "Re: files", "Thanks, talk soon", T, NULL },
	{ false, "rh@banque.ca", OWNER, NULL, "Re: livrables",
	  "Je vous remercie pour votre retour rapide.", T, NULL },
	{ false, "marc@lumen.ca", OWNER, NULL, "Référence",
	  "Mille mercis pour la référence, c'est très apprécié !", T, NULL },
	/* 46 traps: a surname, a quoted reply */
	{ false, "luc@mercier-compta.fr", OWNER, NULL, "Documents Mercier 2026",
	  "Bonjour,\nLuc Mercier, comptable. Voici les documents de fin d'année.\nCordialement",
	  0, NULL },
	{ false, "julie@martin.ca", OWNER, NULL, "Re: fichier",
	  "Parfait, c'est noté.\n\nLe lun. 7 sept. 2026 à 10:00, Camille Roy <camille@roy.fr> "
	  "a écrit :\n> Merci pour ton aide !\n> Peux-tu m'envoyer le fichier ?", 0, NULL },
	/* 48 questions and requests */
	{ false, "rh@banque.ca", OWNER, NULL, "Portfolio",
	  "Bonjour, pourriez-vous m'envoyer votre portfolio d'ici vendredi. Merci d'avance.",
	  Q | T, NULL },
	{ false, "rh@banque.ca", OWNER, NULL, "Rencontre",
	  "Merci de me faire savoir si jeudi vous convient.", Q, NULL },
	{ false, "tom@studio.com", OWNER, NULL, "Thursday", "Let me know if Thursday works for you.",
	  Q, NULL },
	{ false, "tom@studio.com", OWNER, NULL, "Final file",
	  "Here is the final file. Let me know if you have any questions. Thanks!", T, NULL },
	{ false, "julie@martin.ca", OWNER, NULL, "Lien",
	  "Voici le lien : https://exemple.fr/rapport?id=42\nBonne lecture.", 0, NULL },
	{ false, "tom@studio.com", OWNER, NULL, "Date", "Is the 14th still good for you?", Q, NULL },
	{ true, OWNER, "julie@martin.ca", NULL, "Relance", "As-tu pu regarder ma proposition",
	  Q, NULL },
	/* 55 several at once */
	{ false, "marc@lumen.ca", OWNER, NULL, "Contrat",
	  "Bonjour Camille,\nMerci encore ! Lumen m'a confié un mandat de six mois.", T | M, NULL },
	{ false, "dana@acme.com", OWNER, "priya@shah.io", "Intro: Priya <> Camille",
	  "Hi both! Priya, meet Camille, the designer who redid our site. Camille, Priya runs "
	  "a studio in Montréal and needs help on a contract. Would you have time next week?",
	  I | M | Q, NULL },
};

static void
case_addrs(struct msg_addr_list *l, const char *s)
{
	char *copy, *tok, *save = NULL;

	if (s == NULL)
		return;
	copy = xstrdup(s);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		msg_addr_list_add(l, NULL, tok);
	free(copy);
}

static unsigned
case_run(const struct corpus_case *c, size_t idx)
{
	char *ids[] = { OWNER, "c.roy@example.net" };
	struct msg m = { 0 };
	struct detect_input in = { .m = &m, .outbound = c->outbound, .identities = ids,
	    .n_identities = 2 };
	struct detect_event *ev;
	unsigned got = 0;
	char *text = body_strip_quotes(c->text);
	size_t n, i;

	case_addrs(&m.from, c->from);
	case_addrs(&m.to, c->to);
	case_addrs(&m.cc, c->cc);
	m.subject = xstrdup(c->subject);
	in.text = text;
	n = detect_message(&in, &ev);
	for (i = 0; i < n; i++) {
		CHECK(!(got & (1u << ev[i].kind)));     /* each kind once */
		got |= 1u << ev[i].kind;
		CHECK(ev[i].evidence != NULL && ev[i].evidence[0] != '\0');
		CHECK(ev[i].evidence != NULL && strlen(ev[i].evidence) <= 160 &&
		    strchr(ev[i].evidence, '\n') == NULL);
		CHECK(strcmp(ev[i].lang, "fr") == 0 || strcmp(ev[i].lang, "en") == 0);
		if (ev[i].kind == DETECT_REFERRAL_MENTION) {
			CHECK_STR(ev[i].who, c->who);
		} else {
			CHECK(ev[i].who == NULL);
		}
		if (getenv("DETECT_VERBOSE"))
			fprintf(stderr, "  #%zu kind %d who %s ev \"%s\" (%s)\n", idx, ev[i].kind,
			    ev[i].who ? ev[i].who : "-", ev[i].evidence, ev[i].lang);
	}
	if (got != c->want)
		fprintf(stderr, "corpus #%zu (\"%s\"): got kinds 0x%x, want 0x%x\n",
		    idx, c->subject, got, c->want);
	detect_events_free(ev, n);
	msg_free(&m);
	free(text);
	return got;
}

/* Evidence is the sentence around the match, cut at 160 bytes on a
 * character boundary even when the sentence runs on. */
static void
test_evidence(void)
{
	struct msg m = { 0 };
	struct detect_input in = { .m = &m };
	struct detect_event *ev;
	char long_text[1200] = "";
	size_t n, i;

	for (i = 0; i < 40; i++)
		strcat(long_text, "éléphant ");
	strcat(long_text, "et puis merci ");
	for (i = 0; i < 40; i++)
		strcat(long_text, "à bientôt ");
	in.text = long_text;
	m.subject = xstrdup("Note");
	n = detect_message(&in, &ev);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(ev[0].kind, DETECT_THANKS);
		CHECK(strlen(ev[0].evidence) <= 160);
		CHECK(strstr(ev[0].evidence, "merci") != NULL);
		CHECK(((unsigned char)ev[0].evidence[strlen(ev[0].evidence) - 1] & 0xc0) != 0xc0);
	}
	detect_events_free(ev, n);
	free(m.subject);
	m.subject = NULL;

	in.text = "Bonjour.\nJulie Martin m'a donné vos coordonnées, elle dit le plus grand "
	    "bien de vous. Autre phrase.";
	n = detect_message(&in, &ev);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(ev[0].who, "Julie Martin");
		CHECK_STR(ev[0].evidence, "Julie Martin m'a donné vos coordonnées, elle dit le "
		    "plus grand bien de vous.");
		CHECK_STR(ev[0].lang, "fr");
	}
	detect_events_free(ev, n);
	CHECK_INT(detect_message(&in, &ev) > 0, 1);
	detect_events_free(ev, 1);
	in.text = NULL;
	CHECK_INT(detect_message(&in, &ev), 0);
	CHECK(ev == NULL);
}

static void
test_language(void)
{
	CHECK_STR(detect_language("Bonjour, je vous écris pour le projet avec Julie."), "fr");
	CHECK_STR(detect_language("Hi, thanks for the intro. Are you free this week?"), "en");
	CHECK_STR(detect_language(""), "fr");
	CHECK_STR(detect_language(NULL), "fr");
	CHECK_STR(detect_language("OK"), "fr");
	CHECK_STR(detect_language("Ça marche, à jeudi"), "fr");
}

int
main(void)
{
	size_t i, n = sizeof(corpus) / sizeof(corpus[0]);

	CHECK(n >= 40);
	for (i = 0; i < n; i++)
		CHECK_INT(case_run(&corpus[i], i), corpus[i].want);
	test_evidence();
	test_language();
	return UNIT_DONE();
}
