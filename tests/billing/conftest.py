"""Fixtures for the billing tests: a recording provisioner plugin and a ready catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from facturo.context import Context
from facturo.delivery.messages import render_email
from facturo.models import Customer, Document, OutboxMessage, Product, Service
from facturo.plugin import hookimpl
from facturo.testing import TestDatabase, build_test_database, make_catalog


class Recorder:
    """A provisioner plugin (``provisioner = "recorder"``) that records what it is asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.paid: list[str] = []

    @hookimpl
    def provision_product(
        self, ctx: Context, session: Any, service: Service, action: str
    ) -> dict[str, Any] | None:
        if service.product.provisioner != "recorder":
            return None
        self.calls.append((service.id, action))
        return {"last_action": action}

    @hookimpl
    def on_invoice_paid(self, ctx: Context, session: Any, document: Document) -> None:
        self.paid.append(str(document.number))


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory) -> TestDatabase:
    """The core schema only: billing needs no bundled plugin (and is not held up by theirs)."""
    return build_test_database(tmp_path_factory.mktemp("db"), ())


@dataclass
class Billing:
    ctx: Context
    recorder: Recorder
    licence: Product
    addons: list[Product]
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def billing(make_context: Callable[..., Context]) -> Billing:
    """A context with the recorder plugin and the licence catalog provisioned by it."""
    recorder = Recorder()
    ctx = make_context(extra=[("recorder", recorder)])
    licence, addons = make_catalog(ctx, provisioner="recorder")
    return Billing(ctx, recorder, licence, addons)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def reload(ctx: Context, model: type, ident: int) -> Any:
    with ctx.db.read_session() as session:
        obj = session.get(model, ident)
        assert obj is not None
        if isinstance(obj, Document):
            _ = list(obj.lines)
        return obj


def active_service(
    ctx: Context,
    customer: Customer,
    product: Product,
    due: Any,
    cycle: str = "annual",
    price: str = "149.00",
    label: str = "",
) -> int:
    """An active service due on ``due`` (as if ordered and paid a cycle ago)."""
    with ctx.db.transaction() as session:
        service = Service(
            customer_id=customer.id,
            product_id=product.id,
            status="active",
            cycle=cycle,
            price=Decimal(price),
            currency="EUR",
            next_due_date=due,
            provisioner_data={},
            label=label,
            activated_at=ctx.now(),
        )
        session.add(service)
        session.flush()
        return service.id


def as_rendered(
    ctx: Context, session: Session, row: OutboxMessage
) -> tuple[Customer, tuple[str, str, str]]:
    """The customer a ``proforma_issued`` email went to, and the subject, text and HTML that
    ``render_email`` writes for its document: what the bulk run must have stored."""
    document = session.get(Document, row.attachments[0]["document_id"])
    assert document is not None
    who = session.get(Customer, document.customer_id)
    assert who is not None
    values = {
        "document": document,
        "customer": who,
        "url": ctx.url(f"/client/documents/{document.id}"),
    }
    return who, render_email(ctx, "proforma_issued", who.language, values)


def rename(ctx: Context, customer: Customer, name: str, company: str) -> None:
    """Give ``customer`` another name and company (text an email must carry as written)."""
    with ctx.db.transaction() as session:
        row = session.get(Customer, customer.id)
        assert row is not None
        row.name, row.company = name, company
