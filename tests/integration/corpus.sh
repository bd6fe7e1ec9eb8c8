#!/bin/bash
# The scripted conversation corpus (tests/corpus/, French and English) played
# through a real Dovecot and the real mercid at the times expected.txt names:
# the nudges must be exactly the ones the engine test expects.
set -eu
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

test_init
require_binaries
write_password "$TEST_DIR/imap.pass" "$DOVECOT_PASSWORD"

for lang in fr en; do
	dovecot_init "$TEST_DIR/dovecot-$lang"
	DOVECOT_SSL=no dovecot_start
	cat >"$TEST_DIR/merci-$lang.conf" <<CONF
[general]
database = $TEST_DIR/$lang/merci.db
owner = Camille Roy <camille@example.org>
language = $lang

[account test]
url = imap://127.0.0.1:$DOVECOT_IMAP_PORT
tls = none
user = $DOVECOT_USER
password_file = $TEST_DIR/imap.pass
folders = INBOX, Sent
CONF
	if "$PYTHON" "$top_srcdir/tests/lib/corpus_run.py" "$top_srcdir/tests/corpus/$lang" \
		"$TEST_DIR/merci-$lang.conf" "$MERCID" "$MERCI" "$DOVECOT_IMAP_PORT" \
		"$DOVECOT_USER" "$DOVECOT_PASSWORD" >"$TEST_DIR/corpus-$lang.out" 2>&1; then
		pass "corpus $lang through Dovecot matches expected.txt"
	else
		fail "corpus $lang through Dovecot matches expected.txt"
	fi
	sed -e 's/^/    /' "$TEST_DIR/corpus-$lang.out"
	dovecot_stop
done
test_finish
