"""The dashboard's charts over HTTP: every chart is an SVG (no script) with a table whose
numbers are the domain figures, in English and Spanish; support staff see no money charts."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from decimal import Decimal

from facturo.billing import analytics
from facturo.billing.methods import method_name
from facturo.billing.money import format_money
from facturo.context import Context
from facturo.web import dashboard_charts
from tests.billing import dashboard_scenario
from tests.billing.dashboard_scenario import TODAY
from tests.web.conftest import new_staff, staff_client

CHARTS = ("chart-revenue", "chart-renewals", "chart-retention", "chart-methods", "chart-ageing")
FIGURE = re.compile(r'<figure class="chart card" id="(?P<key>[^"]+)".*?</figure>', re.DOTALL)
IMAGE = re.compile(
    r'<source media="\(max-width: 40rem\)" srcset="data:image/svg\+xml;base64,(?P<narrow>[^"]+)">'
    r'<img src="data:image/svg\+xml;base64,(?P<data>[^"]+)" alt="(?P<alt>[^"]+)"'
)
ROW = re.compile(r'<tr><th scope="row">(?P<head>[^<]*)</th>(?P<cells>.*?)</tr>', re.DOTALL)
CELL = re.compile(r'<td class="num" data-value="(?P<value>[^"]*)">(?P<text>[^<]*)</td>')


def _figures(html: str) -> dict[str, str]:
    return {match["key"]: match.group(0) for match in FIGURE.finditer(html)}


def _table(figure: str) -> list[tuple[str, list[tuple[str, str]]]]:
    assert "<caption>" in figure and '<th scope="col"' in figure
    return [
        (row["head"], [(cell["value"], cell["text"]) for cell in CELL.finditer(row["cells"])])
        for row in ROW.finditer(figure)
    ]


def _money(amount: Decimal, language: str) -> tuple[str, str]:
    return (str(amount), format_money(amount, "EUR", language))


def test_dashboard_charts_match_the_database(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(plugins=("transfer", "paypal"))
    dashboard_scenario.build(ctx)
    url = serve(ctx)
    with ctx.db.read_session() as session:
        revenue = analytics.revenue_by_month(session, TODAY, "EUR")
        recurring = analytics.recurring_revenue(session, "EUR")
        renewals = analytics.renewals_due(session, TODAY, "EUR")
        retention = analytics.addon_retention(session, TODAY)
        methods = analytics.payments_by_method(session, TODAY, "EUR", ctx.settings.zone)
        ageing = analytics.receivables_ageing(session, TODAY, "EUR")
    billing = new_staff(ctx, "billing")
    for language in ("en", "es"):
        with staff_client(ctx, url, billing) as client:
            client.headers["Accept-Language"] = language
            page = client.get("/admin/")
        assert page.status_code == 200
        html = page.text
        assert "<script" not in html
        figures = _figures(html)
        assert tuple(figures) == CHARTS
        for key, figure in figures.items():
            image = IMAGE.search(figure)
            assert image, key
            for data in (image["data"], image["narrow"]):
                svg = base64.b64decode(data).decode()
                assert svg.startswith("<svg") and "<script" not in svg, key
                assert "<?xml" not in svg

        assert f'id="mrr" data-value="{recurring.mrr}"' in html
        assert format_money(recurring.mrr, "EUR", language) in html
        assert f'id="arr" data-value="{recurring.arr}"' in html

        rows = _table(figures["chart-revenue"])
        assert [head for head, _ in rows] == [
            dashboard_charts.month_label(row.month, language) for row in revenue
        ]
        assert [cells for _, cells in rows] == [
            [_money(r.base, language), _money(r.total, language), _money(r.credited, language)]
            for r in revenue
        ]
        assert [cells for _, cells in _table(figures["chart-renewals"])] == [
            [(str(r.count), str(r.count)), _money(r.amount, language)] for r in renewals
        ]
        retention_rows = _table(figures["chart-retention"])
        assert [head for head, _ in retention_rows] == [r.name(language) for r in retention]
        assert [[value for value, _ in cells] for _, cells in retention_rows] == [
            [str(r.due), str(r.renewed), str(r.lost), str(r.renewal_rate), str(r.churn_rate)]
            for r in retention
        ]
        method_rows = _table(figures["chart-methods"])
        assert [head for head, _ in method_rows] == [
            method_name(ctx, m.gateway, None, language) for m in methods
        ]
        assert "transfer" not in [head for head, _ in method_rows]  # the plugin's label
        assert [cells for _, cells in method_rows] == [
            [_money(m.received, language), _money(m.refunded, language), _money(m.net, language)]
            for m in methods
        ]
        assert [cells for _, cells in _table(figures["chart-ageing"])] == [
            [(str(b.count), str(b.count)), _money(b.amount, language)] for b in ageing
        ]
    # The last page read is the Spanish one.
    assert "Ingresos por mes, descontadas las devoluciones" in html
    assert "181,50\xa0€" in html and "66,7\xa0%" in html


def test_support_staff_see_no_money_charts(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    dashboard_scenario.build(ctx)
    url = serve(ctx)
    with staff_client(ctx, url, new_staff(ctx, "support")) as client:
        page = client.get("/admin/")
    assert page.status_code == 200
    assert "chart-revenue" not in page.text and 'id="mrr"' not in page.text


def test_demo_seed_draws_every_chart(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    """The demo's year of trade gives every chart something to draw (non-zero figures)."""
    from facturo.demo import BUNDLED, seed
    from facturo.testing import enabled_test_plugins

    ctx = make_context(plugins=tuple(p for p in BUNDLED if p in enabled_test_plugins()))
    assert seed(ctx)
    url = serve(ctx)
    with staff_client(ctx, url, new_staff(ctx, "admin", "boss@example.com")) as client:
        client.headers["Accept-Language"] = "es"
        page = client.get("/admin/")
    assert page.status_code == 200
    figures = _figures(page.text)
    assert tuple(figures) == CHARTS
    for key, figure in figures.items():
        values = [Decimal(value) for _, cells in _table(figure) for value, _ in cells]
        assert any(value > 0 for value in values), key
    assert "Proveedor Ingram Micro" in figures["chart-retention"]
    assert 'id="mrr" data-value="0.00"' not in page.text
