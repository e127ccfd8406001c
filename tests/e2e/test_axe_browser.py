"""axe-core on every client and staff page, in the browser.

The pages are those the leftovers crawl visits (tests/web/test_leftovers.py: the demo seed
with every bundled plugin, its known routes with seeded ids, and the same-section links
found, a few of each shape), opened in Chromium and checked by axe; any serious or critical
violation fails. Forms that come back with errors move the focus to what went wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from facturo.context import Context
from facturo.demo import DEMO_STAFF
from facturo.models import StaffUser
from facturo.testing import logged_in_cookies, make_catalog, make_customer
from tests.e2e.accessibility import serious_violations
from tests.e2e.test_client_browser import CHROMIUM_ARGS, Shots
from tests.web.conftest import serve  # noqa: F401  (a fixture the seed below asks for)
from tests.web.test_leftovers import SKIP_LINKS, Seeded, seeded  # noqa: F401

pytestmark = pytest.mark.browser
LIMIT = 160
#: Pages reached by links that differ only in their numbers (documents 1…18) are one template:
#: axe checks at most this many of each, the starting pages (always checked) counted in.
SAME_TEMPLATE = 3
NUMBERS = re.compile(r"\d+")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


class Links(HTMLParser):
    """The ``href`` of every link of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.found.append(href)


def crawl_with_axe(page: Page, url: str, starts: list[str], section: str) -> dict[str, list[str]]:
    """Open ``starts`` and every same-section link found (GET only; at most ``SAME_TEMPLATE``
    links per shape of path); axe's findings per page."""
    queue = list(dict.fromkeys(starts))
    seen: set[str] = set()
    queued = set(queue)
    templates: Counter[str] = Counter(NUMBERS.sub("N", path) for path in queue)
    report: dict[str, list[str]] = {}
    while queue and len(seen) < LIMIT:
        path = queue.pop(0)  # the queue holds each path once
        seen.add(path)
        try:
            response = page.goto(url + path)
        except PlaywrightError:  # a download (a spreadsheet…), not a page
            continue
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        found = serious_violations(page)
        if found:
            report[path] = found
        links = Links()
        links.feed(page.content())
        for link in links.found:
            target = link.split("#", 1)[0]
            if target.startswith(f"/{section}") and not SKIP_LINKS.search(target):
                template = NUMBERS.sub("N", target)
                if target not in queued and templates[template] < SAME_TEMPLATE:
                    templates[template] += 1
                    queued.add(target)
                    queue.append(target)
    assert len(seen) > 10, f"the crawl of /{section} found only {sorted(seen)}"
    return report


@pytest.fixture
def signed_in(
    seeded: Seeded,  # noqa: F811
    serve: Callable[[Context], str],  # noqa: F811
    chromium: Browser,
) -> Iterator[tuple[BrowserContext, str]]:
    url = serve(seeded.ctx)
    with seeded.ctx.db.read_session() as session:
        staff = session.scalars(select(StaffUser).where(StaffUser.email == DEMO_STAFF[0])).one()
    context = chromium.new_context(locale="es-ES")
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
    chromium: Browser,
) -> None:
    ctx = make_context()
    make_catalog(ctx)
    customer = make_customer(ctx)
    url = serve(ctx)
    shot = Shots("a11y")
    # Without JavaScript the summary's autofocus does it (tests/web/client/test_checkout.py);
    # here the page's small script does it too.
    context = chromium.new_context(locale="es-ES")
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
