"""A loopback SMTP server for merci's tests, on aiosmtpd (Debian's
python3-aiosmtpd; run it with /usr/bin/python3).

Accepted messages go to a Maildir, as with aiosmtpd's Mailbox handler. Each
stage can be made to answer a fixed reply instead, to play a server that
refuses or defers:

  smtp_server.py --port P --maildir DIR [--tlscert PEM --tlskey PEM]
                 [--auth USER:PASSWORD]
                 [--greeting "421 ..."] [--ehlo "550 ..."] [--auth-reply "454 ..."]
                 [--mail "550 ..."] [--rcpt "451 ..."] [--data-cmd "452 ..."]
                 [--data "550 ..."] [--drop-before-250] [--data-delay SECONDS]
                 [--times K] [--log FILE] [--transcript DIR]

--tlscert offers STARTTLS and requires it; --auth requires AUTH (after
STARTTLS when TLS is on) with that one login.

Stages: --greeting replaces the 220 banner (then the server closes the
connection, as a server that will not serve does); --ehlo answers EHLO and
HELO (so a client cannot fall back to HELO); --auth-reply answers AUTH;
--mail, --rcpt answer those commands; --data-cmd answers the DATA command
instead of 354; --data answers after the final dot (nothing is stored).
--drop-before-250 stores the message, then drops the connection without
answering (the client cannot know it went through). --data-delay waits
that long after storing a message before the 250 (a wider window for a
client killed between the end of DATA and the reply).

A stage's value may list several replies separated by "|": the k-th
connection that reaches that stage gets the k-th reply, and once the list
is used up the server serves normally (one connection per reply code,
e.g. --rcpt "421 a|450 b|550 c").

--times K: only the first K connections that reach a scripted stage get
the scripted replies (or the drop); after that the server serves normally (a server that defers, then accepts).
Default: every time. With --greeting, a connection that only probes the
port (wait_port) takes one of the K.

--log FILE appends one line per event: "connect N", "deliver N <Message-ID>",
"drop N <Message-ID>", "reply N STAGE CODE". Runs until SIGTERM or SIGINT.

--transcript DIR writes every byte each client sends, as received (commands
and DATA alike, before any parsing), to DIR/conn-K.in, one file per
connection: what reached the server, for tests that must see it whole.
"""
import argparse
import asyncio
import email.parser
import itertools
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

STAGES = ("greeting", "ehlo", "auth", "mail", "rcpt", "datacmd", "data")


class Events:
    """Connection counter and event log, shared by every connection."""

    def __init__(self, path, times):
        self.path = path
        self.left = times
        self.lock = threading.Lock()
        self.connections = 0
        self.armed = False     # set once the controller's own test connection is done

    def connect(self):
        if not self.armed:
            return 0
        with self.lock:
            self.connections += 1
            n = self.connections
        self.log("connect %d" % n)
        return n

    def take(self, session):
        """Whether this connection gets the scripted behaviour: the first
        scripted reply of a connection uses one of K, and the rest of that
        connection follows (EHLO refused, then HELO refused too)."""
        if not self.armed:
            return False
        decided = getattr(session, "merci_scripted", None)
        if decided is not None:
            return decided
        with self.lock:
            if self.left is None:
                ok = True
            elif self.left <= 0:
                ok = False
            else:
                self.left -= 1
                ok = True
        session.merci_scripted = ok
        return ok

    def log(self, line):
        if not self.path:
            return
        with self.lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def message_id(content):
    try:
        head = email.parser.BytesHeaderParser().parsebytes(content)
        return (head.get("Message-ID") or "-").strip()
    except Exception:
        return "-"


class ScriptedMailbox(Mailbox):
    def __init__(self, maildir, replies, events, drop=False, delay=0.0):
        super().__init__(maildir)
        self.replies = replies
        self.events = events
        self.drop = drop
        self.delay = delay
        self.seq = {}

    def reply(self, session, stage):
        n = getattr(session, "merci_conn", 0)
        r = self.replies.get(stage)
        if isinstance(r, list):
            # A list: one reply per connection, in order, then normal service.
            if not self.events.armed:
                return None
            k = getattr(session, "merci_k", None)
            if k is None:
                with self.events.lock:
                    k = self.seq.get(stage, 0)
                    self.seq[stage] = k + 1
                session.merci_k = k
            if k >= len(r):
                return None
            self.events.log("reply %d %s %s" % (n, stage, r[k].split()[0]))
            return r[k]
        if r and self.events.take(session):
            self.events.log("reply %d %s %s" % (n, stage, r.split()[0]))
            return r
        return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        r = self.reply(session, "mail")
        if r:
            return r
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = self.reply(session, "rcpt")
        if r:
            return r
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        r = self.reply(session, "data")
        if r:
            return r
        status = await super().handle_DATA(server, session, envelope)
        n = getattr(session, "merci_conn", 0)
        mid = message_id(envelope.original_content or envelope.content or b"")
        if self.drop and self.events.take(session):
            self.events.log("drop %d %s" % (n, mid))
            server.transport.abort()
            # Nothing reaches the client: the stream is gone.
            raise asyncio.CancelledError()
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        self.events.log("deliver %d %s" % (n, mid))
        return status


class ScriptedSMTP(SMTP):
    """aiosmtpd's server with replies at the stages its handler cannot
    answer: greeting, EHLO/HELO, AUTH and the DATA command."""

    transcript_dir = None
    transcript_seq = itertools.count(1)

    def __init__(self, handler, **kwargs):
        super().__init__(handler, **kwargs)
        self.merci_conn = handler.events.connect()
        self.merci_transcript = None

    def data_received(self, data):
        if self.transcript_dir and self.merci_transcript is None:
            path = os.path.join(self.transcript_dir, "conn-%d.in" % next(self.transcript_seq))
            self.merci_transcript = open(path, "wb", buffering=0)
        if self.merci_transcript:
            self.merci_transcript.write(data)
        super().data_received(data)

    def connection_lost(self, exc):
        if self.merci_transcript:
            self.merci_transcript.close()
        super().connection_lost(exc)

    def _script(self, stage):
        return self.event_handler.reply(self.session, stage)

    async def _handle_client(self):
        self.session.merci_conn = self.merci_conn
        r = self._script("greeting")
        if r:
            await self.push(r)
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_EHLO(self, hostname):
        r = self._script("ehlo")
        if r:
            return await self.push(r)
        return await super().smtp_EHLO(hostname)

    async def smtp_HELO(self, hostname):
        r = self._script("ehlo")
        if r:
            return await self.push(r)
        return await super().smtp_HELO(hostname)

    async def smtp_AUTH(self, arg):
        r = self._script("auth")
        if r and self.session.extended_smtp:
            return await self.push(r)
        return await super().smtp_AUTH(arg)

    async def smtp_DATA(self, arg):
        r = self._script("datacmd")
        if r and self.envelope.rcpt_tos:
            return await self.push(r)
        return await super().smtp_DATA(arg)


class ScriptedController(Controller):
    def factory(self):
        return ScriptedSMTP(self.handler, **self.SMTP_kwargs)


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
    ap.add_argument("--auth", help="USER:PASSWORD the server requires")
    for stage in ("greeting", "ehlo", "mail", "rcpt", "data"):
        ap.add_argument("--" + stage, help="reply to give at this stage")
    ap.add_argument("--auth-reply", help="reply to give to AUTH")
    ap.add_argument("--data-cmd", help="reply to give to the DATA command (instead of 354)")
    ap.add_argument("--drop-before-250", action="store_true",
                    help="store the message, then drop the connection without a reply")
    ap.add_argument("--data-delay", type=float, default=0.0,
                    help="seconds between storing a message and the 250")
    ap.add_argument("--times", type=int, help="script only the first K connections")
    ap.add_argument("--log", help="append events to this file")
    ap.add_argument("--transcript", help="write each connection's raw input to DIR/conn-K.in")
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
    replies = {"greeting": a.greeting, "ehlo": a.ehlo, "auth": a.auth_reply,
               "mail": a.mail, "rcpt": a.rcpt, "datacmd": a.data_cmd, "data": a.data}
    for k, v in replies.items():
        if v and "|" in v:
            replies[k] = [x.strip() for x in v.split("|")]
    events = Events(a.log, a.times)
    ScriptedSMTP.transcript_dir = a.transcript
    handler = ScriptedMailbox(a.maildir, replies, events, drop=a.drop_before_250,
                              delay=a.data_delay)
    controller = ScriptedController(handler, hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    events.armed = True
    print("smtp_server: listening on 127.0.0.1:%d" % a.port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
