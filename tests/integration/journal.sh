#!/bin/bash
# Under systemd (JOURNAL_STREAM names its stderr) mercid sends journal
# entries, not lines: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_*, ACCOUNT=
# for an account's events and the MESSAGE_ID of log_ids.h for the main ones;
# no password reaches any field; when the journal refuses an entry the line
# goes to stderr with its <N> prefix instead.
#
# journald is not running here and its socket path belongs to root: mercid
# runs in its own user and mount namespaces (unshare -rm) with a directory
# of the test bound over /run, where journal_listener.py plays journald.
set -eu
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

test_init
require_binaries
if ! unshare -rm true 2>/dev/null; then
	echo "journal.sh: SKIP: user and mount namespaces are not available here" \
		"(unshare -rm failed), so the journal entries cannot be caught" >&2
	exit 77
fi
dovecot_init
"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" --count 20 ||
	die "mkmailbox.py failed"
dovecot_start

# Both passwords are canaries: neither may appear in any field.
canary_wrong='Canary-Wrong-Passe-4711'
write_password "$TEST_DIR/imap.pass" "$DOVECOT_PASSWORD"
write_password "$TEST_DIR/wrong.pass" "$canary_wrong"
cat >"$TEST_DIR/merci.conf" <<CONF
[general]
database = $TEST_DIR/state/merci.db
owner = Camille Roy <camille@example.org>
control_socket = $TEST_DIR/ctl/control

[account test]
url = imap://127.0.0.1:$DOVECOT_IMAP_PORT
user = $DOVECOT_USER
password_file = $TEST_DIR/imap.pass
ca_file = $DOVECOT_CA
folders = INBOX
poll = 30s

[account wrong]
url = imap://127.0.0.1:$DOVECOT_IMAP_PORT
user = $DOVECOT_USER
password_file = $TEST_DIR/wrong.pass
ca_file = $DOVECOT_CA
folders = INBOX
CONF

jrun=$TEST_DIR/jrun
mkdir -p "$jrun/systemd/journal"
"$PYTHON" "$top_srcdir/tests/lib/journal_listener.py" "$jrun/systemd/journal/socket" \
	"$TEST_DIR/journal.jsonl" &
listener=$!
at_exit "kill $listener 2>/dev/null"
for _ in $(seq 1 50); do [ -S "$jrun/systemd/journal/socket" ] && break; sleep 0.1; done

# JOURNAL_STREAM as systemd sets it: "DEV:INODE" of the stream on stderr.
: >"$TEST_DIR/mercid.err"
stream=$(stat -c '%d:%i' "$TEST_DIR/mercid.err")
JOURNAL_STREAM=$stream unshare -rm sh -c 'mount --bind "$0" /run && exec "$@"' "$jrun" \
	"$MERCID" --config "$TEST_DIR/merci.conf" >"$TEST_DIR/mercid.out" 2>>"$TEST_DIR/mercid.err" &
daemon=$!
at_exit "kill -KILL $daemon 2>/dev/null"

# wait_for WHAT FILE ERE [SECONDS]: poll until FILE has a line matching ERE.
wait_for() {
	local i
	for i in $(seq 1 $((${4:-10} * 10))); do
		grep -qE -- "$3" "$2" 2>/dev/null && { pass "$1"; return 0; }
		sleep 0.1
	done
	fail "$1" "no line matching /$3/ within ${4:-10} s"
	show_file "$(basename "$2")" "$2"
	show_file mercid.err "$TEST_DIR/mercid.err"
}
id_of() { sed -n "s/^#define $1 *\"\([0-9a-f]*\)\".*/\1/p" "$top_srcdir/lib/log_ids.h"; }

wait_for "the ready event reaches the journal" "$TEST_DIR/journal.jsonl" "$(id_of LOG_ID_READY)" 20
kill -HUP "$daemon"
wait_for "the reload event too" "$TEST_DIR/journal.jsonl" "$(id_of LOG_ID_RELOADED)" 10
check_no_grep "while the journal takes them, nothing on stderr" '.' "$TEST_DIR/mercid.err"

# The journal goes away: the next lines go to stderr, none is lost.
kill "$listener"
wait "$listener" 2>/dev/null || true
run_cmd sync "$MERCI" --config "$TEST_DIR/merci.conf" sync
check_rc "merci sync" 0
wait_for "without the journal, the line goes to stderr with its priority" \
	"$TEST_DIR/mercid.err" '^<6>account test: synced' 15
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
check_eq "mercid exits 0 on SIGTERM" 0 "$rc"
check_grep "the stopping line too" '^<6>stopping on signal' "$TEST_DIR/mercid.err"

py_checks - "$TEST_DIR/journal.jsonl" "$top_srcdir/lib/log_ids.h" "$DOVECOT_PASSWORD" \
	"$canary_wrong" <<'PY'
import json, re, sys
path, ids_h, *canaries = sys.argv[1:]
ids = dict(re.findall(r'#define (LOG_ID_\w+) +"([0-9a-f]{32})"', open(ids_h).read()))
entries = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + str(x))
def check(cond, m, *d): ok(m) if cond else fail(m, *d)
def by_id(name, account=None):
    return [e for e in entries if e.get("MESSAGE_ID") == ids[name]
            and (account is None or e.get("ACCOUNT") == account)]

check(entries and not [e for e in entries if "_BAD" in e],
      "%d entries, each in the native protocol" % len(entries),
      *[e for e in entries if "_BAD" in e][:3])
check(len(ids) >= 12 and len(set(ids.values())) == len(ids), "log_ids.h: distinct ids", ids)
done = by_id("LOG_ID_SYNC_DONE", "test")
check(done, "the sync-done event of account test has its MESSAGE_ID and ACCOUNT=test",
      *entries[:20])
if done:
    e = done[0]
    check(e.get("PRIORITY") == "6", "it has PRIORITY=6", e)
    check(e.get("SYSLOG_IDENTIFIER") == "mercid", "SYSLOG_IDENTIFIER=mercid", e)
    check(re.match(r"account test: synced, [1-9][0-9]* new message\(s\)", str(e.get("MESSAGE", ""))),
          "MESSAGE is the line mercid would print", e)
    check(e.get("CODE_FILE") == "daemon/supervisor.c" and str(e.get("CODE_LINE", "")).isdigit()
          and e.get("CODE_FUNC"), "CODE_FILE (from the source tree), CODE_LINE, CODE_FUNC", e)
failed = by_id("LOG_ID_SYNC_FAILED", "wrong")
check(failed and failed[0].get("PRIORITY") == "3",
      "a refused login is a sync-failed event of ACCOUNT=wrong at PRIORITY=3", *failed[:1])
for name in ("LOG_ID_STARTED", "LOG_ID_READY", "LOG_ID_RELOADED", "LOG_ID_STORE_MIGRATED"):
    got = by_id(name)
    check(got and "ACCOUNT" not in got[0], "%s is there, with no ACCOUNT=" % name, *got[:1])
plain = [e for e in entries if "MESSAGE_ID" not in e]
check(all("MESSAGE" in e and "PRIORITY" in e and "SYSLOG_IDENTIFIER" in e for e in entries),
      "every entry has MESSAGE, PRIORITY, SYSLOG_IDENTIFIER (%d without MESSAGE_ID)" % len(plain))
leaks = [(k, e) for e in entries for k, v in e.items()
         for c in canaries if c in (v if isinstance(v, str) else json.dumps(v))]
check(not leaks, "no password in any field of any entry", *leaks[:3])
PY
if grep -qF -e "$DOVECOT_PASSWORD" -e "$canary_wrong" "$TEST_DIR/mercid.err"; then
	fail "no password on stderr either"
else
	pass "no password on stderr either"
fi
test_finish
