"""Shared fixtures for the tickets intake tests: our domains, departments, a mail factory."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_string
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path

import pytest

# The plugin may not be pip-installed yet while the core is being built: import it from source.
_PLUGIN_ROOT = str(Path(__file__).resolve().parents[1])
if _PLUGIN_ROOT not in sys.path:
    sys.path.insert(0, _PLUGIN_ROOT)

from facturo_tickets.intake import ParsedMessage, parse_message  # noqa: E402

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
