"""The section guard refuses input no database column can hold, before any handler runs."""

from __future__ import annotations

import httpx

from facturo.context import Context
from facturo.models import Customer
from facturo.testing import serve_in_thread, stop_server
from facturo.web.app import create_app


def test_nul_characters_are_refused_with_400_and_change_nothing(ctx: Context) -> None:
    live = serve_in_thread(create_app(ctx))
    try:
        client = httpx.Client(base_url=live.url)
        page = client.get("/client/register")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {
            "csrf_token": token,
            "email": "eve\x00@example.com",
            "password": "x" * 12,
            "name": "Eve\x00",
        }
        answer = client.post("/client/register", data=form)
        assert answer.status_code == 400
        assert "NUL" in answer.text
        assert client.get("/client/login?next=%00").status_code == 400
        api = client.post(
            "/api/v1/payments",
            content=b'{"name": "a\\u0000"}',
            headers={"content-type": "application/json"},
        )
        assert api.status_code == 400
        assert api.json()["errors"][0]["code"] == "invalid_input"
    finally:
        stop_server(live)
    with ctx.db.read_session() as session:
        assert session.query(Customer).count() == 0
