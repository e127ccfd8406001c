"""Consent to immediate supply recorded and emailed; withdrawal within 14 days cancels or
refunds (credit note, services ended, acknowledgement emailed); refused with a reason after
14 days, after consent, for businesses and twice."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from facturo.billing.consent import checkout_consent
from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.billing.withdrawal import WithdrawalRefused, withdraw, withdrawal_status
from facturo.context import Context
from facturo.contributions import RefundResult
from facturo.models import (
    Customer,
    Document,
    OrderTerms,
    OutboxMessage,
    Payment,
    Product,
    Refund,
    Service,
    Withdrawal,
)
from facturo.plugin import hookimpl
from facturo.testing import Clock, make_catalog, make_customer


class RefundingGateway:
    """The gateway the test payments went through: it accepts refunds and records them."""

    def __init__(self) -> None:
        self.refunds: list[Decimal] = []

    @hookimpl
    def refund_payment(
        self, ctx: Context, session: Any, payment: Payment, amount: Decimal
    ) -> RefundResult | None:
        if payment.gateway != "gw":
            return None
        self.refunds.append(amount)
        return RefundResult(f"RF-{len(self.refunds)}", "completed", amount)


@pytest.fixture
def gateway() -> RefundingGateway:
    return RefundingGateway()


@pytest.fixture
def shop(make_context: Callable[..., Context], gateway: RefundingGateway) -> Context:
    ctx = make_context(extra=[("gw", gateway)])
    make_catalog(ctx)
    return ctx


def order(
    ctx: Context, ticked: bool, company: str = "", email: str = "ana@example.com"
) -> tuple[Customer, int]:
    customer = make_customer(ctx, email=email)
    with ctx.db.transaction() as session:
        owner = session.get(Customer, customer.id)
        product = session.scalar(select(Product).where(Product.code == "licence"))
        assert owner is not None and product is not None
        owner.company = company
        consent = checkout_consent(ctx, owner, ticked)
        _, document = place_order(session, ctx, owner, product, "annual", consent=consent)
        return owner, document.id


def pay(ctx: Context, document_id: int) -> None:
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(
            session, ctx, document, "gw", f"t-{document_id}", document.total, "EUR", ctx.now()
        )


def order_email(ctx: Context) -> OutboxMessage:
    with ctx.db.read_session() as session:
        found = session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.template == "proforma_issued")
            .order_by(OutboxMessage.id)
        )
        assert found is not None
        return found


def try_withdraw(ctx: Context, customer: Customer, document_id: int) -> Withdrawal:
    with ctx.db.transaction() as session:
        fresh = session.get(Customer, customer.id)
        assert fresh is not None
        return withdraw(session, ctx, fresh, document_id)


def test_consent_is_recorded_with_time_and_version_and_confirmed_by_email(
    shop: Context, clock: Clock
) -> None:
    _customer, document_id = order(shop, ticked=True)
    with shop.db.read_session() as session:
        terms = session.scalar(select(OrderTerms).where(OrderTerms.document_id == document_id))
        assert terms is not None
        assert terms.immediate_supply and terms.consent_at == clock()
        assert terms.text_version == shop.settings.legal.consent_version
        assert "pierdo mi derecho de desistimiento" in terms.statement
    email = order_email(shop)
    assert "Has solicitado el suministro inmediato" in email.text_body
    assert "pierdo mi derecho de desistimiento" in email.text_body
    assert shop.settings.legal.consent_version in email.text_body


def test_without_consent_the_email_offers_withdrawal(shop: Context) -> None:
    _customer, document_id = order(shop, ticked=False)
    with shop.db.read_session() as session:
        terms = session.scalar(select(OrderTerms).where(OrderTerms.document_id == document_id))
        assert terms is not None and not terms.immediate_supply and terms.consent_at is None
    email = order_email(shop)
    assert "Derecho de desistimiento" in email.text_body and "14 días" in email.text_body


def test_withdrawal_of_a_paid_order_refunds_credits_and_deprovisions(
    shop: Context, gateway: RefundingGateway, clock: Clock
) -> None:
    customer, document_id = order(shop, ticked=False)
    pay(shop, document_id)
    clock.advance(days=13)
    withdrawal = try_withdraw(shop, customer, document_id)
    assert withdrawal.outcome == "refunded" and withdrawal.amount == Decimal("180.29")
    assert gateway.refunds == [Decimal("180.29")]
    with shop.db.read_session() as session:
        invoice = session.get(Document, document_id)
        assert invoice is not None and invoice.refunded_total == invoice.total
        note = session.get(Document, withdrawal.credit_note_id)
        assert note is not None and note.kind == "credit_note" and note.total == -invoice.total
        refund = session.get(Refund, withdrawal.refund_id)
        assert refund is not None and refund.gateway == "gw" and refund.gateway_refund_id
        services = list(session.scalars(select(Service)))
        assert [s.status for s in services] == ["terminated"]
        acknowledgement = session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.template == "withdrawal_confirmed")
            .order_by(OutboxMessage.id)
        )
        assert acknowledgement is not None
        assert "Hemos recibido tu desistimiento" in acknowledgement.text_body
        assert customer.email in acknowledgement.text_body  # the declaration's content
    with pytest.raises(WithdrawalRefused) as twice:
        try_withdraw(shop, customer, document_id)
    assert "already withdrawn" in twice.value.status.reason


def test_withdrawal_of_an_unpaid_order_cancels_it(shop: Context) -> None:
    customer, document_id = order(shop, ticked=False)
    withdrawal = try_withdraw(shop, customer, document_id)
    assert (withdrawal.outcome, withdrawal.amount) == ("cancelled", Decimal("0.00"))
    with shop.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.status == "cancelled"
        assert [s.status for s in session.scalars(select(Service))] == ["cancelled"]


def test_after_fourteen_days_withdrawal_is_refused_and_nothing_changes(
    shop: Context, gateway: RefundingGateway, clock: Clock
) -> None:
    customer, document_id = order(shop, ticked=False)
    pay(shop, document_id)
    clock.advance(days=15)
    with pytest.raises(WithdrawalRefused) as refused:
        try_withdraw(shop, customer, document_id)
    assert "withdrawal period ended" in refused.value.status.reason
    assert gateway.refunds == []
    with shop.db.read_session() as session:
        assert session.scalar(select(Withdrawal)) is None
        assert session.scalar(select(Refund)) is None


def test_after_consent_withdrawal_is_refused(shop: Context, gateway: RefundingGateway) -> None:
    customer, document_id = order(shop, ticked=True)
    pay(shop, document_id)
    with shop.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None
        status = withdrawal_status(session, shop, document)
    assert not status.allowed and "immediate supply" in status.reason
    with pytest.raises(WithdrawalRefused):
        try_withdraw(shop, customer, document_id)
    assert gateway.refunds == []


def test_businesses_have_no_right_of_withdrawal(shop: Context) -> None:
    customer, document_id = order(shop, ticked=False, company="Tienda Sol S.L.")
    with pytest.raises(WithdrawalRefused) as refused:
        try_withdraw(shop, customer, document_id)
    assert "consumers" in refused.value.status.reason


def test_another_customers_order_is_not_found(shop: Context) -> None:
    _owner, document_id = order(shop, ticked=False)
    other = make_customer(shop, email="otro@example.com")
    with pytest.raises(LookupError):
        try_withdraw(shop, other, document_id)


@pytest.mark.postgres_only
def test_two_simultaneous_withdrawals_refund_once(shop: Context, gateway: RefundingGateway) -> None:
    import threading

    customer, document_id = order(shop, ticked=False)
    pay(shop, document_id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            try_withdraw(shop, customer, document_id)
            outcomes.append("withdrawn")
        except WithdrawalRefused as refused:
            outcomes.append(refused.status.reason)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["You have already withdrawn from this contract.", "withdrawn"]
    assert len(gateway.refunds) == 1
    with shop.db.read_session() as session:
        assert len(list(session.scalars(select(Withdrawal)))) == 1
        assert len(list(session.scalars(select(Refund)))) == 1
