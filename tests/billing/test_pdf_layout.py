"""How documents are laid out: addresses written once, numbered pages, the logo, the credit
note's reference; the PDFs are kept in test-artifacts/documents/ for people to look at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from facturo.billing.documents import LineSpec, create_credit_note, create_proforma
from facturo.billing.payments import record_payment
from facturo.billing.pdf import document_pdf
from facturo.billing.presentation import address_lines, postal_line
from facturo.builtin.pdf import PAGE_COUNT_MARK, page_count, paginated_pdf, render_html
from facturo.config import ConfigError
from facturo.context import Context
from facturo.models import Customer, Document
from facturo.pdftesting import drawn_images, image_sizes, pages_text, text_top
from facturo.testing import make_customer, save_document_artifact

PERIOD = {"period_start": date(2026, 3, 2), "period_end": date(2027, 3, 1)}


def issue(ctx: Context, lines: list[LineSpec], pay: bool = True, **customer: str) -> int:
    """A document for a new customer in Madrid (or as told), paid unless ``pay`` is False."""
    who = make_customer(ctx, email=f"{len(lines)}-{pay}@example.com", **customer)
    with ctx.db.transaction() as session:
        owner = session.get(Customer, who.id)
        assert owner is not None
        document = create_proforma(session, ctx, owner, lines)
        if pay:
            record_payment(session, ctx, document, "test", "t1", document.total, "EUR", ctx.now())
        return document.id


def pdf_of(ctx: Context, document_id: int, artifact: str = "") -> bytes:
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        pdf = document_pdf(ctx, session, document)
    if artifact:
        save_document_artifact(artifact, pdf)
    return pdf


def test_postal_line_writes_the_city_once_and_the_region_when_it_differs() -> None:
    assert postal_line("28014", "Madrid", "Madrid", "es") == "28014 Madrid (ES)"
    assert postal_line("28014", "Madrid", "madrid ", "ES") == "28014 Madrid (ES)"
    assert (
        postal_line("35001", "Las Palmas de Gran Canaria", "Las Palmas", "ES")
        == "35001 Las Palmas de Gran Canaria, Las Palmas (ES)"
    )
    assert postal_line("", "Berlin", "", "DE") == "Berlin (DE)"
    assert postal_line("", "", "", "") == ""
    seller = {"address": "Calle de Alcalá 1", "postal_code": "28014", "city": "Madrid"}
    assert address_lines({**seller, "province": "Madrid", "country": "ES"}) == [
        "Calle de Alcalá 1",
        "28014 Madrid (ES)",
    ]
    assert address_lines({"region": "Bayern", "city": "München", "country": "DE"}) == [
        "München, Bayern (DE)"
    ]


def test_invoice_writes_each_address_once(ctx: Context) -> None:
    text = pages_text(pdf_of(ctx, issue(ctx, [LineSpec("Licencia", Decimal("149.00"))])))[0]
    assert text.count("28001 Madrid (ES)") == 2  # the seller's (province Madrid) and the customer's
    assert "Madrid Madrid" not in text
    assert text.count("Calle Mayor 1") == 2


def test_a_short_invoice_is_one_page_numbered_1_of_1(ctx: Context) -> None:
    lines = [LineSpec(f"Proveedor {n}", Decimal("39.00"), **PERIOD) for n in range(4)]
    pdf = pdf_of(ctx, issue(ctx, lines), "invoice_es")
    (page,) = pages_text(pdf)
    assert "Página 1/1" in page and "Periodo: 02/03/2026 – 01/03/2027" in page


def test_thirty_lines_make_two_pages_numbered_with_the_header_repeated(ctx: Context) -> None:
    lines = [
        LineSpec(f"Proveedor {n} — add-on anual", Decimal("9.90"), **PERIOD) for n in range(30)
    ]
    first, second = pages_text(pdf_of(ctx, issue(ctx, lines), "invoice_30_lines"))
    assert "Página 1/2" in first and "Página 2/2" in second
    assert "Descripción" in first and "Descripción" in second
    assert "Proveedor 0 —" in first and "Proveedor 29 —" in second
    assert "Total" in second and "Total" not in first


def test_a_wrong_page_count_guess_is_corrected_by_a_second_pass(ctx: Context) -> None:
    with ctx.db.read_session() as session:
        document = session.get(Document, issue(ctx, [LineSpec("Licencia", Decimal("9"))]))
        assert document is not None
        html = render_html(ctx, document, for_pdf=True)
    assert PAGE_COUNT_MARK in html
    for guess in (1, 3):
        pdf = paginated_pdf(html, guess)
        assert page_count(pdf) == 1
        assert "Página 1/1" in pages_text(pdf)[0]


def test_credit_note_names_the_corrected_invoice_with_its_date_and_reason(ctx: Context) -> None:
    invoice_id = issue(ctx, [LineSpec("Licencia", Decimal("149.00"))])
    with ctx.db.transaction() as session:
        invoice = session.get(Document, invoice_id)
        assert invoice is not None
        note_id = create_credit_note(session, ctx, invoice, None, "Pedido duplicado").id
    text = pages_text(pdf_of(ctx, note_id, "credit_note"))[0]
    assert "Factura rectificativa" in text
    assert "Rectifica la factura: F2026-000001 (02/03/2026)" in text
    assert "Motivo: Pedido duplicado" in text and "-180,29 €" in text


def test_reverse_charge_invoice_shows_the_vat_number_and_the_legend(ctx: Context) -> None:
    document_id = issue(
        ctx,
        [LineSpec("Licencia", Decimal("149.00"), **PERIOD)],
        country="DE",
        tax_id="DE136695976",
        postal_code="10115",
        language="en",
    )
    text = pages_text(pdf_of(ctx, document_id, "reverse_charge"))[0]
    assert "Tax ID: DE136695976" in text and "VAT 0 %" in text
    assert "Reverse charge" in text and "Inversión del sujeto pasivo" in text
    assert "€149.00" in text and "Page 1/1" in text
    assert "Paid 2 Mar 2026 11:00" in text  # dates as English writes them, in Madrid time


def test_without_a_logo_the_seller_name_heads_the_page_and_no_image_is_drawn(
    ctx: Context,
) -> None:
    pdf = pdf_of(ctx, issue(ctx, [LineSpec("Licencia", Decimal("1"))]))
    assert drawn_images(pdf) == []
    assert pages_text(pdf)[0].startswith("Facturo Test S.L.")


def write_logo(path: Path, size: tuple[int, int]) -> Path:
    Image.new("RGB", size, (16, 42, 67)).save(path)
    return path


def test_the_logo_is_printed_at_the_top_scaled_into_its_box(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    logo = write_logo(tmp_path / "logo.png", (3000, 1000))
    ctx = make_context(overrides={"seller.logo": str(logo)})
    pdf = pdf_of(ctx, issue(ctx, [LineSpec("Licencia", Decimal("1"))]), "invoice_with_logo")
    (drawn,) = drawn_images(pdf)
    assert (round(drawn.width), round(drawn.height)) == (150, 50)  # the 150 × 50 pt box
    assert drawn.y + drawn.height > 842 - 80  # at the top of the A4 page
    assert image_sizes(pdf) == [(450, 150)]  # scaled down once to 3 pixels a point


def test_the_logo_setting_must_name_a_png_or_jpeg(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    text = tmp_path / "logo.png"
    text.write_text("not an image")
    with pytest.raises(ConfigError, match="seller.logo.*not a PNG or JPEG"):
        make_context(overrides={"seller.logo": str(text)})
    with pytest.raises(ConfigError, match="seller.logo.*cannot read"):
        make_context(overrides={"seller.logo": str(tmp_path / "missing.png")})
    small = write_logo(tmp_path / "small.jpg", (120, 60))
    assert make_context(overrides={"seller.logo": str(small)}).settings.seller_logo == small


def test_party_blocks_and_tax_sums_keep_one_line_each_with_no_blank_lines(ctx: Context) -> None:
    """These blocks break lines with newline characters (white-space: pre-line), not <br>: a
    stray newline in the template would add a blank line, a lost one would join two lines."""
    pdf = pdf_of(ctx, issue(ctx, [LineSpec("Licencia", Decimal("149.00"), **PERIOD)]))
    issuer = ["NIF: B12345674", "Calle Mayor 1", "28001 Madrid (ES)", "billing@facturo.test"]
    tops = [top for top in (text_top(pdf, text) for text in issuer) if top is not None]
    assert len(tops) == len(issuer)
    steps = {round(a - b, 1) for a, b in zip(tops, tops[1:], strict=False)}
    assert len(steps) == 1 and 8 < steps.pop() < 14  # one 9 pt line each, in order
    base, vat = text_top(pdf, "Base imponible 21 %"), text_top(pdf, "IVA 21 %")
    assert base is not None and vat is not None and 8 < base - vat < 16
    description, period = text_top(pdf, "Licencia"), text_top(pdf, "Periodo: 02/03/2026")
    assert description is not None and period is not None and 6 < description - period < 16
