"""At most one add-on per supplier per licence, short of terminated (issue 16, point 1)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import func, select

from facturo.billing.orders import (
    DuplicateAddonError,
    OrderError,
    UnpaidParentError,
    order_addon,
    place_order,
)
from facturo.billing.payments import record_payment
from facturo.billing.services import change_status
from facturo.context import Context
from facturo.models import Customer, Document, Product, ProductPrice, Service
from facturo.testing import in_threads, make_catalog, make_customer
from tests.billing.conftest import Billing


def _counts(ctx: Context) -> tuple[int, int]:
    with ctx.db.read_session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Service)) or 0),
            int(session.scalar(select(func.count()).select_from(Document)) or 0),
        )


def _paid_licence(ctx: Context, customer_id: int, licence_id: int) -> int:
    """A licence ordered and paid; returns its service id."""
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer_id)
        product = session.get(Product, licence_id)
        assert who is not None and product is not None
        services, document = place_order(session, ctx, who, product, "annual")
        record_payment(
            session, ctx, document, "test", f"t{document.id}", document.total, "EUR", ctx.now()
        )
        return services[0].id


def _order_addon(ctx: Context, customer_id: int, parent_id: int, addon_id: int) -> int:
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer_id)
        parent = session.get(Service, parent_id)
        addon = session.get(Product, addon_id)
        assert who is not None and parent is not None and addon is not None
        service, _document = order_addon(session, ctx, who, parent, addon, "annual")
        return service.id


def test_an_order_naming_one_supplier_twice_is_refused_and_writes_nothing(
    billing: Billing,
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    addon = billing.addons[0]
    with ctx.db.transaction() as session:
        session.add(
            ProductPrice(
                product_id=addon.id, cycle="monthly", months=1, currency="EUR", amount=Decimal("4")
            )
        )
    with pytest.raises(DuplicateAddonError) as caught, ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        licence = session.get(Product, billing.licence.id)
        twice = session.get(Product, addon.id)
        assert who is not None and licence is not None and twice is not None
        place_order(session, ctx, who, licence, "annual", [(twice, "annual"), (twice, "monthly")])
    assert caught.value.existing_id is None
    assert _counts(ctx) == (0, 0)


def test_a_supplier_already_on_the_licence_is_refused_in_any_live_state(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    parent_id = _paid_licence(ctx, customer.id, billing.licence.id)
    a, b = (addon.id for addon in billing.addons)
    first = _order_addon(ctx, customer.id, parent_id, b)  # pending (not paid)
    before = _counts(ctx)
    with pytest.raises(DuplicateAddonError) as caught:
        _order_addon(ctx, customer.id, parent_id, b)
    assert caught.value.existing_id == first
    assert _counts(ctx) == before
    # Active and suspended add-ons hold their supplier too.
    with ctx.db.transaction() as session:
        service = session.get(Service, first)
        assert service is not None
        change_status(session, ctx, service, "active", "create")
        change_status(session, ctx, service, "suspended", "suspend")
    with pytest.raises(DuplicateAddonError):
        _order_addon(ctx, customer.id, parent_id, b)
    # Once terminated, the supplier can be bought again; another supplier always can.
    with ctx.db.transaction() as session:
        service = session.get(Service, first)
        assert service is not None
        change_status(session, ctx, service, "terminated", "terminate")
    assert _order_addon(ctx, customer.id, parent_id, b) != first
    assert _order_addon(ctx, customer.id, parent_id, a)


def test_an_addon_for_an_unpaid_licence_is_refused_naming_its_bill(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        licence = session.get(Product, billing.licence.id)
        assert who is not None and licence is not None
        services, document = place_order(session, ctx, who, licence, "annual")
        parent_id, reference = services[0].id, document.reference
    before = _counts(ctx)
    with pytest.raises(UnpaidParentError) as caught:
        _order_addon(ctx, customer.id, parent_id, billing.addons[0].id)
    assert caught.value.reference == reference and reference in str(caught.value)
    assert isinstance(caught.value, OrderError)
    assert _counts(ctx) == before


def test_two_simultaneous_orders_of_one_addon_make_one_service(
    make_context: Callable[..., Context],
) -> None:
    """Real threads; on PostgreSQL the parent's row lock serialises them (SQLite serialises
    writers with BEGIN IMMEDIATE)."""
    ctx = make_context()
    licence, addons = make_catalog(ctx)
    customer = make_customer(ctx)
    parent_id = _paid_licence(ctx, customer.id, licence.id)
    contexts = [make_context() for _ in range(2)]

    def attempt(c: Context) -> str:
        try:
            _order_addon(c, customer.id, parent_id, addons[0].id)
        except DuplicateAddonError:
            return "refused"
        return "ordered"

    outcomes = in_threads([partial(attempt, c) for c in contexts])
    assert sorted(outcomes) == ["ordered", "refused"]
    with ctx.db.read_session() as session:
        held = session.scalars(select(Service).where(Service.parent_id == parent_id)).all()
        assert len(held) == 1
