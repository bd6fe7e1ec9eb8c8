#!/bin/bash
# shutdown.sh: SIGTERM while mercid (daemon mode) waits for an SMTP server's
# reply to the final dot, against a real aiosmtpd that holds that reply
# (--data-delay) and a Dovecot.
#
# 1. The reply comes within the stop's grace: the send ends, its row is
#    'sent', the server got that one message and no other send started,
#    STOPPING=1 came at the start and the watchdog kept being fed, mercid
#    exits 0; a restart sends the message still queued, and nothing twice.
# 2. The reply comes after the grace (MERCI_STOP_GRACE=2): mercid exits
#    within the grace plus a margin, the row stays 'sending', and the next
#    start sends it again under the same Message-ID, logged as a possible
#    duplicate.
# 3. A second SIGTERM while waiting stops at once, the row left 'sending'.
set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
require_binaries
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"
dovecot_init
dovecot_start

T=$TEST_DIR
SERVER_PY=$top_srcdir/tests/lib/smtp_server.py
export TZ=UTC MERCI_TEMPLATE_DIR=$top_srcdir/conf/templates
NOW=2026-09-24T12:00:00Z
NOW_S=1790251200
DAY=86400

q() {	# dir sql
	sqlite3 "$1/merci.db" "$2"
}

delivered() {	# maildir
	find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}

# setup NAME SMTP-PORT: a config in $T/NAME, its store created by a first
# run, and two referrals received: two thank-you nudges due at $NOW.
setup() {
	local dir=$T/$1 port=$2
	mkdir -p "$dir"
	dovecot_merci_config "$dir/merci.conf" folders=INBOX
	printf 'control_socket = %s\n' "$dir/control" >"$dir/general"
	sed -i "/^\[general\]/r $dir/general" "$dir/merci.conf"
	printf '\n[smtp]\nurl = smtp://127.0.0.1:%s\ntls = none\ntimeout = 60s\n' "$port" \
		>>"$dir/merci.conf"
	printf '\n[nudges]\nquiet_hours = off\ndigest = off\n' >>"$dir/merci.conf"
	MERCI_NOW=$NOW run_cmd "$1-init" "$MERCID" --once --config "$dir/merci.conf"
	[ "$RC" = 0 ] || { show_file stderr "$ERR_FILE"; die "$1: first mercid --once failed"; }
	sqlite3 "$dir/merci.db" <<SQL || die "$1: cannot insert the referrals"
INSERT INTO contact (id, name, created_at) VALUES (101, 'Amélie Tremblay', $NOW_S - 30 * $DAY),
  (102, 'Jean-Pierre Gagnon', $NOW_S - 30 * $DAY), (103, 'Jean Dupont', $NOW_S - 30 * $DAY);
INSERT INTO address (email, name, contact_id, first_seen) VALUES
  ('amelie@example.net', 'Amélie Tremblay', 101, $NOW_S - 30 * $DAY),
  ('jp@example.com', 'Jean-Pierre Gagnon', 102, $NOW_S - 30 * $DAY),
  ('jean@example.com', 'Jean Dupont', 103, $NOW_S - 30 * $DAY);
INSERT INTO referral (kind, direction, from_contact, to_contact, date, evidence, created_at)
  VALUES ('manual', 'received', 101, 103, $NOW_S - 5 * $DAY, 'test', $NOW_S - 5 * $DAY),
         ('manual', 'received', 102, 103, $NOW_S - 4 * $DAY, 'test', $NOW_S - 4 * $DAY);
SQL
}

# smtp_start NAME PORT MAILDIR [smtp_server.py options]: sets SMTP_PID.
smtp_start() {
	local name=$1 port=$2 md=$3
	shift 3
	"$PYTHON" "$SERVER_PY" --port "$port" --maildir "$md" --log "$T/$name.events" "$@" \
		>"$T/$name.server.log" 2>&1 &
	SMTP_PID=$!
	at_exit "kill $SMTP_PID 2>/dev/null; wait $SMTP_PID 2>/dev/null"
	wait_port "$port" 15 || { show_file "$name server" "$T/$name.server.log"; die "$name did not start"; }
}

smtp_stop() {
	kill "$SMTP_PID" 2>/dev/null || true
	wait "$SMTP_PID" 2>/dev/null || true
}

# start_daemon NAME: mercid in daemon mode on $T/NAME, its notify socket
# logged to $T/NAME.notify; sets DAEMON_PID. Extra environment via env.
start_daemon() {
	local name=$1
	shift
	"$PYTHON" "$top_srcdir/tests/lib/notify_listener.py" "$T/$name.sock" "$T/$name.notify" &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 1 50); do [ -S "$T/$name.sock" ] && break; sleep 0.1; done
	env "$@" MERCI_NOW=$NOW NOTIFY_SOCKET=$T/$name.sock WATCHDOG_USEC=1000000 \
		"$MERCID" --verbose --config "$T/$name/merci.conf" \
		>"$T/$name.out" 2>"$T/$name.err" &
	DAEMON_PID=$!
	at_exit "kill -KILL $DAEMON_PID 2>/dev/null"
}

# wait_stored NAME MAILDIR: until the server has stored a message (it then
# holds its reply to the final dot).
wait_stored() {
	for _ in $(seq 1 300); do
		[ "$(delivered "$2")" -ge 1 ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	show_file "$1 mercid" "$T/$1.err"
	die "$1: no message reached the SMTP server"
}

# wait_exit SECONDS: waits for mercid; sets DAEMON_RC and TOOK (seconds,
# tenths); DAEMON_RC=timeout when it still runs after SECONDS.
wait_exit() {
	local start=$(date +%s%N) i
	DAEMON_RC=timeout
	for i in $(seq 1 $(($1 * 10))); do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			DAEMON_RC=0
			wait "$DAEMON_PID" || DAEMON_RC=$?
			break
		fi
		sleep 0.1
	done
	TOOK=$(( ($(date +%s%N) - start) / 100000000 ))
	TOOK="$((TOOK / 10)).$((TOOK % 10))"
}

# ---- 1. the reply comes within the grace: sent, exit 0 ----

P1=$(free_port)
setup grace "$P1"
smtp_start grace "$P1" "$T/md-grace" --data-delay 4
start_daemon grace
wait_stored grace "$T/md-grace"
kill -TERM "$DAEMON_PID"
wait_exit 15
check_eq "within the grace: mercid exits 0 after the send ends" 0 "$DAEMON_RC"
note "mercid took $TOOK s to stop"
check_eq "within the grace: the server got exactly one message" 1 "$(delivered "$T/md-grace")"
check_eq "within the grace: the server answered it" 1 "$(grep -c '^deliver ' "$T/grace.events" || true)"
check_eq "within the grace: its row is 'sent'" 1 \
	"$(q "$T/grace" "SELECT count(*) FROM outbox WHERE state = 'sent'")"
check_eq "within the grace: no other send started (one row still queued, never tried)" 1 \
	"$(q "$T/grace" "SELECT count(*) FROM outbox WHERE state = 'queued' AND attempts = 0")"
check_eq "within the grace: nothing left 'sending'" 0 \
	"$(q "$T/grace" "SELECT count(*) FROM outbox WHERE state = 'sending'")"
check_grep "the log says it waits for the send" 'letting the send of message .* finish' "$T/grace.err"
check_grep "STOPPING=1 is sent" '^STOPPING=1' "$T/grace.notify"
stopping=$(grep -n '^STOPPING=1' "$T/grace.notify" | head -1 | cut -d: -f1)
fed=$(sed -n "${stopping:-1},\$p" "$T/grace.notify" | grep -c '^WATCHDOG=1' || true)
if [ "${fed:-0}" -ge 2 ]; then
	pass "STOPPING=1 at the start of the wait, the watchdog fed during it ($fed pings after it)"
else
	fail "the watchdog is fed while the stop waits" "$fed WATCHDOG=1 after STOPPING=1"
	show_file notify "$T/grace.notify"
fi
check_grep "STATUS= says what the stop waits for" '^STATUS=stopping: waiting' "$T/grace.notify"

smtp_stop
smtp_start grace2 "$P1" "$T/md-grace"
MERCI_NOW=2026-09-24T12:10:00Z run_cmd grace-restart "$MERCID" --once --config "$T/grace/merci.conf"
check_rc "after the stop: the next run succeeds" 0
check_eq "after the stop: it sends the one still queued, and nothing twice" 2 "$(delivered "$T/md-grace")"
check_no_grep "after the stop: no possible duplicate" 'possible duplicate' "$ERR_FILE"
check_eq "after the stop: both rows 'sent'" 2 \
	"$(q "$T/grace" "SELECT count(*) FROM outbox WHERE state = 'sent'")"
ids=$(cat "$T/md-grace"/new/* | grep -i '^Message-ID:' | sort -u | wc -l)
check_eq "after the stop: two distinct Message-IDs" 2 "$ids"
smtp_stop

# ---- 2. the reply comes after the grace: cut off, sent again ----

P2=$(free_port)
setup late "$P2"
smtp_start late "$P2" "$T/md-late" --data-delay 60
start_daemon late MERCI_STOP_GRACE=2
wait_stored late "$T/md-late"
kill -TERM "$DAEMON_PID"
wait_exit 10
check_eq "beyond the grace: mercid exits 0" 0 "$DAEMON_RC"
awk -v t="$TOOK" 'BEGIN { exit !(t >= 1.5 && t < 5) }' &&
	pass "beyond the grace: it waited the grace (2 s), then stopped ($TOOK s)" ||
	fail "beyond the grace: it stops within grace + margin (2..5 s)" "took $TOOK s"
check_grep "beyond the grace: the log says the send was cut off" 'the send was cut off' "$T/late.err"
check_eq "beyond the grace: the row stays 'sending'" 1 \
	"$(q "$T/late" "SELECT count(*) FROM outbox WHERE state = 'sending'")"
first_id=$(grep -i '^Message-ID:' "$T/md-late"/new/* | head -1 | sed 's/^[^:]*: *//I' | tr -d '\r')
smtp_stop
smtp_start late2 "$P2" "$T/md-late"
MERCI_NOW=2026-09-24T12:10:00Z run_cmd late-restart "$MERCID" --once --config "$T/late/merci.conf"
check_rc "beyond the grace: the next run succeeds" 0
check_grep "beyond the grace: the next start resends it as a possible duplicate" \
	'possible duplicate' "$ERR_FILE"
check_eq "beyond the grace: every row 'sent' now" 2 \
	"$(q "$T/late" "SELECT count(*) FROM outbox WHERE state = 'sent'")"
n_first=$(grep -il "^Message-ID: *$first_id" "$T/md-late"/new/* | wc -l)
check_eq "beyond the grace: the resend carries the same Message-ID" 2 "$n_first"
smtp_stop

# ---- 3. a second SIGTERM stops at once ----

P3=$(free_port)
setup twice "$P3"
smtp_start twice "$P3" "$T/md-twice" --data-delay 60
start_daemon twice
wait_stored twice "$T/md-twice"
kill -TERM "$DAEMON_PID"
sleep 1
kill -0 "$DAEMON_PID" 2>/dev/null && pass "a first SIGTERM waits for the send" ||
	fail "a first SIGTERM waits for the send" "mercid already exited"
kill -TERM "$DAEMON_PID"
wait_exit 5
check_eq "a second SIGTERM: mercid exits 0 at once" 0 "$DAEMON_RC"
check_grep "a second SIGTERM: the log says so" 'while stopping: stopping now' "$T/twice.err"
check_eq "a second SIGTERM: the row stays 'sending'" 1 \
	"$(q "$T/twice" "SELECT count(*) FROM outbox WHERE state = 'sending'")"
smtp_stop
test_finish
