"""Shared fixtures for the tickets intake tests: our domains, departments, a mail factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_string
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

import pytest

from facturo_tickets.intake import ParsedMessage, parse_message

OUR_DOMAINS = ("facturo.es",)
SUPPORT = "soporte@facturo.es"
BILLING = "facturacion@facturo.es"


@pytest.fixture
def our_domains() -> tuple[str, ...]:
    return OUR_DOMAINS


@pytest.fixture
def departments() -> tuple[str, ...]:
    return (SUPPORT, BILLING)


MailFactory = Callable[..., EmailMessage]
Parse = Callable[[EmailMessage], ParsedMessage]


@pytest.fixture
def parse(our_domains: tuple[str, ...], departments: tuple[str, ...]) -> Parse:
    """Return a function that serialises a built message and parses the bytes, as the CLI would."""

    def run(message: EmailMessage) -> ParsedMessage:
        return parse_message(message.as_bytes(), our_domains, departments)

    return run


@pytest.fixture
def new_mail() -> MailFactory:
    """Return a factory of customer messages with sensible headers; tests add the content."""

    def make(
        subject: str = "Problema con el pago",
        sender: str = "Juan Pérez <juan@cliente.es>",
        to: str = f"Soporte Facturo <{SUPPORT}>",
        **headers: str,
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime(2024, 9, 3, 10, 30, tzinfo=UTC))
        message["Message-ID"] = "<CAF1234abcd@mail.gmail.com>"
        for name, value in headers.items():
            name = name.replace("_", "-")
            del message[name]  # a given header replaces the default
            message[name] = value
        return message

    return make


@pytest.fixture
def bounce() -> MIMEMultipart:
    """A delivery failure report (RFC 3464) about one of our notifications, as Gmail sends it."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"
    report["To"] = SUPPORT
    report["Subject"] = "Delivery Status Notification (Failure)"
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText("Address not found: cliente@nowhere.example\n", "plain"))
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    status.set_payload(
        [
            message_from_string("Reporting-MTA: dns; googlemail.com\n"),
            message_from_string(
                "Final-Recipient: rfc822; cliente@nowhere.example\nAction: failed\nStatus: 5.1.1\n"
            ),
        ]
    )
    report.attach(status)
    original_part = Message()
    original_part["Content-Type"] = "text/rfc822-headers"
    original_part.set_payload(f"From: {SUPPORT}\nSubject: [#T-7] Su factura\n")
    report.attach(original_part)
    return report


# --- the wired plugin ------------------------------------------------------------------------

from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from facturo.plugin import Context, Customer, StaffUser  # noqa: E402
from facturo.testing import Clock, SmtpServer, make_customer  # noqa: E402

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def is_acknowledgement(email: EmailMessage) -> bool:
    """True for the email acknowledging a new ticket (its Message-ID names "open<id>")."""
    return "-open" in (email["Message-ID"] or "")


@dataclass
class Desk:
    """A context with the tickets plugin, three departments, two customers and staff."""

    ctx: Context
    smtp: SmtpServer
    support: int  # department ids
    billing: int
    licences: int
    ana: Customer
    eve: Customer
    admin: StaffUser
    agent: StaffUser  # role support
    accountant: StaffUser  # role billing

    def replies(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The emails sent other than new tickets' acknowledgements, once ``count`` of them
        have arrived (or ``timeout`` seconds passed)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.smtp.sink.messages if not is_acknowledgement(m)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


@pytest.fixture
def desk(make_context: Callable[..., Context], smtp_server: SmtpServer, clock: Clock) -> Desk:
    from facturo.accounts.customers import create_staff
    from facturo_tickets.service import save_department

    clock.set(T0)
    ctx = make_context(plugins=("tickets",), overrides=smtp_server.settings())
    with ctx.db.transaction() as session:
        support = save_department(
            session,
            name="Soporte técnico",
            email=SUPPORT,
            default_priority="medium",
            roles=("support",),
        )
        billing = save_department(
            session,
            name="Facturación",
            email=BILLING,
            default_priority="high",
            roles=("billing",),
        )
        licences = save_department(
            session,
            name="Licencias",
            email="licencias@facturo.es",
            default_priority="urgent",
            roles=("support", "billing"),
        )
        ids = (support.id, billing.id, licences.id)
        staff: list[Any] = []
        for email, role in (
            ("admin@facturo.es", "admin"),
            ("agente@facturo.es", "support"),
            ("conta@facturo.es", "billing"),
        ):
            user, _ = create_staff(session, email, email.split("@")[0].title(), role, None)
            staff.append(user)
        session.flush()
        session.expunge_all()
    ana = make_customer(ctx, email="juan@cliente.es")
    eve = make_customer(ctx, email="eve@example.com", language="en")
    return Desk(ctx, smtp_server, *ids, ana, eve, *staff)


@pytest.fixture
def live_desk(desk: Desk) -> Iterator[tuple[Desk, str]]:
    """The app served over real HTTP; yields the desk and the base URL."""
    from facturo.testing import serve_in_thread, stop_server
    from facturo.web.app import create_app

    server = serve_in_thread(create_app(desk.ctx))
    yield desk, server.url
    stop_server(server)
