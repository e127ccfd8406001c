"""The client dashboard is served from a per-process cache of the rendered page: every change
of what it shows appears on the next request, the per-request parts (CSRF token, messages,
language) are the requesting session's, and no customer ever gets another's page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from facturo.billing.documents import LineSpec, create_credit_note, create_proforma
from facturo.contributions import Panel
from facturo.models import AuthSession, Customer, Document, Product, Service
from facturo.operations.metrics import exposition, metrics_registry
from facturo.plugin import hookimpl
from facturo.testing import AppClient, logged_in_cookies, make_catalog, session_cookie
from facturo.testing_flows import pay
from facturo.web.client_dashboard import pages_of
from facturo.web.page_cache import PLACEHOLDER
from tests.web.client.conftest import Site, make_customer

EN = {"Accept-Language": "en"}


def browser(site: Site, customer: Customer, csrf: str = "test-csrf-token") -> httpx.Client:
    """A client logged in as ``customer`` (a fresh session row) whose CSRF token is ``csrf``."""
    client = AppClient(
        site.app, cookies=logged_in_cookies(site.ctx, customer, csrf=csrf), follow_redirects=False
    )
    site.opened.append(client)
    return client


def dashboard(client: httpx.Client) -> str:
    response = client.get("/client/", headers=EN)
    assert response.status_code == 200, response.text
    assert PLACEHOLDER not in response.text
    return response.text


def proforma(site: Site, customer_id: int, text: str = "Support hours") -> Document:
    with site.ctx.db.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        return create_proforma(
            session, site.ctx, customer, [LineSpec(text, Decimal("10.00"))], notify=False
        )


def add_service(site: Site, customer_id: int, **values: Any) -> int:
    licence, _ = make_catalog(site.ctx)
    with site.ctx.db.transaction() as session:
        service = Service(
            customer_id=customer_id,
            product_id=licence.id,
            status="active",
            cycle="annual",
            price=Decimal("149.00"),
            currency="EUR",
            next_due_date=date(2027, 3, 14),
            **values,
        )
        session.add(service)
        session.flush()
        return service.id


def test_the_page_is_cached_and_the_same_as_rendered(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    document = proforma(site, customer.id)
    client = browser(site, customer)
    first = dashboard(client)
    pages = pages_of_site(site)
    hits = pages.hits
    assert dashboard(client) == first
    assert pages.hits == hits + 1
    assert document.reference in first and "Hello, Ana García" in first


def pages_of_site(site: Site) -> Any:
    class Request:
        app = site.app

    return pages_of(Request())  # type: ignore[arg-type]


def lookups(site: Site, result: str) -> float:
    """The ``/metrics`` count of the dashboard's kept-page lookups with ``result``."""
    text = exposition(metrics_registry(site.ctx)).decode()
    sample = f'facturo_page_cache_lookups_total{{page="client_dashboard",result="{result}"}} '
    lines = [line for line in text.splitlines() if line.startswith(sample)]
    return float(lines[0].removeprefix(sample)) if lines else 0.0


def test_metrics_count_the_pages_served_kept_and_rendered(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    client = browser(site, customer)
    hits, misses = lookups(site, "hit"), lookups(site, "miss")
    dashboard(client)
    dashboard(client)
    proforma(site, customer.id)
    dashboard(client)
    assert lookups(site, "hit") == hits + 1
    assert lookups(site, "miss") == misses + 2


def test_documents_and_payments_show_on_the_next_request(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    client = browser(site, customer)
    assert "You have no documents yet." in dashboard(client)
    document = proforma(site, customer.id)
    page = dashboard(client)
    assert document.reference in page and "Unpaid" in page and "#pay" in page
    pay(site.ctx, document.id, reference="bank-1")
    with site.ctx.db.read_session() as session:
        invoice = session.get(Document, document.id)
        assert invoice is not None and invoice.number
        number = invoice.number
    page = dashboard(client)
    assert number in page and "Paid" in page and "#pay" not in page
    with site.ctx.db.transaction() as session:
        invoice = session.get(Document, document.id)
        assert invoice is not None
        create_credit_note(session, site.ctx, invoice, None, "returned")
    assert "Refunded" in dashboard(client)


def test_service_changes_show_on_the_next_request(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    client = browser(site, customer)
    assert "You have no services yet." in dashboard(client)
    service_id = add_service(site, customer.id, label="shop.example.com")
    page = dashboard(client)
    assert f'href="/client/services/{service_id}"' in page and "14 Mar 2027" in page
    with site.ctx.db.transaction() as session:
        session.execute(update(Service).where(Service.id == service_id).values(status="suspended"))
    assert "Suspended" in dashboard(client)
    with site.ctx.db.transaction() as session:
        session.execute(
            update(Service)
            .where(Service.id == service_id)
            .values(next_due_date=date(2027, 4, 2), price=Decimal("150.00"))
        )
    page = dashboard(client)
    assert "2 Apr 2027" in page and "14 Mar 2027" not in page and "150.00" in page
    with site.ctx.db.transaction() as session:  # staff rename the product in the catalog
        product_id = session.scalar(select(Service.product_id).where(Service.id == service_id))
        session.execute(update(Product).where(Product.id == product_id).values(name_en="Renamed"))
    assert "Renamed" in dashboard(client)


def test_customer_data_shows_on_the_next_request(site: Site) -> None:
    customer = make_customer(site.ctx, language="en", verified=False)
    client = browser(site, customer)
    assert "Verify your email address" in dashboard(client)
    with site.ctx.db.transaction() as session:
        row = session.get(Customer, customer.id)
        assert row is not None
        row.name = "Ana Pérez"
        row.email_verified_at = site.ctx.now()
    page = dashboard(client)
    assert "Hello, Ana Pérez" in page and "Verify your email address" not in page


def test_language_switch_shows_the_other_language(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    proforma(site, customer.id)
    client = browser(site, customer)
    assert "Documents" in dashboard(client)
    client.get("/lang/es?next=/client/")
    page = dashboard(client)  # the session's choice outranks Accept-Language
    assert '<html lang="es">' in page and "Documentos" in page and "Pagar" in page
    client.get("/lang/en?next=/client/")
    assert '<html lang="en">' in dashboard(client)


def test_csrf_token_is_the_requesting_sessions(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    first = browser(site, customer, csrf="token-of-the-first-browser")
    second = browser(site, customer, csrf="token-of-the-second-browser")
    for _ in range(2):
        page = dashboard(first)
        assert tokens(page) == {"token-of-the-first-browser"}
        page = dashboard(second)
        assert tokens(page) == {"token-of-the-second-browser"}


def tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', page))


def test_a_message_is_shown_once(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    client = browser(site, customer)
    dashboard(client)  # the page is cached
    token = session_data(site, logged_in_cookies(site.ctx, customer))["customer_session"]
    data = {
        "csrf": "test-csrf-token",
        "customer_session": token,
        "flash": [{"kind": "info", "message": "Your data was saved."}],
    }
    flashed = AppClient(
        site.app,
        cookies={"facturo_session": session_cookie(site.ctx, data)},
        follow_redirects=False,
    )
    site.opened.append(flashed)
    assert "Your data was saved." in dashboard(flashed)
    assert "Your data was saved." not in dashboard(flashed)
    assert "Your data was saved." not in dashboard(client)


def session_data(site: Site, cookies: dict[str, str]) -> dict[str, Any]:
    import base64
    import json

    from itsdangerous import TimestampSigner

    signed = cookies["facturo_session"].encode()
    raw = TimestampSigner(str(site.ctx.settings.secret_key)).unsign(signed)
    data: dict[str, Any] = json.loads(base64.b64decode(raw))
    return data


def test_two_customers_never_see_each_others_page(site: Site) -> None:
    ana = make_customer(site.ctx, language="en")
    eve = make_customer(site.ctx, email="eve@example.com", language="en")
    document = proforma(site, ana.id)
    ana_client, eve_client = browser(site, ana, "ana-token"), browser(site, eve, "eve-token")
    for _ in range(2):
        ana_page, eve_page = dashboard(ana_client), dashboard(eve_client)
        assert document.reference in ana_page and document.reference not in eve_page
        assert "You have no documents yet." in eve_page
        assert tokens(ana_page) == {"ana-token"} and tokens(eve_page) == {"eve-token"}


def test_a_logged_out_session_gets_no_page(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    client = browser(site, customer)
    dashboard(client)
    client.post("/client/logout", data={"csrf_token": "test-csrf-token"})
    assert client.get("/client/").status_code == 303


def test_a_session_revoked_elsewhere_gets_no_page_though_its_reads_go_ahead(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    client = browser(site, customer)
    dashboard(client)
    dashboard(client)  # this session's reads are now sent ahead, the session's own first
    with site.ctx.db.transaction() as session:
        session.execute(update(AuthSession).values(revoked_at=site.ctx.now()))
    assert client.get("/client/").status_code == 303


class Counter:
    """A panel plugin: its panel shows ``value``; ``calls`` counts the renders."""

    def __init__(self) -> None:
        self.value = 1
        self.calls = 0

    @hookimpl
    def client_dashboard_panels(
        self, ctx: Any, session: Any, customer: Any, language: str
    ) -> list[Panel]:
        self.calls += 1
        return [Panel(title={"en": "Counter"}, html=f"<p class='counter'>{self.value}</p>")]


class KeyedCounter(Counter):
    """The same panel, keyed by its value."""

    @hookimpl
    def client_dashboard_panel_key(self, customer_id: int) -> object:
        return self.value


def test_a_panel_without_a_key_is_rendered_every_time(
    site_factory: Callable[..., Site],
) -> None:
    counter = Counter()
    site = site_factory(extra=[("counter", counter)])
    client = browser(site, make_customer(site.ctx, language="en"))
    dashboard(client)
    dashboard(client)
    assert counter.calls == 2
    counter.value = 2
    assert "<p class='counter'>2</p>" in dashboard(client)


def test_a_keyed_panel_is_rendered_again_when_its_key_changes(
    site_factory: Callable[..., Site],
) -> None:
    counter = KeyedCounter()
    site = site_factory(extra=[("counter", counter)])
    client = browser(site, make_customer(site.ctx, language="en"))
    dashboard(client)
    assert "<p class='counter'>1</p>" in dashboard(client)
    assert counter.calls == 1
    counter.value = 2
    assert "<p class='counter'>2</p>" in dashboard(client)
    assert counter.calls == 2


def test_recent_documents_order_is_kept(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    older = proforma(site, customer.id, "older")
    paid = proforma(site, customer.id, "paid")
    pay(site.ctx, paid.id, reference="bank-2")
    newer = proforma(site, customer.id, "newer")
    page = dashboard(browser(site, customer))
    positions = [page.index(reference) for reference in (newer.reference, older.reference)]
    assert positions == sorted(positions)  # unpaid first, newest first
    with site.ctx.db.read_session() as session:
        number = session.scalar(select(Document.number).where(Document.id == paid.id))
    assert number and page.index(number) > positions[-1]


def test_the_staff_banner_shows_only_to_staff_signed_in_as_the_customer(site: Site) -> None:
    from facturo.accounts.customers import create_staff
    from facturo.accounts.sessions import open_session

    customer = make_customer(site.ctx, language="en")
    own = browser(site, customer)
    banner = "on behalf of the staff"
    assert banner not in dashboard(own)
    with site.ctx.db.transaction() as session:
        staff, _ = create_staff(session, "admin@example.com", "Admin", "admin", None)
        session.flush()
        row, token = open_session(session, site.ctx, customer, True)
        row.impersonator_id = staff.id
    data = {"csrf": "staff-token", "customer_session": token}
    staff_browser = AppClient(
        site.app,
        cookies={"facturo_session": session_cookie(site.ctx, data)},
        follow_redirects=False,
    )
    site.opened.append(staff_browser)
    page = dashboard(staff_browser)
    assert banner in page and tokens(page) == {"staff-token"}
    assert banner not in dashboard(own)


def test_each_web_process_checks_its_copy_against_the_database(site: Site) -> None:
    from facturo.web.app import create_app

    other = Site(site.ctx, create_app(site.ctx))  # a second web process: its own cache
    customer = make_customer(site.ctx, language="en")
    first, second = browser(site, customer), browser(other, customer)
    assert "You have no documents yet." in dashboard(first)
    assert "You have no documents yet." in dashboard(second)
    document = proforma(site, customer.id)  # written by neither (the worker, staff…)
    assert document.reference in dashboard(first)
    assert document.reference in dashboard(second)
    for client in other.opened:
        client.close()


def test_a_kept_page_reads_its_key_in_one_go(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = make_customer(site.ctx, language="en")
    proforma(site, customer.id)
    client = browser(site, customer)
    first = dashboard(client)
    connections = type(site.ctx.db.pinned_reader().connections)
    calls: list[str] = []
    for name in ("fetch", "fetch_many"):
        original = getattr(connections, name)
        monkeypatch.setattr(
            connections,
            name,
            lambda self, *args, _name=name, _original=original: (
                calls.append(_name) or _original(self, *args)
            ),
        )
    assert dashboard(client) == first
    assert calls == ["fetch_many"]  # the session and every read of the key, at once
    second = proforma(site, customer.id)
    assert second.display_number in dashboard(client)
    assert second.display_number not in first
