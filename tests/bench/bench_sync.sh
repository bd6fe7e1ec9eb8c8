#!/bin/bash
# bench_sync.sh: how fast and how lean mercid syncs a large mailbox.
#
# Run by `make bench` from the build directory (or by hand: see
# tests/bench/README.md). Environment overrides: MERCID, MERCI, top_srcdir,
# top_builddir, BENCH_COUNT (default 100000), BENCH_SMALL (default 1000),
# BENCH_REPEAT (no-change runs per size, default 5), BENCH_BATCH (passed as
# MERCI_IMAP_BATCH when set), KEEP_TEST_DIR=1 to keep the files.
#
# Serves BENCH_COUNT generated messages (folder INBOX) and BENCH_SMALL ones
# (folder Small) from a throw-away Dovecot on 127.0.0.1 (plain IMAP, the same
# transport for every client), warms Dovecot's index, then measures:
#   (a) the initial `mercid --once` into an empty store (wall time, peak RSS);
#   (b) a raw reference client (Python imaplib + a literal-skipping reader)
#       sending the same UID FETCH 1:* of the same header fields;
#   (c) a second, no-change `mercid --once` on INBOX and on Small (median).
# Targets: (a)/(b) <= 1.5; peak RSS <= 32 MB; no-change (big)/(small) <= 1.5.
# Exit 0 when every target is met, 1 otherwise (or on a setup failure).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
TEST_NAME=bench_sync
# shellcheck source=../lib/common.sh
. "$top_srcdir/tests/lib/common.sh"
# shellcheck source=../lib/dovecot.sh
. "$top_srcdir/tests/lib/dovecot.sh"

BENCH_COUNT=${BENCH_COUNT:-100000}
BENCH_SMALL=${BENCH_SMALL:-1000}
BENCH_REPEAT=${BENCH_REPEAT:-5}
TARGET_RATIO=1.5
TARGET_RSS_KB=$((32 * 1024))
TARGET_NOCHANGE=1.5
TIME_BIN=${TIME_BIN:-/usr/bin/time}
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}

test_init
require_binaries
[ -x "$TIME_BIN" ] ||
	die "$TIME_BIN not found: install the Debian package \"time\" (GNU time, for peak RSS)"
case $BENCH_COUNT$BENCH_SMALL$BENCH_REPEAT in
*[!0-9]*) die "BENCH_COUNT, BENCH_SMALL and BENCH_REPEAT must be numbers" ;;
esac

note "mercid:   $MERCID"
note "messages: $BENCH_COUNT (INBOX), $BENCH_SMALL (Small); scratch in $TEST_DIR"

# ---- the mailbox ----
DOVECOT_SSL=no
dovecot_init
# gen_folder MAILDIR COUNT SEED: COUNT messages in MAILDIR/cur. Uses the
# colleague generator tests/lib/mkmailbox.py --count (it splits its messages
# between INBOX and .Sent: both go into the one folder here), else
# gen_maildir.py beside this script.
gen_folder() {
	local mk=$top_srcdir/tests/lib/mkmailbox.py tmp=$TEST_DIR/gen.$3 n
	if [ -f "$mk" ] && "$PYTHON" "$mk" --help 2>/dev/null | grep -q -- '--count'; then
		rm -rf "$tmp"
		if "$PYTHON" "$mk" --maildir "$tmp" --count "$2" --seed "$3" >/dev/null 2>"$TEST_DIR/mkmailbox.err"; then
			mkdir -p "$1/cur" "$1/new" "$1/tmp"
			find "$tmp" -type f -path '*/cur/*' -exec mv -t "$1/cur" {} +
			find "$tmp" -type f -path '*/new/*' -exec mv -t "$1/new" {} +
			rm -rf "$tmp"
			n=$(find "$1/cur" "$1/new" -type f | wc -l)
			if [ "$n" -eq "$2" ]; then
				GENERATOR=mkmailbox.py
				return 0
			fi
			warn "mkmailbox.py --count $2 wrote $n messages; using gen_maildir.py"
		else
			warn "mkmailbox.py failed ($(head -n 1 "$TEST_DIR/mkmailbox.err")); using gen_maildir.py"
		fi
		rm -rf "${1:?}/cur" "${1:?}/new" "$tmp"
	fi
	"$PYTHON" "$here/gen_maildir.py" "$1" "$2" --seed "$3" || die "gen_maildir.py failed"
	GENERATOR=gen_maildir.py
}
t0=$(date +%s.%N)
gen_folder "$DOVECOT_MAILDIR" "$BENCH_COUNT" 1
mkdir -p "$DOVECOT_MAILDIR/.Small"
gen_folder "$DOVECOT_MAILDIR/.Small" "$BENCH_SMALL" 2
note "generated with $GENERATOR in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
dovecot_start

# ---- warm-up: Dovecot builds its indexes and header cache on first access ----
t0=$(date +%s.%N)
for folder in INBOX Small; do
	for i in 1 2; do
		out=$("$PYTHON" "$here/raw_fetch.py" "$DOVECOT_IMAP_PORT" "$DOVECOT_USER" \
			"$DOVECOT_PASSWORD" "$folder") || die "warm-up fetch of $folder failed"
		if [ "$i" = 1 ]; then note "warm-up $folder: $out (seconds messages bytes)"; fi
	done
done
read -r _ n _ <<<"$out"
[ "$n" = "$BENCH_SMALL" ] || die "Dovecot serves $n messages in Small, expected $BENCH_SMALL"
note "warm-up done in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

# ---- configs ----
write_password "$TEST_DIR/pass" "$DOVECOT_PASSWORD"
write_conf() { # NAME FOLDER
	mkdir -p "$TEST_DIR/$1"
	cat >"$TEST_DIR/$1/merci.conf" <<EOF
[general]
database = $TEST_DIR/$1/merci.db
owner = Camille Roy <camille@example.org>

[account bench]
url = imap://127.0.0.1:$DOVECOT_IMAP_PORT
tls = none
user = $DOVECOT_USER
password_file = $TEST_DIR/pass
folders = $2
EOF
}
write_conf big INBOX
write_conf headers INBOX
write_conf small Small

# run_mercid NAME: mercid --once on $TEST_DIR/NAME; sets SECS and RSS_KB
# (GNU time: the largest of mercid and its waited-for IMAP child).
run_mercid() {
	local rc=0 t0 t1
	t0=$(date +%s.%N)
	timeout "$RUN_TIMEOUT" env ${BENCH_BATCH:+MERCI_IMAP_BATCH=$BENCH_BATCH} \
		"$TIME_BIN" -f '%M' -o "$TEST_DIR/$1/time" \
		"$MERCID" --config "$TEST_DIR/$1/merci.conf" --once \
		>"$TEST_DIR/$1/mercid.out" 2>"$TEST_DIR/$1/mercid.err" || rc=$?
	t1=$(date +%s.%N)
	if [ "$rc" != 0 ]; then
		show_file stderr "$TEST_DIR/$1/mercid.err"
		die "mercid --once ($1) exited $rc"
	fi
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
	RSS_KB=$(tail -n 1 "$TEST_DIR/$1/time")
}

# recorded NAME FOLDER: messages recorded for FOLDER per `merci --json status`.
recorded() {
	"$MERCI" --config "$TEST_DIR/$1/merci.conf" --json status >"$TEST_DIR/$1/status.json" ||
		die "merci --json status ($1) failed"
	json_folder "$TEST_DIR/$1/status.json" bench "$2" last_uid
}

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b <= 0) b = 0.001; printf "%.2f", a/b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN{ exit !(a <= b) }'; }

# ---- (a) initial sync ----
# (a) as a user runs it: headers, plus the start of the text of recent mail
# for detection. (a') headers only, the same fetch as the raw client: the
# clock is moved past the first-sync window, so no message is recent.
run_mercid big
A_SECS=$SECS A_RSS=$RSS_KB
got=$(recorded big INBOX)
[ "$got" = "$BENCH_COUNT" ] ||
	die "after the initial sync INBOX last_uid is '$got', expected $BENCH_COUNT: timing meaningless"
MERCI_NOW=2031-01-01T00:00:00Z run_mercid headers
H_SECS=$SECS H_RSS=$RSS_KB
[ "$H_RSS" -gt "$A_RSS" ] && A_RSS=$H_RSS

# ---- (b) the raw reference client, same fetch, same transport ----
read -r B_SECS B_N B_BYTES < <("$PYTHON" "$here/raw_fetch.py" "$DOVECOT_IMAP_PORT" \
	"$DOVECOT_USER" "$DOVECOT_PASSWORD" INBOX --repeat 3) || die "raw_fetch.py failed"
[ "$B_N" = "$BENCH_COUNT" ] || die "raw client got $B_N messages, expected $BENCH_COUNT"
read -r P_SECS _ _ < <("$PYTHON" "$here/raw_fetch.py" "$DOVECOT_IMAP_PORT" \
	"$DOVECOT_USER" "$DOVECOT_PASSWORD" INBOX --parse) || die "raw_fetch.py --parse failed"

# ---- (c) no-change syncs, big and small ----
run_mercid small
got=$(recorded small Small)
[ "$got" = "$BENCH_SMALL" ] || die "after the initial sync Small last_uid is '$got', expected $BENCH_SMALL"
: >"$TEST_DIR/nochange-big" ; : >"$TEST_DIR/nochange-small"
C_RSS=0
for ((i = 0; i < BENCH_REPEAT; i++)); do
	run_mercid big
	echo "$SECS" >>"$TEST_DIR/nochange-big"
	if [ "$RSS_KB" -gt "$C_RSS" ]; then C_RSS=$RSS_KB; fi
	run_mercid small
	echo "$SECS" >>"$TEST_DIR/nochange-small"
done
C_BIG=$(median <"$TEST_DIR/nochange-big")
C_SMALL=$(median <"$TEST_DIR/nochange-small")
got=$(recorded big INBOX)
[ "$got" = "$BENCH_COUNT" ] || die "a no-change sync moved INBOX last_uid to '$got'"

# ---- report ----
R_AB=$(ratio "$A_SECS" "$B_SECS")
R_HB=$(ratio "$H_SECS" "$B_SECS")
R_C=$(ratio "$C_BIG" "$C_SMALL")
verdict() { if le "$1" "$2"; then echo ok; else echo MISSED; fi; }
V_HB=$(verdict "$R_HB" "$TARGET_RATIO")
V_RSS=$(verdict "$A_RSS" "$TARGET_RSS_KB")
V_C=$(verdict "$R_C" "$TARGET_NOCHANGE")
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

cat <<EOF

merci sync benchmark: $BENCH_COUNT messages (Dovecot $("$DOVECOT_BIN" --version | cut -d' ' -f1), plain IMAP on 127.0.0.1${BENCH_BATCH:+, MERCI_IMAP_BATCH=$BENCH_BATCH})
  (a) initial mercid --once, empty store    $A_SECS s   ($(awk -v n="$BENCH_COUNT" -v s="$A_SECS" 'BEGIN{printf "%.0f", n/(s>0?s:0.001)}') msg/s; headers + text of recent mail)
  (a') the same, headers only               $H_SECS s   ($(awk -v n="$BENCH_COUNT" -v s="$H_SECS" 'BEGIN{printf "%.0f", n/(s>0?s:0.001)}') msg/s)
  (b) raw client, same UID FETCH 1:*        $B_SECS s   (best of 3; $B_BYTES bytes; imaplib parsing it all: $P_SECS s)
      ratio (a')/(b)                        $R_HB      target <= $TARGET_RATIO   $V_HB
      ratio (a)/(b)                         $R_AB      (for information: (b) reads no text)
  peak RSS of mercid (parent, IMAP child)   $(mb "$A_RSS") MB   target <= 32 MB   $V_RSS   (no-change runs: $(mb "$C_RSS") MB)
  (c) no-change mercid --once, $BENCH_COUNT msgs   $C_BIG s   (median of $BENCH_REPEAT)
      no-change mercid --once, $BENCH_SMALL msgs   $C_SMALL s
      ratio big/small                       $R_C      target <= $TARGET_NOCHANGE   $V_C
EOF

if [ "$V_HB$V_RSS$V_C" = okokok ]; then
	note "every target met"
	exit 0
fi
note "a target was MISSED (see above)"
exit 1
