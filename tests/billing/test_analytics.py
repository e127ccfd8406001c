"""The dashboard's figures, exactly, from known rows (tests/billing/dashboard_scenario.py),
and their cost: a fixed handful of aggregate queries however many rows there are."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from sqlalchemy import event, insert

from facturo.billing import analytics
from facturo.context import Context
from facturo.models import Document, Payment, Service
from facturo.testing import make_catalog, make_customer
from facturo.web import dashboard_charts
from tests.billing import dashboard_scenario
from tests.billing.dashboard_scenario import TODAY


def test_month_arithmetic() -> None:
    assert analytics.month_start(date(2026, 3, 2), 11) == date(2025, 4, 1)
    assert analytics.month_start(date(2026, 1, 31), 1) == date(2025, 12, 1)
    assert analytics.month_start(date(2025, 12, 31), -1) == date(2026, 1, 1)
    assert analytics.last_months(date(2026, 3, 2))[0] == date(2025, 4, 1)
    assert len(analytics.last_months(date(2026, 3, 2))) == 12
    assert analytics.monthly_equivalent(D("149.00"), "annual") == D("12.42")
    assert analytics.monthly_equivalent(D("10.00"), "quarterly") == D("3.33")
    assert analytics.monthly_equivalent(D("0.30"), "biennial") == D("0.01")  # 0.0125 half-up
    assert analytics.monthly_equivalent(D("1.00"), "semiannual") == D("0.17")


def test_every_figure_of_the_scenario(ctx: Context) -> None:
    built = dashboard_scenario.build(ctx)
    assert ctx.today() == TODAY
    with ctx.db.read_session() as session:
        revenue = analytics.revenue_by_month(session, TODAY, "EUR")
        recurring = analytics.recurring_revenue(session, "EUR")
        renewals = analytics.renewals_due(session, TODAY, "EUR")
        retention = analytics.addon_retention(session, TODAY)
        methods = analytics.payments_by_method(session, TODAY, "EUR", ctx.settings.zone)
        ageing = analytics.receivables_ageing(session, TODAY, "EUR")

    by_month = {(row.month.year, row.month.month): row for row in revenue}
    assert [row.month for row in revenue] == analytics.last_months(TODAY)
    expected = {
        (2025, 4): ("149.00", "180.29", "0.00"),
        (2025, 5): ("39.00", "47.19", "0.00"),
        (2025, 7): ("29.00", "35.09", "0.00"),
        (2025, 12): ("10.00", "12.10", "0.00"),
        (2026, 1): ("100.00", "121.00", "0.00"),
        (2026, 2): ("150.00", "181.50", "60.50"),
        (2026, 3): ("-100.00", "-121.00", "121.00"),
    }
    for key, row in by_month.items():
        base, total, credited = expected.get(key, ("0.00", "0.00", "0.00"))
        assert (row.base, row.total, row.credited) == (D(base), D(total), D(credited)), key

    assert recurring == analytics.Recurring(D("53.84"), D("646.08"), 7)

    assert [(r.month, r.count, r.amount) for r in renewals] == [
        (date(2026, 3, 1), 1, D("15.00")),
        (date(2026, 4, 1), 1, D("149.00")),
        (date(2026, 5, 1), 2, D("68.00")),
    ]

    assert [(r.product_id, r.renewed, r.lost) for r in retention] == [
        (built.addon_a, 2, 1),
        (built.addon_b, 1, 1),
    ]
    assert retention[0].name("en") == "Supplier addon-a"
    assert retention[0].name("es") == "Proveedor addon-a"
    assert (retention[0].due, retention[0].renewal_rate, retention[0].churn_rate) == (
        3,
        D("66.7"),
        D("33.3"),
    )
    assert (retention[1].renewal_rate, retention[1].churn_rate) == (D("50.0"), D("50.0"))

    assert [(m.gateway, m.received, m.refunded, m.net) for m in methods] == [
        ("transfer", D("457.38"), D("60.50"), D("396.88")),
        ("paypal", D("180.29"), D("121.00"), D("59.29")),
    ]

    assert [(b.key, b.count, b.amount) for b in ageing] == [
        ("not_due", 1, D("50.00")),
        ("0-30", 3, D("177.19")),
        ("31-60", 1, D("30.00")),
        ("61-90", 1, D("60.00")),
        ("90+", 2, D("150.00")),
    ]


def test_nothing_to_show_is_zeros_not_errors(ctx: Context) -> None:
    with ctx.db.read_session() as session:
        result = dashboard_charts.build(ctx, session, "es")
        assert analytics.addon_retention(session, TODAY) == []
        assert analytics.payments_by_method(session, TODAY, "EUR", ctx.settings.zone) == []
    assert result.recurring == analytics.Recurring(D("0.00"), D("0.00"), 0)
    assert len(result.charts) == 5
    assert all(chart.svg.startswith("<svg") for chart in result.charts)


@contextmanager
def _statements(ctx: Context) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = ctx.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_cost_is_a_few_aggregate_queries_however_many_rows(ctx: Context) -> None:
    """600 documents, 300 payments and 300 services: the dashboard's figures are 9 queries
    (8 aggregates and the add-on names), under a second on either database (100-200 ms measured
    on both, nearly all of it drawing the SVGs: the queries take a few ms, and the same
    figures are drawn once)."""
    _, addons = make_catalog(ctx)
    customer = make_customer(ctx)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    docs, payments, services = [], [], []
    for n in range(600):
        day = (start + timedelta(days=n % 365)).date()
        docs.append(
            {
                "kind": "invoice" if n % 2 else "proforma",
                "status": "paid" if n % 2 else "unpaid",
                "reference": f"BULK-{n}",
                "number": f"FBULK-{n}" if n % 2 else None,
                "customer_id": customer.id,
                "currency": "EUR",
                "issue_date": day,
                "due_date": day,
                "invoice_date": day if n % 2 else None,
                "subtotal": D("10.00"),
                "tax_total": D("2.10"),
                "total": D("12.10"),
                "amount_paid": D("12.10") if n % 2 else D("0.00"),
            }
        )
    for n in range(300):
        payments.append(
            {
                "gateway": ("transfer", "paypal")[n % 2],
                "gateway_txn_id": f"bulk-{n}",
                "amount": D("12.10"),
                "currency": "EUR",
                "paid_at": start + timedelta(days=n),
                "status": "applied",
                "customer_id": customer.id,
            }
        )
        services.append(
            {
                "customer_id": customer.id,
                "product_id": addons[n % 2].id,
                "status": ("active", "terminated")[n % 3 == 0],
                "cycle": "annual",
                "price": D("39.00"),
                "currency": "EUR",
                "next_due_date": TODAY + timedelta(days=n - 150),
                "activated_at": start,
            }
        )
    with ctx.db.transaction() as session:
        session.execute(insert(Document), docs)
        session.execute(insert(Payment), payments)
        session.execute(insert(Service), services)
    with ctx.db.read_session() as session, _statements(ctx) as seen:
        began = time.perf_counter()
        result = dashboard_charts.build(ctx, session, "en")
        elapsed = time.perf_counter() - began
    figures = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(figures) == 9, figures
    assert elapsed < 1.0, elapsed
    print(f"dashboard figures over 1200 rows: {elapsed * 1000:.0f} ms")
    assert result.recurring.services == 200
    assert result.recurring.mrr == D("3.25") * 200
    # The same figures again: the pictures come from the cache, only the queries run.
    hits = dashboard_charts._drawn.cache_info().hits
    with ctx.db.read_session() as session:
        again = dashboard_charts.build(ctx, session, "en")
    assert dashboard_charts._drawn.cache_info().hits == hits + len(again.charts)
    assert [chart.svg for chart in again.charts] == [chart.svg for chart in result.charts]
    revenue = {row[0]: row[1][0].value for row in result.charts[0].rows}
    assert sum(D(value) for value in revenue.values()) > 0
