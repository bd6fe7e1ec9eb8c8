#!/usr/bin/python3
"""raw_fetch.py PORT USER PASSWORD FOLDER [--parse] [--repeat N]

The reference client of bench_sync.sh: logs in with imaplib over plain TCP
on 127.0.0.1 (the transport mercid uses in the benchmark), EXAMINEs FOLDER,
sends the same `UID FETCH 1:* (UID INTERNALDATE BODY.PEEK[HEADER.FIELDS
(...)])` as mercid and only reads the answer: it walks the lines and skips
the literals until the tagged completion, without building anything. With
--parse it lets imaplib parse the whole answer instead (slower, for
reference). Prints "SECONDS MESSAGES BYTES" for the whole session (connect
to logout), best of --repeat runs.
"""

import argparse
import imaplib
import re
import sys
import time

FIELDS = ("From To Cc Reply-To Date Message-ID In-Reply-To References Subject "
          "List-Id List-Unsubscribe Precedence Auto-Submitted X-Autoreply X-Autorespond")
ITEMS = "(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (%s)])" % FIELDS
LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


def read_answer(f, tag):
    """Reads untagged lines and literals until the tagged line; returns
    (messages, bytes)."""
    n = size = 0
    prefix = tag + b" "
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("raw_fetch: connection closed before %s completed" % tag.decode())
        size += len(line)
        if line.startswith(b"* ") and b" FETCH " in line[:24]:
            n += 1
        m = LITERAL.search(line)
        while m:
            lit = f.read(int(m.group(1)))
            size += len(lit)
            line = f.readline()
            size += len(line)
            m = LITERAL.search(line)
        if line.startswith(prefix):
            if not line[len(prefix):].startswith(b"OK"):
                raise SystemExit("raw_fetch: %s" % line.decode("utf-8", "replace").strip())
            return n, size


def session(o):
    t0 = time.monotonic()
    M = imaplib.IMAP4("127.0.0.1", o.port)
    M.login(o.user, o.password)
    typ, data = M.select(o.folder, readonly=True)
    if typ != "OK":
        raise SystemExit("raw_fetch: EXAMINE %s: %r" % (o.folder, data))
    if o.parse:
        typ, data = M.uid("FETCH", "1:*", ITEMS)
        n = sum(1 for x in data if isinstance(x, tuple))
        size = sum(len(x[1]) for x in data if isinstance(x, tuple))
    else:
        tag = b"BENCH1"
        M.send(tag + b" UID FETCH 1:* " + ITEMS.encode() + b"\r\n")
        n, size = read_answer(M.file, tag)
    M.logout()
    return time.monotonic() - t0, n, size


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("folder")
    p.add_argument("--parse", action="store_true")
    p.add_argument("--repeat", type=int, default=1)
    o = p.parse_args()
    best = None
    for _ in range(max(1, o.repeat)):
        r = session(o)
        if best is None or r[0] < best[0]:
            best = r
    print("%.3f %d %d" % best)
    return 0


if __name__ == "__main__":
    sys.exit(main())
