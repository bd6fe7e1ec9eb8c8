#!/bin/bash
# smtp_matrix.sh: the SMTP reply matrix, through mercid's real outbox and
# delivery child (mercid --once, a thank-you nudge due, aiosmtpd on
# loopback). Replies 421 450 451 452 550 552 553 554 at the greeting, EHLO
# (and HELO), AUTH, MAIL, RCPT, the DATA command and after the final dot,
# plus a connection dropped after the message is stored but before the 250.
#
# Pass, for every case:
#   4xx  the message stays queued, attempts = 1, last_code = the code,
#        next_attempt pushed by the first backoff (48-72 s), no second
#        attempt in the same run nor in a run 30 s later; a run 2 h later
#        against a healthy server delivers it exactly once (attempts = 2).
#   5xx  the message is failed with the code, never retried (a run a day
#        later makes no connection), counted as failed by merci status.
#   drop the message is retried (it may arrive twice, same Message-ID,
#        attempts = 2: the resend that the outbox records).
#   expiry: a message deferred (451 at RCPT) for longer than the queue
#        lifetime (5 days) ends failed.
# Prints the matrix (stage x code -> retry / failed) and fails on any
# misclassification.
#
# One store and one server per stage: eight thank-you nudges due (digest
# off), and the server answers the k-th connection that reaches the stage
# with the k-th code; each outbox row then shows the code it got and what
# mercid made of it. SMTP_MATRIX_JOBS (default 3) stages run at once.
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
JOBS=${SMTP_MATRIX_JOBS:-3}
STAGES=${SMTP_MATRIX_STAGES:-"greeting ehlo auth mail rcpt datacmd data"}
CODES=${SMTP_MATRIX_CODES:-"421 450 451 452 550 552 553 554"}
SMTP_PASSWORD='matrix-Pa55'
started=$(date +%s)

iso() {	# unix seconds -> ISO 8601 UTC
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

q() {	# dir sql
	sqlite3 -cmd '.timeout 5000' "$1/merci.db" "$2"
}

# ---- the template store: eight thank-you nudges due at NOW, no [smtp] ----

NUDGES_CONF='
[nudges]
quiet_hours = off
digest = off
daily_cap = 50'
mkdir -p "$T/tpl"
dovecot_merci_config "$T/tpl/merci.conf" folders=INBOX
printf '%s\n' "$NUDGES_CONF" >>"$T/tpl/merci.conf"
MERCI_NOW=$NOW run_cmd tpl-init "$MERCID" --once --config "$T/tpl/merci.conf"
[ "$RC" = 0 ] || { show_file stderr "$ERR_FILE"; die "first mercid --once failed"; }
{
	echo "INSERT INTO contact (id, name, created_at) VALUES (100, 'Jean Dupont', $NOW_S - 30 * $DAY);"
	echo "INSERT INTO address (email, name, contact_id, first_seen) VALUES ('jean@example.com', 'Jean Dupont', 100, $NOW_S - 30 * $DAY);"
	for i in 1 2 3 4 5 6 7 8; do
		echo "INSERT INTO contact (id, name, created_at) VALUES ($((100 + i)), 'Referrer $i', $NOW_S - 30 * $DAY);"
		echo "INSERT INTO address (email, name, contact_id, first_seen) VALUES ('ref$i@example.net', 'Referrer $i', $((100 + i)), $NOW_S - 30 * $DAY);"
		echo "INSERT INTO referral (kind, direction, from_contact, to_contact, date, evidence, created_at) VALUES ('manual', 'received', $((100 + i)), 100, $NOW_S - 5 * $DAY, 'test', $NOW_S - 5 * $DAY);"
	done
} | sqlite3 "$T/tpl/merci.db" || die "cannot insert the referrals"
MERCI_NOW=$NOW run_cmd tpl-rules "$MERCID" --once --config "$T/tpl/merci.conf"
[ "$RC" = 0 ] || { show_file stderr "$ERR_FILE"; die "second mercid --once failed"; }
[ "$(q "$T/tpl" "SELECT count(*) FROM nudge WHERE state = 'pending' AND due <= $NOW_S")" = 8 ] ||
	die "the template store has not 8 due nudges: $(q "$T/tpl" "SELECT kind, state, due FROM nudge")"
q "$T/tpl" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

# ---- one case (a stage), run in the background: checks go to DIR/checks ----

# case_setup NAME AUTH: DIR ($D) with the template store.
case_setup() {
	D=$T/c-$1
	CASE_AUTH=$2
	mkdir -p "$D"
	cp "$T/tpl/merci.db" "$D/merci.db"
	: >"$D/checks"
	: >"$D/events"
}

# case_config: a config whose [smtp] points at the case's server (PORT);
# AUTH cases log in.
case_config() {
	dovecot_merci_config "$D/merci.conf" folders=INBOX
	{
		printf '\n[smtp]\nurl = smtp://127.0.0.1:%s\ntls = none\ntimeout = 5s\n' "$PORT"
		if [ "$CASE_AUTH" = yes ]; then
			write_password "$D/smtp.pass" "$SMTP_PASSWORD"
			printf 'user = camille\npassword_file = %s/smtp.pass\n' "$D"
		fi
		printf '%s\n' "$NUDGES_CONF"
	} >>"$D/merci.conf"
}

# server_start [smtp_server.py options]: in the background on a free port
# (PORT; another one when a parallel case took it), until the case ends;
# waits for its "listening" line (no probe connection); writes the config.
server_start() {
	local i try
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		"$PYTHON" "$SERVER_PY" --port "$PORT" --maildir "$D/md" --log "$D/events" "$@" \
			>"$D/server.log" 2>&1 &
		SERVER_PID=$!
		echo "$SERVER_PID" >>"$T/server.pids"
		for i in $(seq 1 300); do
			if grep -q listening "$D/server.log" 2>/dev/null; then
				case_config
				return 0
			fi
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	done
	echo "FAIL - $CASE: the SMTP server did not start" >>"$D/checks"
	sed 's/^/    | /' "$D/server.log" | head -n 20 >>"$D/checks"
	return 1
}

server_stop() {
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
}

mercid_at() {	# NAME ISO-TIME
	RC=0
	MERCI_NOW=$2 timeout 60 "$MERCID" --once --config "$D/merci.conf" \
		>"$D/$1.out" 2>"$D/$1.err" || RC=$?
}

c_ok() { echo "ok   - $CASE: $1" >>"$D/checks"; }
c_fail() {
	local what=$1
	shift
	echo "FAIL - $CASE: $what" >>"$D/checks"
	printf '    %s\n' "$@" >>"$D/checks"
}
c_eq() {	# what expected actual
	if [ "$2" = "$3" ]; then c_ok "$1 ($3)"; else c_fail "$1" "expected: $2" "got:      $3"; fi
}

# Sends the server saw: distinct connections that got a scripted reply, a
# delivery or a drop (an EHLO refusal and the HELO after it are one).
attempts_seen() {
	grep -E '^(reply|deliver|drop) ' "$D/events" | cut -d' ' -f2 | sort -u | wc -l | tr -d ' '
}
delivered() {
	find "$D/md/new" "$D/md/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}
# rows: one line per nudge mail: id state attempts last_code next_attempt copies
rows() {
	local id state attempts code next mid copies
	q "$D" "SELECT id, state, attempts, coalesce(last_code, ''), next_attempt, message_id
		FROM outbox WHERE kind = 'nudge' ORDER BY id" |
	while IFS='|' read -r id state attempts code next mid; do
		copies=$(grep -rlF "Message-ID: <$mid>" "$D/md/new" "$D/md/cur" 2>/dev/null | wc -l | tr -d ' ')
		echo "$id $state $attempts ${code:-none} $next $copies"
	done
}

# merci status shows the failed messages: through its "outbox" object when
# the CLI has one, else through the store.
status_shows_failed() {	# EXPECTED
	local st got
	st=$(timeout 30 "$MERCI" --config "$D/merci.conf" --json status 2>/dev/null || true)
	got=$(printf '%s' "$st" | "$PYTHON" -c '
import json, sys
try:
    print(json.load(sys.stdin)["outbox"]["failed"])
except Exception:
    print("absent")')
	if [ "$got" != absent ]; then
		c_eq "merci status: outbox.failed" "$1" "$got"
	else
		c_eq "merci status has no outbox yet: the store counts them failed" "$1" \
			"$(q "$D" "SELECT count(*) FROM outbox WHERE state = 'failed'")"
	fi
}

# run_stage STAGE: the eight codes at one stage; writes DIR/cells ("CODE RESULT").
run_stage() {
	local stage=$1 replies="" code opt id state attempts lcode next copies n4=0 n5=0
	CASE=$stage
	case_setup "$stage" "$([ "$stage" = auth ] && echo yes || echo no)"
	for code in $CODES; do
		if [ "${code:0:1}" = 4 ]; then
			n4=$((n4 + 1))
			replies="$replies${replies:+|}$code 4.3.0 try again later (matrix $code)"
		else
			n5=$((n5 + 1))
			replies="$replies${replies:+|}$code 5.7.1 refused for good (matrix $code)"
		fi
	done
	case $stage in
	auth) opt=(--auth "camille:$SMTP_PASSWORD" --auth-reply "$replies") ;;
	datacmd) opt=(--data-cmd "$replies") ;;
	*) opt=("--$stage" "$replies") ;;
	esac
	server_start "${opt[@]}" || return 0

	# Run 1: each message tried once, classified by its code.
	mercid_at run1 "$NOW"
	c_eq "run 1: one attempt per message reached the server" "$((n4 + n5))" "$(attempts_seen)"
	c_eq "run 1: exit status 0 (deferrals and refusals do not fail the run)" 0 "$RC"
	rows >"$D/rows1"
	: >"$D/cells"
	for code in $CODES; do
		read -r id state attempts lcode next copies <<<"$(awk -v c="$code" '$4 == c' "$D/rows1" | head -n 1)"
		if [ -z "${id:-}" ]; then
			c_fail "$code: a row records code $code" "rows (id state attempts code next copies):" \
				"$(cat "$D/rows1")"
			echo "$code ?" >>"$D/cells"
			continue
		fi
		if [ "${code:0:1}" = 4 ]; then
			[ "$state" = queued ] && echo "$code retry" >>"$D/cells" || echo "$code $state" >>"$D/cells"
			c_eq "$code: stays queued after one attempt" "queued 1" "$state $attempts"
			if [ "$next" -ge $((NOW_S + 48)) ] && [ "$next" -le $((NOW_S + 72)) ]; then
				c_ok "$code: next attempt pushed by the first backoff (+$((next - NOW_S)) s)"
			else
				c_fail "$code: next attempt pushed by the first backoff (60 s +-20 %)" \
					"got next_attempt = $next, now = $NOW_S"
			fi
		else
			[ "$state" = failed ] && echo "$code failed" >>"$D/cells" || echo "$code $state" >>"$D/cells"
			c_eq "$code: failed after one attempt" "failed 1" "$state $attempts"
		fi
		c_eq "$code: nothing delivered" 0 "$copies"
	done
	n=$(grep -c "failed: .*not be retried" "$D/run1.err" || true)
	c_eq "run 1: the log says, once for each 5xx, it will not be retried" "$n5" "$n"

	# 30 s later: nothing is due.
	mercid_at run2 "$(iso $((NOW_S + 30)))"
	c_eq "run 30 s later: no retry before the backoff" "$((n4 + n5))" "$(attempts_seen)"

	# 2 h later, the server now healthy: the deferred ones go, once each.
	mercid_at run3 "$(iso $((NOW_S + 7200)))"
	rows >"$D/rows3"
	c_eq "run 2 h later: one more attempt per deferred message only" \
		"$((n4 * 2 + n5))" "$(attempts_seen)"
	c_eq "run 2 h later: the deferred messages sent at the second attempt, once each" \
		"$n4" "$(awk '$2 == "sent" && $3 == 2 && $6 == 1' "$D/rows3" | wc -l | tr -d ' ')"
	c_eq "run 2 h later: the refused messages still failed, never retried" \
		"$n5" "$(awk '$2 == "failed" && $3 == 1 && $6 == 0' "$D/rows3" | wc -l | tr -d ' ')"
	c_eq "run 2 h later: deliveries in all" "$n4" "$(delivered)"
	status_shows_failed "$n5"
	server_stop
}

# The connection dropped after the message is stored, before the 250.
run_drop() {
	local id state attempts lcode next copies
	CASE="dropped before 250"
	case_setup drop no
	server_start --drop-before-250 --times 1 || return 0
	mercid_at run1 "$NOW"
	c_eq "run 1: one connection dropped, the other messages sent" "1 7" \
		"$(grep -c '^drop ' "$D/events") $(grep -c '^deliver ' "$D/events")"
	rows >"$D/rows1"
	read -r id state attempts lcode next copies <<<"$(awk '$2 != "sent"' "$D/rows1" | head -n 1)"
	[ "${state:-}" = queued ] && echo "drop retry" >"$D/cells" || echo "drop ${state:-?}" >"$D/cells"
	c_eq "run 1: the dropped one queued again (its outcome is unknown)" "queued 1 1" \
		"${state:-} ${attempts:-} ${copies:-}"
	mercid_at run2 "$(iso $((NOW_S + 30)))"
	c_eq "run 30 s later: not retried before the backoff" 8 "$(attempts_seen)"
	mercid_at run3 "$(iso $((NOW_S + 7200)))"
	rows >"$D/rows3"
	c_eq "run 2 h later: sent at the second attempt, a second copy with the same Message-ID" \
		"sent 2 2" "$(awk -v i="$id" '$1 == i { print $2, $3, $6 }' "$D/rows3")"
	c_eq "every other message delivered exactly once" 7 \
		"$(awk -v i="$id" '$1 != i && $2 == "sent" && $3 == 1 && $6 == 1' "$D/rows3" | wc -l | tr -d ' ')"
	server_stop
}

# Deferred for longer than the queue lifetime: failed.
run_expiry() {
	local t n
	CASE="451 for more than 5 days"
	case_setup expiry no
	server_start --rcpt "451 4.3.0 try again later (matrix)" || return 0
	for t in 0 $DAY $((3 * DAY)) $((5 * DAY - 3600)); do
		mercid_at "run-$t" "$(iso $((NOW_S + t)))"
		c_eq "at +$((t / 3600)) h: all 8 still queued" 8 \
			"$(q "$D" "SELECT count(*) FROM outbox WHERE state = 'queued'")"
	done
	c_eq "the queue lifetime is 5 days" 8 \
		"$(q "$D" "SELECT count(*) FROM outbox WHERE expires_at = $NOW_S + 5 * $DAY")"
	mercid_at run-late "$(iso $((NOW_S + 5 * DAY + 60)))"
	n=$(q "$D" "SELECT count(*) FROM outbox WHERE state = 'failed' AND last_code = 451 AND attempts = 5")
	[ "$n" = 8 ] && echo "expiry failed" >"$D/cells" || echo "expiry queued" >"$D/cells"
	c_eq "after 5 days: failed with the last code (451), after 5 attempts" 8 "$n"
	c_eq "nothing delivered" 0 "$(delivered)"
	c_eq "the log says merci gives up, once per message" 8 "$(grep -c "giving up" "$D/run-late.err" || true)"
	status_shows_failed 8
	server_stop
}

# ---- run every case, JOBS at a time ----

: >"$T/server.pids"
at_exit 'while read -r p; do kill "$p" 2>/dev/null || true; done <"$T/server.pids"'
wait_slot() {
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n 2>/dev/null || true
	done
}
for stage in $STAGES; do
	wait_slot
	(run_stage "$stage") &
done
wait_slot
(run_drop) &
wait_slot
(run_expiry) &
wait

# ---- report ----

for f in "$T"/c-*/checks; do
	cat "$f"
	n_ok=$(grep -c '^ok ' "$f" || true)
	n_fail=$(grep -c '^FAIL ' "$f" || true)
	TEST_CHECKS=$((TEST_CHECKS + n_ok + n_fail))
	TEST_FAILURES=$((TEST_FAILURES + n_fail))
	if [ "$n_fail" -gt 0 ]; then
		d=$(dirname "$f")
		[ -f "$d/run1.err" ] && show_file "$(basename "$d") run 1 stderr" "$d/run1.err"
	fi
done

cell() {	# CASE CODE
	local r
	r=$(awk -v c="$2" '$1 == c { print $2 }' "$T/c-$1/cells" 2>/dev/null)
	echo "${r:-ERROR}"
}
wrong=0
printf '\n%-10s' "stage"
for code in $CODES; do printf ' %-7s' "$code"; done
printf '\n'
for stage in $STAGES; do
	printf '%-10s' "$stage"
	for code in $CODES; do
		got=$(cell "$stage" "$code")
		want=failed
		[ "${code:0:1}" = 4 ] && want=retry
		if [ "$got" = "$want" ]; then
			printf ' %-7s' "$got"
		else
			printf ' %-7s' "$got!"
			wrong=$((wrong + 1))
		fi
	done
	printf '\n'
done
got=$(cell drop drop)
printf '%-10s %s\n' "drop<250" "$got (want retry)"
[ "$got" = retry ] || wrong=$((wrong + 1))
got=$(cell expiry expiry)
printf '%-10s %s\n' "451x5d" "$got (want failed)"
[ "$got" = failed ] || wrong=$((wrong + 1))
printf '(retry: queued with backoff, delivered once later; failed: never retried; ! = misclassified)\n\n'
check_eq "cases misclassified" 0 "$wrong"
note "$(( $(date +%s) - started )) s"
test_finish
