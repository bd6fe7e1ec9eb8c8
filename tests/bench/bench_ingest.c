/* bench_ingest: what the parent of mercid spends per message, without IMAP.
 *
 * Generates N realistic messages in memory (a freelancer's mailbox: about
 * 3,000 correspondents, inbound and outbound, threads with References,
 * replies that lost them, automated mail, French and English subjects, a
 * text prefix on half), then times, each in batches of 500 per transaction
 * as the daemon commits them:
 *   - record decode: the frames the IMAP child sends, decoded again (the
 *     parent's work before ingest);
 *   - bare insert: the exchange rows alone into a table of the same shape
 *     (the floor any store of one row per message pays);
 *   - ingest: ingest_message for every message, then the checkpoint.
 * Prints microseconds per message and the ratio ingest / bare insert. No
 * assertion on time: figures depend on the machine.
 *
 * Usage: bench_ingest [N]   (default 20000; a small N suits callgrind)
 * With BENCH_KEEP set, the stores are kept and their directory printed
 * (for EXPLAIN QUERY PLAN on a realistic store). */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ingest.h"
#include "msg.h"
#include "record.h"
#include "store.h"
#include "store_p.h"
#include "thread.h"
#include "xalloc.h"

#define BATCH 500
#define N_PEOPLE 3000
#define T0 1735732800   /* 2025-01-01T12:00:00Z */

static char *identities[] = { "camille@roy-conseil.fr", "camille.roy@gmail.com" };

/* ---- a deterministic generator (xorshift64*) ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t
rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

/* True with probability pct %. */
static int
rng_pct(unsigned pct)
{
	return rng_below(100) < pct;
}

#define PICK(a) ((a)[rng_below(sizeof(a) / sizeof((a)[0]))])

/* ---- the people ---- */

static const char *const firsts[] = {
	"Amélie", "Julien", "Sophie", "Thomas", "Élodie", "Nicolas", "Claire",
	"Mathieu", "Léa", "Antoine", "Chloé", "François", "Manon", "Hugo",
	"Inès", "Louis", "Camille", "Pierre", "Zoé", "Étienne", "Sarah", "David",
	"Emma", "James", "Olivia", "Michael", "Emily", "Daniel", "Grace",
	"William", "Hannah", "Robert", "Alice", "Paul", "Laura", "Marc",
	"Nathalie", "Benoît", "Agathe", "Victor",
};
static const char *const lasts[] = {
	"Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin",
	"Lavoie", "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque",
	"Bergeron", "Leblanc", "Paquette", "Girard", "Simard", "Boucher", "Caron",
	"Beaulieu", "Cloutier", "Dubé", "Poirier", "Fournier", "Lapointe",
	"Leclerc", "Lefebvre", "Poulin", "Thibault", "St-Pierre", "Nadeau",
	"Martin", "Landry", "Martel", "Bédard", "Grenier", "Lessard", "Bernier",
	"Richard", "Michaud", "Hébert", "Desjardins", "Couture", "Turcotte",
	"Lachance", "Parent", "Blais", "Gosselin", "Smith", "Johnson", "Brown",
	"Taylor", "Wilson", "Davies", "Evans", "Thomas", "Walker", "White",
	"Harris", "Clarke", "Lewis", "Young", "Wright", "Hall", "Allen", "King",
	"Scott", "Green", "Baker", "Adams", "Hill", "Moore", "Wood", "Jackson",
	"Dupont", "Durand", "Moreau", "Laurent",
};
static const char *const domains[] = {
	"gmail.com", "outlook.fr", "orange.fr", "free.fr", "yahoo.com",
	"acme-conseil.fr", "studio-nord.com", "bureau-ouest.fr", "lumen.io",
	"datavista.com", "atelier-bleu.fr", "kiwi-agency.co.uk", "northwind.com",
	"fabrique.coop", "cabinet-lb.fr", "helios-tech.de", "mairie-lyon.fr",
	"univ-paris.fr", "proton.me", "laposte.net",
};
static const char *const bots[] = {
	"newsletter@lemonde.fr", "noreply@github.com", "no-reply@linkedin.com",
	"notifications@slack.com", "info@malt.fr", "facturation@ovh.com",
	"news@medium.com", "digest@substack.com", "alerts@indeed.fr",
	"mailer-daemon@roy-conseil.fr",
};

struct person {
	char *name;     /* NULL: none in the header */
	char *email;
};

static struct person people[N_PEOPLE];

/* Lower-case ASCII of a name, accents dropped, for the local part. */
static void
ascii_lower(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			buf_addc(b, (char)(*p + 32));
		else if ((*p >= 'a' && *p <= 'z') || *p == '-')
			buf_addc(b, (char)*p);
		else if (*p == 0xc3 && p[1]) {
			/* é è ê ë É -> e, and so on: close enough for addresses. */
			unsigned char c = *++p;
			buf_addc(b, c >= 0xa8 && c <= 0xab ? 'e' : c == 0x89 ? 'e' :
				 c >= 0xa0 && c <= 0xa5 ? 'a' : c == 0xb4 ? 'o' :
				 c == 0xa7 ? 'c' : c == 0xaf || c == 0xae ? 'i' : 'u');
		}
	}
}

static void
people_make(void)
{
	size_t i, nf = sizeof firsts / sizeof firsts[0], nl = sizeof lasts / sizeof lasts[0];

	for (i = 0; i < N_PEOPLE; i++) {
		/* A few people write from two addresses under the same name. */
		size_t k = i % 50 == 49 ? i - 1 : i;
		const char *f = firsts[(k * 7) % nf], *l = lasts[(k / nf + k) % nl];
		struct buf b = { 0 };

		ascii_lower(&b, f);
		buf_addc(&b, '.');
		ascii_lower(&b, l);
		buf_printf(&b, "%zu@%s", i, domains[(i * 13 + (k != i)) % (sizeof domains / sizeof domains[0])]);
		people[i].email = b.data;
		people[i].name = i % 10 == 3 ? NULL : xasprintf("%s %s", f, l);
	}
}

/* Popular correspondents write often: a skewed pick. */
static const struct person *
person_pick(void)
{
	size_t a = rng_below(N_PEOPLE), b = rng_below(N_PEOPLE);

	return &people[rng_pct(60) ? (a < b ? a : b) / 4 : a];
}

/* ---- the messages ---- */

/* Most mail is ordinary work; a few subjects and sentences carry what
 * detection looks for (introductions, referrals, contracts, thanks). */
static const char *const subjects[] = {
	"Devis refonte site", "Point hebdo", "Proposition de mission",
	"Facture mars", "Réunion de lancement", "Question sur le planning",
	"Disponibilités juin", "Project kickoff", "Quick question", "Follow-up",
	"Invoice April", "Call next week?", "Coffee?", "Atelier UX",
	"Compte rendu", "Retour sur la maquette", "Budget 2025", "Candidature",
	"Roadmap Q3", "Pourriez-vous relire ?", "Documents pour le dossier",
	"Welcome aboard", "Ordre du jour", "Slides", "Accès au serveur",
};
static const char *const signal_subjects[] = {
	"Mise en relation : Sophie / Marc", "Intro: Emma <> Paul", "Contrat signé",
	"Bon de commande", "Merci pour la recommandation", "Statement of work",
	"De la part de Julien", "Connecting you two",
};
static const char *const bot_subjects[] = {
	"Votre facture est disponible", "Weekly digest", "[GitHub] New issue",
	"Nouvelles offres de mission", "Your password was changed",
	"La lettre du jour", "Delivery Status Notification (Failure)",
};
static const char *const sentences[] = {
	"Bonjour, je reviens vers vous au sujet de notre échange de la semaine dernière.",
	"Hi, thanks for your time yesterday, it was great to meet you.",
	"Pourriez-vous m'envoyer le devis mis à jour avant vendredi ?",
	"Could you let me know your availability for a call next week?",
	"Voici le compte rendu de la réunion, avec les points ouverts.",
	"Je suis disponible mardi ou jeudi après-midi si cela vous convient.",
	"Let me know if you have any questions about the proposal.",
	"Bonne journée, et à bientôt.",
	"Nous avons bien reçu votre facture, le paiement partira sous trente jours.",
	"Can you share the slides from the workshop?",
	"Je me permets de vous relancer concernant ma proposition.",
	"La maquette est en ligne sur le serveur de recette, les liens suivent.",
	"We moved the release to the end of the month to leave room for testing.",
	"Le client souhaite revoir la page d'accueil et le parcours de commande.",
	"Attached are the figures for the last quarter, as discussed.",
	"J'ai ajouté mes remarques directement dans le document partagé.",
};
static const char *const signal_sentences[] = {
	"Je vous présente Sophie, qui cherche justement une consultante UX.",
	"I'd like to introduce you to Marc, he runs a small studio in Lyon.",
	"Julien Morin m'a donné vos coordonnées, il m'a dit beaucoup de bien de vous.",
	"Le contrat est signé de notre côté, vous le trouverez en pièce jointe.",
	"Merci beaucoup pour ton aide sur ce dossier, c'était précieux.",
	"Je t'ai recommandée à une amie qui lance son entreprise.",
	"The purchase order has been approved, we can start on Monday.",
};

struct thread_state {
	char *root;       /* Message-ID of its first message */
	char *last;       /* Message-ID of its latest message */
	const char *subject;
	const struct person *peer;
};

#define N_OPEN 200

static void
addr_add(struct msg_addr_list *l, const struct person *p)
{
	msg_addr_list_add(l, p->name, p->email);
}

static char *
text_make(void)
{
	struct buf b = { 0 };

	while (b.len < 200 + rng_below(300)) {
		if (b.len)
			buf_addc(&b, ' ');
		buf_adds(&b, rng_pct(4) ? PICK(signal_sentences) : PICK(sentences));
	}
	return b.data;
}

static void
msg_make(struct msg *m, size_t i, struct thread_state *open)
{
	const int out = rng_pct(35), bot = !out && rng_pct(10);
	const struct person *peer = person_pick();
	struct thread_state *t = NULL;
	size_t k, nrcpt;

	memset(m, 0, sizeof *m);
	m->uid = (uint32_t)i + 1;
	m->folder = xstrdup("INBOX");
	m->date = T0 + (int64_t)i * 600 + (int64_t)rng_below(600);
	m->message_id = xasprintf("%zu.%08llx@%s", i, (unsigned long long)rng_next() & 0xffffffffULL,
				  out ? "roy-conseil.fr" : "mail.example.com");
	if (bot) {
		msg_addr_list_add(&m->from, NULL, PICK(bots));
		msg_addr_list_add(&m->to, NULL, identities[0]);
		m->subject = xstrdup(PICK(bot_subjects));
		if (rng_pct(50))
			m->list_id = xstrdup("<news.lists.example.com>");
		else
			m->precedence = xstrdup("bulk");
		m->list_unsubscribe = true;
		return;
	}
	/* 60 % continue a running thread, with its peer. */
	if (rng_pct(60)) {
		t = &open[rng_below(N_OPEN)];
		if (t->root)
			peer = t->peer;
		else
			t = NULL;
	}
	if (out) {
		msg_addr_list_add(&m->from, "Camille Roy", identities[rng_pct(80) ? 0 : 1]);
		addr_add(&m->to, peer);
	} else {
		addr_add(&m->from, peer);
		msg_addr_list_add(&m->to, "Camille Roy", identities[0]);
	}
	nrcpt = 1 + (rng_pct(40) ? rng_below(4) : 0);
	for (k = 1; k < nrcpt; k++)
		addr_add(rng_pct(50) ? &m->to : &m->cc, person_pick());
	if (t && rng_pct(90)) {
		m->subject = xasprintf("%s%s", rng_pct(50) ? "Re: " : "RE : ", t->subject);
		m->in_reply_to = xstrdup(t->last);
		m->references = t->root == t->last ? xstrdup(t->root) :
				xasprintf("%s %s", t->root, t->last);
		free(t->last == t->root ? NULL : t->last);
		t->last = xstrdup(m->message_id);
	} else if (t) {
		/* A client that drops References: only the subject says reply. */
		m->subject = xasprintf("RE : %s", t->subject);
	} else {
		t = &open[rng_below(N_OPEN)];
		if (t->last != t->root)
			free(t->last);
		free(t->root);
		t->subject = rng_pct(8) ? PICK(signal_subjects) : PICK(subjects);
		t->peer = peer;
		t->root = xstrdup(m->message_id);
		t->last = t->root;
		m->subject = xstrdup(t->subject);
	}
	if (rng_pct(50))
		m->text_prefix = text_make();
}

/* ---- timing ---- */

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct store *
store_fresh(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s.db", dir, name), *err = NULL;
	struct store *st;

	if (store_open(path, STORE_RW, &st, &err) < 0) {
		fprintf(stderr, "bench_ingest: %s\n", err);
		exit(1);
	}
	free(path);
	return st;
}

static void
die_store(const char *what)
{
	fprintf(stderr, "bench_ingest: %s failed\n", what);
	exit(1);
}

/* The frames the child would send, decoded as the parent does. */
static double
bench_decode(const struct msg *v, size_t n)
{
	struct buf wire = { 0 };
	size_t i, off = 0, used;
	const char *why;
	double t;

	for (i = 0; i < n; i++) {
		struct record r = { .type = REC_MSG, .msg = v[i] };

		r.folder = v[i].folder;
		record_encode(&r, &wire);
	}
	t = now_us();
	for (i = 0; i < n; i++) {
		struct record r;

		if (record_decode(wire.data + off, wire.len - off, &r, &used, &why) != 1) {
			fprintf(stderr, "bench_ingest: record_decode: %s\n", why);
			exit(1);
		}
		off += used;
		record_free(&r);
	}
	t = now_us() - t;
	buf_free(&wire);
	return t;
}

/* One row per message into a table shaped like exchange, no other index:
 * the floor of any store. */
static double
bench_bare(const char *dir, const struct msg *v, char *const *keys, size_t n)
{
	struct store *st = store_fresh(dir, "bare");
	sqlite3_stmt *s;
	double t;
	size_t i;

	if (sqlite3_exec(st->db,
	    "CREATE TABLE bare (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,"
	    " msg_key TEXT NOT NULL, message_id TEXT, folder TEXT NOT NULL,"
	    " uid INTEGER NOT NULL, direction TEXT NOT NULL, date INTEGER NOT NULL,"
	    " subject TEXT, subject_norm TEXT, thread_key TEXT NOT NULL,"
	    " in_reply_to TEXT, automated TEXT, UNIQUE (account_id, msg_key))",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
	    "INSERT INTO bare (account_id, msg_key, message_id, folder, uid, direction,"
	    " date, subject, subject_norm, thread_key, in_reply_to, automated)"
	    " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?1, ?8, NULL)", -1, &s, NULL) != SQLITE_OK)
		die_store("creating the bare table");
	t = now_us();
	for (i = 0; i < n; i++) {
		if (i % BATCH == 0 && store_begin(st) < 0)
			die_store("begin");
		sqlite3_bind_text(s, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, v[i].message_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, v[i].folder, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, v[i].uid);
		sqlite3_bind_text(s, 5, v[i].from.n && strcmp(v[i].from.v[0].email,
			identities[0]) == 0 ? "out" : "in", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, v[i].date);
		sqlite3_bind_text(s, 7, v[i].subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, v[i].in_reply_to, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			die_store("bare insert");
		sqlite3_reset(s);
		if ((i % BATCH == BATCH - 1 || i == n - 1) && store_commit(st) < 0)
			die_store("commit");
	}
	t = now_us() - t;
	sqlite3_finalize(s);
	store_close(st);
	return t;
}

static double
bench_ingest(const char *dir, const struct config *cfg, const struct msg *v, size_t n,
	     size_t *n_new)
{
	struct store *st = store_fresh(dir, "ingest");
	enum ingest_result res;
	int64_t acc;
	double t;
	size_t i;

	if (store_account_ensure(st, "bench", &acc) < 0)
		die_store("account");
	*n_new = 0;
	t = now_us();
	for (i = 0; i < n; i++) {
		if (i % BATCH == 0 && store_begin(st) < 0)
			die_store("begin");
		if (ingest_message(st, cfg, acc, &v[i], T0, &res) < 0)
			die_store("ingest_message");
		*n_new += res == INGEST_NEW;
		if ((i % BATCH == BATCH - 1 || i == n - 1) &&
		    (store_folder_checkpoint(st, acc, "INBOX", 1, v[i].uid, T0) < 0 ||
		     store_commit(st) < 0))
			die_store("checkpoint");
	}
	t = now_us() - t;
	store_close(st);
	return t;
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

int
main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct thread_state open[N_OPEN] = { { 0 } };
	const char *tmp = getenv("TMPDIR");
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000, i, n_new;
	struct msg *v;
	char **keys, *dir;
	double t_dec, t_bare, t_ing;

	if (n == 0) {
		fprintf(stderr, "usage: bench_ingest [N]\n");
		return 2;
	}
	cfg.owner_email = identities[0];
	cfg.identities = identities;
	cfg.n_identities = 2;
	people_make();
	v = xcalloc(n, sizeof *v);
	keys = xcalloc(n, sizeof *keys);
	for (i = 0; i < n; i++) {
		msg_make(&v[i], i, open);
		keys[i] = ingest_message_key(&v[i]);
	}
	dir = xasprintf("%s/bench-ingest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "bench_ingest: mkdtemp %s: %s\n", dir, strerror(errno));
		return 1;
	}
	t_dec = bench_decode(v, n);
	t_bare = bench_bare(dir, v, keys, n);
	t_ing = bench_ingest(dir, &cfg, v, n, &n_new);

	printf("bench_ingest: %zu messages (%zu new), batches of %d\n", n, n_new, BATCH);
	printf("  record decode (parent, before ingest)  %8.2f us/msg\n", t_dec / (double)n);
	printf("  bare INSERT of the exchange rows       %8.2f us/msg\n", t_bare / (double)n);
	printf("  ingest_message + checkpoint            %8.2f us/msg\n", t_ing / (double)n);
	printf("  ratio ingest / bare insert             %8.2f\n", t_ing / t_bare);

	if (getenv("BENCH_KEEP"))
		printf("  stores kept in %s\n", dir);
	else
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(dir);
	for (i = 0; i < n; i++) {
		msg_free(&v[i]);
		free(keys[i]);
	}
	free(v);
	free(keys);
	for (i = 0; i < N_OPEN; i++) {
		if (open[i].last != open[i].root)
			free(open[i].last);
		free(open[i].root);
	}
	for (i = 0; i < N_PEOPLE; i++) {
		free(people[i].name);
		free(people[i].email);
	}
	return 0;
}
