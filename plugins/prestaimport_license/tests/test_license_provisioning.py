"""Provisioning driven by real orders, payments and billing runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from facturo.billing.billing_run import billing_run
from facturo.plugin import (
    Context,
    Customer,
    Document,
    Product,
    Service,
    change_status,
    order_addon,
    period_end_instant,
)
from facturo.testing import Clock, drain, make_catalog, make_customer
from facturo_prestaimport_license.models import Addon, Licence, Supplier
from facturo_prestaimport_license.service import current_key
from facturo_prestaimport_license.testing import T0, Live, body, order, pay, payload

PLUGIN = "prestaimport_license"


@pytest.fixture
def lctx(make_context: Callable[..., Context], clock: Clock) -> Context:
    """As the package's, with co-terming off (``billing.coterm_addons = false``): these tests
    follow a supplier add-on bought mid-term on its own cycle, bill and lapse (the co-termed
    case is in test_coterm_offer.py)."""
    clock.set(T0)
    return make_context(plugins=(PLUGIN,), overrides={"billing.coterm_addons": False})


NO_LINE = {"document_id": None, "line_id": None, "period_start": None, "period_end": None}


def due(ctx: Context, day: date) -> datetime:
    """The instant a period paid until the day before ``day`` ends (midnight, Madrid)."""
    return period_end_instant(day - timedelta(days=1), ctx.settings.zone)


def addon_expiries(ctx: Context) -> dict[str, tuple[bool, datetime | None]]:
    with ctx.db.read_session() as session:
        return {
            supplier.code: (addon.active, addon.expires_at)
            for addon, supplier in session.execute(
                select(Addon, Supplier).join(Supplier, Supplier.id == Addon.supplier_id)
            )
        }


def test_payments_and_billing_runs_drive_licence_and_addons(live: Live, clock: Clock) -> None:
    ctx = live.ctx
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    licence_service_id, document_id = order(ctx, customer)
    drain(ctx)
    with ctx.db.read_session() as session:
        assert session.scalar(select(Licence)) is None  # nothing before the payment

    pay(ctx, document_id, "t-1")
    with ctx.db.read_session() as session:
        licence = session.scalars(select(Licence)).one()
        assert licence.service_id == licence_service_id and licence.status == "ACTIVE"
        key = current_key(session, ctx, licence)
    assert key is not None
    year = due(ctx, date(2027, 3, 2))  # paid on 2 March 2026: the period's end, Madrid time
    assert addon_expiries(ctx) == {"addon-a": (True, year)}

    # Delivering the same provisioning again changes nothing.
    with ctx.db.transaction() as session:
        for service in session.scalars(select(Service)):
            ctx.hook.provision_product(
                ctx=ctx, session=session, service=service, action="create", **NO_LINE
            )
    assert addon_expiries(ctx) == {"addon-a": (True, year)}

    # Three months later the customer adds supplier B: its own service, bill and cycle.
    clock.set(T0 + timedelta(days=90))
    with ctx.db.transaction() as session:
        parent = session.get(Service, licence_service_id)
        product_b = session.scalar(select(Product).where(Product.code == "addon-b"))
        me = session.get(Customer, customer.id)
        assert parent is not None and product_b is not None and me is not None
        _, bill_b = order_addon(session, ctx, me, parent, product_b, "annual")
        bill_b_id = bill_b.id
    pay(ctx, bill_b_id, "t-2")
    b_year = due(ctx, date(2027, 5, 31))  # paid on 31 May 2026
    assert addon_expiries(ctx)["addon-b"] == (True, b_year)

    # The yearly renewal of the licence and supplier A is billed and paid: A extends from its
    # old expiry, not from the payment date.
    clock.set(year - timedelta(days=14))
    billing_run(ctx)
    drain(ctx)
    with ctx.db.read_session() as session:
        renewal = session.scalars(
            select(Document).where(Document.status == "unpaid", Document.source == "renewal")
        ).one()
        renewal_id = renewal.id
    clock.set(year - timedelta(days=10))
    pay(ctx, renewal_id, "t-3")
    assert addon_expiries(ctx)["addon-a"] == (True, due(ctx, date(2028, 3, 2)))

    # Supplier B's renewal is never paid: after the billing run suspends it, B is inactive
    # while the licence and A stay valid.
    clock.set(b_year - timedelta(days=14))
    billing_run(ctx)
    drain(ctx)
    clock.set(b_year + timedelta(days=8))
    billing_run(ctx)
    drain(ctx)
    with ctx.db.read_session() as session:
        service_b = session.scalars(
            select(Service).join(Product).where(Product.code == "addon-b")
        ).one()
        assert service_b.status == "suspended"
    assert addon_expiries(ctx)["addon-b"][0] is False
    data = payload(live.validate(body(key)))
    assert data["code"] == "VALID"
    assert {a["code"]: a["status"] for a in data["addons"]} == {
        "addon-a": "ACTIVE",
        "addon-b": "INACTIVE",
    }


def test_renewal_after_lapse_keeps_the_anchor(lctx: Context, clock: Clock) -> None:
    ctx = lctx
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    _, document_id = order(ctx, customer)
    pay(ctx, document_id, "t-1")
    year = due(ctx, date(2027, 3, 2))
    # The renewal is paid after the add-on lapsed: it covers the period on the invoice, a year
    # from the previous due date (the core's next due date), not a year from the payment.
    clock.set(year - timedelta(days=14))
    billing_run(ctx)
    drain(ctx)
    with ctx.db.read_session() as session:
        renewal_id = session.scalars(
            select(Document.id).where(Document.status == "unpaid", Document.source == "renewal")
        ).one()
    late = year + timedelta(days=5)
    clock.set(late)
    pay(ctx, renewal_id, "t-2")
    assert addon_expiries(ctx)["addon-a"] == (True, due(ctx, date(2028, 3, 2)))


def test_suspending_the_licence_service_suspends_the_licence(live: Live) -> None:
    ctx = live.ctx
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    licence_service_id, document_id = order(ctx, customer)
    pay(ctx, document_id, "t-1")
    with ctx.db.read_session() as session:
        licence = session.scalars(select(Licence)).one()
        key = current_key(session, ctx, licence)
    assert key is not None
    with ctx.db.transaction() as session:
        service = session.get(Service, licence_service_id)
        assert service is not None
        change_status(session, ctx, service, "suspended", "suspend", reason="staff")
    drain(ctx)
    assert payload(live.validate(body(key)))["code"] == "SUSPENDED"
    assert addon_expiries(ctx)["addon-a"][0] is True  # the add-on itself is untouched
    with ctx.db.transaction() as session:
        service = session.get(Service, licence_service_id)
        assert service is not None
        change_status(session, ctx, service, "active", "unsuspend")
    drain(ctx)
    assert payload(live.validate(body(key)))["code"] == "VALID"
    with ctx.db.transaction() as session:
        service = session.get(Service, licence_service_id)
        assert service is not None
        change_status(session, ctx, service, "terminated", "terminate")
    drain(ctx)
    assert payload(live.validate(body(key)))["code"] == "REVOKED"


def test_terminating_an_addon_deactivates_only_it(lctx: Context) -> None:
    ctx = lctx
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    _, document_id = order(ctx, customer)
    pay(ctx, document_id, "t-1")
    with ctx.db.transaction() as session:
        addon_service = session.scalars(select(Service).where(Service.parent_id.is_not(None))).one()
        change_status(session, ctx, addon_service, "terminated", "terminate")
    drain(ctx)
    assert addon_expiries(ctx)["addon-a"][0] is False
    with ctx.db.read_session() as session:
        assert session.scalars(select(Licence)).one().status == "ACTIVE"


def test_billing_does_not_lift_a_staff_hold(lctx: Context) -> None:
    from facturo_prestaimport_license.service import set_status

    ctx = lctx
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    licence_service_id, document_id = order(ctx, customer)
    pay(ctx, document_id, "t-1")
    with ctx.db.transaction() as session:
        licence = session.scalars(select(Licence)).one()
        set_status(session, licence, "SUSPENDED", "fraud review", "staff:1")
        service = session.get(Service, licence_service_id)
        assert service is not None
        ctx.hook.provision_product(
            ctx=ctx, session=session, service=service, action="unsuspend", **NO_LINE
        )
    with ctx.db.read_session() as session:
        assert session.scalars(select(Licence)).one().status == "SUSPENDED"


def test_a_lost_first_check_race_does_not_rebind(lctx: Context) -> None:
    from facturo_prestaimport_license.api import bind
    from facturo_prestaimport_license.client import Shop
    from facturo_prestaimport_license.evaluation import (
        LicenseState,
        LicenseStatus,
        ValidationRequest,
        evaluate,
    )
    from facturo_prestaimport_license.keys import generate_key
    from facturo_prestaimport_license.models import ShopBindingRow
    from facturo_prestaimport_license.testing import seed_licence

    seeded = seed_licence(lctx)
    state = LicenseState(license_id=f"lic_{seeded.licence_id}", status=LicenseStatus.ACTIVE)
    answers = [
        evaluate(state, ValidationRequest(generate_key(), Shop("prestashop", url)), now=T0)
        for url in ("one.example", "two.example")
    ]
    assert all(answer.binds for answer in answers)
    assert bind(lctx, seeded.licence_id, answers[0]) is True
    assert bind(lctx, seeded.licence_id, answers[1]) is False
    with lctx.db.read_session() as session:
        assert session.scalars(select(ShopBindingRow)).one().shop_host == "one.example"
