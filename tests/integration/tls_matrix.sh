#!/bin/bash
# TLS refusal matrix. IMAP: Dovecot on loopback behind tests/lib/fault_proxy.py
# (relaying blindly once TLS starts), reached as "localhost" over STARTTLS and
# implicit TLS, with an expired certificate, a certificate for another host
# name, a CA merci does not know (no ca_file), a self-signed certificate, a
# server that speaks only TLS 1.0, STARTTLS stripped by the proxy and a
# PREAUTH greeting forged by the proxy. Every case must be refused: exit 1,
# a TLS / certificate message naming the server, nothing recorded, no login:
# the proxy sees 0 bytes of LOGIN/AUTHENTICATE in clear and Dovecot logs no
# authentication attempt. SMTP: the same certificate cases through
# tests/tools/smtp_probe against aiosmtpd: each a permanent failure, nothing
# delivered. Two control cases show the observers see a login when one
# happens. Ends with a summary table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"

FIX=$top_srcdir/tests/fixtures/tls
PROXY_PY=$top_srcdir/tests/lib/fault_proxy.py
: "${SMTP_PROBE:=$top_builddir/tests/tools/smtp_probe}"
export RUN_TIMEOUT=60
SUMMARY=()

# ---- Dovecot: fixture certificates and extra configuration ----

# Extra lines appended to the dovecot.conf that dovecot.sh writes (later
# settings win in Dovecot's config).
DOVECOT_EXTRA=
eval "$(declare -f _dovecot_write_config | sed '1s/_dovecot_write_config/_tlsm_base_config/')"
_dovecot_write_config() {
	_tlsm_base_config
	# Log the negotiated protocol with each login / disconnect.
	printf '%s\n' 'login_log_format_elements = user=<%u> method=%m rip=%r lip=%l mpid=%e %c %k session=<%{session}>' \
		"$DOVECOT_EXTRA" >>"$DOVECOT_DIR/dovecot.conf"
}

# Dovecot 2.3.19 has ssl_min_protocol but no ssl_max_protocol: a TLS 1.0-only
# server needs OpenSSL's own configuration, passed through import_environment.
TLS10_EXTRA='ssl_min_protocol = TLSv1
ssl_cipher_list = DEFAULT:@SECLEVEL=0
import_environment = $import_environment OPENSSL_CONF=%OPENSSL_CONF%'

write_openssl_tls10() {
	cat >"$1" <<'EOF'
openssl_conf = merci_tls10
[merci_tls10]
ssl_conf = merci_ssl
[merci_ssl]
system_default = merci_sys
[merci_sys]
MinProtocol = TLSv1
MaxProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
EOF
}

# server_cert NAME [EXTRA]: restart Dovecot with certs/NAME.pem (and EXTRA).
server_cert() {
	dovecot_stop
	DOVECOT_CERT=$1
	DOVECOT_EXTRA=${2:-}
	dovecot_start
}

setup() {
	dovecot_init
	"$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" \
		--expected "$TEST_DIR/expected.json" || die "mkmailbox.py failed"
	local n
	for n in expired selfsigned other; do
		cp "$FIX/$n.pem" "$DOVECOT_DIR/certs/fx-$n.pem"
		cp "$FIX/$n-key.pem" "$DOVECOT_DIR/certs/fx-$n-key.pem"
	done
	chmod 0644 "$DOVECOT_DIR"/certs/*.pem
	write_openssl_tls10 "$DOVECOT_DIR/openssl-tls10.cnf"
	chmod 0644 "$DOVECOT_DIR/openssl-tls10.cnf"
	TLS10_EXTRA=${TLS10_EXTRA//%OPENSSL_CONF%/$DOVECOT_DIR/openssl-tls10.cnf}
	dovecot_start
}

# ---- the proxy ----

proxy_start() { # NAME UPSTREAM-PORT ARGS...
	local name=$1 port=$2 i
	shift 2
	PROXY_LOG=$TEST_DIR/$name.proxy.log
	: >"$PROXY_LOG"
	rm -f "$TEST_DIR/$name.port"
	"$PYTHON" "$PROXY_PY" --upstream-port "$port" --port-file "$TEST_DIR/$name.port" \
		--log "$PROXY_LOG" --faulty 0 --lifetime 120 "$@" 2>"$TEST_DIR/$name.proxy.err" &
	PROXY_PID=$!
	at_exit "kill $PROXY_PID 2>/dev/null; wait $PROXY_PID 2>/dev/null"
	for i in $(seq 1 100); do
		[ -s "$TEST_DIR/$name.port" ] && break
		sleep 0.05
	done
	[ -s "$TEST_DIR/$name.port" ] || die "fault proxy $name did not start"
	PROXY_PORT=$(cat "$TEST_DIR/$name.port")
}

proxy_stop() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

# proxy_logins: "CONNECTIONS LOGIN_CLEAR_BYTES LOGIN_WORD_SEEN" from the log.
proxy_logins() {
	"$PYTHON" - "$PROXY_LOG" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
closes = [e for e in ev if e["event"] == "close"]
print(len([e for e in ev if e["event"] == "open"]), sum(e["login_clear"] for e in closes),
      sum(1 for e in closes if e["login_raw"]))
EOF
}

# ---- IMAP cases ----

# imap_case CASE MODE ERE [KEY=VALUE...] -- [PROXY ARGS...]: through a proxy,
# MODE starttls or imaps; must be refused with stderr matching ERE.
imap_case() {
	local c=$1 mode=$2 ere=$3 up url res logins mark dlog
	shift 3
	local -a conf=() pargs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do conf+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	pargs=("$@")
	up=$DOVECOT_IMAP_PORT
	if [ "$mode" = imaps ]; then
		up=$DOVECOT_IMAPS_PORT
		pargs+=(--implicit-tls)
	fi
	proxy_start "$c-$mode" "$up" ${pargs[@]+"${pargs[@]}"}
	url="imap://localhost:$PROXY_PORT"
	[ "$mode" = imaps ] && url="imaps://localhost:$PROXY_PORT"
	mkdir -p "$TEST_DIR/$c-$mode"
	CONF=$TEST_DIR/$c-$mode/merci.conf
	dovecot_merci_config "$CONF" url="$url" ${conf[@]+"${conf[@]}"}
	mark=$(wc -c <"$DOVECOT_LOG")
	run_cmd "$c-$mode" "$MERCID" --config "$CONF" --once
	sleep 0.3 # Dovecot's log process and the proxy's close event
	proxy_stop
	dlog=$TEST_DIR/$c-$mode.dovecot.log
	tail -c +"$((mark + 1))" "$DOVECOT_LOG" >"$dlog"
	logins=$(proxy_logins)
	res=refused
	check_rc "imap $c ($mode): mercid --once exits 1" 1
	[ "$RC" = 1 ] || res="NOT REFUSED (exit $RC)"
	# Paths (which hold the case's name) must not satisfy the checks.
	sed "s|$TEST_DIR[^ ]*|PATH|g" "$ERR_FILE" >"$ERR_FILE.text"
	check_grep "imap $c ($mode): stderr explains it" "$ere" "$ERR_FILE.text"
	check_grep "imap $c ($mode): stderr names the server" 'localhost' "$ERR_FILE.text"
	check_eq "imap $c ($mode): proxy: connections, LOGIN/AUTHENTICATE bytes in clear, connections with the word" \
		"1 0 0" "$logins"
	[ "${logins#* }" = "0 0" ] || res="LOGIN SEEN"
	check_no_grep "imap $c ($mode): Dovecot saw no authentication attempt" \
		'Login: user=<camille>|passwd-file\(camille|auth failed|user=<camille>' "$dlog"
	grep -qiE 'user=<camille>' "$dlog" && res="LOGIN SEEN"
	if [ -e "$TEST_DIR/$c-$mode/merci.db" ]; then
		"$MERCI" --config "$CONF" --json status >"$TEST_DIR/$c-$mode.status.json" 2>&1 || true
		check_json "imap $c ($mode): nothing recorded" "$TEST_DIR/$c-$mode.status.json" counts.exchanges 0
	fi
	IMAP_RESULT[$mode]=$res
}

declare -A IMAP_RESULT

imap_cases() {
	local c

	note "control: a good certificate through the proxy is accepted, and the observers see the login"
	IMAP_RESULT=([starttls]=- [imaps]=-)
	proxy_start control-tls "$DOVECOT_IMAP_PORT"
	mkdir -p "$TEST_DIR/control-tls"
	dovecot_merci_config "$TEST_DIR/control-tls/merci.conf" url="imap://localhost:$PROXY_PORT"
	run_cmd control-tls "$MERCID" --config "$TEST_DIR/control-tls/merci.conf" --once
	sleep 0.3
	proxy_stop
	check_rc "control (STARTTLS, test CA): mercid --once exits 0" 0
	check_grep "control: Dovecot logged the login over TLS 1.2 or later" \
		'Login: user=<camille>.*TLSv1\.[23]' "$DOVECOT_LOG"
	proxy_start control-plain "$DOVECOT_IMAP_PORT"
	mkdir -p "$TEST_DIR/control-plain"
	dovecot_merci_config "$TEST_DIR/control-plain/merci.conf" url="imap://localhost:$PROXY_PORT" \
		tls=none ca_file=
	run_cmd control-plain "$MERCID" --config "$TEST_DIR/control-plain/merci.conf" --once
	sleep 0.3
	check_rc "control (tls = none): mercid --once exits 0" 0
	local l
	l=$(proxy_logins)
	if [ "${l#* }" != "0 0" ] && [ "${l% *}" != "1 0" ]; then
		pass "control (tls = none): the proxy sees the login in clear (connections, bytes, flagged: $l)"
	else
		fail "control (tls = none): the proxy sees the login in clear" "got: $l"
	fi
	proxy_stop

	c=expired
	note "$c: certificate expired in 2001 (test fixture CA)"
	server_cert fx-expired
	for m in starttls imaps; do
		imap_case $c $m 'expired|certificate' ca_file="$FIX/ca.pem"
	done
	SUMMARY+=("$c|${IMAP_RESULT[starttls]}|${IMAP_RESULT[imaps]}")

	c=wrong-host
	note "$c: certificate for other.example, reached as localhost"
	server_cert wronghost
	for m in starttls imaps; do
		imap_case $c $m 'host ?name|other\.example|certificate'
	done
	SUMMARY+=("$c|${IMAP_RESULT[starttls]}|${IMAP_RESULT[imaps]}")

	c=unknown-ca
	note "$c: certificate from the test CA, no ca_file (system trust only)"
	server_cert localhost
	for m in starttls imaps; do
		imap_case $c $m 'certificate|trust|issuer' ca_file=
	done
	SUMMARY+=("$c|${IMAP_RESULT[starttls]}|${IMAP_RESULT[imaps]}")

	c=self-signed
	note "$c: self-signed localhost certificate (ca_file = the test CA)"
	server_cert fx-selfsigned
	for m in starttls imaps; do
		imap_case $c $m 'self-signed|certificate|trust' ca_file="$FIX/ca.pem"
	done
	SUMMARY+=("$c|${IMAP_RESULT[starttls]}|${IMAP_RESULT[imaps]}")

	c=tls1.0-only
	note "$c: the server speaks TLS 1.0 and nothing newer (valid certificate)"
	server_cert localhost "$TLS10_EXTRA"
	for m in starttls imaps; do
		imap_case $c $m 'TLS ?1\.0|TLSv1([^.]|$)|protocol|version'
	done
	grep -E 'Login: user=<camille>' "$DOVECOT_LOG" | grep -E ' TLSv1 ' | head -n 2 |
		sed 's/^/    dovecot: /' || true
	SUMMARY+=("$c|${IMAP_RESULT[starttls]}|${IMAP_RESULT[imaps]}")
	server_cert localhost

	c=starttls-stripped
	note "$c: the proxy removes STARTTLS from CAPABILITY and refuses the command"
	IMAP_RESULT[imaps]=n/a
	imap_case $c starttls 'starttls' -- --strip-starttls
	check_grep "$c: the proxy did strip STARTTLS" '"fault": "strip-starttls"' "$PROXY_LOG"
	SUMMARY+=("$c|${IMAP_RESULT[starttls]}|${IMAP_RESULT[imaps]}")

	c=preauth
	note "$c: the proxy turns the greeting into * PREAUTH"
	IMAP_RESULT[imaps]=n/a
	imap_case $c starttls 'preauth' -- --preauth
	check_grep "$c: the proxy did forge PREAUTH" '"fault": "preauth"' "$PROXY_LOG"
	SUMMARY+=("$c|${IMAP_RESULT[starttls]}|${IMAP_RESULT[imaps]}")
}

# ---- SMTP cases ----


write_smtp_server() {
	SMTP_PY=$TEST_DIR/smtp_tls_server.py
	cat >"$SMTP_PY" <<'EOF'
# A STARTTLS-required aiosmtpd on 127.0.0.1 with a given certificate and
# highest TLS version; delivers into a Maildir. Args: port cert key maildir maxver
import signal, ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
port, cert, key, md, maxver = sys.argv[1:6]
kw = {}
if cert != "-":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if maxver == "1.0":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
    kw = dict(tls_context=ctx, require_starttls=True)
c = Controller(Mailbox(md), hostname="127.0.0.1", port=int(port), **kw)
c.start()
signal.signal(signal.SIGTERM, lambda *_: (c.stop(), sys.exit(0)))
time.sleep(120)
c.stop()
EOF
}

delivered() { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '; }

# smtp_case CASE CERT KEY MAXVER ERE [CONF LINES...]: must be refused
# (ERE "" for the control case: must be sent). Sets SMTP_RESULT, SMTP_RES.
smtp_case() {
	local c=$1 cert=$2 key=$3 maxver=$4 ere=$5 port pid res
	shift 5
	port=$(free_port)
	"$PYTHON" "$SMTP_PY" "$port" "$cert" "$key" "$TEST_DIR/smtp-$c.md" "$maxver" \
		>"$TEST_DIR/smtp-$c.server.log" 2>&1 &
	pid=$!
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_port "$port" 15 || die "smtp server for $c did not start: $(cat "$TEST_DIR/smtp-$c.server.log")"
	{
		printf '[general]\ndatabase = %s/smtp.db\nowner = Camille Roy <camille@example.org>\n\n' "$TEST_DIR"
		printf '[account test]\nurl = imap://127.0.0.1:1/\ntls = none\nuser = camille\n'
		printf 'password_file = %s/smtp-unused.pass\n\n[smtp]\n' "$TEST_DIR"
		printf 'url = smtp://localhost:%s\ntimeout = 10s\n' "$port"
		printf '%s\n' "$@"
	} >"$TEST_DIR/smtp-$c.conf"
	chmod 0600 "$TEST_DIR/smtp-$c.conf"
	run_cmd "smtp-$c" "$SMTP_PROBE" "$TEST_DIR/smtp-$c.conf" camille@example.org \
		camille@example.org "$TEST_DIR/nudge.eml"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	res=$(sed -n 's/^result=\([a-z]*\) .*/\1/p' "$OUT_FILE")
	SMTP_RES=$res
	[ -n "$ere" ] || return 0
	check_eq "smtp $c: permanent failure" permfail "$res"
	check_grep "smtp $c: the error explains it" "$ere" "$OUT_FILE"
	check_grep "smtp $c: the error names the server" 'localhost' "$OUT_FILE"
	check_eq "smtp $c: nothing delivered" 0 "$(delivered "$TEST_DIR/smtp-$c.md")"
	if [ "$res" = permfail ] && [ "$(delivered "$TEST_DIR/smtp-$c.md")" = 0 ]; then
		SMTP_RESULT=refused
	else
		SMTP_RESULT="NOT REFUSED ($res, $(delivered "$TEST_DIR/smtp-$c.md") delivered)"
	fi
}

smtp_cases() {
	local i c
	[ -x "$SMTP_PROBE" ] || die "smtp_probe not built: expected an executable at $SMTP_PROBE"
	write_smtp_server
	write_password "$TEST_DIR/smtp-unused.pass" unused
	run_cmd render "$SMTP_PROBE" --render "$TEST_DIR/nudge.eml" camille@example.org camille@example.org
	[ "$RC" = 0 ] || die "smtp_probe --render failed"
	local d=$DOVECOT_DIR/certs
	note "smtp control: a valid certificate is accepted"
	smtp_case control "$d/localhost.pem" "$d/localhost-key.pem" 1.3 '' "ca_file = $DOVECOT_CA"
	if [ "$SMTP_RES" = sent ] && [ "$(delivered "$TEST_DIR/smtp-control.md")" = 1 ]; then
		pass "smtp control: sent, one message delivered"
	else
		fail "smtp control: sent, one message delivered" "got: $(cat "$OUT_FILE")"
	fi
	for i in "${!SUMMARY[@]}"; do
		c=${SUMMARY[$i]%%|*}
		case $c in
		expired) smtp_case $c "$FIX/expired.pem" "$FIX/expired-key.pem" 1.3 'expired|certificate' \
			"ca_file = $FIX/ca.pem" ;;
		wrong-host) smtp_case $c "$FIX/other.pem" "$FIX/other-key.pem" 1.3 \
			'host ?name|other\.example|certificate' "ca_file = $FIX/ca.pem" ;;
		unknown-ca) smtp_case $c "$FIX/localhost.pem" "$FIX/localhost-key.pem" 1.3 \
			'certificate|trust|issuer' ;;
		self-signed) smtp_case $c "$FIX/selfsigned.pem" "$FIX/selfsigned-key.pem" 1.3 \
			'self-signed|certificate|trust' "ca_file = $FIX/ca.pem" ;;
		tls1.0-only) smtp_case $c "$FIX/localhost.pem" "$FIX/localhost-key.pem" 1.0 \
			'TLS|protocol|version|handshake' "ca_file = $FIX/ca.pem" ;;
		starttls-stripped) smtp_case $c - - - 'STARTTLS' ;;
		*) SMTP_RESULT=n/a ;;
		esac
		SUMMARY[$i]="${SUMMARY[$i]}|$SMTP_RESULT"
	done
}

print_summary() {
	local row
	printf '\n%-18s | %-22s | %-22s | %s\n' case "IMAP STARTTLS" "IMAP imaps" "SMTP STARTTLS"
	printf '%s\n' '-------------------+------------------------+------------------------+-----------------------'
	for row in "${SUMMARY[@]}"; do
		IFS='|' read -r a b c d <<<"$row"
		printf '%-18s | %-22s | %-22s | %s\n' "$a" "$b" "$c" "$d"
	done
	printf '\n'
}

test_init
require_binaries
setup
imap_cases
smtp_cases
print_summary
test_finish
