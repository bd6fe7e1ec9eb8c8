#!/bin/bash
# init.sh: "merci init" and "merci config check --connect" against a
# throw-away Dovecot (STARTTLS and imaps, its own CA) and aiosmtpd (STARTTLS
# and AUTH): the written file and password files are private, the password
# shows nowhere, the probe names INBOX, the \Sent folder and the TLS mode;
# a wrong password or CA fails with exit 1 and says which; an existing file
# is never replaced without --force; on a terminal, the questions.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/dovecot.sh"
test_init
require_binaries
T=$TEST_DIR
# Nothing of the machine's own set-up may leak in, nor anything out.
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_STATE_HOME=$T/home/.state
unset MERCI_CONFIG CONFIGURATION_DIRECTORY CREDENTIALS_DIRECTORY
mkdir -p "$HOME"
SMTP_PASSWORD='smtp-Canari-4242'

# ---- servers ----

dovecot_init
for f in inbox1 inbox2 sent1; do
	printf 'From: Alix <alix@example.net>\r\nTo: camille@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.net>\r\nDate: Mon, 3 Nov 2025 10:00:00 +0100\r\n\r\nBonjour\r\n' \
		"$f" "$f" >"$T/$f.eml"
done
dovecot_deliver INBOX "$T/inbox1.eml" "$T/inbox2.eml"
dovecot_deliver Sent "$T/sent1.eml"
dovecot_start

SMTP_PORT=$(free_port)
"$PYTHON" "$top_srcdir/tests/lib/smtp_server.py" --port "$SMTP_PORT" --maildir "$T/smtp-md" \
	--tlscert "$DOVECOT_DIR/certs/localhost.pem" --tlskey "$DOVECOT_DIR/certs/localhost-key.pem" \
	--auth "camille:$SMTP_PASSWORD" >"$T/smtp.log" 2>&1 &
SMTP_PID=$!
at_exit "kill $SMTP_PID 2>/dev/null; wait $SMTP_PID 2>/dev/null"
wait_port "$SMTP_PORT" 15 || { show_file smtp "$T/smtp.log"; die "aiosmtpd did not start"; }

mode_of() { stat -c %a "$1"; }

# ---- 1. init with flags, passwords on stdin ----

C=$T/conf/merci.conf
init_flags=(--owner 'Camille Roy <camille@example.org>' --language fr
	--imap-url "imap://localhost:$DOVECOT_IMAP_PORT" --imap-user "$DOVECOT_USER"
	--imap-password-stdin --smtp-url "smtp://localhost:$SMTP_PORT" --smtp-user camille
	--smtp-password-stdin --ca-file "$DOVECOT_CA")
RC=0
printf '%s\n%s\n' "$DOVECOT_PASSWORD" "$SMTP_PASSWORD" |
	timeout 60 "$MERCI" init --config "$C" "${init_flags[@]}" >"$T/init.out" 2>"$T/init.err" || RC=$?
OUT_FILE=$T/init.out ERR_FILE=$T/init.err
check_rc "init: flags and passwords on stdin" 0
check_eq "init: config mode" 600 "$(mode_of "$C" 2>&1)"
check_eq "init: imap.pass mode" 600 "$(mode_of "$T/conf/imap.pass" 2>&1)"
check_eq "init: smtp.pass mode" 600 "$(mode_of "$T/conf/smtp.pass" 2>&1)"
check_eq "init: imap.pass holds the password" "$DOVECOT_PASSWORD" "$(cat "$T/conf/imap.pass")"
check_grep "init: config points at imap.pass" "^password_file = $T/conf/imap.pass\$" "$C"
check_grep "init: config points at smtp.pass" "^password_file = $T/conf/smtp.pass\$" "$C"
check_grep "init: every key has its comment" '^; The IMAP login name' "$C"
for pw in "$DOVECOT_PASSWORD" "$SMTP_PASSWORD"; do
	check_no_grep "init: a password is not in the config" "$pw" "$C"
	check_no_grep "init: a password is not in the output" "$pw" "$T/init.out"
	check_no_grep "init: a password is not in the errors" "$pw" "$T/init.err"
done
check_grep "init: probe names INBOX with its count" 'INBOX \(2 messages\)' "$T/init.out"
check_grep "init: probe names Sent as \\Sent special-use" 'Sent \(\\Sent special-use, 1 message\)' "$T/init.out"
check_grep "init: probe names the TLS mode" 'TLS: STARTTLS, certificate verified' "$T/init.out"
check_grep "init: probe shows the certificate" 'certificate: CN=localhost, issued by CN=merci test CA, expires 20' "$T/init.out"
check_grep "init: probe shows capabilities of note" 'capabilities: .*IDLE' "$T/init.out"
check_grep "init: SMTP certificate shown" '^  certificate: CN=localhost, issued by CN=merci test CA, expires 20[0-9]{2}-[0-9]{2}-[0-9]{2}$' \
	<(sed -n '/^\[smtp\]/,$p' "$T/init.out")
check_grep "init: SMTP login checked" 'login: ok as camille' "$T/init.out"
check_grep "init: next step" 'mercid --once --config' "$T/init.out"
check_eq "init: no mail sent by the probe" 0 "$(find "$T/smtp-md" -type f 2>/dev/null | wc -l | tr -d ' ')"

run_cmd check "$MERCI" --config "$C" config check
check_rc "config check: the written file loads" 0
run_cmd connect "$MERCI" --config "$C" config check --connect
check_rc "config check --connect: everything passes" 0
check_eq "config check --connect: two blocks end with ok" 2 "$(grep -c '^  ok$' "$OUT_FILE")"

# ---- 2. wrong password, wrong CA ----

cp "$T/conf/imap.pass" "$T/imap.pass.good"
write_password "$T/conf/imap.pass" 'not-the-password'
run_cmd badpass "$MERCI" --config "$C" config check --connect
check_rc "wrong IMAP password: exit 1" 1
check_grep "wrong IMAP password: names the login" 'failed: .*login refused for user camille' "$OUT_FILE"
check_grep "wrong IMAP password: SMTP still checked" '^\[smtp\]' "$OUT_FILE"
cp "$T/imap.pass.good" "$T/conf/imap.pass"

write_password "$T/conf/smtp.pass" 'not-the-password'
run_cmd badsmtp "$MERCI" --config "$C" config check --connect
check_rc "wrong SMTP password: exit 1" 1
check_grep "wrong SMTP password: names the login" 'failed: .*login refused' "$OUT_FILE"
write_password "$T/conf/smtp.pass" "$SMTP_PASSWORD"

sed -e "s|^ca_file = .*|ca_file = $DOVECOT_OTHER_CA|" "$C" >"$T/otherca.conf"
chmod 600 "$T/otherca.conf"
run_cmd badca "$MERCI" --config "$T/otherca.conf" config check --connect
check_rc "wrong CA: exit 1" 1
check_grep "wrong CA: IMAP names the certificate" 'failed: localhost:[0-9]+: certificate' "$OUT_FILE"
check_grep "wrong CA: SMTP names the certificate" 'failed: localhost:[0-9]+: certificate' \
	<(sed -n '/^\[smtp\]/,$p' "$OUT_FILE")

printf '[general]\nowner = x@example.org\nbogus = 1\n' >"$T/bad.conf"
run_cmd badconf "$MERCI" --config "$T/bad.conf" config check --connect
check_rc "invalid file: exit 2 before any connection" 2
check_grep "invalid file: FILE:LINE" 'bad.conf:3:' "$ERR_FILE"

# ---- 3. never overwrite without --force ----

sum_before=$(sha256sum "$C")
run_cmd again "$MERCI" init --config "$C" "${init_flags[@]}" </dev/null
check_rc "init on an existing file: refused" 2
check_grep "init on an existing file: says --force" 'already exists.*--force' "$ERR_FILE"
check_eq "init on an existing file: file untouched" "$sum_before" "$(sha256sum "$C")"

# Implicit TLS, a password file the user already has, no SMTP, --force.
RC=0
timeout 60 "$MERCI" init --config "$C" --force --owner camille@example.org \
	--imap-url "imaps://localhost:$DOVECOT_IMAPS_PORT" --imap-user camille \
	--imap-password-file "$T/imap.pass.good" --ca-file "$DOVECOT_CA" \
	</dev/null >"$T/force.out" 2>"$T/force.err" || RC=$?
OUT_FILE=$T/force.out ERR_FILE=$T/force.err
check_rc "init --force with imaps:// and a password file" 0
check_grep "init --force: implicit TLS" 'TLS: implicit TLS, certificate verified' "$OUT_FILE"
check_grep "init --force: the given file is referenced" "^password_file = $T/imap.pass.good\$" "$C"
check_eq "init --force: still mode 600" 600 "$(mode_of "$C")"

run_cmd missing "$MERCI" init --config "$T/none/merci.conf" --owner camille@example.org </dev/null
check_rc "init without a terminal and without --imap-url: usage error" 2
check_grep "init: names the missing flag" "imap-url is required" "$ERR_FILE"
check_eq "init: nothing written when refused" no "$([ -e "$T/none/merci.conf" ] && echo yes || echo no)"

# ---- 4. on a terminal, in French ----

cat >"$T/drive_tty.py" <<'PYEOF'
import os, pty, select, sys, time
merci, conf, port, user, password, transcript, ca = sys.argv[1:8]
pid, fd = pty.fork()
if pid == 0:
    os.environ["LANG"] = "fr_FR.UTF-8"
    # The CA is not asked for: a flag, and the rest by questions.
    os.execv(merci, [merci, "init", "--config", conf, "--ca-file", ca])
seen = b""
def give_up(why):
    open(transcript, "wb").write(seen)
    raise SystemExit(why)
def until(word, limit=30):
    global seen
    end = time.time() + limit
    while word.encode() not in seen:
        if time.time() > end:
            give_up("timed out waiting for %r; got %r" % (word, seen[-400:]))
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                give_up("merci init ended before %r; got %r" % (word, seen[-400:]))
            seen += data
def say(text):
    os.write(fd, text.encode() + b"\r")
until("Votre nom"); say("Camille Roy <camille@example.org>")
until("Langue"); say("")
until("Serveur IMAP"); say("imap://localhost:%s" % port)
until("Identifiant IMAP"); say(user)
until("Mot de passe IMAP"); time.sleep(0.2); say(password)
until("Serveur SMTP"); say("")
until("mercid --once", 60)
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
_, status = os.waitpid(pid, 0)
open(transcript, "wb").write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
PYEOF
run_cmd pty "$PYTHON" "$T/drive_tty.py" "$MERCI" "$T/tty/merci.conf" "$DOVECOT_IMAP_PORT" \
	"$DOVECOT_USER" "$DOVECOT_PASSWORD" "$T/pty.transcript" "$DOVECOT_CA"
check_rc "terminal: questions answered, exit 0" 0
check_no_grep "terminal: the typed password is not echoed" "$DOVECOT_PASSWORD" "$T/pty.transcript"
check_grep "terminal: asked in French" 'Mot de passe IMAP \(rien ne s' "$T/pty.transcript"
check_grep "terminal: found the Sent folder" 'Sent \(\\Sent special-use' "$T/pty.transcript"
check_eq "terminal: password file written 0600" 600 "$(mode_of "$T/tty/imap.pass" 2>&1)"
check_no_grep "terminal: no [smtp] when none given" '^\[smtp\]' "$T/tty/merci.conf"

test_finish
