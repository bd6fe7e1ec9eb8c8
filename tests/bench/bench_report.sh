#!/bin/bash
# bench_report: `merci report` and `merci --json report` on a store of
# BENCH_EXCHANGES (100,000) exchanges with BENCH_CONTACTS (2,000) contacts,
# next to a baseline measured in the same run on the same store: the
# sqlite3 CLI counting the exchanges. Prints the medians of BENCH_REPEAT
# runs of each (wall and CPU time) and the report's ratios to the baseline.
# Fails when the report takes a second of CPU or more. Run by `make bench`, not `make check`.
#
# The schema comes from the code (mercid --once against a closed port
# creates and migrates the store, then fails: exit 1 is expected); the rows
# are made by SQL: each exchange has its sender or recipient among the
# contacts and the owner on the other side; one contact in 20 is a
# referrer, every 400th exchange brings a mandate, favours and nudges are
# spread over the contacts.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
TEST_NAME=bench_report
. "$top_srcdir/tests/lib/common.sh"

N=${BENCH_EXCHANGES:-100000}
C=${BENCH_CONTACTS:-2000}
REPEAT=${BENCH_REPEAT:-5}
NOW=2026-11-15T12:00:00Z

test_init
require_binaries
command -v sqlite3 >/dev/null || die "the sqlite3 command is missing: run scripts/install-deps"

make_store() {
	local port
	port=$(free_port)
	write_password "$TEST_DIR/imap.pass" unused
	cat >"$TEST_DIR/merci.conf" <<CONF
[general]
database = $TEST_DIR/merci.db
owner = Camille Roy <camille@example.org>
language = fr

[account work]
url = imap://127.0.0.1:$port
tls = none
user = camille
password_file = $TEST_DIR/imap.pass
CONF
	chmod 0600 "$TEST_DIR/merci.conf"
	run_cmd mercid "$MERCID" --config "$TEST_DIR/merci.conf" --once
	[ "$RC" = 1 ] && [ -s "$TEST_DIR/merci.db" ] || die "mercid --once did not create the store (exit $RC)"
	sqlite3 -bail "$TEST_DIR/merci.db" <<SQL || die "filling the store failed"
BEGIN;
-- t0 = 2024-11-15: two years of mail up to "now".
CREATE TEMP TABLE k AS SELECT 1731672000 AS t0, $N AS n, $C AS c;
INSERT INTO address (id, email, name, contact_id, automated, first_seen)
 SELECT 1, 'camille@example.org', 'Camille Roy', NULL, 0, t0 FROM k;
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i, k WHERE x < k.c)
INSERT INTO contact (id, name, cadence_days, muted, created_at)
 SELECT x, 'Contact ' || x, CASE WHEN x % 7 = 0 THEN 30 END, x % 97 = 0, t0 FROM i, k;
INSERT INTO address (id, email, name, contact_id, automated, first_seen)
 SELECT id + 1, 'contact' || id || '@example.net', name, id, 0, created_at FROM contact;
INSERT INTO contact_tag (contact_id, tag, inferred)
 SELECT id, CASE id % 3 WHEN 0 THEN 'client' WHEN 1 THEN 'partner' ELSE 'prospect' END,
  id % 3 = 2 FROM contact WHERE id % 5 = 0;
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i, k WHERE x < k.n)
INSERT INTO exchange (id, account_id, msg_key, message_id, folder, uid, direction, date,
  subject, subject_norm, thread_key, automated)
 SELECT x, (SELECT id FROM account), 'm' || x, '<m' || x || '@example.net>',
  CASE WHEN x % 3 = 0 THEN 'Sent' ELSE 'INBOX' END, x,
  CASE WHEN x % 3 = 0 THEN 'out' ELSE 'in' END,
  t0 + x * (63072000 / n), 'Sujet ' || (x / 4), 'sujet ' || (x / 4), 't' || (x / 4),
  CASE WHEN x % 50 = 0 THEN 'List-Id' END FROM i, k;
INSERT INTO participant (exchange_id, address_id, role)
 SELECT e.id, CASE WHEN e.direction = 'in' THEN 2 + (e.id * 7919) % k.c ELSE 1 END, 'from'
 FROM exchange e, k;
INSERT INTO participant (exchange_id, address_id, role)
 SELECT e.id, CASE WHEN e.direction = 'out' THEN 2 + (e.id * 7919) % k.c ELSE 1 END, 'to'
 FROM exchange e, k;
INSERT INTO participant (exchange_id, address_id, role)
 SELECT e.id, 2 + (e.id * 104729) % k.c, 'cc' FROM exchange e, k WHERE e.id % 10 = 0
 AND (e.id * 104729) % k.c <> (e.id * 7919) % k.c;
INSERT INTO referral (id, kind, direction, from_contact, to_contact, exchange_id, date,
  evidence, thanked_at, created_at)
 SELECT e.id, 'introduction', 'received', 1 + (e.id / 200) % (k.c / 20) * 20,
  1 + (e.id * 7919) % k.c, e.id, e.date, 'intro ' || e.id,
  CASE WHEN e.id % 400 = 0 THEN e.date + 86400 ELSE 0 END, e.date
 FROM exchange e, k WHERE e.id % 200 = 0;
INSERT INTO mandate (client_contact, referral_id, state, title, start_at, end_at,
  exchange_id, thread_key, created_at, confirmed_at)
 SELECT r.to_contact, CASE WHEN r.id % 800 = 0 THEN NULL ELSE r.id END,
  CASE WHEN r.id % 1200 = 0 THEN 'refused' WHEN r.id % 800 = 0 THEN 'ended' ELSE 'confirmed' END,
  'Mandat ' || r.id, r.date + 20 * 86400, 0, r.exchange_id, 'mt' || r.id, r.date, r.date
 FROM referral r WHERE r.id % 400 = 0;
INSERT INTO favour (contact_id, direction, kind, date, source, exchange_id, created_at)
 SELECT 1 + (e.id * 7919) % k.c, CASE WHEN e.id % 3 = 0 THEN 'given' ELSE 'received' END,
  'help', e.date, 'mail', e.id, e.date FROM exchange e, k WHERE e.id % 100 = 0;
INSERT INTO nudge (kind, dedupe_key, contact_id, due, state, evidence, created_at, updated_at)
 SELECT CASE id % 5 WHEN 0 THEN 'thank-you' WHEN 1 THEN 'reciprocity' WHEN 2 THEN 'keep-in-touch'
   WHEN 3 THEN 'follow-up' ELSE 'prospecting' END, 'bench:' || id, id,
  created_at + 86400 * 100, CASE id % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'done'
   WHEN 2 THEN 'sent' ELSE 'dismissed' END, 'bench', created_at, created_at
 FROM contact;
COMMIT;
ANALYZE;
SQL
}

# median_ms CMD...: "WALL CPU", the medians over REPEAT runs of the wall
# time and of the CPU time (user + system), in milliseconds. The CPU time
# is what to judge on a busy machine, where the wall time is mostly waiting.
median_ms() {
	local i t
	local -a wall=() cpu=()
	local TIMEFORMAT='%3R %3U %3S'
	for ((i = 0; i < REPEAT; i++)); do
		t=$( { time "$@" >/dev/null 2>"$TEST_DIR/bench.err"; } 2>&1 ) ||
			{ cat "$TEST_DIR/bench.err" >&2; die "$* failed"; }
		read -r r u s <<<"$t"
		wall+=("$(awk -v r="$r" 'BEGIN { printf "%d", r * 1000 }')")
		cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')")
	done
	printf '%s %s\n' "$(printf '%s\n' "${wall[@]}" | sort -n | sed -n "$(((REPEAT + 1) / 2))p")" \
		"$(printf '%s\n' "${cpu[@]}" | sort -n | sed -n "$(((REPEAT + 1) / 2))p")"
}

report() {
	env -u MERCI_CONFIG MERCI_NOW=$NOW NO_COLOR=1 "$MERCI" --config "$TEST_DIR/merci.conf" "$@"
}

note "building a store of $N exchanges, $C contacts"
t0=$(date +%s%N)
make_store
note "store built in $((($(date +%s%N) - t0) / 1000000)) ms: $(sqlite3 "$TEST_DIR/merci.db" \
	'SELECT (SELECT count(*) FROM exchange) || " exchanges, " || (SELECT count(*) FROM participant)
	 || " participants, " || (SELECT count(*) FROM mandate) || " mandates"')"
report report >/dev/null || die "merci report failed"
report report | sed -n '1,8p'

read -r base_w base_c <<<"$(median_ms sqlite3 "$TEST_DIR/merci.db" 'SELECT count(*) FROM exchange')"
read -r human_w human_c <<<"$(median_ms report report)"
read -r json_w json_c <<<"$(median_ms report --json report)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : a) }'; }
printf '%-40s %8s %8s %8s %8s\n' "median of $REPEAT runs" "wall ms" "x base" "cpu ms" "x base"
row() {
	printf '%-40s %8d %8s %8d %8s\n' "$1" "$2" "$(ratio "$2" "$base_w")" "$3" "$(ratio "$3" "$base_c")"
}
row "sqlite3 'SELECT count(*) FROM exchange'" "$base_w" "$base_c"
row "merci report" "$human_w" "$human_c"
row "merci --json report" "$json_w" "$json_c"
# The limit is on CPU time: the wall time on a loaded machine measures the
# machine. Both are printed for the notes.
for what in "merci report:$human_c" "merci --json report:$json_c"; do
	if [ "${what##*:}" -lt 1000 ]; then
		pass "${what%:*} under a second of CPU (${what##*:} ms)"
	else
		fail "${what%:*} under a second of CPU" "took ${what##*:} ms"
	fi
done
test_finish
