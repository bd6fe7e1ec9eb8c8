#!/bin/bash
# Golden tests: each listing's human and JSON output on a fixed store must
# equal the file under tests/golden/ byte for byte (tests/golden/README.md).
#
# The store's schema comes from the code, never from a copy: mercid --once
# against an account whose port is closed opens the store, creates and
# migrates it, then fails to connect (exit 1, expected). store.sql then adds
# the rows. The clock (MERCI_NOW), time zone, locale and colour are fixed,
# and the temp dir in outputs (status names the database) becomes @TESTDIR@.
#
# GOLDEN_UPDATE=1 (tests/golden/update.sh) writes the files instead.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"

GOLDEN=$top_srcdir/tests/golden
NOW=2026-11-15T12:00:00Z

test_init
require_binaries
command -v sqlite3 >/dev/null || die "the sqlite3 command is missing: run scripts/install-deps"

# golden_config LANG: a config for language LANG, its account unreachable.
golden_config() {
	cat >"$TEST_DIR/$1.conf" <<CONF
[general]
database = $TEST_DIR/merci.db
owner = Camille Roy <camille@example.org>
language = $1
control_socket = $TEST_DIR/control

[account work]
url = imap://127.0.0.1:$PORT
tls = none
user = camille
password_file = $TEST_DIR/imap.pass
CONF
	chmod 0600 "$TEST_DIR/$1.conf"
}

golden_store() {
	PORT=$(free_port)
	write_password "$TEST_DIR/imap.pass" unused
	golden_config fr
	golden_config en
	MERCI_NOW=2026-11-15T11:55:00Z run_cmd mercid "$MERCID" --config "$TEST_DIR/fr.conf" --once
	[ "$RC" = 1 ] || { show_file stderr "$ERR_FILE"; die "mercid --once: expected exit 1 (no server), got $RC"; }
	[ -s "$TEST_DIR/merci.db" ] || die "mercid --once did not create the store"
	sqlite3 -bail "$TEST_DIR/merci.db" <"$GOLDEN/store.sql" ||
		die "tests/golden/store.sql does not load into the store mercid created"
}

# golden_run NAME LANG ARGS...: the command's stdout in $TEST_DIR/NAME.out.
golden_run() {
	local name=$1 lang=$2
	shift 2
	env -u MERCI_CONFIG TZ=UTC LC_ALL=C.UTF-8 NO_COLOR=1 MERCI_NOW=$NOW \
		"$MERCI" --config "$TEST_DIR/$lang.conf" "$@" \
		>"$TEST_DIR/$name.raw" 2>"$TEST_DIR/$name.err" && RC=0 || RC=$?
	sed -e "s|$TEST_DIR|@TESTDIR@|g" "$TEST_DIR/$name.raw" >"$TEST_DIR/$name.out"
}

golden_update() {
	local name=$1 optional=$2
	if [ "$RC" != 0 ]; then
		[ "$optional" = yes ] && { note "skipped optional $name (exit $RC)"; return; }
		fail "$name: exit status 0" "got $RC: $(head -n 3 "$TEST_DIR/$name.err")"
		return
	fi
	cp "$TEST_DIR/$name.out" "$GOLDEN/$name.out"
	pass "$name: wrote tests/golden/$name.out"
}

golden_compare() {
	local name=$1 args=$2
	if [ "$RC" != 0 ]; then
		fail "merci $args: exit status 0" "got $RC"
		show_file stderr "$TEST_DIR/$name.err"
	elif diff -u "$GOLDEN/$name.out" "$TEST_DIR/$name.out" >"$TEST_DIR/$name.diff"; then
		pass "merci $args: same as tests/golden/$name.out"
	else
		fail "merci $args: differs from tests/golden/$name.out (- expected, + got)"
		sed -e 's/^/    | /' "$TEST_DIR/$name.diff" | head -n "${SHOW_LINES:-60}"
	fi
}

golden_store
while read -r name lang rest; do
	case $name in ''|'#'*) continue ;; esac
	optional=no
	if [ "${name#\?}" != "$name" ]; then
		optional=yes
		name=${name#\?}
	fi
	read -ra args <<<"$rest"
	if [ -z "${GOLDEN_UPDATE:-}" ] && [ ! -f "$GOLDEN/$name.out" ]; then
		[ "$optional" = yes ] && continue
		fail "tests/golden/$name.out exists" "run tests/golden/update.sh to create it"
		continue
	fi
	golden_run "$name" "$lang" "${args[@]}"
	if [ -n "${GOLDEN_UPDATE:-}" ]; then
		golden_update "$name" "$optional"
	else
		golden_compare "$name" "${args[*]}"
	fi
done <"$GOLDEN/commands"
test_finish
