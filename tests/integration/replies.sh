#!/bin/bash
# replies.sh: the owner answers merci's mail from their mail client, and the
# answer acts. Against a real Dovecot and aiosmtpd on loopback, mercid
# --once mails thank-you nudges (one by one, then a digest); replies from
# the owner naming a delivered Message-ID are APPENDed to INBOX: "fait",
# "reporter 7j", "sourdine", "dismiss" above a quoted copy, "2 done" to the
# digest, "bonjour" twice. The next run applies each to exactly its nudge,
# answers the unknown word with one help message, and neither these replies
# nor merci's own mail coming back into INBOX makes a contact. The replies
# arrive unread: each one applied is flagged \Seen on the server by that
# same run, the one answered with the help and an ordinary message stay
# unread, and a flag noted under an old UIDVALIDITY is dropped unapplied.
set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
require_binaries
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"
dovecot_init
dovecot_start

T=$TEST_DIR
export TZ=UTC MERCI_TEMPLATE_DIR=$top_srcdir/conf/templates
NOW=2026-09-24T12:00:00Z
NOW_S=1790251200
DAY=86400
NOW2=2026-09-25T09:00:00Z      # the replies are read (and the digest goes)
NOW2_S=$((NOW_S + 21 * 3600))
NOW3=2026-09-25T10:00:00Z
MD=$T/md
CONF=$T/merci/merci.conf

q() { sqlite3 "$T/merci/merci.db" "$1"; }
delivered() { find "$MD/new" "$MD/cur" -type f 2>/dev/null | wc -l | tr -d ' '; }
run() {		# name merci-now
	MERCI_NOW=$2 run_cmd "$1" "$MERCID" --once --config "$CONF"
	[ "$RC" = 0 ] || { show_file stderr "$ERR_FILE"; fail "$1: mercid --once exits 0"; }
}

P=$(free_port)
"$PYTHON" "$top_srcdir/tests/lib/smtp_server.py" --port "$P" --maildir "$MD" >"$T/smtp.log" 2>&1 &
at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
wait_port "$P" 15 || { show_file smtp "$T/smtp.log"; die "the SMTP server did not start"; }

mkdir -p "$T/merci"
dovecot_merci_config "$CONF" folders=INBOX
printf '\n[smtp]\nurl = smtp://127.0.0.1:%s\ntls = none\ntimeout = 5s\n' "$P" >>"$CONF"
printf '\n[nudges]\nquiet_hours = off\ndaily_cap = 20\ndigest = off\n' >>"$CONF"
run init "$NOW"

# referrals PERSON-IDS...: each person (already a contact) referred the
# owner to contact 110 four days before NOW: a thank-you nudge each.
referrals() {
	local id sql=""
	for id in "$@"; do
		sql="$sql INSERT INTO referral (kind, direction, from_contact, to_contact, date,
		  evidence, created_at) VALUES ('manual', 'received', $id, 110,
		  $NOW_S - 4 * $DAY - $id, 'test', $NOW_S - 4 * $DAY);"
	done
	q "$sql" || die "cannot insert the referrals"
}
q "INSERT INTO contact (id, name, created_at) VALUES (110, 'Jean Dupont', $NOW_S - 30 * $DAY);
   INSERT INTO address (email, name, contact_id, first_seen)
     VALUES ('jean@example.com', 'Jean Dupont', 110, $NOW_S - 30 * $DAY);" || die "setup"
for i in 1 2 3 4 5 6 7; do
	q "INSERT INTO contact (id, name, created_at) VALUES (10$i, 'Personne $i', $NOW_S - 30 * $DAY);
	   INSERT INTO address (email, name, contact_id, first_seen)
	     VALUES ('p$i@example.net', 'Personne $i', 10$i, $NOW_S - 30 * $DAY);" || die "setup"
done
referrals 101 102 103 104 105
run nudges "$NOW"
check_eq "five nudges mailed one by one" 5 "$(delivered)"

# The digest: two more referrals, mailed together the next morning.
sed -i 's/^digest = off$/digest = daily 08:30/' "$CONF"
referrals 106 107
run digest "$NOW2"
check_eq "then one digest" 6 "$(delivered)"

# ---- the owner's replies ----

# mid NUDGE-CONTACT: the Message-ID merci gave the message carrying the
# nudge about that contact.
mid() {
	q "SELECT o.message_id FROM outbox o JOIN outbox_item i ON i.outbox_id = o.id
	   JOIN nudge n ON n.id = i.nudge_id WHERE n.contact_id = $1"
}
nudge_of() { q "SELECT id FROM nudge WHERE contact_id = $1"; }
n=0
# reply MESSAGE-ID BODY: a reply from the owner's mail client, into INBOX.
reply() {
	n=$((n + 1))
	{
		printf 'From: Camille Roy <camille@example.org>\r\n'
		printf 'To: merci <camille@example.org>\r\n'
		printf 'Subject: Re: Remercier\r\n'
		printf 'Date: Fri, 25 Sep 2026 08:%02d:00 +0000\r\n' "$n"
		printf 'Message-ID: <reply-%d@mail.example.org>\r\n' "$n"
		printf 'In-Reply-To: <%s>\r\nReferences: <%s>\r\n' "$1" "$1"
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n'
		printf 'Content-Transfer-Encoding: 8bit\r\n\r\n'
		printf '%s\n' "$2" | sed 's/$/\r/'
	} >"$T/reply-$n.eml"
	append_unseen "$T/reply-$n.eml"
}
# append_unseen FILE: into INBOX without \Seen, as new mail arrives (the
# test helper appends read mail).
append_unseen() {
	dovecot_imap '
typ, data = M.append("INBOX", None, None, open(sys.argv[1], "rb").read())
sys.exit(0 if typ == "OK" else 1)' "$1" || die "APPEND of $1 failed"
}
# seen MESSAGE-ID: "yes" when the message with that id in INBOX is \Seen.
seen() {
	dovecot_imap '
M.select("INBOX", readonly=True)
typ, data = M.uid("SEARCH", "HEADER", "Message-ID", sys.argv[1])
uids = data[0].split()
if len(uids) != 1:
    print("%d messages" % len(uids))
    sys.exit(0)
typ, data = M.uid("FETCH", uids[0], "(FLAGS)")
print("yes" if b"\\Seen" in data[0] else "no")' "$1"
}
DIGEST_MID=$(q "SELECT message_id FROM outbox WHERE kind = 'digest'")
LINE2=$(q "SELECT i.nudge_id FROM outbox o JOIN outbox_item i ON i.outbox_id = o.id
	WHERE o.kind = 'digest' AND i.line_no = 2")
LINE1=$(q "SELECT i.nudge_id FROM outbox o JOIN outbox_item i ON i.outbox_id = o.id
	WHERE o.kind = 'digest' AND i.line_no = 1")
reply "$(mid 101)" "fait"
reply "$(mid 102)" "reporter 7j"
reply "$(mid 103)" "sourdine"
reply "$(mid 104)" "$(printf 'dismiss\n\nLe jeu. 24 sept. 2026 à 12:00, merci <camille@example.org> a écrit :\n> Remercier Personne 4\n> fait\n')"
reply "$(mid 105)" "bonjour"
reply "$DIGEST_MID" "2 done"
# merci's own mail comes back into INBOX (sent to the owner).
dovecot_append INBOX "$MD"/new/* || die "APPEND of merci's mail failed"
# And an ordinary message from the owner, unread, answering nothing of merci's.
printf 'From: Camille Roy <camille@example.org>\r\nTo: Jean Dupont <jean@example.com>\r\nSubject: Note\r\nDate: Fri, 25 Sep 2026 08:30:00 +0000\r\nMessage-ID: <plain-1@mail.example.org>\r\n\r\nfait\r\n' >"$T/plain.eml"
append_unseen "$T/plain.eml"
CONTACTS=$(q "SELECT count(*) FROM contact")
run replies "$NOW2"

for i in 1 2 3 4 6; do
	check_eq "applied reply $i is flagged \\Seen by the same run" yes "$(seen "reply-$i@mail.example.org")"
done
check_eq "the reply answered with the help stays unread" no "$(seen reply-5@mail.example.org)"
check_eq "a message that is no command stays unread" no "$(seen plain-1@mail.example.org)"
check_eq "no \\Seen flag left to set" 0 "$(q "SELECT count(*) FROM seen_pending")"

"$MERCI" --config "$CONF" --json nudges list --all >"$T/nudges.json" ||
	die "merci nudges list failed"
py_checks - "$T/nudges.json" "$(nudge_of 101) done" "$(nudge_of 102) snoozed" \
	"$(nudge_of 103) dismissed" "$(nudge_of 104) dismissed" "$(nudge_of 105) sent" \
	"$LINE1 sent" "$LINE2 done" "snooze $(nudge_of 102) $((NOW2_S + 7 * DAY))" <<'PY'
import calendar, json, sys, time
nudges = {n["id"]: n for n in json.load(open(sys.argv[1]))["nudges"]}
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
for arg in sys.argv[2:]:
    w = arg.split()
    if w[0] == "snooze":
        got = nudges[int(w[1])]["snooze_until"]
        s = calendar.timegm(time.strptime(got, "%Y-%m-%dT%H:%M:%SZ")) if got else None
        if s == int(w[2]): ok("nudge %s snoozed until now + 7 days (%s)" % (w[1], got))
        else: fail("nudge %s snoozed until now + 7 days" % w[1], "got %r" % got)
        continue
    got = nudges[int(w[0])]["state"]
    if got == w[1]: ok("nudge %s (%s) is %s" % (w[0], nudges[int(w[0])]["contact"]["name"], w[1]))
    else: fail("nudge %s is %s" % (w[0], w[1]), "got %s" % got)
PY
check_eq "sourdine mutes the contact" 1 "$(q "SELECT muted FROM contact WHERE id = 103")"
check_eq "only that contact" 1 "$(q "SELECT count(*) FROM contact WHERE muted")"
check_eq "each reply is recorded as a command" 6 \
	"$(q "SELECT count(*) FROM exchange WHERE automated = 'merci-command'")"
check_eq "merci's own mail coming back is automated" 6 \
	"$(q "SELECT count(*) FROM exchange WHERE message_id LIKE 'merci.%' AND automated = 'auto-submitted'")"
check_eq "bonjour: one help message delivered" 7 "$(delivered)"
check_eq "the help answers the nudge it was about" 1 \
	"$(q "SELECT count(*) FROM outbox h JOIN outbox o ON o.id = h.reply_to
	      WHERE h.kind = 'reply' AND h.state = 'sent' AND o.message_id = '$(mid 105)'")"

# A second unknown word to the same nudge, and the help coming back.
reply "$(mid 105)" "encore bonjour"
dovecot_append INBOX "$(grep -l '^In-Reply-To:' "$MD"/new/* | head -n 1)" || die "APPEND failed"
run again "$NOW3"
check_eq "a second unknown reply gets no second help" 7 "$(delivered)"
check_eq "and stays unread" no "$(seen reply-7@mail.example.org)"
check_eq "nudge 105 still waits" sent "$(q "SELECT state FROM nudge WHERE contact_id = 105")"
check_eq "no contact made by the replies or by merci's mail" "$CONTACTS" \
	"$(q "SELECT count(*) FROM contact")"
check_eq "no nudge made either" 7 "$(q "SELECT count(*) FROM nudge")"

# Read again from scratch (UIDVALIDITY reset): nothing changes. A flag
# still to set from before the reset names a UID that now means another
# message: it is dropped, not applied.
q "UPDATE nudge SET state = 'sent' WHERE contact_id = 101"
UID7=$(dovecot_imap '
M.select("INBOX", readonly=True)
print(M.uid("SEARCH", "HEADER", "Message-ID", "reply-7@mail.example.org")[1][0].decode())')
dovecot_uidvalidity_reset INBOX
q "INSERT INTO seen_pending (account_id, folder, uidvalidity, uid, created_at)
   SELECT id, 'INBOX', $DOVECOT_OLD_UIDVALIDITY, $UID7, $NOW_S FROM account" || die "seen_pending"
run reread "$NOW3"
check_eq "a reply read twice acts once" sent "$(q "SELECT state FROM nudge WHERE contact_id = 101")"
check_eq "and sends nothing" 7 "$(delivered)"
check_eq "a flag noted under the old UIDVALIDITY is dropped" 0 "$(q "SELECT count(*) FROM seen_pending")"
check_eq "without flagging what that UID names now" no "$(seen reply-7@mail.example.org)"

test_finish
