# Shared helpers for merci's shell tests. Source it from bash:
#
#   . "$top_srcdir/tests/lib/common.sh"
#   test_init                 # temp dir in $TEST_DIR, cleanup trap, checks
#   at_exit 'dovecot_stop'    # more cleanup, run in reverse order on exit
#   run_cmd NAME cmd args...  # runs; sets RC, output in $TEST_DIR/NAME.out/.err
#   check_eq "what" EXPECTED ACTUAL
#   test_finish               # exit 0 when every check passed, 1 otherwise
#
# Checks do not stop the script: each prints "ok" or "FAIL" with what was
# expected and what came, and test_finish turns any FAIL into exit status 1.
# Use die for setup failures that make the rest meaningless (exit 1).
#
# Exported for the other helpers: PYTHON (Debian's /usr/bin/python3),
# TEST_DIR, TEST_NAME, and top_srcdir / top_builddir / MERCID / MERCI with
# defaults derived from this file's location when automake did not set them.

# Debian's modules (imaplib, unicodedata, json) live with /usr/bin/python3.
PYTHON=${PYTHON:-/usr/bin/python3}
COMMON_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$COMMON_LIB_DIR/../.." && pwd)}"
: "${top_builddir:=$PWD}"
: "${MERCID:=$top_builddir/daemon/mercid}"
: "${MERCI:=$top_builddir/cli/merci}"
export PYTHON top_srcdir top_builddir MERCID MERCI

TEST_NAME=${TEST_NAME:-$(basename "$0")}
TEST_FAILURES=0
TEST_CHECKS=0
_AT_EXIT_CMDS=()

# ---- messages ----

note() { printf '%s: %s\n' "$TEST_NAME" "$*"; }
warn() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

# die MESSAGE: a setup step failed; stop here with exit 1 (never 77).
die() {
	printf '%s: FATAL: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

# ---- temp dir and cleanup ----

# at_exit COMMAND: run COMMAND (a string, eval'd) on exit, last registered first.
at_exit() { _AT_EXIT_CMDS+=("$1"); }

_run_at_exit() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	for ((i = ${#_AT_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${_AT_EXIT_CMDS[$i]}" || true
	done
	if [ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ]; then
		if [ -n "${KEEP_TEST_DIR:-}" ]; then
			printf '%s: kept %s\n' "$TEST_NAME" "$TEST_DIR" >&2
		else
			rm -rf "$TEST_DIR"
		fi
	fi
	exit "$rc"
}

# test_init: make $TEST_DIR (removed on exit unless KEEP_TEST_DIR is set),
# install the cleanup trap, check that Python is there.
test_init() {
	TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/merci-test.XXXXXX") || die "mktemp failed"
	# Dovecot's unprivileged processes must be able to traverse it.
	chmod 0755 "$TEST_DIR"
	export TEST_DIR
	trap _run_at_exit EXIT
	trap 'exit 1' INT TERM HUP
	[ -x "$PYTHON" ] || die "$PYTHON not found: run scripts/install-deps"
}

# require_binaries: mercid and merci must be built (a missing one is a failure).
require_binaries() {
	[ -x "$MERCID" ] || die "mercid not built: expected an executable at $MERCID"
	[ -x "$MERCI" ] || die "merci not built: expected an executable at $MERCI"
}

# ---- ports ----

# free_port: print a TCP port on 127.0.0.1 that is free right now.
free_port() {
	"$PYTHON" - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# wait_port PORT [SECONDS]: wait until 127.0.0.1:PORT accepts a connection.
wait_port() {
	"$PYTHON" - "$1" "${2:-10}" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# ---- running commands ----

# run_cmd NAME COMMAND [ARGS...]: run it with stdout in $TEST_DIR/NAME.out and
# stderr in $TEST_DIR/NAME.err; the exit status goes to RC (never aborts).
# Set RUN_TIMEOUT (seconds, default 120) to bound it.
run_cmd() {
	local name=$1
	shift
	RC=0
	timeout "${RUN_TIMEOUT:-120}" "$@" >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" || RC=$?
	OUT_FILE=$TEST_DIR/$name.out
	ERR_FILE=$TEST_DIR/$name.err
}

# show_file LABEL FILE: print a file indented (for failure reports).
show_file() {
	printf '    --- %s (%s) ---\n' "$1" "$2"
	if [ -s "$2" ]; then
		sed -e 's/^/    | /' "$2" | head -n "${SHOW_LINES:-40}"
	else
		printf '    | (empty)\n'
	fi
}

# ---- assertions ----

pass() {
	TEST_CHECKS=$((TEST_CHECKS + 1))
	printf 'ok   - %s\n' "$1"
}

# fail WHAT [DETAIL...]: record a failed check.
fail() {
	TEST_CHECKS=$((TEST_CHECKS + 1))
	TEST_FAILURES=$((TEST_FAILURES + 1))
	printf 'FAIL - %s\n' "$1"
	shift
	local line
	for line in "$@"; do printf '    %s\n' "$line"; done
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1 ($3)"
	else
		fail "$1" "expected: $2" "got:      $3"
	fi
}

# check_rc WHAT EXPECTED_RC: compare with $RC of the last run_cmd; on
# mismatch show its stdout and stderr.
check_rc() {
	if [ "$RC" = "$2" ]; then
		pass "$1 (exit $RC)"
	else
		fail "$1" "expected exit status $2, got $RC"
		show_file stdout "$OUT_FILE"
		show_file stderr "$ERR_FILE"
	fi
}

# check_grep WHAT ERE FILE: FILE has a line matching ERE (case-insensitive).
check_grep() {
	if grep -qiE -- "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "expected a line matching /$2/ (case-insensitive) in $(basename "$3")"
		show_file "$(basename "$3")" "$3"
	fi
}

# check_no_grep WHAT ERE FILE: no line of FILE matches ERE.
check_no_grep() {
	if grep -qiE -- "$2" "$3"; then
		fail "$1" "expected no line matching /$2/, found:"
		grep -iE -- "$2" "$3" | head -n 5 | sed -e 's/^/    | /'
	else
		pass "$1"
	fi
}

# test_finish: summary, exit 0 or 1.
test_finish() {
	if [ "$TEST_FAILURES" -eq 0 ]; then
		note "all $TEST_CHECKS checks passed"
		exit 0
	fi
	note "$TEST_FAILURES of $TEST_CHECKS checks FAILED"
	exit 1
}

# ---- JSON ----

# json_get FILE PATH: print the value at PATH (dot-separated; numbers index
# lists, e.g. accounts.0.folders) in FILE. Strings print raw, other values
# as compact JSON (null, true, [..]). Exit 1 when the file does not parse,
# 2 when the path is missing.
json_get() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        v = json.load(f)
except Exception as e:
    print("json_get: %s: %s" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(1)
for part in [p for p in sys.argv[2].split(".") if p]:
    try:
        v = v[int(part)] if isinstance(v, list) else v[part]
    except (KeyError, IndexError, ValueError, TypeError):
        print("json_get: %s: no %s" % (sys.argv[1], sys.argv[2]), file=sys.stderr)
        sys.exit(2)
if isinstance(v, str):
    print(v)
else:
    print(json.dumps(v, ensure_ascii=False, separators=(",", ":")))
EOF
}

# json_folder FILE ACCOUNT FOLDER FIELD: a field of one folder in a
# `merci --json status` output (empty when absent).
json_folder() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
path, account, folder, field = sys.argv[1:5]
try:
    st = json.load(open(path, encoding="utf-8"))
    for a in st.get("accounts", []):
        if a.get("name") == account:
            for f in a.get("folders", []):
                if f.get("name") == folder:
                    v = f.get(field)
                    print(v if not isinstance(v, (dict, list)) else json.dumps(v))
except Exception:
    pass
EOF
}

# check_json WHAT FILE PATH EXPECTED: the value at PATH equals EXPECTED.
check_json() {
	local got
	got=$(json_get "$2" "$3" 2>&1) || true
	check_eq "$1" "$4" "$got"
}

# ---- configs ----

# write_password FILE PASSWORD: a password file, mode 0600.
write_password() {
	(umask 077 && printf '%s\n' "$2" >"$1")
	chmod 0600 "$1"
}

# ---- checks written in Python ----

# py_checks PYTHON-ARGS...: run a Python checker that prints "ok - ..." and
# "FAIL - ..." lines (details indented below); count them as checks.
py_checks() {
	local out n_ok n_fail
	out=$("$PYTHON" "$@" 2>&1) || true
	printf '%s\n' "$out"
	n_ok=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
	n_fail=$(printf '%s\n' "$out" | grep -c '^FAIL ' || true)
	TEST_CHECKS=$((TEST_CHECKS + n_ok + n_fail))
	TEST_FAILURES=$((TEST_FAILURES + n_fail))
	if [ $((n_ok + n_fail)) -eq 0 ]; then
		fail "python checker $1 reported nothing"
	fi
}

# check_contacts GOT EXPECTED: GOT is `merci --json contacts list` output,
# EXPECTED the facts of mkmailbox.py. Compares the set of contacts (names,
# addresses, messages_in/out, first/last) and their order (newest first).
check_contacts() {
	py_checks - "$1" "$2" <<'EOF'
import json, sys
got_path, exp_path = sys.argv[1], sys.argv[2]
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
try:
    got = json.load(open(got_path, encoding="utf-8"))["contacts"]
except Exception as e:
    fail("contacts list --json parses and has \"contacts\"", "error: %s" % e,
         "output: %r" % open(got_path, "rb").read()[:300])
    sys.exit(0)
exp = json.load(open(exp_path, encoding="utf-8"))["contacts"]
if len(got) == len(exp):
    ok("number of contacts (%d)" % len(got))
else:
    fail("number of contacts", "expected: %d (%s)" % (len(exp), ", ".join(c["name"] for c in exp)),
         "got:      %d (%s)" % (len(got), ", ".join(str(c.get("name")) for c in got)))
by_name = {c.get("name"): c for c in got}
for e in exp:
    g = by_name.get(e["name"])
    if g is None:
        fail("contact %s exists" % e["name"], "expected a contact named %r with %s" % (e["name"], e["emails"]),
             "got names: %s" % [c.get("name") for c in got])
        continue
    problems = []
    if sorted(g.get("emails") or []) != e["emails"]:
        problems.append("emails: expected %s, got %s" % (e["emails"], sorted(g.get("emails") or [])))
    for k in ("messages_in", "messages_out", "first"):
        if g.get(k) != e[k]:
            problems.append("%s: expected %r, got %r" % (k, e[k], g.get(k)))
    if g.get("last") not in (e["last"], e["last_any"]):
        problems.append("last: expected %r, got %r" % (e["last"], g.get("last")))
    if problems:
        fail("contact %s" % e["name"], *problems)
    else:
        ok("contact %s: %s, in %d, out %d, %s .. %s" % (e["name"], ", ".join(e["emails"]),
           e["messages_in"], e["messages_out"], e["first"], e["last"]))
extra = [c.get("name") for c in got if c.get("name") not in {e["name"] for e in exp}]
if extra:
    fail("no unexpected contact", "unexpected: %s" % extra)
order_got = [c.get("name") for c in got]
order_exp = [e["name"] for e in exp]
if order_got == order_exp:
    ok("contacts sorted by last exchange, newest first")
else:
    fail("contacts sorted by last exchange, newest first",
         "expected: %s" % order_exp, "got:      %s" % order_got)
EOF
}

# check_status GOT EXPECTED [ACCOUNT]: GOT is `merci --json status` output;
# counts must equal EXPECTED's, the account (default "test") must have no
# error, and its folders INBOX and Sent the expected exists and last_uid.
check_status() {
	py_checks - "$1" "$2" "${3:-test}" <<'EOF'
import json, sys
got_path, exp_path, account = sys.argv[1:4]
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
try:
    got = json.load(open(got_path, encoding="utf-8"))
except Exception as e:
    fail("status --json parses", "error: %s" % e, "output: %r" % open(got_path, "rb").read()[:300])
    sys.exit(0)
exp = json.load(open(exp_path, encoding="utf-8"))
counts = got.get("counts") or {}
for k, v in exp["counts"].items():
    if counts.get(k) == v:
        ok("status counts.%s = %d" % (k, v))
    else:
        fail("status counts.%s" % k, "expected: %r" % v, "got:      %r" % counts.get(k))
acc = [a for a in got.get("accounts") or [] if a.get("name") == account]
if not acc:
    fail("status has account %r" % account, "got: %s" % json.dumps(got.get("accounts"))[:400])
    sys.exit(0)
acc = acc[0]
if acc.get("last_error") is None and acc.get("last_sync"):
    ok("account %s: last_sync set, last_error null" % account)
else:
    fail("account %s: last_sync set, last_error null" % account,
         "got last_sync=%r last_error=%r" % (acc.get("last_sync"), acc.get("last_error")))
folders = {f.get("name"): f for f in acc.get("folders") or []}
if sorted(folders) == sorted(exp["folders"]):
    ok("folders synced: %s" % ", ".join(sorted(folders)))
else:
    fail("folders synced", "expected: %s" % sorted(exp["folders"]), "got:      %s" % sorted(folders))
for name, e in sorted(exp["folders"].items()):
    f = folders.get(name)
    if f is None:
        continue
    for k in ("last_uid", "exists"):
        if f.get(k) == e[k]:
            ok("folder %s %s = %d" % (name, k, e[k]))
        else:
            fail("folder %s %s" % (name, k), "expected: %r" % e[k], "got:      %r" % f.get(k))
# Each exchange is recorded from exactly one folder (a message in two
# folders once), so the folders' "messages" add up to the exchanges.
total = sum(f.get("messages") or 0 for f in folders.values())
if total == exp["counts"]["exchanges"]:
    ok("folders' messages add up to the exchanges (%d)" % total)
else:
    fail("folders' messages add up to the exchanges",
         "expected: %d" % exp["counts"]["exchanges"],
         "got:      %s" % " + ".join("%s %r" % (n, f.get("messages")) for n, f in sorted(folders.items())))
EOF
}
