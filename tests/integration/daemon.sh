#!/bin/bash
# mercid as a service: it tells systemd READY=1 once the first sync of every
# account has ended (its records committed), or after a bounded wait when a
# server hangs, with a STATUS= line that says how it went; pings the
# watchdog, syncs without being asked, answers `merci status` and `merci
# sync` on its control socket (its own or one passed by socket activation),
# reloads on SIGHUP (a broken new config is refused and the old one keeps
# running), and stops cleanly on SIGTERM with STOPPING=1 and exit 0.
set -eu
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

test_init
require_binaries
dovecot_init
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" ||
	die "mkmailbox.py failed"
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

# start_listener NAME [ON_READY_COMMAND]: a notify socket $TEST_DIR/NAME.sock
# logging to $TEST_DIR/NAME.log (see notify_listener.py).
start_listener() {
	"$PYTHON" "$top_srcdir/tests/lib/notify_listener.py" "$TEST_DIR/$1.sock" \
		"$TEST_DIR/$1.log" ${2:+"$2"} &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 1 50); do [ -S "$TEST_DIR/$1.sock" ] && break; sleep 0.1; done
}
# What the daemon had committed when it said READY=1.
start_listener notify "\"$MERCI\" --config \"$TEST_DIR/merci.conf\" --json contacts list"

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

# line_of FILE ERE: the number of the first line matching ERE (0: none).
line_of() {
	grep -nE -- "$2" "$1" 2>/dev/null | head -1 | cut -d: -f1 | grep . || echo 0
}

wait_for "READY=1 sent to the notify socket" "$TEST_DIR/notify.log" '^READY=1' 20
wait_for "WATCHDOG=1 within WATCHDOG_USEC (1 s)" "$TEST_DIR/notify.log" '^WATCHDOG=1' 2
wait_for "first sync done without being asked" "$TEST_DIR/mercid.err" 'account test: synced' 15
n=$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' \
	"$TEST_DIR/notify.log.ready" 2>&1) || true
if [ "${n:-0}" -gt 0 ] 2>/dev/null; then
	pass "READY=1 comes after the first sync is committed ($n contacts at that moment)"
else
	fail "READY=1 comes after the first sync is committed" "merci contacts list then: ${n:-nothing}"
	show_file notify.log "$TEST_DIR/notify.log"
fi
first_status=$(line_of "$TEST_DIR/notify.log" '^STATUS=')
ready=$(line_of "$TEST_DIR/notify.log" '^READY=1')
check_grep "before READY=1, STATUS says the first sync runs" \
	'^STATUS=first sync: synced 0 accounts, 1 syncing now$' "$TEST_DIR/notify.log"
[ "$first_status" -gt 0 ] && [ "$first_status" -lt "$ready" ] &&
	pass "that STATUS= comes before READY=1" ||
	fail "that STATUS= comes before READY=1" "STATUS line $first_status, READY line $ready"
# READY=1 and its STATUS= come in one message: the line after READY=1.
ready_status=$(sed -n "$((ready + 1))p" "$TEST_DIR/notify.log")
if [[ $ready_status =~ ^STATUS=synced\ 1\ account,\ [0-9]+\ nudges?\ due$ ]]; then
	pass "READY=1 comes with a STATUS a person reads ($ready_status)"
else
	fail "READY=1 comes with a STATUS a person reads" "got: $ready_status"
fi
synced=$(line_of "$TEST_DIR/mercid.err" 'account test: synced')
readyline=$(line_of "$TEST_DIR/mercid.err" 'ready: every account tried its first sync')
[ "$synced" -gt 0 ] && [ "$readyline" -gt "$synced" ] &&
	pass "the log says ready after the account's sync" ||
	fail "the log says ready after the account's sync" "synced line $synced, ready line $readyline"
run_cmd status "$MERCI" --config "$TEST_DIR/merci.conf" --json status
check_rc "merci status while mercid runs" 0
check_json "the sync is recorded as successful" "$OUT_FILE" accounts.0.last_error null
check_json "merci status sees the running daemon" "$OUT_FILE" daemon.running true
check_json "the daemon reports its pid" "$OUT_FILE" daemon.live.pid "$daemon"
run_cmd status_text "$MERCI" --config "$TEST_DIR/merci.conf" status
check_grep "human status says the daemon runs" '^Daemon: +running \(pid [0-9]+' "$OUT_FILE"
check_grep "and how its accounts are doing" '^Daemon: +running \(pid [0-9]+, since .*\): synced 1 account, ' "$OUT_FILE"
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
reloading=$(line_of "$TEST_DIR/notify.log" '^RELOADING=1')
for _ in $(seq 1 50); do
	sed -n "$reloading,\$p" "$TEST_DIR/notify.log" | grep -q '^READY=1' && break
	sleep 0.1
done
sed -n "$reloading,\$p" "$TEST_DIR/notify.log" | grep -q '^READY=1' &&
	pass "READY=1 follows RELOADING=1 when the reload is refused" ||
	fail "READY=1 follows RELOADING=1 when the reload is refused"
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

# A server that is down must not hold the start: READY=1 as soon as every
# account tried, STATUS names the failing one (and says no more about it).
# One that accepts but never greets holds it MERCI_READY_MAX seconds at most.
down_port=$(free_port)
hang_port=$(free_port)
"$PYTHON" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(120)' "$hang_port" &
at_exit "kill $! 2>/dev/null"
wait_port "$hang_port" 2>/dev/null || sleep 0.5
rm -rf "$TEST_DIR/run"
write_config 30s "
[account down]
url = imap://127.0.0.1:$down_port
user = nobody
password_file = $TEST_DIR/imap.pass
ca_file = $DOVECOT_CA
"
start_listener down
start=$(date +%s)
NOTIFY_SOCKET=$TEST_DIR/down.sock "$MERCID" --config "$TEST_DIR/merci.conf" \
	>"$TEST_DIR/down.out" 2>"$TEST_DIR/down.err" &
daemon=$!
at_exit "kill -KILL $daemon 2>/dev/null"
wait_for "with a server down, READY=1 still comes" "$TEST_DIR/down.log" '^READY=1' 20
took=$(($(date +%s) - start))
[ "$took" -lt 15 ] && pass "without waiting for a timeout (${took} s)" ||
	fail "without waiting for a timeout" "READY=1 after ${took} s"
check_grep "its STATUS says which account fails, and why" \
	'^STATUS=synced 1 account, 1 failing: down \(connection refused\), [0-9]+ nudges? due$' \
	"$TEST_DIR/down.log"
kill -TERM "$daemon"; wait "$daemon" 2>/dev/null || true

rm -rf "$TEST_DIR/run"
write_config 30s "
[account hang]
url = imap://127.0.0.1:$hang_port
user = nobody
password_file = $TEST_DIR/imap.pass
ca_file = $DOVECOT_CA
timeout = 60s
"
start_listener hang
start=$(date +%s)
MERCI_READY_MAX=3 NOTIFY_SOCKET=$TEST_DIR/hang.sock "$MERCID" --config "$TEST_DIR/merci.conf" \
	>"$TEST_DIR/hang.out" 2>"$TEST_DIR/hang.err" &
daemon=$!
at_exit "kill -KILL $daemon 2>/dev/null"
wait_for "with a server that never answers, READY=1 after the bounded wait" \
	"$TEST_DIR/hang.log" '^READY=1' 10
check_grep "its STATUS says a sync still runs" \
	'^STATUS=synced 1 account, 1 syncing now(, [0-9]+ nudges? due)?$' "$TEST_DIR/hang.log"
check_grep "the log says the first sync goes on" 'ready; the first sync goes on' "$TEST_DIR/hang.err"
run_cmd hang_status "$MERCI" --config "$TEST_DIR/merci.conf" --json status
check_json "merci status answers while an account hangs" "$OUT_FILE" daemon.running true
kill -TERM "$daemon"; wait "$daemon" 2>/dev/null || true
test_finish
