"""The documents' stylesheet is parsed once per process (facturo.builtin.pdf_engine): a document
comes out the same whether it is the first converted or follows others, and xhtml2pdf's own
calls are left alone. These tests fail loudly when xhtml2pdf's internals change under it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from reportlab import rl_config
from xhtml2pdf import document as xhtml2pdf_document
from xhtml2pdf.w3c import cssParser

from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.payments import record_payment
from facturo.builtin import pdf_engine
from facturo.builtin.pdf import html_to_pdf, render_pdf, user_agent_css
from facturo.context import Context
from facturo.models import Customer, Document
from facturo.pdftesting import pages_text
from facturo.testing import make_customer

PERIOD: dict[str, Any] = {"period_start": date(2026, 3, 2), "period_end": date(2027, 3, 1)}


@pytest.fixture
def invariant(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """ReportLab writes no creation date or random document id: equal PDFs are equal bytes."""
    monkeypatch.setattr(rl_config, "invariant", 1)
    yield


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every stylesheet text xhtml2pdf parses from now on."""
    seen: list[str] = []
    original = cssParser.CSSParser.parse

    def parse(self: Any, src: str) -> Any:
        seen.append(src)
        return original(self, src)

    monkeypatch.setattr(cssParser.CSSParser, "parse", parse)
    return seen


def documents(ctx: Context) -> tuple[int, int]:
    """A paid 3-line invoice and an unpaid 1-line proforma of another customer."""
    ana = make_customer(ctx, email="ana@example.com")
    bob = make_customer(ctx, email="bob@example.com", language="en", country="FR")
    with ctx.db.transaction() as session:
        owner = session.get(Customer, ana.id)
        other = session.get(Customer, bob.id)
        assert owner is not None and other is not None
        lines = [LineSpec(f"Proveedor {n}", Decimal("39.00"), **PERIOD) for n in range(3)]
        invoice = create_proforma(session, ctx, owner, lines)
        record_payment(session, ctx, invoice, "test", "t1", invoice.total, "EUR", ctx.now())
        proforma = create_proforma(session, ctx, other, [LineSpec("Licence", Decimal("149"))])
        return invoice.id, proforma.id


def pdf(ctx: Context, document_id: int) -> bytes:
    with ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None
        return render_pdf(ctx, document)


def forget_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_engine, "_parsed", {})


def test_xhtml2pdf_builds_its_conversions_with_the_caching_context() -> None:
    user_agent_css()
    assert pdf_engine.install(), "xhtml2pdf's internals changed: pdf_engine caches nothing"
    assert xhtml2pdf_document.pisaContext.__module__ == pdf_engine.__name__


def test_the_documents_stylesheet_is_parsed_once_per_process(
    ctx: Context, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    forget_parsed(monkeypatch)
    invoice_id, proforma_id = documents(ctx)
    for document_id in (invoice_id, proforma_id, invoice_id):
        pdf(ctx, document_id)
    stylesheet = user_agent_css().strip()
    assert sum(stylesheet in text for text in parses) == 1
    assert pdf_engine.cached_count() == 1
    # the page rule in the document's <style> is parsed on each conversion, as it must be
    assert sum("@page" in text for text in parses) == 3


def test_a_document_converted_after_others_is_the_same_pdf_as_converted_alone(
    ctx: Context, invariant: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice_id, proforma_id = documents(ctx)
    forget_parsed(monkeypatch)
    proforma_alone = pdf(ctx, proforma_id)
    forget_parsed(monkeypatch)
    invoice_alone = pdf(ctx, invoice_id)
    in_sequence = [pdf(ctx, proforma_id), pdf(ctx, invoice_id), pdf(ctx, proforma_id)]
    assert in_sequence == [proforma_alone, invoice_alone, proforma_alone]
    assert invoice_alone != proforma_alone
    assert "F2026-000001" in pages_text(invoice_alone)[0]


def test_the_stock_call_and_other_stylesheets_are_parsed_every_time(parses: list[str]) -> None:
    user_agent_css()
    html = "<html><body><p>Hola</p></body></html>"
    for _ in range(2):
        html_to_pdf(html)
        html_to_pdf(html, "p { color: red; }")
    assert sum("p { color: red; }" in text for text in parses) == 2
    assert len(parses) == 4  # xhtml2pdf's own stylesheet each time, then ours


def test_a_stylesheet_that_acts_on_the_conversion_is_not_cached() -> None:
    for css in ("@page { size: a4; }", "p { background: url(x.png); }", "p { --x: 1; }"):
        with pytest.raises(ValueError, match="cannot hold"):
            pdf_engine.cache_stylesheet(css)


def test_xhtml2pdf_draws_a_block_element_as_its_flowable() -> None:
    """``<pdf:facturo>`` goes through xhtml2pdf's tag lookup: the QR comes out as an image that
    decodes to its text, level M, with both captions as text, at the size asked for."""
    import zxingcpp
    from xhtml2pdf import parser as xhtml2pdf_parser

    from facturo.builtin.pdf_blocks import QrBlock, pdf_block_html
    from facturo.builtin.pdf_flowables import block_flowable
    from facturo.pdftesting import drawn_images, image_sizes, qr_texts

    text = "BCD\n002\n1\nSCT\n\nÑandú Electrónica S.L.\nES9121000418450200051332\nEUR309.76"
    block = QrBlock(text, side_pt=86.0, above="Arriba", below="Escanea el código", bold=True)
    html = f"<html><body><table><tr><td>{pdf_block_html(block)}</td></tr></table></body></html>"
    assert pdf_engine.install_blocks(block_flowable), "xhtml2pdf's tag lookup changed"
    handler = getattr(xhtml2pdf_parser, pdf_engine.TAG_HANDLER)
    assert handler.__module__ == pdf_engine.__name__
    produced = html_to_pdf(html, user_agent_css())
    assert qr_texts(produced) == [text]
    (drawn,) = drawn_images(produced)
    assert abs(drawn.width - 86.0) < 0.01 and abs(drawn.height - 86.0) < 0.01
    (size,) = image_sizes(produced)
    page_text = pages_text(produced)[0]
    assert "Arriba" in page_text and "Escanea el código" in page_text
    # the flowable's own bitmap is level M, 2 pixels a module plus 4 quiet modules a side
    flowable = block_flowable(pdf_block_html(block).split('"')[1])
    (read,) = zxingcpp.read_barcodes(flowable.bitmap.image)
    assert read.ec_level == "M" and size[0] == 2 * (flowable.bitmap.modules + 8)


def test_a_details_block_prints_its_lines_note_and_qr() -> None:
    from facturo.builtin.pdf_blocks import DetailsBlock, QrBlock, parse_block, pdf_block_html
    from facturo.pdftesting import qr_texts

    code = QrBlock("BCD\n002\n1\nSCT\n\nAna\nES9121000418450200051332\nEUR1.00", side_pt=86.0)
    block = DetailsBlock((("Titular", "Ana & Cía <S.L.>"), ("IBAN", "ES91")), "Nota", code)
    markup = pdf_block_html(block)
    assert parse_block(markup.split('"')[1]) == block
    produced = html_to_pdf(f"<html><body><div>{markup}</div></body></html>", user_agent_css())
    text = pages_text(produced)[0]
    assert "Titular: Ana & Cía <S.L.>" in text and "IBAN: ES91" in text and "Nota" in text
    assert qr_texts(produced) == [code.text]


def test_a_lines_block_prints_every_cell_and_keeps_the_descriptions_line_breaks() -> None:
    from facturo.builtin.pdf_blocks import LinesBlock, parse_block, pdf_block_html

    rows = (
        (
            "Licencia <A&B>\nsegunda línea",
            "Periodo: 02/03/2026 – 01/03/2027",
            "1",
            "9,90 €",
            "21 %",
            "9,90 €",
        ),
        ("Soporte", "", "2", "5,00 €", "0 %", "10,00 €"),
    )
    block = LinesBlock(("Descripción", "Cant.", "Precio", "IVA", "Importe"), rows)
    markup = pdf_block_html(block)
    assert parse_block(markup.split('"')[1]) == block
    text = pages_text(html_to_pdf(f"<html><body>{markup}</body></html>", user_agent_css()))[0]
    lines = text.splitlines()
    assert "Licencia <A&B>" in lines and "segunda línea" in lines
    for cell in ("Descripción", "Importe", "Periodo: 02/03/2026 – 01/03/2027", "10,00 €", "0 %"):
        assert cell in text


def test_html_with_blocks_is_not_converted_when_xhtml2pdf_would_drop_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from facturo.builtin.pdf_blocks import QrBlock, pdf_block_html

    html = f"<html><body>{pdf_block_html(QrBlock('x', side_pt=50.0))}</body></html>"
    monkeypatch.setattr(pdf_engine, "_blocks_installed", [False])
    with pytest.raises(RuntimeError, match="tag lookup changed"):
        html_to_pdf(html, user_agent_css())
