#!/bin/bash
# Mail loops and noise: 30-odd machine-sent messages — bounces, vacation
# replies, list and bulk mail, no-reply senders, notifications, in French and
# English, some of them phrased like introductions or thanks — and the
# owner's own replies to no-reply and bounce addresses make no contact, no
# referral and no nudge, even weeks later.
set -eu
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

test_init
require_binaries
dovecot_init
count=$("$PYTHON" "$top_srcdir/tests/lib/mkautomated.py" "$DOVECOT_MAILDIR")
DOVECOT_SSL=no dovecot_start
dovecot_merci_config "$TEST_DIR/merci.conf" url="imap://127.0.0.1:$DOVECOT_IMAP_PORT" tls=none ca_file=
[ "$count" -ge 30 ] && pass "the corpus holds $count automated messages" ||
	fail "the corpus holds at least 30 automated messages" "it holds $count"

for now in 2026-09-20T12:00:00Z 2026-11-30T12:00:00Z; do
	MERCI_NOW=$now run_cmd once "$MERCID" --config "$TEST_DIR/merci.conf" --once
	check_rc "mercid --once at $now" 0
done
MERCI_NOW=2026-11-30T12:00:00Z run_cmd status "$MERCI" --config "$TEST_DIR/merci.conf" --json status
check_json "every message recorded" "$OUT_FILE" counts.exchanges "$count"
check_json "no contact made" "$OUT_FILE" counts.contacts 0
# Every message but the owner's three answers comes from a machine.
check_json "all machine mail recognised as automated" "$OUT_FILE" counts.automated $((count - 3))
MERCI_NOW=2026-11-30T12:00:00Z run_cmd nudges "$MERCI" --config "$TEST_DIR/merci.conf" --json nudges list --all
check_json "no nudge made" "$OUT_FILE" nudges '[]'
MERCI_NOW=2026-11-30T12:00:00Z run_cmd refs "$MERCI" --config "$TEST_DIR/merci.conf" --json referrals list
check_json "no referral made" "$OUT_FILE" referrals '[]'
test_finish
