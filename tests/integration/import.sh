#!/bin/bash
# merci import / export / contacts merge and show, on generated address
# books: a 2,000-entry vCard file (2.1, 3.0, 4.0, accents, duplicates,
# broken cards), Outlook CSV (Windows-1252, English; UTF-8 with ';',
# French), Google CSV. Exact counts and line numbers come from the
# generator; re-importing, and importing the export, creates nothing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"

setup() {
	mkdir -p "$TEST_DIR/merci" "$TEST_DIR/books"
	CONF=$TEST_DIR/merci/merci.conf
	write_password "$TEST_DIR/merci/imap.pass" secret
	cat >"$CONF" <<-CONF
	[general]
	database = $TEST_DIR/merci/merci.db
	owner = Camille Roy <camille@example.org>
	language = fr

	[account work]
	url = imaps://imap.example.org
	user = camille@example.org
	password_file = $TEST_DIR/merci/imap.pass
	CONF
	chmod 0600 "$CONF"
	run_cmd check "$MERCID" --config "$CONF" --check-config
	check_rc "setup: the config passes mercid --check-config" 0
	"$PYTHON" "$top_srcdir/tests/fixtures/import/gen_contacts.py" "$TEST_DIR/books" 2000 ||
		die "gen_contacts.py failed"
	EXP=$TEST_DIR/books/expected.json
}

# import_json NAME FILE [ARGS...]: merci --json import FILE; output in NAME.out.
import_json() {
	local name=$1 file=$2
	shift 2
	run_cmd "$name" "$MERCI" --config "$CONF" --json import "$@" "$TEST_DIR/books/$file"
	check_rc "merci import $file $*" 0
}

# check_import WHAT KEY: the counts and problems of the last import equal
# expected.json's KEY entry.
check_import() {
	local k
	for k in created merged skipped; do
		check_json "$1: $k" "$OUT_FILE" "$k" "$(json_get "$EXP" "$2.$k")"
	done
	check_json "$1: problems and their lines" "$OUT_FILE" problems "$(json_get "$EXP" "$2.problems")"
}

contacts_count() {
	"$MERCI" --config "$CONF" --json contacts list |
		"$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["contacts"]))'
}

first_imports() {
	# The store does not exist yet: import creates it.
	import_json vcf contacts.vcf
	check_import "vCard, 2,000 entries" vcard
	import_json outlook outlook.csv
	check_import "Outlook CSV (Windows-1252)" outlook
	import_json outlook-fr outlook-fr.csv
	check_import "French Outlook CSV (';', BOM)" outlook_fr
	import_json google google.csv --tag google
	check_import "Google CSV" google
	TOTAL=$("$PYTHON" -c 'import json,sys; e = json.load(open(sys.argv[1]))
print(sum(v["created"] for v in e.values()))' "$EXP")
	check_eq "contacts list: one contact per created entry" "$TOTAL" "$(contacts_count)"
}

human_output() {
	local line
	line=$(json_get "$EXP" vcard.problems.0.line)
	run_cmd vcf-human "$MERCI" --config "$CONF" import "$TEST_DIR/books/contacts.vcf"
	check_rc "merci import (human) exits 0 with skipped cards" 0
	check_grep "a broken card is reported as FILE:LINE: reason" \
		"contacts\.vcf:$line: card without an e-mail address; skipped" "$ERR_FILE"
	check_grep "the summary says what happened" "created 0, merged 1996, skipped 4" "$OUT_FILE"
}

reimports() {
	import_json vcf-again contacts.vcf
	check_json "re-import of the vCard: created" "$OUT_FILE" created 0
	check_json "re-import of the vCard: merged" "$OUT_FILE" merged 1996
	import_json google-again google.csv
	check_json "re-import of the Google CSV: created" "$OUT_FILE" created 0
	run_cmd export "$MERCI" --config "$CONF" export --vcard "$TEST_DIR/export.vcf"
	check_rc "merci export --vcard FILE" 0
	check_eq "the export has one card per contact" "$TOTAL" "$(grep -c '^BEGIN:VCARD' "$TEST_DIR/export.vcf")"
	check_eq "the export ends its lines with CRLF" 0 "$(grep -vc $'\r$' "$TEST_DIR/export.vcf" || true)"
	check_eq "the export folds at 75 octets" 0 "$(LC_ALL=C awk 'length($0) > 76' "$TEST_DIR/export.vcf" | wc -l)"
	cp "$TEST_DIR/export.vcf" "$TEST_DIR/books/export.vcf"
	import_json export export.vcf
	check_json "importing the export: created" "$OUT_FILE" created 0
	check_json "importing the export: merged" "$OUT_FILE" merged "$TOTAL"
	check_json "importing the export: skipped" "$OUT_FILE" skipped 0
	check_eq "contacts after the re-imports" "$TOTAL" "$(contacts_count)"
}

merge_and_show() {
	run_cmd show "$MERCI" --config "$CONF" --json contacts show g0@gmail.example
	check_rc "merci contacts show" 0
	check_json "show: both Google addresses" "$OUT_FILE" emails '["g0@gmail.example","g0@travail.example"]'
	check_json "show: --tag and the Google group became tags" "$OUT_FILE" tags '["anciens-collègues","google"]'
	check_json "show: default cadence" "$OUT_FILE" cadence_days 90
	run_cmd merge "$MERCI" --config "$CONF" contacts merge g0@gmail.example fr1@exemple.fr
	check_rc "merci contacts merge" 0
	check_grep "merge says what moved" 'moved: 1 addresses, 1 tags' "$OUT_FILE"
	run_cmd show2 "$MERCI" --config "$CONF" --json contacts show g0@travail.example
	check_json "after the merge: A has B's address" "$OUT_FILE" emails \
		'["fr1@exemple.fr","g0@gmail.example","g0@travail.example"]'
	check_json "after the merge: and B's tag" "$OUT_FILE" tags '["anciens-collègues","google","prospect"]'
	check_eq "after the merge: one contact fewer" "$((TOTAL - 1))" "$(contacts_count)"
	run_cmd show-human "$MERCI" --config "$CONF" contacts show g0@gmail.example
	check_rc "merci contacts show (human)" 0
	check_grep "show lists the addresses" '^addresses: +fr1@exemple\.fr, g0@gmail' "$OUT_FILE"
}

errors() {
	printf 'foo,bar\n1,2\n' >"$TEST_DIR/books/other.csv"
	run_cmd unknown "$MERCI" --config "$CONF" import "$TEST_DIR/books/other.csv"
	check_rc "an unknown format exits 2" 2
	check_grep "the error names the file and the known formats" 'other\.csv: .*vCard.*Outlook.*Google' "$ERR_FILE"
	run_cmd missing "$MERCI" --config "$CONF" import "$TEST_DIR/books/nowhere.vcf"
	check_rc "a missing file exits 1" 1
	check_grep "the error names the missing file" 'nowhere\.vcf' "$ERR_FILE"
}

test_init
require_binaries
setup
first_imports
human_output
reimports
merge_and_show
errors
test_finish
