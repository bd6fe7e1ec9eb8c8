#!/usr/bin/python3
"""scripted_imap.py: a small, scriptable IMAP4rev1 server for merci's tests.

It listens on 127.0.0.1 only, serves every connection (one thread each, so a
client that reconnects or opens two connections is never stuck), and speaks
just enough IMAP for libetpan: greeting, CAPABILITY, LOGIN, LIST/LSUB,
SELECT/EXAMINE, STATUS, UID FETCH / FETCH (UID, FLAGS, INTERNALDATE,
RFC822.SIZE, BODYSTRUCTURE, BODY[.PEEK][HEADER.FIELDS (...)], HEADER, TEXT,
1, partials), NOOP, LOGOUT.

It holds generated messages: --messages N in INBOX (from contacts to the
owner), --sent N in Sent (from the owner to contacts). Message i (1-based) has
UID i * --uid-step and Message-ID <i.UIDVALIDITY.inbox@DOMAIN>.

Faults (each fires on every connection unless --fault-connections limits it):
  --inject FILE --at POINT   send FILE's raw bytes + CRLF as an untagged
                             response at POINT, then carry on normally
  --random-bytes N --seed S  at POINT (default: right after the greeting) send
                             N pseudo-random bytes, then close the connection
  --bye-at fetch             send "* BYE" half-way through a FETCH answer, close
  --close-at fetch           drop the connection half-way through a FETCH answer
  --garbage-message UID      serve that message with a FETCH response libetpan
                             cannot parse (the literal's announced length lies)
  --after K                  let the first K occurrences of POINT in a
                             connection pass before the fault fires
POINT is one of: greeting, capability, login, list, select, fetch.

--port 0 (default) picks a free port; --port-file FILE receives it once the
server listens. --log FILE records, each line prefixed with the seconds since
start and the connection number (C1, C2...): "connect", every command
received (passwords redacted), the faults fired, and "close". --lifetime S
stops the server after S seconds in any case, so a forgotten server never
lingers.
"""

import argparse
import os
import random
import re
import socket
import socketserver
import sys
import threading
import time

POINTS = ("greeting", "capability", "login", "list", "select", "fetch")

CONTACT_NAMES = [
    "Alice Martin", "Bruno Lefebvre", "Chloé Dubois", "David Moreau",
    "Émilie Laurent", "François Simon", "Gabrielle Michel", "Hugo Garcia",
    "Inès Bernard", "Julien Petit", "Karine Roux", "Louis Fournier",
]


class Mailbox:
    """Generated messages of one folder, built lazily (cheap for large N)."""

    def __init__(self, name, count, uid_step, uidvalidity, inbound, opts):
        self.name = name
        self.count = count
        self.uid_step = uid_step
        self.uidvalidity = uidvalidity
        self.inbound = inbound
        self.opts = opts

    def uid(self, seq):
        return seq * self.uid_step

    def seq_of_uid(self, uid):
        if uid % self.uid_step or uid <= 0:
            return None
        seq = uid // self.uid_step
        return seq if 1 <= seq <= self.count else None

    def uidnext(self):
        return self.uid(self.count) + 1

    def headers(self, seq):
        o = self.opts
        k = (seq - 1) % o.contacts
        name = CONTACT_NAMES[k % len(CONTACT_NAMES)]
        contact = '"%s %d" <contact%d@%s>' % (name, k, k, o.domain)
        owner = "%s <%s>" % (o.owner_name, o.owner)
        t = o.base_time + seq * 60
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
        mid = "<%d.%d.%s@%s>" % (seq, self.uidvalidity, self.name.lower(), o.domain)
        h = []
        if self.inbound:
            h.append(("From", contact))
            h.append(("To", owner))
        else:
            h.append(("From", owner))
            h.append(("To", contact))
        h.append(("Subject", "Message %d in %s" % (seq, self.name)))
        h.append(("Date", date))
        h.append(("Message-ID", mid))
        if seq > 1 and seq % 3 == 0:
            prev = "<%d.%d.%s@%s>" % (seq - 1, self.uidvalidity, self.name.lower(), o.domain)
            h.append(("In-Reply-To", prev))
            h.append(("References", prev))
        h.append(("MIME-Version", "1.0"))
        h.append(("Content-Type", "text/plain; charset=utf-8"))
        return h, t

    def body(self, seq):
        return ("Hello,\r\n\r\nThis is message %d of %s.\r\n\r\nRegards\r\n"
                % (seq, self.name)).encode()

    def header_bytes(self, seq, fields=None, negate=False):
        h, _ = self.headers(seq)
        out = []
        for k, v in h:
            if fields is not None:
                hit = k.lower() in fields
                if hit == negate:
                    continue
            out.append("%s: %s\r\n" % (k, v))
        out.append("\r\n")
        return "".join(out).encode("utf-8")

    def full(self, seq):
        return self.header_bytes(seq) + self.body(seq)

    def internaldate(self, seq):
        _, t = self.headers(seq)
        return time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(t))


class Faults:
    def __init__(self, opts):
        self.opts = opts
        self.inject = None
        if opts.inject:
            with open(opts.inject, "rb") as f:
                self.inject = f.read()


def split_items(s):
    """Splits a FETCH item list at top level: 'UID BODY.PEEK[X (A B)]<0.9>'."""
    items, cur, depth = [], [], 0
    for ch in s:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == " " and depth == 0:
            if cur:
                items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        items.append("".join(cur))
    return items


def parse_set(spec, maxval):
    """Returns a sorted list of numbers named by an IMAP sequence set."""
    out = set()
    for part in spec.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            a = maxval if a == "*" else int(a)
            b = maxval if b == "*" else int(b)
            lo, hi = min(a, b), max(a, b)
            out.update(range(lo, hi + 1))
        else:
            out.add(maxval if part == "*" else int(part))
    return sorted(out)


class Connection:
    def __init__(self, server, sock, number):
        self.srv = server
        self.opts = server.opts
        self.sock = sock
        self.number = number
        self.rfile = sock.makefile("rb")
        self.selected = None
        self.seen = {p: 0 for p in POINTS}
        self.closed = False

    # ---- output ----
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def line(self, text):
        self.send(text + "\r\n")

    def log(self, text):
        self.srv.log("C%d %s" % (self.number, text))

    # ---- faults ----
    def fault_here(self, point):
        """True when the configured fault fires at this occurrence of point."""
        o = self.opts
        if o.fault_connections and self.number > o.fault_connections:
            return False
        if o.at != point:
            return False
        n = self.seen[point]
        self.seen[point] += 1
        return n == o.after

    def maybe_fault(self, point):
        """Applies inject/random faults at point. Returns False when the
        connection must end now."""
        o = self.opts
        if not (self.srv.faults.inject is not None or o.random_bytes):
            return True
        if not self.fault_here(point):
            return True
        if self.srv.faults.inject is not None:
            self.log("inject %s at %s" % (os.path.basename(o.inject), point))
            self.send(self.srv.faults.inject + b"\r\n")
            return True
        rng = random.Random(o.seed)
        data = bytes(rng.getrandbits(8) for _ in range(o.random_bytes))
        self.log("random %d bytes seed %d at %s" % (o.random_bytes, o.seed, point))
        self.send(data)
        return False

    # ---- input ----
    def read_command(self):
        """Reads one command line, following literals. Returns bytes or None."""
        parts = []
        total = 0
        while True:
            ln = self.rfile.readline(1 << 16)
            if not ln:
                return None
            total += len(ln)
            if total > (1 << 20):
                return None
            ln = ln.rstrip(b"\r\n")
            m = re.search(rb"\{(\d+)(\+?)\}$", ln)
            if not m:
                parts.append(ln)
                return b"".join(parts)
            n = int(m.group(1))
            if n > (1 << 20):
                return None
            if not m.group(2):
                self.line("+ go ahead")
            lit = self.rfile.read(n)
            if len(lit) < n:
                return None
            parts.append(ln[:m.start()] + b'"' + lit.replace(b'"', b"") + b'"')

    # ---- the session ----
    def run(self):
        o = self.opts
        self.log("connect")
        self.line("* OK [CAPABILITY %s] ready" % o.capabilities)
        if not self.maybe_fault("greeting"):
            return
        while True:
            raw = self.read_command()
            if raw is None:
                return
            text = raw.decode("utf-8", "replace")
            m = re.match(r"(\S+) (\S+)(?: (.*))?$", text)
            if not m:
                self.log("garbage " + text[:200])
                self.line("* BAD malformed command")
                continue
            tag, cmd, args = m.group(1), m.group(2).upper(), m.group(3) or ""
            if cmd == "LOGIN":
                self.log("%s LOGIN %s ***" % (tag, args.split(" ")[0]))
            else:
                self.log(text[:500])
            if not self.dispatch(tag, cmd, args):
                return

    def dispatch(self, tag, cmd, args):
        o = self.opts
        if cmd == "CAPABILITY":
            if not self.maybe_fault("capability"):
                return False
            self.line("* CAPABILITY %s" % o.capabilities)
            self.line("%s OK CAPABILITY completed" % tag)
        elif cmd == "LOGIN":
            words = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', args)
            vals = [a or b for a, b in words]
            if not self.maybe_fault("login"):
                return False
            if len(vals) < 2 or (o.user and vals[0] != o.user) or \
               (o.password is not None and vals[1] != o.password):
                self.line("%s NO [AUTHENTICATIONFAILED] Authentication failed." % tag)
            else:
                self.line("%s OK [CAPABILITY %s] Logged in" % (tag, o.capabilities))
        elif cmd in ("LIST", "LSUB"):
            if not self.maybe_fault("list"):
                return False
            self.line('* %s (\\HasNoChildren) "/" INBOX' % cmd)
            self.line('* %s (\\HasNoChildren \\Sent) "/" Sent' % cmd)
            self.line("%s OK %s completed" % (tag, cmd))
        elif cmd in ("SELECT", "EXAMINE"):
            return self.select(tag, cmd, args)
        elif cmd == "STATUS":
            name = args.split(" ")[0].strip('"')
            mb = self.srv.mailbox(name)
            if mb is None:
                self.line("%s NO Mailbox doesn't exist" % tag)
            else:
                self.line('* STATUS "%s" (MESSAGES %d UIDNEXT %d UIDVALIDITY %d UNSEEN 0)'
                          % (mb.name, mb.count, mb.uidnext(), mb.uidvalidity))
                self.line("%s OK STATUS completed" % tag)
        elif cmd == "UID":
            sub = args.split(" ", 1)
            if sub[0].upper() == "FETCH" and len(sub) == 2:
                return self.fetch(tag, sub[1], by_uid=True)
            self.line("%s BAD UID %s not supported" % (tag, sub[0]))
        elif cmd == "FETCH":
            return self.fetch(tag, args, by_uid=False)
        elif cmd in ("NOOP", "CHECK"):
            self.line("%s OK %s completed" % (tag, cmd))
        elif cmd in ("CLOSE", "UNSELECT"):
            self.selected = None
            self.line("%s OK %s completed" % (tag, cmd))
        elif cmd == "LOGOUT":
            self.line("* BYE Logging out")
            self.line("%s OK Logout completed" % tag)
            return False
        else:
            self.line("%s BAD Command %s not supported" % (tag, cmd))
        return True

    def select(self, tag, cmd, args):
        name = args.strip().strip('"')
        mb = self.srv.mailbox(name)
        if mb is None:
            self.line("%s NO Mailbox doesn't exist: %s" % (tag, name))
            return True
        self.line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
        if not self.maybe_fault("select"):
            return False
        self.line("* OK [PERMANENTFLAGS ()] Read-only mailbox.")
        self.line("* %d EXISTS" % mb.count)
        self.line("* 0 RECENT")
        self.line("* OK [UIDVALIDITY %d] UIDs valid" % mb.uidvalidity)
        self.line("* OK [UIDNEXT %d] Predicted next UID" % mb.uidnext())
        self.selected = mb
        rw = "READ-ONLY" if cmd == "EXAMINE" else "READ-WRITE"
        self.line("%s OK [%s] %s completed" % (tag, rw, cmd))
        return True

    def fetch(self, tag, args, by_uid):
        mb = self.selected
        if mb is None:
            self.line("%s BAD No mailbox selected" % tag)
            return True
        m = re.match(r"(\S+) \((.*)\)$", args) or re.match(r"(\S+) (\S+)$", args)
        if not m:
            self.line("%s BAD Invalid FETCH arguments" % tag)
            return True
        spec, items = m.group(1), split_items(m.group(2))
        if mb.count == 0:
            seqs = []
        elif by_uid:
            top = mb.uid(mb.count)
            seqs = []
            # Like real servers, n:* with n above the last UID still names it.
            for part in spec.split(","):
                if ":" in part:
                    a, b = part.split(":", 1)
                    a = top if a == "*" else int(a)
                    b = top if b == "*" else int(b)
                    lo, hi = min(a, b), max(a, b)
                    s_lo = max(1, -(-lo // mb.uid_step))
                    s_hi = min(mb.count, hi // mb.uid_step)
                    seqs.extend(range(s_lo, s_hi + 1))
                    if lo > top:
                        seqs.append(mb.count)
                else:
                    s = mb.seq_of_uid(top if part == "*" else int(part))
                    if s:
                        seqs.append(s)
            seqs = sorted(set(seqs))
        else:
            seqs = [s for s in parse_set(spec, mb.count) if 1 <= s <= mb.count]
        if not self.maybe_fault("fetch"):
            return False
        o = self.opts
        cut = None
        if o.bye_at == "fetch" or o.close_at == "fetch":
            if not o.fault_connections or self.number <= o.fault_connections:
                cut = len(seqs) // 2
        for i, seq in enumerate(seqs):
            if cut is not None and i == cut:
                if o.bye_at == "fetch":
                    self.log("bye mid-fetch")
                    self.line("* BYE Server shutting down")
                else:
                    self.log("close mid-fetch")
                return False
            self.send(self.fetch_one(mb, seq, items, by_uid))
        self.line("%s OK Fetch completed" % tag)
        return True

    def fetch_one(self, mb, seq, items, by_uid):
        uid = mb.uid(seq)
        garbage = self.opts.garbage_message == uid and mb.name == "INBOX"
        out = [b"* %d FETCH (" % seq]
        parts = []
        names = [it.upper() for it in items]
        if by_uid and "UID" not in names:
            names.insert(0, "UID")
            items = ["UID"] + list(items)
        for it, up in zip(items, names):
            if up == "UID":
                parts.append(b"UID %d" % uid)
            elif up == "FLAGS":
                parts.append(b"FLAGS (\\Seen)")
            elif up == "INTERNALDATE":
                parts.append(b'INTERNALDATE "%s"' % mb.internaldate(seq).encode())
            elif up == "RFC822.SIZE":
                parts.append(b"RFC822.SIZE %d" % len(mb.full(seq)))
            elif up == "BODYSTRUCTURE":
                # Each message is one text/plain part (see Mailbox.headers).
                body = mb.body(seq)
                parts.append(b'BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL '
                             b'"7bit" %d %d NIL NIL NIL NIL)' % (len(body), body.count(b"\n")))
            elif up.startswith("BODY"):
                parts.append(self.section(mb, seq, it, garbage))
            elif up in ("RFC822.HEADER",):
                data = mb.header_bytes(seq)
                parts.append(b"RFC822.HEADER {%d}\r\n" % len(data) + data)
            elif up in ("RFC822",):
                data = mb.full(seq)
                parts.append(b"RFC822 {%d}\r\n" % len(data) + data)
        out.append(b" ".join(parts))
        out.append(b")\r\n")
        return b"".join(out)

    def section(self, mb, seq, item, garbage):
        m = re.match(r"(?i)BODY(?:\.PEEK)?\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$", item)
        if not m:
            return b"BODY NIL"
        sec, off, ln = m.group(1), m.group(2), m.group(3)
        up = sec.upper()
        if up.startswith("HEADER.FIELDS"):
            negate = up.startswith("HEADER.FIELDS.NOT")
            fm = re.search(r"\((.*)\)", sec)
            fields = set(f.lower() for f in (fm.group(1).split() if fm else []))
            data = mb.header_bytes(seq, fields, negate)
        elif up == "HEADER":
            data = mb.header_bytes(seq)
        elif up in ("TEXT", "1"):
            data = mb.body(seq)
        elif up == "":
            data = mb.full(seq)
        else:
            data = b""
        name = b"BODY[" + sec.encode() + b"]"
        if off is not None:
            o = int(off)
            data = data[o:o + int(ln)]
            name += b"<%d>" % o
        if garbage:
            # The announced length lies (too short): the parser reads a cut
            # literal, then finds header text where ")" or a space must be.
            self.log("garbage fetch response for seq %d" % seq)
            short = max(1, len(data) // 2)
            return name + b" {%d}\r\n" % short + data + b" (\"BROKEN"
        return name + b" {%d}\r\n" % len(data) + data


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, opts):
        self.opts = opts
        self.faults = Faults(opts)
        self.boxes = {
            "INBOX": Mailbox("INBOX", opts.messages, opts.uid_step, opts.uidvalidity, True, opts),
            "SENT": Mailbox("Sent", opts.sent, opts.uid_step, opts.uidvalidity + 1, False, opts),
        }
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.count = 0
        self.logf = open(opts.log, "a", buffering=1) if opts.log else None
        super().__init__(("127.0.0.1", opts.port), Handler)

    def mailbox(self, name):
        return self.boxes.get(name.upper())

    def log(self, text):
        if self.logf:
            with self.lock:
                self.logf.write("%.3f %s\n" % (time.monotonic() - self.started, text))

    def next_number(self):
        with self.lock:
            self.count += 1
            return self.count


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        n = srv.next_number()
        conn = Connection(srv, self.request, n)
        try:
            conn.run()
        except (OSError, ValueError):
            pass
        finally:
            srv.log("C%d close" % n)
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--messages", type=int, default=10)
    p.add_argument("--sent", type=int, default=0)
    p.add_argument("--uid-step", type=int, default=1)
    p.add_argument("--uidvalidity", type=int, default=1700000000)
    p.add_argument("--domain", default="example.net")
    p.add_argument("--owner", default="camille@example.org")
    p.add_argument("--owner-name", default="Camille Roy")
    p.add_argument("--contacts", type=int, default=12)
    p.add_argument("--base-time", type=int, default=1704067200)  # 2024-01-01
    p.add_argument("--user", default=None, help="accept only this user")
    p.add_argument("--password", default=None, help="accept only this password")
    p.add_argument("--capabilities", default="IMAP4rev1 LITERAL+")
    p.add_argument("--inject")
    p.add_argument("--at", choices=POINTS, default=None)
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--random-bytes", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bye-at", choices=("fetch",))
    p.add_argument("--close-at", choices=("fetch",))
    p.add_argument("--garbage-message", type=int, default=0)
    p.add_argument("--fault-connections", type=int, default=0,
                   help="faults fire only on the first N connections (0: all)")
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=600)
    o = p.parse_args()
    if o.inject and not o.at:
        p.error("--inject needs --at")
    if o.random_bytes and not o.at:
        o.at = "greeting"
    if o.inject and o.random_bytes:
        p.error("--inject and --random-bytes exclude each other")
    if o.uid_step < 1 or o.messages < 0 or o.sent < 0 or o.contacts < 1:
        p.error("bad numbers")

    srv = Server(o)
    port = srv.server_address[1]
    if o.port_file:
        tmp = o.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, o.port_file)
    else:
        print(port, flush=True)
    timer = threading.Timer(o.lifetime, srv.shutdown)
    timer.daemon = True
    timer.start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
