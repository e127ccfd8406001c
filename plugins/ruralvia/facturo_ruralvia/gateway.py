"""Ruralvía (Redsys) as a core :class:`~facturo.plugin.Gateway`: notifications verified with the
terminal key and settled against their attempt; pending attempts asked about with the Redsys
operation query; refunds through the REST endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import (
    Applied,
    BaseGateway,
    Context,
    Customer,
    Document,
    NotificationRejected,
    Payment,
    PendingAttempt,
    RefundResult,
    RetryLater,
    StartedPayment,
    Verified,
)

from .config import PLUGIN, SCRIPT_PATH, terminal_settings
from .models import CardAttempt
from .notification import read_notification
from .query import query_order
from .redsys import RedsysError, get_field
from .service import PayError, payment_form, refund_card_payment, settle, start_attempt

__all__ = ["GATEWAY", "RuralviaGateway", "event_key"]


def event_key(fields: Mapping[str, object]) -> str:
    """The dedupe key of an outcome: the order and its response code (shared by notifications
    and query answers, so the same outcome is recorded once whichever arrives first)."""
    response = get_field(fields, "Ds_Response")
    code = f"{int(response):04d}" if response.isdigit() else response
    return f"{get_field(fields, 'Ds_Order')}:{code}"


class RuralviaGateway(BaseGateway):
    """The Redsys virtual POS of Caja Rural."""

    name = PLUGIN

    def start_payment(self, ctx: Context, session: Session, document: Document) -> StartedPayment:
        """A pending attempt for the document's balance and the signed form posting it to the
        payment page; raises ValueError when the document cannot be paid by card."""
        customer = session.get(Customer, document.customer_id)
        if customer is None:
            raise ValueError("Document not found.")
        try:
            attempt = start_attempt(session, ctx, customer, document.id)
        except PayError as exc:
            raise ValueError(exc.message) from exc
        form = payment_form(ctx, attempt, document)
        return StartedPayment(
            attempt.order_number, form_html=form.render_html(script_src=SCRIPT_PATH)
        )

    def verify_notification(self, ctx: Context, body: str, headers: Mapping[str, str]) -> Verified:
        """Check the notification's signature with the terminal key (rejected if forged)."""
        form = dict(parse_qsl(body, keep_blank_values=True))
        try:
            fields = read_notification(terminal_settings(ctx).secret_key, form)
        except RedsysError as exc:
            raise NotificationRejected(str(exc)) from exc
        return Verified(event_key(fields), fields)

    def apply_notification(self, ctx: Context, session: Session, verified: Verified) -> Applied:
        """Settle the verified fields against their attempt (idempotent on the order)."""
        status, detail, payment_id = settle(session, ctx, verified.payload)
        return Applied(status, detail, payment_id)

    def pending_attempts(
        self, ctx: Context, started_before: datetime, started_after: datetime
    ) -> Sequence[PendingAttempt]:
        """Card attempts still ``pending`` that started inside the window."""
        with ctx.db.read_session() as session:
            rows = session.scalars(
                select(CardAttempt)
                .where(
                    CardAttempt.status == "pending",
                    CardAttempt.created_at <= started_before,
                    CardAttempt.created_at >= started_after,
                )
                .order_by(CardAttempt.id)
                .limit(500)
            )
            return [
                PendingAttempt(a.order_number, a.document_id, a.amount, a.currency, a.created_at)
                for a in rows
            ]

    def query_payment(self, ctx: Context, attempt: PendingAttempt) -> tuple[str, Verified] | None:
        """Ask Redsys (operation query) about the attempt; None while undecided or unknown."""
        settings = terminal_settings(ctx)
        try:
            with httpx.Client(timeout=20) as client:
                answer = query_order(client, settings, attempt.reference)
        except httpx.HTTPError as exc:
            raise RetryLater(f"the operation query could not be sent: {exc}") from exc
        if not answer.is_final:
            return None
        return answer.raw, Verified(event_key(answer.fields), dict(answer.fields))

    def refund(
        self, ctx: Context, session: Session, payment: Payment, amount: Decimal
    ) -> RefundResult:
        """Refund through the Redsys REST endpoint."""
        return refund_card_payment(ctx, payment, amount)

    def form_action_hosts(self, ctx: Context) -> list[str]:
        """The Redsys payment page's origin."""
        parts = urlsplit(terminal_settings(ctx).payment_url)
        return [f"{parts.scheme}://{parts.netloc}"]


GATEWAY = RuralviaGateway()
