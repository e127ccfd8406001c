"""Reconciliation: pending card attempts asked about with the Redsys operation query
(answered by the sandbox, which speaks the SOAP protocol)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from facturo.gateways.reconcile import reconcile
from facturo.models import GatewayNotification, Payment
from facturo_ruralvia.config import terminal_settings
from facturo_ruralvia.currency import currency, to_minor_units
from facturo_ruralvia.models import CardAttempt
from facturo_ruralvia.query import build_request, parse_reply, query_order
from facturo_ruralvia.redsys import RedsysError, signed_message
from facturo_ruralvia.sandbox import sandbox_ledger

from .conftest import CardApp
from .test_notifications import count, new_attempt, notification_fields, post

OTHER_KEY = "Mk9m98IfEblmPfrpsawt7BmxObt98Jev"


@pytest.fixture
def reconciling_app(make_context: Callable[..., Any]) -> Iterator[CardApp]:
    from facturo.testing import free_port, serve_in_thread, stop_server
    from facturo.web.app import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(
        plugins=("ruralvia",), overrides={"base_url": url, "gateways.reconcile_after_seconds": 0}
    )
    live = serve_in_thread(create_app(ctx), port=port)
    yield CardApp(ctx, url, live.server, live.thread)
    stop_server(live)


def bank_decides(app: CardApp, attempt: CardAttempt, response: str) -> None:
    sandbox_ledger(app.ctx).record(
        merchant_code=attempt.merchant_code,
        terminal=attempt.terminal,
        order=attempt.order_number,
        amount_minor=to_minor_units(attempt.amount, attempt.currency),
        currency_numeric=currency(attempt.currency).numeric,
        response=response,
    )


def second_attempt(app: CardApp) -> CardAttempt:
    from facturo.models import Customer
    from facturo_ruralvia.service import start_attempt

    from .conftest import unpaid_proforma

    customer, document = unpaid_proforma(app.ctx, email="bea@example.com")
    with app.ctx.db.transaction() as session:
        owner = session.get(Customer, customer.id)
        assert owner is not None
        return start_attempt(session, app.ctx, owner, document.id)


def status_of(app: CardApp, attempt: CardAttempt) -> str:
    with app.ctx.db.read_session() as session:
        row = session.get(CardAttempt, attempt.id)
        assert row is not None
        return row.status


def test_an_approved_payment_without_notification_is_recorded_once(
    reconciling_app: CardApp,
) -> None:
    app = reconciling_app
    attempt, _ = new_attempt(app)
    bank_decides(app, attempt, "0000")
    report = reconcile(app.ctx)
    assert (report.queried, report.recorded, report.failures) == (1, 1, 0)
    assert status_of(app, attempt) == "approved"
    assert count(app, Payment) == 1
    # The bank's notification arrives late: answered 200, recorded as a duplicate.
    late = signed_message(
        terminal_settings(app.ctx).secret_key, notification_fields(attempt), urlsafe=True
    )
    assert post(app, late).status_code == 200
    assert count(app, Payment) == 1
    assert reconcile(app.ctx).queried == 0  # nothing pending any more
    with app.ctx.db.read_session() as session:
        stored = list(session.scalars(select(GatewayNotification).order_by(GatewayNotification.id)))
    assert [(r.remote_addr, r.status) for r in stored] == [
        ("reconcile", "processed"),
        ("127.0.0.1", "duplicate"),
    ]
    assert "<Ds_State>F</Ds_State>" in stored[0].body


def test_a_declined_payment_fails_the_attempt_and_an_unknown_one_stays_pending(
    reconciling_app: CardApp,
) -> None:
    app = reconciling_app
    declined, _ = new_attempt(app)
    bank_decides(app, declined, "0190")
    unknown = second_attempt(app)  # the customer never reached the card form
    report = reconcile(app.ctx)
    assert (report.queried, report.recorded, report.failures) == (2, 1, 0)
    assert status_of(app, declined) == "failed"
    assert status_of(app, unknown) == "pending"
    assert count(app, Payment) == 0


def test_the_query_is_signed_and_a_forged_answer_is_refused(reconciling_app: CardApp) -> None:
    app = reconciling_app
    attempt, _ = new_attempt(app)
    bank_decides(app, attempt, "0000")
    settings = terminal_settings(app.ctx)
    with httpx.Client(timeout=10) as client:
        answer = query_order(client, settings, attempt.order_number)
        assert answer.is_final and answer.fields["Ds_Response"] == "0000"
        assert answer.fields["Ds_Order"] == attempt.order_number
        with pytest.raises(RedsysError):
            parse_reply(OTHER_KEY, attempt.order_number, answer.raw)
        # A request signed with another key is refused by the bank (XML0023).
        forged = settings.__class__(**{**settings.__dict__, "secret_key": OTHER_KEY})
        assert query_order(client, forged, attempt.order_number).error == "XML0023"
    request = build_request(settings, attempt.order_number)
    assert request.startswith('<Messages><Version Ds_Version="0.0"><Message><Transaction>')
    assert "<SignatureVersion>HMAC_SHA256_V1</SignatureVersion>" in request


def test_start_payment_through_the_protocol(reconciling_app: CardApp) -> None:
    from facturo.models import Document
    from facturo_ruralvia.gateway import GATEWAY

    from .conftest import unpaid_proforma

    app = reconciling_app
    _customer, proforma = unpaid_proforma(app.ctx)
    with app.ctx.db.transaction() as session:
        document = session.get(Document, proforma.id)
        assert document is not None
        started = GATEWAY.start_payment(app.ctx, session, document)
    assert started.form_html is not None
    assert f'action="{app.url}/public/ruralvia/sandbox/sis/realizarPago"' in started.form_html
    with app.ctx.db.read_session() as session:
        attempt = session.scalar(select(CardAttempt))
        assert attempt is not None and attempt.order_number == started.reference
    with app.ctx.db.transaction() as session:
        document = session.get(Document, proforma.id)
        assert document is not None
        document.status = "cancelled"
        with pytest.raises(ValueError):
            GATEWAY.start_payment(app.ctx, session, document)
