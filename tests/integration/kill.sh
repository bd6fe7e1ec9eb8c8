#!/bin/bash
# kill.sh: SIGKILL mercid at random moments of its work (IMAP sync, rules,
# queueing, SMTP sending), restart it, again and again, then let it finish.
#
# Setup: a Dovecot mailbox of 1,500 generic messages plus the story,
# synced 20 messages a batch (MERCI_IMAP_BATCH=20); five times over the run
# 20 referrals received 5 days before MERCI_NOW are added by hand (100
# thank-you nudges due, mailed one by one); an aiosmtpd that waits 0.2 s
# between storing a message and its 250 (a kill in that window makes the
# one resend the outbox allows). MERCI_NOW moves 10 minutes an iteration so
# interrupted sends come due again; every 10th iteration new messages
# arrive (some make follow-up nudges).
#
# Each of KILL_ITERATIONS (default 200) iterations starts `mercid --once`
# and SIGKILLs it, with its children (as systemd kills the unit's cgroup),
# after a random delay spread over a whole run; one in six instead kills
# only the IMAP child (while syncing) or the SMTP child (while sending) and
# lets mercid go on. After each: PRAGMA integrity_check = ok.
#
# At the end mercid --once runs to completion, and:
#   every message recorded exactly once: count(exchange) = count(distinct
#     msg_key) = the messages the server holds, the unparsable one aside;
#   nudges unique per dedupe_key, each in at most one outbox message;
#   every outbox message sent and in the SMTP Maildir exactly once by
#     Message-ID, except those whose row shows attempts > 1 (a kill between
#     the end of DATA and the 250), which may be there twice.
# Prints the iterations, a histogram of kill points and the duration.
set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
require_binaries
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"

ITER=${KILL_ITERATIONS:-200}
COUNT=${KILL_MESSAGES:-1500}
T=$TEST_DIR
SERVER_PY=$top_srcdir/tests/lib/smtp_server.py
export TZ=UTC MERCI_TEMPLATE_DIR=$top_srcdir/conf/templates MERCI_IMAP_BATCH=20
NOW0_S=1790510400   # 2026-09-27T12:00:00Z: the story's nudges are due
STEP=600
started=$(date +%s)

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
q() { sqlite3 -cmd '.timeout 5000' "$T/merci.db" "$1"; }

# ---- the mailbox: generic messages and the story ----

dovecot_init
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$T/gen" --count "$COUNT" \
	--expected "$T/gen.json" || die "mkmailbox --count failed"
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$T/story" \
	--expected "$T/story.json" || die "mkmailbox (story) failed"
for sub in "" .Sent; do
	for f in "$T/gen/$sub/cur"/*; do mv "$f" "$DOVECOT_MAILDIR/$sub/cur/g-${f##*/}"; done
	for f in "$T/story/$sub/cur"/*; do mv "$f" "$DOVECOT_MAILDIR/$sub/cur/s-${f##*/}"; done
done
EXPECTED=$("$PYTHON" -c '
import json, sys
print(sum(json.load(open(p))["counts"]["exchanges"] for p in sys.argv[1:]))' "$T/gen.json" "$T/story.json")
dovecot_start

# New mail, arriving between iterations: inbound from people, and sent mail
# nobody answers (follow-up nudges), dated days before MERCI_NOW.
mkdir -p "$T/pool"
"$PYTHON" - "$T/pool" <<'EOF'
import os, sys
pool = sys.argv[1]
for i in range(60):
    day = 10 + i % 12
    if i % 2:
        head = ("From: Ami %d <ami%d@example.com>\nTo: Camille Roy <camille@example.org>\n"
                "Subject: Nouvelles %d\n" % (i, i, i))
    else:
        head = ("From: Camille Roy <camille@example.org>\nTo: Prospect %d <prospect%d@example.com>\n"
                "Subject: Offre de services %d\n" % (i, i, i))
    msg = ("Date: Sun, %02d Sep 2026 10:%02d:00 -0400\n%sMessage-ID: <kill-new-%03d@example.org>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nmessage %d\n"
           % (day, i % 60, head, i, i))
    with open(os.path.join(pool, "%03d-%s" % (i, "in" if i % 2 else "sent")), "w") as f:
        f.write(msg)
EOF
APPENDED=0
append_mail() {	# N: the next N messages of the pool into the maildir
	local i f dir name
	for ((i = 0; i < $1; i++)); do
		f=$(printf '%s/%03d-' "$T/pool" "$APPENDED")
		f=$(ls "$f"* 2>/dev/null) || return 0
		dir=$DOVECOT_MAILDIR
		case $f in *-sent) dir=$DOVECOT_MAILDIR/.Sent ;; esac
		name=$(date +%s).M${APPENDED}P$$.killtest
		cp "$f" "$dir/tmp/$name"
		mv "$dir/tmp/$name" "$dir/new/$name"
		APPENDED=$((APPENDED + 1))
	done
	_dovecot_fix_owner
}

# ---- the SMTP server and the config ----

SMTP_PORT=$(free_port)
"$PYTHON" "$SERVER_PY" --port "$SMTP_PORT" --maildir "$T/md" --data-delay 0.2 \
	--log "$T/smtp.events" >"$T/smtp.log" 2>&1 &
SMTP_PID=$!
at_exit "kill $SMTP_PID 2>/dev/null; wait $SMTP_PID 2>/dev/null"
for i in $(seq 1 200); do
	grep -q listening "$T/smtp.log" 2>/dev/null && break
	kill -0 "$SMTP_PID" 2>/dev/null || break
	sleep 0.05
done
grep -q listening "$T/smtp.log" || { cat "$T/smtp.log" >&2; die "the SMTP server did not start"; }

dovecot_merci_config "$T/merci.conf"
cat >>"$T/merci.conf" <<EOF

[smtp]
url = smtp://127.0.0.1:$SMTP_PORT
tls = none
timeout = 10s

[nudges]
quiet_hours = off
digest = off
daily_cap = 1000
EOF

# ---- one iteration ----

MERCID_PID=
at_exit '[ -z "$MERCID_PID" ] || kill -KILL $MERCID_PID $(children $MERCID_PID) 2>/dev/null; true'
children() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }

# phase LOG: what mercid was doing, as its log tells: sync, rules (sync
# done, nothing queued or sent yet) or sending.
phase() {
	if ! grep -q ': synced,' "$1"; then
		echo sync
	elif grep -qE 'outbox: (queued|sending|message)' "$1"; then
		echo sending
	else
		echo rules
	fi
}

declare -A HIST=()
bump() { HIST[$1]=$((${HIST[$1]:-0} + 1)); }
# Kill delays are uniform in [0, EST_MS): at first a whole sync from
# scratch, then what the last run that finished on its own took (x 1.25).
EST_MS=4000
integrity_bad=0
crashed=0
DUP_LOGGED=0

# wait_exit PID SECONDS: wait for it to end; 1 when it is still running.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

iteration() {	# N
	local n=$1 now log delay mode kids child rc=0 ph t0 t elapsed
	now=$(iso $((NOW0_S + n * STEP)))
	log=$T/iter.err
	MERCI_NOW=$now "$MERCID" --once --verbose --config "$T/merci.conf" >/dev/null 2>"$log" &
	MERCID_PID=$!
	t0=${EPOCHREALTIME/./}
	delay=$((RANDOM * 32768 + RANDOM))
	delay=$((delay % EST_MS))
	mode=parent
	[ $((RANDOM % 6)) = 0 ] && mode=child
	while kill -0 "$MERCID_PID" 2>/dev/null; do
		t=${EPOCHREALTIME/./}
		[ $(((t - t0) / 1000)) -lt "$delay" ] || break
		sleep 0.01
	done
	t=${EPOCHREALTIME/./}
	elapsed=$(((t - t0) / 1000))
	if ! kill -0 "$MERCID_PID" 2>/dev/null; then
		wait "$MERCID_PID" || rc=$?
		[ "$rc" -le 1 ] || { crashed=$((crashed + 1)); warn "iteration $n: mercid exited $rc"; tail -n 5 "$log" >&2; }
		bump "finished before the kill"
		# Spread the next kills over what a whole run takes now.
		EST_MS=$((elapsed * 5 / 4 + 50))
	elif [ "$mode" = child ] && kids=$(children "$MERCID_PID") && [ -n "$kids" ]; then
		ph=$(phase "$log")
		child=${kids%% *}
		kill -KILL "$child" 2>/dev/null || true
		case $ph in
		sync) bump "IMAP child killed (sync)" ;;
		sending) bump "SMTP child killed (sending)" ;;
		*) bump "child killed ($ph)" ;;
		esac
		# mercid goes on without it and ends by itself.
		if wait_exit "$MERCID_PID" 30; then
			wait "$MERCID_PID" || rc=$?
			if [ "$rc" -gt 1 ]; then
				crashed=$((crashed + 1))
				warn "iteration $n: mercid exited $rc after its child was killed"
				tail -n 5 "$log" >&2
			fi
		else
			crashed=$((crashed + 1))
			warn "iteration $n: mercid still running 30 s after its child was killed"
			kill -KILL "$MERCID_PID" $(children "$MERCID_PID") 2>/dev/null || true
			wait "$MERCID_PID" 2>/dev/null || true
		fi
	else
		ph=$(phase "$log")
		kids=$(children "$MERCID_PID")
		# The whole unit at once, as systemd's KillMode=control-group.
		kill -KILL "$MERCID_PID" $kids 2>/dev/null || true
		wait "$MERCID_PID" 2>/dev/null || true
		bump "mercid killed during $ph"
	fi
	MERCID_PID=
	# No child may outlive the iteration (an orphan would race the next).
	for child in ${kids:-}; do
		wait_exit "$child" 10 || kill -KILL "$child" 2>/dev/null || true
	done
	if [ "$(sqlite3 "$T/merci.db" 'PRAGMA integrity_check' 2>&1)" != ok ]; then
		integrity_bad=$((integrity_bad + 1))
		[ "$integrity_bad" -gt 3 ] ||
			warn "iteration $n: integrity_check: $(sqlite3 "$T/merci.db" 'PRAGMA integrity_check' 2>&1 | sort | uniq -c | head -n 3)"
	fi
	DUP_LOGGED=$((DUP_LOGGED + $(grep -c 'possible duplicate' "$log" || true)))
	cp "$log" "$T/last.err"
}

# ---- the iterations ----

note "$COUNT + story messages, batch $MERCI_IMAP_BATCH, $ITER iterations"
# referrals NOW-SECONDS K: K referrals received 5 days ago, made by hand
# (as `merci referrals add` would): K thank-you nudges due now. The store
# exists once a first mercid has run.
REF=0
referrals() {
	local now=$1 k=$2 i
	{
		echo "BEGIN;"
		echo "INSERT INTO contact (name, created_at) SELECT 'Jean Dupont', $now - 30 * 86400"
		echo "  WHERE NOT EXISTS (SELECT 1 FROM address WHERE email = 'jean.dupont@example.com');"
		echo "INSERT OR IGNORE INTO address (email, name, contact_id, first_seen) VALUES ('jean.dupont@example.com', 'Jean Dupont', last_insert_rowid(), $now - 30 * 86400);"
		for ((i = 0; i < k; i++)); do
			REF=$((REF + 1))
			echo "INSERT INTO contact (name, created_at) VALUES ('Referrer $REF', $now - 30 * 86400);"
			echo "INSERT INTO address (email, name, contact_id, first_seen) VALUES ('referrer$REF@example.net', 'Referrer $REF', last_insert_rowid(), $now - 30 * 86400);"
			echo "INSERT INTO referral (kind, direction, from_contact, to_contact, date, evidence, created_at)"
			echo "  SELECT 'manual', 'received', a.contact_id, j.contact_id, $now - 5 * 86400, 'kill test', $now - 5 * 86400"
			echo "  FROM address a, address j WHERE a.email = 'referrer$REF@example.net' AND j.email = 'jean.dupont@example.com';"
		done
	} >"$T/referrals.sql"   # not a pipe: REF must count in this shell
	sqlite3 -bail -cmd '.timeout 5000' "$T/merci.db" <"$T/referrals.sql" || die "cannot insert referrals"
}
REF_EVERY=$((ITER / 5 > 0 ? ITER / 5 : 1))

for ((n = 1; n <= ITER; n++)); do
	[ $((n % 10)) = 0 ] && append_mail 3
	if [ $((n % REF_EVERY)) = 0 ] && [ -s "$T/merci.db" ]; then
		referrals $((NOW0_S + n * STEP)) 20
	fi
	iteration "$n"
	if [ $((n % 50)) = 0 ]; then
		note "iteration $n/$ITER ($(( $(date +%s) - started )) s): $(q 'SELECT count(*) FROM exchange') exchanges, $(q "SELECT count(*) FROM outbox WHERE state = 'sent'") sent"
	fi
done

# ---- the end: one run to completion, far enough in time for every retry ----

END_NOW=$(iso $((NOW0_S + (ITER + 1) * STEP + 7200)))
MERCI_NOW=$END_NOW run_cmd final "$MERCID" --once --config "$T/merci.conf"
check_rc "a last mercid --once runs to completion" 0
MERCI_NOW=$END_NOW run_cmd final2 "$MERCID" --once --config "$T/merci.conf"
check_rc "and another one, with nothing left to do" 0

check_eq "PRAGMA integrity_check = ok after every kill" 0 "$integrity_bad"
check_eq "mercid never crashed nor hung when a child was killed" 0 "$crashed"
check_eq "PRAGMA integrity_check at the end" ok "$(q 'PRAGMA integrity_check')"

# Messages: what the server holds, recorded once each.
held=$(( $(dovecot_status INBOX | cut -d' ' -f1) + $(dovecot_status Sent | cut -d' ' -f1) ))
note "the server holds $held messages; $((EXPECTED + APPENDED)) distinct ones to record ($APPENDED appended)"
check_eq "exchanges: every message recorded" "$((EXPECTED + APPENDED))" "$(q 'SELECT count(*) FROM exchange')"
check_eq "exchanges: each exactly once (distinct msg_key)" "$((EXPECTED + APPENDED))" \
	"$(q 'SELECT count(DISTINCT account_id || char(31) || msg_key) FROM exchange')"
check_eq "nudges: unique per dedupe_key" 0 "$(q 'SELECT count(*) - count(DISTINCT dedupe_key) FROM nudge')"
check_eq "nudges: none queued in two outbox messages" 0 \
	"$(q 'SELECT count(*) FROM (SELECT nudge_id FROM outbox_item GROUP BY nudge_id HAVING count(*) > 1)')"
check_eq "nudges marked sent have their outbox message" 0 \
	"$(q "SELECT count(*) FROM nudge n WHERE n.state = 'sent' AND NOT EXISTS (SELECT 1 FROM outbox_item i WHERE i.nudge_id = n.id)")"
check_eq "outbox: every message sent in the end" 0 "$(q "SELECT count(*) FROM outbox WHERE state <> 'sent'")"
n_out=$(q 'SELECT count(*) FROM outbox')
[ "$n_out" -gt 0 ] && pass "outbox: $n_out messages queued over the run" ||
	fail "outbox: messages were queued" "got none: the story's nudges should be due"

py_checks - "$T/merci.db" "$T/md" <<'EOF'
import collections, email.parser, os, sqlite3, sys
db, md = sys.argv[1], sys.argv[2]
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
rows = {mid: (state, attempts) for mid, state, attempts in sqlite3.connect(db).execute(
    "SELECT message_id, state, attempts FROM outbox")}
copies = collections.Counter()
p = email.parser.BytesHeaderParser()
for d in ("new", "cur"):
    path = os.path.join(md, d)
    for f in os.listdir(path) if os.path.isdir(path) else []:
        mid = (p.parsebytes(open(os.path.join(path, f), "rb").read())["Message-ID"] or "").strip()
        copies[mid.strip("<>")] += 1
strangers = [m for m in copies if m not in rows]
missing = [m for m, r in rows.items() if copies[m] == 0]
once = [m for m in rows if copies[m] == 1]
resends = [m for m in rows if copies[m] > 1]
unrecorded = [m for m in resends if rows[m][1] < copies[m]]
if strangers: fail("every delivered message is an outbox message", "unknown: %s" % strangers[:5])
else: ok("every delivered message is an outbox message (%d deliveries)" % sum(copies.values()))
if missing: fail("every outbox message delivered", "%d never arrived, e.g. %s" % (len(missing), missing[:5]))
else: ok("every outbox message delivered (%d)" % len(rows))
if unrecorded:
    fail("a message delivered twice shows attempts > 1 (a kill between DATA and the 250)",
         *["%s: %d copies, attempts %d" % (m, copies[m], rows[m][1]) for m in unrecorded[:10]])
else:
    ok("%d delivered exactly once, %d resends, all recorded (attempts > 1)" % (len(once), len(resends)))
EOF

printf '\nkill points (%d iterations):\n' "$ITER"
for k in "${!HIST[@]}"; do printf '  %4d  %s\n' "${HIST[$k]}" "$k"; done | sort -k2
printf 'rows found "sending" at start-up (logged as possible duplicates): %d\n' "$DUP_LOGGED"
note "duration $(( $(date +%s) - started )) s"
test_finish
