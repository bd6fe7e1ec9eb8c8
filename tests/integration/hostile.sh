#!/bin/bash
# hostile.sh: mercid survives a broken or malicious IMAP server.
#
# Each case runs `mercid --once` with two accounts: "calm" on a well-behaved
# scripted server and "hostile" on one that misbehaves (tests/lib/
# scripted_imap.py; no Dovecot needed). Whatever the hostile server sends,
# mercid must not die of a signal, must record every message of the calm
# account, and must report the hostile account's failure (exit status 1,
# a line on stderr, last_error in `merci --json status`).
#
#   1. the responses of tests/fixtures/hostile-imap/crash-*.imap (they crash
#      Debian's libetpan), injected at LOGIN, EXAMINE and FETCH time (strict:
#      the hostile account must fail) and after the greeting (lenient:
#      libetpan may skip the line);
#   2. a crash in the second fetch batch: the first batch stays recorded, and
#      a later clean run completes without recording anything twice;
#   3. "* BYE" and a dropped connection half-way through a FETCH answer;
#   4. random bytes from the server, 20 seeds, at varying points;
#   5. one message whose FETCH response cannot be parsed: it alone is skipped.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
# shellcheck source=../lib/common.sh
. "$top_srcdir/tests/lib/common.sh"

test_init
require_binaries

SCRIPTED=$top_srcdir/tests/lib/scripted_imap.py
HOSTILE_DIR=$top_srcdir/tests/fixtures/hostile-imap
[ -f "$SCRIPTED" ] || die "missing $SCRIPTED"
[ -d "$HOSTILE_DIR" ] ||
	die "missing $HOSTILE_DIR"
for i in 1 2 3; do
	[ -f "$HOSTILE_DIR/crash-$i.imap" ] || die "missing $HOSTILE_DIR/crash-$i.imap"
done

CALM_N=12        # messages on the calm server
HOSTILE_N=12     # messages on the hostile server
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
SERVER_PIDS=()

stop_servers() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SERVER_PIDS=()
}
at_exit stop_servers

# start_server VAR NAME ARGS...: start a scripted server (log and port file
# in $TEST_DIR/NAME.*), wait for its port (10 s at most), store it in VAR.
start_server() {
	local var=$1 name=$2 pf i pid
	shift 2
	pf=$TEST_DIR/$name.port
	rm -f "$pf"
	"$PYTHON" "$SCRIPTED" --port-file "$pf" --log "$TEST_DIR/$name.log" \
		--lifetime 600 "$@" >"$TEST_DIR/$name.server.err" 2>&1 &
	pid=$!
	SERVER_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$pf" ]; then
		show_file "server stderr" "$TEST_DIR/$name.server.err" >&2
		die "scripted server $name did not start ($*)"
	fi
	printf -v "$var" '%s' "$(cat "$pf")"
}

# stop_last_server: stop the server started last (the hostile one of a case).
stop_last_server() {
	local last=$((${#SERVER_PIDS[@]} - 1))
	kill "${SERVER_PIDS[$last]}" 2>/dev/null || true
	wait "${SERVER_PIDS[$last]}" 2>/dev/null || true
	unset "SERVER_PIDS[$last]"
	SERVER_PIDS=("${SERVER_PIDS[@]}")
}

write_password "$TEST_DIR/pass" 'pass word"1'

# write_config DIR NAME:PORT...: DIR/merci.conf with a fresh store in DIR.
# The account named hostile gets a short network timeout ($HOSTILE_TIMEOUT):
# some responses leave libetpan waiting for bytes that never come.
HOSTILE_TIMEOUT=3s
write_config() {
	local dir=$1 spec name
	shift
	mkdir -p "$dir"
	{
		printf '[general]\ndatabase = %s/merci.db\nowner = Camille Roy <camille@example.org>\n' "$dir"
		for spec in "$@"; do
			name=${spec%%:*}
			printf '\n[account %s]\nurl = imap://127.0.0.1:%s\ntls = none\nuser = camille\npassword_file = %s\nfolders = INBOX\n' \
				"$name" "${spec#*:}" "$TEST_DIR/pass"
			[ "$name" = hostile ] && printf 'timeout = %s\n' "$HOSTILE_TIMEOUT"
		done
	} >"$dir/merci.conf"
}

# acct_field STATUS_JSON ACCOUNT FIELD [FOLDER]: a field of an account (or of
# one of its folders) in `merci --json status`; "<absent>" when missing,
# "null" for JSON null.
acct_field() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
path, account, field = sys.argv[1:4]
folder = sys.argv[4] if len(sys.argv) > 4 else None
try:
    st = json.load(open(path, encoding="utf-8"))
except Exception as e:
    print("<unparsable: %s>" % e)
    sys.exit(0)
for a in st.get("accounts", []):
    if a.get("name") != account:
        continue
    obj = a
    if folder is not None:
        obj = next((f for f in a.get("folders", []) if f.get("name") == folder), {})
    v = obj.get(field, "<absent>")
    print("null" if v is None else v)
    sys.exit(0)
print("<no account %s>" % account)
EOF
}

# run_case NAME ARGS...: mercid --once (MERCI_IMAP_BATCH from $BATCH if set)
# then merci --json status, for the config in $TEST_DIR/NAME/merci.conf.
# Sets RC (mercid's status), MERCID_ERR and STATUS.
run_case() {
	local name=$1 dir=$TEST_DIR/$1
	run_cmd "$name/mercid" env ${BATCH:+MERCI_IMAP_BATCH=$BATCH} \
		"$MERCID" --config "$dir/merci.conf" --once
	MERCID_RC=$RC
	MERCID_ERR=$ERR_FILE
	run_cmd "$name/status" "$MERCI" --config "$dir/merci.conf" --json status
	STATUS=$OUT_FILE
	if [ "$RC" != 0 ]; then
		fail "$name: merci --json status works after the run" "expected exit 0, got $RC"
		show_file stderr "$ERR_FILE"
	fi
	RC=$MERCID_RC
	OUT_FILE=$TEST_DIR/$name/mercid.out
	ERR_FILE=$MERCID_ERR
}

# check_no_signal WHAT: mercid ended by itself with 0 or 1 (not a signal,
# not killed by the time limit).
check_no_signal() {
	case $RC in
	0 | 1) pass "$1: mercid exits by itself (exit $RC)" ;;
	124) fail "$1: mercid hung" "expected exit 0 or 1 within ${RUN_TIMEOUT} s, it was killed by the time limit"
		show_file stderr "$ERR_FILE" ;;
	*) fail "$1: mercid crashed or misbehaved" "expected exit 0 or 1, got $RC$([ "$RC" -gt 128 ] && echo " (signal $((RC - 128)))")"
		show_file stderr "$ERR_FILE" ;;
	esac
}

# check_calm WHAT: the calm account recorded all its messages, no error.
check_calm() {
	check_eq "$1: calm account records all INBOX messages" "$CALM_N" \
		"$(acct_field "$STATUS" calm messages INBOX)"
	check_eq "$1: calm account checkpoint reaches the last UID" "$CALM_N" \
		"$(acct_field "$STATUS" calm last_uid INBOX)"
	check_eq "$1: calm account has no last_error" null \
		"$(acct_field "$STATUS" calm last_error)"
}

# check_hostile_failed WHAT: the failure of the hostile account is visible.
check_hostile_failed() {
	local err
	err=$(acct_field "$STATUS" hostile last_error)
	case $err in
	null | "" | "<"*) fail "$1: hostile account's last_error is set" "expected an error text, got: $err" ;;
	*) pass "$1: hostile account's last_error is set ($err)" ;;
	esac
	check_grep "$1: stderr names the failed account" '\bhostile\b' "$ERR_FILE"
	check_no_grep "$1: stderr reports no failure of the calm account" \
		'\bcalm\b.*(error|fail|crash|signal)|(error|fail|crash|signal).*\bcalm\b' "$ERR_FILE"
}

start_server CALM_PORT calm --messages "$CALM_N" --domain calm.example

# check_nothing_skipped WHAT: the hostile account's checkpoint did not move
# past messages it did not record. A dropped connection, a BYE or a stray
# line before every FETCH answer is not a fault of one message: skipping
# would lose those messages for good (the next sync starts after last_uid).
check_nothing_skipped() {
	local rec last
	rec=$(acct_field "$STATUS" hostile messages INBOX)
	last=$(acct_field "$STATUS" hostile last_uid INBOX)
	case $last in "<"* | null) last=0 ;; esac
	case $rec in "<"* | null) rec=0 ;; esac
	if [ "$last" -le "$rec" ]; then
		pass "$1: no message skipped for a connection-wide fault (recorded $rec, last_uid $last)"
	else
		fail "$1: no message skipped for a connection-wide fault" \
			"expected the checkpoint (last_uid) not beyond the $rec message(s) recorded" \
			"got last_uid $last: $((last - rec)) message(s) skipped and never fetched again"
		grep -iE 'skipped' "$ERR_FILE" | head -n 3 | sed -e 's/^/    | /'
	fi
}

# ---- 1. the crash files -------------------------------------------------------
for f in "$HOSTILE_DIR"/crash-*.imap; do
	base=$(basename "$f" .imap)
	for at in login select fetch greeting; do
		name=$base-at-$at
		start_server HPORT "$name" --messages "$HOSTILE_N" --inject "$f" --at "$at"
		write_config "$TEST_DIR/$name" "calm:$CALM_PORT" "hostile:$HPORT"
		run_case "$name"
		if [ "$at" = greeting ]; then
			# libetpan may ignore a stray line before CAPABILITY: either
			# outcome is fine as long as it is reported truthfully.
			check_no_signal "$name"
			if [ "$RC" = 1 ]; then
				check_hostile_failed "$name"
			elif [ "$RC" = 0 ]; then
				check_eq "$name: a tolerated line loses no hostile message" "$HOSTILE_N" \
					"$(acct_field "$STATUS" hostile messages INBOX)"
			fi
		else
			check_rc "$name: mercid exits 1 (one account failed), not by a signal" 1
			check_hostile_failed "$name"
			[ "$at" != fetch ] || check_nothing_skipped "$name"
		fi
		check_calm "$name"
		stop_last_server
	done
done

# ---- 2. a crash in the second batch keeps the first ---------------------------
name=crash-in-second-batch
BATCH=5
start_server HPORT "$name" --messages "$HOSTILE_N" --inject "$HOSTILE_DIR/crash-1.imap" \
	--at fetch --after 1
write_config "$TEST_DIR/$name" "calm:$CALM_PORT" "hostile:$HPORT"
run_case "$name"
check_rc "$name: mercid exits 1, not by a signal" 1
check_hostile_failed "$name"
check_calm "$name"
check_eq "$name: the batch committed before the crash stays recorded" 5 \
	"$(acct_field "$STATUS" hostile messages INBOX)"
check_eq "$name: the checkpoint stays at that batch's end" 5 \
	"$(acct_field "$STATUS" hostile last_uid INBOX)"
stop_last_server
# The same mailbox, now served cleanly on the same port: the sync completes
# and nothing is recorded twice.
start_server HPORT2 "$name-clean" --port "$HPORT" --messages "$HOSTILE_N"
run_case "$name"
check_rc "$name, then a clean run: mercid exits 0" 0
check_eq "$name, then a clean run: hostile account complete" "$HOSTILE_N" \
	"$(acct_field "$STATUS" hostile messages INBOX)"
check_json "$name, then a clean run: no exchange recorded twice" "$STATUS" counts.exchanges \
	"$((CALM_N + HOSTILE_N))"
check_eq "$name, then a clean run: last_error cleared" null \
	"$(acct_field "$STATUS" hostile last_error)"
stop_last_server
unset BATCH

# ---- 3. BYE and a dropped connection mid-FETCH ------------------------------
for mode in bye-at close-at; do
	name=$mode-fetch
	start_server HPORT "$name" --messages "$HOSTILE_N" "--$mode" fetch
	write_config "$TEST_DIR/$name" "calm:$CALM_PORT" "hostile:$HPORT"
	run_case "$name"
	check_rc "$name: mercid exits 1, not by a signal" 1
	check_hostile_failed "$name"
	check_nothing_skipped "$name"
	check_calm "$name"
	stop_last_server
done

# ---- 4. random bytes ------------------------------------------------------------
points=(greeting capability login select fetch)
for seed in $(seq 1 20); do
	name=random-$seed
	at=${points[$((seed % ${#points[@]}))]}
	size=$(((seed * 769) % 4000 + 16))
	start_server HPORT "$name" --messages "$HOSTILE_N" --random-bytes "$size" \
		--seed "$seed" --at "$at"
	write_config "$TEST_DIR/$name" "calm:$CALM_PORT" "hostile:$HPORT"
	run_case "$name"
	check_no_signal "$name ($size bytes at $at)"
	check_calm "$name"
	stop_last_server
done

# ---- 5. one message libetpan cannot parse ---------------------------------------
name=garbage-message
BATCH=10
start_server HPORT "$name" --messages 20 --garbage-message 7
write_config "$TEST_DIR/$name" "hostile:$HPORT"
run_case "$name"
check_rc "$name: mercid exits 0 (a skipped message is not a failed sync)" 0
check_eq "$name: every other message of the folder is recorded" 19 \
	"$(acct_field "$STATUS" hostile messages INBOX)"
check_json "$name: exchanges recorded" "$STATUS" counts.exchanges 19
check_eq "$name: the checkpoint moves past the bad message" 20 \
	"$(acct_field "$STATUS" hostile last_uid INBOX)"
stop_last_server
unset BATCH

test_finish
