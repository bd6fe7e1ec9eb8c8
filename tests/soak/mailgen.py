#!/usr/bin/python3
"""Mail that keeps arriving during the soak (tests/soak/soak.sh).

    mailgen.py --maildir DIR --until EPOCH --every SECONDS --log FILE
               [--uid UID --gid GID]

Until EPOCH, every SECONDS, drops one new message into the Maildir++ tree
DIR (Dovecot numbers it when the folder is next opened), in turn:
  - an introduction: "Référent N" presents "Client N" to the owner, dated 5
    days ago, so a thank-you nudge is due at once (thank_after 2d);
  - an ordinary message from a friend, into INBOX;
  - a message the owner sent (into .Sent), dated 6 days ago, nobody answers
    (a follow-up nudge comes due, follow_up_after 5d).
Each message appended is logged as "KIND <Message-ID>" (flushed at once), so
the soak knows what must be recorded. --uid/--gid: owner of the new files
(Dovecot refuses mail that belongs to root).
"""
import argparse
import email.utils
import os
import time

OWNER = "Camille Roy <camille@example.org>"


def message(kind, i, now):
    if kind == "intro":
        when = now - 5 * 86400
        head = ("From: Référent %d <referent%d@example.net>\nTo: %s\n"
                "Cc: Client %d <client%d@example.com>\nSubject: Présentation %d\n"
                % (i, i, OWNER, i, i, i))
        body = ("Bonjour Camille,\n\nJe te présente Client %d, directeur chez Boréal %d. "
                "Il cherche une consultante pour un mandat.\n\nRéférent %d\n" % (i, i, i))
    elif kind == "in":
        when = now - 3600
        head = "From: Ami %d <ami%d@example.com>\nTo: %s\nSubject: Nouvelles %d\n" % (i, i, OWNER, i)
        body = "Salut Camille, des nouvelles (%d).\n" % i
    else:
        when = now - 6 * 86400
        head = ("From: %s\nTo: Prospect %d <prospect%d@example.com>\nSubject: Offre %d\n"
                % (OWNER, i, i, i))
        body = "Bonjour, voici mon offre de services (%d). Qu'en pensez-vous ?\n" % i
    mid = "<soak-%s-%05d@example.org>" % (kind, i)
    raw = ("Date: %s\n%sMessage-ID: %s\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s"
           % (email.utils.formatdate(when), head, mid, body))
    return mid, raw.encode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--until", type=float, required=True)
    ap.add_argument("--every", type=float, default=4.0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--uid", type=int)
    ap.add_argument("--gid", type=int)
    a = ap.parse_args()
    kinds = ("intro", "in", "sent")
    n = 0
    with open(a.log, "a") as log:
        while time.time() < a.until:
            kind = kinds[n % len(kinds)]
            mid, raw = message(kind, n // len(kinds), time.time())
            folder = os.path.join(a.maildir, ".Sent") if kind == "sent" else a.maildir
            name = "%d.M%dP%d.soak" % (time.time(), n, os.getpid())
            tmp = os.path.join(folder, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(raw)
            if a.uid is not None:
                os.chown(tmp, a.uid, a.gid)
            os.rename(tmp, os.path.join(folder, "new", name))
            log.write("%s %s\n" % (kind, mid))
            log.flush()
            n += 1
            time.sleep(a.every)


if __name__ == "__main__":
    main()
