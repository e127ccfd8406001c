"""The producer's declaración responsable shown inside the application (Orden HAC/1177/2024
art. 15): its content from the settings, reachable from every staff page's footer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from facturo.accounts.customers import create_staff
from facturo.plugin import Context
from facturo.testing import free_port, logged_in_cookies, serve_in_thread, stop_server
from facturo.web.app import create_app
from facturo_verifactu.declaration import TITLE

SIGNED = {
    "system_name": "Facturo",
    "system_id": "FA",
    "system_version": "2.3.1",
    "producer_address": "Calle Mayor 1, 28001 Madrid, España",
    "declaration_place": "Madrid, España",
    "declaration_date": "2026-11-30",
    "declaration_annex": "Soporte: soporte@facturo.test",
}


def _serve(make_context: Any, settings: dict[str, Any]) -> Iterator[tuple[Context, str]]:
    port = free_port()
    ctx = make_context(
        plugins=("verifactu",),
        overrides={"base_url": f"http://127.0.0.1:{port}"},
        plugin_settings={"verifactu": {"endpoint_url": "local", **settings}},
    )
    server = serve_in_thread(create_app(ctx), port=port)
    try:
        yield ctx, server.url
    finally:
        stop_server(server)


@pytest.fixture
def signed(make_context) -> Iterator[tuple[Context, str]]:  # type: ignore[no-untyped-def]
    yield from _serve(make_context, SIGNED)


def _client(ctx: Context, url: str, role: str, language: str) -> httpx.Client:
    with ctx.db.transaction() as session:
        staff, _password = create_staff(session, f"{role}{language}@example.com", role, role)
    return httpx.Client(
        base_url=url,
        cookies=logged_in_cookies(ctx, staff=staff),
        headers={"Accept-Language": language},
    )


def test_declaration_in_order_with_the_settings_values(signed) -> None:  # type: ignore[no-untyped-def]
    ctx, url = signed
    with _client(ctx, url, "support", "es") as client:
        page = client.get("/admin/verifactu/declaration")
        assert page.status_code == 200
        text = page.text
        assert TITLE in text and "Incompleta" not in text
        letters = [text.index(f"<dt><strong>{letter}) ") for letter in "abcdefghijkl"]
        assert letters == sorted(letters)
        for value in ("Facturo", "FA", "2.3.1", "B12345674", "Calle Mayor 1, 28001 Madrid"):
            assert value in text
        assert "Nombre del sistema informático" in text and "30/11/2026, Madrid, España" in text
        assert "Real Decreto 1007/2023" in text and "soporte@facturo.test" in text
        dashboard = client.get("/admin/")
        assert 'href="/admin/verifactu/declaration"' in dashboard.text  # the footer link
        download = client.get("/admin/verifactu/declaration.txt")
        assert download.headers["content-type"].startswith("text/plain")
        body = download.content.decode("utf-8")
        assert body.startswith(TITLE) and "\nl) " in body and "30/11/2026, Madrid, España" in body
    with _client(ctx, url, "billing", "en") as client:
        english = client.get("/admin/verifactu/declaration").text
        assert TITLE in english and "Name of the billing system" in english
        assert "The Spanish wording is the one that binds" in english
        assert "/admin/verifactu/declaration" in client.get("/admin/verifactu").text
    assert "/admin/verifactu/declaration" not in httpx.get(url + "/client/login").text


def test_an_unsigned_declaration_says_what_is_missing(make_context) -> None:  # type: ignore[no-untyped-def]
    for ctx, url in _serve(make_context, {}):
        with _client(ctx, url, "admin", "en") as client:
            text = client.get("/admin/verifactu/declaration").text
        assert "Incomplete: fill in items" in text and " l " in text
