"""Finding an invoice and downloading a year's invoices as one ZIP."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

from sqlalchemy import select

from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.payments import record_payment
from facturo.models import Customer, Document
from tests.web.client.conftest import Site, logged_in, make_customer


def _invoice(site: Site, customer_id: int, description: str) -> str:
    ctx = site.ctx
    with ctx.db.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        document = create_proforma(session, ctx, customer, [LineSpec(description, Decimal("10"))])
        record_payment(
            session, ctx, document, "transfer", description, document.total, "EUR", ctx.now()
        )
        assert document.number is not None
        return document.number


def test_search_by_number_or_concept_and_a_yearly_zip_of_pdfs(site: Site) -> None:
    ana = make_customer(site.ctx, language="en")
    first = _invoice(site, ana.id, "Licencia tienda-uno.es")
    second = _invoice(site, ana.id, "Proveedor Esprinet")
    client = logged_in(site, ana)

    found = client.get("/client/documents", params={"q": "esprinet"}).text
    assert second in found and first not in found
    by_number = client.get("/client/documents", params={"q": first}).text
    assert first in by_number and second not in by_number

    page = client.get("/client/documents").text
    assert 'href="/client/documents/archive/2026.zip"' in page
    answer = client.get("/client/documents/archive/2026.zip")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{n}.pdf" for n in (first, second))
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
    with site.ctx.db.read_session() as session:  # the PDFs are now kept with the invoices
        kept = session.scalars(select(Document).where(Document.number.is_not(None))).all()
        assert len(kept) == 2 and all(doc.pdf for doc in kept)

    assert client.get("/client/documents/archive/2025.zip").status_code == 404
    other = logged_in(site, make_customer(site.ctx, email="eve@example.com", language="en"))
    assert other.get("/client/documents/archive/2026.zip").status_code == 404
    assert "No documents." in other.get("/client/documents", params={"q": first}).text
