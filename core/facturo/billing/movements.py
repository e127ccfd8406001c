"""Money in and out, one list: payments received and refunds given back, newest first.

The customer's payment history, the staff payment list and its CSV all read this, so a refund
shows everywhere a payment does: as its own line, with a negative amount, the credit note
that documents it and the invoice it corrects. Refunds that failed (the gateway refused, the
reservation was released) moved no money: the customer never sees them; staff do when they
ask for every status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from facturo.billing.money import ZERO
from facturo.models import Document, Payment, Refund

#: Refund states that moved (or are moving) money back to the customer.
MONEY_BACK = ("completed", "pending", "manual")


@dataclass(frozen=True)
class Movement:
    """One line of a payment history: ``kind`` is ``payment`` or ``refund``; ``amount`` is
    negative for a refund; ``document`` is the invoice paid or refunded and ``credit_note``
    the refund's credit note. ``value_date`` is set when only the day is known."""

    kind: str
    id: int
    at: datetime
    value_date: date | None
    gateway: str
    reference: str
    amount: Decimal
    currency: str
    status: str
    customer_id: int | None
    document: Document | None
    credit_note: Document | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    refunded: Decimal = ZERO
    credited: Decimal = ZERO

    @property
    def is_refund(self) -> bool:
        """True for money given back."""
        return self.kind == "refund"


def from_payment(payment: Payment) -> Movement:
    """The history line of a payment."""
    return Movement(
        kind="payment",
        id=payment.id,
        at=payment.paid_at,
        value_date=payment.value_date,
        gateway=payment.gateway,
        reference=payment.gateway_txn_id,
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        customer_id=payment.customer_id,
        document=payment.document,
        details=dict(payment.details or {}),
        refunded=payment.refunded,
        credited=payment.credited,
    )


def from_refund(refund: Refund) -> Movement:
    """The history line of a refund (negative amount; the method of the payment it returns)."""
    payment = refund.payment
    return Movement(
        kind="refund",
        id=refund.id,
        at=refund.created_at,
        value_date=None,
        gateway=refund.gateway,
        reference=refund.gateway_refund_id or "",
        amount=-refund.amount,
        currency=refund.currency,
        status=refund.status,
        customer_id=refund.document.customer_id,
        document=refund.document,
        credit_note=refund.credit_note,
        details=dict(payment.details or {}) if payment is not None else {},
    )


@dataclass(frozen=True)
class Filters:
    """What a history is narrowed to. ``kind``: ``payment``, ``refund`` or "" (both);
    ``status``: a payment or refund state; ``start``/``end``: business days, inclusive."""

    customer_id: int | None = None
    kind: str = ""
    status: str = ""
    gateway: str = ""
    start: date | None = None
    end: date | None = None
    zone: tzinfo | None = None
    every_refund: bool = False


@dataclass(frozen=True)
class Cursor:
    """Where a page of a history ended: its last line's instant, kind and id. The next page
    starts after it (keyset pagination: no OFFSET, so a deep page costs what the first does)."""

    at: datetime
    refund: bool
    id: int

    @classmethod
    def after(cls, movement: Movement) -> Cursor:
        """The cursor just past ``movement``."""
        return cls(movement.at, movement.is_refund, movement.id)

    @classmethod
    def parse(cls, token: str) -> Cursor | None:
        """The cursor written by :meth:`token`, or None when ``token`` is not one."""
        at, _, rest = token.partition("~")
        kind, _, ident = rest.partition("~")
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            return None
        if kind not in ("p", "r") or not ident.isdigit() or when.tzinfo is None:
            return None
        return cls(when, kind == "r", int(ident))

    def token(self) -> str:
        """The cursor as URL text."""
        return f"{self.at.isoformat()}~{'r' if self.refund else 'p'}~{self.id}"


def history(
    session: Session,
    filters: Filters,
    limit: int | None = 200,
    offset: int = 0,
    before: Cursor | None = None,
) -> list[Movement]:
    """Payments and refunds matching ``filters``, newest first, ``limit`` from ``offset``,
    or from just past ``before`` (refunds sort before payments of the same instant).

    Refunds that moved no money (``failed``; ``reserved`` ones are in doubt) are left out
    unless ``every_refund`` (staff) or a ``status`` filter asks for them."""
    wanted = None if limit is None else offset + limit
    rows: list[Movement] = []
    if filters.kind in ("", "payment"):
        rows.extend(from_payment(p) for p in _payments(session, filters, wanted, before))
    if filters.kind in ("", "refund"):
        rows.extend(from_refund(r) for r in _refunds(session, filters, wanted, before))
    rows.sort(key=lambda m: (m.at, m.kind == "refund", m.id), reverse=True)
    return rows[offset:] if limit is None else rows[offset : offset + limit]


def customer_history(session: Session, customer_id: int, limit: int = 200) -> list[Movement]:
    """One customer's payments and the refunds that gave money back, newest first."""
    return history(session, Filters(customer_id=customer_id), limit)


def document_movements(session: Session, document: Document) -> list[Movement]:
    """The applied payments of ``document`` and the refunds against it, oldest first."""
    payments = session.scalars(
        select(Payment)
        .where(Payment.document_id == document.id, Payment.status == "applied")
        .order_by(Payment.id)
    )
    refunds = session.scalars(
        select(Refund)
        .where(Refund.document_id == document.id, Refund.status.in_(MONEY_BACK))
        .order_by(Refund.id)
    )
    rows = [from_payment(p) for p in payments] + [from_refund(r) for r in refunds]
    return sorted(rows, key=lambda m: (m.at, m.kind == "refund", m.id))


def _window(filters: Filters) -> tuple[datetime | None, datetime | None]:
    start = end = None
    if filters.start is not None:
        start = datetime.combine(filters.start, time(), tzinfo=filters.zone)
    if filters.end is not None:
        end = datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=filters.zone)
    return start, end


def _payments(
    session: Session, filters: Filters, limit: int | None, before: Cursor | None = None
) -> list[Payment]:
    query = select(Payment).options(selectinload(Payment.document))
    if filters.status:
        query = query.where(Payment.status == filters.status)
    if filters.gateway:
        query = query.where(Payment.gateway == filters.gateway)
    if filters.customer_id is not None:
        query = query.where(Payment.customer_id == filters.customer_id)
    start, end = _window(filters)
    if start is not None:
        query = query.where(Payment.paid_at >= start)
    if end is not None:
        query = query.where(Payment.paid_at < end)
    if before is not None and before.refund:  # every payment of that instant comes after
        query = query.where(Payment.paid_at <= before.at)
    elif before is not None:  # a row-value comparison: one range on (paid_at, id)
        query = query.where(tuple_(Payment.paid_at, Payment.id) < (before.at, before.id))
    query = query.order_by(Payment.paid_at.desc(), Payment.id.desc())
    return list(session.scalars(query if limit is None else query.limit(limit)))


def _refunds(
    session: Session, filters: Filters, limit: int | None, before: Cursor | None = None
) -> list[Refund]:
    query = select(Refund).options(
        selectinload(Refund.document),
        selectinload(Refund.credit_note),
        selectinload(Refund.payment),
    )
    if filters.status:
        query = query.where(Refund.status == filters.status)
    elif not filters.every_refund:
        query = query.where(Refund.status.in_(MONEY_BACK))
    if filters.gateway:
        query = query.where(Refund.gateway == filters.gateway)
    if filters.customer_id is not None:
        # Joined only here: without a filter on it, SQLite's planner may walk every
        # document to find the (few) refunds.
        query = query.join(Document, Document.id == Refund.document_id).where(
            Document.customer_id == filters.customer_id
        )
    start, end = _window(filters)
    if start is not None:
        query = query.where(Refund.created_at >= start)
    if end is not None:
        query = query.where(Refund.created_at < end)
    if before is not None and before.refund:
        query = query.where(tuple_(Refund.created_at, Refund.id) < (before.at, before.id))
    elif before is not None:  # refunds of that instant came before the payment
        query = query.where(Refund.created_at < before.at)
    query = query.order_by(Refund.created_at.desc(), Refund.id.desc())
    return list(session.scalars(query if limit is None else query.limit(limit)))


@dataclass(frozen=True)
class Takings:
    """Money received since a moment: ``gross`` payments, ``refunds`` given back, ``net``."""

    gross: Decimal
    refunds: Decimal

    @property
    def net(self) -> Decimal:
        """Gross less refunds."""
        return self.gross - self.refunds


def takings_since(session: Session, since: datetime) -> Takings:
    """Applied payments received and refunds given back (money moved) since ``since``."""
    gross = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.status == "applied", Payment.paid_at >= since
        )
    )
    refunds = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.status.in_(MONEY_BACK), Refund.created_at >= since
        )
    )
    return Takings(Decimal(gross or ZERO), Decimal(refunds or ZERO))


def settled_value_date(session: Session, document: Document) -> date | None:
    """The value date of the last applied payment of ``document`` when only its day is known
    (a bank transfer): the document then says "paid on" that date, with no hour."""
    if document.paid_at is None:
        return None
    value_date: date | None = session.scalar(_LAST_VALUE_DATE, {"document_id": document.id})
    return value_date


#: Asked by every document PDF: one column rather than a Payment entity, and the statement
#: built once (building it took as long as running it).
_LAST_VALUE_DATE = (
    select(Payment.value_date)
    .where(Payment.document_id == bindparam("document_id"), Payment.status == "applied")
    .order_by(Payment.paid_at.desc(), Payment.id.desc())
    .limit(1)
)
