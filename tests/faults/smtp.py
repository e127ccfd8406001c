"""An SMTP server (aiosmtpd) that misbehaves on purpose, for the fault suite.

``FaultySink`` records every DATA it is offered (``offered``) and every message it accepted
(``accepted``); its switches make it answer QUIT with 421, drop the connection after
accepting, take ``delay`` seconds per message, refuse DATA a number of times, or hang on the
first DATA until the client goes away (a worker killed mid-delivery).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from facturo.testing import free_port, smtp_controller


@dataclass
class FaultySink:
    quit_reply: str | None = None
    drop_after_accept: bool = False
    delay: float = 0.0
    refuse_data: int = 0
    hang_first: bool = False
    offered: list[EmailMessage] = field(default_factory=list)
    accepted: list[EmailMessage] = field(default_factory=list)
    hanging: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.offered.append(parsed)
            first = len(self.offered) == 1
        if self.hang_first and first:
            self.hanging.set()
            while not server.transport.is_closing():
                await asyncio.sleep(0.05)
            return "451 the client went away"
        if self.refuse_data > 0:
            self.refuse_data -= 1
            return "451 4.3.0 try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.accepted.append(parsed)
        if self.drop_after_accept:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> Any:
        from aiosmtpd.smtp import MISSING

        return self.quit_reply or MISSING

    def ids(self) -> Counter[str]:
        """How many times each Message-ID was accepted."""
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.accepted)

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count and time.monotonic() < deadline:
            time.sleep(0.02)


@dataclass
class FaultyServer:
    port: int
    sink: FaultySink
    controller: Any

    def settings(self) -> dict[str, Any]:
        return {"smtp.host": "127.0.0.1", "smtp.port": self.port, "smtp.security": "none"}

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        self.controller = smtp_controller(self.sink, "127.0.0.1", self.port)
        self.controller.start()


@pytest.fixture
def faulty_smtp() -> Iterator[FaultyServer]:
    """A running FaultySink server on a free port (behaving until a test flips a switch)."""
    server = FaultyServer(free_port(), FaultySink(), None)
    server.start()
    yield server
    try:
        server.stop()
    except Exception:  # already stopped by the test
        pass
