"""One handler per section turns a FacturoError a handler lets through into the section's
answer: JSON errors under /api, an error page in the section's layout and language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.routing import Route

from facturo.accounts.api_tokens import create_token
from facturo.context import Context
from facturo.errors import FacturoError
from facturo.hookspecs import hookimpl
from facturo.models import StaffUser
from facturo.testing import AppClient, logged_in_cookies, make_customer
from facturo.web.app import create_app
from tests.web.conftest import new_staff


async def refuse(request: Request) -> Any:
    raise FacturoError("the plugin refuses that", field="amount", status=409, code="refused")


CATALOG = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "the plugin refuses that"
msgstr "el plugin no lo permite"
"""


class Refusing:
    """A plugin whose route refuses, with its own Spanish catalog for the detail."""

    def __init__(self, locale: Path | None = None) -> None:
        self.locale = locale

    @hookimpl
    def web_routes(self, section: str) -> list[Route]:
        return [Route("/refuse", refuse)]

    @hookimpl
    def locale_dirs(self) -> list[Path]:
        return [self.locale] if self.locale else []


@pytest.fixture
def client(make_context: Callable[..., Context], tmp_path: Path) -> AppClient:
    catalog = tmp_path / "locale" / "es" / "LC_MESSAGES" / "refusing.po"
    catalog.parent.mkdir(parents=True)
    catalog.write_text(CATALOG, encoding="utf-8")
    ctx = make_context(extra=[("refusing", Refusing(tmp_path / "locale"))])
    cookies = logged_in_cookies(ctx, customer=make_customer(ctx), staff=new_staff(ctx, "admin"))
    return AppClient(create_app(ctx), cookies=cookies)


def test_the_api_answers_a_facturo_error_as_json_errors(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context(extra=[("refusing", Refusing())])
    staff = new_staff(ctx, "admin")
    with ctx.db.transaction() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None
        _token, token = create_token(session, row, "test", "read-write", "system")
    with AppClient(create_app(ctx)) as api:
        answer = api.get("/api/refuse", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 409
    assert answer.json() == {
        "errors": [{"code": "refused", "detail": "the plugin refuses that", "field": "amount"}]
    }


@pytest.mark.parametrize(
    ("section", "menu_link"), [("client", "/client/documents"), ("admin", "/admin/customers")]
)
def test_pages_show_the_error_in_the_sections_layout_and_language(
    client: AppClient, section: str, menu_link: str
) -> None:
    with client:
        answer = client.get(f"/{section}/refuse", headers={"Accept-Language": "es"})
    assert answer.status_code == 409
    assert "<h1>Conflicto</h1>" in answer.text
    assert "el plugin no lo permite" in answer.text
    assert f'href="{menu_link}"' in answer.text  # the section's own menu


async def crash(request: Request) -> Any:
    raise RuntimeError("a bug")


class Crashing:
    @hookimpl
    def web_routes(self, section: str) -> list[Route]:
        return [Route("/crash", crash)] if section == "public" else []


def test_in_process_an_unhandled_error_answers_500_like_a_server(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context(extra=[("crashing", Crashing())])
    with AppClient(create_app(ctx)) as client:
        answer = client.get("/public/crash")
    assert answer.status_code == 500
