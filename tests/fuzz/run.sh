#!/bin/sh
# run.sh: builds the libFuzzer targets of tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined, the library compiled by clang with
# the same instrumentation) and runs each for FUZZ_SECONDS. `make fuzz`
# calls it from the build directory.
#
#   tests/fuzz/run.sh [TARGET...]        (default: every fuzz_*.c)
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 60; CI uses a few)
#   FUZZ_BUILD     where objects, binaries, work corpora and logs go
#                  (default ./fuzz-build)
#   FUZZ_CC        the compiler (default clang)
#   FUZZ_MERGE     1 (default): inputs that add coverage are merged into
#                  tests/fuzz/corpus/TARGET; 0: the source tree is left alone
#   FUZZ_BUILD_ONLY=1  build and stop;  FUZZ_NO_BUILD=1  run what is built
#   FUZZ_ARGS      more libFuzzer options (e.g. -jobs=2 -workers=2)
#
# Exit status 1 when a build fails or a target finds a crash, a leak, a
# timeout or an out-of-memory; the reproducer is left in
# $FUZZ_BUILD/crashes/TARGET/: minimise it (-minimize_crash=1), fix the bug,
# and keep the input in tests/fuzz/crashes/TARGET/ so make check replays it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD:-fuzz-build}
cc=${FUZZ_CC:-clang}
merge=${FUZZ_MERGE:-1}
mkdir -p "$build"
build=$(cd "$build" && pwd)

# Debian's libetpan.pc carries gcc-only -specs flags: clang refuses them.
pkgs="libetpan inih sqlite3 libsystemd libcurl gnutls"
dep_cflags=$(pkg-config --cflags $pkgs | sed -e 's/-specs=[^ ]*//g')
dep_libs=$(pkg-config --libs $pkgs | sed -e 's/-specs=[^ ]*//g')

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-std=gnu11 -g -O1 -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter
	-Wno-format-nonliteral -D_GNU_SOURCE -DSYSCONFDIR=\"/etc\"
	-DLOCALSTATEDIR=\"/var\" -DPKGDATADIR=\"/usr/share/merci\"
	-I$top/lib $dep_cflags"

# Inputs a target is fed at most: what its parser meets in real use, kept
# short enough for libFuzzer to mutate usefully.
max_len() {
	case $1 in
	timeutil) echo 128 ;;
	address|thread|reply_cmd) echo 2048 ;;
	config|mailbuild) echo 8192 ;;
	body) echo 8194 ;;             # BODY_PREFIX_MAX and the two selector bytes
	headers) echo 100000 ;;        # the seed with 500+ recipients
	*) echo 16384 ;;
	esac
}

if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(cd "$here" && ls fuzz_*.c | sed -e 's/^fuzz_//' -e 's/\.c$//')
fi

build_all() {
	mkdir -p "$build/obj" "$build/bin"
	echo "fuzz: compiling lib/ with $cc"
	rm -f "$build/libmerci-fuzz.a"
	objs=
	for src in "$top"/lib/*.c; do
		obj="$build/obj/$(basename "$src" .c).o"
		# A file a colleague is still writing must not stop the others:
		# a target that needs it fails at link time, with its name.
		if $cc $cflags $san -fsanitize=fuzzer-no-link -c "$src" -o "$obj" \
		    2>"$obj.log"; then
			objs="$objs $obj"
		else
			echo "fuzz: warning: $src does not compile:" >&2
			head -n 20 "$obj.log" >&2
		fi
	done
	ar cr "$build/libmerci-fuzz.a" $objs
	fail=0
	for t in $targets; do
		[ -f "$here/fuzz_$t.c" ] || { echo "fuzz: no target $t" >&2; fail=1; continue; }
		if ! $cc $cflags $san -fsanitize=fuzzer "$here/fuzz_$t.c" \
		    "$build/libmerci-fuzz.a" $dep_libs -o "$build/bin/fuzz_$t"; then
			echo "fuzz: FAIL: cannot build fuzz_$t" >&2
			fail=1
		fi
	done
	return $fail
}

run_one() {
	t=$1
	work="$build/scratch/$t"
	art="$build/crashes/$t"
	log="$build/logs/$t.log"
	seeds="$top/tests/fuzz/corpus/$t"
	mkdir -p "$work" "$art" "$build/logs" "$seeds"
	# Replay the crashes kept so far first: a regression fails at once.
	if [ -d "$top/tests/fuzz/crashes/$t" ] &&
	    [ -n "$(ls "$top/tests/fuzz/crashes/$t")" ]; then
		if ! "$build/bin/fuzz_$t" -runs=0 "$top/tests/fuzz/crashes/$t" \
		    >"$log.replay" 2>&1; then
			echo "fuzz: FAIL: $t: a kept crash input crashes again (see $log.replay)"
			return 1
		fi
	fi
	rc=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$build/bin/fuzz_$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
	    -timeout=20 -print_final_stats=1 -artifact_prefix="$art/" \
	    ${FUZZ_ARGS:-} "$work" "$seeds" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	echo "fuzz: $t: ${took:-?}s, ${execs:-?} execs, ${rate:-?} exec/s, ${cov:-cov: ?}"
	if [ $rc -ne 0 ] || [ -n "$(ls "$art")" ]; then
		echo "fuzz: FAIL: $t: crash (exit $rc); inputs in $art/, log $log"
		grep -m 5 -E 'ERROR|runtime error|check failed|SUMMARY' "$log" || true
		return 1
	fi
	if [ "$merge" = 1 ]; then
		"$build/bin/fuzz_$t" -merge=1 -max_len="$(max_len "$t")" \
		    "$seeds" "$work" >"$log.merge" 2>&1 ||
		    echo "fuzz: warning: $t: merge failed (see $log.merge)"
	fi
	return 0
}

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
	build_all || exit 1
fi
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

status=0
for t in $targets; do
	run_one "$t" || status=1
done
exit $status
