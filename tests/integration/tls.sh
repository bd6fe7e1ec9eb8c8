#!/bin/bash
# TLS and authentication against a real Dovecot on loopback: implicit TLS
# works; an unknown CA, a certificate for another host name and a server
# without STARTTLS are refused before any login; a wrong password fails
# naming the login; an inline password in a world-readable config is refused.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

setup_server() {
	dovecot_init
	"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" \
		--expected "$TEST_DIR/expected.json" || die "mkmailbox.py failed"
	EXPECTED_EXCHANGES=$(json_get "$TEST_DIR/expected.json" counts.exchanges)
	dovecot_start
}

# new_case NAME [KEY=VALUE...]: a fresh directory, config and database.
new_case() {
	CASE=$1
	shift
	mkdir -p "$TEST_DIR/$CASE"
	CONF=$TEST_DIR/$CASE/merci.conf
	dovecot_merci_config "$CONF" "$@"
	LOG_MARK=$(wc -c <"$DOVECOT_LOG")
}

run_once() {
	run_cmd "$CASE" "$MERCID" --config "$CONF" --once
}

# What Dovecot logged since new_case (its log process writes asynchronously).
case_log() {
	sleep 0.3
	tail -c +"$((LOG_MARK + 1))" "$DOVECOT_LOG" >"$TEST_DIR/$CASE.dovecot.log"
	printf '%s\n' "$TEST_DIR/$CASE.dovecot.log"
}

LOGIN_ATTEMPT='user=<camille>|passwd-file\(camille|auth failed'

check_no_login_attempt() {
	check_no_grep "$CASE: Dovecot saw no login attempt" "$LOGIN_ATTEMPT" "$(case_log)"
}

check_no_exchange() {
	local db=$TEST_DIR/$CASE/merci.db n
	if [ ! -e "$db" ]; then
		pass "$CASE: no exchange recorded (no database created)"
		return
	fi
	"$MERCI" --config "$CONF" --json status >"$TEST_DIR/$CASE.status.json" 2>&1 || true
	n=$(json_get "$TEST_DIR/$CASE.status.json" counts.exchanges 2>&1) || true
	check_eq "$CASE: no exchange recorded" 0 "$n"
}

implicit_tls_works() {
	note "imaps:// with the test CA"
	new_case implicit url="imaps://localhost:$DOVECOT_IMAPS_PORT"
	run_once
	check_rc "implicit TLS: mercid --once exits 0" 0
	"$MERCI" --config "$CONF" --json status >"$TEST_DIR/$CASE.status.json" 2>&1 || true
	check_json "implicit TLS: all exchanges recorded" "$TEST_DIR/$CASE.status.json" \
		counts.exchanges "$EXPECTED_EXCHANGES"
}

starttls_works() {
	note "imap:// + STARTTLS with the test CA"
	new_case starttls
	run_once
	check_rc "STARTTLS: mercid --once exits 0" 0
	check_grep "STARTTLS: Dovecot logged a TLS login" 'Login: user=<camille>.*TLS' "$(case_log)"
}

wrong_ca_refused() {
	local mode url
	for mode in starttls imaps; do
		url="imap://localhost:$DOVECOT_IMAP_PORT"
		[ "$mode" = imaps ] && url="imaps://localhost:$DOVECOT_IMAPS_PORT"
		note "$mode, ca_file = an unrelated CA"
		new_case "wrong-ca-$mode" url="$url" ca_file="$DOVECOT_OTHER_CA"
		run_once
		check_rc "$CASE: mercid --once exits 1" 1
		check_grep "$CASE: stderr explains the certificate problem" 'certificate' "$ERR_FILE"
		check_grep "$CASE: stderr names the server" "localhost" "$ERR_FILE"
		check_no_exchange
		check_no_login_attempt
	done
}

wrong_host_refused() {
	note "server certificate for other.example (same CA), reached as localhost"
	dovecot_stop
	DOVECOT_CERT=wronghost
	dovecot_start
	new_case wrong-host
	run_once
	check_rc "$CASE: mercid --once exits 1" 1
	check_grep "$CASE: stderr explains the certificate/host name problem" \
		'certificate|host ?name' "$ERR_FILE"
	check_no_exchange
	check_no_login_attempt
	dovecot_stop
	DOVECOT_CERT=localhost
	dovecot_start
}

wrong_password_fails() {
	note "wrong password"
	new_case wrong-password
	write_password "$TEST_DIR/$CASE/imap.pass" 'not-the-password'
	run_once
	check_rc "$CASE: mercid --once exits 1" 1
	check_grep "$CASE: stderr mentions the login" 'login' "$ERR_FILE"
	check_no_exchange
	# The control case for check_no_login_attempt: here Dovecot did see one.
	check_grep "$CASE: Dovecot saw the failed login" "$LOGIN_ATTEMPT" "$(case_log)"
}

no_starttls_refused() {
	note "server without TLS (ssl = no)"
	dovecot_stop
	DOVECOT_SSL=no
	dovecot_start
	new_case no-starttls
	run_once
	check_rc "$CASE: STARTTLS required, server lacks it: mercid --once exits 1" 1
	check_grep "$CASE: stderr names STARTTLS" 'starttls' "$ERR_FILE"
	check_no_exchange
	check_no_login_attempt
	note "tls = none, on purpose, against the same server"
	new_case plain tls=none ca_file=
	run_once
	check_rc "$CASE: tls = none: mercid --once exits 0" 0
	dovecot_stop
	DOVECOT_SSL=yes
	dovecot_start
}

inline_password_public_config_refused() {
	note "password = ... in a config readable by everyone"
	new_case inline-password password_file= password="$DOVECOT_PASSWORD"
	chmod 0644 "$CONF"
	run_once
	check_rc "$CASE: mercid --once exits 2" 2
	check_grep "$CASE: stderr names the config file" "$CONF" "$ERR_FILE"
	check_no_grep "$CASE: stderr does not print the password" "$DOVECOT_PASSWORD" "$ERR_FILE"
	chmod 0600 "$CONF"
	run_once
	check_rc "$CASE: the same config with mode 0600 is accepted (exit 0)" 0
}

test_init
require_binaries
setup_server
implicit_tls_works
starttls_works
wrong_ca_refused
wrong_host_refused
wrong_password_fails
no_starttls_refused
inline_password_public_config_refused
test_finish
