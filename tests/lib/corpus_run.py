"""Plays a scripted conversation corpus (tests/corpus/LANG/) through a real
IMAP server and the real mercid, and compares the nudges merci made with
expected.txt at each point in time.

usage: corpus_run.py CORPUS_DIR CONFIG MERCID MERCI IMAP_PORT USER PASSWORD

For each "at TIME" block of expected.txt: APPEND (to INBOX, or to Sent when
the owner sent it) every message dated at or before TIME not yet appended,
run `mercid --once` with MERCI_NOW=TIME, then `merci --json nudges list
--all`, and compare (kind, contact, due, state) with the block's lines.
Prints one line per check; exits 1 when any check failed."""
import email
import email.utils
import imaplib
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

corpus, config, mercid, merci, port, user, password = sys.argv[1:8]
OWNER = "camille@example.org"


def load_messages():
    msgs = []
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".eml"):
            continue
        raw = open(os.path.join(corpus, name), "rb").read()
        m = email.message_from_bytes(raw)
        when = email.utils.parsedate_to_datetime(m["Date"]).timestamp()
        sender = email.utils.parseaddr(m["From"])[1].lower()
        msgs.append((when, name, raw, "Sent" if sender == OWNER else "INBOX"))
    return sorted(msgs)


def load_expected():
    blocks = []
    for line in open(os.path.join(corpus, "expected.txt"), encoding="utf-8"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("at "):
            blocks.append((line[3:].strip(), []))
        else:
            fields = tuple(f.strip() for f in line.split("|"))
            blocks[-1][1].append(fields)
    return blocks


def iso_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main():
    msgs = load_messages()
    done = set()
    failures = 0
    imap = imaplib.IMAP4("127.0.0.1", int(port))
    imap.login(user, password)
    for at, expected in load_expected():
        now = iso_ts(at)
        for when, name, raw, folder in msgs:
            if when <= now and name not in done:
                typ, data = imap.append(folder, r"(\Seen)", imaplib.Time2Internaldate(when), raw)
                if typ != "OK":
                    sys.exit("APPEND %s: %r" % (name, data))
                done.add(name)
        env = dict(os.environ, MERCI_NOW=at)
        run = subprocess.run([mercid, "--config", config, "--once"], env=env,
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            print("FAIL - mercid --once at %s exited %d: %s" % (at, run.returncode, run.stderr.strip()))
            failures += 1
            continue
        out = subprocess.run([merci, "--config", config, "--json", "nudges", "list", "--all"],
                             env=env, capture_output=True, text=True, timeout=60)
        got = set()
        for n in json.loads(out.stdout)["nudges"]:
            c = n["contact"] or {}
            got.add((n["kind"], c.get("name") or c.get("email") or "", n["due"], n["state"]))
        want = set(expected)
        if got == want:
            print("ok   - %s at %s: %d nudge(s) as expected" % (os.path.basename(corpus), at, len(want)))
        else:
            failures += 1
            print("FAIL - %s at %s" % (os.path.basename(corpus), at))
            for x in sorted(want - got):
                print("    missing:    %s" % " | ".join(x))
            for x in sorted(got - want):
                print("    unexpected: %s" % " | ".join(x))
    imap.logout()
    # Re-running the engine any number of times creates nothing new.
    env = dict(os.environ, MERCI_NOW=at)
    listing = [merci, "--config", config, "--json", "nudges", "list", "--all"]
    before = subprocess.run(listing, env=env, capture_output=True, text=True, timeout=60).stdout
    for _ in range(10):
        subprocess.run([mercid, "--config", config, "--once"], env=env,
                       capture_output=True, text=True, timeout=120)
    after = subprocess.run(listing, env=env, capture_output=True, text=True, timeout=60).stdout
    if before == after:
        print("ok   - %s: ten more mercid --once leave the nudge table unchanged" % os.path.basename(corpus))
    else:
        failures += 1
        print("FAIL - %s: ten more mercid --once changed the nudge table" % os.path.basename(corpus))
        print("    before: %s\n    after:  %s" % (before.strip(), after.strip()))
    return 1 if failures else 0


sys.exit(main())
