#!/bin/bash
# The merci CLI as a user sees it: aligned human tables (accented names
# included), JSON that parses, --help, exit status 2 for an unknown command,
# a missing config file and a config with an unknown key (FILE:LINE:).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

# A store with the story in it.
setup_store() {
	dovecot_init
	"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" \
		--expected "$TEST_DIR/expected.json" || die "mkmailbox.py failed"
	dovecot_start
	mkdir -p "$TEST_DIR/merci"
	CONF=$TEST_DIR/merci/merci.conf
	dovecot_merci_config "$CONF"
	run_cmd sync "$MERCID" --config "$CONF" --once
	check_rc "setup: mercid --once on the story mailbox" 0
	dovecot_stop
}

# The alignment checker: for each block (separated by blank lines) of an
# output, "key: value" lines must start their values at the same display
# column; in a table (first line = header, fields separated by 2+ spaces)
# every cell must start where its header starts (left-aligned) or end where
# its header ends (right-aligned). Widths are display widths (unicodedata).
write_alignment_checker() {
	cat >"$TEST_DIR/aligned.py" <<'EOF'
import re, sys, unicodedata

def width(s):
    w = 0
    for c in s:
        if unicodedata.combining(c):
            continue
        w += 2 if unicodedata.east_asian_width(c) in "WF" else 1
    return w

def fields(line):
    out = []
    for m in re.finditer(r"\S+(?: \S+)*", line):
        start = width(line[:m.start()])
        out.append((start, start + width(m.group()), m.group()))
    return out

def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)

label, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
blocks = [b.split("\n") for b in re.split(r"\n\s*\n", text.strip("\n"))]
tables = 0
for block in blocks:
    block = [l.rstrip() for l in block if l.strip()]
    if len(block) < 2:
        continue
    if all(re.match(r"^\S[^:]*:\s+\S", l) for l in block):
        cols = {width(re.match(r"^\S[^:]*:\s+", l).group()) for l in block}
        if len(cols) == 1:
            ok("%s: values of the %d 'Key: value' lines start at column %d"
               % (label, len(block), cols.pop()))
        else:
            fail("%s: values of 'Key: value' lines aligned" % label, *block)
        continue
    header = fields(block[0])
    if len(header) < 3:
        continue
    tables += 1
    starts = {f[0] for f in header}
    ends = {f[1] for f in header}
    bad = []
    rows = 0
    for line in block[1:]:
        cells = fields(line)
        if len(cells) < 2:      # a footer such as "6 contact(s)"
            continue
        rows += 1
        for s, e, t in cells:
            if s not in starts and e not in ends:
                bad.append("%r at columns %d-%d, header columns: %s"
                           % (t, s, e, [(f[2], f[0], f[1]) for f in header]))
    if bad:
        fail("%s: table %r columns line up" % (label, block[0]), *bad[:6])
    else:
        ok("%s: table with %d rows, columns line up (%s)"
           % (label, rows, ", ".join(f[2] for f in header)))
if tables == 0:
    fail("%s: has a table" % label, "output was:", *text.split("\n")[:20])
EOF
}

# The checker must be able to fail: a table padded by bytes, not by display
# width, leaves the row with accents one column short.
alignment_checker_catches_misalignment() {
	local sample=$TEST_DIR/misaligned.txt
	"$PYTHON" - "$sample" <<'EOF'
import sys
rows = [("NAME", "EMAIL", "IN"), ("Marc Gagnon", "marc@example.com", "1"),
        ("Amélie Tremblay", "amelie@example.com", "3")]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for n, e, i in rows:
        b = n.encode("utf-8")
        f.write(b.ljust(20).decode("utf-8") + e.ljust(22) + i.rjust(2) + "\n")
EOF
	if "$PYTHON" "$TEST_DIR/aligned.py" sample "$sample" | grep -q '^FAIL '; then
		pass "the alignment check rejects a table padded by bytes"
	else
		fail "the alignment check rejects a table padded by bytes" \
			"it accepted:" "$(cat "$sample")"
	fi
}

human_contacts_aligned() {
	run_cmd contacts "$MERCI" --config "$CONF" contacts list
	check_rc "merci contacts list exits 0" 0
	check_grep "contacts list shows accented names (Sébastien Lévesque)" 'Sébastien Lévesque' "$OUT_FILE"
	check_grep "contacts list shows Jean-Philippe Côté" 'Jean-Philippe Côté' "$OUT_FILE"
	py_checks "$TEST_DIR/aligned.py" "contacts list" "$OUT_FILE"
}

human_status_aligned() {
	run_cmd status "$MERCI" --config "$CONF" status
	check_rc "merci status exits 0" 0
	check_grep "status shows the INBOX folder" 'INBOX' "$OUT_FILE"
	py_checks "$TEST_DIR/aligned.py" "status" "$OUT_FILE"
}

json_outputs_parse() {
	local what
	for what in "contacts list" status; do
		# shellcheck disable=SC2086 # the command is two words on purpose
		run_cmd json "$MERCI" --config "$CONF" --json $what
		check_rc "merci --json $what exits 0" 0
		if "$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$OUT_FILE" 2>"$TEST_DIR/json.parse.err"; then
			pass "merci --json $what parses as JSON"
		else
			fail "merci --json $what parses as JSON" "$(cat "$TEST_DIR/json.parse.err")"
			show_file stdout "$OUT_FILE"
		fi
	done
	# The version the store itself carries (it grows with each migration).
	check_json "--json status: schema_version" "$OUT_FILE" schema_version \
		"$(sqlite3 "$(json_get "$OUT_FILE" database)" 'PRAGMA user_version')"
	check_json "--json status: exchanges" "$OUT_FILE" counts.exchanges \
		"$(json_get "$TEST_DIR/expected.json" counts.exchanges)"
}

usage_and_errors() {
	run_cmd help "$MERCI" --help
	check_rc "merci --help exits 0" 0
	check_grep "merci --help lists the contacts command" 'contacts' "$OUT_FILE"

	run_cmd unknown "$MERCI" --config "$CONF" frobnicate
	check_rc "merci frobnicate (unknown command) exits 2" 2
	check_grep "the unknown command is named on stderr" 'frobnicate' "$ERR_FILE"

	local missing=$TEST_DIR/nowhere/merci.conf
	run_cmd missing "$MERCI" --config "$missing" status
	check_rc "merci with a missing config file exits 2" 2
	check_grep "merci names the missing config file" "$missing" "$ERR_FILE"

	run_cmd missing-d "$MERCID" --config "$missing" --check-config
	check_rc "mercid --check-config with a missing config file exits 2" 2
	check_grep "mercid names the missing config file" "$missing" "$ERR_FILE"

	run_cmd check-ok "$MERCID" --config "$CONF" --check-config
	check_rc "mercid --check-config on the working config exits 0" 0

	# The same config with an unknown key on line 4.
	local bad=$TEST_DIR/merci/unknown-key.conf line
	{
		sed -n '1,3p' "$CONF"
		printf 'colour = blue\n'
		sed -n '4,$p' "$CONF"
	} >"$bad"
	chmod 0600 "$bad"
	line=$(grep -n '^colour' "$bad" | cut -d: -f1)
	run_cmd unknown-key "$MERCID" --config "$bad" --check-config
	check_rc "mercid --check-config with an unknown key exits 2" 2
	check_grep "the error starts with FILE:LINE: ($bad:$line:)" "^$bad:$line:" "$ERR_FILE"
	check_grep "the error names the key" 'colour' "$ERR_FILE"
}

test_init
require_binaries
setup_store
write_alignment_checker
alignment_checker_catches_misalignment
human_contacts_aligned
human_status_aligned
json_outputs_parse
usage_and_errors
test_finish
