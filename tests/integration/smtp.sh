#!/bin/bash
# smtp.sh: merci's nudges reach the owner's SMTP server through smtp_send
# (libcurl), against aiosmtpd on loopback: plain, STARTTLS, implicit TLS,
# AUTH, and every way a send can fail, each classified the way the outbox
# needs it (sent / tempfail to retry / permfail for the owner to fix) with
# a message that says what to do. Nothing is delivered when it should not.
set -eu
. "$(dirname "$0")/../lib/common.sh"
test_init

: "${SMTP_PROBE:=$top_builddir/tests/tools/smtp_probe}"
[ -x "$SMTP_PROBE" ] || die "smtp_probe not built: expected an executable at $SMTP_PROBE"
SERVER_PY=$top_srcdir/tests/lib/smtp_server.py
OWNER=camille@example.org
T=$TEST_DIR

# ---- certificates: a test CA, a localhost leaf it signs, an unrelated CA ----

openssl_ca() {	# name cn
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/$1-key.pem" -out "$T/$1.pem" -days 3650 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
openssl_ca ca "merci smtp test CA" || die "openssl could not make the test CA"
openssl_ca other-ca "merci unrelated CA" || die "openssl could not make the second CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/localhost-key.pem" -out "$T/localhost.csr" -subj "/CN=localhost" \
	2>/dev/null || die "openssl could not make the server key"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/leaf.ext"
openssl x509 -req -in "$T/localhost.csr" -CA "$T/ca.pem" -CAkey "$T/ca-key.pem" \
	-CAcreateserial -days 3650 -extfile "$T/leaf.ext" -out "$T/localhost.pem" \
	2>/dev/null || die "openssl could not sign the server certificate"

# ---- servers ----

# start_server NAME PORT COMMAND...: run it in the background until exit.
start_server() {
	local name=$1 port=$2
	shift 2
	"$@" >"$T/$name.server.log" 2>&1 &
	eval "PID_$name=$!"
	at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	wait_port "$port" 15 || { show_file "$name server" "$T/$name.server.log"; die "$name server did not start"; }
}

aiosmtpd_start() {	# name port maildir [aiosmtpd options...]
	local name=$1 port=$2 md=$3
	shift 3
	start_server "$name" "$port" "$PYTHON" -m aiosmtpd -n -l "127.0.0.1:$port" "$@" \
		-c aiosmtpd.handlers.Mailbox "$md"
}

scripted_start() {	# name port maildir [smtp_server.py options...]
	local name=$1 port=$2 md=$3
	shift 3
	start_server "$name" "$port" "$PYTHON" "$SERVER_PY" --port "$port" --maildir "$md" "$@"
}

delivered() {	# maildir: how many messages it holds
	find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}

# ---- configs ----

printf 'unused\n' >"$T/imap.pass"
chmod 0600 "$T/imap.pass"

# write_conf FILE SMTP-LINES...: a valid merci.conf whose [smtp] holds the lines.
write_conf() {
	local f=$1
	shift
	{
		printf '[general]\ndatabase = %s/merci.db\nowner = Camille Roy <%s>\n\n' "$T" "$OWNER"
		printf '[account test]\nurl = imap://127.0.0.1:1/\ntls = none\nuser = camille\n'
		printf 'password_file = %s/imap.pass\n\n[smtp]\n' "$T"
		printf '%s\n' "$@"
		printf 'timeout = 10s\n'
	} >"$f"
}

# probe NAME CONF [FROM RCPT]: send the rendered nudge; result in RESULT, CODE, ERROR.
probe() {
	run_cmd "$1" "$SMTP_PROBE" "$2" "${3:-$OWNER}" "${4:-$OWNER}" "$T/nudge.eml"
	if [ "$RC" != 0 ]; then
		show_file stderr "$ERR_FILE"
		die "smtp_probe $1 exited $RC"
	fi
	RESULT=$(sed -n 's/^result=\([a-z]*\) .*/\1/p' "$OUT_FILE")
	CODE=$(sed -n 's/^result=[a-z]* code=\([0-9]*\) .*/\1/p' "$OUT_FILE")
	ERROR=$(sed -n 's/^result=[a-z]* code=[0-9]* error=//p' "$OUT_FILE")
	[ "$(wc -l <"$OUT_FILE")" = 1 ] || fail "$1: smtp_probe prints exactly one line" "$(cat "$OUT_FILE")"
}

run_cmd render "$SMTP_PROBE" --render "$T/nudge.eml" "$OWNER" "$OWNER"
[ "$RC" = 0 ] || { show_file stderr "$ERR_FILE"; die "rendering the nudge failed"; }

# ---- 1. plain delivery (tls = none) ----

P_PLAIN=$(free_port)
aiosmtpd_start plain "$P_PLAIN" "$T/md-plain"
write_conf "$T/plain.conf" "url = smtp://127.0.0.1:$P_PLAIN" "tls = none"
probe plain "$T/plain.conf"
check_eq "plain: sent" "sent" "$RESULT"
check_eq "plain: last reply 250" "250" "$CODE"
check_eq "plain: no error text" "" "$ERROR"
check_eq "plain: exactly one message delivered" 1 "$(delivered "$T/md-plain")"

# The delivered message is the rendered one: same header lines in the same
# order (aiosmtpd adds only its X-Peer/X-MailFrom/X-RcptTo), same body, and
# the subject decodes back with Python's own RFC 2047 decoder.
py_checks - "$T/nudge.eml" "$T/md-plain" <<'EOF'
import email, email.header, os, sys
rendered_path, md = sys.argv[1], sys.argv[2]
def ok(m): print("ok   - " + m)
def fail(m, *d):
    print("FAIL - " + m)
    for x in d: print("    " + x)
def split(raw):
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    return fields, body
rendered = open(rendered_path, "rb").read()
files = [os.path.join(md, d, f) for d in ("new", "cur") for f in os.listdir(os.path.join(md, d))]
got = open(files[0], "rb").read()
rf, rb = split(rendered)
gf, gb = split(got)
added = (b"x-peer:", b"x-mailfrom:", b"x-rcptto:")
gf = [f for f in gf if not f.lower().startswith(added)]
if gf == rf:
    ok("delivered headers equal the rendered ones (%d fields)" % len(rf))
else:
    fail("delivered headers equal the rendered ones",
         *["rendered: %r" % f for f in rf], *["got:      %r" % f for f in gf])
if gb == rb:
    ok("delivered body equals the rendered one")
else:
    fail("delivered body equals the rendered one", "rendered: %r" % rb[:200], "got: %r" % gb[:200])
msg = email.message_from_bytes(got)
subj = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
want = "Remercier Amélie Tremblay pour la mise en relation"
if subj == want:
    ok("subject decodes to %r" % subj)
else:
    fail("subject decodes back", "expected: %r" % want, "got:      %r" % subj)
text = msg.get_payload(decode=True).decode("utf-8")
if "Amélie Tremblay vous a présenté Jean Dupont" in text and "\n.\n" in text.replace("\r\n", "\n") \
        and "= fin   \n" in text.replace("\r\n", "\n"):
    ok("body decodes to the French text, lone dot line and trailing spaces kept")
else:
    fail("body decodes to the French text", "got: %r" % text)
for h, v in (("Auto-Submitted", "auto-generated"), ("Content-Language", "fr"),
             ("X-Merci-Nudge", "thank-you 42"), ("Message-ID", "<merci.00112233445566778899aabbccddeeff@example.org>")):
    if msg[h] == v:
        ok("%s: %s" % (h, v))
    else:
        fail(h, "expected: %r" % v, "got:      %r" % msg[h])
EOF

# ---- 2. STARTTLS required, but the server offers none ----

write_conf "$T/notls.conf" "url = smtp://127.0.0.1:$P_PLAIN"
probe notls "$T/notls.conf"
check_eq "no STARTTLS: permanent failure" "permfail" "$RESULT"
check_grep "no STARTTLS: says STARTTLS is missing and how to fix it" \
	"^result=permfail .*error=127\.0\.0\.1:$P_PLAIN: STARTTLS not offered; use smtps:// or tls = none" "$OUT_FILE"
check_eq "no STARTTLS: nothing more delivered" 1 "$(delivered "$T/md-plain")"

# ---- 3. envelope injection is refused before any connection ----

probe inject "$T/plain.conf" "$OWNER" $'camille@example.org>\r\nRCPT TO:<thief@example.net'
check_eq "CR/LF in the recipient: permanent failure" "permfail" "$RESULT"
check_grep "CR/LF in the recipient: says the address is invalid" "invalid envelope address" "$OUT_FILE"
check_eq "CR/LF in the recipient: nothing more delivered" 1 "$(delivered "$T/md-plain")"

# ---- 4. STARTTLS with the test CA ----

P_TLS=$(free_port)
aiosmtpd_start tls "$P_TLS" "$T/md-tls" --tlscert "$T/localhost.pem" --tlskey "$T/localhost-key.pem"
write_conf "$T/tls.conf" "url = smtp://localhost:$P_TLS" "ca_file = $T/ca.pem"
probe tls "$T/tls.conf"
check_eq "STARTTLS with the test CA: sent" "sent" "$RESULT"
check_eq "STARTTLS with the test CA: one message delivered" 1 "$(delivered "$T/md-tls")"

# ---- 5. STARTTLS, certificate from a CA we do not trust ----

write_conf "$T/wrongca.conf" "url = smtp://localhost:$P_TLS" "ca_file = $T/other-ca.pem"
probe wrongca "$T/wrongca.conf"
check_eq "untrusted certificate: permanent failure" "permfail" "$RESULT"
check_grep "untrusted certificate: says so and how to fix it" \
	"error=localhost:$P_TLS: certificate not trusted; set ca_file or fix the server's chain" "$OUT_FILE"
check_eq "untrusted certificate: nothing more delivered" 1 "$(delivered "$T/md-tls")"

# ---- 6. implicit TLS (smtps://) ----

P_SMTPS=$(free_port)
start_server smtps "$P_SMTPS" "$PYTHON" -m aiosmtpd -n -l "127.0.0.1:$P_SMTPS" \
	--smtpscert "$T/localhost.pem" --smtpskey "$T/localhost-key.pem" \
	-c aiosmtpd.handlers.Mailbox "$T/md-smtps"
write_conf "$T/smtps.conf" "url = smtps://localhost:$P_SMTPS" "ca_file = $T/ca.pem"
probe smtps "$T/smtps.conf"
check_eq "smtps with the test CA: sent" "sent" "$RESULT"
check_eq "smtps with the test CA: one message delivered" 1 "$(delivered "$T/md-smtps")"

# ---- 7. nobody listening ----

P_DOWN=$(free_port)
write_conf "$T/down.conf" "url = smtp://127.0.0.1:$P_DOWN" "tls = none"
probe down "$T/down.conf"
check_eq "server down: temporary failure" "tempfail" "$RESULT"
check_eq "server down: no reply code" "0" "$CODE"
check_grep "server down: names the server and says it will retry" \
	"error=127\.0\.0\.1:$P_DOWN: connection refused.*try again later" "$OUT_FILE"

# ---- 8. refusals and deferrals at RCPT and DATA ----

refusal_case() {	# name stage reply want-result want-code
	local port md=$T/md-$1
	port=$(free_port)
	scripted_start "$1" "$port" "$md" "--$2" "$3"
	write_conf "$T/$1.conf" "url = smtp://127.0.0.1:$port" "tls = none"
	probe "$1" "$T/$1.conf"
	check_eq "$2 answered ${3%% *}: $4" "$4" "$RESULT"
	check_eq "$2 answered ${3%% *}: code" "$5" "$CODE"
	check_grep "$2 answered ${3%% *}: quotes the server's reply" "error=127\.0\.0\.1:$port: .*\\($3\\)" "$OUT_FILE"
	check_eq "$2 answered ${3%% *}: nothing delivered" 0 "$(delivered "$md")"
}
refusal_case rcpt550 rcpt "550 5.1.1 No such user here" permfail 550
refusal_case data550 data "550 5.7.1 Message rejected as spam" permfail 550
refusal_case rcpt451 rcpt "451 4.3.0 Greylisted, try again later" tempfail 451
refusal_case data451 data "451 4.3.2 System not accepting messages" tempfail 451
check_grep "a 550 tells the owner what to check" "server refused the message \\(550 5\\.1\\.1" "$T/rcpt550.out"

# ---- 9. AUTH over STARTTLS ----

P_AUTH=$(free_port)
scripted_start auth "$P_AUTH" "$T/md-auth" --tlscert "$T/localhost.pem" \
	--tlskey "$T/localhost-key.pem" --auth "camille:Pa55 w0rd!"
write_password "$T/right.pass" "Pa55 w0rd!"
write_password "$T/wrong.pass" "hunter2-wrong"
write_conf "$T/auth-ok.conf" "url = smtp://localhost:$P_AUTH" "ca_file = $T/ca.pem" \
	"user = camille" "password_file = $T/right.pass"
write_conf "$T/auth-bad.conf" "url = smtp://localhost:$P_AUTH" "ca_file = $T/ca.pem" \
	"user = camille" "password_file = $T/wrong.pass"
write_conf "$T/auth-none.conf" "url = smtp://localhost:$P_AUTH" "ca_file = $T/ca.pem"

probe auth-ok "$T/auth-ok.conf"
check_eq "AUTH with the right password: sent" "sent" "$RESULT"
check_eq "AUTH with the right password: one message delivered" 1 "$(delivered "$T/md-auth")"

probe auth-bad "$T/auth-bad.conf"
check_eq "AUTH with a wrong password: permanent failure" "permfail" "$RESULT"
check_grep "AUTH with a wrong password: says login refused and what to check" \
	"error=localhost:$P_AUTH: login refused.*; check user and the password source" "$OUT_FILE"
check_no_grep "AUTH with a wrong password: the password is not in the message" "hunter2" "$OUT_FILE"
check_no_grep "AUTH with a wrong password: nor on stderr" "hunter2" "$ERR_FILE"
check_eq "AUTH with a wrong password: nothing more delivered" 1 "$(delivered "$T/md-auth")"

probe auth-none "$T/auth-none.conf"
check_eq "no user configured, server requires AUTH: permanent failure" "permfail" "$RESULT"
check_grep "no user configured, server requires AUTH: says to configure a login" \
	"error=localhost:$P_AUTH: server requires a login \\(530 .*\\); set user and a password source" "$OUT_FILE"
check_eq "no user configured, server requires AUTH: nothing more delivered" 1 "$(delivered "$T/md-auth")"

test_finish
