#!/bin/bash
# Sync against a real Dovecot on loopback (STARTTLS, folders = auto, batches
# of 7 UIDs): the story mailbox gives exactly the expected contacts and
# counts; a second run changes nothing; two new messages are recorded alone;
# a UIDVALIDITY reset re-reads the folder without recording anything twice.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

export MERCI_IMAP_BATCH=7

setup_server() {
	dovecot_init
	"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" \
		--expected "$TEST_DIR/expected.json" || die "mkmailbox.py failed"
	dovecot_start
	mkdir -p "$TEST_DIR/merci"
	CONF=$TEST_DIR/merci/merci.conf
	dovecot_merci_config "$CONF"
}

# sync_once NAME: one `mercid --once`, then contacts and status as JSON in
# $TEST_DIR/NAME.contacts.json and NAME.status.json.
sync_once() {
	run_cmd "$1" "$MERCID" --config "$CONF" --once
	SYNC_RC=$RC
	SYNC_ERR=$ERR_FILE
	SYNC_OUT=$OUT_FILE
	"$MERCI" --config "$CONF" --json contacts list >"$TEST_DIR/$1.contacts.json" 2>&1 || true
	"$MERCI" --config "$CONF" --json status >"$TEST_DIR/$1.status.json" 2>&1 || true
}

check_sync_rc() { # WHAT NAME
	RC=$SYNC_RC OUT_FILE=$SYNC_OUT ERR_FILE=$SYNC_ERR check_rc "$1" 0
}

first_sync() {
	note "first sync of the story mailbox (16 in INBOX, 10 in Sent, batches of 7)"
	sync_once run1
	check_sync_rc "mercid --once exits 0"
	# The junk-header message (INBOX UID 10, in the batch 8-14) is skipped
	# with a line on stderr; the rest of its batch is recorded (counts below).
	check_grep "the message without a readable header is reported as skipped on stderr" \
		'skip' "$SYNC_ERR"
	check_contacts "$TEST_DIR/run1.contacts.json" "$TEST_DIR/expected.json"
	check_status "$TEST_DIR/run1.status.json" "$TEST_DIR/expected.json"
	check_eq "INBOX uidvalidity in status equals the server's" \
		"$(dovecot_uidvalidity INBOX)" "$(json_folder "$TEST_DIR/run1.status.json" test INBOX uidvalidity)"
	check_eq "Sent uidvalidity in status equals the server's" \
		"$(dovecot_uidvalidity Sent)" "$(json_folder "$TEST_DIR/run1.status.json" test Sent uidvalidity)"
}

second_sync_changes_nothing() {
	note "second sync: nothing new on the server"
	sync_once run2
	check_sync_rc "second mercid --once exits 0"
	check_eq "counts identical after a second run" \
		"$(json_get "$TEST_DIR/run1.status.json" counts 2>&1)" \
		"$(json_get "$TEST_DIR/run2.status.json" counts 2>&1)"
	check_contacts "$TEST_DIR/run2.contacts.json" "$TEST_DIR/expected.json"
}

# Two new messages: Priya replies (INBOX), Camille writes to Sébastien (Sent).
write_new_messages() {
	printf '%s\r\n' \
		'Date: Thu, 24 Sep 2026 10:00:00 -0400' \
		'From: Priya Natarajan <priya@northwind.io>' \
		'To: Camille Roy <camille@example.org>' \
		'Subject: Re: Following up on our call' \
		'Message-ID: <new-1-priya@northwind.io>' \
		'In-Reply-To: <m13-priya@example.org>' \
		'References: <m13-priya@example.org>' \
		'' 'Hi Camille, could we start in October?' >"$TEST_DIR/new1.eml"
	printf '%s\n' \
		'Date: Fri, 25 Sep 2026 09:00:00 -0400' \
		'From: Camille Roy <camille@example.org>' \
		'To: =?UTF-8?Q?S=C3=A9bastien_L=C3=A9vesque?= <seb@levesque.dev>' \
		'Subject: =?UTF-8?Q?Merci_pour_la_r=C3=A9f=C3=A9rence_!?=' \
		'Message-ID: <new-2-seb@example.org>' \
		'' 'Merci Seb, le client a signé.' >"$TEST_DIR/new2.eml"
	# What merci must now find: +1 inbound (Priya), +1 outbound (Sébastien),
	# and these two move to the top of the contacts list.
	"$PYTHON" - "$TEST_DIR/expected.json" "$TEST_DIR/expected3.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1], encoding="utf-8"))
c = e["counts"]
c["exchanges"] += 2; c["inbound"] += 1; c["outbound"] += 1
e["folders"]["INBOX"]["exists"] += 1; e["folders"]["INBOX"]["last_uid"] += 1
e["folders"]["Sent"]["exists"] += 1; e["folders"]["Sent"]["last_uid"] += 1
for k in e["contacts"]:
    if k["name"] == "Priya Natarajan":
        k["messages_in"] += 1; k["last"] = k["last_any"] = "2026-09-24T14:00:00Z"
    if k["name"] == "Sébastien Lévesque":
        k["messages_out"] += 1; k["last"] = k["last_any"] = "2026-09-25T13:00:00Z"
e["contacts"].sort(key=lambda k: k["last"], reverse=True)
json.dump(e, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
EOF
}

new_messages_recorded() {
	note "two new messages arrive (one in INBOX, one in Sent)"
	write_new_messages
	dovecot_append INBOX "$TEST_DIR/new1.eml"
	dovecot_append Sent "$TEST_DIR/new2.eml"
	sync_once run3
	check_sync_rc "third mercid --once exits 0"
	check_eq "exchanges after the third run = previous + 2" \
		"$(($(json_get "$TEST_DIR/run2.status.json" counts.exchanges 2>/dev/null || echo -1000) + 2))" \
		"$(json_get "$TEST_DIR/run3.status.json" counts.exchanges 2>&1)"
	check_status "$TEST_DIR/run3.status.json" "$TEST_DIR/expected3.json"
	check_contacts "$TEST_DIR/run3.contacts.json" "$TEST_DIR/expected3.json"
}

uidvalidity_reset_reread() {
	note "UIDVALIDITY of INBOX changes on the server"
	dovecot_uidvalidity_reset INBOX
	note "INBOX UIDVALIDITY $DOVECOT_OLD_UIDVALIDITY -> $DOVECOT_NEW_UIDVALIDITY"
	sync_once run4
	check_sync_rc "mercid --once after the UIDVALIDITY change exits 0"
	check_eq "counts unchanged after the UIDVALIDITY change" \
		"$(json_get "$TEST_DIR/run3.status.json" counts 2>&1)" \
		"$(json_get "$TEST_DIR/run4.status.json" counts 2>&1)"
	check_eq "status shows INBOX's new uidvalidity" \
		"$DOVECOT_NEW_UIDVALIDITY" "$(json_folder "$TEST_DIR/run4.status.json" test INBOX uidvalidity)"
	check_eq "INBOX last_uid after renumbering" \
		"$(dovecot_last_uid INBOX)" "$(json_folder "$TEST_DIR/run4.status.json" test INBOX last_uid)"
	check_contacts "$TEST_DIR/run4.contacts.json" "$TEST_DIR/expected3.json"
}

test_init
require_binaries
setup_server
first_sync
second_sync_changes_nothing
new_messages_recorded
uidvalidity_reset_reread
test_finish
