#!/bin/bash
# injection.sh: hostile names, subjects and addresses of contacts end up in
# nudges, and nothing they hold reaches the SMTP server as a header or a
# command (issue 7, "Header injection").
#
# tests/lib/mkhostile.py makes INJECTION_STRINGS (default 10000) seeded
# strings: CR, LF, NUL, U+2028/U+2029/U+0085, 2 KB lines, encoded words
# that decode to CRLF, fake Bcc: headers and "\r\n.\r\nRCPT TO:" payloads.
# 3 x INJECTION_IMAP (default 100) of them go into real mail served by
# Dovecot (display names and subjects of introductions and of unanswered
# mail the owner sent); the rest become contacts through `merci import` of
# an Outlook CSV and, raw, rows of the store; each contact gets a referral,
# hence a thank-you nudge. mercid --once sends them to a real aiosmtpd that
# keeps every byte it receives: first one mail per nudge up to the daily
# cap, INJECTION_SINGLES (default 150: each costs a connection and two
# synchronous commits; at most 1000), then, the next day, one digest for
# the rest. A longer mode: INJECTION_STRINGS=30000 INJECTION_SINGLES=1000.
#
# tests/lib/injection_check.py then reads the raw SMTP input: only the
# expected commands, the owner as the only recipient, each message with
# exactly mailbuild's headers, every line <= 998 bytes (headers <= 78),
# subjects that decode to what merci meant, each sent row received once,
# and every hostile name back in some nudge. INJECTION_SEED picks another
# set of strings.
set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
require_binaries
command -v sqlite3 >/dev/null || die "sqlite3 CLI not found: run scripts/install-deps"

COUNT=${INJECTION_STRINGS:-10000}
IMAP=${INJECTION_IMAP:-100}
SEED=${INJECTION_SEED:-7}
SINGLES=${INJECTION_SINGLES:-150}
T=$TEST_DIR
export TZ=UTC MERCI_TEMPLATE_DIR=$top_srcdir/conf/templates
NOW=2026-09-24T12:00:00Z
NOW_S=1790251200
NEXT_DAY=2026-09-25T12:00:00Z
HOSTILE=("$PYTHON" "$top_srcdir/tests/lib/mkhostile.py" --seed "$SEED" --count "$COUNT"
	--imap "$IMAP" --now "$NOW_S")
q() { sqlite3 "$T/merci.db" "$1"; }

# ---- the mail, the servers, the config ----

dovecot_init
uidgid=()
[ "$(id -u)" -ne 0 ] || uidgid=(--uid "$DOVECOT_MAIL_UID" --gid "$DOVECOT_MAIL_GID")
"${HOSTILE[@]}" --maildir "$DOVECOT_MAILDIR" "${uidgid[@]}" --csv "$T/contacts.csv" \
	--json "$T/hostile.json" || die "mkhostile.py failed"
dovecot_start

SMTP_PORT=$(free_port)
mkdir -p "$T/transcripts"
"$PYTHON" "$top_srcdir/tests/lib/smtp_server.py" --port "$SMTP_PORT" --maildir "$T/md" \
	--transcript "$T/transcripts" --log "$T/smtp.events" >"$T/smtp.log" 2>&1 &
SMTP_PID=$!
at_exit "kill $SMTP_PID 2>/dev/null; wait $SMTP_PID 2>/dev/null"
wait_port "$SMTP_PORT" 15 || { show_file smtp "$T/smtp.log"; die "the SMTP server did not start"; }

dovecot_merci_config "$T/merci.conf"
cat >>"$T/merci.conf" <<EOF

[smtp]
url = smtp://127.0.0.1:$SMTP_PORT
tls = none
timeout = 30s

[nudges]
quiet_hours = off
digest = off
daily_cap = 0
EOF

# ---- 1. the mail is synced (no nudge sent yet), contacts imported and stored ----

MERCI_NOW=$NOW run_cmd sync "$MERCID" --once --config "$T/merci.conf"
check_rc "mercid --once syncs the hostile mail" 0
check_eq "every hostile message recorded" "$IMAP" "$(q 'SELECT count(*) FROM exchange')"
run_cmd import "$MERCI" --config "$T/merci.conf" import "$T/contacts.csv"
check_rc "merci import reads the hostile CSV" 0
"${HOSTILE[@]}" --store "$T/merci.db" || die "mkhostile.py --store failed"

# ---- 2. a mail per nudge up to the cap, the next day a digest ----

sed -i "s/^daily_cap = 0\$/daily_cap = $SINGLES/" "$T/merci.conf"
started=$SECONDS
MERCI_NOW=$NOW RUN_TIMEOUT=300 run_cmd single "$MERCID" --once --config "$T/merci.conf"
check_rc "mercid --once sends a mail per nudge" 0
note "$SINGLES single nudges queued and sent in $((SECONDS - started)) s"
check_eq "the daily cap's worth of single nudges sent" "$SINGLES" \
	"$(q "SELECT count(*) FROM outbox WHERE kind = 'nudge' AND state = 'sent'")"
sed -i 's/^digest = off$/digest = daily 00:00/' "$T/merci.conf"
started=$SECONDS
MERCI_NOW=$NEXT_DAY RUN_TIMEOUT=300 run_cmd digest "$MERCID" --once --config "$T/merci.conf"
check_rc "mercid --once sends the digest the next day" 0
note "the digest queued and sent in $((SECONDS - started)) s"
check_eq "one digest sent" 1 "$(q "SELECT count(*) FROM outbox WHERE kind = 'digest' AND state = 'sent'")"
check_eq "no nudge left unsent" 0 "$(q "SELECT count(*) FROM nudge WHERE state = 'pending'")"
check_eq "nothing failed or left queued" 0 "$(q "SELECT count(*) FROM outbox WHERE state <> 'sent'")"

# ---- 3. what the server received ----

kill "$SMTP_PID" 2>/dev/null
wait "$SMTP_PID" 2>/dev/null || true
py_checks "$top_srcdir/tests/lib/injection_check.py" --transcripts "$T/transcripts" \
	--db "$T/merci.db" --hostile "$T/hostile.json" --templates "$top_srcdir/conf/templates/fr" \
	--owner camille@example.org --owner-name "Camille Roy"
check_eq "PRAGMA integrity_check" ok "$(q 'PRAGMA integrity_check')"
test_finish
