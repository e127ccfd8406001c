"""Saved cards (Redsys COF) and renewals charged without the customer acting (MIT), over
real HTTP against the sandbox: the card saved on a first payment, one charge per renewal
even when billing runs race, declines retried on schedule then handed to the customer, a
deleted card never charged, an expired or withdrawn reference asking for a new card."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from facturo.billing.collection import collect_renewals
from facturo.models import (
    CollectionAttempt,
    CollectionMethod,
    Document,
    OutboxMessage,
    Payment,
    Service,
)
from facturo.testing_flows import drain, run_billing
from facturo_ruralvia.models import CardAttempt, SavedCard
from facturo_ruralvia.redsys import verify_request
from facturo_ruralvia.sandbox import sandbox_ledger
from facturo_ruralvia.sandbox_cof import DECLINING_CARD, EXPIRING_CARD

from .conftest import CSRF_TOKEN, TEST_KEY, CardApp, forms_of, unpaid_proforma

APPROVE = "4548810000000003"


def pay_saving_card(http: httpx.Client, document_id: int, card: str) -> dict[str, Any]:
    """Pay ``document_id`` ticking "save this card"; return the signed request's fields."""
    page = http.get(f"/client/ruralvia/pay/{document_id}")
    assert 'name="save_card"' in page.text
    started = http.post(
        f"/client/ruralvia/pay/{document_id}", data={"csrf_token": CSRF_TOKEN, "save_card": "1"}
    )
    assert started.status_code == 200, started.text
    (form,) = [f for f in forms_of(started.text) if "Ds_Signature" in f.fields]
    fields = verify_request(
        TEST_KEY, form.fields["Ds_MerchantParameters"], form.fields["Ds_Signature"]
    )
    sandbox = http.post(form.action, data=form.fields)
    (card_form,) = forms_of(sandbox.text)
    target = httpx.URL(form.action).join(card_form.action)
    back = http.post(target, data=dict(card_form.fields, card_number=card, action="pay"))
    assert back.status_code == 303
    return fields


def customer_with_saved_card(app: CardApp, card: str = APPROVE) -> tuple[Any, date]:
    """A customer who paid their licence saving ``card``; (customer, renewal billing day)."""
    ctx = app.ctx
    customer, document = unpaid_proforma(ctx, email=f"c{card[-4:]}@example.com")
    with app.client(customer) as http:
        pay_saving_card(http, document.id, card)
    drain(ctx)
    with ctx.db.read_session() as session:
        service = session.scalar(select(Service).where(Service.customer_id == customer.id))
        assert service is not None and service.next_due_date is not None
        due = service.next_due_date
    return customer, due - timedelta(days=ctx.settings.billing.invoice_days_before)


def renewal_of(ctx: Any, customer_id: int) -> Document:
    with ctx.db.read_session() as session:
        document = session.scalar(
            select(Document).where(
                Document.customer_id == customer_id, Document.source == "renewal"
            )
        )
        assert document is not None
        return document


def emails(ctx: Any, template: str) -> list[OutboxMessage]:
    with ctx.db.read_session() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.template == template)
                .order_by(OutboxMessage.id)
            )
        )


def test_first_payment_saves_the_card_with_the_cof_initial_flags(card_app: CardApp) -> None:
    ctx = card_app.ctx
    customer, document = unpaid_proforma(ctx)
    with card_app.client(customer) as http:
        fields = pay_saving_card(http, document.id, APPROVE)
        page = http.get("/client/ruralvia/cards")
    assert fields["DS_MERCHANT_IDENTIFIER"] == "REQUIRED"
    assert fields["DS_MERCHANT_COF_INI"] == "S"
    assert fields["DS_MERCHANT_COF_TYPE"] == "R"
    with ctx.db.read_session() as session:
        (card,) = session.scalars(select(SavedCard)).all()
        method = session.get(CollectionMethod, customer.id)
        paid = session.get(Document, document.id)
    token = sandbox_ledger(ctx).tokens[card.identifier]
    assert card.customer_id == customer.id and card.cof_txnid == token.cof_txnid
    assert (card.brand, card.last4, card.expiry) == ("Visa", "0003", "4912")
    assert method is not None and method.gateway == "ruralvia"
    assert paid is not None and paid.status == "paid"
    assert page.status_code == 200 and "Visa ····0003" in page.text and "12/49" in page.text
    assert "Tarjetas guardadas" in page.text


def test_paying_without_ticking_saves_no_card(card_app: CardApp) -> None:
    ctx = card_app.ctx
    customer, document = unpaid_proforma(ctx)
    with card_app.client(customer) as http:
        started = http.post(f"/client/ruralvia/pay/{document.id}", data={"csrf_token": CSRF_TOKEN})
    (form,) = [f for f in forms_of(started.text) if "Ds_Signature" in f.fields]
    fields = verify_request(
        TEST_KEY, form.fields["Ds_MerchantParameters"], form.fields["Ds_Signature"]
    )
    assert "DS_MERCHANT_IDENTIFIER" not in fields and "DS_MERCHANT_COF_INI" not in fields


def test_renewal_charged_once_as_mit_when_the_run_is_repeated(card_app: CardApp) -> None:
    ctx = card_app.ctx
    customer, day = customer_with_saved_card(card_app)
    run_billing(ctx, day)
    run_billing(ctx, day)
    run_billing(ctx, day + timedelta(days=3))
    renewal = renewal_of(ctx, customer.id)
    with ctx.db.read_session() as session:
        document = session.get(Document, renewal.id)
        payments = list(session.scalars(select(Payment).where(Payment.document_id == renewal.id)))
        attempts = list(session.scalars(select(CollectionAttempt)))
        mit = session.scalar(select(CardAttempt).where(CardAttempt.kind == "mit"))
    assert document is not None and document.status == "paid" and document.number
    assert [p.amount for p in payments] == [document.total]
    assert [(a.attempt, a.status) for a in attempts] == [(1, "paid")]
    assert mit is not None and payments[0].gateway_txn_id == mit.order_number
    assert payments[0].details == {"card_brand": "Visa", "card_last4": "0003"}
    (card,) = sandbox_ledger(ctx).tokens.values()
    assert card.charges == 1


@pytest.mark.postgres_only
def test_two_billing_runs_racing_charge_each_renewal_once(card_app: CardApp) -> None:
    from facturo.billing.billing_run import billing_run

    ctx = card_app.ctx
    first, day = customer_with_saved_card(card_app)
    second, _ = customer_with_saved_card(card_app, "4548812049400004")
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            billing_run(ctx, day)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ctx.db.read_session() as session:
        renewals = list(session.scalars(select(Document).where(Document.source == "renewal")))
        assert sorted(d.customer_id for d in renewals) == sorted([first.id, second.id])
        assert all(d.status == "paid" for d in renewals)
        for document in renewals:
            count = session.scalar(
                select(func.count()).select_from(Payment).where(Payment.document_id == document.id)
            )
            assert count == 1
        assert session.scalar(select(func.count()).select_from(CollectionAttempt)) == 2
        mits = session.scalar(
            select(func.count()).select_from(CardAttempt).where(CardAttempt.kind == "mit")
        )
        assert mits == 2
    assert sorted(t.charges for t in sandbox_ledger(ctx).tokens.values()) == [1, 1]


def test_declined_mit_is_retried_on_schedule_then_handed_to_the_customer(
    card_app: CardApp,
) -> None:
    ctx = card_app.ctx
    customer, day = customer_with_saved_card(card_app, DECLINING_CARD)
    assert ctx.settings.billing.collection_retry_days == (1, 3, 7)
    run_billing(ctx, day)
    renewal = renewal_of(ctx, customer.id)
    assert len(emails(ctx, "collection_declined")) == 1
    run_billing(ctx, day)  # same day: nothing new is due
    for offset in (1, 2, 3, 5, 7, 8, 12):
        collect_renewals(ctx, day + timedelta(days=offset))
    drain(ctx)
    with ctx.db.read_session() as session:
        attempts = list(
            session.scalars(select(CollectionAttempt).order_by(CollectionAttempt.attempt))
        )
        document = session.get(Document, renewal.id)
    assert [(a.attempt, a.status, a.charged_on - day) for a in attempts] == [
        (1, "declined", timedelta(0)),
        (2, "declined", timedelta(1)),
        (3, "declined", timedelta(3)),
        (4, "declined", timedelta(7)),
    ]
    assert attempts[-1].retry_on is None and "0116" in attempts[-1].detail
    assert document is not None and document.status == "unpaid" and document.is_payable
    declined = emails(ctx, "collection_declined")
    final = emails(ctx, "collection_failed")
    assert len(declined) == 3 and len(final) == 1
    assert f"/client/documents/{renewal.id}" in final[0].text_body
    (token,) = [t for t in sandbox_ledger(ctx).tokens.values()]
    assert token.charges == 4


def test_a_deleted_card_is_never_charged(card_app: CardApp) -> None:
    ctx = card_app.ctx
    customer, day = customer_with_saved_card(card_app)
    other, _ = customer_with_saved_card(card_app, DECLINING_CARD)
    with ctx.db.read_session() as session:
        card = session.scalar(select(SavedCard).where(SavedCard.customer_id == customer.id))
        assert card is not None
    with card_app.client(other) as http:  # not theirs: 404, nothing deleted
        assert (
            http.post(
                f"/client/ruralvia/cards/{card.id}/delete",
                data={"csrf_token": CSRF_TOKEN, "confirm": "yes"},
            ).status_code
            == 404
        )
    with card_app.client(customer) as http:
        asked = http.post(
            f"/client/ruralvia/cards/{card.id}/delete", data={"csrf_token": CSRF_TOKEN}
        )
        assert asked.status_code == 200 and 'name="confirm"' in asked.text
        no_csrf = http.post(f"/client/ruralvia/cards/{card.id}/delete", data={"confirm": "yes"})
        assert no_csrf.status_code in (400, 403)
        with ctx.db.read_session() as session:
            assert session.get(SavedCard, card.id) is not None
        done = http.post(
            f"/client/ruralvia/cards/{card.id}/delete",
            data={"csrf_token": CSRF_TOKEN, "confirm": "yes"},
        )
        assert done.status_code == 303
        assert "Visa ····0003" not in http.get("/client/ruralvia/cards").text
    run_billing(ctx, day)
    with ctx.db.read_session() as session:
        assert session.get(SavedCard, card.id) is None
        assert session.get(CollectionMethod, customer.id) is None
    renewal = renewal_of(ctx, customer.id)
    with ctx.db.read_session() as session:
        mits = session.scalars(select(CardAttempt).where(CardAttempt.document_id == renewal.id))
        assert list(mits) == []
        attempts = session.scalars(
            select(CollectionAttempt).where(CollectionAttempt.document_id == renewal.id)
        )
        assert list(attempts) == []
    assert renewal.status == "unpaid"
    assert sandbox_ledger(ctx).tokens[card.identifier].charges == 0


def test_an_expired_card_is_marked_unusable_and_the_customer_asked_for_a_new_one(
    card_app: CardApp,
) -> None:
    ctx = card_app.ctx
    customer, day = customer_with_saved_card(card_app, EXPIRING_CARD)
    run_billing(ctx, day)
    collect_renewals(ctx, day + timedelta(days=1))
    with ctx.db.read_session() as session:
        card = session.scalar(select(SavedCard).where(SavedCard.customer_id == customer.id))
        attempts = list(session.scalars(select(CollectionAttempt)))
        method = session.get(CollectionMethod, customer.id)
    assert card is not None and card.status == "unusable" and "0101" in card.status_reason
    assert [(a.attempt, a.status) for a in attempts] == [(1, "unusable")]
    assert method is None
    (mail,) = emails(ctx, "collection_method_unusable")
    assert "Guardar esta tarjeta para las renovaciones" in mail.text_body
    with card_app.client(customer) as http:
        assert "guarda una tarjeta nueva" in http.get("/client/ruralvia/cards").text


def test_a_withdrawn_reference_is_dropped(card_app: CardApp) -> None:
    ctx = card_app.ctx
    customer, day = customer_with_saved_card(card_app)
    with ctx.db.read_session() as session:
        card = session.scalar(select(SavedCard).where(SavedCard.customer_id == customer.id))
        assert card is not None
    sandbox_ledger(ctx).withdraw(card.identifier)
    run_billing(ctx, day)
    with ctx.db.read_session() as session:
        again = session.get(SavedCard, card.id)
        attempt = session.scalar(select(CollectionAttempt))
        mit = session.scalar(select(CardAttempt).where(CardAttempt.kind == "mit"))
    assert again is not None and again.status == "unusable" and "SIS0467" in again.status_reason
    assert attempt is not None and attempt.status == "unusable"
    assert mit is not None and mit.status == "failed" and mit.response_code == "SIS0467"
    assert len(emails(ctx, "collection_method_unusable")) == 1
