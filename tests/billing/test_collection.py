"""Renewals collected from a saved payment method through the owner-dispatched
``collect_renewal`` hook: one call per attempt, retries on the schedule with emails, the
proforma handed to the customer after the last one, and nobody charged without a method."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from facturo.billing.billing_run import billing_run
from facturo.billing.collection import (
    clear_collection_method,
    collect_renewals,
    set_collection_method,
)
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.contributions import CollectionResult
from facturo.models import CollectionAttempt, Document, OutboxMessage
from facturo.plugin import hookimpl
from facturo.testing import make_catalog, make_customer
from tests.billing.conftest import Recorder, active_service

RUN_DAY = date(2026, 3, 2)


class FakePay:
    """A collecting plugin answering from a script of outcomes ("paid" records a payment)."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []
        self.calls: list[tuple[int, int, date]] = []

    @hookimpl
    def collect_renewal(
        self, ctx: Context, document_id: int, attempt: int, charged_on: date
    ) -> CollectionResult | None:
        self.calls.append((document_id, attempt, charged_on))
        outcome = self.outcomes.pop(0) if self.outcomes else "declined"
        if outcome == "paid":
            with ctx.db.transaction() as session:
                document = session.get(Document, document_id)
                assert document is not None
                record_payment(
                    session,
                    ctx,
                    document,
                    gateway="fakepay",
                    gateway_txn_id=f"charge-{document_id}-{attempt}",
                    amount=document.balance,
                    currency=document.currency,
                    paid_at=ctx.now(),
                    raw={},
                )
        if outcome == "raise":
            raise RuntimeError("the bank is down")
        return CollectionResult(outcome, f"charge-{document_id}-{attempt}", f"{outcome} here")


class OtherPay(FakePay):
    """Implements the hook too, but owns no customer: must never be called."""


@pytest.fixture
def setup(make_context: Callable[..., Context]) -> tuple[Context, FakePay, OtherPay, Any]:
    fake, other = FakePay(), OtherPay()
    ctx = make_context(extra=[("recorder", Recorder()), ("fakepay", fake), ("otherpay", other)])
    licence, _ = make_catalog(ctx, provisioner="recorder")
    customer = make_customer(ctx)
    active_service(ctx, customer, licence, RUN_DAY + timedelta(days=7))
    with ctx.db.transaction() as session:
        set_collection_method(session, ctx, customer.id, "fakepay", "Fake ····4242")
    return ctx, fake, other, customer


def _attempts(ctx: Context) -> list[tuple[int, str, date | None]]:
    with ctx.db.read_session() as session:
        rows = session.scalars(select(CollectionAttempt).order_by(CollectionAttempt.attempt))
        return [(a.attempt, a.status, a.retry_on) for a in rows]


def _emails(ctx: Context, template: str) -> list[OutboxMessage]:
    with ctx.db.read_session() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        )
        return list(session.scalars(query))


def test_a_paid_collection_is_charged_once_by_its_owner_only(setup: Any) -> None:
    ctx, fake, other, customer = setup
    fake.outcomes = ["paid"]
    report = billing_run(ctx, RUN_DAY)
    billing_run(ctx, RUN_DAY)
    collect_renewals(ctx, RUN_DAY + timedelta(days=1))
    assert report.collection is not None and report.collection.paid == 1
    assert "1 charges: 1 paid" in report.summary()
    assert len(fake.calls) == 1 and other.calls == []
    assert _attempts(ctx) == [(1, "paid", None)]
    with ctx.db.read_session() as session:
        (document,) = session.scalars(select(Document).where(Document.source == "renewal"))
        assert document.status == "paid" and document.number


def test_declines_follow_the_schedule_then_the_proforma_is_handed_over(setup: Any) -> None:
    ctx, fake, _, customer = setup
    billing_run(ctx, RUN_DAY)
    for offset in range(1, 12):
        collect_renewals(ctx, RUN_DAY + timedelta(days=offset))
    assert [(attempt, day - RUN_DAY) for _, attempt, day in fake.calls] == [
        (1, timedelta(0)),
        (2, timedelta(1)),
        (3, timedelta(3)),
        (4, timedelta(7)),
    ]
    assert _attempts(ctx) == [
        (1, "declined", RUN_DAY + timedelta(days=1)),
        (2, "declined", RUN_DAY + timedelta(days=3)),
        (3, "declined", RUN_DAY + timedelta(days=7)),
        (4, "declined", None),
    ]
    declined = _emails(ctx, "collection_declined")
    assert len(declined) == 3
    assert "Fake ····4242" in declined[0].text_body and "03/03/2026" in declined[0].text_body
    (final,) = _emails(ctx, "collection_failed")
    assert (
        "no volveremos a intentarlo" in final.text_body and "/client/documents/" in final.text_body
    )


def test_an_error_is_retried_without_an_email_and_unknown_is_never_retried(
    setup: Any,
) -> None:
    ctx, fake, _, _ = setup
    fake.outcomes = ["raise", "unknown"]
    billing_run(ctx, RUN_DAY)
    for offset in range(1, 12):
        collect_renewals(ctx, RUN_DAY + timedelta(days=offset))
    assert [status for _, status, _ in _attempts(ctx)] == ["error", "unknown"]
    assert _emails(ctx, "collection_declined") == [] and _emails(ctx, "collection_failed") == []


def test_an_unusable_method_stops_collection_and_asks_for_a_new_one(setup: Any) -> None:
    ctx, fake, _, customer = setup
    fake.outcomes = ["unusable"]
    billing_run(ctx, RUN_DAY)
    collect_renewals(ctx, RUN_DAY + timedelta(days=1))
    assert len(fake.calls) == 1 and _attempts(ctx) == [(1, "unusable", None)]
    (mail,) = _emails(ctx, "collection_method_unusable")
    assert mail.to_address == customer.email


def test_no_method_no_charge(setup: Any) -> None:
    ctx, fake, other, customer = setup
    with ctx.db.transaction() as session:
        clear_collection_method(session, customer.id, "fakepay")
    billing_run(ctx, RUN_DAY)
    assert fake.calls == [] and other.calls == [] and _attempts(ctx) == []
