"""No approved card payment is lost on a database blip (issue 14, point 3).

The app runs under uvicorn with its PostgreSQL connections going through a fault-injecting TCP
proxy; approved Redsys notifications (signed like the bank's, for payments the local sandbox
approved) are posted over HTTP while the test cuts and restores the proxy. Then the
reconciliation job asks the sandbox (Redsys operation query) about what is still pending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import func, select

from facturo import testing
from facturo.context import Context
from facturo.gateways.reconcile import reconcile
from facturo.models import Customer, Document, GatewayNotification, Payment
from facturo.testing import (
    free_port,
    make_catalog,
    make_customer,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from facturo_ruralvia.currency import currency, to_minor_units
from facturo_ruralvia.models import CardAttempt
from facturo_ruralvia.redsys import signed_message
from facturo_ruralvia.sandbox import sandbox_ledger
from facturo_ruralvia.service import start_attempt
from tests.faults.proxy import FaultProxy

postgres_only = pytest.mark.postgres_only
KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"


@pytest.fixture
def proxy(test_database: testing.TestDatabase) -> Iterator[FaultProxy]:
    parts = urlsplit(test_database.url)
    running = FaultProxy(target=(parts.hostname or "127.0.0.1", parts.port or 5432)).start()
    yield running
    running.stop()


@pytest.fixture
def database_url(test_database: testing.TestDatabase, tmp_path: Path, proxy: FaultProxy) -> str:
    """The test database, reached through the proxy."""
    url = urlsplit(test_database.fresh(tmp_path))
    if not url.scheme.startswith("postgresql"):
        return urlunsplit(url)
    netloc = f"{url.username or 'postgres'}@127.0.0.1:{proxy.port}"
    return urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))


def _attempts(ctx: Context, how_many: int) -> list[CardAttempt]:
    make_catalog(ctx)
    from facturo.billing.orders import place_order
    from facturo.models import Product

    attempts = []
    for index in range(how_many):
        customer = make_customer(ctx, email=f"card{index}@example.com")
        with ctx.db.transaction() as session:
            product = session.scalar(select(Product).where(Product.code == "licence"))
            owner = session.get(Customer, customer.id)
            assert product is not None and owner is not None
            _, document = place_order(session, ctx, owner, product, "annual")
            attempts.append(start_attempt(session, ctx, owner, document.id))
    return attempts


def _approved_notification(attempt: CardAttempt, authorisation: str) -> dict[str, str]:
    return signed_message(
        KEY,
        {
            "Ds_Date": "02%2F03%2F2026",
            "Ds_Hour": "11%3A00",
            "Ds_Amount": str(to_minor_units(attempt.amount, attempt.currency)),
            "Ds_Currency": currency(attempt.currency).numeric,
            "Ds_Order": attempt.order_number,
            "Ds_MerchantCode": attempt.merchant_code,
            "Ds_Terminal": "001",
            "Ds_Response": "0000",
            "Ds_TransactionType": "0",
            "Ds_SecurePayment": "1",
            "Ds_AuthorisationCode": authorisation,
        },
        urlsafe=True,
    )


def _post(url: str, body: dict[str, str]) -> int:
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            return http.post("/public/ruralvia/notify", data=body).status_code
    except httpx.HTTPError:
        return 0  # no answer at all: the bank retries too


def _count(ctx: Context, model: Any, *where: Any) -> int:
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@postgres_only
def test_database_blip_loses_no_approved_card_payment(
    make_context: Callable[..., Context], proxy: FaultProxy
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(
        plugins=("ruralvia",),
        overrides={"base_url": url, "gateways.reconcile_after_seconds": 0},
    )
    attempts = _attempts(ctx, 36)
    ledger = sandbox_ledger(ctx)
    bodies: dict[str, dict[str, str]] = {}
    for attempt in attempts:
        authorisation = ledger.record(
            merchant_code=attempt.merchant_code,
            terminal=attempt.terminal,
            order=attempt.order_number,
            amount_minor=to_minor_units(attempt.amount, attempt.currency),
            currency_numeric=currency(attempt.currency).numeric,
        )
        bodies[attempt.order_number] = _approved_notification(attempt, authorisation)
    live = serve_in_thread(create_app(ctx), port=port)
    answers: dict[str, int] = {}
    try:
        orders = list(bodies)
        first, during, last = orders[:12], orders[12:24], orders[24:]

        def send(order: str) -> int:
            if order == during[4]:
                proxy.cut()  # while the notifications before it are in flight
            return _post(url, bodies[order])

        with ThreadPoolExecutor(max_workers=4) as pool:
            # Traffic, then a cut while notifications are in flight, then traffic again.
            for order, status in zip(first, pool.map(send, first), strict=True):
                answers[order] = status
            for order, status in zip(during, pool.map(send, during), strict=True):
                answers[order] = status
            proxy.restore()
            for order, status in zip(last, pool.map(send, last), strict=True):
                answers[order] = status
    finally:
        proxy.restore()
        stop_server(live)
        live = serve_in_thread(create_app(ctx), port=port)  # the sandbox answers queries

    try:
        assert proxy.cut_connections > 0 and proxy.refused > 0
        refused = [o for o, status in answers.items() if status != 200]
        assert refused, "the cut must make some notifications fail"
        # Every notification answered 200 was durably stored.
        with ctx.db.read_session() as session:
            stored_bodies = list(session.scalars(select(GatewayNotification.body)))
        for order, status in answers.items():
            if status == 200:
                assert any(order in _decoded(body) for body in stored_bodies), order
        # The reconciliation job records the rest, exactly once.
        report = reconcile(ctx)
        assert report.failures == 0, report
        assert _count(ctx, Payment) == len(attempts)
        assert _count(ctx, CardAttempt, CardAttempt.status == "approved") == len(attempts)
        paid = _count(ctx, Document, Document.kind == "invoice")
        assert paid == len(attempts)
        # A second run and late repeats of every notification record nothing more.
        reconcile(ctx)
        for order in orders:
            assert _post(url, bodies[order]) == 200
        assert _count(ctx, Payment) == len(attempts)
        with ctx.db.read_session() as session:
            txns = list(session.scalars(select(Payment.gateway_txn_id)))
            states = set(session.scalars(select(GatewayNotification.status)))
        assert sorted(txns) == sorted(orders)
        assert states <= {"processed", "duplicate"}
    finally:
        stop_server(live)


def _decoded(body: str) -> str:
    """A stored notification body with its parameters decoded (the order is inside)."""
    import base64
    from urllib.parse import parse_qs

    params = parse_qs(body).get("Ds_MerchantParameters", [""])[0]
    return base64.b64decode(params + "=" * (-len(params) % 4)).decode("utf-8", "replace")
