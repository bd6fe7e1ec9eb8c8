/* mercid: the main process. Parses the command line, loads the config, opens
 * the store, and runs the event loop that drives one runner per account.
 * Signals: SIGTERM/SIGINT stop cleanly (an SMTP send under way may finish
 * first, within STOP_GRACE_SEC; a second signal stops at once), SIGHUP
 * reloads the configuration (a bad new one is reported and the old one
 * keeps running). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "buf.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "delivery.h"
#include "log.h"
#include "outbox.h"
#include "rules.h"
#include "status.h"
#include "store.h"
#include "supervisor.h"
#include "timeutil.h"
#include "xalloc.h"

#define TICK_USEC (60 * 1000000ULL)   /* due nudges, digest time, retries */
/* READY=1 at the latest this long after start, however slow the first sync. */
#define READY_MAX_SEC 30
/* How long a stop waits for the SMTP send under way to end: a send cut off
 * after DATA is sent again at the next start and may reach the owner twice.
 * Kept well below TimeoutStopSec= in the service units (30 s), so systemd
 * never has to kill mercid itself. */
#define STOP_GRACE_SEC 20

static void
usage(FILE *f)
{
	fputs("usage: mercid [--config FILE] [--once | --check-config] [--verbose]\n"
	      "\n"
	      "  -c, --config FILE   configuration file (default: $MERCI_CONFIG,\n"
	      "                      $CONFIGURATION_DIRECTORY/merci.conf, ~/.config/merci/merci.conf)\n"
	      "      --once          sync every account once, then exit (0 when all succeeded)\n"
	      "      --check-config  validate the configuration and exit\n"
	      "  -v, --verbose       log debug messages\n"
	      "  -h, --help          show this help\n"
	      "      --version       show the version\n", f);
}

/* STATUS=, with READY=1 in the same message when ready is set: systemctl
 * then shows how the start went as soon as it returns. */
static void
daemon_notify(struct daemon *d, bool ready)
{
	char *line;

	if (d->once)
		return;
	line = status_line(d);
	sd_notifyf(0, "%sSTATUS=%s%s", ready ? "READY=1\n" : "", d->ready ? "" : "first sync: ",
		   line);
	free(line);
}

static void
daemon_notify_status(struct daemon *d)
{
	daemon_notify(d, false);
}

/* READY=1 once every account has ended its first attempt, whether it
 * synced or failed: a server that is down must not hold `systemctl start`
 * until its timeout; STATUS= then says which account fails. A first sync
 * still running after READY_MAX_SEC does not hold it either (timed_out). */
static void
daemon_ready(struct daemon *d, bool timed_out)
{
	if (d->ready || d->once)
		return;
	for (size_t i = 0; i < d->n_runners && !timed_out; i++)
		if (runner_attempts(d->runners[i]) == 0)
			return;
	d->ready = true;
	d->ready_timer = sd_event_source_disable_unref(d->ready_timer);
	if (timed_out)
		log_event(LOG_INFO, LOG_ID_READY, "ready; the first sync goes on in the background");
	else
		log_event(LOG_INFO, LOG_ID_READY, "ready: every account tried its first sync");
	daemon_notify(d, true);
}

static int
on_ready_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	daemon_ready(userdata, true);
	return 0;
}

/* MERCI_READY_MAX (seconds, 1..READY_MAX_SEC) is a test knob: it shortens
 * the wait for a first sync that hangs. Not for production. */
static uint64_t
ready_max_usec(void)
{
	const char *e = getenv("MERCI_READY_MAX");
	long v = e ? strtol(e, NULL, 10) : 0;

	return (uint64_t)(v >= 1 && v <= READY_MAX_SEC ? v : READY_MAX_SEC) * 1000000ULL;
}

/* MERCI_STOP_GRACE (seconds, 1..STOP_GRACE_SEC) is a test knob like
 * MERCI_READY_MAX: it shortens the stop's wait for a send. */
static uint64_t
stop_grace_sec(void)
{
	const char *e = getenv("MERCI_STOP_GRACE");
	long v = e ? strtol(e, NULL, 10) : 0;

	return (uint64_t)(v >= 1 && v <= STOP_GRACE_SEC ? v : STOP_GRACE_SEC);
}

/* The end of a stop: the loop returns, main frees the rest. */
static void
daemon_stop_done(struct daemon *d)
{
	sd_event_exit(d->event, d->once ? 1 : 0);
}

static void
daemon_runners_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_runners; i++)
		runner_free(d->runners[i]);
	free(d->runners);
	d->runners = NULL;
	d->n_runners = 0;
}

static int
daemon_runners_start(struct daemon *d)
{
	d->runners = xcalloc(d->cfg->n_accounts, sizeof *d->runners);
	for (size_t i = 0; i < d->cfg->n_accounts; i++) {
		struct runner *r = runner_new(d, &d->cfg->accounts[i]);

		if (!r)
			return -1;
		d->runners[d->n_runners++] = r;
	}
	for (size_t i = 0; i < d->n_runners; i++)
		runner_sync_now(d->runners[i]);
	return 0;
}

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Loads the configuration again and swaps it in whole; a bad one is
 * refused and the running one kept. *err (when err is not NULL) receives
 * the problems, newly allocated. */
static int
daemon_reload(struct daemon *d, char **err)
{
	struct config *fresh = NULL;
	char *why = NULL;

	if (d->stopping) {
		/* New runners would start syncs the stop has just ended. */
		if (err)
			*err = xstrdup("mercid is stopping");
		return -1;
	}
	/* Before READY=1 the start is still under way: systemd expects no
	 * reload then, and the new runners' first syncs decide readiness. */
	if (d->ready)
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)monotonic_usec());
	if (config_load(d->config_path, &fresh, &why) < 0) {
		log_event(LOG_ERR, LOG_ID_RELOAD_REFUSED,
			  "reload refused, keeping the running configuration:\n%s", why);
		if (err)
			*err = why;
		else
			free(why);
		daemon_notify(d, d->ready);
		return -1;
	}
	if (strcmp(fresh->database, d->cfg->database) != 0)
		log_warn("reload: database changes need a restart; still using %s", d->cfg->database);
	daemon_runners_free(d);
	free(fresh->database);
	fresh->database = xstrdup(d->cfg->database);
	config_free(d->cfg);
	d->cfg = fresh;
	log_event(LOG_INFO, LOG_ID_RELOADED, "configuration reloaded from %s", d->config_path);
	if (daemon_runners_start(d) < 0)
		log_error("reload: cannot start the accounts");
	daemon_notify(d, d->ready);
	return 0;
}

static bool
daemon_idle(const struct daemon *d)
{
	for (size_t i = 0; i < d->n_runners; i++)
		if (runner_busy(d->runners[i]))
			return false;
	return true;
}

static void
daemon_rules(struct daemon *d, int64_t now)
{
	struct rules_stats rs = { 0 };

	if (rules_evaluate(d->store, d->cfg, now, &rs) < 0) {
		log_error("rules: evaluation failed; nudges will be late, not lost");
		return;
	}
	d->nudges_due = rs.due;
	if (rs.created || rs.resolved || rs.woken)
		log_info("rules: %lld new nudge(s), %lld resolved by themselves, %lld woken, "
			 "%lld due", (long long)rs.created, (long long)rs.resolved,
			 (long long)rs.woken, (long long)rs.due);
}

/* After a sync cycle and every minute: the rules make nudges due, the
 * outbox turns the due ones into mail, the delivery sends it. */
static void
daemon_cycle(struct daemon *d)
{
	struct outbox_queue_stats qs;
	int64_t now = time_now();

	daemon_rules(d, now);
	if (!d->cfg->smtp.present) {
		if (!d->smtp_warned)
			log_warn("%s: no [smtp] section: nudges are recorded (see merci nudges) "
				 "but not mailed; add [smtp] to receive them (merci.conf(5))",
				 d->config_path);
		d->smtp_warned = true;
		daemon_delivery_idle(d);
		return;
	}
	if (outbox_queue_due(d->store, d->cfg, now, &qs) < 0)
		log_error("outbox: due nudges could not be queued; trying again in a minute");
	else if (qs.held)
		log_debug("outbox: %lld due nudge(s) wait (%s)", (long long)qs.held,
			  qs.why_held ? qs.why_held : "");
	delivery_flush(d->delivery);
}

void
daemon_delivery_idle(struct daemon *d)
{
	struct delivery_counts c = { 0 };
	int64_t queued = 0, failed = 0;

	if (d->stopping) {
		/* The send the stop waited for has its outcome recorded. */
		log_info("outbox: no send under way any more; stopping");
		daemon_stop_done(d);
		return;
	}
	if (!d->once) {
		/* A thank-you nudge just mailed has its draft appended now, not
		 * at the account's next sync. */
		for (size_t i = 0; i < d->n_runners; i++)
			runner_tasks_refresh(d->runners[i]);
		daemon_notify_status(d);
		return;
	}
	if (d->n_done < d->n_runners)
		return;
	if (d->delivery)
		delivery_counts_get(d->delivery, &c);
	if (d->cfg->smtp.present && outbox_counts(d->store, &queued, &failed) == 0 && queued)
		log_warn("%lld message(s) could not be sent now and stay queued; the next run "
			 "retries them", (long long)queued);
	if (c.permfail)
		log_error("%lld message(s) refused by the SMTP server; see merci status",
			  (long long)c.permfail);
	sd_event_exit(d->event, d->exit_code);
}

void
daemon_runner_finished(struct daemon *d, struct runner *r, bool ok)
{
	if (!ok)
		d->exit_code = 1;
	if (d->once) {
		if (++d->n_done == d->n_runners)
			daemon_cycle(d);
		return;
	}
	if (daemon_idle(d))
		daemon_cycle(d);
	daemon_ready(d, false);
	daemon_notify_status(d);
	if (d->reload_pending && daemon_idle(d)) {
		d->reload_pending = false;
		daemon_reload(d, NULL);
	}
}

static int
on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	if (d->stopping)
		return 0;
	/* Runners point into the configuration: swap it only when no sync runs
	 * (an idling child is killed by the reload and reconnects with it). */
	if (daemon_idle(d))
		daemon_reload(d, NULL);
	else
		d->reload_pending = true;
	return 0;
}

/* ---- the control socket's answers (control.h) ---- */

static char *
control_status_json(void *ctx)
{
	struct daemon *d = ctx;
	int64_t queued = 0, failed = 0;
	char started[32];
	struct buf b = { 0 };

	outbox_counts(d->store, &queued, &failed);
	buf_printf(&b, "{\"pid\":%d,\"version\":\"%s\",\"started\":\"%s\",\"accounts\":[",
		   (int)getpid(), PACKAGE_VERSION, time_format_iso(d->started, started, sizeof started));
	for (size_t i = 0; i < d->n_runners; i++) {
		/* Account names come from the config: INI values cannot hold
		 * quotes that need escaping beyond these two. */
		buf_adds(&b, i ? ",{\"name\":\"" : "{\"name\":\"");
		for (const char *p = runner_name(d->runners[i]); *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, *p);
		}
		buf_printf(&b, "\",\"syncing\":%s}", runner_busy(d->runners[i]) ? "true" : "false");
	}
	buf_printf(&b, "],\"outbox\":{\"queued\":%lld,\"failed\":%lld}}",
		   (long long)queued, (long long)failed);
	return buf_steal(&b);
}

static char *
control_status_text(void *ctx)
{
	struct daemon *d = ctx;
	char started[32], *line = status_line(d), *text;

	text = xasprintf("running (pid %d, since %s): %s%s", (int)getpid(),
			 time_format_local(d->started, started, sizeof started),
			 d->ready ? "" : "first sync: ", line);
	free(line);
	return text;
}

static int
control_sync_now(void *ctx)
{
	struct daemon *d = ctx;
	int r = 0;

	if (d->stopping)
		return -1;
	for (size_t i = 0; i < d->n_runners; i++)
		if (runner_sync_now(d->runners[i]) < 0)
			r = -1;
	return r;
}

static int
control_reload(void *ctx, char **err)
{
	struct daemon *d = ctx;

	if (!d->stopping && !daemon_idle(d)) {
		d->reload_pending = true;
		return 0;
	}
	return daemon_reload(d, err);
}

static const struct control_ops daemon_control_ops = {
	.status_json = control_status_json,
	.status_text = control_status_text,
	.sync_now = control_sync_now,
	.reload = control_reload,
};

static int
on_stop_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	log_warn("the SMTP send under way did not end within %llu s; stopping anyway",
		 (unsigned long long)stop_grace_sec());
	daemon_stop_done(d);   /* main's delivery_free kills it */
	return 0;
}

/* A first SIGTERM or SIGINT stops gracefully: IMAP children are killed at
 * once (a sync resumes where it stopped), no new send starts, and a send
 * under way may end with its outcome recorded, within stop_grace_sec(),
 * while the loop keeps turning (the watchdog is fed). A second signal, or
 * the deadline, cuts the send off: it stays "sending" and is sent again at
 * the next start. */
static int
on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	const char *sig = strsignal((int)si->ssi_signo);

	if (d->stopping) {
		log_warn("signal %s while stopping: stopping now", sig);
		daemon_stop_done(d);
		return 0;
	}
	d->stopping = true;
	log_event(LOG_INFO, LOG_ID_STOPPING, "stopping on signal %s", sig);
	sd_notify(0, "STOPPING=1");
	daemon_runners_free(d);
	d->tick = sd_event_source_disable_unref(d->tick);
	d->ready_timer = sd_event_source_disable_unref(d->ready_timer);
	if (!d->delivery || !delivery_stop(d->delivery)) {
		daemon_stop_done(d);
		return 0;
	}
	if (!d->once)
		sd_notifyf(0, "STATUS=stopping: waiting up to %llu s for the SMTP send under way",
			   (unsigned long long)stop_grace_sec());
	if (sd_event_add_time_relative(d->event, &d->stop_timer, CLOCK_MONOTONIC,
				       stop_grace_sec() * 1000000ULL, 0, on_stop_deadline, d) < 0) {
		log_error("cannot set up the stop's deadline; stopping now");
		daemon_stop_done(d);
	}
	return 0;
}

static int
on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	daemon_cycle(d);
	sd_event_source_set_time_relative(s, TICK_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* The outbox before the loop: its tables, and the sends a crash cut. */
static int
daemon_outbox_open(struct daemon *d)
{
	if (d->cfg->timezone) {
		/* "Today", quiet hours and the digest time are the owner's. */
		setenv("TZ", d->cfg->timezone, 1);
		tzset();
	}
	if (outbox_recover(d->store, time_now(), NULL) < 0)
		return -1;
	d->delivery = delivery_new(d);
	if (d->once)
		return 0;
	if (sd_event_add_time_relative(d->event, &d->tick, CLOCK_MONOTONIC, TICK_USEC, 0,
				       on_tick, d) < 0) {
		log_error("cannot set up the nudge timer");
		return -1;
	}
	return 0;
}

static int
daemon_setup_loop(struct daemon *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (sd_event_default(&d->event) < 0 ||
	    sd_event_add_signal(d->event, NULL, SIGTERM, on_sigterm, d) < 0 ||
	    sd_event_add_signal(d->event, NULL, SIGINT, on_sigterm, d) < 0 ||
	    sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d) < 0) {
		log_error("cannot set up the event loop");
		return -1;
	}
	/* Pings only while the loop turns: IMAP runs in children, never here. */
	sd_event_set_watchdog(d->event, 1);
	return 0;
}

static int
daemon_run(struct daemon *d)
{
	char *err = NULL;
	int r;

	d->started = time_now();
	if (!d->once)
		log_event(LOG_INFO, LOG_ID_STARTED, "mercid %s starting with %zu account(s)",
			  PACKAGE_VERSION, d->cfg->n_accounts);
	if (store_open(d->cfg->database, STORE_RW, &d->store, &err) < 0) {
		log_error("%s", err);
		free(err);
		return 1;
	}
	if (daemon_setup_loop(d) < 0 || daemon_outbox_open(d) < 0)
		return 1;
	if (d->cfg->n_accounts == 0) {
		log_error("%s: no [account] section; add one (see merci.conf(5))", d->config_path);
		return 2;
	}
	if (daemon_runners_start(d) < 0)
		return 1;
	if (!d->once) {
		/* Up before READY=1: merci status answers during the first sync. */
		if (control_open(d->event, d->cfg->control_socket, &daemon_control_ops, d,
				 &d->control) < 0)
			return 1;
		if (!d->ready && sd_event_add_time_relative(d->event, &d->ready_timer,
							    CLOCK_MONOTONIC, ready_max_usec(), 0,
							    on_ready_timer, d) < 0) {
			log_error("cannot set up the start-up timer");
			return 1;
		}
		daemon_notify_status(d);
	}
	r = sd_event_loop(d->event);
	if (r < 0) {
		log_error("event loop failed: %s", strerror(-r));
		return 1;
	}
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .exit_code = 0, .nudges_due = -1 };
	bool check_only = false;
	char *err = NULL;
	int c, rc;

	log_init("mercid");
	/* Once, before any child exists: curl's implicit init is not thread-safe. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': free(d.config_path); d.config_path = xstrdup(optarg); break;
		case 'o': d.once = true; break;
		case 'C': check_only = true; break;
		case 'v': log_set_max_level(LOG_DEBUG); break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("mercid " PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mercid: unexpected argument \"%s\"; see mercid --help\n", argv[optind]);
		return 2;
	}
	if (!d.config_path)
		d.config_path = config_default_path();
	if (config_load(d.config_path, &d.cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		free(d.config_path);
		return 2;
	}
	if (check_only) {
		printf("%s: ok, %zu account(s)\n", d.config_path, d.cfg->n_accounts);
		rc = 0;
	} else {
		rc = daemon_run(&d);
		if (!d.stopping)   /* on a signal, sent when the stop began */
			sd_notify(0, "STOPPING=1");
	}
	control_free(d.control);
	daemon_runners_free(&d);
	delivery_free(d.delivery);
	sd_event_source_unref(d.tick);
	sd_event_source_unref(d.ready_timer);
	sd_event_source_unref(d.stop_timer);
	store_close(d.store);
	sd_event_unref(d.event);
	config_free(d.cfg);
	free(d.config_path);
	curl_global_cleanup();
	return rc;
}
