"""Downloads: staff publish a version, customers with an active licence are told once (unless
they turned it off) and download through signed short-lived links; nobody else can."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from facturo.accounts.customers import create_staff
from facturo.models import OutboxMessage
from facturo.plugin import Customer
from facturo.testing import Clock, logged_in_cookies, make_customer
from facturo_prestaimport_license.models import Licence
from facturo_prestaimport_license.testing import Live, seed_licence

CSRF = "test-csrf-token"
INSTALLER = b"MZ\x90\x00 PrestaImport GUI 3.1 installer " * 1000


def _client(live: Live, **cookies: object) -> httpx.Client:
    return httpx.Client(
        base_url=str(live.http.base_url),
        cookies=logged_in_cookies(live.ctx, csrf=CSRF, **cookies),  # type: ignore[arg-type]
        follow_redirects=False,
        headers={"Accept-Language": "es"},
    )


def _customer(live: Live, customer_id: int) -> Customer:
    with live.ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        return customer


def _publish(
    staff: httpx.Client, version: str, content: bytes | None = INSTALLER
) -> httpx.Response:
    files = {"file": ("PrestaImportGUI-setup.exe", content, "application/octet-stream")}
    return staff.post(
        "/admin/licences/releases",
        data={"version": version, "notes_es": "Esprinet más rápido", "csrf_token": CSRF},
        files=files if content is not None else {"file": ("", b"", "application/octet-stream")},
    )


def test_publish_tell_and_download_only_while_the_licence_is_active(
    live: Live, clock: Clock
) -> None:
    ana = seed_licence(live.ctx, email="ana@example.com")
    quiet = seed_licence(live.ctx, email="quiet@example.com")
    nobody = make_customer(live.ctx, email="nobody@example.com")
    with live.ctx.db.transaction() as session:
        staff, _ = create_staff(session, "billing@example.com", "Bea", "billing", None)

    with _client(live, customer=_customer(live, quiet.customer_id)) as client:
        assert (
            client.post(
                "/client/licences/downloads/emails", data={"wanted": "no", "csrf_token": CSRF}
            ).status_code
            == 303
        )

    with _client(live, staff=staff) as web:
        assert _publish(web, "3.1.0").status_code == 303
        repeated = _publish(web, "3.1.0")
        assert repeated.status_code == 400 and "Esa versión ya está publicada." in repeated.text
        empty = _publish(web, "3.1.1", content=None)
        assert empty.status_code == 400 and "Elige un archivo para subir." in empty.text
        assert "3.1.0" in web.get("/admin/licences/releases").text

    with live.ctx.db.read_session() as session:
        told = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "licence_new_version")
            .order_by(OutboxMessage.id)
        ).all()
    assert [m.to_address for m in told] == ["ana@example.com"]  # not quiet, not nobody
    assert told[0].subject == "Nueva versión 3.1.0 disponible"
    assert "Esprinet más rápido" in told[0].text_body

    with _client(live, customer=_customer(live, ana.customer_id)) as client:
        page = client.get("/client/licences/downloads").text
        [link] = re.findall(r'href="(/public/licence-downloads/[^"]+)"', page)
        link = link.replace("&amp;", "&")
        got = httpx.get(f"{live.http.base_url}{link}")  # no cookies: a download manager
        assert got.status_code == 200 and got.content == INSTALLER
        assert "PrestaImportGUI-setup.exe" in got.headers["content-disposition"]

        other = link.replace(f"c={ana.customer_id}", f"c={nobody.id}")
        assert httpx.get(f"{live.http.base_url}{other}").status_code == 403

        clock.advance(minutes=16)
        expired = httpx.get(f"{live.http.base_url}{link}")
        assert expired.status_code == 403 and "caducado" in expired.text

        fresh = re.findall(
            r'href="(/public/licence-downloads/[^"]+)"',
            client.get("/client/licences/downloads").text,
        )[0].replace("&amp;", "&")
        with live.ctx.db.transaction() as session:
            licence = session.get(Licence, ana.licence_id)
            assert licence is not None
            licence.status = "SUSPENDED"
        assert httpx.get(f"{live.http.base_url}{fresh}").status_code == 403
        page = client.get("/client/licences/downloads").text
        assert "licence-downloads/" not in page
        assert "mientras tu licencia esté activa" in page

    with _client(live, customer=nobody) as client:
        page = client.get("/client/licences/downloads").text
        assert "licence-downloads/" not in page and "3.1.0" in page


def test_a_licence_past_its_expiry_gives_no_downloads(live: Live, clock: Clock) -> None:
    seeded = seed_licence(live.ctx)
    with live.ctx.db.transaction() as session:
        licence = session.get(Licence, seeded.licence_id)
        assert licence is not None
        licence.expires_at = live.ctx.now() + timedelta(days=1)
    with _client(live, customer=_customer(live, seeded.customer_id)) as client:
        assert (
            "mientras tu licencia esté activa" not in client.get("/client/licences/downloads").text
        )
        clock.advance(days=2)
        assert "mientras tu licencia esté activa" in client.get("/client/licences/downloads").text
