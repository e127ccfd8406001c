"""Shared helpers for the plugin's integration tests (real DB, real HTTP, the local sandbox)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from facturo.billing.orders import place_order
from facturo.context import Context
from facturo.models import Document, GatewayNotification, Payment
from facturo.testing import (
    LiveServer,
    free_port,
    logged_in_cookies,
    make_catalog,
    make_customer,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from facturo_paypal.runtime import Runtime, runtime
from facturo_paypal.sandbox import SandboxState

CSRF = "test-csrf-token"


@dataclass
class PayPalWorld:
    ctx: Context
    live: LiveServer
    rt: Runtime

    @property
    def sandbox(self) -> SandboxState:
        return self.rt.sandbox

    @property
    def sandbox_url(self) -> str:
        return str(self.rt.settings.api_base_url)

    def http(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.live.url, timeout=20, **kwargs)


@contextmanager
def paypal_world(
    make_context: Any, plugin_settings: dict[str, Any] | None = None
) -> Iterator[PayPalWorld]:
    """A Context with the paypal plugin in local mode, served by uvicorn on its base URL."""
    port = free_port()
    kwargs: dict[str, Any] = {"overrides": {"base_url": f"http://127.0.0.1:{port}"}}
    if plugin_settings is not None:
        kwargs["plugin_settings"] = {"paypal": plugin_settings}
    ctx = make_context(plugins=("paypal",), **kwargs)
    live = serve_in_thread(create_app(ctx), port=port)
    try:
        yield PayPalWorld(ctx, live, runtime(ctx))
    finally:
        stop_server(live)


def order_proforma(ctx: Context, email: str = "ana@example.com") -> tuple[Any, Document]:
    """A verified customer with an unpaid proforma for the yearly licence (180.29 EUR)."""
    licence, _addons = make_catalog(ctx)
    customer = make_customer(ctx, email=email)
    with ctx.db.transaction() as session:
        fresh = session.merge(customer)
        product = session.merge(licence)
        _services, document = place_order(session, ctx, fresh, product, "annual")
        session.flush()
        session.expunge(document)
    return customer, document


def client_for(world: PayPalWorld, customer: Any) -> httpx.Client:
    return world.http(cookies=logged_in_cookies(world.ctx, customer, csrf=CSRF))


def capture_resource(
    capture_id: str,
    order_id: str | None,
    amount: str,
    currency: str = "EUR",
    status: str = "COMPLETED",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": capture_id,
        "status": status,
        "amount": {"value": amount, "currency_code": currency},
        "final_capture": True,
    }
    if order_id:
        resource["supplementary_data"] = {"related_ids": {"order_id": order_id}}
    return resource


def refund_resource(
    world: PayPalWorld, refund_id: str, capture_id: str, amount: str
) -> dict[str, Any]:
    return {
        "id": refund_id,
        "status": "COMPLETED",
        "amount": {"value": amount, "currency_code": "EUR"},
        "links": [{"href": f"{world.sandbox_url}/v2/payments/captures/{capture_id}", "rel": "up"}],
    }


def deliver(
    world: PayPalWorld, event: dict[str, Any]
) -> tuple[httpx.Response, dict[str, str], bytes]:
    """Sign ``event`` with the sandbox's key and POST it to the app's webhook URL."""
    headers, body = world.sandbox.signed_webhook(event, world.sandbox_url)
    with world.http() as http:
        response = http.post("/public/paypal/webhook", content=body, headers=headers)
    return response, headers, body


def wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def payments(ctx: Context) -> list[Payment]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(Payment).order_by(Payment.id)))


def notifications(ctx: Context, key: str | None = None) -> list[GatewayNotification]:
    with ctx.db.read_session() as session:
        query = select(GatewayNotification).order_by(GatewayNotification.id)
        if key is not None:
            query = query.where(GatewayNotification.event_key == key)
        return list(session.scalars(query))


def document(ctx: Context, document_id: int) -> Document:
    with ctx.db.read_session() as session:
        found = session.get(Document, document_id)
        assert found is not None
        session.expunge(found)
        return found


def credit_notes(ctx: Context) -> int:
    with ctx.db.read_session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Document).where(Document.kind == "credit_note")
            )
            or 0
        )


TOTAL = Decimal("180.29")
