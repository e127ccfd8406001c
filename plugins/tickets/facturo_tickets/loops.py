"""Mail-loop detection: recognise messages that no person wrote, so we never answer them.

Answering an auto-reply, a bounce, a mailing list or our own notification can start a loop
that floods both sides (RFC 3834 §2). Such messages are dropped before any ticket logic.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from email.message import Message
from email.utils import getaddresses

from .references import parse_message_id

#: Header our own outgoing mail carries; a message that still has it came from us.
LOOP_HEADER = "X-Facturo-Loop"

_DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_LIST_HEADERS = ("List-Id", "List-Unsubscribe")


class LoopReason(enum.StrEnum):
    """Why a message was recognised as automatic."""

    OWN_LOOP_HEADER = "own_loop_header"
    OWN_DOMAIN = "own_domain"
    AUTO_SUBMITTED = "auto_submitted"
    PRECEDENCE = "precedence"
    AUTORESPONDER = "autoresponder"
    MAILING_LIST = "mailing_list"
    NULL_RETURN_PATH = "null_return_path"
    DAEMON_SENDER = "daemon_sender"
    DELIVERY_REPORT = "delivery_report"


def is_automatic(message: Message, our_domains: Iterable[str] = ()) -> LoopReason | None:
    """Return why ``message`` is automatic (an auto-reply, bounce, list or our own mail), or None.

    ``our_domains`` are the mail domains we send from; mail from them, or from any of their
    subdomains, is ours. The result is truthy exactly when the message must not be answered.
    """
    domains = tuple(d.lower().strip(".") for d in our_domains if d)
    sender = _first_address(message, "From")
    local, _, domain = sender.rpartition("@")

    if LOOP_HEADER in message:
        return LoopReason.OWN_LOOP_HEADER
    if domain and _in_domains(domain, domains):
        return LoopReason.OWN_DOMAIN
    if parse_message_id(_header(message, "Message-ID"), domains) is not None:
        return LoopReason.OWN_DOMAIN

    auto_submitted = _header(message, "Auto-Submitted").split(";", 1)[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return LoopReason.AUTO_SUBMITTED
    if _header(message, "Precedence").strip().lower() in _BULK_PRECEDENCE:
        return LoopReason.PRECEDENCE
    if any(name in message for name in _AUTORESPONDER_HEADERS):
        return LoopReason.AUTORESPONDER
    if any(name in message for name in _LIST_HEADERS):
        return LoopReason.MAILING_LIST
    if "Return-Path" in message and _header(message, "Return-Path").strip() in ("<>", ""):
        return LoopReason.NULL_RETURN_PATH
    if local.lower() in _DAEMON_LOCAL_PARTS:
        return LoopReason.DAEMON_SENDER
    if message.get_content_type() == "multipart/report" or _has_delivery_status(message):
        return LoopReason.DELIVERY_REPORT
    return None


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
        return "" if value is None else str(value)
    except Exception:  # an unparseable header counts as absent
        return ""


def _first_address(message: Message, name: str) -> str:
    try:
        values = [str(v) for v in message.get_all(name, [])]
    except Exception:
        return ""
    for _name, address in getaddresses(values):
        if address:
            return address.strip().lower()
    return ""


def _in_domains(domain: str, domains: tuple[str, ...]) -> bool:
    domain = domain.lower().strip(".")
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _has_delivery_status(message: Message) -> bool:
    # Some MTAs send a DSN as multipart/mixed with a message/delivery-status part inside. Only
    # top-level parts count: a customer may forward a bounce to us as an attachment.
    if not message.is_multipart():
        return False
    parts = message.get_payload()
    return isinstance(parts, list) and any(
        isinstance(part, Message)
        and part.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
        for part in parts
    )
