#!/bin/bash
# IMAP IDLE: mercid in daemon mode with a long poll interval stays connected
# after its first sync; a message appended to INBOX is recorded within
# seconds (no poll would come for 30 minutes); `merci sync` wakes the idling
# child; a killed and restarted Dovecot is reconnected to after a backoff and
# nothing is missed or recorded twice; SIGHUP reloads without waiting for
# the idling child.
#
# MERCI_BACKOFF_MIN (a test knob read by the supervisor) shortens the first
# retry from 30 s to 2 s so the test stays short.
set -eu
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

test_init
require_binaries
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"
dovecot_init
dovecot_start

# mkmsg N: a small message with its own Message-ID.
mkmsg() {
	cat >"$TEST_DIR/m$1.eml" <<EOF
From: Client $1 <client$1@example.com>
To: Camille Roy <camille@example.org>
Subject: Project $1
Date: $(date -R)
Message-ID: <idle-test-$1-$$@example.com>

Hello, message $1.
EOF
}

write_password "$TEST_DIR/imap.pass" "$DOVECOT_PASSWORD"
write_config() {
	cat >"$TEST_DIR/merci.conf" <<CONF
[general]
database = $TEST_DIR/state/merci.db
owner = Camille Roy <camille@example.org>
control_socket = $TEST_DIR/run/control

[account test]
url = imap://localhost:$DOVECOT_IMAP_PORT
user = $DOVECOT_USER
password_file = $TEST_DIR/imap.pass
ca_file = $DOVECOT_CA
poll = $1
CONF
}
write_config 30m

mkmsg 1
dovecot_append INBOX "$TEST_DIR/m1.eml" || die "APPEND failed"

MERCI_BACKOFF_MIN=2 "$MERCID" --config "$TEST_DIR/merci.conf" --verbose \
	>"$TEST_DIR/mercid.out" 2>"$TEST_DIR/mercid.err" &
daemon=$!
at_exit "kill -KILL $daemon 2>/dev/null"

# wait_for WHAT FILE ERE [SECONDS]: poll until FILE has a line matching ERE.
wait_for() {
	local i
	for i in $(seq 1 $((${4:-10} * 10))); do
		grep -qE -- "$3" "$2" 2>/dev/null && { pass "$1"; return 0; }
		sleep 0.1
	done
	fail "$1" "no line matching /$3/ within ${4:-10} s"
	show_file mercid.err "$TEST_DIR/mercid.err"
	return 1
}

exchanges() {
	"$MERCI" --config "$TEST_DIR/merci.conf" --json status >"$TEST_DIR/status.json" 2>/dev/null &&
		json_get "$TEST_DIR/status.json" counts.exchanges 2>/dev/null || echo -1
}

# wait_count WHAT N SECONDS: until merci status counts N exchanges.
wait_count() {
	local i n=-1
	for i in $(seq 1 $(($3 * 10))); do
		n=$(exchanges)
		[ "$n" = "$2" ] && { pass "$1 ($(( (i + 9) / 10 )) s or less)"; return 0; }
		sleep 0.1
	done
	fail "$1" "merci status counts $n exchange(s), expected $2 within $3 s"
	show_file mercid.err "$TEST_DIR/mercid.err"
	return 1
}

synced() { grep -c 'account test: synced' "$TEST_DIR/mercid.err" || true; }

wait_for "first sync, then IDLE" "$TEST_DIR/mercid.err" \
	'account test: synced.*waiting for new mail \(IDLE\)' 15
check_eq "the first sync recorded the message" 1 "$(exchanges)"

mkmsg 2
dovecot_append INBOX "$TEST_DIR/m2.eml" || die "APPEND failed"
wait_count "a message appended to INBOX is recorded without a poll" 2 5

# merci sync while the child idles: it wakes and syncs on its connection.
before=$(synced)
started=$(grep -c 'IMAP process [0-9]* started' "$TEST_DIR/mercid.err" || true)
run_cmd sync "$MERCI" --config "$TEST_DIR/merci.conf" sync
check_rc "merci sync asks the daemon" 0
n=$before
for _ in $(seq 1 50); do
	n=$(synced)
	[ "$n" -gt "$before" ] && break
	sleep 0.1
done
[ "$n" -gt "$before" ] && pass "merci sync wakes the idling child" ||
	fail "merci sync wakes the idling child" "no new sync within 5 s"
check_eq "on the same connection (no new IMAP process)" "$started" \
	"$(grep -c 'IMAP process [0-9]* started' "$TEST_DIR/mercid.err" || true)"

# Dovecot goes away: the child fails, the runner backs off and reconnects.
dovecot_stop
wait_for "the lost connection is reported" "$TEST_DIR/mercid.err" \
	'account test: .*(connection|stream|closed|IDLE|connect)' 10
dovecot_start
mkmsg 3
dovecot_append INBOX "$TEST_DIR/m3.eml" || die "APPEND failed"
wait_count "after Dovecot restarts, the account reconnects and reads new mail" 3 20
mkmsg 4
dovecot_append INBOX "$TEST_DIR/m4.eml" || die "APPEND failed"
wait_count "IDLE works on the new connection" 4 5

db=$TEST_DIR/state/merci.db
check_eq "nothing recorded twice" \
	"$(sqlite3 "$db" 'SELECT count(DISTINCT msg_key) FROM exchange')" \
	"$(sqlite3 "$db" 'SELECT count(*) FROM exchange')"
check_eq "every message recorded once" 4 "$(sqlite3 "$db" 'SELECT count(*) FROM exchange')"

# SIGHUP with an idling child: the reload does not wait for it.
idles() { grep -c 'waiting for new mail (IDLE)' "$TEST_DIR/mercid.err" || true; }
before=$(idles)
kill -HUP "$daemon"
wait_for "SIGHUP reloads while the child idles" "$TEST_DIR/mercid.err" \
	'configuration reloaded' 5
n=$before
for _ in $(seq 1 100); do
	n=$(idles)
	[ "$n" -gt "$before" ] && break
	sleep 0.1
done
[ "$n" -gt "$before" ] && pass "the new runner syncs and idles" ||
	fail "the new runner syncs and idles" "no IDLE within 10 s of the reload"
mkmsg 5
dovecot_append INBOX "$TEST_DIR/m5.eml" || die "APPEND failed"
wait_count "IDLE after the reload" 5 5

kill -TERM "$daemon"
rc=0
for _ in $(seq 1 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
wait "$daemon" || rc=$?
check_eq "mercid exits 0 on SIGTERM" 0 "$rc"
if pgrep -P "$daemon" >/dev/null 2>&1; then
	fail "no IMAP child is left behind" "$(pgrep -P "$daemon")"
else
	pass "no IMAP child is left behind"
fi
test_finish
