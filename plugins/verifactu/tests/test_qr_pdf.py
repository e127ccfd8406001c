"""The tax QR on the rendered invoice: read back from the PDF it decodes to the AEAT URL."""

from __future__ import annotations

import io
from decimal import Decimal

import zxingcpp
from PIL import Image
from pypdf import PdfReader

from facturo.plugin import Document, document_pdf
from facturo_verifactu.hashing import qr_url
from facturo_verifactu.testing import credit, customer, invoice


def _decoded_qr_texts(pdf: bytes) -> list[str]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    texts: list[str] = []
    for image in page.images:
        picture = Image.open(io.BytesIO(image.data)).convert("L")
        texts.extend(result.text for result in zxingcpp.read_barcodes(picture))
    return texts


def test_pdf_qr_decodes_to_the_validation_url(make_context) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(plugins=("verifactu",))
    paid = invoice(ctx, customer(ctx))
    note = credit(ctx, paid)
    for document, total in ((paid, "121.00"), (note, "-121.00")):
        with ctx.db.transaction() as session:
            fresh = session.get(Document, document.id)
            assert fresh is not None and fresh.number and fresh.invoice_date
            pdf = document_pdf(ctx, session, fresh)
            expected = qr_url("B12345674", fresh.number, fresh.invoice_date, total, False)
        assert expected.startswith("https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=")
        assert _decoded_qr_texts(pdf) == [expected]
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert "QR tributario:" in text and "VERI*FACTU" in text


def test_html_invoice_shows_qr_and_proforma_does_not(make_context) -> None:  # type: ignore[no-untyped-def]
    from facturo.billing.documents import LineSpec, create_proforma

    ctx = make_context(plugins=("verifactu",))
    who = customer(ctx)
    paid = invoice(ctx, who)
    with ctx.db.transaction() as session:
        fresh = session.get(Document, paid.id)
        html = ctx.hook.render_invoice(ctx=ctx, document=fresh, fmt="html").decode()
        unpaid = create_proforma(session, ctx, who, [LineSpec("Otra", Decimal("5"))])
        proforma_html = ctx.hook.render_invoice(ctx=ctx, document=unpaid, fmt="html").decode()
    assert "QR tributario:" in html and "VERI*FACTU" in html
    body = html[html.index("<body>") :]
    assert body.index("QR tributario:") < body.index(paid.number)  # first thing on the page
    assert "data:image/png;base64," in html
    assert "QR tributario:" not in proforma_html


def test_client_invoice_page_shows_the_qr_first(make_context) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from facturo.models import Customer
    from facturo.testing import logged_in_cookies, serve_in_thread, stop_server
    from facturo.web.app import create_app

    ctx = make_context(plugins=("verifactu",))
    who = customer(ctx)
    paid = invoice(ctx, who)
    with ctx.db.read_session() as session:
        owner = session.get(Customer, who.id)
    live = serve_in_thread(create_app(ctx))
    try:
        client = httpx.Client(base_url=live.url, cookies=logged_in_cookies(ctx, customer=owner))
        page = client.get(f"/client/documents/{paid.id}")
    finally:
        stop_server(live)
    assert page.status_code == 200
    main = page.text[page.text.index("<main") :]
    assert "QR tributario:" in main and "VERI*FACTU" in main
    assert main.index("QR tributario:") < main.index("<h1>")


def test_qr_heads_the_first_page_only_at_30_to_40_mm(make_context) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from facturo.billing.documents import LineSpec, create_proforma
    from facturo.pdftesting import drawn_images, page_height, pages_text, qr_texts, text_top
    from facturo.testing import save_document_artifact
    from facturo_verifactu.testing import pay

    ctx = make_context(plugins=("verifactu",))
    period = {"period_start": date(2026, 3, 2), "period_end": date(2027, 3, 1)}
    lines = [LineSpec(f"Proveedor {n}", Decimal("9.90"), **period) for n in range(30)]
    with ctx.db.transaction() as session:
        from facturo.models import Customer

        owner = session.get(Customer, customer(ctx).id)
        unpaid = create_proforma(session, ctx, owner, lines)
    paid = pay(ctx, unpaid)
    with ctx.db.transaction() as session:
        fresh = session.get(Document, paid.id)
        pdf = document_pdf(ctx, session, fresh)
    save_document_artifact("invoice_verifactu_30_lines", pdf)
    first, second = pages_text(pdf)
    assert "1/2" in first and "2/2" in second
    assert len(qr_texts(pdf, 0)) == 1 and drawn_images(pdf, 1) == []
    # "QR tributario:" sits in the top tenth of the first page, above the document's number.
    height = page_height(pdf)
    label, number = text_top(pdf, "QR tributario:"), text_top(pdf, paid.number)
    assert label is not None and number is not None
    assert label > height * 0.9 and label > number
    # The code itself (the image less its 4-module quiet zones) is 30 to 40 mm wide.
    (image,) = drawn_images(pdf, 0)
    url = qr_texts(pdf, 0)[0]
    from facturo.plugin import qr_image

    code = qr_image(url)
    side_mm = image.width * code.modules / (code.modules + 2 * code.border) * 25.4 / 72
    assert 30 <= side_mm <= 40 and abs(image.width - image.height) < 0.01
