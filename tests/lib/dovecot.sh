# A throw-away Dovecot 2.3 IMAP server on 127.0.0.1 for merci's tests.
# Source after common.sh (it uses TEST_DIR, PYTHON, die, free_port, at_exit):
#
#   dovecot_init                 # dirs, ports, certificates, user; not started
#   "$PYTHON" "$top_srcdir/tests/lib/mkmailbox.py" --maildir "$DOVECOT_MAILDIR" ...
#   dovecot_start                # writes the config, starts, waits for the port
#   ... DOVECOT_SSL=no / DOVECOT_CERT=wronghost; dovecot_restart ...
#   dovecot_stop                 # also run automatically on exit
#
# Functions: dovecot_init [DIR], dovecot_start, dovecot_stop, dovecot_restart,
#   dovecot_status FOLDER ("MESSAGES UIDNEXT UIDVALIDITY"), dovecot_uidvalidity
#   FOLDER, dovecot_last_uid FOLDER, dovecot_uidvalidity_reset FOLDER (sets
#   DOVECOT_OLD_UIDVALIDITY / DOVECOT_NEW_UIDVALIDITY), dovecot_append FOLDER
#   FILE... (IMAP APPEND), dovecot_deliver FOLDER FILE... (into the maildir),
#   dovecot_imap PYTHON-CODE [ARGS] (imaplib, logged in, as M),
#   dovecot_log_since_start, dovecot_merci_config FILE [KEY=VALUE...].
#
# After dovecot_init these are set (and exported):
#   DOVECOT_DIR          its directory (in $TEST_DIR unless given)
#   DOVECOT_IMAP_PORT    imap:// port, STARTTLS offered (when DOVECOT_SSL=yes)
#   DOVECOT_IMAPS_PORT   imaps:// port (implicit TLS; closed when DOVECOT_SSL=no)
#   DOVECOT_USER, DOVECOT_PASSWORD   the one mail account (camille)
#   DOVECOT_MAILDIR      its Maildir: INBOX in it, Sent in .Sent (\Sent special-use)
#   DOVECOT_CA           CA that signed the server certificates (PEM)
#   DOVECOT_OTHER_CA     an unrelated CA (signed nothing here)
#   DOVECOT_LOG          the server log (auth_verbose = yes)
# Knobs read by dovecot_start:
#   DOVECOT_SSL=yes|no           no: "ssl = no", no STARTTLS, no imaps listener
#   DOVECOT_CERT=localhost|wronghost   server certificate: SAN localhost +
#                                127.0.0.1, or one for other.example (same CA)
#
# Runs as root (mail then belongs to nobody:nogroup, Dovecot refuses to read
# mail as root) or as an ordinary user (rootless: everything runs as that user).

DOVECOT_BIN=${DOVECOT_BIN:-/usr/sbin/dovecot}
DOVECOT_USER=camille
DOVECOT_PASSWORD='s3cret-Passe-mot'
DOVECOT_SSL=${DOVECOT_SSL:-yes}
DOVECOT_CERT=${DOVECOT_CERT:-localhost}

# dovecot_init [DIR]
dovecot_init() {
	[ -x "$DOVECOT_BIN" ] ||
		die "$DOVECOT_BIN not found: install Dovecot with scripts/install-deps (package dovecot-imapd)"
	command -v openssl >/dev/null || die "openssl not found: run scripts/install-deps"
	DOVECOT_DIR=${1:-$TEST_DIR/dovecot}
	mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" "$DOVECOT_DIR/certs" \
		"$DOVECOT_DIR/home/$DOVECOT_USER" "$DOVECOT_DIR/index" "$DOVECOT_DIR/control"
	chmod 0755 "$DOVECOT_DIR" "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" "$DOVECOT_DIR/home"
	DOVECOT_MAILDIR=$DOVECOT_DIR/home/$DOVECOT_USER/Maildir
	mkdir -p "$DOVECOT_MAILDIR"/{cur,new,tmp} "$DOVECOT_MAILDIR"/.Sent/{cur,new,tmp}
	DOVECOT_LOG=$DOVECOT_DIR/dovecot.log
	: >"$DOVECOT_LOG"
	DOVECOT_IMAP_PORT=$(free_port)
	DOVECOT_IMAPS_PORT=$(free_port)
	while [ "$DOVECOT_IMAPS_PORT" = "$DOVECOT_IMAP_PORT" ]; do
		DOVECOT_IMAPS_PORT=$(free_port)
	done
	_dovecot_pick_users
	_dovecot_make_certs
	# passwd-file: user:{PLAIN}password:uid:gid::home::
	printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$DOVECOT_USER" "$DOVECOT_PASSWORD" \
		"$DOVECOT_MAIL_UID" "$DOVECOT_MAIL_GID" "$DOVECOT_DIR/home/$DOVECOT_USER" \
		>"$DOVECOT_DIR/users"
	chmod 0644 "$DOVECOT_DIR/users" # test password, read by the auth process
	DOVECOT_CA=$DOVECOT_DIR/certs/ca.pem
	DOVECOT_OTHER_CA=$DOVECOT_DIR/certs/other-ca.pem
	export DOVECOT_DIR DOVECOT_MAILDIR DOVECOT_LOG DOVECOT_IMAP_PORT DOVECOT_IMAPS_PORT \
		DOVECOT_USER DOVECOT_PASSWORD DOVECOT_CA DOVECOT_OTHER_CA
	at_exit dovecot_stop
}

# Who owns the mail and runs Dovecot's unprivileged processes.
_dovecot_pick_users() {
	if [ "$(id -u)" -eq 0 ]; then
		DOVECOT_RUN_USER=nobody
		DOVECOT_RUN_GROUP=$(id -gn nobody 2>/dev/null || echo nogroup)
		DOVECOT_MAIL_UID=$(id -u nobody) || die "no user nobody on this system"
		DOVECOT_MAIL_GID=$(getent group "$DOVECOT_RUN_GROUP" | cut -d: -f3)
	else
		DOVECOT_RUN_USER=$(id -un)
		DOVECOT_RUN_GROUP=$(id -gn)
		DOVECOT_MAIL_UID=$(id -u)
		DOVECOT_MAIL_GID=$(id -g)
	fi
}

# _dovecot_leaf NAME CN SAN: a server key + certificate signed by the test CA.
_dovecot_leaf() {
	local d=$DOVECOT_DIR/certs
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$1-key.pem" -subj "/CN=$2" -out "$d/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$3" >"$d/$1.ext"
	openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
		-set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$d/$1.ext" \
		-out "$d/$1.pem" 2>/dev/null
}

_dovecot_ca() { # NAME CN
	local d=$DOVECOT_DIR/certs
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$1-key.pem" -out "$d/$1.pem" -days 3650 -subj "/CN=$2" \
		-addext 'basicConstraints=critical,CA:TRUE' \
		-addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
}

# Certificates made fresh for every run: a CA, a server certificate for
# localhost/127.0.0.1, one for another host name, and an unrelated CA.
_dovecot_make_certs() {
	_dovecot_ca ca "merci test CA" || die "openssl: cannot create the test CA"
	_dovecot_ca other-ca "merci unrelated CA" || die "openssl: cannot create the second CA"
	_dovecot_leaf localhost localhost 'DNS:localhost,IP:127.0.0.1' ||
		die "openssl: cannot create the localhost certificate"
	_dovecot_leaf wronghost other.example 'DNS:other.example' ||
		die "openssl: cannot create the other.example certificate"
	chmod 0644 "$DOVECOT_DIR"/certs/*.pem
}

_dovecot_write_config() {
	local d=$DOVECOT_DIR ssl_block imaps_port first_uid
	if [ "$DOVECOT_SSL" = no ]; then
		ssl_block='ssl = no'
		imaps_port=0
	else
		ssl_block="ssl = yes
ssl_cert = <$d/certs/$DOVECOT_CERT.pem
ssl_key = <$d/certs/$DOVECOT_CERT-key.pem
ssl_min_protocol = TLSv1.2"
		imaps_port=$DOVECOT_IMAPS_PORT
	fi
	first_uid=500
	[ "$DOVECOT_MAIL_UID" -lt 500 ] && first_uid=$DOVECOT_MAIL_UID
	cat >"$d/dovecot.conf" <<EOF
# Written by tests/lib/dovecot.sh for one test run.
base_dir = $d/run
state_dir = $d/state
instance_name = merci-test-$$
protocols = imap
listen = 127.0.0.1
log_path = $DOVECOT_LOG
info_log_path = $DOVECOT_LOG
auth_verbose = yes
auth_mechanisms = plain login
disable_plaintext_auth = no
$ssl_block

default_internal_user = $DOVECOT_RUN_USER
default_internal_group = $DOVECOT_RUN_GROUP
default_login_user = $DOVECOT_RUN_USER
first_valid_uid = $first_uid

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $d/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $d/users
}

mail_location = maildir:~/Maildir:INDEX=$d/index:CONTROL=$d/control
# With the list index on, a LIST makes the next STATUS or EXAMINE of a big
# maildir cost about 0.3 s per 100,000 messages (it rechecks the folder):
# off, so timings measure merci, not this setup.
mailbox_list_index = no
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \\Sent
  }
}

service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
EOF
}

# Mail must belong to the mail user, never root.
_dovecot_fix_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		chown -R "$DOVECOT_MAIL_UID:$DOVECOT_MAIL_GID" \
			"$DOVECOT_DIR/home/$DOVECOT_USER" "$DOVECOT_DIR/index" "$DOVECOT_DIR/control"
	fi
}

# dovecot_start: start and wait (10 s) until the IMAP port answers; on
# failure print the log and exit 1.
dovecot_start() {
	[ -n "${DOVECOT_DIR:-}" ] || die "dovecot_start: call dovecot_init first"
	_dovecot_write_config
	_dovecot_fix_owner
	DOVECOT_LOG_MARK=$(wc -c <"$DOVECOT_LOG")
	if ! "$DOVECOT_BIN" -c "$DOVECOT_DIR/dovecot.conf" 2>"$DOVECOT_DIR/start.err"; then
		cat "$DOVECOT_DIR/start.err" "$DOVECOT_LOG" >&2
		die "dovecot did not start (config $DOVECOT_DIR/dovecot.conf)"
	fi
	if ! wait_port "$DOVECOT_IMAP_PORT" 10; then
		cat "$DOVECOT_DIR/start.err" >&2
		tail -n 40 "$DOVECOT_LOG" >&2
		die "dovecot did not answer on 127.0.0.1:$DOVECOT_IMAP_PORT within 10 s"
	fi
	if [ "$DOVECOT_SSL" != no ] && ! wait_port "$DOVECOT_IMAPS_PORT" 10; then
		tail -n 40 "$DOVECOT_LOG" >&2
		die "dovecot did not answer on 127.0.0.1:$DOVECOT_IMAPS_PORT within 10 s"
	fi
}

# dovecot_stop: stop the server if it runs; wait until it is gone.
dovecot_stop() {
	local pidfile=${DOVECOT_DIR:-/nonexistent}/run/master.pid pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$pidfile"
	return 0
}

dovecot_restart() {
	dovecot_stop
	dovecot_start
}

# dovecot_imap SCRIPT [ARGS...]: run Python with `M`, an imaplib connection
# logged in as the test user (plain IMAP on loopback), and sys.argv = ARGS.
dovecot_imap() {
	local code=$1
	shift
	"$PYTHON" - "$@" <<EOF
import imaplib, os, sys
M = imaplib.IMAP4("127.0.0.1", int(os.environ["DOVECOT_IMAP_PORT"]))
M.login(os.environ["DOVECOT_USER"], os.environ["DOVECOT_PASSWORD"])
$code
M.logout()
EOF
}

# dovecot_status FOLDER: print "MESSAGES UIDNEXT UIDVALIDITY" of FOLDER.
dovecot_status() {
	dovecot_imap '
import re
typ, data = M.status(sys.argv[1], "(MESSAGES UIDNEXT UIDVALIDITY)")
s = data[0].decode()
get = lambda k: re.search(k + r" (\d+)", s).group(1)
print(get("MESSAGES"), get("UIDNEXT"), get("UIDVALIDITY"))' "$1"
}

# dovecot_uidvalidity FOLDER: print FOLDER's UIDVALIDITY.
dovecot_uidvalidity() {
	local s
	s=$(dovecot_status "$1") || return 1
	printf '%s\n' "${s##* }"
}

# dovecot_last_uid FOLDER: the highest UID in FOLDER (0 when empty).
dovecot_last_uid() {
	dovecot_imap '
M.select(sys.argv[1], readonly=True)
typ, data = M.uid("SEARCH", "ALL")
uids = [int(u) for u in data[0].split()]
print(max(uids) if uids else 0)' "$1"
}

# dovecot_uidvalidity_reset FOLDER: make Dovecot forget FOLDER's UIDs (stop,
# delete its dovecot-uidlist and indexes, start): it gets a new UIDVALIDITY
# and renumbers its messages from 1. Fails unless UIDVALIDITY really changed.
dovecot_uidvalidity_reset() {
	local folder=$1 sub before after
	sub=.$folder # with CONTROL= and INDEX=, INBOX lives in .INBOX too
	before=$(dovecot_uidvalidity "$folder") || die "cannot read UIDVALIDITY of $folder"
	dovecot_stop
	rm -f "$DOVECOT_DIR/control/$sub/dovecot-uidlist" \
		"$DOVECOT_DIR/index/$sub"/dovecot.index* \
		"$DOVECOT_DIR/index"/dovecot.list.index*
	# Dovecot's next UIDVALIDITY is at least the current time: make sure a
	# second has passed since the last one was handed out.
	sleep 1
	dovecot_start
	after=$(dovecot_uidvalidity "$folder") || die "cannot read UIDVALIDITY of $folder"
	[ "$before" != "$after" ] ||
		die "dovecot_uidvalidity_reset: UIDVALIDITY of $folder did not change ($before)"
	DOVECOT_OLD_UIDVALIDITY=$before
	DOVECOT_NEW_UIDVALIDITY=$after
	export DOVECOT_OLD_UIDVALIDITY DOVECOT_NEW_UIDVALIDITY
}

# dovecot_deliver FOLDER FILE...: drop message files straight into FOLDER's
# maildir new/ (no IMAP); Dovecot numbers them when the folder is next opened.
dovecot_deliver() {
	local folder=$1 dir=$DOVECOT_MAILDIR path name n=0
	shift
	[ "$folder" = INBOX ] || dir=$DOVECOT_MAILDIR/.$folder
	[ -d "$dir/new" ] || die "dovecot_deliver: no maildir for folder $folder"
	for path in "$@"; do
		n=$((n + 1))
		name=$(date +%s).M$$N$n.deliver
		cp "$path" "$dir/tmp/$name"
		mv "$dir/tmp/$name" "$dir/new/$name"
	done
	_dovecot_fix_owner
}

# dovecot_append FOLDER FILE...: IMAP APPEND each message file to FOLDER
# (flag \Seen, internal date from its Date header when it parses).
dovecot_append() {
	dovecot_imap '
import email.utils, time
folder = sys.argv[1]
for path in sys.argv[2:]:
    raw = open(path, "rb").read()
    when = None
    for line in raw.split(b"\n"):
        if not line.strip():
            break
        if line.lower().startswith(b"date:"):
            try:
                when = email.utils.parsedate_to_datetime(line[5:].decode().strip()).timestamp()
            except Exception:
                when = None
    typ, data = M.append(folder, r"(\Seen)", imaplib.Time2Internaldate(when or time.time()), raw)
    if typ != "OK":
        sys.exit("APPEND to %s failed: %r" % (folder, data))' "$@"
}

# dovecot_log_since_start: what the server logged since the last dovecot_start.
dovecot_log_since_start() {
	tail -c +"$((${DOVECOT_LOG_MARK:-0} + 1))" "$DOVECOT_LOG"
}

# dovecot_merci_config FILE [KEY=VALUE...]: write a merci.conf for the test
# account (section [account test]), database merci.db and password file
# imap.pass next to FILE. KEY=VALUE sets or replaces a key of the account
# (url, ca_file, tls, password, password_file, folders...); KEY= drops it.
# Default url: imap://localhost:$DOVECOT_IMAP_PORT (STARTTLS). Mode 0600.
dovecot_merci_config() {
	local file=$1 dir kv key i
	shift
	dir=$(cd "$(dirname "$file")" && pwd)
	write_password "$dir/imap.pass" "$DOVECOT_PASSWORD"
	local -a keys=(url user password_file ca_file folders)
	local -A val=(
		[url]="imap://localhost:$DOVECOT_IMAP_PORT"
		[user]="$DOVECOT_USER"
		[password_file]="$dir/imap.pass"
		[ca_file]="$DOVECOT_CA"
		[folders]=auto
	)
	for kv in "$@"; do
		key=${kv%%=*}
		[ -n "${val[$key]+set}" ] || keys+=("$key")
		val[$key]=${kv#*=}
	done
	{
		printf '[general]\n'
		printf 'database = %s/merci.db\n' "$dir"
		printf 'owner = Camille Roy <camille@example.org>\n'
		printf 'identities = c.roy@example.net\n'
		printf 'language = fr\n\n'
		printf '[account test]\n'
		for i in "${keys[@]}"; do
			[ -z "${val[$i]}" ] || printf '%s = %s\n' "$i" "${val[$i]}"
		done
	} >"$file"
	chmod 0600 "$file"
}
