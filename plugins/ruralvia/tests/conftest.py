from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from facturo_ruralvia.settings import Environment, RuralviaSettings

TEST_KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (Path(__file__).parent / "vectors" / "redsys.json").read_text()
    )
    return data


@pytest.fixture
def settings() -> RuralviaSettings:
    return RuralviaSettings(
        merchant_code="999008881",
        terminal="1",
        secret_key=TEST_KEY,
        currency="EUR",
        environment=Environment.TEST,
        language=None,
    )


# --- the app with the plugin, under uvicorn on a known port ---------------------------------


@dataclass
class CardApp:
    """The app with the ruralvia plugin (sandbox mode) served over real HTTP."""

    ctx: Any
    url: str
    server: Any
    thread: threading.Thread

    def client(self, customer: Any = None, staff: Any = None) -> httpx.Client:
        """An HTTP client, logged in as ``customer``/``staff`` (forms send CSRF_TOKEN)."""
        from facturo.testing import logged_in_cookies

        cookies = logged_in_cookies(self.ctx, customer, staff, csrf=CSRF_TOKEN)
        return httpx.Client(base_url=self.url, cookies=cookies, timeout=20)


CSRF_TOKEN = "ruralvia-test-csrf"


@pytest.fixture
def card_app(make_context: Callable[..., Any]) -> Iterator[CardApp]:
    """The app on a free port whose base_url is that port, so the sandbox reaches it."""
    from facturo.testing import free_port, serve_in_thread, stop_server
    from facturo.web.app import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(plugins=("ruralvia",), overrides={"base_url": url})
    live = serve_in_thread(create_app(ctx), port=port)
    yield CardApp(ctx, url, live.server, live.thread)
    stop_server(live)


def unpaid_proforma(ctx: Any, email: str = "ana@example.com") -> tuple[Any, Any]:
    """A verified Spanish customer and their proforma for the annual licence (149.00 + VAT)."""
    from sqlalchemy import select

    from facturo.billing.orders import place_order
    from facturo.models import Customer, Product
    from facturo.testing import make_catalog, make_customer

    with ctx.db.read_session() as session:
        has_catalog = session.scalar(select(Product).where(Product.code == "licence"))
    if has_catalog is None:
        make_catalog(ctx)
    customer = make_customer(ctx, email=email)
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        owner = session.get(Customer, customer.id)
        assert product is not None and owner is not None
        _, document = place_order(session, ctx, owner, product, "annual")
    return customer, document


# --- reading HTML forms ---------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1].fields[values["name"]] = values.get("value", "")


def forms_of(html: str) -> list[Form]:
    """The forms of ``html`` with their hidden/prefilled fields."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms
