#!/bin/bash
# mercid as a service: it tells systemd READY=1, syncs without being asked,
# reloads on SIGHUP (a broken new config is refused and the old one keeps
# running), and stops cleanly on SIGTERM with STOPPING=1 and exit 0.
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

NOTIFY_SOCKET=$TEST_DIR/notify.sock "$MERCID" --config "$TEST_DIR/merci.conf" \
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
wait_for "first sync done without being asked" "$TEST_DIR/mercid.err" 'account test: synced' 15
run_cmd status "$MERCI" --config "$TEST_DIR/merci.conf" --json status
check_rc "merci status while mercid runs" 0
check_json "the sync is recorded as successful" "$OUT_FILE" accounts.0.last_error null

# A broken config on SIGHUP: refused, the daemon keeps running.
write_config 30s "pol = 5m"
kill -HUP "$daemon"
wait_for "a bad config on SIGHUP is refused with FILE:LINE" "$TEST_DIR/mercid.err" \
	'reload refused' 10
wait_for "the refusal names the line" "$TEST_DIR/mercid.err" 'merci\.conf:[0-9]+: .*pol' 5
wait_for "RELOADING=1 sent" "$TEST_DIR/notify.log" '^RELOADING=1' 5
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
test_finish
