#!/usr/bin/python3
"""gen_maildir.py MAILDIR COUNT [--seed S] [--prefix P]

Writes COUNT small, varied messages into MAILDIR/cur (created with new/ and
tmp/), fast enough for 100,000 messages in a few seconds. Deterministic for a
given seed. Messages go to and from the owner camille@example.org and about
2,000 contacts; about 1 in 10 is automated (List-Id, Precedence: bulk, or
Auto-Submitted), 1 in 3 is a reply (In-Reply-To, References), some carry Cc.
"""

import argparse
import os
import random
import time

FIRST = ["Alice", "Bruno", "Chloé", "David", "Émilie", "François", "Gabrielle",
         "Hugo", "Inès", "Julien", "Karine", "Louis", "Maëlle", "Nicolas"]
LAST = ["Martin", "Lefebvre", "Dubois", "Moreau", "Laurent", "Simon", "Michel",
        "Garcia", "Bernard", "Petit", "Roux", "Fournier", "Tremblay", "Gagnon"]
DOMAINS = ["example.com", "example.net", "client.example", "studio.example",
           "agence.example", "conseil.example"]
SUBJECTS = ["Proposition de mission", "Re: devis", "Lunch next week?",
            "Introduction: meet a colleague", "Facture", "Contract renewal",
            "Quick question", "Merci !", "Suivi du projet", "Référence"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("maildir")
    p.add_argument("count", type=int)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--prefix", default="bench")
    p.add_argument("--base-time", type=int, default=1672531200)  # 2023-01-01
    o = p.parse_args()
    rng = random.Random(o.seed)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(o.maildir, sub), exist_ok=True)
    cur = os.path.join(o.maildir, "cur")
    owner = "Camille Roy <camille@example.org>"
    contacts = []
    for k in range(2000):
        f, l = rng.choice(FIRST), rng.choice(LAST)
        contacts.append('"%s %s" <%s.%s%d@%s>' % (f, l, f.lower()[:1], l.lower(), k,
                                                   rng.choice(DOMAINS)))
    span = 3 * 365 * 86400
    for i in range(1, o.count + 1):
        t = o.base_time + (span * i) // max(o.count, 1)
        c = contacts[rng.randrange(len(contacts))]
        outbound = rng.random() < 0.25
        h = []
        h.append("Return-Path: <%s>" % ("camille@example.org" if outbound else "bounce@example.com"))
        h.append("From: %s" % (owner if outbound else c))
        h.append("To: %s" % (c if outbound else owner))
        if rng.random() < 0.15:
            h.append("Cc: %s" % contacts[rng.randrange(len(contacts))])
        h.append("Subject: %s %d" % (rng.choice(SUBJECTS), i))
        h.append("Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t)))
        h.append("Message-ID: <%s.%d.%d@mail.example>" % (o.prefix, o.seed, i))
        if i > 1 and rng.random() < 0.33:
            ref = "<%s.%d.%d@mail.example>" % (o.prefix, o.seed, rng.randrange(1, i))
            h.append("In-Reply-To: %s" % ref)
            h.append("References: %s" % ref)
        r = rng.random()
        if r < 0.05:
            h.append("List-Id: News <news.list.example>")
            h.append("List-Unsubscribe: <mailto:unsubscribe@list.example>")
        elif r < 0.08:
            h.append("Precedence: bulk")
        elif r < 0.10:
            h.append("Auto-Submitted: auto-replied")
        h.append("MIME-Version: 1.0")
        h.append("Content-Type: text/plain; charset=utf-8")
        h.append("Content-Transfer-Encoding: 8bit")
        body = "Bonjour,\n\nMessage %d for the sync benchmark.\n\n-- \nmerci bench\n" % i
        data = ("\n".join(h) + "\n\n" + body).encode("utf-8")
        name = "%d.M%dP1.%s,S=%d:2,S" % (t, i, o.prefix, len(data))
        with open(os.path.join(cur, name), "wb") as f:
            f.write(data)
        os.utime(os.path.join(cur, name), (t, t))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
