#!/bin/bash
# drafts.sh: drafts = yes puts a ready thank-you in the Drafts folder.
# Against a real Dovecot and aiosmtpd on loopback, with an English-speaking
# owner: two referrals make two thank-you nudges, mailed by a first mercid
# --once; the next run appends one draft each to Drafts (found by name, no
# special-use flag here), flagged \Draft, addressed to the referrer, in
# French for the French contact and in the owner's English for the one of
# unknown language, without the headers of automated mail. Later runs add
# none, also after a crash lost the report of an APPEND (the Message-ID is
# searched first); a nudge already done gets no draft; a bad value of the
# key is refused with its line.
#
# With Drafts listed in folders, merci's drafts (and any message flagged
# \Draft) are not read as mail the owner sent: the thank-you nudges stay
# waiting and no exchange comes from them, while a message there without
# the flag is read. In daemon mode (poll = 30m, IMAP IDLE) a thank-you nudge
# mailed after a sync gets its draft within seconds: the idling IMAP
# process is woken for it, no poll is waited for. In --once mode the nudges
# are mailed after the sync, so their drafts come with the next run.
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
NOW2=2026-09-24T13:00:00Z
MD=$T/md
CONF=$T/merci/merci.conf

q() { sqlite3 "$T/merci/merci.db" "$1"; }
delivered() { find "$MD/new" "$MD/cur" -type f 2>/dev/null | wc -l | tr -d ' '; }
run() {		# name merci-now
	MERCI_NOW=$2 run_cmd "$1" "$MERCID" --once --config "$CONF"
	[ "$RC" = 0 ] || { show_file stderr "$ERR_FILE"; fail "$1: mercid --once exits 0"; }
}
# drafts: the number of messages in Drafts.
drafts() {
	dovecot_imap '
M.select("Drafts", readonly=True)
print(len(M.uid("SEARCH", "ALL")[1][0].split()))'
}

P=$(free_port)
"$PYTHON" "$top_srcdir/tests/lib/smtp_server.py" --port "$P" --maildir "$MD" >"$T/smtp.log" 2>&1 &
at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
wait_port "$P" 15 || { show_file smtp "$T/smtp.log"; die "the SMTP server did not start"; }

dovecot_imap 'sys.exit(0 if M.create("Drafts")[0] == "OK" else 1)' || die "cannot create Drafts"
mkdir -p "$T/merci"
dovecot_merci_config "$CONF" folders=INBOX
sed -i 's/^language = fr$/language = en/' "$CONF"
printf '\n[smtp]\nurl = smtp://127.0.0.1:%s\ntls = none\ntimeout = 5s\n' "$P" >>"$CONF"
printf '\n[nudges]\nquiet_hours = off\ndaily_cap = 20\ndigest = off\ndrafts = maybe\n' >>"$CONF"

# A bad value names its line and the fix.
LINE=$(grep -n '^drafts' "$CONF" | cut -d: -f1)
run_cmd check "$MERCID" --check-config --config "$CONF"
check_eq "drafts = maybe is refused" 2 "$RC"
check_grep "the error names the file and line" "merci.conf:$LINE: drafts = \"maybe\"" "$ERR_FILE"
check_grep "and the fix" "write drafts = yes" "$ERR_FILE"
sed -i 's/^drafts = maybe$/drafts = yes/' "$CONF"
run init "$NOW"

# Jean (French) and Mary (no language known) each referred the owner to
# Paul four days ago: a thank-you nudge each. Alex referred too, but that
# nudge will be done before any draft is made.
q "INSERT INTO contact (id, name, created_at) VALUES (110, 'Paul Martin', $NOW_S - 30 * $DAY);
   INSERT INTO contact (id, name, language, created_at)
     VALUES (201, 'Jean Dupont', 'fr', $NOW_S - 30 * $DAY);
   INSERT INTO contact (id, name, created_at) VALUES (202, 'Mary Smith', $NOW_S - 30 * $DAY);
   INSERT INTO contact (id, name, created_at) VALUES (203, 'Alex Roy', $NOW_S - 30 * $DAY);
   INSERT INTO address (email, name, contact_id, first_seen) VALUES
     ('paul@example.com', 'Paul Martin', 110, $NOW_S - 30 * $DAY),
     ('jean@example.fr', 'Jean Dupont', 201, $NOW_S - 30 * $DAY),
     ('mary@example.com', 'Mary Smith', 202, $NOW_S - 30 * $DAY),
     ('alex@example.net', 'Alex Roy', 203, $NOW_S - 30 * $DAY);
   INSERT INTO referral (kind, direction, from_contact, to_contact, date, evidence, created_at)
   SELECT 'manual', 'received', id, 110, $NOW_S - 4 * $DAY - id, 'test', $NOW_S - 4 * $DAY
     FROM contact WHERE id IN (201, 202, 203);" || die "setup"
run nudges "$NOW"
check_eq "three thank-you nudges mailed" 3 "$(delivered)"
check_eq "Drafts still empty (nudges are made after the sync)" 0 "$(drafts)"
q "UPDATE nudge SET state = 'done' WHERE contact_id = 203"

run drafts "$NOW2"
check_eq "the next run appends one draft per waiting nudge" 2 "$(drafts)"
check_eq "recorded as appended" 2 "$(q "SELECT count(*) FROM draft WHERE state = 'appended'")"
check_eq "none for the nudge already done" 0 \
	"$(q "SELECT count(*) FROM draft d JOIN nudge n ON n.id = d.nudge_id WHERE n.contact_id = 203")"

dovecot_imap '
import email, email.policy
M.select("Drafts", readonly=True)
for uid in M.uid("SEARCH", "ALL")[1][0].split():
    typ, data = M.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
    flags, raw = data[0][0].decode(), data[0][1]
    m = email.message_from_bytes(raw, policy=email.policy.default)
    name = "jean" if "jean@" in m["To"] else "mary"
    open(os.path.join(sys.argv[1], "draft-" + name + ".flags"), "w").write(flags)
    open(os.path.join(sys.argv[1], "draft-" + name + ".eml"), "wb").write(raw)
    open(os.path.join(sys.argv[1], "draft-" + name + ".txt"), "w").write(
        "To: %s\nFrom: %s\nSubject: %s\nContent-Language: %s\nAuto-Submitted: %s\n\n%s" % (
        m["To"], m["From"], m["Subject"], m["Content-Language"], m["Auto-Submitted"],
        m.get_content()))' "$T" || die "cannot read Drafts"
for who in jean mary; do
	check_grep "$who: flagged \\Draft" '\\Draft' "$T/draft-$who.flags"
	check_grep "$who: from the owner" '^From: Camille Roy <camille@example.org>' "$T/draft-$who.txt"
	check_grep "$who: not marked as automated mail" '^Auto-Submitted: None' "$T/draft-$who.txt"
done
check_grep "jean: addressed to the referrer" '^To: Jean Dupont <jean@example.fr>' "$T/draft-jean.txt"
check_grep "jean: in French, his language" '^Bonjour Jean,' "$T/draft-jean.txt"
check_grep "jean: French text" "Un grand merci d'avoir pensé à moi" "$T/draft-jean.txt"
check_grep "jean: French subject" '^Subject: Merci !' "$T/draft-jean.txt"
check_grep "mary: addressed to the referrer" '^To: Mary Smith <mary@example.com>' "$T/draft-mary.txt"
check_grep "mary: in the owner's English" '^Hello Mary,' "$T/draft-mary.txt"
check_eq "one Message-ID per draft, as recorded" 2 \
	"$(q "SELECT message_id FROM draft" | while read -r id; do
		grep -l "^Message-ID: <$id>" "$T"/draft-*.eml; done | sort -u | wc -l | tr -d ' ')"

run again "$NOW2"
check_eq "a second run adds none" 2 "$(drafts)"

# A crash between the APPEND and its report: the row still says pending.
q "UPDATE draft SET state = 'pending', appended_at = 0"
run after-crash "$NOW2"
check_eq "after a lost report, the draft found by its Message-ID is not appended again" 2 "$(drafts)"
check_eq "and is recorded as appended" 2 "$(q "SELECT count(*) FROM draft WHERE state = 'appended'")"
check_eq "no more mail than the nudges" 3 "$(delivered)"

# ---- Drafts read as a folder: drafts are not mail ----

# The owner's own unfinished draft to Jean, and a message the owner filed
# there without the flag (which is mail, and read).
printf '%s\r\n' 'From: Camille Roy <camille@example.org>' 'To: Jean Dupont <jean@example.fr>' \
	'Subject: Brouillon' 'Date: Thu, 24 Sep 2026 12:30:00 +0000' \
	'Message-ID: <own-draft@example.org>' '' 'Pas fini.' >"$T/own-draft.eml"
printf '%s\r\n' 'From: Camille Roy <camille@example.org>' 'To: Paul Martin <paul@example.com>' \
	'Subject: Notes' 'Date: Thu, 24 Sep 2026 12:40:00 +0000' \
	'Message-ID: <filed-in-drafts@example.org>' '' 'Bonjour Paul.' >"$T/filed.eml"
dovecot_imap '
M.append("Drafts", r"(\Draft)", None, open(sys.argv[1], "rb").read())
M.append("Drafts", None, None, open(sys.argv[2], "rb").read())' "$T/own-draft.eml" "$T/filed.eml" ||
	die "cannot add to Drafts"
sed -i 's/^folders = INBOX$/folders = INBOX, Drafts/' "$CONF"
MERCI_NOW=$NOW2 run_cmd drafts-folder "$MERCID" --once --verbose --config "$CONF"
check_rc "drafts-folder: mercid --once reading Drafts exits 0" 0
check_eq "drafts-folder: Drafts read to its last UID" 4 \
	"$(q "SELECT last_uid FROM folder WHERE name = 'Drafts'")"
check_eq "drafts-folder: the one message without \\Draft recorded, no draft" \
	"filed-in-drafts@example.org" "$(q "SELECT message_id FROM exchange WHERE folder = 'Drafts'")"
check_eq "drafts-folder: no exchange to Jean or Mary" 0 \
	"$(q "SELECT count(*) FROM exchange WHERE message_id LIKE 'merci-draft.%' OR message_id = 'own-draft@example.org'")"
check_eq "drafts-folder: the two thank-you nudges still wait (sent, not done)" "sent sent" \
	"$(q "SELECT state FROM nudge WHERE contact_id IN (201, 202) ORDER BY contact_id" | tr '\n' ' ' | sed 's/ $//')"
check_grep "drafts-folder: three drafts passed over" \
	'UID [123] of "Drafts" is a draft' "$ERR_FILE"

# ---- daemon mode: the draft right after the nudge is mailed ----

q "INSERT INTO contact (id, name, language, created_at)
     VALUES (204, 'Lucie Tremblay', 'fr', $NOW_S - 30 * $DAY);
   INSERT INTO address (email, name, contact_id, first_seen)
     VALUES ('lucie@example.ca', 'Lucie Tremblay', 204, $NOW_S - 30 * $DAY);
   INSERT INTO referral (kind, direction, from_contact, to_contact, date, evidence, created_at)
     VALUES ('manual', 'received', 204, 110, $NOW_S - 3 * $DAY, 'test', $NOW_S - 3 * $DAY);" ||
	die "setup of the daemon case"
sed -i "/^\[general\]/a control_socket = $T/control" "$CONF"
sed -i '/^\[account test\]/a poll = 30m' "$CONF"
MERCI_NOW=$NOW2 "$MERCID" --config "$CONF" --verbose >"$T/mercid.out" 2>"$T/mercid.err" &
daemon=$!
at_exit "kill $daemon 2>/dev/null; wait $daemon 2>/dev/null"
mailed=""
for i in $(seq 1 300); do
	[ "$(delivered)" = 4 ] && { mailed=$(date +%s.%N); break; }
	sleep 0.1
done
[ -n "$mailed" ] || { show_file mercid.err "$T/mercid.err"; die "the daemon mailed no fourth nudge in 30 s"; }
landed=""
for i in $(seq 1 150); do
	[ "$(drafts)" = 5 ] && { landed=$(date +%s.%N); break; }
	sleep 0.1
done
if [ -n "$landed" ]; then
	pass "daemon: Lucie's draft is in Drafts $(awk -v a="$mailed" -v b="$landed" 'BEGIN { printf "%.1f", b - a }') s after her nudge was mailed (poll = 30m)"
else
	fail "daemon: Lucie's draft is in Drafts within 15 s of her nudge (poll = 30m)" \
		"Drafts holds $(drafts) message(s)"
	show_file mercid.err "$T/mercid.err"
fi
check_grep "daemon: the idling IMAP process was woken for it" \
	'sync requested while idling' "$T/mercid.err"
check_eq "daemon: recorded as appended" appended \
	"$(q "SELECT d.state FROM draft d JOIN nudge n ON n.id = d.nudge_id WHERE n.contact_id = 204")"
sleep 1
check_eq "daemon: one draft for her" 5 "$(drafts)"
check_eq "daemon: one wake, no second round for a draft already appended" 1 \
	"$(grep -c 'sync requested while idling' "$T/mercid.err")"
check_eq "daemon: no more mail than the nudges" 4 "$(delivered)"
# merci sync: the daemon reads Drafts again, her draft with it.
"$MERCI" --config "$CONF" sync >"$T/sync.out" 2>&1 || fail "merci sync exits 0" "$(cat "$T/sync.out")"
for i in $(seq 1 100); do
	[ "$(q "SELECT last_uid FROM folder WHERE name = 'Drafts'")" = 5 ] && break
	sleep 0.1
done
check_eq "daemon: Drafts read up to her draft" 5 "$(q "SELECT last_uid FROM folder WHERE name = 'Drafts'")"
check_eq "daemon: Lucie's nudge still waits (her draft is not mail)" sent \
	"$(q "SELECT state FROM nudge WHERE contact_id = 204 AND kind = 'thank-you'")"
kill "$daemon"
wait "$daemon" 2>/dev/null || true

test_finish
