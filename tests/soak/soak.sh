#!/bin/bash
# soak.sh: mercid as a daemon (not --once) for SOAK_MINUTES (default 20)
# against Dovecot while mail keeps arriving and nudges keep going out
# (issue 7, "Soak"). Run by `make soak`, not by `make check`.
#
#   - Dovecot with 200 generic messages; an aiosmtpd on loopback receives
#     the nudges; mercid with a control socket, poll = 30s (the minimum).
#   - tests/soak/mailgen.py drops a message into the Maildir every
#     SOAK_APPEND_EVERY (default 4) s: in turn an introduction dated 5 days
#     ago (a thank-you nudge due at once), an ordinary message, a message the
#     owner sent 6 days ago (a follow-up nudge due at once).
#   - `merci sync` every 15 s (faster than the 30 s poll).
#   - Every 10 s: VmRSS and the number of entries of /proc/PID/fd of mercid
#     and of each of its children.
#
# Pass: after a warm-up minute (SOAK_WARMUP, seconds), mercid's RSS grows by
# less than 2 MB (last sample - first sample after warm-up; the same for a
# child that lives through the run) and its descriptors stay within +-2 of
# the first sample after warm-up; at the end every appended message is
# recorded exactly once, one thank-you nudge per introduction, every outbox
# message sent and delivered exactly once by Message-ID; mercid exits 0 on
# SIGTERM. Prints the series (min/max/first/last) and the counts.
set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
require_binaries
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"

MINUTES=${SOAK_MINUTES:-20}
WARMUP=${SOAK_WARMUP:-60}
EVERY=${SOAK_APPEND_EVERY:-4}
T=$TEST_DIR
export TZ=UTC MERCI_TEMPLATE_DIR=$top_srcdir/conf/templates
q() { sqlite3 -cmd '.timeout 5000' "$T/merci.db" "$1"; }
exec {SLEEP_FD}<> <(:)
snooze() { read -r -t "$1" -u "$SLEEP_FD" _ || true; }

# ---- Dovecot, 200 generic messages ----

dovecot_init
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" --count 200 \
	--expected "$T/gen.json" >/dev/null || die "mkmailbox failed"
EXPECTED0=$(json_get "$T/gen.json" counts.exchanges)
dovecot_start

# ---- the SMTP server ----

SMTP_PORT=$(free_port)
"$PYTHON" "$top_srcdir/tests/lib/smtp_server.py" --port "$SMTP_PORT" --maildir "$T/md" \
	--log "$T/smtp.events" >"$T/smtp.log" 2>&1 &
SMTP_PID=$!
at_exit "kill $SMTP_PID 2>/dev/null; wait $SMTP_PID 2>/dev/null"
wait_port "$SMTP_PORT" 15 || { cat "$T/smtp.log" >&2; die "the SMTP server did not start"; }

# ---- the config and the daemon ----

dovecot_merci_config "$T/merci.conf" poll=30s
sed -i "s|^language = fr|language = fr\ncontrol_socket = $T/control|" "$T/merci.conf"
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

"$MERCID" --config "$T/merci.conf" 2>"$T/mercid.log" &
MERCID_PID=$!
at_exit '[ -z "${MERCID_PID:-}" ] || { kill -KILL $MERCID_PID 2>/dev/null; wait $MERCID_PID 2>/dev/null; }; true'
for ((i = 0; i < 200; i++)); do
	[ -S "$T/control" ] && break
	kill -0 "$MERCID_PID" 2>/dev/null || break
	snooze 0.05
done
[ -S "$T/control" ] || { cat "$T/mercid.log" >&2; die "mercid did not open its control socket"; }

started=$(date +%s)
END=$((started + MINUTES * 60))
note "mercid $MERCID_PID runs $MINUTES min (warm-up $WARMUP s), a message every $EVERY s, merci sync every 15 s"

# ---- the mail that keeps arriving ----

uidgid=()
[ "$(id -u)" -ne 0 ] || uidgid=(--uid "$DOVECOT_MAIL_UID" --gid "$DOVECOT_MAIL_GID")
: >"$T/appended"
"$PYTHON" "$top_srcdir/tests/soak/mailgen.py" --maildir "$DOVECOT_MAILDIR" --until "$END" \
	--every "$EVERY" --log "$T/appended" "${uidgid[@]}" 2>"$T/mailgen.err" &
GEN_PID=$!
at_exit "kill $GEN_PID 2>/dev/null; wait $GEN_PID 2>/dev/null"

# ---- sampling ----

# sample T-OFFSET: one line per process, "t role pid rss_kb fds".
sample() {
	local t=$1 pid role f line rss fds
	local -a kids=()
	for f in /proc/"$MERCID_PID"/task/*/children; do
		line=
		read -r line 2>/dev/null <"$f" || true
		kids+=($line)
	done
	for pid in "$MERCID_PID" "${kids[@]}"; do
		role=child
		[ "$pid" != "$MERCID_PID" ] || role=parent
		rss=
		while read -r f line; do
			[ "$f" = VmRSS: ] && { rss=${line%% *}; break; }
		done 2>/dev/null <"/proc/$pid/status" || true
		[ -n "$rss" ] || continue	# gone, or a zombie
		fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
		printf '%d %s %d %d %d\n' "$t" "$role" "$pid" "$rss" "$fds" >>"$T/samples"
	done
}

syncs=0
sync_failed=0
died=0
for ((tick = 0; tick <= MINUTES * 12; tick++)); do	# a tick is 5 s
	now=$(date +%s)
	[ "$now" -le "$END" ] || break
	if ! kill -0 "$MERCID_PID" 2>/dev/null; then
		died=1
		break
	fi
	[ $((tick % 2)) != 0 ] || sample $((now - started))
	if [ $((tick % 3)) = 2 ]; then
		syncs=$((syncs + 1))
		"$MERCI" --config "$T/merci.conf" sync >>"$T/sync.out" 2>&1 || sync_failed=$((sync_failed + 1))
	fi
	if [ $((tick % 24)) = 23 ]; then
		note "$((now - started)) s: $(wc -l <"$T/appended") appended, $(q 'SELECT count(*) FROM exchange') exchanges, $(q "SELECT count(*) FROM outbox WHERE state = 'sent'") sent"
	fi
	snooze $((started + (tick + 1) * 5 - $(date +%s) > 0 ? started + (tick + 1) * 5 - $(date +%s) : 0))
done
check_eq "mercid ran the whole soak" 0 "$died"
check_eq "merci sync succeeded every time ($syncs calls)" 0 "$sync_failed"
wait "$GEN_PID" 2>/dev/null || true
APPENDED=$(wc -l <"$T/appended")
INTROS=$(grep -c '^intro ' "$T/appended" || true)

# ---- the end: let it catch up (one more sync, pending sends) ----

# Done when every appended message is recorded and has made its nudge, no
# nudge is due unqueued and no message waits: a sync commits its exchanges
# before the rules and the queue run, so a quiet outbox alone may come just
# before the last nudge is made (20-minute runs stopped mercid with the last
# follow-up queued, then being sent).
SENTS=$(grep -c '^sent ' "$T/appended" || true)
for ((i = 0; i < 24; i++)); do	# at most 2 min
	[ $((i % 3)) != 0 ] || "$MERCI" --config "$T/merci.conf" sync >>"$T/sync.out" 2>&1 || true
	missing=$(q "SELECT max(0, $APPENDED - (SELECT count(*) FROM exchange WHERE message_id LIKE '%soak-%'))
		+ max(0, $INTROS + $SENTS - (SELECT count(*) FROM nudge n JOIN address a ON a.contact_id = n.contact_id
		  WHERE (a.email LIKE 'referent%@example.net' AND n.kind = 'thank-you')
		  OR (a.email LIKE 'prospect%@example.com' AND n.kind = 'follow-up')))
		+ (SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending'))
		+ (SELECT count(*) FROM nudge WHERE state = 'pending' AND due <= unixepoch())")
	[ "$missing" -gt 0 ] || break
	snooze 5
done
sample $(( $(date +%s) - started ))
kill -TERM "$MERCID_PID"
rc=0
wait "$MERCID_PID" || rc=$?
MERCID_PID=
check_eq "mercid exits 0 on SIGTERM" 0 "$rc"

note "$APPENDED messages appended ($INTROS introductions), $(wc -l <"$T/samples") samples"
note "store: $(q "SELECT count(DISTINCT message_id) FROM exchange WHERE message_id LIKE '%soak-%'") of $APPENDED appended messages recorded; nudges by kind and state: $(q "SELECT group_concat(k, ', ') FROM (SELECT kind || ' ' || state || ' ' || count(*) AS k FROM nudge GROUP BY kind, state)"); outbox: $(q "SELECT group_concat(k, ', ') FROM (SELECT kind || ' ' || state || ' ' || count(*) AS k FROM outbox GROUP BY kind, state)")"
check_eq "PRAGMA integrity_check" ok "$(q 'PRAGMA integrity_check')"
check_eq "exchanges: the first mailbox and every appended message" "$((EXPECTED0 + APPENDED))" \
	"$(q 'SELECT count(*) FROM exchange')"
check_eq "exchanges: each appended message recorded exactly once" "$APPENDED" \
	"$(q "SELECT count(DISTINCT message_id) FROM exchange WHERE message_id LIKE '%soak-%'")"
check_eq "exchanges: no message recorded twice" 0 \
	"$(q 'SELECT count(*) - count(DISTINCT account_id || char(31) || msg_key) FROM exchange')"
check_eq "nudges: one thank-you per introduction" "$INTROS" \
	"$(q "SELECT count(*) FROM nudge n JOIN address a ON a.contact_id = n.contact_id WHERE a.email LIKE 'referent%@example.net' AND n.kind = 'thank-you'")"
check_eq "nudges: one follow-up per unanswered message" "$SENTS" \
	"$(q "SELECT count(*) FROM nudge n JOIN address a ON a.contact_id = n.contact_id WHERE a.email LIKE 'prospect%@example.com' AND n.kind = 'follow-up'")"
check_eq "nudges: unique per dedupe_key" 0 "$(q 'SELECT count(*) - count(DISTINCT dedupe_key) FROM nudge')"
check_eq "outbox: every message sent" 0 "$(q "SELECT count(*) FROM outbox WHERE state <> 'sent'")"
check_eq "nudges: every nudge queued was sent" 0 \
	"$(q "SELECT count(*) FROM nudge n JOIN outbox_item i ON i.nudge_id = n.id WHERE n.state <> 'sent'")"
n_out=$(q 'SELECT count(*) FROM outbox')
[ "$n_out" -ge "$INTROS" ] && [ "$n_out" -gt 0 ] && pass "outbox: $n_out messages queued over the soak" ||
	fail "outbox: messages were queued" "expected at least $INTROS, got $n_out"

py_checks - "$T/merci.db" "$T/md" "$T/samples" "$WARMUP" <<'EOF'
import collections, email.parser, os, sqlite3, sys
db, md, samples, warmup = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
rows = {mid for (mid,) in sqlite3.connect(db).execute("SELECT message_id FROM outbox")}
copies = collections.Counter()
p = email.parser.BytesHeaderParser()
for d in ("new", "cur"):
    path = os.path.join(md, d)
    for f in os.listdir(path) if os.path.isdir(path) else []:
        mid = (p.parsebytes(open(os.path.join(path, f), "rb").read())["Message-ID"] or "").strip()
        copies[mid.strip("<>")] += 1
bad = [m for m in rows if copies[m] != 1] + [m for m in copies if m not in rows]
if bad: fail("every outbox message delivered exactly once", *["%s: %d copies" % (m, copies[m]) for m in bad[:10]])
else: ok("every outbox message delivered exactly once (%d)" % len(rows))
print("soak: deliveries: %d received by the server for %d outbox rows, %d duplicates, %d never"
      % (sum(copies.values()), len(rows), sum(c - 1 for c in copies.values() if c > 1),
         sum(1 for m in rows if copies[m] == 0)))

series = collections.defaultdict(list)   # (role, pid) -> [(t, rss, fds)]
for line in open(samples):
    t, role, pid, rss, fds = line.split()
    series[(role, int(pid))].append((int(t), int(rss), int(fds)))
def summary(name, pts):
    for i, what in ((1, "VmRSS kB"), (2, "fds")):
        v = [x[i] for x in pts]
        print("    %-14s %-8s n=%-4d min=%-6d max=%-6d first=%-6d last=%d"
              % (name, what, len(v), min(v), max(v), v[0], v[-1]))
print("series (every 10 s, whole run):")
for (role, pid), pts in sorted(series.items(), key=lambda kv: kv[1][0][0]):
    if role == "parent" or len(pts) >= 3:
        summary("%s %d" % (role, pid), pts)
short = [k for k, pts in series.items() if k[0] == "child" and len(pts) < 3]
if short:
    print("    + %d short-lived children (seen in < 3 samples)" % len(short))
checked = 0
for (role, pid), pts in sorted(series.items()):
    after = [x for x in pts if x[0] >= warmup]
    if role == "child" and (len(after) < 3 or pts[0][0] >= warmup):
        continue        # only children that live through the run
    if len(after) < 2:
        fail("%s %d: samples after the warm-up" % (role, pid), "got %d" % len(after))
        continue
    checked += 1
    growth = after[-1][1] - after[0][1]
    name = "%s %d" % (role, pid)
    if growth < 2048:
        ok("%s: RSS grows by less than 2 MB after warm-up (%+d kB: %d -> %d, max %d)"
           % (name, growth, after[0][1], after[-1][1], max(x[1] for x in after)))
    else:
        fail("%s: RSS grows by less than 2 MB after warm-up" % name,
             "%d kB -> %d kB (%+d kB)" % (after[0][1], after[-1][1], growth))
    base = after[0][2]
    out = [x for x in after if abs(x[2] - base) > 2]
    if not out:
        ok("%s: descriptors flat (%d, within +-2: min %d, max %d)"
           % (name, base, min(x[2] for x in after), max(x[2] for x in after)))
    else:
        fail("%s: descriptors flat (+-2 of %d)" % (name, base),
             *["t=%d s: %d fds" % (x[0], x[2]) for x in out[:5]])
if not any(r == "parent" for r, _ in series):
    fail("mercid was sampled")
EOF

grep -E 'warning|error' "$T/mercid.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    mercid.log: /' || true
note "duration $(( $(date +%s) - started )) s"
test_finish
