"""Usage insight for staff: the charts' tables match the validation log as seeded, and the
possible-sharing alert appears at the allowance plus one shop and not at the allowance."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx

from facturo.accounts.customers import create_staff
from facturo.plugin import Context
from facturo.testing import logged_in_cookies
from facturo_prestaimport_license import usage
from facturo_prestaimport_license.models import ValidationLog
from facturo_prestaimport_license.settings import config
from facturo_prestaimport_license.testing import T0, Live, seed_licence

CSRF = "test-csrf-token"


def _log(ctx: Context, licence_id: int | None, at: datetime, shop: str, **extra: str) -> None:
    values = {"code": "VALID", "app_version": "3.1.0", "install_id": "i", "ip": "127.0.0.1"}
    values.update(extra)
    with ctx.db.transaction() as session:
        session.add(
            ValidationLog(at=at, licence_id=licence_id, key_hint="ABCD", shop_host=shop, **values)
        )


def _staff(live: Live, language: str = "en") -> httpx.Client:
    with live.ctx.db.transaction() as session:
        staff, _ = create_staff(session, f"s-{language}@example.com", "Bea", "support", None)
    return httpx.Client(
        base_url=str(live.http.base_url),
        cookies=logged_in_cookies(live.ctx, csrf=CSRF, staff=staff),  # type: ignore[arg-type]
        headers={"Accept-Language": language},
    )


def _table(html: str, chart: str) -> dict[str, list[str]]:
    """Row header → cell values of the table of ``chart`` on a page."""
    section = html.split(f'id="{chart}"', 1)[1].split("</figure>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', section, re.DOTALL)
    return {label: re.findall(r'data-value="([^"]*)"', cells) for label, cells in rows}


def _seed(live: Live) -> tuple[int, int]:
    ctx = live.ctx
    one = seed_licence(ctx, {"esprinet": {"active": True}, "ingram": {"active": True}})
    two = seed_licence(
        ctx, {"esprinet": {"active": True}, "ingram": {"active": False}}, email="b@example.com"
    )
    day = T0 - timedelta(days=1)
    _log(ctx, one.licence_id, day, "a.example", app_version="3.0.2")
    _log(ctx, one.licence_id, day + timedelta(hours=1), "a.example")
    _log(ctx, two.licence_id, day, "b.example")
    _log(ctx, two.licence_id, T0, "b.example")
    _log(ctx, two.licence_id, T0, "b.example", code="SHOP_MISMATCH")  # not an active shop
    _log(ctx, None, T0, "c.example", code="NOT_FOUND", app_version="")
    _log(ctx, one.licence_id, T0 - timedelta(days=40), "old.example")  # outside the window
    return one.licence_id, two.licence_id


def test_chart_tables_match_the_validation_log(live: Live) -> None:
    one, _two = _seed(live)
    span = usage.window(live.ctx.now(), 30)
    with live.ctx.db.read_session() as session:
        days = usage.active_shops_by_day(session, span)
        versions = usage.versions_in_use(session, span)
        suppliers = usage.validations_per_supplier(session, span)
        mine = usage.active_shops_by_day(session, span, one)
    by_day = {row.day: row.shops for row in days}
    assert len(days) == 30 and by_day[T0.date()] == 1
    assert by_day[T0.date() - timedelta(days=1)] == 2
    assert sum(by_day.values()) == 3
    assert [(v.version, v.shops, v.validations) for v in versions] == [
        ("3.1.0", 2, 4),
        ("3.0.2", 1, 1),
        ("", 1, 1),
    ]
    # esprinet: both licences' 5 validations; ingram: only licence one's 2 (two's is inactive).
    assert [(s.code, s.validations, s.licences) for s in suppliers] == [
        ("esprinet", 5, 2),
        ("ingram", 2, 1),
    ]
    assert sum(row.shops for row in mine) == 1

    with _staff(live) as staff:
        page = staff.get("/admin/licences/usage")
        assert page.status_code == 200
        assert _table(page.text, "chart-versions") == {
            "3.1.0": ["2", "4"],
            "Unknown": ["1", "1"],
            "3.0.2": ["1", "1"],
        }
        assert _table(page.text, "chart-suppliers") == {
            "Esprinet": ["5", "2"],
            "Ingram": ["2", "1"],
        }
        shops = _table(page.text, "chart-active-shops")
        assert len(shops) == 30 and shops["2 Mar"] == ["1"] and shops["1 Mar"] == ["2"]
        assert page.text.count("data:image/svg+xml;base64,") == 3
        licence = staff.get(f"/admin/licences/{one}")
        assert licence.status_code == 200
        assert _table(licence.text, "chart-suppliers") == {
            "Esprinet": ["2", "1"],
            "Ingram": ["2", "1"],
        }
    with _staff(live, "es") as staff:
        page = staff.get("/admin/licences/usage")
        assert "Versiones de la aplicación en uso" in page.text
        assert _table(page.text, "chart-active-shops")["2 mar"] == ["1"]


def test_sharing_alert_appears_above_the_allowance_only(live: Live) -> None:
    ctx = live.ctx
    allowed = usage.allowed_shops(config(ctx).moves_per_year)
    assert allowed == 4  # the shop itself and three moves a year
    seeded = seed_licence(ctx)
    for n in range(allowed):
        _log(ctx, seeded.licence_id, T0 - timedelta(days=n), f"shop{n}.example")
    _log(ctx, seeded.licence_id, T0, "shop0.example")  # the same shop again counts once
    with _staff(live) as staff:
        listing = staff.get("/admin/licences/usage").text
        assert f"/admin/licences/{seeded.licence_id}" not in listing
        assert 'id="sharing-alert"' not in staff.get(f"/admin/licences/{seeded.licence_id}").text

        _log(ctx, seeded.licence_id, T0, "one-too-many.example", code="SHOP_MISMATCH")
        listing = staff.get("/admin/licences/usage").text
        alerts = listing.split('id="sharing-alerts"', 1)[1].split("</table>", 1)[0]
        assert f"/admin/licences/{seeded.licence_id}" in alerts
        assert f'data-value="{allowed + 1}"' in alerts
        page = staff.get(f"/admin/licences/{seeded.licence_id}").text
        assert 'id="sharing-alert"' in page and f"{allowed + 1} shops" in page
