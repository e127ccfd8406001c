"""A minimal IMAP4rev1 server over TCP for the poll test: one folder, UID SEARCH UNSEEN,
UID FETCH BODY.PEEK[], UID STORE +FLAGS (\\Seen). Enough for imaplib, nothing more."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    user: str
    password: str
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    logins: int = 0


class _Handler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox  # type: ignore[attr-defined]
        self.send(b"* OK IMAP4rev1 test server ready")
        authed = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.strip().partition(b" ")
            command, _, args = rest.partition(b" ")
            name = command.upper()
            if name == b"CAPABILITY":
                self.send(b"* CAPABILITY IMAP4rev1")
            elif name == b"LOGIN":
                user, _, password = args.partition(b" ")
                if (
                    user.strip(b'"').decode() != box.user
                    or password.strip(b'"').decode() != box.password
                ):
                    self.send(tag + b" NO bad credentials")
                    continue
                authed = True
                box.logins += 1
            elif name == b"LOGOUT":
                self.send(b"* BYE")
                self.send(tag + b" OK bye")
                return
            elif not authed:
                self.send(tag + b" BAD log in first")
                continue
            elif name == b"SELECT":
                self.send(b"* %d EXISTS" % len(box.messages))
                self.send(tag + b" OK [READ-WRITE] selected")
                continue
            elif name == b"UID":
                sub, _, params = args.partition(b" ")
                sub = sub.upper()
                if sub == b"SEARCH":
                    unseen = [str(u).encode() for u in sorted(box.messages) if u not in box.seen]
                    self.send(b"* SEARCH " + b" ".join(unseen))
                elif sub == b"FETCH":
                    uid = int(params.split(b" ")[0])
                    data = box.messages[uid]
                    self.wfile.write(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (uid, uid, len(data)))
                    self.wfile.write(data + b")\r\n")
                elif sub == b"STORE":
                    uid = int(params.split(b" ")[0])
                    box.seen.add(uid)
                    self.send(b"* %d FETCH (UID %d FLAGS (\\Seen))" % (uid, uid))
            self.send(tag + b" OK done")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(mailbox: Mailbox) -> tuple[_Server, int]:
    """Serve ``mailbox`` on 127.0.0.1 (a free port) in a thread; stop with ``shutdown()``."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.mailbox = mailbox  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]
