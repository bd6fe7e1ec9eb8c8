#!/usr/bin/python3
"""Reads what reached the SMTP server (smtp_server.py --transcript DIR: every
byte each client sent) and checks it against the store, for
tests/integration/injection.sh. Prints "ok - ..." / "FAIL - ..." lines (for
py_checks) and a summary line "injection: ...".

    injection_check.py --transcripts DIR --db DB --hostile JSON
                       --templates DIR/LANG --owner ADDR --owner-name NAME

Outside DATA only EHLO/HELO, MAIL FROM:<owner>, RCPT TO:<owner> (one per
message), DATA, RSET, NOOP and QUIT may appear, each line ending in CRLF.
Each message: CRLF line ends only, no line over 998 bytes, an ASCII header
block of exactly the fields mailbuild writes, each once, no header line
over 78 and no blank continuation; Python's email package parses it without
a defect; From and To are merci and the owner; the Subject decodes to text
without a control or line separator, and for a single nudge to exactly what
merci meant (the template's subject with the contact's label, cleaned as
mailbuild_sanitise does); the quoted-printable body has lines of at most 76
and decodes to UTF-8 without a control but CRLF. Every outbox row marked
sent reached the server exactly once, and every marker of an imported or
stored name came back in some message.
"""
import argparse
import email.parser
import email.policy
import glob
import json
import os
import quopri
import re
import sqlite3

HEADERS = {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
           "Content-Transfer-Encoding", "Content-Language", "Auto-Submitted",
           "X-Auto-Response-Suppress", "X-Merci-Nudge"}
MARKER = re.compile(r"Hx\d{5}x")


class Report:
    def __init__(self):
        self.violations = 0

    def ok(self, m):
        print("ok   - " + m)

    def fail(self, m, *d):
        self.violations += 1
        print("FAIL - " + m)
        for x in d[:8]:
            print("    " + x)

    def check(self, cond, m, *d):
        if cond:
            self.ok(m)
        else:
            self.fail(m, *d)


# ---- mailbuild_sanitise, byte for byte ----

def control_len(b, i):
    c = b[i]
    if c < 0x20 or c == 0x7f:
        return 1
    if len(b) - i >= 2 and c == 0xc2 and 0x80 <= b[i + 1] <= 0x9f:
        return 2
    if len(b) - i >= 3 and c == 0xe2 and b[i + 1] == 0x80 and b[i + 2] in (0xa8, 0xa9):
        return 3
    return 0


def seq_len(b, i):
    for k in range(1, 5):
        try:
            b[i:i + k].decode("utf-8")
            return k
        except UnicodeDecodeError:
            pass
    return 0


def sanitise(b, mx):
    b = b.split(b"\0", 1)[0]
    out, i = bytearray(), 0
    while i < len(b):
        c = control_len(b, i)
        n = c or seq_len(b, i)
        if c or b[i] == 0x20:
            if len(out) + 1 > mx:
                break
            if out and out[-1] != 0x20:
                out.append(0x20)
        elif n == 0:
            n = 1
            if len(out) + 3 > mx:
                break
            out += b"\xef\xbf\xbd"
        else:
            if len(out) + n > mx:
                break
            out += b[i:i + n]
        i += n
    return bytes(out).rstrip(b" ")


def expected_subject(template_subject, name):
    """template.c: each value cleaned to 1000 bytes, the line to 250."""
    s = template_subject.replace(b"{{name}}", sanitise(name, 1000))
    return sanitise(s, 250).decode("utf-8")


def bad_char(s, allow=""):
    for ch in s:
        o = ord(ch)
        if ch in allow:
            continue
        if o < 0x20 or 0x7f <= o <= 0x9f or o in (0x2028, 0x2029):
            return "U+%04X" % o
    return None


# ---- the SMTP dialogue ----

def sessions(rep, tdir, owner):
    """Messages (bytes, dot-unstuffed) from every transcript; checks the
    commands around them."""
    msgs = []
    allowed = re.compile(r"^(EHLO|HELO) [!-~]+$|^RSET$|^NOOP$|^QUIT$|^DATA$|"
                         r"^MAIL FROM:<%s>( SIZE=\d+| BODY=8BITMIME| SMTPUTF8)*$|"
                         r"^RCPT TO:<%s>$" % (re.escape(owner), re.escape(owner)), re.I)
    bad_cmds, files = [], sorted(glob.glob(os.path.join(tdir, "conn-*.in")))
    for path in files:
        raw = open(path, "rb").read()
        lines = raw.split(b"\r\n")
        tail = lines.pop()             # after the last CRLF: must be nothing
        if tail:
            bad_cmds.append("%s: unterminated %r" % (os.path.basename(path), tail[:80]))
        i, rcpts = 0, 0
        while i < len(lines):
            line = lines[i]
            i += 1
            text = line.decode("latin-1")
            if b"\n" in line or b"\r" in line or not allowed.match(text):
                bad_cmds.append("%s: %r" % (os.path.basename(path), line[:120]))
                continue
            cmd = text.split(" ", 1)[0].upper()
            if cmd == "MAIL":
                rcpts = 0
            elif cmd == "RCPT":
                rcpts += 1
                if rcpts > 1:
                    bad_cmds.append("%s: a second RCPT in one message" % os.path.basename(path))
            elif cmd == "DATA":
                body = []
                while i < len(lines) and lines[i] != b".":
                    body.append(lines[i][1:] if lines[i].startswith(b".") else lines[i])
                    i += 1
                if i >= len(lines):
                    bad_cmds.append("%s: DATA never ended" % os.path.basename(path))
                i += 1
                msgs.append(b"\r\n".join(body) + b"\r\n")
    rep.check(files, "the server saw %d connections" % len(files), "no transcript in " + tdir)
    rep.check(not bad_cmds, "no SMTP command but EHLO, MAIL FROM:<%s>, one RCPT TO:<%s>, "
              "DATA, QUIT (%d messages)" % (owner, owner, len(msgs)), *bad_cmds)
    return msgs


# ---- one message ----

def check_message(raw, owner, owner_name, subjects, problems):
    """Appends what is wrong with raw to problems; returns (Message-ID,
    X-Merci-Nudge, decoded subject, decoded text) or None."""
    lines = raw.split(b"\r\n")[:-1]
    for n, line in enumerate(lines):
        if b"\r" in line or b"\n" in line:
            problems.append("line %d holds a bare CR or LF: %r" % (n + 1, line[:80]))
        if len(line) > 998:
            problems.append("line %d is %d bytes" % (n + 1, len(line)))
    try:
        blank = lines.index(b"")
    except ValueError:
        problems.append("no blank line after the headers")
        return None
    names = []
    for line in lines[:blank]:
        if len(line) > 78:
            problems.append("header line of %d bytes: %r" % (len(line), line[:80]))
        if any(c >= 0x80 for c in line):
            problems.append("8-bit header line: %r" % line[:80])
        if line[:1] in (b" ", b"\t"):
            if not line.strip():
                problems.append("blank continuation line")
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not re.fullmatch(rb"[!-9;-~]+", name):
            problems.append("not a header line: %r" % line[:80])
        names.append(name.decode("latin-1"))
    extra = [h for h in names if h not in HEADERS]
    if extra or sorted(names) != sorted(HEADERS):
        problems.append("headers %s, expected each of %s once" % (sorted(names), sorted(HEADERS)))
    m = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    defects = list(m.defects) + [d for h in m.keys() for d in m[h].defects]
    if defects:
        problems.append("email package defects: %s" % defects[:3])
    who = [(x.display_name, x.addr_spec) for h in ("From", "To") for x in m[h].addresses]
    if who != [("merci", owner), (owner_name, owner)]:
        problems.append("From %r, To %r" % (m["From"], m["To"]))
    subj = str(m["Subject"] or "")
    why = bad_char(subj)
    if why:
        problems.append("subject decodes with %s: %r" % (why, subj[:100]))
    if m["Content-Transfer-Encoding"] != "quoted-printable" or m.is_multipart():
        problems.append("not one quoted-printable part")
        return None
    body = raw.split(b"\r\n\r\n", 1)[1]
    long_qp = [x for x in body.split(b"\r\n") if len(x) > 76]
    if long_qp:
        problems.append("quoted-printable line of %d bytes" % len(long_qp[0]))
    try:
        text = quopri.decodestring(body).decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append("body is not UTF-8: %s" % e)
        return None
    why = bad_char(text.replace("\r\n", ""))
    if why or "\r" in text.replace("\r\n", ""):
        problems.append("body holds %s" % (why or "a bare CR"))
    return (m["Message-ID"] or "").strip("<>"), str(m["X-Merci-Nudge"] or ""), subj, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--transcripts", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--hostile", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--owner", required=True)
    ap.add_argument("--owner-name", required=True)
    a = ap.parse_args()
    rep = Report()
    hostile = json.load(open(a.hostile))
    db = sqlite3.connect(a.db)
    db.text_factory = bytes
    subjects = {}
    for path in glob.glob(os.path.join(a.templates, "*.txt")):
        first = open(path, "rb").read().split(b"\n", 1)[0]
        subjects[os.path.basename(path)[:-4]] = first[len(b"Subject:"):]
    # What the nudge's subject was made of: the label of outbox.c's query.
    label = dict(db.execute(
        "SELECT n.id, coalesce(c.name, (SELECT a_.email FROM address a_ WHERE a_.contact_id = c.id"
        " ORDER BY (SELECT count(*) FROM participant p_ WHERE p_.address_id = a_.id) DESC,"
        " a_.email LIMIT 1)) FROM nudge n LEFT JOIN contact c ON c.id = n.contact_id"))
    kinds = {k: v.decode() for k, v in db.execute("SELECT id, kind FROM nudge")}
    sent = [r[0].decode() for r in db.execute("SELECT message_id FROM outbox WHERE state = 'sent'")]

    msgs = sessions(rep, a.transcripts, a.owner)
    seen_ids, seen_markers, bad, n_headers, n_single, n_digest = {}, set(), [], 0, 0, 0
    for k, raw in enumerate(msgs):
        problems = []
        got = check_message(raw, a.owner, a.owner_name, subjects, problems)
        n_headers += sum(1 for x in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
                         if x[:1] not in (b" ", b"\t"))
        if got:
            mid, nudge, subj, text = got
            seen_ids[mid] = seen_ids.get(mid, 0) + 1
            seen_markers.update(MARKER.findall(subj + text))
            kind, _, nid = nudge.partition(" ")
            if kind == "digest" and nid.isdigit():
                n_digest += 1
            elif kind in subjects and nid.isdigit() and int(nid) in kinds:
                n_single += 1
                name = label.get(int(nid))
                if name is None:
                    name = b"cette personne"
                want = expected_subject(subjects[kind], name)
                if subj != want:
                    problems.append("subject %r, expected %r" % (subj[:120], want[:120]))
            else:
                problems.append("X-Merci-Nudge %r names no nudge" % nudge)
        if problems:
            bad.append("message %d: %s" % (k + 1, "; ".join(problems)[:600]))
    rep.check(not bad, "%d messages (%d single nudges, %d digests): CRLF only, lines <= 998, "
              "header lines <= 78, exactly the %d headers each once, no defect, From/To "
              "merci and the owner, subjects decode clean and exactly as meant, QP body "
              "clean UTF-8" % (len(msgs), n_single, n_digest, len(HEADERS)), *bad)
    twice = [m for m, c in seen_ids.items() if c > 1]
    missing = [m for m in sent if m not in seen_ids]
    rep.check(not twice and not missing and len(seen_ids) == len(sent),
              "each of the %d outbox rows marked sent reached the server exactly once"
              % len(sent), "twice: %s" % twice[:5], "never: %s" % missing[:5],
              "received %d distinct, outbox %d" % (len(seen_ids), len(sent)))
    lost = [m for m in hostile["reach"] if m not in seen_markers]
    rep.check(not lost, "every imported or stored hostile name came back in a nudge (%d)"
              % len(hostile["reach"]), "%d never seen, e.g. %s" % (len(lost), lost[:10]))
    imap_seen = sum(m in seen_markers for m in hostile["reach_imap"])
    print("injection: %d strings tried (%d in IMAP mail, %d imported, %d stored), %d messages "
          "received, %d header fields checked, %d of %d IMAP names seen in nudges, "
          "%d violations" % (hostile["strings"], hostile["imap"], hostile["csv"],
                             hostile["store"], len(msgs), n_headers, imap_seen,
                             len(hostile["reach_imap"]), rep.violations))


if __name__ == "__main__":
    main()
