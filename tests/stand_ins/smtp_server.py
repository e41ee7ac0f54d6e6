#!/usr/bin/python3
"""A real SMTP server for tests: Debian's aiosmtpd (python3-aiosmtpd) on a loopback port, writing
every message it accepts to a directory.

Usage:
  /usr/bin/python3 tests/stand_ins/smtp_server.py --dir DIR [flags]
The first line on stdout is "LISTENING PORT" (flushed). Runs until killed (SIGTERM/SIGINT).

Each accepted message is DIR/NNNN.eml (the bytes received after DATA) with DIR/NNNN.json beside
it: {"mail_from", "rcpt_tos", "auth_user", "tls"}. The .eml appears last and whole (renamed
into place), so a reader that sees it sees the JSON too.

Flags:
  --port N              port to listen on (default 0: an ephemeral port)
  --tls-cert FILE       with --tls-key: offer STARTTLS with this certificate...
  --tls-key FILE
  --require-starttls    ...and refuse mail before STARTTLS
  --implicit-tls        TLS from the first byte (smtps, port 465 style) instead of STARTTLS
  --auth USER:PASSWORD  require AUTH (PLAIN or LOGIN) with these credentials
  --reject RCPT         answer 550 to this recipient (repeatable)
"""

import argparse
import asyncio
import json
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Saver:
    def __init__(self, directory, reject, implicit):
        self.directory = directory
        self.reject = {r.lower() for r in reject}
        self.implicit = implicit
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, "%04d" % self.count)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": session.auth_data.decode() if isinstance(session.auth_data, bytes)
            else session.auth_data,
            "tls": self.implicit or bool(getattr(session, "ssl", None)),
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 OK: queued"


def main():
    # AUTH over plain text is what some tests exercise on purpose; aiosmtpd's advice is noise.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--require-starttls", action="store_true")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--auth")
    ap.add_argument("--reject", action="append", default=[])
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    authenticator = None
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            # handled=False: aiosmtpd itself answers 535 to wrong credentials.
            return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    handler = Saver(args.dir, args.reject, args.implicit_tls)

    def factory():
        return SMTP(handler, hostname="smtp.test",
                    tls_context=None if args.implicit_tls else context,
                    require_starttls=args.require_starttls and not args.implicit_tls,
                    authenticator=authenticator, auth_required=bool(args.auth),
                    auth_require_tls=bool(context))

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=args.port,
        ssl=context if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    print("LISTENING %d" % port, flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
