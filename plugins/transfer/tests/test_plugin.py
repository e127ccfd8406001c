"""The transfer plugin inside Facturo: settings, instructions on documents, statement import."""

from __future__ import annotations

import base64
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.pdf import document_pdf
from facturo.config import ConfigError
from facturo.context import Context
from facturo.models import Customer, Document, Payment
from facturo.testing import make_customer
from facturo_transfer import epc
from facturo_transfer.models import StatementEntry, StatementImport
from facturo_transfer.reconcile import confirm_lines, import_statement
from facturo_transfer.samples import Account, CamtEntry, Movement, camt053_file, n43_file
from facturo_transfer.statement import StatementError

IBAN = "ES9121000418450200051332"


@pytest.fixture
def transfer_ctx(make_context) -> Context:  # type: ignore[no-untyped-def]
    return make_context(plugins=("transfer",))


def proforma(ctx: Context, customer: Customer, net: str) -> Document:
    with ctx.db.transaction() as session:
        return create_proforma(
            session, ctx, session.get(Customer, customer.id), [LineSpec("Licencia", Decimal(net))]
        )


def test_a_bad_iban_stops_start_up_naming_the_key(make_context) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        make_context(
            plugins=("transfer",),
            plugin_settings={
                "transfer": {"account_holder": "X", "iban": "ES00 1234", "bic": "CAIXESBBXXX"}
            },
        )
    assert info.value.key == "plugin.transfer.iban"


def test_unpaid_document_shows_instructions_and_an_epc_qr(transfer_ctx: Context) -> None:
    customer = make_customer(transfer_ctx)
    document = proforma(transfer_ctx, customer, "100.00")
    options = [
        o
        for group in transfer_ctx.hook.invoice_payment_options(
            ctx=transfer_ctx, document=document, language="es"
        )
        for o in group
    ]
    (option,) = [o for o in options if o.gateway == "transfer"]
    for text in ("ES91 2100 0418 4502 0005 1332", "CAIXESBBXXX", "121,00 EUR", document.reference):
        assert text in option.html
    data_uri = option.html.split('src="')[1].split('"')[0]
    png = base64.b64decode(data_uri.split(",", 1)[1])
    import zxingcpp
    from PIL import Image

    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    decoded = epc.decode(barcode.text)
    assert decoded.iban == IBAN
    assert decoded.bic == "CAIXESBBXXX"
    assert decoded.name == "PrestaImport Software S.L."
    assert decoded.amount == Decimal("121.00")
    assert document.reference in (decoded.reference or decoded.text)


def test_instructions_are_printed_in_the_proforma_pdf(transfer_ctx: Context) -> None:
    from pypdf import PdfReader

    customer = make_customer(transfer_ctx, language="en")
    document = proforma(transfer_ctx, customer, "50.00")
    with transfer_ctx.db.transaction() as session:
        pdf = document_pdf(transfer_ctx, session, session.get(Document, document.id))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "ES91 2100 0418 4502 0005 1332" in text
    assert "EUR 60.50" in text
    assert document.reference in text


def norma43_for(first: Document, second: Document, third: Document) -> bytes:
    account = Account(
        movements=[
            Movement(
                "260302",
                "260302",
                first.total,
                "2",
                concepts=["TRANSF CLIENTE", f"PAGO {first.reference[:9]}", first.reference[9:]],
            ),
            Movement("260303", "260303", Decimal("12.00"), "1", common="17", ref2="COMISION"),
            Movement(
                "260304",
                "260304",
                Decimal("50.00"),
                "2",
                ref2=second.reference.replace("-", "").lower(),
            ),
            Movement(
                "260305",
                "260305",
                third.total + Decimal("10.00"),
                "2",
                concepts=[f"PAGO {third.reference}"],
            ),
            Movement("260306", "260306", Decimal("77.77"), "2", concepts=["SIN REFERENCIA"]),
        ]
    )
    return n43_file(account).encode()


def test_norma43_import_proposes_and_confirms_payments_once(transfer_ctx: Context) -> None:
    customer = make_customer(transfer_ctx)
    first, second, third = (
        proforma(transfer_ctx, customer, n) for n in ("100.00", "200.00", "10.00")
    )
    data = norma43_for(first, second, third)
    with transfer_ctx.db.transaction() as session:
        summary = import_statement(session, transfer_ctx, data, "marzo.n43", "staff:1")
        assert (summary.new_lines, summary.already_imported, summary.debits_ignored) == (4, 0, 1)
        entries = {e.document_id: e for e in session.scalars(select(StatementEntry))}
        assert entries[None].status == "unmatched"
        ids = [e.id for e in entries.values() if e.status == "proposed"]
        assert len(ids) == 3
        confirm_lines(session, transfer_ctx, ids, "staff:1")
    with transfer_ctx.db.read_session() as session:
        paid, partial, over = (session.get(Document, d.id) for d in (first, second, third))
        assert paid.status == "paid" and paid.number
        assert partial.status == "unpaid" and partial.amount_paid == Decimal("50.00")
        assert over.status == "paid"
        assert session.get(Customer, customer.id).credit_balance == Decimal("10.00")
    with transfer_ctx.db.transaction() as session:
        again = import_statement(session, transfer_ctx, data, "marzo-otra-vez.n43", "staff:1")
        assert (again.new_lines, again.already_imported) == (0, 4)
        confirm_lines(session, transfer_ctx, ids, "staff:1")
    with transfer_ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 3


def test_camt053_import_with_reference_split_across_lines(transfer_ctx: Context) -> None:
    customer = make_customer(transfer_ctx)
    document = proforma(transfer_ctx, customer, "100.00")
    head, tail = document.reference[:8], document.reference[8:]
    data = camt053_file(
        IBAN, [CamtEntry(Decimal("121.00"), date(2026, 3, 3), [f"Factura {head}", tail], "REF-1")]
    )
    with transfer_ctx.db.transaction() as session:
        import_statement(session, transfer_ctx, data, "stmt.xml", "staff:1")
        (entry,) = session.scalars(select(StatementEntry))
        assert entry.document_id == document.id and entry.confidence == "exact"
        confirm_lines(session, transfer_ctx, [entry.id], "staff:1")
    with transfer_ctx.db.read_session() as session:
        assert session.get(Document, document.id).status == "paid"


@pytest.mark.parametrize("data", [b"11garbage\n", b"<Document><BkToCstmrStmt><Stmt><Ntry></Ntry>"])
def test_a_malformed_file_names_the_line_and_imports_nothing(
    transfer_ctx: Context, data: bytes
) -> None:
    with pytest.raises(StatementError, match=r"line \d+"):
        with transfer_ctx.db.transaction() as session:
            import_statement(session, transfer_ctx, data, "bad", "staff:1")
    with transfer_ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(StatementImport)) == 0
        assert session.scalar(select(func.count()).select_from(StatementEntry)) == 0


def test_staff_upload_review_and_confirm_over_http(transfer_ctx: Context) -> None:
    import httpx

    from facturo.accounts.customers import create_staff
    from facturo.testing import logged_in_cookies, serve_in_thread, stop_server
    from facturo.web.app import create_app

    customer = make_customer(transfer_ctx)
    first, second, third = (
        proforma(transfer_ctx, customer, n) for n in ("100.00", "200.00", "10.00")
    )
    with transfer_ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, "billing@example.com", "Billing", "billing", "billing-pass-2026"
        )
        support, _ = create_staff(
            session, "support@example.com", "Support", "support", "support-pass-2026"
        )
    live = serve_in_thread(create_app(transfer_ctx))
    try:
        denied = httpx.Client(
            base_url=live.url, cookies=logged_in_cookies(transfer_ctx, staff=support)
        )
        assert denied.get("/admin/transfer/statements").status_code == 403
        client = httpx.Client(
            base_url=live.url, cookies=logged_in_cookies(transfer_ctx, staff=staff)
        )
        files = {"statement": ("marzo.n43", norma43_for(first, second, third), "text/plain")}
        no_csrf = client.post("/admin/transfer/statements", files=files)
        assert no_csrf.status_code == 403
        bad = client.post(
            "/admin/transfer/statements",
            data={"csrf_token": "test-csrf-token"},
            files={"statement": ("x.n43", b"99 broken", "text/plain")},
        )
        assert bad.status_code == 400 and "line 1" in bad.text
        uploaded = client.post(
            "/admin/transfer/statements", data={"csrf_token": "test-csrf-token"}, files=files
        )
        assert uploaded.status_code == 303
        review = client.get(uploaded.headers["location"])
        assert review.status_code == 200 and "SIN REFERENCIA" in review.text
        with transfer_ctx.db.read_session() as session:
            ids = [
                e.id
                for e in session.scalars(
                    select(StatementEntry).where(StatementEntry.status == "proposed")
                )
            ]
        confirmed = client.post(
            uploaded.headers["location"] + "/confirm",
            data={"csrf_token": "test-csrf-token", "line": [str(i) for i in ids]},
        )
        assert confirmed.status_code == 303
    finally:
        stop_server(live)
    with transfer_ctx.db.read_session() as session:
        assert session.get(Document, first.id).status == "paid"
        assert session.scalar(select(func.count()).select_from(Payment)) == 3


def test_a_proforma_with_transfer_instructions_and_qr_fits_on_one_page(
    transfer_ctx: Context,
) -> None:
    from facturo.pdftesting import pages_text, qr_texts
    from facturo.testing import save_document_artifact

    customer = make_customer(transfer_ctx, language="es")
    period = {"period_start": date(2026, 3, 2), "period_end": date(2027, 3, 1)}
    lines = [
        LineSpec(f"Proveedor {n} — add-on anual", Decimal("39.00"), **period) for n in range(6)
    ]
    with transfer_ctx.db.transaction() as session:
        document = create_proforma(session, transfer_ctx, customer, lines)
        pdf = document_pdf(transfer_ctx, session, document)
        reference, total = document.reference, document.total
    save_document_artifact("proforma_transfer", pdf)
    (page,) = pages_text(pdf)
    assert "Página 1/1" in page and "Cómo pagar" in page
    assert "ES91 2100 0418 4502 0005 1332" in page and reference in page
    for label in ("Titular:", "IBAN:", "BIC/SWIFT:", "Importe exacto:", "Concepto (obligatorio):"):
        assert label in page
    assert "Indica el concepto exactamente" in page and "Escanea el código" in page
    (payload,) = qr_texts(pdf, 0)
    decoded = epc.decode(payload)
    assert decoded.iban == IBAN and decoded.amount == total
    assert reference in (decoded.reference or decoded.text)
