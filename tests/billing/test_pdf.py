"""The default PDF: content in the customer's language, tax breakdown, accents and €."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader

from facturo.billing.documents import LineSpec, create_credit_note, create_proforma
from facturo.billing.payments import record_payment
from facturo.billing.pdf import document_pdf
from facturo.models import Customer, Document
from facturo.testing import make_customer
from tests.billing.conftest import Billing


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def issue(billing: Billing, language: str, country: str, email: str, pay: bool = True) -> int:
    ctx = billing.ctx
    customer = make_customer(
        ctx, email=email, language=language, country=country, tax_id="", postal_code="75001"
    )
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        assert who is not None
        who.company = "Ñandú Electrónica"
        document = create_proforma(
            session,
            ctx,
            who,
            [
                LineSpec("Licencia anual — tienda.es", Decimal("149.00")),
                LineSpec("Proveedor Ingram", Decimal("39.00"), quantity=Decimal("2")),
            ],
        )
        if pay:
            record_payment(
                session, ctx, document, "test", email, document.total, "EUR", ctx.now(), {}
            )
        return document.id


def render(billing: Billing, document_id: int) -> bytes:
    with billing.ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        return document_pdf(billing.ctx, session, document)


def test_spanish_invoice_pdf_is_spanish_with_breakdown_accents_and_euro(billing: Billing) -> None:
    text = pdf_text(render(billing, issue(billing, "es", "ES", "ana@example.com")))
    for expected in (
        "Factura",
        "F2026-000001",
        "Ñandú Electrónica",
        "Ana García",
        "Base imponible 21 %",
        "IVA 21 %",
        "227,00 €",  # base 149 + 2 × 39
        "47,67 €",
        "274,67 €",
        "Descripción",
        "Página 1",
        "Licencia anual —",
        "Pagado 02/03/2026 11:00",  # paid at 10:00 UTC, shown in Madrid time
        "Facturo Test S.L.",
        "B12345674",
    ):
        assert expected in text, expected
    for english in ("Invoice", "Tax base", "Description", "Page "):
        assert english not in text, english


def test_english_invoice_pdf_is_english_with_foreign_rate(billing: Billing) -> None:
    text = pdf_text(render(billing, issue(billing, "en", "FR", "jean@example.com")))
    for expected in (
        "Invoice",
        "F2026-000001",
        "Ñandú Electrónica",
        "Tax base 20 %",
        "VAT 20 %",
        "€227.00",
        "€45.40",
        "€272.40",
        "Page 1",
    ):
        assert expected in text, expected
    for spanish in ("Factura", "Base imponible", "Descripción", "Página"):
        assert spanish not in text, spanish


def test_proforma_and_credit_note_pdfs(billing: Billing) -> None:
    ctx = billing.ctx
    proforma = pdf_text(render(billing, issue(billing, "es", "ES", "p@example.com", pay=False)))
    assert "Proforma" in proforma and "Importe pendiente" in proforma
    assert "Fecha de vencimiento" in proforma
    invoice_id = issue(billing, "es", "ES", "c@example.com")
    with ctx.db.transaction() as session:
        invoice = session.get(Document, invoice_id)
        assert invoice is not None
        note = create_credit_note(session, ctx, invoice, None, "Pedido duplicado")
        note_id = note.id
    text = pdf_text(render(billing, note_id))
    assert "Factura rectificativa" in text and "R2026-000001" in text
    assert "Rectifica la factura: F2026-000001" in text and "Pedido duplicado" in text


def test_issued_pdf_is_rendered_once_and_kept(billing: Billing) -> None:
    invoice_id = issue(billing, "es", "ES", "k@example.com")
    first = render(billing, invoice_id)
    with billing.ctx.db.read_session() as session:
        stored = session.get(Document, invoice_id)
        assert stored is not None and stored.pdf == first
    assert render(billing, invoice_id) == first


def test_an_invoice_rendered_by_two_processes_keeps_the_first_pdf(billing: Billing) -> None:
    """Two workers mailing the same invoice both render it; the one that stores second must
    neither trip the immutability guard nor send a different file."""
    from sqlalchemy.orm.attributes import set_committed_value

    document_id = issue(billing, "es", "ES", "dos@example.com")
    first = render(billing, document_id)
    with billing.ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        set_committed_value(document, "pdf", None)  # as read before the other process stored
        second = document_pdf(billing.ctx, session, document)
    assert second == first
    with billing.ctx.db.read_session() as session:
        stored = session.get(Document, document_id)
        assert stored is not None and stored.pdf == first
