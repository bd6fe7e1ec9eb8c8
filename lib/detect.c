/* detect: owns the phrase tables (French first, English second) that say a
 * message introduces people, names a referrer, passes a lead, talks about a
 * contract, thanks, or asks something, and the small matcher they run on.
 *
 * Text is matched through fold_p.h (no case, no accents, one apostrophe,
 * one kind of space) at word boundaries; names and evidence are taken from
 * the original text, where capitals and accents are still there.
 *
 * A phrase is a list of space-separated tokens; a token lists alternatives
 * with '|' ("ton|tes"); an alternative ending in an apostrophe ("t'") is
 * glued to the next token; '-' also matches a space ("pourriez-vous").
 * "@" as the first or last token is the name of the person the phrase is
 * about; a last token starting with '!' lists words that must not follow
 * ("je vous présente mes excuses" is no introduction). */
#include "detect.h"
#include "buf.h"
#include "fold_p.h"
#include "msg.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DETECT_EVIDENCE_MAX 160
#define DETECT_NAME_WORDS 4

enum {
	DF_UPPER = 1,      /* the original must be written in capitals (SOW, PO) */
	DF_MERCI = 2,      /* "merci": not thanks when it means "please" */
};

struct detect_phrase {
	const char *pat;
	const char *lang;
	unsigned flags;
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct detect_phrase detect_intro[] = {
	{ "je vous|te presente !mes|nos|notre|votre|le|la|les|l'|un|une|des|du|ce|cette|ces|toutes|tous", "fr", 0 },
	{ "je vous|te mets en contact|relation|lien", "fr", 0 },
	{ "je me permets de vous|te presenter !mes|nos|notre|le|la|les|l'|un|une|des|ce|cette|ces", "fr", 0 },
	{ "permettez-moi|permets-moi de vous|te presenter !mes|nos|notre|le|la|les|l'|un|une|ce|cette", "fr", 0 },
	{ "j'ai le plaisir de vous|te presenter !mes|nos|notre|le|la|les|l'|un|une|ce|cette", "fr", 0 },
	{ "je fais les presentations", "fr", 0 },
	{ "vous presenter l'un a l'autre", "fr", 0 },
	{ "i'd|i like to introduce !myself|our|the|a|an|this|these|us", "en", 0 },
	{ "i would like to introduce !myself|our|the|a|an|this|these|us", "en", 0 },
	{ "let me|allow me to introduce !myself|our|the|a|an|this|these|us", "en", 0 },
	{ "let me introduce !myself|our|the|a|an|this|these|us", "en", 0 },
	{ "i wanted|want to introduce !myself|our|the|a|an|this|these|us", "en", 0 },
	{ "happy|pleased|delighted|glad to introduce !myself|our|the|a|an|this|these|us", "en", 0 },
	{ "connecting you two|both|with|to", "en", 0 },
	{ "introducing you two|both|to|with", "en", 0 },
	{ "you two should meet|connect|talk", "en", 0 },
	{ "meet @", "en", 0 },
};

static const struct detect_phrase detect_referral[] = {
	{ "de la part de @", "fr", 0 },
	{ "@ m'a donne|transmis|passe|refile|fourni vos|votre|tes|ton coordonnees|nom|contact|courriel|adresse|numero|email|mail|courriel", "fr", 0 },
	{ "@ m'a recommande|recommandee|conseille|conseillee|suggere|suggeree|dit de vous|te|t'", "fr", 0 },
	{ "@ m'a recommande|recommandee|conseille|conseillee vos|tes|votre|ton services|travail|nom|entreprise|cabinet", "fr", 0 },
	{ "@ m'a parle de vous|toi|votre|ton", "fr", 0 },
	{ "@ m'a refere|referee|oriente|orientee", "fr", 0 },
	{ "sur la|les recommandation|recommandations|conseils de @", "fr", 0 },
	{ "sur le conseil de @", "fr", 0 },
	{ "recommande|recommandee|refere|referee par @", "fr", 0 },
	{ "@ suggested i|we contact|reach|write|email|get|talk|speak|call|connect", "en", 0 },
	{ "@ suggested that i|we contact|reach|write|email|get|talk|speak|call|connect", "en", 0 },
	{ "@ suggested i should contact|reach|write|email|get|talk", "en", 0 },
	{ "referred by @", "en", 0 },
	{ "referred to you by @", "en", 0 },
	{ "@ referred me|you", "en", 0 },
	{ "@ gave|passed|sent me your name|details|contact|email|address|number|info|information", "en", 0 },
	{ "@ passed on|along your name|details|contact|email|number", "en", 0 },
	{ "@ recommended you|your|that i|i contact|i reach", "en", 0 },
	{ "@ told me about you|your work|your services", "en", 0 },
	{ "@ mentioned your name|work|services", "en", 0 },
	{ "got|have|received|obtained your name|details|contact|email|address|number from @", "en", 0 },
	{ "on the recommendation of @", "en", 0 },
	{ "at the suggestion of @", "en", 0 },
	{ "recommended by @", "en", 0 },
};

static const struct detect_phrase detect_lead[] = {
	{ "je lui|leur ai donne|transmis|passe|refile|communique ton|tes|votre|vos nom|coordonnees|courriel|contact|adresse|numero|email|mail|cv|site", "fr", 0 },
	{ "je lui|leur ai parle de toi|vous", "fr", 0 },
	{ "je lui|leur ai suggere|conseille|dit de te|t'|vous contacter|ecrire|appeler|joindre", "fr", 0 },
	{ "je t'|vous ai recommande|recommandee|recommandes|recommandees|refere|referee|suggere|suggeree !de|d'|ce|cet|cette|ces|le|la|les|l'|un|une|des|du", "fr", 0 },
	{ "j'ai donne|transmis|passe|refile|communique ton|tes|votre|vos nom|coordonnees|courriel|contact|adresse|numero|email|cv", "fr", 0 },
	{ "j'ai parle de toi|vous a|aupres", "fr", 0 },
	{ "j'ai recommande tes|vos services", "fr", 0 },
	{ "i|i've passed on|along your name|details|contact|email|number|info", "en", 0 },
	{ "i|i've passed your name|details|contact|email|number|info", "en", 0 },
	{ "i have passed on|along|your name|details|contact|email|number|info", "en", 0 },
	{ "i|i've gave|given her|him|them your name|details|contact|email|number|info", "en", 0 },
	{ "i|i've gave|given your name|details|contact|email|number|info to", "en", 0 },
	{ "i|i've recommended you to|for", "en", 0 },
	{ "i|i've put you|your forward|name", "en", 0 },
	{ "i|i've referred you to|for", "en", 0 },
	{ "i|i've referred her|him|them to you", "en", 0 },
	{ "i|i've mentioned you|your name to", "en", 0 },
	{ "i|i've told her|him|them about you", "en", 0 },
};

static const struct detect_phrase detect_mandate[] = {
	{ "contrat|contrats", "fr", 0 },
	{ "mandat|mandats", "fr", 0 },
	{ "bon|bons de commande", "fr", 0 },
	{ "lettre de mission", "fr", 0 },
	{ "lettre d'engagement", "fr", 0 },
	{ "bon pour accord", "fr", 0 },
	{ "proposition|offre acceptee", "fr", 0 },
	{ "devis accepte|signe|valide|approuve", "fr", 0 },
	{ "nous acceptons|j'accepte votre|ta proposition|offre|devis|soumission", "fr", 0 },
	{ "purchase order|orders", "en", 0 },
	{ "po #|number|no", "en", DF_UPPER },
	{ "po#", "en", DF_UPPER },
	{ "statement|statements of work", "en", 0 },
	{ "sow", "en", DF_UPPER },
	{ "contract|contracts", "en", 0 },
	{ "signed contract|agreement", "en", 0 },
	{ "signed the contract|agreement|sow|proposal|quote|po|order", "en", 0 },
	{ "engagement letter", "en", 0 },
	{ "we accept|accepted your proposal|quote|offer", "en", 0 },
};

static const struct detect_phrase detect_thanks[] = {
	{ "merci|mercis", "fr", DF_MERCI },
	{ "je te|vous remercie", "fr", 0 },
	{ "remerciements", "fr", 0 },
	{ "reconnaissant|reconnaissante|reconnaissants", "fr", 0 },
	{ "thank you|u", "en", 0 },
	{ "thanks|thx", "en", 0 },
	{ "grateful", "en", 0 },
	{ "much appreciated", "en", 0 },
	{ "gracias|danke", "en", 0 },
};

static const struct detect_phrase detect_request[] = {
	{ "pourriez-vous|pourrais-tu|pourrions-nous|pouvez-vous|peux-tu|pourrait-on", "fr", 0 },
	{ "seriez-vous|serais-tu|etes-vous|es-tu dispo|disponible|disponibles|libre", "fr", 0 },
	{ "auriez-vous|aurais-tu|avez-vous|as-tu", "fr", 0 },
	{ "tenez-moi|tiens-moi au courant", "fr", 0 },
	{ "dites-moi|dis-moi|faites-moi|fais-moi", "fr", 0 },
	{ "j'aimerais|je voudrais savoir", "fr", 0 },
	{ "serait-il possible", "fr", 0 },
	{ "je vous saurais gre", "fr", 0 },
	{ "j'attends ton|votre retour|reponse", "fr", 0 },
	{ "qu'en penses-tu|pensez-vous", "fr", 0 },
	{ "est-ce que", "fr", 0 },
	{ "let me know", "en", 0 },
	{ "could|would|can you", "en", 0 },
	{ "do you have|know", "en", 0 },
	{ "are you available|free|able", "en", 0 },
	{ "please confirm|advise|send|let", "en", 0 },
	{ "would it be possible", "en", 0 },
	{ "i was wondering", "en", 0 },
	{ "what do you think", "en", 0 },
	{ "any chance", "en", 0 },
};

/* Closing formulas built from request words that expect nothing. */
static const struct detect_phrase detect_closings[] = {
	{ "let me know if you have|need any|anything|questions", "en", 0 },
	{ "let me know if there is|there's anything", "en", 0 },
	{ "can you believe", "en", 0 },
};

/* Capitalised words that start sentences or stand for someone unnamed:
 * never a referrer's name. Folded. */
static const char *const detect_not_names[] = {
	"je", "j'", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "moi",
	"toi", "lui", "eux", "ce", "c'est", "c'etait", "ca", "cela", "qui", "que",
	"quelqu'un", "le", "la", "les", "l'", "un", "une", "des", "mon", "ma", "mes",
	"ton", "ta", "tes", "son", "sa", "ses", "notre", "votre", "nos", "vos", "leur",
	"leurs", "bonjour", "bonsoir", "salut", "cher", "chere", "hier", "donc",
	"alors", "aussi", "mais", "et", "ou", "puis", "enfin", "bref", "sinon",
	"justement", "recemment", "i", "you", "he", "she", "it", "we", "they", "me",
	"him", "her", "us", "them", "someone", "somebody", "who", "the", "a", "an",
	"my", "your", "his", "our", "their", "hi", "hello", "dear", "hey",
	"yesterday", "today", "also", "so", "and", "but", "then", "anyway",
	"recently", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
	"dimanche", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday", "sunday", "janvier", "fevrier", "mars", "avril", "mai", "juin",
	"juillet", "aout", "septembre", "octobre", "novembre", "decembre", "january",
	"february", "march", "april", "may", "june", "july", "august", "september",
	"october", "november", "december", "everyone", "everybody", "tout", "tous",
	NULL
};
static const char *const detect_titles[] = {
	"m.", "m", "mme", "mme.", "mlle", "mr", "mr.", "mrs", "mrs.", "ms", "ms.",
	"dr", "dr.", "me", "madame", "monsieur", NULL
};
static const char *const detect_particles[] = {
	"de", "du", "des", "van", "von", "da", "di", "del", "le", "la", "dos", NULL
};

/* ---- the matcher ---- */

struct detect_hit {
	size_t start, end;      /* folded offsets of the words matched */
	const struct detect_phrase *ph;
};

static bool
detect_space(char c)
{
	return c == ' ' || c == '\n' || c == '\t';
}

/* Matches one alternative at t[pos]; sets *end past it. */
static bool
detect_alt_at(const char *t, size_t len, size_t pos, const char *alt, size_t n, size_t *end)
{
	size_t i, p = pos;

	for (i = 0; i < n; i++, p++) {
		if (p >= len)
			return false;
		if (alt[i] == '-' && (t[p] == '-' || t[p] == ' '))
			continue;
		if (t[p] != alt[i])
			return false;
	}
	if (fold_is_word((unsigned char)alt[n - 1]) && p < len && fold_is_word((unsigned char)t[p]))
		return false;
	*end = p;
	return true;
}

/* Tries each '|' alternative of the token tok[0..n); returns the length of
 * the one that matched (0: none). */
static size_t
detect_token_at(const char *t, size_t len, size_t pos, const char *tok, size_t n, size_t *end)
{
	const char *a = tok, *bar;
	size_t an;

	while (a < tok + n) {
		bar = memchr(a, '|', (size_t)(tok + n - a));
		an = bar ? (size_t)(bar - a) : (size_t)(tok + n - a);
		if (an > 0 && detect_alt_at(t, len, pos, a, an, end))
			return an + (size_t)(a - tok);
		a += an + 1;
	}
	return 0;
}

static bool
detect_phrase_at(const char *t, size_t len, size_t pos, const char *pat, size_t *end)
{
	const char *tok = pat, *sp;
	size_t n, m, p = pos, q;
	bool glued = true, first = true;

	for (; *tok != '\0'; tok = sp ? sp + 1 : tok + n) {
		sp = strchr(tok, ' ');
		n = sp ? (size_t)(sp - tok) : strlen(tok);
		if (n == 1 && *tok == '@')
			continue;
		q = p;
		while (q < len && detect_space(t[q]))
			q++;
		if (*tok == '!') {
			if (detect_token_at(t, len, q, tok + 1, n - 1, &m) > 0)
				return false;
			break;
		}
		/* "Intro:" and "PO#" need no space before the punctuation. */
		if (!first && !glued && q == p && fold_is_word((unsigned char)*tok))
			return false;
		if ((m = detect_token_at(t, len, first ? p : q, tok, n, &p)) == 0)
			return false;
		glued = tok[m - 1] == '\'';
		first = false;
		if (sp == NULL)
			break;
	}
	*end = p;
	return true;
}

/* Which phrases of a table can match at a byte: the first token after any
 * leading "@" is matched right at the word start, so its alternatives'
 * first bytes are the only ones worth trying there. Ingest runs detection
 * on every message, and trying each phrase at each word was most of its
 * cost. */
struct detect_index {
	const struct detect_phrase *tab;
	size_t n;
	uint64_t first[256];    /* bit i: phrase i may start with this byte */
};

static void
detect_index_phrase(uint64_t *first, const char *pat, uint64_t bit)
{
	const char *tok = pat, *end, *a, *bar;
	size_t c;

	while (tok[0] == '@' && tok[1] == ' ')
		tok += 2;
	if (*tok == '@' || *tok == '!' || *tok == '\0') {
		for (c = 0; c < 256; c++)
			first[c] |= bit;
		return;
	}
	end = tok + strcspn(tok, " ");
	for (a = tok; a < end; a = bar + 1) {
		bar = memchr(a, '|', (size_t)(end - a));
		if (!bar)
			bar = end;
		if (bar > a) {
			first[(unsigned char)*a] |= bit;
			if (*a == '-')
				first[' '] |= bit;
		}
	}
}

/* The index of the first n phrases of tab, built on first use (tables are
 * constant; merci's programs run detection from one thread); NULL when it
 * cannot be had, and every phrase is then tried. */
static const uint64_t *
detect_index_get(const struct detect_phrase *tab, size_t n)
{
	static struct detect_index cache[16];
	static size_t used;
	struct detect_index *x;
	size_t i;

	for (i = 0; i < used; i++)
		if (cache[i].tab == tab && cache[i].n == n)
			return cache[i].first;
	if (n > 64 || used == COUNT(cache))
		return NULL;
	x = &cache[used];
	memset(x, 0, sizeof *x);
	x->tab = tab;
	x->n = n;
	for (i = 0; i < n; i++)
		detect_index_phrase(x->first, tab[i].pat, (uint64_t)1 << i);
	used++;
	return x->first;
}

/* The earliest phrase of tab matching at a word start at or after from. */
static bool
detect_find(const struct fold *f, const struct detect_phrase *tab, size_t n,
	    size_t from, struct detect_hit *hit)
{
	const uint64_t *first = detect_index_get(tab, n);
	size_t pos, i, end;
	uint64_t cand;

	for (pos = from; pos < f->len; pos++) {
		if (pos > 0 && fold_is_word((unsigned char)f->s[pos - 1]))
			continue;
		if (first) {
			/* Lowest bit first: phrases are tried in table order. */
			for (cand = first[(unsigned char)f->s[pos]]; cand; cand &= cand - 1) {
				i = (size_t)__builtin_ctzll(cand);
				if (detect_phrase_at(f->s, f->len, pos, tab[i].pat, &end)) {
					hit->start = pos;
					hit->end = end;
					hit->ph = &tab[i];
					return true;
				}
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			if (detect_phrase_at(f->s, f->len, pos, tab[i].pat, &end)) {
				hit->start = pos;
				hit->end = end;
				hit->ph = &tab[i];
				return true;
			}
		}
	}
	return false;
}

/* ---- names, in the original text ---- */

struct detect_span {
	size_t s, e;
};

static bool
detect_is_cap(const char *o, size_t s)
{
	unsigned char c = (unsigned char)o[s], d = (unsigned char)o[s + 1];

	return (c >= 'A' && c <= 'Z') || (c == 0xc3 && d >= 0x80 && d <= 0x9e && d != 0x97);
}

static bool
detect_word_in(const char *o, struct detect_span w, const char *const *list)
{
	struct fold f;
	bool r = false;
	size_t i;

	fold_text(o + w.s, w.e - w.s, &f);
	for (i = 0; list[i] != NULL && !r; i++)
		r = strcmp(f.s, list[i]) == 0;
	fold_free(&f);
	return r;
}

/* Removes the punctuation around a word ("(Julie," -> "Julie"), « » too. */
static struct detect_span
detect_trim_word(const char *o, size_t s, size_t e)
{
	static const char lead[] = "(\"'<[", trail[] = ",.;:!?)\"'>]";
	struct detect_span w = { s, e };

	for (;;) {
		if (w.s < w.e && strchr(lead, o[w.s]) != NULL)
			w.s++;
		else if (w.s + 1 < w.e && (unsigned char)o[w.s] == 0xc2 &&
		    (unsigned char)o[w.s + 1] == 0xab)
			w.s += 2;
		else
			break;
	}
	for (;;) {
		if (w.e > w.s && strchr(trail, o[w.e - 1]) != NULL)
			w.e--;
		else if (w.e >= w.s + 2 && (unsigned char)o[w.e - 2] == 0xc2 &&
		    (unsigned char)o[w.e - 1] == 0xbb)
			w.e -= 2;
		else
			break;
	}
	return w;
}

/* An address written in place of a name, without its brackets. */
static char *
detect_address(const char *o, struct detect_span w)
{
	const char *at = memchr(o + w.s, '@', w.e - w.s);

	if (at == NULL || at == o + w.s || at + 1 >= o + w.e)
		return NULL;
	return xstrndup(o + w.s, w.e - w.s);
}

static bool
detect_is_name_word(const char *o, struct detect_span w)
{
	return w.e > w.s && detect_is_cap(o, w.s) && !detect_word_in(o, w, detect_not_names) &&
	    !detect_word_in(o, w, detect_titles);
}

static char *
detect_join(const char *o, const struct detect_span *v, size_t n, size_t ncap)
{
	if (ncap == 0)
		return NULL;
	while (n > 0 && !detect_is_cap(o, v[n - 1].s))
		n--;
	return xstrndup(o + v[0].s, v[n - 1].e - v[0].s);
}

/* The name written after a phrase ("de la part de Julie Martin, ..."):
 * 1-4 capitalised words, particles between them, or an address. */
static char *
detect_name_after(const char *o, size_t p)
{
	struct detect_span v[DETECT_NAME_WORDS * 2], w;
	size_t nv = 0, ncap = 0, e;

	while (o[p] == ' ' || o[p] == ':')
		p++;
	while (nv < COUNT(v) && ncap < DETECT_NAME_WORDS) {
		for (e = p; o[e] != '\0' && !detect_space(o[e]); e++)
			;
		w = detect_trim_word(o, p, e);
		if (w.s == w.e)
			break;
		if (nv == 0 && memchr(o + w.s, '@', w.e - w.s) != NULL)
			return detect_address(o, w);
		if (nv == 0 && detect_word_in(o, w, detect_titles)) {
			/* "M. Dupont": the title is not the name */
		} else if (detect_is_name_word(o, w)) {
			v[nv++] = w;
			ncap++;
		} else if (ncap > 0 && w.e == e && detect_word_in(o, w, detect_particles)) {
			v[nv++] = w;
		} else {
			break;
		}
		if (w.e != e || o[e] != ' ')
			break;
		for (p = e; o[p] == ' '; p++)
			;
	}
	return detect_join(o, v, nv, ncap);
}

/* The name written before a phrase ("Julie Martin m'a donné ...",
 * "Julie, qui m'a donné ..."), read backwards from p. */
static char *
detect_name_before(const char *o, size_t p)
{
	struct detect_span v[DETECT_NAME_WORDS * 2], w, tmp;
	size_t nv = 0, ncap = 0, s, i;
	bool skipped = false;

	while (p > 0 && o[p - 1] == ' ')
		p--;
	while (p > 0 && nv < COUNT(v) && ncap < DETECT_NAME_WORDS) {
		for (s = p; s > 0 && !detect_space(o[s - 1]); s--)
			;
		w = detect_trim_word(o, s, p);
		if (w.s == w.e || (w.e != p && nv > 0))
			break;
		if (nv == 0 && memchr(o + w.s, '@', w.e - w.s) != NULL)
			return detect_address(o, w);
		if (nv == 0 && !skipped && (strncmp(o + w.s, "qui", w.e - w.s) == 0 ||
		    strncmp(o + w.s, "who", w.e - w.s) == 0) && w.e - w.s == 3) {
			skipped = true;
		} else if (detect_is_name_word(o, w)) {
			v[nv++] = w;
			ncap++;
		} else if (ncap > 0 && detect_word_in(o, w, detect_particles)) {
			v[nv++] = w;
		} else {
			break;
		}
		if (w.s != s || s == 0 || o[s - 1] != ' ')
			break;
		for (p = s; p > 0 && o[p - 1] == ' '; p--)
			;
	}
	for (i = 0; i < nv / 2; i++) {
		tmp = v[i];
		v[i] = v[nv - 1 - i];
		v[nv - 1 - i] = tmp;
	}
	while (nv > 0 && !detect_is_cap(o, v[0].s)) {
		memmove(v, v + 1, (nv - 1) * sizeof(*v));
		nv--;
	}
	return detect_join(o, v, nv, ncap);
}

/* ---- evidence ---- */

static bool
detect_sentence_end(char c)
{
	return c == '.' || c == '!' || c == '?';
}

/* True when o[p] is the period of an initial or title: "M.", "J.". */
static bool
detect_initial(const char *o, size_t p)
{
	return o[p] == '.' && p >= 1 && o[p - 1] >= 'A' && o[p - 1] <= 'Z' &&
	    (p == 1 || detect_space(o[p - 2]));
}

/* The sentence (or line) around o[s..e), one line, at most 160 bytes. */
static char *
detect_evidence(const char *o, size_t n, size_t s, size_t e)
{
	size_t b = s, x = e, i;
	char *ev;

	while (b > 0 && o[b - 1] != '\n' && !(o[b - 1] == ' ' && b >= 2 &&
	    detect_sentence_end(o[b - 2]) && !detect_initial(o, b - 2)))
		b--;
	/* "j.tremblay@uqar.ca" and "M. Gagnon" do not end a sentence */
	while (x < n && o[x] != '\n' && !(detect_sentence_end(o[x]) &&
	    (x + 1 >= n || detect_space(o[x + 1])) && !detect_initial(o, x)))
		x++;
	if (x < n && detect_sentence_end(o[x]))
		x++;
	if (x - b > DETECT_EVIDENCE_MAX) {
		if (e - b > DETECT_EVIDENCE_MAX)
			b = s;
		if (x - b > DETECT_EVIDENCE_MAX)
			x = b + DETECT_EVIDENCE_MAX;
		while (x > b && ((unsigned char)o[x] & 0xc0) == 0x80)
			x--;
	}
	while (b < x && (o[b] == ' ' || o[b] == '\n'))
		b++;
	while (x > b && (o[x - 1] == ' ' || o[x - 1] == '\n'))
		x--;
	ev = xstrndup(o + b, x - b);
	for (i = 0; ev[i] != '\0'; i++)
		if ((unsigned char)ev[i] < 0x20)
			ev[i] = ' ';
	return ev;
}

/* ---- one message ---- */

struct detect_src {
	const char *o;          /* original text */
	size_t n;
	struct fold f;
};

struct detect_ctx {
	const struct detect_input *in;
	struct detect_src text, subj;
	bool subj_reply;        /* "Re:", "TR:", "Fwd:": the subject is someone else's */
	const char *lang;       /* of the whole text */
	struct detect_event *v;
	size_t n;
};

static void
detect_add(struct detect_ctx *c, enum detect_kind kind, char *who,
	   const struct detect_src *src, size_t s, size_t e, const char *lang)
{
	struct detect_event *ev;

	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	ev = &c->v[c->n++];
	ev->kind = kind;
	ev->who = who;
	ev->evidence = detect_evidence(src->o, src->n, src->f.map[s], src->f.map[e]);
	ev->lang = lang;
}

/* A hit whose flags hold in the original text. */
static bool
detect_hit_ok(const struct detect_src *src, const struct detect_hit *h)
{
	size_t i;

	if (h->ph->flags & DF_UPPER) {
		for (i = src->f.map[h->start]; i < src->f.map[h->end]; i++)
			if (src->o[i] >= 'a' && src->o[i] <= 'z')
				return false;
	}
	return true;
}

static bool
detect_first(const struct detect_src *src, const struct detect_phrase *tab, size_t n,
	     struct detect_hit *h)
{
	size_t from = 0;

	while (detect_find(&src->f, tab, n, from, h)) {
		if (detect_hit_ok(src, h))
			return true;
		from = h->start + 1;
	}
	return false;
}

static size_t
detect_skip_spaces(const struct fold *f, size_t p)
{
	while (p < f->len && detect_space(f->s[p]))
		p++;
	return p;
}

/* "merci de me confirmer" asks, "merci de ton aide" thanks: after "merci
 * de" and object pronouns, an infinitive makes it a request. */
static bool
detect_merci_request(const struct fold *f, size_t end)
{
	static const char *const pronouns[] = {
		"me ", "m'", "nous ", "le ", "la ", "les ", "l'", "lui ", "leur ", "y ",
		"en ", "te ", "t'", "vous ", NULL
	};
	static const char *const not_verbs[] = {
		"avoir", "etre", "votre", "notre", "offre", "lettre", "titre", "ordre",
		"chiffre", "membre", "centre", NULL
	};
	const char *w;
	size_t p = detect_skip_spaces(f, end), n, i;

	if (strncmp(f->s + p, "de ", 3) == 0)
		p += 3;
	else if (strncmp(f->s + p, "d'", 2) == 0)
		p += 2;
	else
		return false;
	for (i = 0; pronouns[i] != NULL; i++)
		if (strncmp(f->s + detect_skip_spaces(f, p), pronouns[i], strlen(pronouns[i])) == 0) {
			p = detect_skip_spaces(f, p) + strlen(pronouns[i]);
			break;
		}
	w = f->s + detect_skip_spaces(f, p);
	for (n = 0; fold_is_word((unsigned char)w[n]); n++)
		;
	for (i = 0; not_verbs[i] != NULL; i++)
		if (n == strlen(not_verbs[i]) && strncmp(w, not_verbs[i], n) == 0)
			return false;
	return n > 3 && (strncmp(w + n - 2, "er", 2) == 0 || strncmp(w + n - 2, "ir", 2) == 0 ||
	    strncmp(w + n - 2, "re", 2) == 0);
}

/* ---- introductions ---- */

static bool
detect_is_identity(const struct detect_input *in, const char *email)
{
	size_t i;

	for (i = 0; i < in->n_identities; i++)
		if (in->identities[i] != NULL && strcasecmp(in->identities[i], email) == 0)
			return true;
	return false;
}

/* Distinct To/Cc addresses that are neither an identity nor the sender. */
static size_t
detect_third_parties(const struct detect_input *in)
{
	const struct msg_addr_list *l[2] = { &in->m->to, &in->m->cc };
	const char *from = in->m->from.n ? in->m->from.v[0].email : NULL;
	const char *seen[16];
	size_t n = 0, i, k, j;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < l[k]->n && n < COUNT(seen); i++) {
			const char *e = l[k]->v[i].email;

			if (e == NULL || detect_is_identity(in, e) ||
			    (from != NULL && strcasecmp(e, from) == 0))
				continue;
			for (j = 0; j < n && strcasecmp(seen[j], e) != 0; j++)
				;
			if (j == n)
				seen[n++] = e;
		}
	}
	return n;
}

/* Capitalised word right before (dir < 0) or after (dir > 0) p in the
 * original subject, across spaces. */
static bool
detect_cap_beside(const char *o, size_t n, size_t p, int dir)
{
	if (dir < 0) {
		while (p > 0 && o[p - 1] == ' ')
			p--;
		while (p > 0 && o[p - 1] != ' ')
			p--;
		return p < n && detect_is_cap(o, p);
	}
	while (p < n && o[p] == ' ')
		p++;
	return p < n && detect_is_cap(o, p);
}

/* "Julie Martin / Marc Roy": the whole subject is names around one '/'. */
static bool
detect_names_pair(const char *o, size_t n, size_t slash)
{
	size_t i, words = 0;
	bool new_word = true;

	for (i = 0; i < n; i++) {
		if (i == slash || o[i] == ' ') {
			new_word = true;
			continue;
		}
		if (o[i] == '/' || o[i] == ':' || o[i] == '?' || (o[i] >= '0' && o[i] <= '9'))
			return false;
		if (new_word && !detect_is_cap(o, i))
			return false;
		if (new_word)
			words++;
		new_word = false;
	}
	return words >= 2 && words <= 8;
}

/* Subject forms: "Intro: ...", "Introduction -", "Présentation :", "mise en
 * relation", "A <> B", "A / B". Returns the language, NULL when none. */
static const char *
detect_intro_subject(const struct detect_ctx *c)
{
	static const struct detect_phrase forms[] = {
		{ "introduction|presentation :|-", NULL, 0 },
		{ "mise en relation|contact", "fr", 0 }, { "intro :|-", NULL, 0 },
		{ "quick|double|email intro", "en", 0 }, { "<>", NULL, 0 },
		{ "<->", NULL, 0 }, { "\xe2\x86\x94", NULL, 0 },
	};
	const struct detect_src *s = &c->subj;
	struct detect_hit h;
	const char *slash;
	size_t from = 0;

	if (s->n == 0 || c->subj_reply)
		return NULL;
	if (detect_phrase_at(s->f.s, s->f.len, detect_skip_spaces(&s->f, 0), "intro", &h.end))
		return c->lang;
	while (detect_find(&s->f, forms, COUNT(forms), from, &h)) {
		from = h.start + 1;
		if (h.ph->pat[0] != '<' && h.ph->pat[0] != '\xe2')
			return h.ph->lang ? h.ph->lang : c->lang;
		if (detect_cap_beside(s->o, s->n, s->f.map[h.start], -1) &&
		    detect_cap_beside(s->o, s->n, s->f.map[h.end], 1))
			return c->lang;
	}
	slash = strchr(s->o, '/');
	if (slash != NULL && detect_names_pair(s->o, s->n, (size_t)(slash - s->o)))
		return c->lang;
	return NULL;
}

/* The text form of an introduction; "meet @" needs a name after it. */
static bool
detect_intro_text(const struct detect_ctx *c, struct detect_hit *h)
{
	const struct detect_src *t = &c->text;
	size_t from = 0;
	char *name;

	while (detect_find(&t->f, detect_intro, COUNT(detect_intro), from, h)) {
		from = h->start + 1;
		if (strchr(h->ph->pat, '@') == NULL)
			return true;
		if ((name = detect_name_after(t->o, t->f.map[h->end])) != NULL) {
			free(name);
			return true;
		}
	}
	return false;
}

static void
detect_intros(struct detect_ctx *c)
{
	const struct detect_input *in = c->in;
	enum detect_kind kind = in->outbound ? DETECT_INTRO_GIVEN : DETECT_INTRO_RECEIVED;
	size_t need = in->outbound ? 2 : 1;
	struct detect_hit h;
	const char *lang;

	if (detect_third_parties(in) < need)
		return;
	if (detect_intro_text(c, &h))
		detect_add(c, kind, NULL, &c->text, h.start, h.end, h.ph->lang);
	else if ((lang = detect_intro_subject(c)) != NULL)
		detect_add(c, kind, NULL, &c->subj, 0, c->subj.f.len, lang);
}

/* ---- referrals and leads ---- */

static void
detect_referrals(struct detect_ctx *c)
{
	const struct detect_src *t = &c->text;
	struct detect_hit h;
	size_t from = 0;
	char *who;

	while (detect_find(&t->f, detect_referral, COUNT(detect_referral), from, &h)) {
		from = h.start + 1;
		if (h.ph->pat[0] == '@')
			who = detect_name_before(t->o, t->f.map[h.start]);
		else
			who = detect_name_after(t->o, t->f.map[h.end]);
		if (who != NULL) {
			detect_add(c, DETECT_REFERRAL_MENTION, who, t, h.start, h.end, h.ph->lang);
			return;
		}
	}
}

/* One event of kind from the first phrase of tab in the text, else in the
 * subject (when with_subject). */
static void
detect_simple(struct detect_ctx *c, enum detect_kind kind, const struct detect_phrase *tab,
	      size_t n, bool with_subject)
{
	struct detect_hit h;

	if (detect_first(&c->text, tab, n, &h))
		detect_add(c, kind, NULL, &c->text, h.start, h.end, h.ph->lang);
	else if (with_subject && detect_first(&c->subj, tab, n, &h))
		detect_add(c, kind, NULL, &c->subj, h.start, h.end, h.ph->lang);
}

/* ---- thanks and questions ---- */

static bool
detect_thanks_in(const struct detect_src *src, struct detect_hit *h)
{
	size_t from = 0;

	while (detect_find(&src->f, detect_thanks, COUNT(detect_thanks), from, h)) {
		from = h->start + 1;
		if (!(h->ph->flags & DF_MERCI) || !detect_merci_request(&src->f, h->end))
			return true;
	}
	return false;
}

static void
detect_gratitude(struct detect_ctx *c)
{
	struct detect_hit h;

	if (detect_thanks_in(&c->text, &h))
		detect_add(c, DETECT_THANKS, NULL, &c->text, h.start, h.end, h.ph->lang);
	else if (!c->subj_reply && detect_thanks_in(&c->subj, &h))
		detect_add(c, DETECT_THANKS, NULL, &c->subj, h.start, h.end, h.ph->lang);
}

/* The first '?' that ends a question, not one inside a URL's query. */
static bool
detect_question_mark(const struct detect_src *src, size_t *at)
{
	const char *o = src->o, *q;
	size_t s, i;
	bool url;

	for (q = strchr(o, '?'); q != NULL; q = strchr(q + 1, '?')) {
		for (s = (size_t)(q - o); s > 0 && !detect_space(o[s - 1]); s--)
			;
		url = false;
		for (i = s; o + i < q && !url; i++)
			url = strncmp(o + i, "://", 3) == 0 || strncmp(o + i, "www.", 4) == 0;
		if (url || (q[1] != '\0' && !detect_space(q[1]) && strchr("?!)»\"'.", q[1]) == NULL &&
		    (unsigned char)q[1] != 0xc2))
			continue;
		/* back to a folded offset: the '?' is ASCII, folded 1:1 */
		for (i = 0; i < src->f.len && src->f.map[i] != (size_t)(q - o); i++)
			;
		if (i < src->f.len) {
			*at = i;
			return true;
		}
	}
	return false;
}

/* A request phrase that is not a closing formula ("let me know if you
 * have any questions"), nor "merci de me confirmer". */
static bool
detect_request_in(const struct detect_src *src, struct detect_hit *h)
{
	struct detect_hit k;
	size_t from = 0, end;

	while (detect_find(&src->f, detect_request, COUNT(detect_request), from, h)) {
		from = h->start + 1;
		if (detect_find(&src->f, detect_closings, COUNT(detect_closings), h->start, &k) &&
		    k.start == h->start)
			continue;
		return true;
	}
	for (from = 0; detect_find(&src->f, detect_thanks, 1, from, h); from = h->start + 1) {
		if (detect_merci_request(&src->f, h->end)) {
			end = detect_skip_spaces(&src->f, h->end);
			h->end = end < src->f.len ? end + 1 : end;
			return true;
		}
	}
	return false;
}

static void
detect_question(struct detect_ctx *c)
{
	struct detect_hit h;
	size_t at;

	if (detect_question_mark(&c->text, &at))
		detect_add(c, DETECT_QUESTION, NULL, &c->text, at, at + 1, c->lang);
	else if (detect_request_in(&c->text, &h))
		detect_add(c, DETECT_QUESTION, NULL, &c->text, h.start, h.end, h.ph->lang);
	else if (!c->subj_reply && detect_question_mark(&c->subj, &at))
		detect_add(c, DETECT_QUESTION, NULL, &c->subj, at, at + 1,
		    detect_language(c->subj.o));
}

/* ---- entry points ---- */

static bool
detect_subject_is_reply(const struct fold *f)
{
	static const char *const prefixes[] = {
		"re", "tr", "fw", "fwd", "aw", "wg", "ref", "rep", "r", NULL
	};
	size_t p = detect_skip_spaces(f, 0), i, n;

	if (p < f->len && f->s[p] == '[')
		return false;
	for (i = 0; prefixes[i] != NULL; i++) {
		n = strlen(prefixes[i]);
		if (strncmp(f->s + p, prefixes[i], n) == 0) {
			p = detect_skip_spaces(f, p + n);
			if (p < f->len && f->s[p] == ':')
				return true;
			p = detect_skip_spaces(f, 0);
		}
	}
	return false;
}

static void
detect_src_init(struct detect_src *src, const char *s)
{
	src->o = s ? s : "";
	src->n = strlen(src->o);
	fold_text(src->o, src->n, &src->f);
}

size_t
detect_message(const struct detect_input *in, struct detect_event **out)
{
	struct detect_ctx c = { .in = in };

	*out = NULL;
	if (in == NULL || in->m == NULL)
		return 0;
	detect_src_init(&c.text, in->text);
	detect_src_init(&c.subj, in->m->subject);
	c.subj_reply = detect_subject_is_reply(&c.subj.f);
	c.lang = detect_language(c.text.n > 0 ? c.text.o : c.subj.o);
	detect_intros(&c);
	if (!in->outbound) {
		detect_referrals(&c);
		detect_simple(&c, DETECT_LEAD_RECEIVED, detect_lead, COUNT(detect_lead), false);
	}
	detect_simple(&c, DETECT_MANDATE_SIGNAL, detect_mandate, COUNT(detect_mandate), true);
	detect_gratitude(&c);
	detect_question(&c);
	fold_free(&c.text.f);
	fold_free(&c.subj.f);
	*out = c.v;
	return c.n;
}

void
detect_events_free(struct detect_event *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].who);
		free(v[i].evidence);
	}
	free(v);
}

/* The marker words of detect_language, both languages in one table sorted
 * by bytes, so each word of the text costs one binary search. */
struct detect_marker {
	const char *w;
	unsigned char len;
	bool fr;                /* else English */
};

static const struct detect_marker *
detect_marker_find(const char *w, size_t n)
{
	static const struct detect_marker markers[] = {
		{ "and", 3, 0 }, { "are", 3, 0 }, { "at", 2, 0 }, { "au", 2, 1 },
		{ "avec", 4, 1 }, { "be", 2, 0 }, { "bonjour", 7, 1 }, { "can", 3, 0 },
		{ "dans", 4, 1 }, { "des", 3, 1 }, { "du", 2, 1 }, { "est", 3, 1 },
		{ "et", 2, 1 }, { "for", 3, 0 }, { "have", 4, 0 }, { "hi", 2, 0 },
		{ "is", 2, 0 }, { "it", 2, 0 }, { "je", 2, 1 }, { "la", 2, 1 },
		{ "le", 2, 1 }, { "les", 3, 1 }, { "mais", 4, 1 }, { "merci", 5, 1 },
		{ "nous", 4, 1 }, { "of", 2, 0 }, { "pas", 3, 1 }, { "please", 6, 0 },
		{ "pour", 4, 1 }, { "que", 3, 1 }, { "qui", 3, 1 }, { "sur", 3, 1 },
		{ "thanks", 6, 0 }, { "that", 4, 0 }, { "the", 3, 0 }, { "this", 4, 0 },
		{ "to", 2, 0 }, { "une", 3, 1 }, { "vous", 4, 1 }, { "we", 2, 0 },
		{ "will", 4, 0 }, { "with", 4, 0 }, { "you", 3, 0 }, { "your", 4, 0 },
	};
	size_t lo = 0, hi = COUNT(markers), mid, k, i;
	int c;

	if (n < 2 || n > 7)
		return NULL;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		k = n < markers[mid].len ? n : markers[mid].len;
		/* Words of a few bytes: a call to memcmp would cost more. */
		for (i = 0, c = 0; i < k && c == 0; i++)
			c = (unsigned char)w[i] - (unsigned char)markers[mid].w[i];
		if (c == 0)
			c = n < markers[mid].len ? -1 : n > markers[mid].len;
		if (c == 0)
			return &markers[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *
detect_language(const char *text)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	const struct detect_marker *mk;
	struct fold f;
	size_t i = 0, n, nfr = 0, nen = 0;

	for (; *p != '\0'; p++)
		if (*p == 0xc3 && p[1] >= 0xa0 && p[1] <= 0xbf)
			nfr++;
	fold_text(text ? text : "", strlen(text ? text : ""), &f);
	while (i < f.len) {
		for (n = 0; i + n < f.len && fold_is_word((unsigned char)f.s[i + n]); n++)
			;
		if ((mk = detect_marker_find(f.s + i, n)) != NULL) {
			if (mk->fr)
				nfr++;
			else
				nen++;
		}
		i += n ? n : 1;
	}
	fold_free(&f);
	return nen > nfr ? "en" : "fr";
}
