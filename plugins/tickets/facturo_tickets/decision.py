"""Decide what the intake does with a parsed message: a pure function over lookup results.

The caller looks up the ticket named by ``parsed.reference`` and the customer whose address is
``parsed.sender``, then calls :func:`decide_action` and carries out the answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .intake import ParsedMessage


@dataclass(frozen=True, slots=True)
class TicketMatch:
    """The ticket a message refers to. A guest ticket has no customer but a guest address."""

    number: int
    customer_id: int | None
    guest_email: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """The customer whose (verified) address sent the message."""

    id: int


class DropReason(enum.StrEnum):
    """Why a message is dropped without an answer (loop reasons are passed through as-is)."""

    NO_SENDER = "no_sender"


@dataclass(frozen=True, slots=True)
class Join:
    """Add the message as a reply to ticket ``ticket`` (reopening it if it was closed)."""

    ticket: int


@dataclass(frozen=True, slots=True)
class Open:
    """Open a new ticket for the sending customer in ``department``.

    ``department`` is the department address the message was sent to, or None when it
    matched none (it came by Bcc or through an alias): use the default department.
    """

    department: str | None


@dataclass(frozen=True, slots=True)
class GuestTicket:
    """Open a guest ticket (no customer account) for the sender in ``department``."""

    department: str | None


@dataclass(frozen=True, slots=True)
class AutoReply:
    """Answer the unknown sender once, telling them to use the client area or register."""


@dataclass(frozen=True, slots=True)
class Drop:
    """Ignore the message; ``reason`` is a :class:`~facturo_tickets.loops.LoopReason` or a
    :class:`DropReason` value, worth logging."""

    reason: str


Action = Join | Open | GuestTicket | AutoReply | Drop


def decide_action(
    parsed: ParsedMessage,
    ticket: TicketMatch | None,
    customer: CustomerMatch | None,
    *,
    guest_tickets: bool,
) -> Action:
    """Return what to do with ``parsed``.

    ``ticket`` is the ticket numbered ``parsed.reference`` (None when there is no reference or
    no such ticket); ``customer`` is the customer owning ``parsed.sender`` (None when unknown);
    ``guest_tickets`` is the setting that lets unknown senders open guest tickets.

    Automatic mail is dropped. A reply joins its ticket only when it comes from that ticket's
    customer (or the guest address of a guest ticket); any other message is treated as new:
    a known customer opens a ticket, an unknown sender gets a guest ticket or an auto-reply.
    """
    if parsed.loop is not None:
        return Drop(str(parsed.loop))
    if not parsed.sender:
        return Drop(str(DropReason.NO_SENDER))
    if ticket is not None and _owns(ticket, parsed.sender, customer):
        return Join(ticket.number)
    if customer is not None:
        return Open(parsed.department)
    if guest_tickets:
        return GuestTicket(parsed.department)
    return AutoReply()


def _owns(ticket: TicketMatch, sender: str, customer: CustomerMatch | None) -> bool:
    if ticket.customer_id is not None:
        return customer is not None and customer.id == ticket.customer_id
    guest = (ticket.guest_email or "").strip().lower()
    return bool(guest) and guest == sender.strip().lower()
