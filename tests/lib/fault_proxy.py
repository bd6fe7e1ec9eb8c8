#!/usr/bin/python3
"""fault_proxy.py: a TCP proxy on 127.0.0.1 that breaks IMAP on purpose.

    fault_proxy.py --upstream-port P [--port 0] --port-file F [--log FILE]
                   [--faulty N] [--refuse-next M] [FAULT...] [--at-fetch K]
                   [--record DIR] [--lifetime S]
    fault_proxy.py --analyse DIR [--conn N]

Sits between mercid and a server (Dovecot) on loopback. Every client
connection gets its own connection to 127.0.0.1:--upstream-port. The first
--faulty N connections (default 1; 0 = all of them) get the faults below,
later ones are relayed untouched, so "run until it succeeds" terminates.
--refuse-next M closes the M connections after the faulty ones as soon as
they are accepted (no greeting): a client that reconnects after a fault
then fails at once.

The proxy understands cleartext IMAP (lines and {N} literals, in both
directions) until TLS starts: after a client's STARTTLS command and the
server's tagged answer to it, or from the first byte with --implicit-tls, it
relays bytes blindly; faults that need to read IMAP (--inject-bye-at,
--strip-starttls, --preauth) then no longer apply, those that count bytes
(--cut-after-bytes, --blackhole-after-bytes) still do.

Faults (server->client byte counts are per connection, greeting included,
or with --at-fetch K from the first byte of the answer to the connection's
K-th UID FETCH: the server's tagged lines carry timings whose text varies
by a few bytes from one session to the next, so an offset taken from
another session drifts; within one FETCH answer it does not):
  --cut-after-bytes N        forward the first N bytes from the server, then
                             close both sockets (N = 0: close at once)
  --blackhole-after-bytes N  forward the first N bytes from the server, then
                             forward nothing more either way and keep both
                             sockets open (until the client closes or
                             --lifetime ends)
  --inject-bye-at fetch      when the client sends its K-th FETCH / UID FETCH
                             (--fetch-index K, default 1), do not forward it:
                             answer "* BYE" and close, as a server going down
  --strip-starttls           remove STARTTLS from the CAPABILITY lists the
                             server sends (greeting, CAPABILITY, tagged OK
                             [CAPABILITY ...]) and answer a client STARTTLS
                             with "BAD" without forwarding it
  --preauth                  turn the greeting's "* OK" into "* PREAUTH"

--log FILE receives one JSON object per line: {"event": "open", "conn": N,
"t": unix time, "faulty": bool} on accept, {"event": "fault", ...} when a
fault fires, and on close {"event": "close", "conn", "t", "duration",
"c2s", "s2c" (bytes each way), "tls" (whether TLS started), "login_clear"
(bytes of client LOGIN / AUTHENTICATE command lines, and continuation lines
after AUTHENTICATE, seen in clear), "login_raw" (whether the word LOGIN or
AUTHENTICATE occurs anywhere in the client's bytes, TLS or not)}.

--delay-fetch-ms MS (not a fault: every connection) holds each cleartext
FETCH command MS milliseconds before forwarding it, to slow a sync down so
that something can happen in the middle of it.

--record DIR writes each connection's raw bytes to DIR/conn-N.c2s and
DIR/conn-N.s2c. --analyse DIR reads them back (connection --conn, default 1)
and prints, as JSON, where each cleartext UID FETCH answer lies in the
server->client stream: command, folder, [start, end) offsets, its tagged
line's offset, and each message's [start, end) offsets, UID and literal
spans, so tests can choose byte offsets inside a literal, between two
messages or in the tagged OK.

Listens on 127.0.0.1 only. --port 0 (default) picks a free port, written to
--port-file once the proxy listens. --lifetime S (default 600) stops it in
any case; SIGTERM and SIGINT stop it at once.
"""

import argparse
import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time

LITERAL_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")
CAP_RE = re.compile(rb"CAPABILITY", re.I)
STARTTLS_TOKEN_RE = re.compile(rb" STARTTLS(?=[ \]\r])", re.I)
LOGIN_CMD_RE = re.compile(rb"^\S+ (?:UID )?(LOGIN|AUTHENTICATE)\b", re.I)
FETCH_CMD_RE = re.compile(rb"^\S+ (?:UID )?FETCH\b", re.I)
UID_FETCH_CMD_RE = re.compile(rb"^\S+ UID FETCH\b", re.I)
STARTTLS_CMD_RE = re.compile(rb"^(\S+) STARTTLS\r?\n$", re.I)
RAW_LOGIN_RE = re.compile(rb"LOGIN|AUTHENTICATE", re.I)

log_lock = threading.Lock()
log_file = None


def log_event(**kw):
    kw.setdefault("t", round(time.time(), 3))
    if log_file is None:
        return
    with log_lock:
        log_file.write(json.dumps(kw, sort_keys=True) + "\n")
        log_file.flush()


class LineReader:
    """Splits one direction of cleartext IMAP into units: a line (ending in
    LF) or a literal's bytes. feed() returns complete units as
    (kind, bytes) with kind "line" or "literal"; rest() drains the partial."""

    def __init__(self):
        self.buf = b""
        self.literal = 0

    def feed(self, data):
        self.buf += data
        out = []
        while self.buf:
            if self.literal:
                take = self.buf[:self.literal]
                self.buf = self.buf[len(take):]
                self.literal -= len(take)
                out.append(("literal", take))
                continue
            nl = self.buf.find(b"\n")
            if nl < 0:
                break
            line, self.buf = self.buf[:nl + 1], self.buf[nl + 1:]
            m = LITERAL_RE.search(line)
            if m:
                self.literal = int(m.group(1))
            out.append(("line", line))
        return out

    def rest(self):
        b, self.buf = self.buf, b""
        return b


class Conn(threading.Thread):
    def __init__(self, n, client, args, faulty, refuse=False):
        super().__init__(daemon=True)
        self.n = n
        self.client = client
        self.args = args
        self.faulty = faulty
        self.refuse = refuse
        self.uid_fetches = 0
        self.fault_base = None   # with --at-fetch: s2c when the K-th UID FETCH went
        self.c2s = self.s2c = 0
        self.login_clear = 0
        self.login_raw = False
        self.raw_tail = b""
        self.c2s_blind = bool(args.implicit_tls)
        self.s2c_blind = bool(args.implicit_tls)
        self.tls = bool(args.implicit_tls)
        self.starttls_tag = None
        self.in_authenticate = False
        self.greeted = False
        self.fetches = 0
        self.blackholed = False
        self.closed = False
        self.c_reader = LineReader()
        self.s_reader = LineReader()
        self.rec = {}
        if args.record:
            for d in ("c2s", "s2c"):
                self.rec[d] = open(os.path.join(args.record, "conn-%d.%s" % (n, d)), "wb")

    # -- helpers

    def fault(self, kind, **kw):
        log_event(event="fault", conn=self.n, fault=kind, s2c=self.s2c, c2s=self.c2s, **kw)

    def send_client(self, data):
        if not data:
            return
        self.client.sendall(data)
        self.s2c += len(data)
        if "s2c" in self.rec:
            self.rec["s2c"].write(data)

    def send_server(self, data):
        if not data:
            return
        self.server.sendall(data)

    def note_client_bytes(self, data):
        self.c2s += len(data)
        if "c2s" in self.rec:
            self.rec["c2s"].write(data)
        joined = self.raw_tail + data
        if RAW_LOGIN_RE.search(joined):
            self.login_raw = True
        self.raw_tail = joined[-16:]

    # -- server -> client

    def server_limit(self):
        """Bytes the server may still send before a byte fault fires, or None."""
        a = self.args
        if not self.faulty:
            return None
        n = a.cut_after_bytes if a.cut_after_bytes is not None else a.blackhole_after_bytes
        if n is None:
            return None
        if a.at_fetch:
            return None if self.fault_base is None else n - (self.s2c - self.fault_base)
        return n - self.s2c

    def hit_byte_fault(self):
        a = self.args
        if a.cut_after_bytes is not None:
            self.fault("cut")
            return "close"
        self.fault("blackhole")
        self.blackholed = True
        return "hold"

    def rewrite_server_line(self, line):
        a = self.args
        if not self.faulty:
            return line
        if not self.greeted:
            self.greeted = True
            if a.preauth and line.startswith(b"* OK"):
                self.fault("preauth")
                line = b"* PREAUTH" + line[4:]
        if a.strip_starttls and CAP_RE.search(line) and STARTTLS_TOKEN_RE.search(line):
            self.fault("strip-starttls", where=line.split(b" ", 2)[1].decode("ascii", "replace"))
            line = STARTTLS_TOKEN_RE.sub(b"", line)
        return line

    def from_server(self, data):
        """Relay server bytes; returns None, "close" or "hold"."""
        if self.s2c_blind:
            units = [("raw", data)]
        else:
            units = self.s_reader.feed(data)
        for kind, chunk in units:
            if kind == "line":
                chunk = self.rewrite_server_line(chunk)
                # The answer to STARTTLS ends cleartext from the server.
                if self.starttls_tag and chunk.startswith(self.starttls_tag + b" "):
                    r = self.send_limited(chunk)
                    if r:
                        return r
                    rest = self.s_reader.rest()
                    self.s2c_blind = True
                    self.tls = chunk.split(b" ")[1].upper() == b"OK"
                    if rest:
                        return self.send_limited(rest)
                    continue
            r = self.send_limited(chunk)
            if r:
                return r
        return None

    def send_limited(self, chunk):
        limit = self.server_limit()
        if limit is not None and limit < len(chunk):
            self.send_client(chunk[:max(limit, 0)])
            return self.hit_byte_fault()
        self.send_client(chunk)
        if limit is not None and limit == len(chunk) and self.args.cut_after_bytes is not None:
            return self.hit_byte_fault()
        return None

    # -- client -> server

    def from_client(self, data):
        """Relay client bytes; returns None or "close"."""
        self.note_client_bytes(data)
        if self.c2s_blind:
            self.send_server(data)
            return None
        a = self.args
        for kind, chunk in self.c_reader.feed(data):
            if kind == "line":
                if LOGIN_CMD_RE.match(chunk):
                    self.login_clear += len(chunk)
                    self.in_authenticate = chunk.split(b" ")[1].upper() == b"AUTHENTICATE"
                elif self.in_authenticate:
                    self.login_clear += len(chunk)   # SASL continuation in clear
                m = STARTTLS_CMD_RE.match(chunk)
                if m:
                    if self.faulty and a.strip_starttls:
                        self.fault("refuse-starttls")
                        self.send_client(m.group(1) + b" BAD STARTTLS not available\r\n")
                        continue
                    self.starttls_tag = m.group(1)
                    self.send_server(chunk)
                    # Whatever follows is the TLS handshake.
                    self.c2s_blind = True
                    self.send_server(self.c_reader.rest())
                    return None
                if UID_FETCH_CMD_RE.match(chunk):
                    self.uid_fetches += 1
                    # The client waits for each tagged answer before its
                    # next command: every byte the server sends from now on
                    # answers this one.
                    if self.uid_fetches == a.at_fetch:
                        self.fault_base = self.s2c
                if a.delay_fetch_ms and FETCH_CMD_RE.match(chunk):
                    time.sleep(a.delay_fetch_ms / 1000.0)
                if self.faulty and a.inject_bye_at == "fetch" and FETCH_CMD_RE.match(chunk):
                    self.fetches += 1
                    if self.fetches == a.fetch_index:
                        self.fault("bye", command=chunk.strip().decode("ascii", "replace")[:80])
                        self.send_client(b"* BYE fault_proxy: server shutting down\r\n")
                        return "close"
            else:
                if self.in_authenticate:
                    self.login_clear += len(chunk)
            self.send_server(chunk)
        return None

    # -- main loop

    def run(self):
        t0 = time.time()
        log_event(event="open", conn=self.n, faulty=self.faulty)
        if self.refuse:
            self.fault("refuse")
            self.client.close()
            self.finish(t0)
            return
        try:
            self.server = socket.create_connection(("127.0.0.1", self.args.upstream_port), timeout=5)
            self.server.settimeout(None)
        except OSError as e:
            log_event(event="upstream-error", conn=self.n, error=str(e))
            self.client.close()
            self.finish(t0)
            return
        try:
            self.loop()
        except OSError as e:
            log_event(event="socket-error", conn=self.n, error=str(e))
        finally:
            for s in (self.client, self.server):
                try:
                    s.close()
                except OSError:
                    pass
            self.finish(t0)

    def loop(self):
        a = self.args
        if self.faulty and a.cut_after_bytes == 0 and not a.at_fetch:
            self.fault("cut")
            return
        end = time.time() + a.lifetime
        socks = [self.client, self.server]
        while time.time() < end:
            r, _, _ = select.select(socks, [], [], 1.0)
            for s in r:
                data = s.recv(65536)
                if s is self.client:
                    if not data:
                        return
                    if self.blackholed:
                        self.note_client_bytes(data)
                        continue
                    if self.from_client(data) == "close":
                        return
                else:
                    if not data:
                        if self.blackholed:
                            socks = [self.client]   # keep holding the client
                            continue
                        return
                    if self.blackholed:
                        continue
                    res = self.from_server(data)
                    if res == "close":
                        return

    def finish(self, t0):
        for f in self.rec.values():
            f.close()
        log_event(event="close", conn=self.n, duration=round(time.time() - t0, 3),
                  c2s=self.c2s, s2c=self.s2c, tls=self.tls, login_clear=self.login_clear,
                  login_raw=self.login_raw, faulty=self.faulty)


# ---------------------------------------------------------------- analysis

def analyse(directory, conn):
    c2s = open(os.path.join(directory, "conn-%d.c2s" % conn), "rb").read()
    s2c = open(os.path.join(directory, "conn-%d.s2c" % conn), "rb").read()
    # Client commands by tag, with the folder selected when they were sent.
    tags, fetch_cmds, folder = set(), {}, None
    for kind, unit in LineReader().feed(c2s):
        parts = unit.strip().split(b" ", 3)
        if kind != "line" or len(parts) < 2:
            continue
        tags.add(parts[0])
        verb = parts[1].upper()
        if verb in (b"SELECT", b"EXAMINE") and len(parts) > 2:
            folder = parts[2].strip(b'"').decode("utf-8", "replace")
        if verb == b"UID" and len(parts) > 2 and parts[2].upper() == b"FETCH":
            fetch_cmds[parts[0]] = {"command": unit.strip().decode("ascii", "replace")[:120],
                                    "folder": folder}
    fetches, pos, prev_end, msgs, msg = [], 0, 0, [], None
    for kind, unit in LineReader().feed(s2c):
        start, pos = pos, pos + len(unit)
        if kind == "literal":
            if msg is not None:
                if msg["literals"] and msg["literals"][-1][1] == start:
                    msg["literals"][-1][1] = pos
                else:
                    msg["literals"].append([start, pos])
            continue
        if re.match(rb"\* \d+ FETCH ", unit):
            if msg is not None:
                msg["end"] = start
            msg = {"start": start, "uid": None, "literals": []}
            msgs.append(msg)
        elif unit.startswith(b"*") or unit.startswith(b"+"):
            if msg is not None:
                msg["end"] = start
            msg = None
        tag = unit.split(b" ", 1)[0]
        if msg is not None and msg["uid"] is None:
            uid = re.search(rb"UID (\d+)", unit)
            if uid:
                msg["uid"] = int(uid.group(1))
        if tag in tags:
            if msg is not None:
                msg["end"] = start
            if tag in fetch_cmds:
                f = dict(fetch_cmds[tag])
                f.update({"start": prev_end, "tagged": start, "end": pos, "messages": msgs})
                fetches.append(f)
            prev_end, msgs, msg = pos, [], None
    return {"total": len(s2c), "fetches": fetches}


# ---------------------------------------------------------------- main

def main():
    global log_file
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream-port", type=int)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--faulty", type=int, default=1)
    ap.add_argument("--refuse-next", type=int, default=0)
    ap.add_argument("--at-fetch", type=int, default=0)
    ap.add_argument("--implicit-tls", action="store_true")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--cut-after-bytes", type=int)
    g.add_argument("--blackhole-after-bytes", type=int)
    ap.add_argument("--inject-bye-at", choices=["fetch"])
    ap.add_argument("--fetch-index", type=int, default=1)
    ap.add_argument("--delay-fetch-ms", type=int, default=0)
    ap.add_argument("--strip-starttls", action="store_true")
    ap.add_argument("--preauth", action="store_true")
    ap.add_argument("--record")
    ap.add_argument("--lifetime", type=float, default=600)
    ap.add_argument("--analyse")
    ap.add_argument("--conn", type=int, default=1)
    a = ap.parse_args()

    if a.analyse:
        json.dump(analyse(a.analyse, a.conn), sys.stdout, indent=1)
        print()
        return 0
    if not a.upstream_port:
        ap.error("--upstream-port is required")
    if a.log:
        log_file = open(a.log, "a", encoding="utf-8")
    if a.record:
        os.makedirs(a.record, exist_ok=True)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(16)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % ls.getsockname()[1])
        os.rename(tmp, a.port_file)
    end = time.time() + a.lifetime
    n = 0
    while time.time() < end:
        ls.settimeout(max(0.1, min(1.0, end - time.time())))
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        n += 1
        Conn(n, c, a, a.faulty == 0 or n <= a.faulty,
             a.faulty > 0 and a.faulty < n <= a.faulty + a.refuse_next).start()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
