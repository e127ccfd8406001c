"""Refunds: money back for a paid invoice, documented by a credit note.

A refund through a gateway is a remote call that cannot share the database transaction, so
it runs in three steps and every state in between is visible and recoverable:

``reserved``
    Step 1, one transaction with the invoice row locked: the amount is checked against what
    is left and added to ``refunded_total`` (and the payment's ``refunded``), and a Refund
    row is written. A second refund of the same invoice waits for the lock and sees the
    reservation, so together they can never exceed the total (a CHECK constraint refuses an
    invoice refunded beyond its total even if code is wrong).
``completed`` / ``pending``
    Step 2, one transaction with the invoice locked again: the gateway is asked — once, by
    the request that made the reservation and by nothing else — for exactly the reserved
    amount; on success the credit note is issued and the Refund records the gateway's id
    and status (``pending``: the gateway settles it later).
``failed``
    The gateway refused or could not be reached: the reservation is released (the amounts go
    back) and the error stays on the Refund for staff.
``manual``
    No gateway handles the payment (or staff chose a manual refund): the credit note is
    issued at once, in one transaction, and the money is returned by hand.

A Refund still ``reserved`` after the request has ended means the process stopped between
asking the gateway and recording the answer (or the database failed then): the gateway may
have paid. It is shown to staff, who check with the gateway and then confirm it (issue the
credit note) or release it, with :func:`resolve_reserved_refund`. Nothing calls the gateway
again for it, so no refund is ever paid out twice by a retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.credit import lock_document
from facturo.billing.documents import create_credit_note
from facturo.billing.errors import BillingError
from facturo.billing.money import to_money
from facturo.billing.services import change_status
from facturo.contributions import RefundResult
from facturo.delivery.outbox import enqueue_event
from facturo.models import Document, Payment, Refund, Service
from facturo.plugins import call_owner

if TYPE_CHECKING:
    from facturo.context import Context

REFUND_STATES = ("reserved", "completed", "pending", "manual", "failed")


@dataclass(frozen=True)
class RefundOutcome:
    """What became of a refund request: ``status`` is one of REFUND_STATES."""

    refund_id: int
    status: str
    amount: Decimal
    gateway: str
    credit_note_number: str | None
    error: str = ""


def refund(
    ctx: Context,
    invoice_id: int,
    amount: Decimal | None,
    reason: str,
    actor: str,
    through_gateway: bool = True,
    deprovision: bool = False,
) -> RefundOutcome:
    """Refund ``amount`` (None: everything left) of a paid invoice, reserving the amount
    before the gateway is asked and confirming or releasing it after (see the module).

    Raises BillingError (nothing written) when the amount is not refundable. A gateway error
    is not raised: the outcome says ``failed`` and carries the error.
    """
    with ctx.db.transaction() as session:
        invoice = lock_document(session, invoice_id)
        gross, payment = _reservable(session, invoice, amount)
        if not through_gateway or payment is None:
            note, row = _refund_now(session, ctx, invoice, payment, gross, reason, actor)
            _after_refund(session, ctx, invoice, note, row, actor, deprovision)
            return RefundOutcome(row.id, row.status, gross, row.gateway, note.number)
        row = _reserve(session, invoice, payment, gross, reason, actor)
        refund_id = row.id
    try:
        with ctx.db.transaction() as session:
            return _ask_gateway(session, ctx, refund_id, reason, actor, deprovision)
    except _GatewayRefused as refused:
        error = refused.message
    with ctx.db.transaction() as session:
        row = _release(session, refund_id, actor, error)
        return RefundOutcome(row.id, "failed", gross, row.gateway, None, error)


@dataclass(frozen=True)
class RefundPlan:
    """What :func:`refund` would do now: ``amount`` (explicit even when none was given), what
    is ``remaining`` on the invoice, and the ``gateway`` the money goes back through (None:
    recorded as a manual refund)."""

    amount: Decimal
    remaining: Decimal
    currency: str
    gateway: str | None

    @property
    def whole(self) -> bool:
        """True when the refund takes everything left on the invoice."""
        return self.amount == self.remaining


def plan_refund(
    session: Session, invoice: Document, amount: Decimal | None, through_gateway: bool = True
) -> RefundPlan:
    """Read-only preview of a refund of ``amount`` (None: everything left), for the
    confirmation step. Raises BillingError for an amount :func:`refund` would refuse."""
    gross, payment = _reservable(session, invoice, amount)
    gateway = payment.gateway if through_gateway and payment is not None else None
    return RefundPlan(gross, invoice.total - invoice.refunded_total, invoice.currency, gateway)


def refund_through_gateway(
    ctx: Context, session: Session, payment: Payment, amount: Decimal
) -> RefundResult | None:
    """Ask the payment's own gateway plugin (owner dispatch: the plugin registered under
    ``payment.gateway``) to send ``amount`` back; None when no such plugin refunds."""
    result: RefundResult | None = call_owner(
        ctx.plugins,
        "refund_payment",
        payment.gateway,
        ctx=ctx,
        session=session,
        payment=payment,
        amount=amount,
    )
    return result


def refund_invoice(
    session: Session,
    ctx: Context,
    invoice: Document,
    amount: Decimal | None,
    reason: str,
    actor: str,
    through_gateway: bool = True,
    deprovision: bool = False,
) -> tuple[Document, Refund]:
    """Refund inside the caller's transaction (the invoice is locked): a credit note, plus
    the money back through the payment's gateway when ``through_gateway`` and a plugin
    handles it (else a manual refund). A gateway error raises and nothing is recorded.

    For refunds asked by a person prefer :func:`refund`, which survives a crash between the
    gateway's answer and the commit; this form suits refunds that already happened at the
    gateway (``through_gateway=False``, e.g. one reported by its webhook).
    """
    invoice = lock_document(session, invoice.id)
    gross, payment = _reservable(session, invoice, amount)
    result = None
    if through_gateway and payment is not None:
        result = refund_through_gateway(ctx, session, payment, gross)
    note, row = _refund_now(session, ctx, invoice, payment, gross, reason, actor, result)
    _after_refund(session, ctx, invoice, note, row, actor, deprovision)
    return note, row


def resolve_reserved_refund(
    ctx: Context, refund_id: int, paid: bool, actor: str, gateway_refund_id: str = ""
) -> RefundOutcome:
    """Staff decision on a refund left ``reserved``: ``paid`` (the gateway did pay: issue the
    credit note, status ``completed``) or not (release the reservation, status ``failed``)."""
    with ctx.db.transaction() as session:
        row = session.get(Refund, refund_id)
        if row is None:
            raise BillingError("no such refund")
        invoice = lock_document(session, row.document_id)
        row = _locked_refund(session, refund_id)
        if row.status != "reserved":
            raise BillingError(f"the refund is {row.status}, not reserved")
        if not paid:
            row = _release(session, refund_id, actor, "released by staff: the gateway did not pay")
            return RefundOutcome(row.id, "failed", row.amount, row.gateway, None, row.reason)
        note = create_credit_note(
            session, ctx, invoice, row.amount, row.reason or "refund", actor, reserved=True
        )
        row.credit_note_id = note.id
        row.status = "completed"
        row.gateway_refund_id = gateway_refund_id.strip() or None
        session.flush()
        audit.record(
            session,
            actor,
            "refund.confirm",
            row,
            before={"status": "reserved"},
            after={"status": "completed", "credit_note": note.number},
        )
        _after_refund(session, ctx, invoice, note, row, actor, deprovision=False)
        return RefundOutcome(row.id, row.status, row.amount, row.gateway, note.number)


def reserved_refunds(session: Session, document_id: int | None = None) -> list[Refund]:
    """Refunds left ``reserved`` (in doubt once their request has ended), oldest first."""
    query = select(Refund).where(Refund.status == "reserved").order_by(Refund.id)
    if document_id is not None:
        query = query.where(Refund.document_id == document_id)
    return list(session.scalars(query))


# --- the steps --------------------------------------------------------------------------------


class _GatewayRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _reservable(
    session: Session, invoice: Document, amount: Decimal | None
) -> tuple[Decimal, Payment | None]:
    """The gross amount to refund and the payment it goes back to (invoice already locked)."""
    if invoice.kind != "invoice" or invoice.status != "paid":
        raise BillingError("only paid invoices can be refunded")
    remaining = invoice.total - invoice.refunded_total
    gross = remaining if amount is None else to_money(amount)
    if gross <= 0 or gross > remaining:
        raise BillingError(f"the amount must be more than 0 and at most {remaining}")
    payments = list(
        session.scalars(
            select(Payment)
            .where(Payment.document_id == invoice.id, Payment.status == "applied")
            .order_by(Payment.id)
        )
    )
    payment = next(
        (p for p in payments if p.amount - p.credited - p.refunded >= gross),
        payments[0] if payments else None,
    )
    return gross, payment


def _reserve(
    session: Session, invoice: Document, payment: Payment, gross: Decimal, reason: str, actor: str
) -> Refund:
    invoice.refunded_total = invoice.refunded_total + gross
    payment.refunded = payment.refunded + gross
    row = Refund(
        payment_id=payment.id,
        document_id=invoice.id,
        amount=gross,
        currency=invoice.currency,
        gateway=payment.gateway,
        status="reserved",
        reason=reason,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "refund.reserve", row, after={"amount": gross})
    return row


def _locked_refund(session: Session, refund_id: int) -> Refund:
    query = (
        select(Refund)
        .where(Refund.id == refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one()


def _ask_gateway(
    session: Session, ctx: Context, refund_id: int, reason: str, actor: str, deprovision: bool
) -> RefundOutcome:
    """Step 2: ask the gateway for the reserved amount, then issue the credit note."""
    first = session.get(Refund, refund_id)
    assert first is not None
    invoice = lock_document(session, first.document_id)
    row = _locked_refund(session, refund_id)
    if row.status != "reserved":  # staff resolved it meanwhile: never ask the gateway then
        raise BillingError(f"the refund is already {row.status}")
    payment = session.get(Payment, row.payment_id)
    assert payment is not None
    try:
        result = refund_through_gateway(ctx, session, payment, row.amount)
    except Exception as exc:  # the gateway refused or was not reached: release the amount
        raise _GatewayRefused(f"{type(exc).__name__}: {exc}"[:1000]) from exc
    note = create_credit_note(session, ctx, invoice, row.amount, reason, actor, reserved=True)
    row.credit_note_id = note.id
    if result is None:
        row.gateway, row.status = "manual", "manual"
    else:
        row.gateway, row.status = payment.gateway, result.status
        row.gateway_refund_id = result.gateway_refund_id
    session.flush()
    audit.record(
        session,
        actor,
        "refund.create",
        row,
        after={"amount": row.amount, "gateway": row.gateway, "credit_note": note.number},
    )
    _after_refund(session, ctx, invoice, note, row, actor, deprovision)
    return RefundOutcome(row.id, row.status, row.amount, row.gateway, note.number)


def _release(session: Session, refund_id: int, actor: str, error: str) -> Refund:
    """Give a reservation back (the gateway did not pay); the Refund stays as ``failed``."""
    first = session.get(Refund, refund_id)
    assert first is not None
    invoice = lock_document(session, first.document_id)
    row = _locked_refund(session, refund_id)
    if row.status != "reserved":
        raise BillingError(f"the refund is already {row.status}")
    invoice.refunded_total = invoice.refunded_total - row.amount
    payment = session.get(Payment, row.payment_id) if row.payment_id else None
    if payment is not None:
        payment.refunded = payment.refunded - row.amount
    row.status = "failed"
    row.reason = f"{row.reason} — {error}"[:2000] if row.reason else error
    session.flush()
    audit.record(
        session, actor, "refund.release", row, before={"status": "reserved"}, after={"error": error}
    )
    return row


def _refund_now(
    session: Session,
    ctx: Context,
    invoice: Document,
    payment: Payment | None,
    gross: Decimal,
    reason: str,
    actor: str,
    result: RefundResult | None = None,
) -> tuple[Document, Refund]:
    """One transaction: the credit note and the Refund (``manual`` unless ``result``)."""
    note = create_credit_note(session, ctx, invoice, gross, reason, actor=actor)
    row = Refund(
        payment_id=payment.id if payment else None,
        document_id=invoice.id,
        credit_note_id=note.id,
        amount=gross,
        currency=invoice.currency,
        gateway=payment.gateway if result is not None and payment is not None else "manual",
        gateway_refund_id=result.gateway_refund_id if result is not None else None,
        status=result.status if result is not None else "manual",
        reason=reason,
    )
    session.add(row)
    if payment is not None:
        payment.refunded = payment.refunded + gross
    session.flush()
    audit.record(
        session,
        actor,
        "refund.create",
        row,
        after={"amount": gross, "gateway": row.gateway, "credit_note": note.number},
    )
    return note, row


def _after_refund(
    session: Session,
    ctx: Context,
    invoice: Document,
    note: Document,
    row: Refund,
    actor: str,
    deprovision: bool,
) -> None:
    """The ``invoice_refunded`` event and, when asked, the billed services' termination."""
    enqueue_event(
        session,
        ctx,
        "invoice_refunded",
        {"document_id": invoice.id, "credit_note_id": note.id, "refund_id": row.id},
        f"invoice_refunded:{note.id}",
    )
    if not deprovision:
        return
    for line in invoice.lines:
        service = session.get(Service, line.service_id) if line.service_id else None
        if service is not None and service.status in ("active", "suspended"):
            change_status(
                session,
                ctx,
                service,
                "terminated",
                "terminate",
                reason="refunded",
                actor=actor,
                key=f"refund{note.id}",
            )
