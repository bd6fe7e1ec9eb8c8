#!/bin/bash
# mercid as a service: it tells systemd READY=1 and pings the watchdog, syncs
# without being asked, answers `merci status` and `merci sync` on its control
# socket (its own or one passed by socket activation), reloads on SIGHUP (a
# broken new config is refused and the old one keeps running), and stops
# cleanly on SIGTERM with STOPPING=1 and exit 0.
set -eu
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

test_init
require_binaries
dovecot_init
dovecot_start

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
folders = INBOX
poll = $1
$2
CONF
}
write_config 30s ""

"$PYTHON" "$top_srcdir/tests/lib/notify_listener.py" "$TEST_DIR/notify.sock" "$TEST_DIR/notify.log" &
listener=$!
at_exit "kill $listener 2>/dev/null"
for _ in $(seq 1 50); do [ -S "$TEST_DIR/notify.sock" ] && break; sleep 0.1; done

NOTIFY_SOCKET=$TEST_DIR/notify.sock WATCHDOG_USEC=1000000 "$MERCID" --config "$TEST_DIR/merci.conf" \
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
	show_file "$(basename "$2")" "$2"
	show_file mercid.err "$TEST_DIR/mercid.err"
}

wait_for "READY=1 sent to the notify socket" "$TEST_DIR/notify.log" '^READY=1' 10
wait_for "WATCHDOG=1 within WATCHDOG_USEC (1 s)" "$TEST_DIR/notify.log" '^WATCHDOG=1' 2
wait_for "first sync done without being asked" "$TEST_DIR/mercid.err" 'account test: synced' 15
run_cmd status "$MERCI" --config "$TEST_DIR/merci.conf" --json status
check_rc "merci status while mercid runs" 0
check_json "the sync is recorded as successful" "$OUT_FILE" accounts.0.last_error null
check_json "merci status sees the running daemon" "$OUT_FILE" daemon.running true
check_json "the daemon reports its pid" "$OUT_FILE" daemon.live.pid "$daemon"
run_cmd status_text "$MERCI" --config "$TEST_DIR/merci.conf" status
check_grep "human status says the daemon runs" '^Daemon: +running \(pid [0-9]+' "$OUT_FILE"
mode=$(stat -c %a "$TEST_DIR/run/control")
check_eq "the control socket is private" 600 "$mode"
run_cmd sync "$MERCI" --config "$TEST_DIR/merci.conf" sync
check_rc "merci sync asks the daemon" 0
for _ in $(seq 1 50); do
	n=$(grep -c 'account test: synced' "$TEST_DIR/mercid.err" || true)
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
[ "$n" -ge 2 ] && pass "the daemon synced again on request ($n syncs)" ||
	fail "the daemon synced again on request" "saw $n sync(s) within 5 s"

# A broken config on SIGHUP: refused, the daemon keeps running.
write_config 30s "pol = 5m"
kill -HUP "$daemon"
wait_for "a bad config on SIGHUP is refused with FILE:LINE" "$TEST_DIR/mercid.err" \
	'reload refused' 10
wait_for "the refusal names the line" "$TEST_DIR/mercid.err" 'merci\.conf:[0-9]+: .*pol' 5
wait_for "RELOADING=1 sent" "$TEST_DIR/notify.log" '^RELOADING=1' 5
wait_for "RELOADING=1 carries MONOTONIC_USEC" "$TEST_DIR/notify.log" '^MONOTONIC_USEC=[0-9]+' 5
if kill -0 "$daemon" 2>/dev/null; then pass "mercid still runs after a bad reload"
else fail "mercid still runs after a bad reload" "it exited"; fi

# A good config on SIGHUP is taken.
write_config 45s ""
kill -HUP "$daemon"
wait_for "a good config on SIGHUP is applied" "$TEST_DIR/mercid.err" 'configuration reloaded' 10

kill -TERM "$daemon"
rc=0
for _ in $(seq 1 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
wait "$daemon" || rc=$?
check_eq "mercid exits 0 on SIGTERM" 0 "$rc"
wait_for "STOPPING=1 sent" "$TEST_DIR/notify.log" '^STOPPING=1' 2
[ -e "$TEST_DIR/run/control" ] && fail "the control socket is removed on exit" ||
	pass "the control socket is removed on exit"
run_cmd after "$MERCI" --config "$TEST_DIR/merci.conf" sync
check_rc "merci sync without a daemon fails" 1
check_grep "and says mercid is not running" 'not running' "$ERR_FILE"

# Socket activation: systemd-socket-activate owns the socket and passes it.
command -v systemd-socket-activate >/dev/null ||
	die "systemd-socket-activate not found: run scripts/install-deps"
rm -rf "$TEST_DIR/run"
mkdir -m 0700 "$TEST_DIR/run"
systemd-socket-activate -l "$TEST_DIR/run/control" "$MERCID" --config "$TEST_DIR/merci.conf" \
	>"$TEST_DIR/activated.out" 2>"$TEST_DIR/activated.err" &
activator=$!
at_exit "kill $activator 2>/dev/null"
for _ in $(seq 1 50); do [ -S "$TEST_DIR/run/control" ] && break; sleep 0.1; done
run_cmd activated "$MERCI" --config "$TEST_DIR/merci.conf" --json status
check_json "a socket-activated mercid answers merci status" "$OUT_FILE" daemon.running true
run_cmd activated_sync "$MERCI" --config "$TEST_DIR/merci.conf" sync
check_rc "and merci sync" 0
kill -TERM "$activator" 2>/dev/null || true
wait "$activator" 2>/dev/null || true
test_finish
