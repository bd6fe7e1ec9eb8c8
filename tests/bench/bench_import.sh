#!/bin/bash
# bench_import: `merci import` of a generated 2,000-contact vCard file into
# a new store, next to a baseline measured in the same run: the sqlite3
# shell inserting the same contacts and addresses (2,000 + their addresses)
# from a SQL file in one transaction. Prints both times (median of
# BENCH_REPEAT runs) and their ratio. Not part of `make check`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"

COUNT=${BENCH_COUNT:-2000}
REPEAT=${BENCH_REPEAT:-5}

test_init
require_binaries
command -v sqlite3 >/dev/null || die "the sqlite3 shell is needed for the baseline (Debian package sqlite3)"
"$PYTHON" "$top_srcdir/tests/fixtures/import/gen_contacts.py" "$TEST_DIR" "$COUNT" || die "gen_contacts.py failed"
write_password "$TEST_DIR/imap.pass" secret

# The baseline's SQL: the same rows merci writes, one INSERT each.
"$PYTHON" - "$TEST_DIR/contacts.vcf" "$TEST_DIR/baseline.sql" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
out = ["BEGIN;", "CREATE TABLE contact (id INTEGER PRIMARY KEY, name TEXT, created_at INTEGER);",
       "CREATE TABLE address (id INTEGER PRIMARY KEY, email TEXT UNIQUE, contact_id INTEGER);"]
for n, card in enumerate(re.findall(r"BEGIN:VCARD(.*?)END:VCARD", text, re.S)):
    out.append("INSERT INTO contact VALUES (%d, 'name %d', 0);" % (n + 1, n))
    for e in re.findall(r"^EMAIL[^:]*:(.*?)\r?$", card, re.M):
        out.append("INSERT OR IGNORE INTO address (email, contact_id) VALUES ('%s', %d);"
                   % (e.strip().lower().replace("'", "''"), n + 1))
out.append("COMMIT;")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY

now_ms() { date +%s%3N; }

# median of the arguments
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

merci_times=() base_times=()
for ((i = 0; i < REPEAT; i++)); do
	rm -f "$TEST_DIR"/merci.db* "$TEST_DIR"/base.db
	cat >"$TEST_DIR/merci.conf" <<-CONF
	[general]
	database = $TEST_DIR/merci.db
	owner = Camille Roy <camille@example.org>

	[account work]
	url = imaps://imap.example.org
	user = camille@example.org
	password_file = $TEST_DIR/imap.pass
	CONF
	chmod 0600 "$TEST_DIR/merci.conf"
	t0=$(now_ms)
	"$MERCI" --config "$TEST_DIR/merci.conf" import "$TEST_DIR/contacts.vcf" >/dev/null 2>&1 ||
		die "merci import failed"
	t1=$(now_ms)
	sqlite3 "$TEST_DIR/base.db" <"$TEST_DIR/baseline.sql" || die "sqlite3 failed"
	t2=$(now_ms)
	merci_times+=($((t1 - t0)))
	base_times+=($((t2 - t1)))
done
m=$(median "${merci_times[@]}")
b=$(median "${base_times[@]}")
printf 'bench_import: %d vCard entries, median of %d runs\n' "$COUNT" "$REPEAT"
printf '  merci import (new store, schema included): %d ms\n' "$m"
printf '  baseline, sqlite3 < SQL file (same rows):  %d ms\n' "$b"
printf '  ratio: %s\n' "$("$PYTHON" -c "import sys; print('%.1fx' % (int(sys.argv[1]) / max(int(sys.argv[2]), 1)))" "$m" "$b")"
