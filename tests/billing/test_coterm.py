"""Add-ons co-termed with their licence: ordered mid-term, charged pro rata to the licence's
next due date, then renewed with it on one proforma (issue 21, point 3). Runs on SQLite and,
with FACTURO_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from facturo.billing.billing_run import billing_run
from facturo.billing.orders import order_addon, place_order
from facturo.billing.payments import record_payment
from facturo.billing.quotes import Quote, quote_order
from facturo.context import Context
from facturo.models import Customer, Document, DocumentLine, Product, ProductPrice, Service
from facturo.testing import Clock, make_catalog, make_customer
from tests.billing.conftest import Billing, active_service, at, reload


def _buy_licence(ctx: Context, customer: Customer, licence: Product, cycle: str) -> int:
    """Order ``licence`` and pay its bill today; return the (now active) service's id."""
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        product = session.get(Product, licence.id)
        assert who and product
        services, document = place_order(session, ctx, who, product, cycle)
        service_id, document_id = services[0].id, document.id
    _pay(ctx, document_id, f"licence-{service_id}")
    return service_id


def _pay(ctx: Context, document_id: int, txn: str) -> None:
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(session, ctx, document, "test", txn, document.balance, "EUR", ctx.now(), {})


def _quote(ctx: Context, customer: Customer, parent_id: int, addon: Product) -> Quote:
    with ctx.db.read_session() as session:
        who = session.get(Customer, customer.id)
        parent = session.get(Service, parent_id)
        product = session.get(Product, addon.id)
        assert who and parent and product
        return quote_order(session, ctx, who, [(product, "annual")], parent=parent)


def _order_addon(
    ctx: Context, customer: Customer, parent_id: int, addon: Product, cycle: str = "annual"
) -> tuple[int, int]:
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        parent = session.get(Service, parent_id)
        product = session.get(Product, addon.id)
        assert who and parent and product
        service, document = order_addon(session, ctx, who, parent, product, cycle)
        return service.id, document.id


def _line(ctx: Context, document_id: int) -> DocumentLine:
    document = reload(ctx, Document, document_id)
    assert len(document.lines) == 1
    line: DocumentLine = document.lines[0]
    return line


def test_addon_ordered_mid_term_is_charged_to_the_licence_due_date_and_follows_it(
    billing: Billing, clock: Clock
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    clock.set(at(2026, 3, 13))
    parent_id = _buy_licence(ctx, customer, billing.licence, "annual")
    assert reload(ctx, Service, parent_id).next_due_date == date(2027, 3, 13)

    clock.set(at(2026, 12, 1))
    addon = billing.addons[1]  # 29.00 a year
    quote = _quote(ctx, customer, parent_id, addon)
    [quoted] = quote.lines
    # Period 13 Mar 2026 – 12 Mar 2027 (365 days); 102 days left from 1 Dec 2026:
    # 29.00 × 102 / 365 = 8.104109… → 8.10; IVA 21 % = 1.701 → 1.70.
    assert (quoted.amount, quoted.tax, quote.total) == (
        Decimal("8.10"),
        Decimal("1.70"),
        Decimal("9.80"),
    )
    assert (quoted.period_start, quoted.period_end) == (date(2026, 12, 1), date(2027, 3, 12))
    assert quoted.coterm and quoted.cycle == "annual" and quoted.price == Decimal("29.00")

    service_id, document_id = _order_addon(ctx, customer, parent_id, addon)
    proforma = reload(ctx, Document, document_id)
    assert (proforma.subtotal, proforma.tax_total, proforma.total) == (
        quote.subtotal,
        quote.tax_total,
        quote.total,
    )
    line = proforma.lines[0]
    assert (line.amount, line.period_start, line.period_end) == (
        Decimal("8.10"),
        date(2026, 12, 1),
        date(2027, 3, 12),
    )

    _pay(ctx, document_id, "addon")
    service = reload(ctx, Service, service_id)
    parent = reload(ctx, Service, parent_id)
    assert service.status == "active"
    assert service.next_due_date == parent.next_due_date == date(2027, 3, 13)
    assert (service.cycle, service.price) == ("annual", Decimal("29.00"))
    invoice = reload(ctx, Document, document_id)
    assert invoice.kind == "invoice"
    assert (invoice.lines[0].period_start, invoice.lines[0].period_end) == (
        date(2026, 12, 1),
        date(2027, 3, 12),
    )

    # The next renewal bills both on one proforma, for the same period.
    other = make_customer(ctx, email="luis@example.com")
    clock.set(at(2026, 3, 13))
    _buy_licence(ctx, other, billing.licence, "annual")
    clock.set(at(2027, 3, 1))
    billing_run(ctx, date(2027, 3, 1))
    with ctx.db.read_session() as session:
        renewals = list(session.scalars(select(Document).where(Document.source == "renewal")))
        by_customer = {doc.customer_id: doc for doc in renewals}
        assert len(renewals) == 2 and set(by_customer) == {customer.id, other.id}
        mine = by_customer[customer.id]
        lines = sorted(mine.lines, key=lambda item: item.position)
        assert [item.service_id for item in lines] == [parent_id, service_id]
        assert {(item.period_start, item.period_end) for item in lines} == {
            (date(2027, 3, 13), date(2028, 3, 12))
        }
        assert mine.due_date == date(2027, 3, 13)
        assert mine.total == Decimal("215.38")  # (149.00 + 29.00) × 1.21
        renewal_id = mine.id
        assert len(by_customer[other.id].lines) == 1
    _pay(ctx, renewal_id, "renewal")
    assert reload(ctx, Service, service_id).next_due_date == date(2028, 3, 13)
    assert reload(ctx, Service, parent_id).next_due_date == date(2028, 3, 13)


def test_paid_days_later_the_period_still_ends_with_the_licence(
    billing: Billing, clock: Clock
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    clock.set(at(2026, 3, 13))
    parent_id = _buy_licence(ctx, customer, billing.licence, "annual")
    clock.set(at(2026, 12, 1))
    service_id, document_id = _order_addon(ctx, customer, parent_id, billing.addons[0])
    clock.set(at(2026, 12, 10))
    _pay(ctx, document_id, "late")
    line = _line(ctx, document_id)
    assert (line.period_start, line.period_end) == (date(2026, 12, 10), date(2027, 3, 12))
    assert reload(ctx, Service, service_id).next_due_date == date(2027, 3, 13)


def test_month_end_licence_with_an_addon_sold_only_yearly(
    make_context: Callable[..., Context], clock: Clock
) -> None:
    ctx = make_context()
    licence, addons = make_catalog(ctx)
    customer = make_customer(ctx)
    clock.set(at(2027, 1, 31))
    parent_id = _buy_licence(ctx, customer, licence, "monthly")
    assert reload(ctx, Service, parent_id).next_due_date == date(2027, 2, 28)
    clock.set(at(2027, 2, 15))
    service_id, document_id = _order_addon(ctx, customer, parent_id, addons[1])
    # 29.00 a year → 2.42 a month (29 / 12 = 2.4166…); period 31 Jan – 27 Feb (28 days),
    # 13 days left: 2.42 × 13 / 28 = 1.1235… → 1.12.
    line = _line(ctx, document_id)
    assert (line.amount, line.period_end) == (Decimal("1.12"), date(2027, 2, 27))
    service = reload(ctx, Service, service_id)
    assert (service.cycle, service.price) == ("monthly", Decimal("2.42"))
    _pay(ctx, document_id, "feb")
    assert reload(ctx, Service, service_id).next_due_date == date(2027, 2, 28)


def test_leap_year_licence_without_billed_lines_counts_one_cycle_back(
    billing: Billing, clock: Clock
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    # A licence due 29 Feb 2028 with no bill on record: its period is 28 Feb 2027 – 28 Feb
    # 2028 (366 days, one year back from the due date). Bought on 1 Dec 2027: 90 days left.
    parent_id = active_service(ctx, customer, billing.licence, date(2028, 2, 29))
    clock.set(at(2027, 12, 1))
    quote = _quote(ctx, customer, parent_id, billing.addons[0])
    # 39.00 × 90 / 366 = 9.590163… → 9.59
    assert quote.lines[0].amount == Decimal("9.59")
    assert quote.lines[0].period_end == date(2028, 2, 28)


def test_a_licence_due_today_gives_the_addon_a_whole_period(billing: Billing, clock: Clock) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    parent_id = active_service(ctx, customer, billing.licence, date(2026, 12, 1))
    clock.set(at(2026, 12, 1))
    [line] = _quote(ctx, customer, parent_id, billing.addons[0]).lines
    assert not line.coterm
    assert (line.amount, line.period_end) == (Decimal("39.00"), date(2027, 11, 30))


def test_with_the_setting_off_an_addon_keeps_its_own_cycle(
    make_context: Callable[..., Context], clock: Clock
) -> None:
    ctx = make_context(overrides={"billing.coterm_addons": False})
    assert ctx.settings.billing.coterm_addons is False
    licence, addons = make_catalog(ctx)
    with ctx.db.transaction() as session:
        product = session.get(Product, addons[0].id)
        assert product is not None
        product.prices.append(
            ProductPrice(cycle="monthly", months=1, currency="EUR", amount=Decimal("4.00"))
        )
    customer = make_customer(ctx)
    clock.set(at(2026, 3, 13))
    parent_id = _buy_licence(ctx, customer, licence, "annual")
    clock.set(at(2026, 12, 1))
    service_id, document_id = _order_addon(ctx, customer, parent_id, addons[0], "monthly")
    line = _line(ctx, document_id)
    assert (line.amount, line.period_end) == (Decimal("4.00"), date(2026, 12, 31))
    _pay(ctx, document_id, "own")
    service = reload(ctx, Service, service_id)
    assert (service.cycle, service.next_due_date) == ("monthly", date(2027, 1, 1))


def test_bought_after_the_licence_renewal_was_billed_it_runs_through_that_renewal(
    billing: Billing, clock: Clock
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    clock.set(at(2026, 3, 13))
    parent_id = _buy_licence(ctx, customer, billing.licence, "annual")
    clock.set(at(2027, 3, 1))
    billing_run(ctx, date(2027, 3, 1))  # the licence's renewal from 13 Mar 2027 is billed
    with ctx.db.read_session() as session:
        renewal_id = session.scalars(select(Document.id).where(Document.source == "renewal")).one()
    clock.set(at(2027, 3, 2))
    service_id, document_id = _order_addon(ctx, customer, parent_id, billing.addons[1])
    # 11 days left of this period (29.00 × 11 / 365 = 0.873… → 0.87) and the whole renewal
    # period the licence's proforma already bills (29.00): 29.87, until 12 Mar 2028.
    line = _line(ctx, document_id)
    assert (line.amount, line.period_start, line.period_end) == (
        Decimal("29.87"),
        date(2027, 3, 2),
        date(2028, 3, 12),
    )
    _pay(ctx, document_id, "addon")
    _pay(ctx, renewal_id, "renewal")
    assert reload(ctx, Service, service_id).next_due_date == date(2028, 3, 13)
    assert reload(ctx, Service, parent_id).next_due_date == date(2028, 3, 13)
    clock.set(at(2028, 3, 1))
    billing_run(ctx, date(2028, 3, 1))
    with ctx.db.read_session() as session:
        latest = session.scalars(
            select(Document).where(Document.source == "renewal", Document.id != renewal_id)
        ).one()
        assert sorted(item.service_id or 0 for item in latest.lines) == sorted(
            [parent_id, service_id]
        )
