"""A loopback SMTP server for merci's tests, on aiosmtpd (Debian's
python3-aiosmtpd; run it with /usr/bin/python3).

Accepted messages go to a Maildir, as with aiosmtpd's Mailbox handler. Each
stage can be made to answer a fixed reply instead, to play a server that
refuses or defers:

  smtp_server.py --port P --maildir DIR [--tlscert PEM --tlskey PEM]
                 [--auth USER:PASSWORD] [--mail "550 ..."] [--rcpt "451 ..."]
                 [--data "550 ..."]

--tlscert offers STARTTLS and requires it; --auth requires AUTH (after
STARTTLS) with that one login. Runs until SIGTERM or SIGINT.
"""
import argparse
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


class ScriptedMailbox(Mailbox):
    def __init__(self, maildir, replies):
        super().__init__(maildir)
        self.replies = replies

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.replies.get("mail"):
            return self.replies["mail"]
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.replies.get("rcpt"):
            return self.replies["rcpt"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.replies.get("data"):
            return self.replies["data"]
        return await super().handle_DATA(server, session, envelope)


class OneLogin:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user and auth_data.password == self.password)
        # handled=False: aiosmtpd itself answers 535 on failure.
        return AuthResult(success=ok, handled=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--tlscert")
    ap.add_argument("--tlskey")
    ap.add_argument("--auth")
    for stage in ("mail", "rcpt", "data"):
        ap.add_argument("--" + stage, help="reply to give at this stage")
    a = ap.parse_args()

    kwargs = {}
    if a.tlscert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tlscert, a.tlskey)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        user, _, password = a.auth.partition(":")
        kwargs.update(authenticator=OneLogin(user, password), auth_required=True,
                      auth_require_tls=bool(a.tlscert))
    handler = ScriptedMailbox(a.maildir, {"mail": a.mail, "rcpt": a.rcpt, "data": a.data})
    controller = Controller(handler, hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("smtp_server: listening on 127.0.0.1:%d" % a.port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
