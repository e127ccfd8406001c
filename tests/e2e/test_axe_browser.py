"""axe-core on every client and staff page, in the browser.

The pages are those the leftovers crawl visits (tests/web/test_leftovers.py: the demo seed
with every bundled plugin, its known routes with seeded ids, and the same-section links
found, a few per pattern of path). Each page whose markup has a shape not checked yet (see
:class:`PageShape`) is opened in Chromium and checked by axe; any serious or critical
violation fails. Forms that come back with errors move the focus to what went wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select

from facturo.context import Context
from facturo.demo import DEMO_STAFF
from facturo.models import StaffUser
from facturo.testing import logged_in_cookies, make_catalog, make_customer
from tests.e2e.accessibility import preload_axe, serious_violations
from tests.e2e.test_client_browser import Shots
from tests.web.conftest import serve  # noqa: F401  (a fixture the tests below use)
from tests.web.test_leftovers import SKIP_LINKS, Seeded, seeded  # noqa: F401

pytestmark = pytest.mark.browser
LIMIT = 160
#: Links that differ only in their numbers (documents 1…18) follow one pattern: the crawl
#: fetches at most this many of each, the starting pages (always fetched) counted in.
SAME_TEMPLATE = 3
NUMBERS = re.compile(r"\d+")
#: The attributes whose values shape a page for axe (besides ``aria-*``).
SHAPING = frozenset({"class", "role", "type", "name", "id", "for", "lang", "scope", "tabindex"})


class PageShape(HTMLParser):
    """A page's links, and its markup without its data: the set of kinds of element it has
    (tag, attribute names, the values of ``SHAPING`` and ``aria-*`` attributes with digits
    made ``N``) and which kinds hold text. axe's verdict follows the markup and the styles
    its classes pick, so two pages of one shape (two invoices with other amounts and lines)
    get the same one."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.kinds: set[tuple[str, ...]] = set()
        self._last: tuple[str, ...] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        kept = sorted(
            f"{name}={NUMBERS.sub('N', value or '')}"
            for name, value in values.items()
            if name in SHAPING or name.startswith("aria-")
        )
        self._last = (tag, *sorted(values), *kept)
        self.kinds.add(self._last)

    def handle_data(self, data: str) -> None:
        if self._last is not None and data.strip():
            self.kinds.add(("text in", *self._last))

    @property
    def shape(self) -> frozenset[tuple[str, ...]]:
        return frozenset(self.kinds)


def crawl_with_axe(page: Page, url: str, starts: list[str], section: str) -> dict[str, list[str]]:
    """Fetch ``starts`` and every same-section link found (GET only; at most ``SAME_TEMPLATE``
    links per pattern of path); open in the browser and check with axe each page whose
    :class:`PageShape` was not checked yet. axe's findings per page."""
    queue = list(dict.fromkeys(starts))
    seen: set[str] = set()
    queued = set(queue)
    templates: Counter[str] = Counter(NUMBERS.sub("N", path) for path in queue)
    checked: set[frozenset[tuple[str, ...]]] = set()
    report: dict[str, list[str]] = {}
    while queue and len(seen) < LIMIT:
        path = queue.pop(0)  # the queue holds each path once
        seen.add(path)
        fetched = page.request.get(url + path)
        if "text/html" not in fetched.headers.get("content-type", ""):
            continue  # a download (a spreadsheet…), not a page
        parsed = PageShape(fetched.text())
        if parsed.shape not in checked:
            checked.add(parsed.shape)
            page.goto(url + path)
            found = serious_violations(page)
            if found:
                report[path] = found
        for link in parsed.links:
            target = link.split("#", 1)[0]
            if target.startswith(f"/{section}") and not SKIP_LINKS.search(target):
                template = NUMBERS.sub("N", target)
                if target not in queued and templates[template] < SAME_TEMPLATE:
                    templates[template] += 1
                    queued.add(target)
                    queue.append(target)
    assert len(checked) > 10, f"the crawl of /{section} checked only {len(checked)} pages"
    return report


def test_pages_that_differ_only_in_their_data_have_one_shape() -> None:
    def invoice(number: int, lines: list[str], form: str = "") -> frozenset[tuple[str, ...]]:
        rows = "".join(
            f"<tr><td>{line}</td><td class='num'>{n}0,00 €</td></tr>"
            for n, line in enumerate(lines)
        )
        return PageShape(
            f"<main id='doc-{number}'><h1>Factura F-{number}</h1><table>{rows}</table>{form}</main>"
        ).shape

    assert invoice(7, ["Licencia"]) == invoice(12, ["Licencia", "Proveedor A", "Proveedor B"])
    refund = "<form><label for='amount'>Importe</label><input id='amount' name='amount'></form>"
    assert invoice(7, ["Licencia"], refund) != invoice(7, ["Licencia"])
    assert invoice(7, ["Licencia"], "<a href='/x'></a>") != invoice(
        7, ["Licencia"], "<a href='/x'>Ver</a>"
    )


def test_axe_reports_serious_violations(browser: Browser) -> None:
    """The checker itself: an image without text and a field without a label fail."""
    context = browser.new_context()
    preload_axe(context)
    page = context.new_page()
    page.set_content("<html lang='es'><main><img src='x.png'><input type='text'></main></html>")
    found = " ".join(serious_violations(page))
    assert "image-alt (critical)" in found and "label (critical)" in found
    context.close()


@pytest.fixture
def signed_in(
    seeded: Seeded,  # noqa: F811
    serve: Callable[[Context], str],  # noqa: F811
    browser: Browser,
) -> Iterator[tuple[BrowserContext, str]]:
    url = serve(seeded.ctx)
    with seeded.ctx.db.read_session() as session:
        staff = session.scalars(select(StaffUser).where(StaffUser.email == DEMO_STAFF[0])).one()
    context = browser.new_context(locale="es-ES")
    preload_axe(context)
    cookies = logged_in_cookies(seeded.ctx, customer=seeded.customer, staff=staff)
    context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
    yield context, url
    context.close()


@pytest.mark.parametrize("section", ["client", "admin"])
def test_every_page_is_free_of_serious_accessibility_violations(
    seeded: Seeded,  # noqa: F811
    signed_in: tuple[BrowserContext, str],
    section: str,
) -> None:
    context, url = signed_in
    page = context.new_page()
    starts = seeded.client_routes if section == "client" else seeded.staff_routes
    report = crawl_with_axe(page, url, starts, section)
    assert report == {}, "\n".join(f"{path}: {'; '.join(v)}" for path, v in report.items())


def test_a_failed_form_moves_the_focus_to_its_errors(
    make_context: Callable[..., Context],
    serve: Callable[[Context], str],  # noqa: F811
    browser: Browser,
) -> None:
    ctx = make_context()
    make_catalog(ctx)
    customer = make_customer(ctx)
    url = serve(ctx)
    shot = Shots("a11y")
    # Without JavaScript the summary's autofocus does it (tests/web/client/test_checkout.py);
    # here the page's small script does it too.
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.goto(f"{url}/client/register")
    page.fill("input[name=email]", "not-an-email")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#error-summary")
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    assert focused == "error-summary", focused
    assert serious_violations(page) == []
    shot(page, "register-errors")
    cookies = logged_in_cookies(ctx, customer=customer)
    context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
    page.goto(f"{url}/client/catalog")
    page.check("input[name=cycle][value=monthly]")
    page.locator("section.card input[type=radio][value$=':annual']").first.check()
    page.locator("section.card form button[type=submit]").first.click()
    alert = page.locator("main [role=alert]").first
    alert.wait_for()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    assert "un mismo periodo" in alert.inner_text()
    shot(page, "catalog-error")
    context.close()
