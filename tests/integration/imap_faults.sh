#!/bin/bash
# IMAP network faults through tests/lib/fault_proxy.py between mercid and a
# real Dovecot (plain IMAP on loopback, tls = none, so the proxy can read the
# protocol; timeout = 3s, batches of 25 UIDs, 300 messages: INBOX 193, Sent
# 107). For each fault: the connection cut at 13 byte offsets chosen from a
# recorded clean session (greeting, inside FETCH literals, between two
# messages, inside the tagged OK; INBOX and Sent), a connection that breaks
# again and again, a silent blackhole, "* BYE" before a FETCH answer, Dovecot
# restarted mid-sync, UIDVALIDITY changed between runs, messages expunged
# between runs and during a sync, and a run where `n:*` lies past the last
# UID. `mercid --once` is run until it exits 0 (at most 10 runs), then:
# every message is recorded exactly once, failed runs exited 1 with a
# last_error naming the server, each run opened few connections, a dead
# connection was seen within the timeout, and the reconnect resumed from the
# checkpoint instead of re-reading committed batches, also when the IMAP
# process died right after a batch.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

export MERCI_IMAP_BATCH=25
TIMEOUT=3           # the account's timeout, seconds
MAX_RUNS=10         # runs of mercid --once per case before giving up
MAX_CONN_PER_RUN=5  # connections one --once run may open (first + reconnects)
PROXY_PY=$top_srcdir/tests/lib/fault_proxy.py
# A run longer than this has already failed (the parent's own stall guard is
# timeout*3 + 30 s); stopping it early keeps a broken build's run short.
export RUN_TIMEOUT=$((TIMEOUT * 3 + 8))

# ---- the proxy ----

# proxy_start NAME ARGS...: a fault proxy to Dovecot's plain port, log in
# $TEST_DIR/NAME.proxy.log, raw bytes in $TEST_DIR/NAME.rec/; sets PROXY_PORT.
proxy_start() {
	local name=$1 i
	shift
	PROXY_LOG=$TEST_DIR/$name.proxy.log
	PROXY_REC=$TEST_DIR/$name.rec
	rm -f "$TEST_DIR/$name.port"
	: >"$PROXY_LOG"
	"$PYTHON" "$PROXY_PY" --upstream-port "$DOVECOT_IMAP_PORT" --port-file "$TEST_DIR/$name.port" \
		--log "$PROXY_LOG" --record "$PROXY_REC" --lifetime 300 "$@" \
		2>"$TEST_DIR/$name.proxy.err" &
	PROXY_PID=$!
	at_exit "kill $PROXY_PID 2>/dev/null; wait $PROXY_PID 2>/dev/null"
	for i in $(seq 1 100); do
		[ -s "$TEST_DIR/$name.port" ] && break
		sleep 0.05
	done
	[ -s "$TEST_DIR/$name.port" ] || die "fault proxy $name did not start: $(cat "$TEST_DIR/$name.proxy.err")"
	PROXY_PORT=$(cat "$TEST_DIR/$name.port")
}

proxy_stop() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

proxy_connections() { # how many connections the proxy accepted so far
	grep -c '"event": "open"' "$PROXY_LOG" || true
}

# ---- merci ----

# new_db NAME: a fresh merci directory and config through the proxy.
new_db() {
	DB_DIR=$TEST_DIR/$1.merci
	mkdir -p "$DB_DIR"
	CONF=$DB_DIR/merci.conf
	dovecot_merci_config "$CONF" url="imap://localhost:$PROXY_PORT" tls=none ca_file= \
		timeout="${TIMEOUT}s"
}

# retarget: point the current config at the current proxy.
retarget() {
	sed -i "s|^url = .*|url = imap://localhost:$PROXY_PORT|" "$CONF"
}

status_json() { # NAME: merci --json status into $TEST_DIR/NAME.status.json
	"$MERCI" --config "$CONF" --json status >"$TEST_DIR/$1.status.json" 2>&1 || true
	STATUS=$TEST_DIR/$1.status.json
}

# run_until_ok CASE: mercid --once until it exits 0 (at most MAX_RUNS runs).
# Checks each failed run (exit 1, last_error naming the server, duration) and
# the connections per run. Sets RUNS, FAILED_RUNS, RUN1_SECS, RUN_CONNS.
run_until_ok() {
	local c=$1 i before after t0 t1 secs err
	RUNS=0 FAILED_RUNS=0 RUN_CONNS=""
	for i in $(seq 1 "$MAX_RUNS"); do
		before=$(proxy_connections)
		t0=$(date +%s.%N)
		run_cmd "$c.run$i" "$MERCID" --config "$CONF" --once
		t1=$(date +%s.%N)
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
		[ "$i" = 1 ] && RUN1_SECS=$secs
		sleep 0.2 # the proxy logs the close of the last connection
		after=$(proxy_connections)
		RUNS=$i
		RUN_CONNS="$RUN_CONNS $((after - before))"
		if [ $((after - before)) -gt "$MAX_CONN_PER_RUN" ]; then
			fail "$c: run $i opened at most $MAX_CONN_PER_RUN connections" \
				"it opened $((after - before))"
		fi
		[ "$RC" = 0 ] && break
		FAILED_RUNS=$((FAILED_RUNS + 1))
		status_json "$c.run$i"
		err=$(json_get "$STATUS" accounts.0.last_error 2>&1) || true
		check_rc "$c: failed run $i exits 1 (after ${secs}s)" 1
		case "$err" in
		*localhost*) pass "$c: run $i: last_error names the server: $err" ;;
		*) fail "$c: run $i: last_error names the server (localhost)" "last_error: $err" ;;
		esac
		if awk -v s="$secs" -v m="$((TIMEOUT * 3 + 5))" 'BEGIN { exit !(s > m) }'; then
			fail "$c: failed run $i ends within timeout*3 + 5 s ($((TIMEOUT * 3 + 5)) s)" \
				"it took ${secs}s"
		fi
	done
	check_rc "$c: mercid --once succeeds within $MAX_RUNS runs (runs: $RUNS, connections per run:$RUN_CONNS)" 0
}

# check_store CASE EXCHANGES INBOX_EXISTS SENT_EXISTS: counts, checkpoints,
# no error, each message once.
check_store() {
	local c=$1 n=$2 ie=$3 se=$4
	status_json "$c.final"
	check_json "$c: exchanges recorded" "$STATUS" counts.exchanges "$n"
	check_json "$c: last_error cleared" "$STATUS" accounts.0.last_error null
	check_eq "$c: INBOX last_uid = the server's" "$(dovecot_last_uid INBOX)" \
		"$(json_folder "$STATUS" test INBOX last_uid)"
	check_eq "$c: Sent last_uid = the server's" "$(dovecot_last_uid Sent)" \
		"$(json_folder "$STATUS" test Sent last_uid)"
	check_eq "$c: INBOX exists" "$ie" "$(json_folder "$STATUS" test INBOX exists)"
	check_eq "$c: Sent exists" "$se" "$(json_folder "$STATUS" test Sent exists)"
	check_eq "$c: store: rows, distinct keys, distinct Message-IDs, Message-IDs" "$n $n $n $n" \
		"$("$PYTHON" - "$DB_DIR/merci.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(*db.execute("SELECT count(*), count(DISTINCT msg_key), count(DISTINCT message_id),"
                  " count(message_id) FROM exchange").fetchone())
EOF
)"
}

# resume_point NAME CONN: "FOLDER:UID" of the first UID FETCH that
# connection sent (folder from the EXAMINE/SELECT before it), "done" when it
# sent none (or the connection does not exist).
resume_point() {
	[ -f "$TEST_DIR/$1.rec/conn-$2.c2s" ] || { echo done; return; }
	awk '$2 == "EXAMINE" || $2 == "SELECT" { f = $3; gsub(/"/, "", f) }
	     $2 == "UID" && $3 == "FETCH" { split($4, r, /[:,]/); print f ":" r[1]; found = 1; exit }
	     END { if (!found) print "done" }' "$TEST_DIR/$1.rec/conn-$2.c2s" | tr -d '\r'
}

# ---- the cases ----

setup() {
	dovecot_init
	"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" --count 300 \
		--expected "$TEST_DIR/expected.json" || die "mkmailbox.py failed"
	dovecot_start
	[ "$(json_get "$TEST_DIR/expected.json" counts.exchanges)" = 300 ] ||
		die "mkmailbox --count 300 no longer makes 300 exchanges"
}

# A clean session, recorded: where each FETCH answer and literal lies.
calibrate() {
	note "clean sync through the proxy, recorded (calibration)"
	proxy_start calib --faulty 0
	new_db calib
	run_until_ok calib
	check_eq "calib: one run, one connection" "1 1" "$RUNS$RUN_CONNS"
	check_store calib 300 193 107
	proxy_stop
	"$PYTHON" "$PROXY_PY" --analyse "$TEST_DIR/calib.rec" >"$TEST_DIR/calib.json" ||
		die "fault_proxy.py --analyse failed"
	# $TEST_DIR/offsets: "label offset fetch at resume" lines: offset
	# counts from the greeting; at counts from the first byte of the answer
	# to the connection's fetch-th UID FETCH (fault_proxy.py --at-fetch;
	# fetch 0: from the greeting too); resume is the FOLDER:UID the next
	# connection's first UID FETCH must start at (or a comma-separated
	# choice; "done": no fetch left). Dovecot's tagged replies carry timings
	# whose text grows or shrinks by 8 bytes from one session to the next
	# ("(0.001 + 0.000 secs)" or "(0.004 + 0.000 + 0.003 secs)"), so an
	# offset from the greeting drifts by a multiple of 8 bytes per earlier
	# command: the cuts count from their own FETCH answer, whose bytes do
	# not change; the faults below that count from the greeting aim at the
	# middle of a literal. A cut in a tagged OK accepts both outcomes.
	"$PYTHON" - "$TEST_DIR/calib.json" >"$TEST_DIR/offsets" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
# Each batch is one header fetch (UID FLAGS INTERNALDATE
# BODY.PEEK[HEADER.FIELDS ...]), then for batches with recent mail a
# BODYSTRUCTURE fetch and a fetch of text prefixes (BODY.PEEK[1]<0.N>) of
# those UIDs: the cuts aim at the header fetches, and a cut in a later fetch
# resumes at its batch's first UID too.
fx = [f for f in a["fetches"] if "HEADER.FIELDS" in f["command"].upper()]
inbox = [f for f in fx if f["folder"] == "INBOX" and f["messages"]]
sent = [f for f in fx if f["folder"] == "Sent" and f["messages"]]
assert len(inbox) == 8 and len(sent) == 5, (len(inbox), len(sent))
def first_uid(f): return f["messages"][0]["uid"]
def mid(span): return (span[0] + span[1]) // 2
# Where the next connection must resume: the batch the cut fell in, or for a
# cut inside its tagged OK (all messages already complete) the next batch.
order = inbox + sent
def nxt(f):
    i = order.index(f)
    return "%s:%d" % (order[i + 1]["folder"], first_uid(order[i + 1])) if i + 1 < len(order) else "done"
out = [("greeting", 10, 0, 10, "INBOX:1")]
def add(label, off, f, alt=False):
    exp = "%s:%d" % (f["folder"], first_uid(f))
    k = a["fetches"].index(f) + 1
    out.append((label, off, k, off - f["start"], exp + ("," + nxt(f) if alt else "")))
b1, b2, b3 = inbox[0], inbox[1], inbox[2]
add("INBOX-b1-literal-msg1", mid(b1["messages"][0]["literals"][0]), b1)
add("INBOX-b1-between-msg1-msg2", b1["messages"][1]["start"], b1)
add("INBOX-b1-literal-msg25", mid(b1["messages"][-1]["literals"][0]), b1)
add("INBOX-b1-tagged-OK", b1["tagged"] + 3, b1, True)
add("INBOX-b2-first-byte", b2["start"] + 1, b2)
add("INBOX-b2-literal-msg13", mid(b2["messages"][12]["literals"][0]), b2)
add("INBOX-b2-between-msg12-msg13", b2["messages"][12]["start"], b2)
add("INBOX-b2-before-tagged", b2["tagged"], b2, True)
add("INBOX-b3-literal-msg1", b3["messages"][0]["literals"][0][0] + 5, b3)
add("INBOX-b8-tagged-OK", inbox[-1]["tagged"] + 10, inbox[-1], True)
add("Sent-b1-literal-msg2", mid(sent[0]["messages"][1]["literals"][0]), sent[0])
add("Sent-b5-tagged-OK", sent[-1]["tagged"] + 5, sent[-1], True)
for o in out: print(*o)
EOF
	[ "$(wc -l <"$TEST_DIR/offsets")" = 13 ] || die "calibration found no 13 offsets"
	BLACKHOLE_AT=$(awk '$1 == "INBOX-b2-literal-msg13" { print $2 }' "$TEST_DIR/offsets")
}

cuts() {
	local label off fetch at resume c got
	while read -r label off fetch at resume; do
		c=cut-$label
		if [ "$fetch" = 0 ]; then
			note "connection cut at byte $off ($label)"
			proxy_start "$c" --cut-after-bytes "$off"
		else
			note "connection cut at byte $at of the answer to UID FETCH #$fetch ($label)"
			proxy_start "$c" --cut-after-bytes "$at" --at-fetch "$fetch"
		fi
		new_db "$c"
		run_until_ok "$c"
		check_store "$c" 300 193 107
		check_eq "$c: the proxy cut exactly one connection" 1 \
			"$(grep -c '"fault": "cut"' "$PROXY_LOG" || true)"
		# The reconnect starts from the checkpoint: the batch the cut fell in.
		got=$(resume_point "$c" 2)
		case ",$resume," in
		*",$got,"*) pass "$c: the next connection resumes at $got (expected $resume): no committed batch read again" ;;
		*) fail "$c: the next connection resumes at $resume" "it started at $got" ;;
		esac
		proxy_stop
	done <"$TEST_DIR/offsets"
}

# The IMAP process dies right after it sent batch 1: the connection is cut
# at the first byte of batch 2 and its reconnect refused. The main process
# must commit batch 1 before it handles the exit, however the end of the
# socket and SIGCHLD come in: the next run starts at UID 26.
exit_after_batch() {
	local fetch at
	read -r fetch at < <(awk '$1 == "INBOX-b2-first-byte" { print $3, $4 }' "$TEST_DIR/offsets")
	note "the IMAP process ends right after batch 1 (cut at the first byte of batch 2, reconnect refused)"
	proxy_start exit-b1 --cut-after-bytes "$at" --at-fetch "$fetch" --refuse-next 1
	new_db exit-b1
	run_until_ok exit-b1
	check_eq "exit-b1: run 1 failed, run 2 succeeded" "2 1" "$RUNS $FAILED_RUNS"
	check_eq "exit-b1: the proxy cut conn 1 and refused conn 2" "cut refuse" \
		"$(sed -n 's/.*"fault": "\([a-z]*\)".*/\1/p' "$PROXY_LOG" | tr '\n' ' ' | sed 's/ $//')"
	check_json "exit-b1: run 1 committed batch 1 (25 exchanges)" \
		"$TEST_DIR/exit-b1.run1.status.json" counts.exchanges 25
	check_eq "exit-b1: run 1 left the INBOX checkpoint at UID 25" 25 \
		"$(json_folder "$TEST_DIR/exit-b1.run1.status.json" test INBOX last_uid)"
	check_eq "exit-b1: run 2 resumes at INBOX:26" INBOX:26 "$(resume_point exit-b1 3)"
	check_store exit-b1 300 193 107
	proxy_stop
}

flaky() {
	local off
	off=$(awk '$1 == "INBOX-b2-literal-msg13" { print $2 }' "$TEST_DIR/offsets")
	note "the first 4 connections are all cut at byte $off"
	proxy_start flaky --cut-after-bytes "$off" --faulty 4
	new_db flaky
	run_until_ok flaky
	check_store flaky 300 193 107
	check_no_grep "flaky: no message skipped because the connection broke" \
		'skipped: [^0]|[1-9][0-9]* skipped|UID [0-9]+ .*skipped' "$TEST_DIR/flaky.run$RUNS.err"
	check_eq "flaky: connections in all = 4 cut + 1 clean" 5 "$(proxy_connections)"
	proxy_stop
}

blackhole() {
	local detect
	note "blackhole after byte $BLACKHOLE_AT (INBOX batch 2), timeout ${TIMEOUT}s"
	proxy_start blackhole --blackhole-after-bytes "$BLACKHOLE_AT"
	new_db blackhole
	run_until_ok blackhole
	check_store blackhole 300 193 107
	# The client gave up on the silent connection: seconds between the
	# blackhole and the client closing its socket.
	detect=$("$PYTHON" - "$PROXY_LOG" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
f = [e for e in ev if e["event"] == "fault"]
c = [e for e in ev if e["event"] == "close" and e["conn"] == 1]
print("%.1f" % (c[0]["t"] - f[0]["t"]) if f and c else "none")
EOF
)
	if awk -v d="$detect" -v t="$TIMEOUT" 'BEGIN { exit !(d != "none" && d >= t - 0.5 && d <= 3 * t + 1) }'; then
		pass "blackhole: dead connection dropped ${detect}s after it went silent (timeout ${TIMEOUT}s, bound 3 x timeout + 1)"
	else
		fail "blackhole: dead connection dropped within timeout .. 3 x timeout + 1 s" "got: $detect s"
	fi
	if awk -v s="$RUN1_SECS" -v m="$((TIMEOUT * 3 + 3))" 'BEGIN { exit !(s <= m) }'; then
		pass "blackhole: first run ended in ${RUN1_SECS}s (<= timeout*3 + 3 = $((TIMEOUT * 3 + 3))s)"
	else
		fail "blackhole: first run ends within timeout*3 + 3 s" "it took ${RUN1_SECS}s"
	fi
	proxy_stop
}

bye() {
	note "* BYE instead of the answer to the third UID FETCH"
	proxy_start bye --inject-bye-at fetch --fetch-index 3
	new_db bye
	run_until_ok bye
	check_store bye 300 193 107
	check_eq "bye: the proxy sent one BYE" 1 "$(grep -c '"fault": "bye"' "$PROXY_LOG" || true)"
	check_eq "bye: the next connection resumes at UID 51 of INBOX" INBOX:51 "$(resume_point bye 2)"
	proxy_stop
}

# wait_inbox_uid N: until the store's INBOX checkpoint reaches N (10 s max).
wait_inbox_uid() {
	"$PYTHON" - "$DB_DIR/merci.db" "$1" <<'EOF'
import sqlite3, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=1)
        r = db.execute("SELECT count(*) FROM exchange WHERE folder = 'INBOX'").fetchone()
        db.close()
        if r and r[0] >= int(sys.argv[2]):
            sys.exit(0)
    except sqlite3.Error:
        pass
    time.sleep(0.05)
sys.exit(1)
EOF
}

# dovecot_crash_restart: stop Dovecot with the IMAP sessions it serves (its
# master alone leaves running sessions alive), then start it again.
dovecot_crash_restart() {
	local pid
	for pid in $(sed -n 's/.*Login: user=<[^>]*>.* mpid=\([0-9]*\).*/\1/p' "$DOVECOT_LOG" | sort -u); do
		kill -TERM "$pid" 2>/dev/null || true
	done
	dovecot_restart
}

restart_mid_sync() {
	local bg
	note "Dovecot restarted while mercid is in INBOX batch 3 or later"
	proxy_start restart --faulty 0 --delay-fetch-ms 150
	new_db restart
	(wait_inbox_uid 50 && dovecot_crash_restart >"$TEST_DIR/restart.bg.log" 2>&1) &
	bg=$!
	run_until_ok restart
	wait "$bg" || fail "restart: the background restart happened (INBOX reached 50 messages first)"
	check_store restart 300 193 107
	if [ "$FAILED_RUNS" -ge 1 ] || [ "$(proxy_connections)" -ge 2 ]; then
		pass "restart: the restart broke the sync (failed runs $FAILED_RUNS, connections $(proxy_connections))"
	else
		fail "restart: the restart broke the sync" "one run, one connection: the restart came too late"
	fi
	proxy_stop
}

expunge_during_sync() {
	local bg
	note "5 INBOX messages (UIDs 180-184) expunged while mercid reads batch 3 or later"
	proxy_start expunge-during --faulty 0 --delay-fetch-ms 150
	new_db expunge-during
	(wait_inbox_uid 50 && dovecot_imap '
M.select("INBOX")
M.uid("STORE", "180:184", "+FLAGS", r"(\Deleted)")
M.expunge()' >"$TEST_DIR/expunge.bg.log" 2>&1) &
	bg=$!
	run_until_ok expunge-during
	wait "$bg" || fail "expunge-during: the background expunge happened"
	status_json expunge-during.first
	check_json "expunge-during: 295 exchanges (the 5 expunged before they were read are not)" \
		"$STATUS" counts.exchanges 295
	check_eq "expunge-during: one run, one connection" "1 1" "$RUNS$RUN_CONNS"
	note "expunge-during: a second run sees the folder as it now is"
	run_until_ok expunge-during2
	check_store expunge-during 295 188 107
	check_grep "expunge-during: second run: 0 new, 0 known" \
		'synced, 0 new message\(s\), 0 already known' "$TEST_DIR/expunge-during2.run$RUNS.err"
	proxy_stop
}

# On a fresh database: full sync; UIDVALIDITY reset + a cut during the
# re-read; then 5 expunged + 3 new between runs; then a run where nothing
# is new and the highest UID is gone, so "n:*" lies past the last UID.
between_runs() {
	local off i
	note "UIDVALIDITY of INBOX changes between runs; the re-read is cut"
	proxy_start between --faulty 0
	new_db between
	run_until_ok between-full
	check_store between-full 295 188 107
	proxy_stop
	dovecot_uidvalidity_reset INBOX
	off=$(awk '$1 == "INBOX-b3-literal-msg1" { print $2 }' "$TEST_DIR/offsets")
	proxy_start uidvalidity --cut-after-bytes "$off" --faulty 2
	retarget
	run_until_ok uidvalidity
	check_store uidvalidity 295 188 107
	check_eq "uidvalidity: status shows INBOX's new UIDVALIDITY" "$DOVECOT_NEW_UIDVALIDITY" \
		"$(json_folder "$STATUS" test INBOX uidvalidity)"
	proxy_stop

	note "5 INBOX messages expunged and 3 new ones delivered between runs"
	dovecot_imap '
M.select("INBOX")
M.uid("STORE", "10:14", "+FLAGS", r"(\Deleted)")
M.expunge()'
	for i in 1 2 3; do
		printf '%s\r\n' "Date: Mon, 0$i Nov 2026 10:00:00 -0500" \
			"From: Nouveau Client $i <client$i@nouveau.example>" \
			'To: Camille Roy <camille@example.org>' "Subject: Demande $i" \
			"Message-ID: <fault-new-$i@nouveau.example>" '' "Bonjour $i" >"$TEST_DIR/new$i.eml"
	done
	dovecot_append INBOX "$TEST_DIR/new1.eml" "$TEST_DIR/new2.eml" "$TEST_DIR/new3.eml"
	proxy_start expunged --faulty 0
	retarget
	run_until_ok expunged
	check_store expunged 298 186 107
	check_grep "expunged: 3 new messages, none known twice" \
		'synced, 3 new message\(s\), 0 already known' "$TEST_DIR/expunged.run$RUNS.err"
	proxy_stop

	note "nothing new and INBOX's highest UID expunged: UID FETCH n:* lies past the last UID"
	dovecot_imap '
typ, d = M.select("INBOX")
typ, d = M.uid("SEARCH", "ALL")
last = d[0].split()[-1].decode()
M.uid("STORE", last, "+FLAGS", r"(\Deleted)")
M.expunge()'
	proxy_start nstar --faulty 0
	retarget
	run_until_ok nstar
	check_grep "nstar: 0 new, 0 known (the message * names is not fetched as new or known)" \
		'synced, 0 new message\(s\), 0 already known' "$TEST_DIR/nstar.run$RUNS.err"
	status_json nstar
	check_json "nstar: exchanges unchanged (nothing forgotten, nothing twice)" "$STATUS" \
		counts.exchanges 298
	check_eq "nstar: INBOX checkpoint does not move back" \
		"$(json_folder "$TEST_DIR/expunged.final.status.json" test INBOX last_uid)" \
		"$(json_folder "$STATUS" test INBOX last_uid)"
	proxy_stop
}

test_init
require_binaries
SECONDS=0
setup
calibrate
cuts
exit_after_batch
flaky
blackhole
bye
restart_mid_sync
expunge_during_sync
between_runs
note "took ${SECONDS}s"
test_finish
