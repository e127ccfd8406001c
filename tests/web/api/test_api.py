"""The REST API: tokens and scopes, resources, pagination, filters, errors, OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from starlette.applications import Starlette

from facturo.accounts import api_tokens
from facturo.context import Context
from facturo.models import ApiToken, Payment, StaffUser
from facturo.testing import AppClient, make_catalog, make_customer
from tests.web.conftest import CSRF, new_proforma, new_staff, staff_client


def make_token(ctx: Context, scope: str) -> str:
    staff = new_staff(ctx, "admin", f"api-{scope}@example.com")
    with ctx.db.transaction() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None
        _token, secret = api_tokens.create_token(session, row, "test", scope, "system")
    return secret


def test_tokens_and_scopes(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context(plugins=("transfer",))  # the manual method the API records with
    app = in_process(ctx)
    doc = new_proforma(ctx, make_customer(ctx))
    read, write = make_token(ctx, "read"), make_token(ctx, "read-write")
    body = {
        "document_id": doc.id,
        "amount": "121.00",
        "paid_on": "2026-01-05",
        "bank_reference": "B-77",
    }
    with AppClient(app, base_url="http://testserver/api/v1") as client:
        anonymous = client.get("/customers")
        assert anonymous.status_code == 401
        assert anonymous.json()["errors"][0]["code"] == "unauthorized"
        bogus = client.get("/customers", headers={"Authorization": "Bearer nope"})
        assert bogus.status_code == 401
        as_reader = {"Authorization": f"Bearer {read}"}
        assert client.get("/customers", headers=as_reader).status_code == 200
        denied = client.post("/payments", json=body, headers=as_reader)
        assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == "forbidden"
        as_writer = {"Authorization": f"Bearer {write}"}
        first = client.post("/payments", json=body, headers=as_writer)
        again = client.post("/payments", json=body, headers=as_writer)
        assert first.status_code == 201 and again.status_code == 200
        assert first.json()["id"] == again.json()["id"]
        assert first.json()["gateway"] == "transfer" and first.json()["status"] == "applied"
        invoice = client.get(f"/documents/{doc.id}", headers=as_reader).json()
        assert invoice["kind"] == "invoice" and invoice["number"]
        pdf = client.get(f"/documents/{doc.id}/pdf", headers=as_reader)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
    with ctx.db.read_session() as session:
        payments = list(session.scalars(select(Payment)))
        assert len(payments) == 1
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.scope == "read"))
    admin = new_staff(ctx, "admin", "boss@example.com")
    with staff_client(ctx, app, admin) as web:
        assert (
            web.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": CSRF}).status_code
            == 303
        )
        created = web.post(
            "/admin/tokens", data={"name": "erp", "scope": "read", "csrf_token": CSRF}
        )
        secret = created.text.split('id="new-token">')[1].split("<")[0]
    with AppClient(app, base_url="http://testserver/api/v1") as client:
        assert client.get("/customers", headers=as_reader).status_code == 401
        assert (
            client.get("/customers", headers={"Authorization": f"Bearer {secret}"}).status_code
            == 200
        )
    with ctx.db.read_session() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert secret not in stored and read not in stored


def test_lists_filters_pagination_and_errors(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    app = in_process(ctx)
    make_catalog(ctx)
    ana = make_customer(ctx)
    make_customer(ctx, email="bob@example.com", tax_id="")
    doc = new_proforma(ctx, ana)
    new_proforma(ctx, ana)
    write = make_token(ctx, "read-write")
    headers = {"Authorization": f"Bearer {write}"}
    with AppClient(app, base_url="http://testserver/api/v1", headers=headers) as client:
        page = client.get("/customers", params={"per_page": 1, "page": 2}).json()
        assert page["total"] == 2 and page["per_page"] == 1 and len(page["data"]) == 1
        assert page["data"][0]["email"] == "bob@example.com"
        assert client.get("/customers", params={"q": "ana@"}).json()["total"] == 1
        assert client.get("/products").json()["total"] == 3
        docs = client.get("/documents", params={"customer_id": ana.id, "status": "unpaid"})
        assert docs.json()["total"] == 2
        assert client.get("/documents", params={"kind": "invoice"}).json()["total"] == 0
        bad_page = client.get("/customers", params={"per_page": 1000})
        assert bad_page.status_code == 400
        assert bad_page.json()["errors"][0]["field"] == "per_page"
        bad_status = client.get("/documents", params={"status": "lost"})
        assert bad_status.json()["errors"][0]["field"] == "status"
        bad_date = client.get("/documents", params={"from": "yesterday"})
        assert bad_date.status_code == 400
        missing = client.get("/customers/999999")
        assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "not_found"
        assert client.get("/customers/abc").status_code == 404
        invalid = client.post(
            "/payments",
            json={
                "document_id": doc.id,
                "amount": "-3",
                "paid_on": "2026-01-01",
                "bank_reference": "X",
            },
        )
        assert invalid.status_code == 422
        assert invalid.json()["errors"][0]["field"] == "amount"
        assert (
            client.post(
                "/payments", content=b"{not json", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        nowhere = client.post(
            "/payments",
            json={
                "document_id": 424242,
                "amount": "1.00",
                "paid_on": "2026-01-01",
                "bank_reference": "X",
            },
        )
        assert nowhere.status_code == 422
        assert nowhere.json()["errors"][0]["field"] == "document_id"
        spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {
        "/customers",
        "/products/{id}",
        "/documents/{id}/pdf",
        "/payments",
        "/services",
    }
