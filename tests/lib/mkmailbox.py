#!/usr/bin/python3
"""Write a test Maildir for merci, and the facts merci must find in it.

    mkmailbox.py --maildir DIR [--expected FILE] [--count N] [--seed S]

DIR receives a Maildir++ tree: INBOX in DIR/{cur,new,tmp}, the Sent folder in
DIR/.Sent/. Without --count the mailbox tells "the story" (Camille Roy,
freelance consultant in Montréal, see STORY below); with --count N it holds N
varied generic messages (people, threads, ~10 % automated mail). Output is
deterministic: fixed dates in 2026, fixed seed, fixed file names.

--expected FILE receives what merci must record, computed from the scenario
with the rules merci applies (see expected_facts):

    {"owner": ..., "identities": [...],
     "counts": {"exchanges", "inbound", "outbound", "automated", "contacts",
                "addresses" (distinct addresses in recorded exchanges, the
                owner's included)},
     "skipped": N,
     "folders": {"INBOX": {"exists", "last_uid", "recorded", "skipped"},
                 "Sent": {...}},
     "contacts": [{"name", "emails" (sorted), "messages_in", "messages_out",
                   "first", "last", "last_any"}, ...]}   newest "last" first

"last"/"first" cover the contact's non-automated exchanges; "last_any" also
counts automated mail from the contact's addresses (e.g. a vacation reply).
"""

import argparse
import base64
import datetime as dt
import json
import os
import random
import sys

OWNER_NAME = "Camille Roy"
OWNER = "camille@example.org"
IDENTITIES = ["c.roy@example.net"]
UTC = dt.timezone.utc
EDT = dt.timezone(dt.timedelta(hours=-4))
EST = dt.timezone(dt.timedelta(hours=-5))

NOREPLY_LOCALS = ("noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
                  "mailer-daemon", "notifications", "notification", "postmaster")


# ---------------------------------------------------------------- encoding

def rfc2047(text, charset="utf-8", mode="Q"):
    """Encode text as one RFC 2047 encoded-word."""
    raw = text.encode(charset)
    if mode == "B":
        return "=?%s?B?%s?=" % (charset.upper(), base64.b64encode(raw).decode())
    out = []
    for b in raw:
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isascii() and (c.isalnum() or c in "!*+-/"):
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?%s?Q?%s?=" % (charset.upper(), "".join(out))


def fmt_addr(person):
    """person = (name, addr[, encoding]) with encoding like "Q-utf-8"."""
    name, addr = person[0], person[1]
    enc = person[2] if len(person) > 2 else None
    if not name:
        return "<%s>" % addr
    if enc:
        mode, charset = enc.split("-", 1)
        return "%s <%s>" % (rfc2047(name, charset, mode), addr)
    if any(c in name for c in ',.;:"()<>@[]'):
        return '"%s" <%s>' % (name.replace('"', '\\"'), addr)
    return "%s <%s>" % (name, addr)


def rfc2822_date(when):
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
              "Oct", "Nov", "Dec")
    off = int(when.utcoffset().total_seconds()) // 60
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return "%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d" % (
        days[when.weekday()], when.day, months[when.month - 1], when.year,
        when.hour, when.minute, when.second, sign, off // 60, off % 60)


def iso_z(when):
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- messages

class Msg:
    """One message of a scenario. people are (name, addr[, encoding])."""

    __slots__ = ("key", "folders", "date", "sender", "to", "cc", "subject",
                 "subject_enc", "irt", "refs", "extra", "body", "crlf", "junk",
                 "message_id")

    def __init__(self, key, folders, date, sender=None, to=(), cc=(), subject="",
                 subject_enc=None, irt=None, refs=(), extra=(), body="",
                 crlf=False, junk=False, domain="example.org"):
        self.key = key
        self.folders = folders
        self.date = date
        self.sender = sender
        self.to = list(to)
        self.cc = list(cc)
        self.subject = subject
        self.subject_enc = subject_enc
        self.irt = irt
        self.refs = list(refs)
        self.extra = list(extra)
        self.body = body
        self.crlf = crlf
        self.junk = junk
        self.message_id = "<%s@%s>" % (key, domain)

    def header_map(self):
        """Lower-cased header names present (for the automation rules)."""
        return {k.lower(): v for k, v in self.extra}

    def render(self):
        if self.junk:
            # Binary junk: no line has the shape "Name: value".
            head = bytes([0x00, 0x9c, 0xff, 0x80, 0x7f, 0x1b, 0x5b, 0xfe, 0x20, 0xc3,
                          0x28, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x20, 0x3b, 0x00, 0x0a,
                          0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x0a])
            return head + b"\x00\x01\x02 garbage body \xff\xfe\n"
        lines = []
        lines.append("Return-Path: <%s>" % self.sender[1])
        lines.append("Date: " + rfc2822_date(self.date))
        lines.append("From: " + fmt_addr(self.sender))
        if self.to:
            lines.append("To: " + ",\n\t".join(fmt_addr(p) for p in self.to))
        if self.cc:
            lines.append("Cc: " + ", ".join(fmt_addr(p) for p in self.cc))
        subj = self.subject
        if self.subject_enc:
            mode, charset = self.subject_enc.split("-", 1)
            subj = rfc2047(subj, charset, mode)
        lines.append("Subject: " + subj)
        lines.append("Message-ID: " + self.message_id)
        if self.irt:
            lines.append("In-Reply-To: " + self.irt)
        if self.refs:
            lines.append("References: " + "\n ".join(self.refs))
        for name, value in self.extra:
            lines.append("%s: %s" % (name, value))
        body = self.body or "(sans texte)\n"
        ascii_body = all(ord(c) < 128 for c in body)
        lines.append("MIME-Version: 1.0")
        lines.append("Content-Type: text/plain; charset=%s"
                     % ("us-ascii" if ascii_body else "utf-8"))
        lines.append("Content-Transfer-Encoding: %s" % ("7bit" if ascii_body else "8bit"))
        text = "\n".join(lines) + "\n\n" + body
        if not text.endswith("\n"):
            text += "\n"
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return text.encode("utf-8")


# ---------------------------------------------------------------- the story

def story():
    """Camille Roy, freelance consultant in Montréal, September 2026."""
    def d(s, tz=EDT):
        return dt.datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=tz)

    camille = (OWNER_NAME, OWNER)
    camille_net = (OWNER_NAME, IDENTITIES[0])
    amelie = ("Amélie Tremblay", "amelie@example.com", "Q-utf-8")
    amelie_b = ("Amélie Tremblay", "amelie@example.com", "B-utf-8")
    jp = ("Jean-Philippe Côté", "jp.cote@boreal-conseil.ca", "B-iso-8859-1")
    jp_q = ("Jean-Philippe Côté", "jp.cote@boreal-conseil.ca", "Q-utf-8")
    jp_gmail = ("Jean-Philippe Côté", "jpcote@gmail.com", "Q-iso-8859-1")
    seb = ("Sébastien Lévesque", "seb@levesque.dev", "Q-iso-8859-1")
    priya = ("Priya Natarajan", "priya@northwind.io")
    tom = ("Tom Becker", "tom.becker@northwind.io")
    marc = ("Marc Gagnon", "marc.gagnon@clientco.example")
    louise = ("Louise Bélanger", "louise@cabinet-belanger.example", "Q-utf-8")
    nathalie = ("Nathalie Bergeron", "nathalie@startup.example")
    lesaffaires = ("Les Affaires", "infolettre@lesaffaires.example")
    rfq = ("Réseau Freelance Québec", "bulletin@rfq.example", "Q-utf-8")
    malt = ("Malt", "noreply@malt.example")
    linkedin = ("LinkedIn", "notifications@linkedin.example")

    def mid(key):
        return "<%s@example.org>" % key

    intro_subject = "Présentation : Jean-Philippe Côté (Boréal Conseil)"
    prop_subject = "Proposition d'accompagnement — Boréal Conseil"
    return [
        Msg("m01-intro", ["INBOX"], d("2026-09-01 10:00"), amelie, [camille], [jp],
            intro_subject, "Q-utf-8", crlf=True, body=(
                "Bonjour Camille,\n\nJe te présente Jean-Philippe Côté, associé chez "
                "Boréal Conseil. Ils cherchent quelqu'un pour revoir leurs processus "
                "de facturation, j'ai tout de suite pensé à toi.\n\nJean-Philippe, "
                "Camille est la meilleure consultante que je connaisse.\n\nAmélie\n")),
        Msg("m02-reply-intro", ["Sent"], d("2026-09-01 12:10"), camille, [amelie, jp_q], [],
            "Re: " + intro_subject, "B-utf-8", irt=mid("m01-intro"),
            refs=[mid("m01-intro")], body=(
                "Merci Amélie !\n\nJean-Philippe, enchantée. Seriez-vous disponible "
                "jeudi pour un café ?\n\nCamille\n")),
        Msg("m03-jp-cafe", ["INBOX"], d("2026-09-02 09:05"), jp, [camille], [amelie_b],
            "Re: " + intro_subject, "Q-iso-8859-1", irt=mid("m02-reply-intro"),
            refs=[mid("m01-intro"), mid("m02-reply-intro")], body=(
                "Bonjour Camille,\n\nJeudi 10 h au café Olimpico, avec plaisir.\n\nJP\n")),
        Msg("m04-proposal", ["Sent"], d("2026-09-04 15:30"), camille, [jp_q], [],
            prop_subject, "B-utf-8", crlf=True, body=(
                "Bonjour Jean-Philippe,\n\nComme convenu, voici ma proposition : "
                "douze jours d'accompagnement, 850 $ par jour.\n\nCamille\n")),
        # A reply without In-Reply-To/References, French "RE :" subject.
        Msg("m05-jp-re", ["INBOX"], d("2026-09-08 11:20"), jp, [camille], [],
            "RE : " + prop_subject, "Q-utf-8", body=(
                "Camille,\n\nC'est bon pour nous. Je fais préparer le bon de commande.\n")),
        Msg("m06-bon-de-commande", ["INBOX"], d("2026-09-10 08:45"), jp, [camille], [],
            "Bon de commande BC-2026-114", refs=[mid("m04-proposal")], body=(
                "Bonjour,\n\nVoici le bon de commande BC-2026-114 signé.\n\nJP\n")),
        # Sent to two addresses of one person (same full name).
        Msg("m07-bdc-thanks", ["Sent"], d("2026-09-10 10:15"), camille, [jp_q, jp_gmail], [],
            "Re: Bon de commande BC-2026-114", irt=mid("m06-bon-de-commande"),
            refs=[mid("m04-proposal"), mid("m06-bon-de-commande")], crlf=True, body=(
                "Bien reçu, merci ! Je l'envoie aussi à ton adresse perso comme demandé.\n")),
        # Sent from an identity of the owner.
        Msg("m08-thanks-amelie", ["Sent"], d("2026-09-11 09:00"), camille_net, [amelie], [],
            "Merci pour la présentation !", "Q-utf-8", body=(
                "Amélie,\n\nLe mandat avec Boréal est signé : merci mille fois. "
                "Je te dois un lunch !\n")),
        Msg("m09-amelie-re", ["INBOX"], d("2026-09-12 13:40"), amelie_b, [camille_net], [],
            "Re: Merci pour la présentation !", "Q-iso-8859-1",
            irt=mid("m08-thanks-amelie"), refs=[mid("m08-thanks-amelie")], body=(
                "Avec plaisir ! Et si tu croises quelqu'un qui cherche une "
                "graphiste, pense à moi.\n")),
        Msg("m10-seb-overflow", ["INBOX"], d("2026-09-14 16:00"), seb, [camille], [],
            "Un mandat en trop ?", body=(
                "Salut Camille,\n\nJ'ai un client qui cherche de l'aide en "
                "gestion de projet et je suis complet jusqu'en décembre. "
                "Intéressée ?\n\nSeb\n")),
        Msg("m11-seb-re", ["Sent"], d("2026-09-15 08:30"), camille, [seb], [amelie],
            "Re: Un mandat en trop ?", irt=mid("m10-seb-overflow"),
            refs=[mid("m10-seb-overflow")], body=(
                "Merci Seb ! Oui, volontiers. Je mets Amélie en copie : elle "
                "connaît bien ce client.\n")),
        # To self (an identity): present in INBOX and in Sent, one exchange.
        Msg("m12-notes-self", ["INBOX", "Sent"], d("2026-09-15 18:00"), camille,
            [camille_net], [], "Notes — tarifs 2026", "Q-utf-8", body=(
                "Tarif journalier 2026 : 850 $. Réviser en janvier.\n")),
        Msg("m13-priya", ["Sent"], d("2026-09-16 14:00"), camille, [priya], [],
            "Following up on our call", body=(
                "Hi Priya,\n\nThanks for your time today. As promised, here is a "
                "short summary of what I could do for Northwind.\n\nBest,\nCamille\n")),
        Msg("m14-priya-re", ["INBOX"], d("2026-09-17 10:30"), priya, [camille], [tom],
            "Re: Following up on our call", irt=mid("m13-priya"),
            refs=[mid("m13-priya")], crlf=True, body=(
                "Hi Camille,\n\nThanks, this is great. Looping in Tom, who runs "
                "operations.\n\nPriya\n")),
        Msg("m15-newsletter", ["INBOX"], d("2026-09-18 07:00"), lesaffaires, [camille], [],
            "L'infolettre du vendredi", "Q-utf-8", extra=[
                ("List-Id", "Infolettre Les Affaires <infolettre.lesaffaires.example>"),
                ("List-Unsubscribe", "<mailto:desabonnement@lesaffaires.example>")],
            body="Les nouvelles de la semaine.\n"),
        Msg("m16-junk", ["INBOX"], d("2026-09-18 12:00"), junk=True),
        Msg("m17-bulk", ["INBOX"], d("2026-09-19 06:00"), rfq, [camille], [],
            "Bulletin de septembre", extra=[("Precedence", "bulk")],
            body="Les activités du réseau ce mois-ci.\n"),
        Msg("m18-relance-marc", ["Sent"], d("2026-09-19 10:00"), camille, [marc], [],
            "Relance : offre de services", body=(
                "Bonjour Marc,\n\nJe me permets de vous relancer au sujet de mon "
                "offre de services du mois dernier.\n\nCamille Roy\n")),
        Msg("m19-vacation", ["INBOX"], d("2026-09-19 10:02"), marc, [camille], [],
            "Réponse automatique : Relance : offre de services", "Q-utf-8",
            irt=mid("m18-relance-marc"), extra=[("Auto-Submitted", "auto-replied")],
            body="Je suis absent jusqu'au 5 octobre.\n"),
        Msg("m20-noreply", ["INBOX"], d("2026-09-19 15:00"), malt, [camille], [],
            "Nouvelle mission correspondant à votre profil", "B-utf-8",
            body="Une mission pourrait vous intéresser.\n"),
        Msg("m21-notification", ["INBOX"], d("2026-09-20 07:30"), linkedin, [camille], [],
            "3 people viewed your profile", body="See who viewed your profile.\n"),
        # The follow-up nobody answered.
        Msg("m22-louise", ["Sent"], d("2026-09-21 09:00"), camille, [louise], [],
            "Suivi : notre échange du 3 septembre", "Q-utf-8", body=(
                "Bonjour Louise,\n\nSuite à notre échange du 3 septembre, je vous "
                "envoie comme promis quelques références.\n\nCamille Roy\n")),
        # An inbound-only sender: an exchange, never a contact.
        Msg("m23-nathalie", ["INBOX"], d("2026-09-22 14:00"), nathalie, [camille], [],
            "Demande d'information", body=(
                "Bonjour,\n\nOffrez-vous de la formation en gestion ?\n\nNathalie\n")),
        Msg("m24-jp-start", ["INBOX"], d("2026-09-23 09:15"), jp, [camille], [],
            "Merci ! Démarrage du mandat lundi", "B-iso-8859-1",
            irt=mid("m07-bdc-thanks"), refs=[mid("m07-bdc-thanks")], body=(
                "Camille,\n\nTout est en place, on commence lundi. Merci !\n")),
        Msg("m25-thanks-again", ["Sent"], d("2026-09-23 11:00"), camille, [amelie], [],
            "Merci encore — le mandat démarre !", "Q-utf-8", body=(
                "Amélie, le mandat Boréal démarre lundi. Merci encore, et je "
                "garde l'œil ouvert pour une graphiste.\n")),
    ]


# ---------------------------------------------------------------- generic N

FIRST = ["Amélie", "Benoît", "Chloé", "Denis", "Élodie", "François", "Gaëlle",
         "Hélène", "Isabelle", "Jérôme", "Karine", "Luc", "Mélanie", "Nicolas",
         "Océane", "Pierre", "Quentin", "Renée", "Stéphane", "Thérèse", "Ulysse",
         "Valérie", "William", "Xavier", "Yannick", "Zoé", "Alice", "Bob", "Carol",
         "David", "Emma", "Frank", "Grace", "Henry"]
LAST = ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin",
        "Lavoie", "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque",
        "Bergeron", "Leblanc", "Paquette", "Girard", "Simard", "Boucher", "Smith",
        "Johnson", "Brown", "Taylor", "Wilson", "Martin", "Lee", "Walker"]
DOMAINS = ["example.com", "exemple.ca", "firme.example", "conseil.example", "mail.example"]
TOPICS = ["Rencontre", "Proposition", "Facture", "Suivi", "Question", "Projet",
          "Meeting", "Invoice", "Follow-up", "Contrat", "Atelier", "Référence"]


def ascii_fold(s):
    table = str.maketrans("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ",
                          "aaaceeeeiioouuuyoaAAACEEEEIIOOUUUY")
    return s.translate(table).lower().replace(" ", "")


def generic(count, seed):
    rng = random.Random(seed)
    npeople = max(8, count // 40)
    people = []   # list of lists of (name, addr, enc) sharing one name
    seen = set()
    i = 0
    while len(people) < npeople:
        first = FIRST[i % len(FIRST)]
        last = LAST[(i // len(FIRST)) % len(LAST)]
        gen = i // (len(FIRST) * len(LAST))
        name = "%s %s" % (first, last) if gen == 0 else "%s %s %d" % (first, last, gen + 1)
        i += 1
        if name in seen:
            continue
        seen.add(name)
        local = ascii_fold(first) + "." + ascii_fold(last) + ("" if gen == 0 else str(gen + 1))
        enc = None
        if any(ord(c) > 127 for c in name):
            enc = rng.choice(["Q-utf-8", "B-utf-8", "Q-iso-8859-1", "B-iso-8859-1"])
        addrs = [(name, "%s@%s" % (local, DOMAINS[len(people) % len(DOMAINS)]), enc)]
        if len(people) % 10 == 3:   # a second address under the same name
            addrs.append((name, "%s@perso.example" % local, enc))
        people.append(addrs)
    strangers = [("Inconnu %d" % k, "inconnu%d@ailleurs.example" % k)
                 for k in range(max(4, count // 200))]
    camille = (OWNER_NAME, OWNER)
    camille_net = (OWNER_NAME, IDENTITIES[0])
    start = dt.datetime(2026, 1, 5, 8, 0, tzinfo=EST)
    when = start
    # Spread the messages over Jan 5 - Oct 31, 2026, whatever their number.
    step = max(2, int(2 * 290 * 86400 / max(count, 1)))
    msgs = []
    recent = []   # (message_id, subject, refs) of earlier messages to reply to
    for n in range(count):
        when = when + dt.timedelta(seconds=rng.randint(1, step))
        tz = EDT if dt.datetime(2026, 3, 8, 7, tzinfo=UTC) <= when < dt.datetime(
            2026, 11, 1, 6, tzinfo=UTC) else EST
        date = when.astimezone(tz)
        key = "g%06d" % n
        roll = rng.random()
        irt, refs, subject = None, [], "%s %d" % (rng.choice(TOPICS), n)
        if recent and rng.random() < 0.4:
            pid, psubj, prefs = recent[rng.randrange(len(recent))]
            irt, refs, subject = pid, (prefs + [pid])[-5:], "Re: " + psubj
        crlf = n % 3 == 0
        if roll < 0.10:      # automated
            kind = n % 4
            if kind == 0:
                m = Msg(key, ["INBOX"], date, ("Infolettre", "infolettre@liste.example"),
                        [camille], [], "Infolettre %d" % n,
                        extra=[("List-Id", "<infolettre.liste.example>")], crlf=crlf)
            elif kind == 1:
                m = Msg(key, ["INBOX"], date, ("Plateforme", "noreply@plateforme.example"),
                        [camille], [], "Notification %d" % n, crlf=crlf)
            elif kind == 2:
                m = Msg(key, ["INBOX"], date, ("Promo", "promo@vente.example"),
                        [camille], [], "Promotion %d" % n,
                        extra=[("Precedence", "bulk")], crlf=crlf)
            else:
                who = rng.choice(rng.choice(people))
                m = Msg(key, ["INBOX"], date, who, [camille], [], "Absent : " + subject,
                        extra=[("Auto-Submitted", "auto-replied")], crlf=crlf)
        elif roll < 0.45:    # outbound
            person = rng.choice(people)
            to = [person[0]] if len(person) == 1 or rng.random() < 0.5 else list(person)
            cc = [rng.choice(rng.choice(people))] if rng.random() < 0.2 else []
            cc = [c for c in cc if c not in to]
            sender = camille_net if rng.random() < 0.1 else camille
            m = Msg(key, ["Sent"], date, sender, to, cc, subject, irt=irt, refs=refs,
                    crlf=crlf, body="Bonjour,\n\nmessage %d\n" % n)
        elif roll < 0.90:    # inbound from a person
            who = rng.choice(rng.choice(people))
            m = Msg(key, ["INBOX"], date, who, [camille], [], subject, irt=irt,
                    refs=refs, crlf=crlf, body="Salut Camille,\n\nmessage %d\n" % n)
        else:                # inbound from a stranger
            who = rng.choice(strangers)
            m = Msg(key, ["INBOX"], date, who, [camille], [], subject, crlf=crlf,
                    body="Hello,\n\nmessage %d\n" % n)
        m.message_id = "<%s@gen.example>" % key
        if not m.subject.startswith("Re: ") and len(recent) < 64:
            recent.append((m.message_id, m.subject, m.refs))
        elif rng.random() < 0.05 and not m.subject.startswith("Re: "):
            recent[rng.randrange(len(recent))] = (m.message_id, m.subject, m.refs)
        msgs.append(m)
    return msgs


# ---------------------------------------------------------------- facts

def is_automated(m):
    h = m.header_map()
    if "list-id" in h or "list-unsubscribe" in h:
        return True
    if h.get("precedence", "").strip().lower() in ("bulk", "list", "junk"):
        return True
    auto = h.get("auto-submitted")
    if auto is not None and auto.strip().lower() != "no":
        return True
    if "x-autoreply" in h:
        return True
    local = m.sender[1].split("@", 1)[0].lower()
    return local in NOREPLY_LOCALS


def expected_facts(msgs):
    """What merci must record from msgs (the rules of the brief)."""
    ids = {OWNER} | set(IDENTITIES)
    folders = {"INBOX": {"exists": 0, "last_uid": 0, "recorded": 0, "skipped": 0},
               "Sent": {"exists": 0, "last_uid": 0, "recorded": 0, "skipped": 0}}
    unique, seen, skipped = [], set(), 0
    for m in msgs:
        for f in m.folders:
            folders[f]["exists"] += 1
            folders[f]["last_uid"] += 1
            folders[f]["skipped" if m.junk else "recorded"] += 1
        if m.junk:
            skipped += 1
            continue
        if m.message_id in seen:
            continue
        seen.add(m.message_id)
        unique.append(m)

    # Contacts: To/Cc of outbound non-automated mail, merged by full name.
    addr_name = {}
    for m in unique:
        if m.sender[1] in ids and not is_automated(m):
            for p in m.to + m.cc:
                if p[1] not in ids:
                    addr_name.setdefault(p[1], p[0])
    groups = {}
    for addr, name in addr_name.items():
        key = name.lower() if " " in name.strip() else "addr:" + addr
        groups.setdefault(key, {"name": name, "emails": []})["emails"].append(addr)
    by_addr = {}
    for g in groups.values():
        g.update(messages_in=0, messages_out=0, dates=[], any_dates=[])
        for a in g["emails"]:
            by_addr[a] = g

    counts = {"exchanges": len(unique), "inbound": 0, "outbound": 0, "automated": 0}
    for m in unique:
        auto = is_automated(m)
        out = m.sender[1] in ids
        counts["outbound" if out else "inbound"] += 1
        counts["automated"] += auto
        if out:
            if auto:
                continue
            touched = {id(by_addr[p[1]]): by_addr[p[1]] for p in m.to + m.cc
                       if p[1] in by_addr}
            for g in touched.values():
                g["messages_out"] += 1
                g["dates"].append(m.date)
                g["any_dates"].append(m.date)
        elif m.sender[1] in by_addr:
            g = by_addr[m.sender[1]]
            g["any_dates"].append(m.date)
            if not auto:
                g["messages_in"] += 1
                g["dates"].append(m.date)

    contacts = []
    for g in groups.values():
        contacts.append({
            "name": g["name"], "emails": sorted(g["emails"]),
            "messages_in": g["messages_in"], "messages_out": g["messages_out"],
            "first": iso_z(min(g["dates"])), "last": iso_z(max(g["dates"])),
            "last_any": iso_z(max(g["any_dates"]))})
    contacts.sort(key=lambda c: (c["last"], c["name"]), reverse=True)
    counts["contacts"] = len(contacts)
    # Every distinct address seen in a recorded exchange (From, To, Cc),
    # the owner's own included: merci's address book, contacts or not.
    counts["addresses"] = len({p[1].lower() for m in unique
                               for p in [m.sender] + m.to + m.cc})
    return {"owner": "%s <%s>" % (OWNER_NAME, OWNER), "identities": IDENTITIES,
            "counts": counts, "skipped": skipped, "folders": folders,
            "contacts": contacts}


# ---------------------------------------------------------------- writing

def write_maildir(root, msgs):
    for sub in ("", ".Sent"):
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, sub, d), exist_ok=True)
    seq = 0
    for m in msgs:
        data = m.render()
        ts = int(m.date.timestamp())
        for f in m.folders:
            seq += 1
            # Dovecot numbers new files in the order of this leading time.
            name = "%d.M%06dP1.mkmailbox,S=%d:2,S" % (ts, seq, len(data))
            path = os.path.join(root, ".Sent" if f == "Sent" else "", "cur", name)
            with open(path, "wb") as fh:
                fh.write(data)
            os.utime(path, (ts, ts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--maildir", required=True, help="Maildir to write into")
    ap.add_argument("--expected", help="write the expected facts (JSON) here")
    ap.add_argument("--count", type=int, help="N generic messages instead of the story")
    ap.add_argument("--seed", type=int, default=20260901)
    args = ap.parse_args()
    msgs = generic(args.count, args.seed) if args.count is not None else story()
    write_maildir(args.maildir, msgs)
    if args.expected:
        with open(args.expected, "w", encoding="utf-8") as fh:
            json.dump(expected_facts(msgs), fh, ensure_ascii=False, indent=1)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
