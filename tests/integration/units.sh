#!/bin/bash
# The systemd units as `make install` writes them: `systemd-analyze verify`
# finds nothing wrong, and the system service's exposure score from
# `systemd-analyze security --offline=true` is 1.5 or lower.
set -eu
. "$top_srcdir/tests/lib/common.sh"
test_init
require_binaries
command -v systemd-analyze >/dev/null || die "systemd-analyze not found: run scripts/install-deps"

units=$TEST_DIR/units
mkdir -p "$units/user" "$TEST_DIR/runtime"
chmod 0700 "$TEST_DIR/runtime"
sbindir=$(dirname "$MERCID")
for f in mercid.service mercid.socket; do
	sed -e "s|@sbindir@|$sbindir|g" "$top_srcdir/systemd/$f.in" >"$units/$f"
done
for f in service socket; do
	sed -e "s|@sbindir@|$sbindir|g" "$top_srcdir/systemd/mercid-user.$f.in" >"$units/user/mercid.$f"
done

run_cmd verify systemd-analyze verify --man=no "$units/mercid.service" "$units/mercid.socket"
check_rc "systemd-analyze verify: system units" 0
check_no_grep "no warning on the system units" '.' "$ERR_FILE"

RC=0
XDG_RUNTIME_DIR=$TEST_DIR/runtime systemd-analyze verify --man=no --user \
	"$units/user/mercid.service" "$units/user/mercid.socket" \
	>"$TEST_DIR/verify-user.out" 2>"$TEST_DIR/verify-user.err" || RC=$?
OUT_FILE=$TEST_DIR/verify-user.out ERR_FILE=$TEST_DIR/verify-user.err
check_rc "systemd-analyze verify --user: user units" 0

run_cmd security systemd-analyze security --offline=true "$units/mercid.service"
score=$(sed -n 's/.*Overall exposure level for mercid.service: \([0-9.]*\).*/\1/p' "$OUT_FILE")
note "exposure score of mercid.service: ${score:-?}"
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
	pass "exposure $score <= 1.5"
else
	fail "exposure ${score:-unknown} <= 1.5"
	show_file security "$OUT_FILE"
fi
test_finish
