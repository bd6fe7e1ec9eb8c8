#!/bin/bash
# delivery.sh: nudges reach the owner's mailbox through mercid's outbox, on
# loopback, against a real aiosmtpd and a Dovecot with an empty mailbox:
# one message per nudge with the promised headers and a French subject that
# decodes back; nothing is sent twice; a server that is down leaves the
# mail queued and a later run delivers it exactly once; a 550 marks the
# message failed in the store; a digest lists each due nudge once.
#
# Nudges come from the rules: referrals the owner received are inserted
# with the sqlite3 CLI (as `merci referrals add` would), and MERCI_NOW
# makes the thank-you nudges due.
set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
[ -x "$MERCID" ] || die "mercid not built: expected an executable at $MERCID"
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"
dovecot_init
dovecot_start

T=$TEST_DIR
SERVER_PY=$top_srcdir/tests/lib/smtp_server.py
export TZ=UTC MERCI_TEMPLATE_DIR=$top_srcdir/conf/templates
NOW=2026-09-24T12:00:00Z
NOW_S=1790251200
DAY=86400

# setup NAME SMTP-PORT [NUDGES-LINES...]: a config in $T/NAME, the store
# created by a first run, and two referrals received (Amélie 5 days ago,
# Jean-Pierre 4 days ago): two thank-you nudges due now.
setup() {
	local dir=$T/$1 port=$2
	shift 2
	mkdir -p "$dir"
	dovecot_merci_config "$dir/merci.conf" folders=INBOX
	{
		printf '\n[smtp]\nurl = smtp://127.0.0.1:%s\ntls = none\ntimeout = 5s\n' "$port"
		printf '\n[nudges]\nquiet_hours = off\n'
		printf '%s\n' "$@"
	} >>"$dir/merci.conf"
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

# run NAME DIR [MERCI_NOW]: mercid --once on DIR's config.
run() {
	MERCI_NOW=${3:-$NOW} run_cmd "$1" "$MERCID" --once --config "$2/merci.conf"
}

q() {	# dir sql
	sqlite3 "$1/merci.db" "$2"
}

delivered() {	# maildir
	find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}

smtp_start() {	# name port maildir [smtp_server.py options]
	local name=$1 port=$2 md=$3
	shift 3
	"$PYTHON" "$SERVER_PY" --port "$port" --maildir "$md" "$@" >"$T/$name.server.log" 2>&1 &
	eval "PID_$name=$!"
	at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	wait_port "$port" 15 || { show_file "$name server" "$T/$name.server.log"; die "$name did not start"; }
}

# ---- 1. one message per nudge, exact headers, exactly once ----

P1=$(free_port)
smtp_start one "$P1" "$T/md-one"
setup one "$P1" "digest = off"
run one "$T/one"
check_rc "one by one: mercid --once succeeds" 0
check_eq "one by one: two messages delivered" 2 "$(delivered "$T/md-one")"
check_eq "one by one: the outbox holds two sent rows" 2 \
	"$(q "$T/one" "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind = 'nudge'")"
check_eq "one by one: the nudges are marked sent" 2 \
	"$(q "$T/one" "SELECT count(*) FROM nudge WHERE state = 'sent' AND kind = 'thank-you'")"

py_checks - "$T/md-one" "$T/one/merci.db" <<'PY'
import email, email.header, os, sqlite3, sys
md, db = sys.argv[1], sys.argv[2]
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
rows = dict(sqlite3.connect(db).execute(
    "SELECT i.nudge_id, o.message_id FROM outbox o JOIN outbox_item i ON i.outbox_id = o.id"))
msgs = []
for d in ("new", "cur"):
    for f in sorted(os.listdir(os.path.join(md, d))):
        msgs.append(email.message_from_bytes(open(os.path.join(md, d, f), "rb").read()))
subjects = set()
for m in msgs:
    subj = str(email.header.make_header(email.header.decode_header(m["Subject"])))
    subjects.add(subj)
    for h, want in (("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"),
                    ("Content-Language", "fr"), ("To", '"Camille Roy" <camille@example.org>'),
                    ("From", '"merci" <camille@example.org>')):
        if m[h] == want: ok("%s: %s: %s" % (subj, h, want))
        else: fail("%s: %s" % (subj, h), "expected: %r" % want, "got:      %r" % m[h])
    kind, _, nid = (m["X-Merci-Nudge"] or "").partition(" ")
    if kind == "thank-you" and nid.isdigit() and "<%s>" % rows.get(int(nid)) == m["Message-ID"]:
        ok("%s: X-Merci-Nudge %s names the nudge the outbox sent with Message-ID %s" % (subj, m["X-Merci-Nudge"], m["Message-ID"]))
    else:
        fail("%s: X-Merci-Nudge names its nudge" % subj, "got %r, outbox %r, Message-ID %r" % (m["X-Merci-Nudge"], rows, m["Message-ID"]))
    if "=?utf-8?" in m["Subject"].lower() or "Amélie" not in subj:
        ok("%s: subject encoded per RFC 2047 when needed (%r)" % (subj, m["Subject"]))
    else:
        fail("subject is RFC 2047 encoded", "got %r" % m["Subject"])
    text = m.get_payload(decode=True).decode("utf-8")
    if "Répondez à ce courriel" in text and "reporter 7j" in text and "sourdine" in text:
        ok("%s: the body says how to answer, in French" % subj)
    else:
        fail("%s: the body says how to answer" % subj, "got: %r" % text[:400])
want = {"Remercier Amélie Tremblay", "Remercier Jean-Pierre Gagnon"}
if subjects == want: ok("subjects decode back: %s" % sorted(subjects))
else: fail("subjects decode back", "expected: %s" % sorted(want), "got:      %s" % sorted(subjects))
PY

run one-again "$T/one" 2026-09-24T13:00:00Z
check_rc "one by one: a second run succeeds" 0
check_eq "one by one: nothing is sent twice" 2 "$(delivered "$T/md-one")"
check_eq "one by one: still two outbox rows" 2 "$(q "$T/one" "SELECT count(*) FROM outbox")"

# ---- 2. server down: queued; later, delivered exactly once ----

P2=$(free_port)
setup down "$P2" "digest = off"
run down "$T/down"
check_rc "server down: a message that failed temporarily does not fail the run" 0
check_grep "server down: stderr says the mail stays queued" "stay queued" "$ERR_FILE"
check_eq "server down: both rows queued, one attempt each" "2" \
	"$(q "$T/down" "SELECT count(*) FROM outbox WHERE state = 'queued' AND attempts = 1 AND last_code = 0")"
run down-soon "$T/down" 2026-09-24T12:00:30Z
check_eq "server down: not retried before the backoff" "2" \
	"$(q "$T/down" "SELECT count(*) FROM outbox WHERE attempts = 1")"
smtp_start down "$P2" "$T/md-down"
run down-later "$T/down" 2026-09-24T12:10:00Z
check_rc "server back: mercid --once succeeds" 0
check_eq "server back: both delivered" 2 "$(delivered "$T/md-down")"
check_eq "server back: both rows sent" 2 "$(q "$T/down" "SELECT count(*) FROM outbox WHERE state = 'sent' AND attempts = 2")"
run down-after "$T/down" 2026-09-24T12:20:00Z
check_eq "server back: delivered exactly once" 2 "$(delivered "$T/md-down")"

# ---- 3. 550: failed, visible in the store ----

P3=$(free_port)
smtp_start refuse "$P3" "$T/md-refuse" --rcpt "550 5.1.1 No such user here"
setup refuse "$P3" "digest = off"
run refuse "$T/refuse"
check_eq "550: nothing delivered" 0 "$(delivered "$T/md-refuse")"
check_eq "550: both rows failed with code 550" 2 \
	"$(q "$T/refuse" "SELECT count(*) FROM outbox WHERE state = 'failed' AND last_code = 550 AND last_error LIKE '%550 5.1.1%'")"
check_grep "550: the log says it will not be retried" "failed: .*550.*not be retried" "$ERR_FILE"
run refuse-later "$T/refuse" 2026-09-25T12:00:00Z
check_eq "550: not retried" 2 "$(q "$T/refuse" "SELECT count(*) FROM outbox WHERE attempts = 1")"

# ---- 4. digest: one message, each due nudge once ----

P4=$(free_port)
smtp_start digest "$P4" "$T/md-digest"
setup digest "$P4" "digest = daily 08:30"
run digest-early "$T/digest" 2026-09-24T08:00:00Z
check_eq "digest: nothing before 08:30" 0 "$(delivered "$T/md-digest")"
run digest "$T/digest" 2026-09-24T09:00:00Z
check_rc "digest: mercid --once succeeds" 0
check_eq "digest: one message" 1 "$(delivered "$T/md-digest")"
py_checks - "$T/md-digest" <<'PY'
import email, email.header, os, re, sys
md = sys.argv[1]
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
f = [os.path.join(md, d, x) for d in ("new", "cur") for x in os.listdir(os.path.join(md, d))][0]
m = email.message_from_bytes(open(f, "rb").read())
subj = str(email.header.make_header(email.header.decode_header(m["Subject"])))
if subj == "Vos rappels du 2026-09-24": ok("digest subject: %s" % subj)
else: fail("digest subject", "got %r" % subj)
if m["X-Merci-Nudge"] == "digest 2": ok("X-Merci-Nudge: digest 2")
else: fail("X-Merci-Nudge", "got %r" % m["X-Merci-Nudge"])
text = m.get_payload(decode=True).decode("utf-8")
lines = re.findall(r"^(\d+)\. (.*)$", text, re.M)
if [n for n, _ in lines] == ["1", "2"]: ok("two numbered lines")
else: fail("two numbered lines", "got %r" % lines)
for who in ("Amélie Tremblay", "Jean-Pierre Gagnon"):
    n = sum(who in l for _, l in lines)
    if n == 1: ok("%s listed once" % who)
    else: fail("%s listed once" % who, "got %d in %r" % (n, lines))
if "2 reporter 7j" in text: ok("the digest says how to answer a line")
else: fail("the digest says how to answer a line", text[-400:])
PY
run digest-later "$T/digest" 2026-09-24T15:00:00Z
check_eq "digest: one a day" 1 "$(delivered "$T/md-digest")"

# Stores with an outbox (digest lines included) pass SQLite's own check.
for store in one digest; do
	check_eq "integrity_check of the $store store" ok \
		"$(sqlite3 "$T/$store/merci.db" 'PRAGMA integrity_check')"
done

test_finish
