"""Legacy PayPal IPN: postback, verdict, business checks and the dedupe key.

The IPN body is posted back to PayPal byte for byte, prefixed with ``cmd=_notify-validate&``;
PayPal answers ``VERIFIED`` or ``INVALID``. Only a VERIFIED message that also matches what we
expected (receiver, amount, currency) may be acted on.
"""

from __future__ import annotations

import codecs
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

import httpx

__all__ = [
    "LIVE_POSTBACK_URL",
    "PAYMENT_STATUSES",
    "SANDBOX_POSTBACK_URL",
    "Expected",
    "IPNMessage",
    "Verdict",
    "dedupe_key",
    "interpret_postback",
    "parse_message",
    "postback_body",
    "postback_request",
    "postback_url",
    "validate",
]

LIVE_POSTBACK_URL = "https://ipnpb.paypal.com/cgi-bin/webscr"
SANDBOX_POSTBACK_URL = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"
DEFAULT_CHARSET = "windows-1252"
_PREFIX = b"cmd=_notify-validate"

#: Every ``payment_status`` PayPal documents; anything else is refused.
PAYMENT_STATUSES = frozenset(
    {
        "Active",
        "Cancelled",
        "Canceled_Reversal",
        "Cleared",
        "Completed",
        "Created",
        "Declined",
        "Denied",
        "Expired",
        "Failed",
        "Paid",
        "Partially_Refunded",
        "Pending",
        "Processed",
        "Refunded",
        "Refused",
        "Reversed",
        "Rewarded",
        "Unclaimed",
        "Uncleared",
        "Voided",
    }
)


def postback_body(raw: bytes) -> bytes:
    """``cmd=_notify-validate`` followed by the original body, unchanged byte for byte."""
    return _PREFIX + b"&" + raw if raw else _PREFIX


@dataclass(frozen=True)
class IPNMessage:
    """An IPN decoded with the charset it declares; ``raw`` is kept for the postback."""

    raw: bytes
    fields: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        """A field's value, or ``default`` when absent."""
        return self.fields.get(name, default)

    @property
    def is_test(self) -> bool:
        """True for sandbox/simulator messages (``test_ipn=1``)."""
        return self.get("test_ipn") == "1"


def _declared_charset(text: str) -> str:
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key == "charset":
            try:
                return codecs.lookup(value.strip()).name
            except LookupError:
                break
    return DEFAULT_CHARSET


def parse_message(raw: bytes) -> IPNMessage:
    """Decode a form-encoded IPN body with its ``charset`` field (default windows-1252).

    Undecodable bytes become U+FFFD rather than failing: the postback, not the decoding, decides
    authenticity.
    """
    # The body is percent-encoded ASCII; latin-1 maps any stray raw byte without failing.
    text = raw.decode("latin-1")
    charset = _declared_charset(text)
    pairs = parse_qsl(text, keep_blank_values=True, encoding=charset, errors="replace")
    return IPNMessage(raw=raw, fields=dict(pairs))


def postback_url(message: IPNMessage) -> str:
    """Where to post back: the sandbox endpoint for ``test_ipn=1``, else live."""
    return SANDBOX_POSTBACK_URL if message.is_test else LIVE_POSTBACK_URL


def postback_request(message: IPNMessage, url: str | None = None) -> httpx.Request:
    """The verification request to send with any httpx client (sync or async).

    Pass ``url`` explicitly to pin the environment regardless of ``test_ipn`` (recommended in
    production: a live shop should never accept a sandbox-verified message).
    """
    return httpx.Request(
        "POST",
        url or postback_url(message),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=postback_body(message.raw),
    )


class Verdict(enum.Enum):
    """PayPal's answer to a postback. ``ERROR`` means no answer: retry later, act on nothing."""

    VERIFIED = "VERIFIED"
    INVALID = "INVALID"
    ERROR = "ERROR"


def interpret_postback(status_code: int, body: bytes) -> Verdict:
    """Map the postback response to a verdict: anything but 200 VERIFIED/INVALID is ERROR."""
    if status_code != 200:
        return Verdict.ERROR
    text = body.strip()
    if text == b"VERIFIED":
        return Verdict.VERIFIED
    if text == b"INVALID":
        return Verdict.INVALID
    return Verdict.ERROR


@dataclass(frozen=True)
class Expected:
    """What we asked for: the merchant's receiver emails and the document's amount/currency."""

    receiver_emails: Iterable[str]
    amount: Decimal
    currency: str


def validate(message: IPNMessage, expected: Expected) -> list[str]:
    """Problems that forbid acting on a (verified) payment IPN; an empty list means it matches.

    Checks ``payment_status`` is a known value, ``receiver_email`` is one of ours (case-folded),
    ``mc_currency`` equals the expected currency and ``mc_gross`` equals the expected amount as a
    Decimal (so ``12.3`` matches ``Decimal("12.30")``).
    """
    problems: list[str] = []
    status = message.get("payment_status")
    if status not in PAYMENT_STATUSES:
        problems.append(f"Invalid payment_status. ({status})")
    receivers = {email.strip().casefold() for email in expected.receiver_emails}
    receiver = message.get("receiver_email").strip().casefold()
    if receiver not in receivers:
        problems.append(f"Invalid receiver_email. ({message.get('receiver_email')})")
    currency = message.get("mc_currency")
    if currency != expected.currency:
        problems.append(f"Invalid mc_currency. ({currency})")
    gross = message.get("mc_gross")
    try:
        amount = Decimal(gross)
    except InvalidOperation:
        problems.append(f"Invalid mc_gross. ({gross})")
    else:
        if not amount.is_finite() or amount != expected.amount:
            problems.append(f"Invalid mc_gross. ({gross})")
    return problems


def dedupe_key(message: IPNMessage) -> tuple[str, str]:
    """``(txn_id, payment_status)``: a repeat of both is a duplicate; Pending→Completed is not."""
    return message.get("txn_id"), message.get("payment_status")
