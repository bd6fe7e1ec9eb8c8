/* cmd_contacts: "merci contacts ...": the people the owner exchanges with. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "output.h"
#include "store_contacts.h"
#include "store_rel.h"
#include "xalloc.h"

static const char usage_contacts[] =
	"usage: merci contacts list [--json]\n"
	"       merci contacts tag|untag CONTACT TAG\n"
	"       merci contacts mute|unmute CONTACT\n"
	"       merci contacts show CONTACT [--json]\n"
	"       merci contacts merge A B [--json]\n"
	"\n"
	"Lists each contact: name, addresses (most used first), tags, messages\n"
	"received from and sent to them, first and last exchange. Tags that matter\n"
	"to reminders: client, partner, prospect, referrer. A muted contact gets no\n"
	"reminder. CONTACT is an id, an address or a name.\n"
	"\n"
	"show: addresses, tags, keep-in-touch cadence, messages, favours given and\n"
	"received, referrals made and received, the last 10 exchanges.\n"
	"merge: B's addresses (and so its exchanges), tags, favours, referrals,\n"
	"mandates and reminders move to A, then B is deleted.\n";

static void
contacts_print_json(const struct store_contact_row *v, size_t n)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "contacts");
	json_arr_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_open(&j);
		json_key(&j, "id"); json_int(&j, v[i].id);
		json_key(&j, "name"); json_str(&j, v[i].name);
		json_key(&j, "emails");
		json_arr_open(&j);
		for (size_t e = 0; e < v[i].n_emails; e++)
			json_str(&j, v[i].emails[e]);
		json_arr_close(&j);
		json_key(&j, "tags");
		json_arr_open(&j);
		for (size_t t = 0; t < v[i].n_tags; t++)
			json_str(&j, v[i].tags[t]);
		json_arr_close(&j);
		json_key(&j, "messages_in"); json_int(&j, v[i].n_in);
		json_key(&j, "messages_out"); json_int(&j, v[i].n_out);
		json_key(&j, "first"); json_time(&j, v[i].first);
		json_key(&j, "last"); json_time(&j, v[i].last);
		json_key(&j, "muted"); json_bool(&j, v[i].muted);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void
contacts_print_table(const struct store_contact_row *v, size_t n)
{
	static const char *headers[] = { "NAME", "EMAIL", "IN", "OUT", "FIRST", "LAST", "TAGS" };
	struct table t;

	table_init(&t, 7, headers);
	table_right_align(&t, 2);
	table_right_align(&t, 3);
	for (size_t i = 0; i < n; i++) {
		char in[24], out[24], first[16], last[16];
		struct buf email = { 0 }, tags = { 0 };
		const char *cells[7];

		buf_adds(&email, v[i].n_emails ? v[i].emails[0] : "-");
		if (v[i].n_emails > 1)
			buf_printf(&email, " (+%zu)", v[i].n_emails - 1);
		for (size_t k = 0; k < v[i].n_tags; k++)
			buf_printf(&tags, "%s%s", k ? "," : "", v[i].tags[k]);
		snprintf(in, sizeof in, "%lld", (long long)v[i].n_in);
		snprintf(out, sizeof out, "%lld", (long long)v[i].n_out);
		cells[0] = v[i].name ? v[i].name : "-";
		cells[1] = email.data;
		cells[2] = in;
		cells[3] = out;
		cells[4] = output_date(v[i].first, first, sizeof first);
		cells[5] = output_date(v[i].last, last, sizeof last);
		cells[6] = tags.len ? tags.data : "-";
		table_add_row(&t, cells);
		buf_free(&email);
		buf_free(&tags);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
	printf("%zu contact(s)\n", n);
}

static int
contacts_list(struct cli *c)
{
	struct store_contact_row *v = NULL;
	size_t n = 0;
	int r;

	if ((r = cli_store(c, STORE_RO)) != 0)
		return r;
	if (store_contacts_list(c->store, &v, &n) < 0)
		return EXIT_RUNTIME;
	if (c->json)
		contacts_print_json(v, n);
	else
		contacts_print_table(v, n);
	store_contact_rows_free(v, n);
	return EXIT_OK;
}

static bool
tag_valid(const char *tag)
{
	if (!*tag || strlen(tag) > 64)
		return false;
	for (const unsigned char *p = (const unsigned char *)tag; *p; p++)
		if (*p <= ' ' || *p == ',' || *p == 0x7f)
			return false;
	return true;
}

static int
contacts_change(struct cli *c, const char *verb, int argc, char **argv)
{
	bool tagging = strcmp(verb, "tag") == 0 || strcmp(verb, "untag") == 0;
	int64_t id;
	int r;

	if (argc != (tagging ? 2 : 1)) {
		fputs(usage_contacts, stderr);
		return EXIT_USAGE;
	}
	if (tagging && !tag_valid(argv[1])) {
		fprintf(stderr, "merci: \"%s\" is not a tag; use one word without spaces or commas\n", argv[1]);
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RW)) != 0 || (r = cli_contact(c, argv[0], &id)) != 0)
		return r;
	if (tagging)
		r = store_contact_tag(c->store, id, argv[1], strcmp(verb, "tag") == 0);
	else
		r = store_contact_mute(c->store, id, strcmp(verb, "mute") == 0);
	if (r < 0)
		return EXIT_RUNTIME;
	printf("contact %lld: %s%s%s\n", (long long)id, verb, tagging ? " " : "", tagging ? argv[1] : "");
	return EXIT_OK;
}

/* ---- show ---- */

struct cadence {
	int64_t days;
	const char *source;      /* "contact", "tag" or "default" */
	const char *tag;         /* the tag that sets it, for "tag" */
};

/* The keep-in-touch delay that applies: the contact's own, else the
 * shortest of its tags' ([tag NAME] sections), else [nudges]'s. */
static struct cadence
contact_cadence(const struct config *cfg, const struct store_contact_detail *d)
{
	struct cadence k = { d->cadence_days, "contact", NULL };
	int64_t best = 0;

	if (k.days > 0)
		return k;
	for (size_t t = 0; t < d->n_tags; t++)
		for (size_t i = 0; i < cfg->n_tags; i++)
			if (strcmp(cfg->tags[i].name, d->tags[t]) == 0 &&
			    cfg->tags[i].keep_in_touch > 0 &&
			    (!best || cfg->tags[i].keep_in_touch < best)) {
				best = cfg->tags[i].keep_in_touch;
				k.tag = d->tags[t];
			}
	k.source = best ? "tag" : "default";
	k.days = (best ? best : cfg->nudges.keep_in_touch) / 86400;
	return k;
}

static void
show_json_strings(struct json *j, const char *key, char *const *v, size_t n)
{
	json_key(j, key);
	json_arr_open(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, v[i]);
	json_arr_close(j);
}

static void
show_json_recent(struct json *j, const struct store_contact_detail *d)
{
	json_key(j, "recent");
	json_arr_open(j);
	for (size_t i = 0; i < d->n_recent; i++) {
		json_obj_open(j);
		json_key(j, "date"); json_time(j, d->recent[i].date);
		json_key(j, "direction"); json_str(j, d->recent[i].outbound ? "out" : "in");
		json_key(j, "subject"); json_str(j, d->recent[i].subject);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void
show_json(const struct store_contact_detail *d, const struct cadence *k)
{
	struct json j;

	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "id"); json_int(&j, d->id);
	json_key(&j, "name"); json_str(&j, d->name);
	show_json_strings(&j, "emails", d->emails, d->n_emails);
	show_json_strings(&j, "tags", d->tags, d->n_tags);
	json_key(&j, "cadence_days"); json_int(&j, k->days);
	json_key(&j, "cadence_source"); json_str(&j, k->source);
	json_key(&j, "muted"); json_bool(&j, d->muted);
	json_key(&j, "messages_in"); json_int(&j, d->n_in);
	json_key(&j, "messages_out"); json_int(&j, d->n_out);
	json_key(&j, "first"); json_time(&j, d->first);
	json_key(&j, "last"); json_time(&j, d->last);
	json_key(&j, "favours_given"); json_int(&j, d->favours_given);
	json_key(&j, "favours_received"); json_int(&j, d->favours_received);
	json_key(&j, "referrals_made"); json_int(&j, d->referrals_made);
	json_key(&j, "referrals_received"); json_int(&j, d->referrals_received);
	show_json_recent(&j, d);
	json_obj_close(&j);
	json_end(&j);
}

static void
show_join(struct buf *b, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%s", i ? ", " : "", v[i]);
	if (!n)
		buf_adds(b, "-");
}

static void
show_recent_table(const struct store_contact_detail *d)
{
	static const char *headers[] = { "DATE", "DIR", "SUBJECT" };
	struct table t;
	char date[16];

	if (!d->n_recent) {
		puts("no exchange yet");
		return;
	}
	table_init(&t, 3, headers);
	for (size_t i = 0; i < d->n_recent; i++) {
		const char *cells[3] = {
			output_date(d->recent[i].date, date, sizeof date),
			d->recent[i].outbound ? "out" : "in",
			d->recent[i].subject ? d->recent[i].subject : "-",
		};

		table_add_row(&t, cells);
	}
	table_print(&t, stdout, output_colour(stdout));
	table_free(&t);
}

static void
show_human(const struct store_contact_detail *d, const struct cadence *k)
{
	struct buf emails = { 0 }, tags = { 0 };
	char first[16], last[16];

	show_join(&emails, d->emails, d->n_emails);
	show_join(&tags, d->tags, d->n_tags);
	printf("%s (contact %lld)\n\n", d->name ? d->name : (d->n_emails ? d->emails[0] : "-"),
	       (long long)d->id);
	printf("addresses:  %s\n", emails.data);
	printf("tags:       %s\n", tags.data);
	printf("cadence:    %lld days (%s%s%s)\n", (long long)k->days, k->source,
	       k->tag ? " " : "", k->tag ? k->tag : "");
	printf("muted:      %s\n", d->muted ? "yes" : "no");
	printf("messages:   %lld in, %lld out\n", (long long)d->n_in, (long long)d->n_out);
	printf("first:      %s\n", output_date(d->first, first, sizeof first));
	printf("last:       %s\n", output_date(d->last, last, sizeof last));
	printf("favours:    %lld given, %lld received\n", (long long)d->favours_given,
	       (long long)d->favours_received);
	printf("referrals:  %lld made, %lld received\n\n", (long long)d->referrals_made,
	       (long long)d->referrals_received);
	show_recent_table(d);
	buf_free(&emails);
	buf_free(&tags);
}

static int
contacts_show(struct cli *c, int argc, char **argv)
{
	struct store_contact_detail d;
	struct cadence k;
	int64_t id;
	int r;

	if (argc != 1) {
		fputs(usage_contacts, stderr);
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RO)) != 0 || (r = cli_contact(c, argv[0], &id)) != 0)
		return r;
	if (store_contact_detail(c->store, id, &d) < 0)
		return EXIT_RUNTIME;
	k = contact_cadence(c->cfg, &d);
	if (c->json)
		show_json(&d, &k);
	else
		show_human(&d, &k);
	store_contact_detail_free(&d);
	return EXIT_OK;
}

/* ---- merge ---- */

static void
merge_report(const struct cli *c, int64_t into, int64_t from, const struct store_merge_counts *m)
{
	const struct { const char *key; int64_t n; } moved[] = {
		{ "addresses", m->addresses }, { "tags", m->tags },
		{ "exchanges", m->exchanges }, { "favours", m->favours },
		{ "referrals", m->referrals }, { "mandates", m->mandates },
		{ "nudges", m->nudges },
	};
	size_t n = sizeof moved / sizeof moved[0];
	struct json j;

	if (!c->json) {
		printf("contact %lld merged into contact %lld and deleted; moved:",
		       (long long)from, (long long)into);
		for (size_t i = 0; i < n; i++)
			printf("%s %lld %s", i ? "," : "", (long long)moved[i].n, moved[i].key);
		putchar('\n');
		return;
	}
	json_begin(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "into"); json_int(&j, into);
	json_key(&j, "from"); json_int(&j, from);
	json_key(&j, "moved");
	json_obj_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_key(&j, moved[i].key);
		json_int(&j, moved[i].n);
	}
	json_obj_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static int
contacts_merge(struct cli *c, int argc, char **argv)
{
	struct store_merge_counts m;
	int64_t into, from;
	int r;

	if (argc != 2) {
		fputs(usage_contacts, stderr);
		return EXIT_USAGE;
	}
	if ((r = cli_store(c, STORE_RW)) != 0 || (r = cli_contact(c, argv[0], &into)) != 0 ||
	    (r = cli_contact(c, argv[1], &from)) != 0)
		return r;
	if (into == from) {
		fprintf(stderr, "merci: %s and %s are the same contact (%lld); nothing to merge\n",
			argv[0], argv[1], (long long)into);
		return EXIT_USAGE;
	}
	if (store_contacts_merge(c->store, into, from, &m) < 0)
		return EXIT_RUNTIME;
	merge_report(c, into, from, &m);
	return EXIT_OK;
}

int
cmd_contacts(struct cli *c, int argc, char **argv)
{
	int r = cli_common_options(c, argc, argv, usage_contacts);

	if (r >= 0)
		return r;
	if (optind >= argc || strcmp(argv[optind], "list") == 0)
		return contacts_list(c);
	if (strcmp(argv[optind], "tag") == 0 || strcmp(argv[optind], "untag") == 0 ||
	    strcmp(argv[optind], "mute") == 0 || strcmp(argv[optind], "unmute") == 0)
		return contacts_change(c, argv[optind], argc - optind - 1, argv + optind + 1);
	if (strcmp(argv[optind], "show") == 0)
		return contacts_show(c, argc - optind - 1, argv + optind + 1);
	if (strcmp(argv[optind], "merge") == 0)
		return contacts_merge(c, argc - optind - 1, argv + optind + 1);
	fprintf(stderr, "merci: unknown contacts command \"%s\"; see merci contacts --help\n",
		argv[optind]);
	return EXIT_USAGE;
}
