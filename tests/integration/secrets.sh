#!/bin/bash
# A canary password never leaks: not in mercid's log (even verbose), not in
# the store, not in the command line or environment of mercid or its IMAP
# child, neither plain nor base64 (as AUTH PLAIN would carry it). Password
# files readable by others, or owned by someone else, are refused.
set -eu
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

test_init
require_binaries
canary="Canary-$$-$RANDOM-Zx9"
DOVECOT_PASSWORD=$canary
dovecot_init
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" --count 3000 --seed 7 >/dev/null
dovecot_start
dovecot_merci_config "$TEST_DIR/merci.conf"

# Watch every mercid process while it runs: command lines and environments.
watch_procs() {
	while :; do
		for p in $(pgrep -x mercid 2>/dev/null); do
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true
			tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null || true
		done
		sleep 0.01
	done
}
watch_procs >"$TEST_DIR/procs.txt" 2>/dev/null &
watcher=$!
at_exit "kill $watcher 2>/dev/null"

# The harness exports the password for its own IMAP helper; mercid must
# not inherit it, or the environment check would find the test's copy.
MERCI_IMAP_BATCH=50 run_cmd once env -u DOVECOT_PASSWORD "$MERCID" \
	--config "$TEST_DIR/merci.conf" --once --verbose
kill "$watcher" 2>/dev/null || true
check_rc "mercid --once with the canary password" 0
[ -s "$TEST_DIR/procs.txt" ] && pass "mercid's processes were observed while running" ||
	fail "mercid's processes were observed while running" "the watcher saw nothing"

plain_b64=$(printf '%s' "$canary" | base64 -w0)
authplain_b64=$(printf '\0%s\0%s' "$DOVECOT_USER" "$canary" | base64 -w0)
for f in "$TEST_DIR/once.err" "$TEST_DIR/once.out" "$TEST_DIR/procs.txt" "$TEST_DIR"/merci.db*; do
	[ -f "$f" ] || continue
	for needle in "$canary" "$plain_b64" "$authplain_b64"; do
		if grep -aqF -- "$needle" "$f"; then
			fail "no trace of the password in $(basename "$f")" "found \"$needle\""
		else
			pass "no trace of the password in $(basename "$f") (${needle:0:6}...)"
		fi
	done
done

# A password file others can read is refused, with the fix.
chmod 0644 "$TEST_DIR/imap.pass"
run_cmd loose "$MERCID" --config "$TEST_DIR/merci.conf" --once
check_rc "a password file readable by others fails the account" 1
check_grep "the message names the file and the fix" 'imap\.pass.*chmod 600' "$ERR_FILE"
check_no_grep "the message holds no password" "$canary" "$ERR_FILE"
chmod 0600 "$TEST_DIR/imap.pass"

if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$TEST_DIR/imap.pass"
	run_cmd foreign "$MERCID" --config "$TEST_DIR/merci.conf" --once
	check_rc "a password file owned by someone else is refused" 1
	check_grep "the message says whose it is" 'imap\.pass.*(owned|owner|belongs)' "$ERR_FILE"
	chown root "$TEST_DIR/imap.pass"
fi
test_finish
