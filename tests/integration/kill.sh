#!/bin/bash
# kill.sh: SIGKILL mercid at random moments of its work (IMAP sync, rules,
# queueing, SMTP sending), restart it, again and again, then let it finish.
#
# Setup: a Dovecot mailbox of KILL_MESSAGES (default 400) generic messages
# plus the story, synced 10 messages a batch (MERCI_IMAP_BATCH=10). New mail
# arrives during the run: every other iteration an introduction ("Je te
# présente ...") from a new referrer, dated a week before MERCI_NOW, so the
# rules make one thank-you nudge for it, due at once (thank_after 2d); every
# 10th iteration three ordinary messages. Nudges are mailed one by one to an
# aiosmtpd that waits 0.1 s between storing a message and its 250 (a kill in
# that window makes the one resend the outbox allows). MERCI_NOW moves 10
# minutes an iteration so interrupted sends come due again.
#
# Each of KILL_ITERATIONS (default 200) iterations starts `mercid --once`
# and SIGKILLs it, with its children (as systemd kills the unit's cgroup),
# after a random delay uniform over what the last complete run took (x 1.25,
# capped at 3 s); one in six instead kills only the IMAP child (while
# syncing) or the SMTP child (while sending) and lets mercid go on. After
# each: PRAGMA integrity_check = ok (sqlite3, a few ms). The expensive
# checks (IMAP STATUS, Maildir scan) run once, at the end.
#
# At the end mercid --once runs to completion, and:
#   every message recorded exactly once: count(exchange) = count(distinct
#     msg_key) = the messages the server holds, the unparsable one aside;
#   one thank-you nudge per introduction, nudges unique per dedupe_key,
#     each in at most one outbox message;
#   every outbox message sent and in the SMTP Maildir exactly once by
#     Message-ID, except those whose row shows attempts > 1 (a kill between
#     the end of DATA and the 250), which may be there twice: counted and
#     printed.
# Prints the iterations, a histogram of kill points (sync / rules / sending)
# and the duration.
set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
require_binaries
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"

ITER=${KILL_ITERATIONS:-200}
COUNT=${KILL_MESSAGES:-400}
T=$TEST_DIR
SERVER_PY=$top_srcdir/tests/lib/smtp_server.py
export TZ=UTC MERCI_TEMPLATE_DIR=$top_srcdir/conf/templates MERCI_IMAP_BATCH=${MERCI_IMAP_BATCH:-10}
NOW0_S=1790510400   # 2026-09-27T12:00:00Z: the story's nudges are due
STEP=600
started=$(date +%s)

iso() { printf '%(%Y-%m-%dT%H:%M:%SZ)T\n' "$1"; }
q() { sqlite3 -cmd '.timeout 5000' "$T/merci.db" "$1"; }

# ---- the mailbox: generic messages and the story ----

dovecot_init
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$T/gen" --count "$COUNT" \
	--expected "$T/gen.json" || die "mkmailbox --count failed"
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$T/story" \
	--expected "$T/story.json" || die "mkmailbox (story) failed"
"$PYTHON" - "$T" "$DOVECOT_MAILDIR" <<'EOF'
import os, sys
t, md = sys.argv[1], sys.argv[2]
for src, prefix in (("gen", "g-"), ("story", "s-")):
    for sub in ("", ".Sent"):
        d = os.path.join(t, src, sub, "cur")
        for f in os.listdir(d):
            os.rename(os.path.join(d, f), os.path.join(md, sub, "cur", prefix + f))
EOF
EXPECTED=$("$PYTHON" -c '
import json, sys
print(sum(json.load(open(p))["counts"]["exchanges"] for p in sys.argv[1:]))' "$T/gen.json" "$T/story.json")
HELD0=$("$PYTHON" -c '
import json, sys
print(sum(f["exists"] for p in sys.argv[1:] for f in json.load(open(p))["folders"].values()))' "$T/gen.json" "$T/story.json")
dovecot_start

# New mail, arriving between iterations, dated days before MERCI_NOW:
# ordinary mail (inbound from people, sent mail nobody answers) in
# $T/pool/mail, and introductions in $T/pool/intro: "Référent N" writes to
# the owner and "Client N" to present them to each other; the owner never
# wrote to the referrer since, so each makes a thank-you nudge, due at once.
N_INTRO=$((ITER / 2))
mkdir -p "$T/pool/mail" "$T/pool/intro"
"$PYTHON" - "$T/pool" "$N_INTRO" <<'EOF'
import os, sys
pool, n_intro = sys.argv[1], int(sys.argv[2])
def write(path, day, minute, head, mid, body):
    msg = ("Date: Sun, %02d Sep 2026 10:%02d:00 -0400\n%sMessage-ID: <%s@example.org>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n\n%s" % (day, minute, head, mid, body))
    with open(path, "w", encoding="utf-8") as f:
        f.write(msg)
for i in range(60):
    if i % 2:
        head = ("From: Ami %d <ami%d@example.com>\nTo: Camille Roy <camille@example.org>\n"
                "Subject: Nouvelles %d\n" % (i, i, i))
    else:
        head = ("From: Camille Roy <camille@example.org>\nTo: Prospect %d <prospect%d@example.com>\n"
                "Subject: Offre de services %d\n" % (i, i, i))
    write(os.path.join(pool, "mail", "%03d-%s" % (i, "in" if i % 2 else "sent")),
          10 + i % 12, i % 60, head, "kill-new-%03d" % i, "message %d\n" % i)
for i in range(n_intro):
    head = ("From: Référent %d <referent%d@example.net>\nTo: Camille Roy <camille@example.org>\n"
            "Cc: Client %d <client%d@example.com>\nSubject: Présentation %d\n" % (i, i, i, i, i))
    body = ("Bonjour Camille,\n\nJe te présente Client %d, directeur chez Boréal %d. "
            "Il cherche une consultante pour un mandat cet automne.\n\nRéférent %d\n" % (i, i, i))
    write(os.path.join(pool, "intro", "%03d" % i), 18 + i % 3, i % 60, head,
          "kill-intro-%03d" % i, body)
EOF
APPENDED=0
INTROS=0
# deliver FILE FOLDER-DIR: a new message in a maildir folder (Dovecot
# numbers it at the next SELECT).
deliver() {
	local name
	name=$(date +%s).M$((APPENDED + INTROS))P$$.killtest
	cp "$1" "$2/tmp/$name"
	mv "$2/tmp/$name" "$2/new/$name"
}
append_mail() {	# N: the next N ordinary messages of the pool
	local i f dir
	for ((i = 0; i < $1; i++)); do
		f=$(printf '%s/%03d-' "$T/pool/mail" "$APPENDED")
		f=$(ls "$f"* 2>/dev/null) || return 0
		dir=$DOVECOT_MAILDIR
		case $f in *-sent) dir=$DOVECOT_MAILDIR/.Sent ;; esac
		deliver "$f" "$dir"
		APPENDED=$((APPENDED + 1))
	done
	_dovecot_fix_owner
}
append_intro() {	# the next introduction of the pool, into INBOX
	local f
	f=$(printf '%s/%03d' "$T/pool/intro" "$INTROS")
	[ -f "$f" ] || return 0
	deliver "$f" "$DOVECOT_MAILDIR"
	INTROS=$((INTROS + 1))
	_dovecot_fix_owner
}

# ---- the SMTP server and the config ----

SMTP_PORT=$(free_port)
"$PYTHON" "$SERVER_PY" --port "$SMTP_PORT" --maildir "$T/md" --data-delay "${KILL_DATA_DELAY:-0.1}" \
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
# The loop runs 200 times on a loaded machine: no fork that a builtin can
# do (sleep is `read -t` on a pipe nobody writes, /proc and the log are read
# with `read`/mapfile). Only mercid and one sqlite3 per iteration.

exec {SLEEP_FD}<> <(:)
snooze() { read -r -t "$1" -u "$SLEEP_FD" _ || true; }

MERCID_PID=
at_exit '[ -z "$MERCID_PID" ] || kill -KILL $MERCID_PID $(children $MERCID_PID) 2>/dev/null; true'
# children PID: its child processes (every thread's), on one line.
children() {
	local f line out=
	for f in /proc/"$1"/task/*/children; do
		line=
		# The file has no final newline: read fails at EOF but sets line.
		read -r line 2>/dev/null <"$f" || true
		out="$out $line"
	done
	local -a pids=($out)
	printf '%s' "${pids[*]}"
}

# alive PID: the process exists and is not a zombie. A child orphaned by
# the kill is reaped by whoever is PID 1, which may take a second or more
# (a container's init): a zombie holds no descriptor nor lock any more.
alive() {
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# wait_exit PID SECONDS: wait for it to end; 1 when it is still running.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 100; i++)); do
		alive "$1" || return 0
		snooze 0.01
	done
	return 1
}

# phase LOG: what mercid was doing, as its log tells: sending (an outbox
# line: queued, sending, sent, or a resend at start-up), rules (sync done,
# nothing queued or sent yet) or sync. Also counts into LOG_DUPS the rows
# found "sending" at start-up ("possible duplicate").
PHASE=
LOG_DUPS=0
phase() {
	local -a lines
	local l synced=0
	mapfile -t lines <"$1"
	PHASE=sync
	LOG_DUPS=0
	for l in "${lines[@]}"; do
		case $l in
		*"possible duplicate"*) LOG_DUPS=$((LOG_DUPS + 1)); PHASE=sending ;;
		*"outbox: queued"* | *"outbox: sending"* | *"outbox: message"*) PHASE=sending ;;
		*": synced,"*) [ "$PHASE" = sending ] || PHASE=rules ;;
		esac
	done
}

declare -A HIST=()
bump() { HIST[$1]=$((${HIST[$1]:-0} + 1)); LAST_KILL=$1; }
# Kill delays are uniform in [0, EST_MS): at first a whole sync from
# scratch, then what the last run that finished on its own took (x 1.25),
# at most EST_MAX_MS.
EST_MS=1500
EST_MAX_MS=3000
integrity_bad=0
crashed=0
DUP_LOGGED=0

iteration() {	# N
	local n=$1 now log delay mode kids= child rc=0 t0 t elapsed
	printf -v now '%(%Y-%m-%dT%H:%M:%SZ)T' $((NOW0_S + n * STEP))
	log=$T/iter.err
	MERCI_NOW=$now "$MERCID" --once --verbose --config "$T/merci.conf" >/dev/null 2>"$log" &
	MERCID_PID=$!
	t0=${EPOCHREALTIME/./}
	delay=$((RANDOM * 32768 + RANDOM))
	delay=$((delay % EST_MS))
	mode=parent
	[ $((RANDOM % 6)) = 0 ] && mode=child
	while alive "$MERCID_PID"; do
		t=${EPOCHREALTIME/./}
		[ $(((t - t0) / 1000)) -lt "$delay" ] || break
		snooze 0.005
	done
	t=${EPOCHREALTIME/./}
	elapsed=$(((t - t0) / 1000))
	if ! alive "$MERCID_PID"; then
		wait "$MERCID_PID" || rc=$?
		[ "$rc" -le 1 ] || { crashed=$((crashed + 1)); warn "iteration $n: mercid exited $rc"; tail -n 5 "$log" >&2; }
		phase "$log"
		bump "finished before the kill"
		# Spread the next kills over what a whole run takes now.
		EST_MS=$((elapsed * 5 / 4 + 50))
		[ "$EST_MS" -le "$EST_MAX_MS" ] || EST_MS=$EST_MAX_MS
	elif [ "$mode" = child ] && kids=$(children "$MERCID_PID") && [ -n "$kids" ]; then
		phase "$log"
		child=${kids%% *}
		kill -KILL "$child" 2>/dev/null || true
		case $PHASE in
		sync) bump "IMAP child killed (sync)" ;;
		sending) bump "SMTP child killed (sending)" ;;
		*) bump "child killed ($PHASE)" ;;
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
		phase "$log"	# the duplicates logged by the rest of the run
	else
		phase "$log"
		kids=$(children "$MERCID_PID")
		# The whole unit at once, as systemd's KillMode=control-group.
		kill -KILL "$MERCID_PID" $kids 2>/dev/null || true
		wait "$MERCID_PID" 2>/dev/null || true
		bump "mercid killed during $PHASE"
	fi
	MERCID_PID=
	# No child may outlive the iteration (an orphan would race the next).
	for child in $kids; do
		wait_exit "$child" 10 || { warn "iteration $n: child $child outlived the kill"; kill -KILL "$child" 2>/dev/null || true; }
	done
	if [ "$(sqlite3 "$T/merci.db" 'PRAGMA integrity_check' 2>&1)" != ok ]; then
		integrity_bad=$((integrity_bad + 1))
		[ "$integrity_bad" -gt 3 ] ||
			warn "iteration $n: integrity_check: $(sqlite3 "$T/merci.db" 'PRAGMA integrity_check' 2>&1 | sort | uniq -c | head -n 3)"
	fi
	DUP_LOGGED=$((DUP_LOGGED + LOG_DUPS))
	t=${EPOCHREALTIME/./}
	# n, delay, ms until the kill, ms for the whole iteration, what happened
	printf '%d %d %d %d %s\n' "$n" "$delay" "$elapsed" $(((t - t0) / 1000)) "$LAST_KILL" >>"$T/iterations"
}

# ---- the iterations ----

note "$COUNT + story messages, batch $MERCI_IMAP_BATCH, $ITER iterations, $N_INTRO introductions"
for ((n = 1; n <= ITER; n++)); do
	[ $((n % 2)) = 0 ] && append_intro
	[ $((n % 10)) = 0 ] && append_mail 3
	iteration "$n"
	if [ $((n % 50)) = 0 ]; then
		note "iteration $n/$ITER ($(( $(date +%s) - started )) s): $(q 'SELECT count(*) FROM exchange') exchanges, $(q "SELECT count(*) FROM outbox WHERE state = 'sent'")/$(q 'SELECT count(*) FROM outbox') sent"
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
TOTAL=$((EXPECTED + APPENDED + INTROS))
note "the server holds $held messages; $TOTAL distinct ones to record ($APPENDED ordinary and $INTROS introductions appended)"
check_eq "the server holds what was put there" "$((HELD0 + APPENDED + INTROS))" "$held"
check_eq "exchanges: every message recorded" "$TOTAL" "$(q 'SELECT count(*) FROM exchange')"
check_eq "exchanges: each exactly once (distinct msg_key)" "$TOTAL" \
	"$(q 'SELECT count(DISTINCT account_id || char(31) || msg_key) FROM exchange')"
check_eq "referrals: one per introduction appended" "$INTROS" \
	"$(q "SELECT count(*) FROM referral r JOIN address a ON a.contact_id = r.from_contact WHERE a.email LIKE 'referent%@example.net' AND r.direction = 'received'")"
check_eq "nudges: one thank-you per introduction" "$INTROS" \
	"$(q "SELECT count(*) FROM nudge n JOIN address a ON a.contact_id = n.contact_id WHERE a.email LIKE 'referent%@example.net' AND n.kind = 'thank-you'")"
check_eq "nudges: every introduction's thank-you mailed" "$INTROS" \
	"$(q "SELECT count(*) FROM nudge n JOIN address a ON a.contact_id = n.contact_id JOIN outbox_item i ON i.nudge_id = n.id JOIN outbox o ON o.id = i.outbox_id WHERE a.email LIKE 'referent%@example.net' AND n.kind = 'thank-you' AND n.state = 'sent' AND o.state = 'sent'")"
check_eq "nudges: unique per dedupe_key" 0 "$(q 'SELECT count(*) - count(DISTINCT dedupe_key) FROM nudge')"
check_eq "nudges: none queued in two outbox messages" 0 \
	"$(q 'SELECT count(*) FROM (SELECT nudge_id FROM outbox_item GROUP BY nudge_id HAVING count(*) > 1)')"
check_eq "nudges marked sent have their outbox message" 0 \
	"$(q "SELECT count(*) FROM nudge n WHERE n.state = 'sent' AND NOT EXISTS (SELECT 1 FROM outbox_item i WHERE i.nudge_id = n.id)")"
check_eq "outbox: every message sent in the end" 0 "$(q "SELECT count(*) FROM outbox WHERE state <> 'sent'")"
n_out=$(q 'SELECT count(*) FROM outbox')
[ "$n_out" -ge "$INTROS" ] && [ "$n_out" -gt 0 ] && pass "outbox: $n_out messages queued over the run" ||
	fail "outbox: messages were queued" "expected at least $INTROS (one per introduction), got $n_out"

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
print("resent after a kill between DATA and 250: %d" % len(resends))
for m in sorted(resends):
    print("    %s: %d copies, attempts %d, state %s" % (m, copies[m], rows[m][1], rows[m][0]))
EOF

printf '\nkill points (%d iterations):\n' "$ITER"
for k in "${!HIST[@]}"; do printf '  %4d  %s\n' "${HIST[$k]}" "$k"; done | sort -k2
printf 'rows found "sending" at start-up (logged as possible duplicates): %d\n' "$DUP_LOGGED"
note "duration $(( $(date +%s) - started )) s"
test_finish
