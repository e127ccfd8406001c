"""Long lists stay short pages: the staff documents list pages with a keyset link, the API
pages with ``after``, a customer's staff page shows the latest 20 with a link to the rest, and
the client's documents list pages by 50."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.applications import Starlette

from facturo.context import Context
from facturo.models import Customer, Document
from facturo.testing import AppClient, logged_in_cookies, make_customer
from tests.web.api.test_api import make_token
from tests.web.conftest import new_proforma, new_staff, staff_client


def _many(ctx: Context, count: int) -> tuple[Customer, list[Document]]:
    customer = make_customer(ctx)
    return customer, [new_proforma(ctx, customer, f"{10 + n}.00") for n in range(count)]


def test_staff_documents_page_through_older_links(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    _customer, documents = _many(ctx, 55)
    billing = new_staff(ctx, "billing")
    with staff_client(ctx, in_process(ctx), billing) as client:
        first = client.get("/admin/documents").text
        older = re.search(r'href="/admin/documents\?(before=\d+)" rel="next"', first)
        assert older is not None
        second = client.get(f"/admin/documents?{older.group(1)}").text
    shown = lambda html: set(re.findall(r'href="/admin/documents/(\d+)"', html))  # noqa: E731
    assert len(shown(first)) == 50 and len(shown(second)) == 5
    assert shown(first) | shown(second) == {str(d.id) for d in documents}
    assert 'rel="next"' not in second


def test_api_pages_with_after_and_next_after(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    _customer, documents = _many(ctx, 7)
    token = make_token(ctx, "read")
    seen: list[int] = []
    with AppClient(in_process(ctx), headers={"Authorization": f"Bearer {token}"}) as api:
        after = 0
        while after is not None:
            body = api.get("/api/v1/documents", params={"per_page": 3, "after": after}).json()
            assert body["page"] is None and body["total"] is None
            seen += [row["id"] for row in body["data"]]
            after = body["next_after"]
        paged = api.get("/api/v1/documents", params={"per_page": 3}).json()
        bad = api.get("/api/v1/documents", params={"after": "x"})
    assert seen == sorted(d.id for d in documents)
    assert paged["total"] == 7 and paged["page"] == 1 and paged["next_after"] == seen[2]
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "after"


def test_customer_page_shows_the_latest_twenty(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    customer, documents = _many(ctx, 22)
    billing = new_staff(ctx, "billing")
    with staff_client(ctx, in_process(ctx), billing) as client:
        page = client.get(f"/admin/customers/{customer.id}").text
    listed = set(re.findall(r'href="/admin/documents/(\d+)"', page))
    assert listed == {str(d.id) for d in documents[-20:]}
    assert f'href="/admin/documents?customer_id={customer.id}"' in page


def test_client_documents_page_by_fifty(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    customer, documents = _many(ctx, 52)
    cookies = logged_in_cookies(ctx, customer=customer)
    with AppClient(in_process(ctx), cookies=cookies) as client:
        first = client.get("/client/documents").text
        second = client.get("/client/documents?page=2").text
        nonsense = client.get("/client/documents?page=abc")
    listed = lambda html: set(re.findall(r'href="/client/documents/(\d+)"', html))  # noqa: E731
    assert len(listed(first)) == 50 and len(listed(second)) == 2
    assert listed(first) | listed(second) == {str(d.id) for d in documents}
    assert 'rel="next"' in first and 'rel="next"' not in second
    assert nonsense.status_code == 200
