/* cmd_report: "merci report": the owner's network at a glance, in the
 * owner's language. Two habits keep a freelancer's network working: thank
 * and return favours, and keep prospecting, since the second mission comes
 * on average six months after the first. The report shows both: where the
 * mandates came from, the gaps between them, who referred the owner and
 * whether they were thanked, favours to return, contacts going cold, and
 * the reminders waiting. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "output.h"
#include "store_report.h"
#include "timeutil.h"

static const char usage_report[] =
	"usage: merci report [--since DATE] [--json]\n"
	"\n"
	"Your network at a glance: the share of mandates that came from referrals,\n"
	"the days between consecutive mandates (mean and last) against the six-month\n"
	"gap freelancers fall into, who referred you and whether you thanked them,\n"
	"favours received and not returned, network contacts going cold, and the\n"
	"reminders waiting. --since DATE (YYYY-MM-DD) counts only the mandates,\n"
	"referrals and favours since then.\n";

#define DAY 86400
/* Past this many days without a new mandate, the report warns: a month
 * before the six-month gap, while prospecting can still close it. */
#define GAP_WARN_DAYS 150
/* Rows of each human table; --json lists them all. */
#define TABLE_ROWS 10

/* The words of the human report, French first. */
struct report_words {
	const char *mandates, *from_referrals, *mean_gap, *last_gap, *current_gap;
	const char *no_mandate, *gap, *gaps, *days, *started;
	const char *referrers, *owed, *cold, *nudges, *total, *none;
	const char *h_referrers[5], *h_owed[5], *h_cold[4];
	const char *yes, *no;
	const char *kinds[STORE_REPORT_N_KINDS];
};

static const struct report_words words_fr = {
	"Mandats confirmés ou terminés", "Venus d'une recommandation",
	"Écart moyen entre deux mandats", "Dernier écart", "Depuis le dernier mandat",
	"aucun mandat confirmé ou terminé", "écart", "écarts", "jours", "début le",
	"Qui vous recommande", "Faveurs à rendre", "Contacts qui refroidissent",
	"Rappels en attente", "total", "aucun",
	{ "CONTACT", "RECOMMANDATIONS", "MANDATS", "REMERCIÉ", "DERNIÈRE" },
	{ "CONTACT", "À RENDRE", "REÇUES", "RENDUES", "DEPUIS" },
	{ "CONTACT", "DERNIER ÉCHANGE", "JOURS", "RYTHME" },
	"oui", "non",
	{ "remerciement", "réciprocité", "garder le contact", "relance", "prospection" },
};

static const struct report_words words_en = {
	"Mandates confirmed or ended", "Came from a referral",
	"Mean gap between mandates", "Last gap", "Since the last mandate",
	"no confirmed or ended mandate", "gap", "gaps", "days", "started",
	"Who refers you", "Favours to return", "Contacts going cold",
	"Reminders waiting", "total", "none",
	{ "CONTACT", "REFERRALS", "MANDATES", "THANKED", "LAST" },
	{ "CONTACT", "OWED", "RECEIVED", "GIVEN", "SINCE" },
	{ "CONTACT", "LAST EXCHANGE", "DAYS", "CADENCE" },
	"yes", "no",
	{ "thank-you", "reciprocity", "keep-in-touch", "follow-up", "prospecting" },
};

struct report_ctx {
	struct store_report_opts opts;
	const struct report_words *w;
	bool fr;
	bool colour;
};

/* Whole days in a span of seconds, rounded to the nearest. */
static long long
report_days(int64_t seconds)
{
	return (long long)((seconds + DAY / 2) / DAY);
}

static int64_t
report_current_gap(const struct report_ctx *x, const struct store_report *r)
{
	return r->last_start ? x->opts.now - r->last_start : 0;
}

static bool
report_over(const struct report_ctx *x, const struct store_report *r)
{
	return r->last_start && report_days(report_current_gap(x, r)) > GAP_WARN_DAYS;
}

static int
report_opt(void *ctx, int ch, const char *arg)
{
	struct report_ctx *x = ctx;

	if (ch == 256)
		return cli_date("--since", arg, &x->opts.since) ? 1 : 0;
	return 1;
}

/* ---- JSON ---- */

static void
json_days(struct json *j, const char *key, bool known, int64_t seconds)
{
	json_key(j, key);
	if (known)
		json_int(j, report_days(seconds));
	else
		json_null(j);
}

static void
report_json_mandates(struct json *j, const struct report_ctx *x, const struct store_report *r)
{
	json_key(j, "mandates");
	json_obj_open(j);
	json_key(j, "counted"); json_int(j, r->mandates);
	json_key(j, "from_referrals"); json_int(j, r->from_referrals);
	json_key(j, "referral_share_percent");
	if (r->mandates)
		json_int(j, (r->from_referrals * 100 + r->mandates / 2) / r->mandates);
	else
		json_null(j);
	json_obj_close(j);
	json_key(j, "gaps");
	json_obj_open(j);
	json_key(j, "count"); json_int(j, r->n_gaps);
	json_days(j, "mean_days", r->n_gaps > 0, r->n_gaps ? r->gap_total / r->n_gaps : 0);
	json_days(j, "last_days", r->n_gaps > 0, r->gap_last);
	json_key(j, "last_start"); json_time(j, r->last_start);
	json_days(j, "current_days", r->last_start != 0, report_current_gap(x, r));
	json_key(j, "threshold_days"); json_int(j, GAP_WARN_DAYS);
	json_key(j, "over_threshold"); json_bool(j, report_over(x, r));
	json_obj_close(j);
}

static void
report_json_referrers(struct json *j, const struct store_report *r)
{
	json_key(j, "referrers");
	json_arr_open(j);
	for (size_t i = 0; i < r->n_referrers; i++) {
		const struct store_report_referrer *p = &r->referrers[i];

		json_obj_open(j);
		json_person(j, "contact", p->id, p->name);
		json_key(j, "referrals"); json_int(j, p->referrals);
		json_key(j, "mandates"); json_int(j, p->mandates);
		json_key(j, "thanked"); json_bool(j, p->unthanked == 0);
		json_key(j, "unthanked"); json_int(j, p->unthanked);
		json_key(j, "last_referral"); json_time(j, p->last);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void
report_json_owed(struct json *j, const struct store_report *r)
{
	json_key(j, "favours_owed");
	json_arr_open(j);
	for (size_t i = 0; i < r->n_owed; i++) {
		const struct store_report_owed *p = &r->owed[i];

		json_obj_open(j);
		json_person(j, "contact", p->id, p->name);
		json_key(j, "owed"); json_int(j, p->owed);
		json_key(j, "received"); json_int(j, p->received);
		json_key(j, "given"); json_int(j, p->given);
		json_key(j, "oldest"); json_time(j, p->oldest);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void
report_json_cold(struct json *j, const struct report_ctx *x, const struct store_report *r)
{
	json_key(j, "going_cold");
	json_arr_open(j);
	for (size_t i = 0; i < r->n_cold; i++) {
		const struct store_report_cold *p = &r->cold[i];

		json_obj_open(j);
		json_person(j, "contact", p->id, p->name);
		json_key(j, "last_exchange"); json_time(j, p->last);
		json_key(j, "days_silent"); json_int(j, (x->opts.now - p->last) / DAY);
		json_key(j, "cadence_days"); json_int(j, p->cadence_days);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void
report_json_nudges(struct json *j, const struct store_report *r)
{
	int64_t total = 0;

	json_key(j, "pending_nudges");
	json_obj_open(j);
	for (size_t i = 0; i < STORE_REPORT_N_KINDS; i++) {
		json_key(j, store_report_kinds[i]);
		json_int(j, r->nudges[i]);
		total += r->nudges[i];
	}
	json_key(j, "total"); json_int(j, total);
	json_obj_close(j);
}

static void
report_print_json(const struct report_ctx *x, const struct store_report *r)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "language"); json_str(&j, x->fr ? "fr" : "en");
	json_key(&j, "now"); json_time(&j, x->opts.now);
	json_key(&j, "since"); json_time(&j, x->opts.since);
	report_json_mandates(&j, x, r);
	report_json_referrers(&j, r);
	report_json_owed(&j, r);
	report_json_cold(&j, x, r);
	report_json_nudges(&j, r);
	json_obj_close(&j);
	json_end(&j);
}

/* ---- human ---- */

/* "Label :  value" (French puts a space before the colon), values aligned
 * on the widest label of the block. */
static void
report_line(const struct report_ctx *x, size_t width, const char *label, const char *value)
{
	size_t pad = width - utf8_width(label);

	printf("%s%s:%*s%s\n", label, x->fr ? " " : "", (int)pad + 1, "", value);
}

static size_t
report_widest(const char *const *labels, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (utf8_width(labels[i]) > w)
			w = utf8_width(labels[i]);
	return w;
}

static void
report_human_gaps(const struct report_ctx *x, const struct store_report *r, size_t width)
{
	const struct report_words *w = x->w;
	char v[128], d[16];

	if (r->n_gaps) {
		snprintf(v, sizeof v, "%lld %s (%lld %s)",
			 report_days(r->gap_total / r->n_gaps), w->days,
			 (long long)r->n_gaps, r->n_gaps == 1 ? w->gap : w->gaps);
		report_line(x, width, w->mean_gap, v);
		snprintf(v, sizeof v, "%lld %s", report_days(r->gap_last), w->days);
		report_line(x, width, w->last_gap, v);
	}
	if (r->last_start) {
		snprintf(v, sizeof v, "%lld %s (%s %s)",
			 report_days(report_current_gap(x, r)), w->days, w->started,
			 output_date(r->last_start, d, sizeof d));
		report_line(x, width, w->current_gap, v);
	}
}

static void
report_human_mandates(const struct report_ctx *x, const struct store_report *r)
{
	const struct report_words *w = x->w;
	const char *labels[] = { w->mandates, w->from_referrals, w->mean_gap,
				 w->last_gap, w->current_gap };
	size_t width = report_widest(labels, 5);
	char v[64];

	snprintf(v, sizeof v, "%lld", (long long)r->mandates);
	report_line(x, width, w->mandates, r->mandates ? v : w->no_mandate);
	if (r->mandates) {
		snprintf(v, sizeof v, "%lld (%lld %%)", (long long)r->from_referrals,
			 (long long)((r->from_referrals * 100 + r->mandates / 2) / r->mandates));
		report_line(x, width, w->from_referrals, v);
	}
	report_human_gaps(x, r, width);
	if (report_over(x, r)) {
		putchar('\n');
		fputs(x->colour ? "\033[1;33m" : "", stdout);
		printf(x->fr
		       ? "%lld jours sans nouveau mandat : au-delà de %d jours, le creux des six mois\n"
			 "guette. Prospectez dès maintenant et demandez à vos clients de vous recommander.\n"
		       : "%lld days without a new mandate: past %d days, the six-month gap is near.\n"
			 "Prospect now, and ask your clients to recommend you.\n",
		       report_days(report_current_gap(x, r)), GAP_WARN_DAYS);
		fputs(x->colour ? "\033[0m" : "", stdout);
	}
}

/* Prints a section's title, and "none" when it is empty; true when empty. */
static bool
report_section(const struct report_ctx *x, const char *title, size_t n)
{
	printf("\n%s%s%s\n", x->colour ? "\033[1m" : "", title, x->colour ? "\033[0m" : "");
	if (n == 0)
		printf("%s\n", x->w->none);
	return n == 0;
}

static void
report_table_end(const struct report_ctx *x, struct table *t, size_t n)
{
	table_print(t, stdout, x->colour);
	table_free(t);
	if (n > TABLE_ROWS)
		printf(x->fr ? "... et %zu de plus\n" : "... and %zu more\n", n - TABLE_ROWS);
}

static void
report_human_referrers(const struct report_ctx *x, const struct store_report *r)
{
	struct table t;

	if (report_section(x, x->w->referrers, r->n_referrers))
		return;
	table_init(&t, 5, (const char **)x->w->h_referrers);
	table_right_align(&t, 1);
	table_right_align(&t, 2);
	for (size_t i = 0; i < r->n_referrers && i < TABLE_ROWS; i++) {
		const struct store_report_referrer *p = &r->referrers[i];
		char n[24], m[24], th[48], d[16];
		const char *cells[5] = { p->name, n, m, th, output_date(p->last, d, sizeof d) };

		snprintf(n, sizeof n, "%lld", (long long)p->referrals);
		snprintf(m, sizeof m, "%lld", (long long)p->mandates);
		if (p->unthanked == 0)
			snprintf(th, sizeof th, "%s", x->w->yes);
		else if (p->unthanked == p->referrals)
			snprintf(th, sizeof th, "%s", x->w->no);
		else
			snprintf(th, sizeof th, "%s (%lld/%lld)", x->w->no,
				 (long long)p->unthanked, (long long)p->referrals);
		table_add_row(&t, cells);
	}
	report_table_end(x, &t, r->n_referrers);
}

static void
report_human_owed(const struct report_ctx *x, const struct store_report *r)
{
	struct table t;

	if (report_section(x, x->w->owed, r->n_owed))
		return;
	table_init(&t, 5, (const char **)x->w->h_owed);
	for (size_t col = 1; col < 4; col++)
		table_right_align(&t, col);
	for (size_t i = 0; i < r->n_owed && i < TABLE_ROWS; i++) {
		const struct store_report_owed *p = &r->owed[i];
		char o[24], rc[24], g[24], d[16];
		const char *cells[5] = { p->name, o, rc, g, output_date(p->oldest, d, sizeof d) };

		snprintf(o, sizeof o, "%lld", (long long)p->owed);
		snprintf(rc, sizeof rc, "%lld", (long long)p->received);
		snprintf(g, sizeof g, "%lld", (long long)p->given);
		table_add_row(&t, cells);
	}
	report_table_end(x, &t, r->n_owed);
}

static void
report_human_cold(const struct report_ctx *x, const struct store_report *r)
{
	struct table t;

	if (report_section(x, x->w->cold, r->n_cold))
		return;
	table_init(&t, 4, (const char **)x->w->h_cold);
	table_right_align(&t, 2);
	table_right_align(&t, 3);
	for (size_t i = 0; i < r->n_cold && i < TABLE_ROWS; i++) {
		const struct store_report_cold *p = &r->cold[i];
		char d[16], silent[24], cadence[24];
		const char *cells[4] = { p->name, output_date(p->last, d, sizeof d), silent, cadence };

		snprintf(silent, sizeof silent, "%lld", (long long)((x->opts.now - p->last) / DAY));
		snprintf(cadence, sizeof cadence, "%lld", (long long)p->cadence_days);
		table_add_row(&t, cells);
	}
	report_table_end(x, &t, r->n_cold);
}

static void
report_human_nudges(const struct report_ctx *x, const struct store_report *r)
{
	size_t width = report_widest(x->w->kinds, STORE_REPORT_N_KINDS);
	int64_t total = 0;
	char v[24];

	printf("\n%s%s%s\n", x->colour ? "\033[1m" : "", x->w->nudges, x->colour ? "\033[0m" : "");
	for (size_t i = 0; i < STORE_REPORT_N_KINDS; i++) {
		snprintf(v, sizeof v, "%lld", (long long)r->nudges[i]);
		report_line(x, width, x->w->kinds[i], v);
		total += r->nudges[i];
	}
	snprintf(v, sizeof v, "%lld", (long long)total);
	report_line(x, width, x->w->total, v);
}

static void
report_print_human(const struct report_ctx *x, const struct store_report *r)
{
	char now[16], since[16];

	output_date(x->opts.now, now, sizeof now);
	if (x->opts.since)
		printf(x->fr ? "Votre réseau au %s (depuis le %s)" : "Your network on %s (since %s)",
		       now, output_date(x->opts.since, since, sizeof since));
	else
		printf(x->fr ? "Votre réseau au %s" : "Your network on %s", now);
	fputs("\n\n", stdout);
	report_human_mandates(x, r);
	report_human_referrers(x, r);
	report_human_owed(x, r);
	report_human_cold(x, r);
	report_human_nudges(x, r);
}

int
cmd_report(struct cli *c, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "since", required_argument, NULL, 256 },
		{ NULL, 0, NULL, 0 },
	};
	struct report_ctx x = { 0 };
	struct store_report r;
	int rc = cli_options(c, argc, argv, usage_report, extra, report_opt, &x);

	if (rc >= 0)
		return rc;
	if (optind < argc) {
		fputs(usage_report, stderr);
		return EXIT_USAGE;
	}
	if ((rc = cli_store(c, STORE_RO)) != 0)
		return rc;
	x.fr = !c->cfg->language || strcmp(c->cfg->language, "en") != 0;
	x.w = x.fr ? &words_fr : &words_en;
	x.colour = !c->json && output_colour(stdout);
	x.opts.now = time_now();
	x.opts.keep_in_touch = c->cfg->nudges.keep_in_touch > 0
		? c->cfg->nudges.keep_in_touch : 90 * DAY;
	if (store_report_build(c->store, &x.opts, &r) < 0)
		return EXIT_RUNTIME;
	if (c->json)
		report_print_json(&x, &r);
	else
		report_print_human(&x, &r);
	store_report_free(&r);
	return EXIT_OK;
}
