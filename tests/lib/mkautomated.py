"""Writes a Maildir of machine-sent mail: bounces (multipart/report,
MAILER-DAEMON), vacation replies (Auto-Submitted, X-Autoreply, "Absence du
bureau"), bulk and list mail (Precedence, List-Id, List-Unsubscribe),
no-reply senders, platform notifications; in French and English. None of it
may make a contact or a nudge. Also a few messages from the owner answering
no-reply and bounce addresses, which must not make contacts either.

usage: mkautomated.py MAILDIR  (prints the number of messages written)"""
import os
import sys
import time
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

OWNER = "Camille Roy <camille@example.org>"
base = datetime(2026, 9, 1, 9, 0, tzinfo=timezone(timedelta(hours=-4)))
n = 0


def write(folder, msg):
    global n
    n += 1
    d = os.path.join(sys.argv[1], folder, "cur")
    os.makedirs(d, exist_ok=True)
    os.makedirs(os.path.join(sys.argv[1], folder, "new"), exist_ok=True)
    os.makedirs(os.path.join(sys.argv[1], folder, "tmp"), exist_ok=True)
    name = "%d.M%dP%d.auto:2,S" % (1790000000 + n, n, os.getpid())
    with open(os.path.join(d, name), "wb") as f:
        f.write(msg.as_bytes())


def message(frm, subject, body, to=OWNER, **headers):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = format_datetime(base + timedelta(hours=n * 3))
    m["Message-ID"] = "<auto-%d@machines.example>" % n
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m


def bounce(frm, subject):
    m = message(frm, subject, "Delivery to the following recipient failed permanently.")
    m.make_mixed()
    report = EmailMessage()
    report.set_content("Reporting-MTA: dns; mx.example.org\nFinal-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n")
    m.attach(report)
    m.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="%s"' % m.get_boundary())
    return m


inbox = "."
# Bounces.
write(inbox, bounce("Mail Delivery System <MAILER-DAEMON@mx.example.org>", "Undelivered Mail Returned to Sender"))
write(inbox, bounce("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)"))
write(inbox, bounce("postmaster@outlook.example", "Non remis : Proposition de mandat"))
write(inbox, bounce("Système de distribution <mailer-daemon@laposte.example>", "Échec de la remise du message"))
# Vacation and auto-replies.
write(inbox, message("Marc Gagnon <marc.gagnon@clientco.example>", "Réponse automatique : Proposition",
                     "Je suis absent jusqu'au 15 septembre.", Auto_Submitted="auto-replied"))
write(inbox, message("Julie Roy <julie@agence.example>", "Absence du bureau",
                     "Je suis en congé. Pour toute urgence, écrivez à info@agence.example.", X_Autoreply="yes"))
write(inbox, message("Peter Walsh <peter@walsh.example>", "Out of Office: intro",
                     "I am out of the office until Monday.", Auto_Submitted="auto-replied", X_Autorespond="yes"))
write(inbox, message("Sara Kim <sara@kim.example>", "Automatic reply: Meeting next week",
                     "I'm travelling with limited access to email.", Auto_Submitted="auto-generated"))
write(inbox, message("Luc Martin <luc@martin.example>", "Re: Mise en relation",
                     "Merci pour votre courriel, je vous réponds dès mon retour.", Precedence="auto_reply"))
# Lists and bulk.
for i, (frm, lid) in enumerate([
        ("Freelances du Québec <liste@freelances-qc.example>", "<freelances.freelances-qc.example>"),
        ("Réseau Pigistes <annonces@pigistes.example>", "Pigistes <annonces.pigistes.example>"),
        ("Dev Montreal <devmtl@groups.example>", "<devmtl.groups.example>"),
        ("python-list <python-list@python.example>", "<python-list.python.example>")]):
    write(inbox, message(frm, "Je vous présente notre nouveau membre %d" % i,
                         "Je vous présente Anne, qui rejoint le réseau. Rencontrez-la !",
                         to=frm, List_Id=lid, List_Unsubscribe="<mailto:unsubscribe@list.example>"))
for i, frm in enumerate(["Infolettre Boréal <infolettre@boreal.example>",
                         "Offres <offres@jobs.example>", "Deals <deals@shop.example>"]):
    write(inbox, message(frm, "Nos offres de la semaine %d" % i, "Découvrez nos offres.", Precedence="bulk"))
write(inbox, message("Marketing <news@mailchimp-like.example>", "Webinaire : trouver des clients",
                     "Inscrivez-vous.", Precedence="list"))
write(inbox, message("Promo <promo@junk.example>", "Gagnez un iPad", "Cliquez ici.", Precedence="junk"))
write(inbox, message("Conférence <events@conf.example>", "Rappel : conférence demain",
                     "À demain !", List_Unsubscribe="<https://conf.example/unsub>"))
# No-reply senders and notifications.
for frm, subj in [
        ("LinkedIn <notifications-noreply@linkedin.example>", "Amélie Tremblay vous a recommandé"),
        ("Malt <no-reply@malt.example>", "Nouvelle mission : refonte de site"),
        ("Banque <ne-pas-repondre@banque.example>", "Votre relevé est disponible"),
        ("GitHub <noreply@github.example>", "[repo] Pull request merged"),
        ("Stripe <do-not-reply@stripe.example>", "Payment received"),
        ("Calendly <donotreply@calendly.example>", "Nouvel événement : appel découverte"),
        ("Facturation <bounce+1234@billing.example>", "Facture 2026-09"),
        ("Zoom <notification@zoom.example>", "Cloud recording available"),
        ("Slack <notifications@slack.example>", "Nouveaux messages dans #général"),
        ("Doodle <mailer@doodle.example>", "Sondage : date de l'atelier")]:
    extra = {} if "mailer@" not in frm else {"Auto_Submitted": "auto-generated"}
    write(inbox, message(frm, subj, "Je vous présente une nouvelle opportunité. Merci !", **extra))
# The owner answers machines: still no contact, no nudge.
for to in ["Malt <no-reply@malt.example>", "MAILER-DAEMON@mx.example.org",
           "notifications-noreply@linkedin.example"]:
    write(".Sent", message(OWNER, "Re: pourriez-vous me désinscrire ?",
                           "Pourriez-vous me retirer de cette liste ?", to=to))
print(n)
