"""Records generated when invoices and credit notes are issued; XML from them; verify-chain."""

from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner
from lxml import etree
from sqlalchemy import update

from facturo.plugin import Context
from facturo_verifactu.chain import rebuild, verify_chain
from facturo_verifactu.cli import verifactu
from facturo_verifactu.hashing import registration_hash
from facturo_verifactu.models import ChainRecord
from facturo_verifactu.testing import credit, customer, invoice, records
from facturo_verifactu.xml import NS_SUM1, build_submission, validate_submission

SELLER_NIF = "B12345674"


def _xml_of(ctx: Context) -> etree._Element:
    rows = records(ctx)
    built = [rebuild(row, rows[i - 1] if i else None) for i, row in enumerate(rows)]
    for row, record in zip(rows, built, strict=True):
        assert record.hash == row.hash
    payload = build_submission("Facturo Test S.L.", SELLER_NIF, built)
    return validate_submission(payload)


def _find(node: etree._Element, path: str) -> list[str]:
    steps = "/".join(f"{{{NS_SUM1}}}{tag}" for tag in path.split("/"))
    return [item.text or "" for item in node.iterfind(f".//{steps}")]


def test_invoice_and_credit_notes_are_chained_f1_r1(make_context) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(plugins=("verifactu",))
    spain = customer(ctx)
    first = invoice(ctx, spain)
    second = invoice(ctx, spain)
    partial = credit(ctx, first, Decimal("60.50"))
    rows = records(ctx)
    assert [r.sequence for r in rows] == [1, 2, 3]
    assert [r.invoice_type for r in rows] == ["F1", "F1", "R1"]
    assert [r.number for r in rows] == [first.number, second.number, partial.number]
    assert rows[0].previous_hash is None
    assert rows[1].previous_hash == rows[0].hash and rows[2].previous_hash == rows[1].hash
    assert (rows[0].tax_total, rows[0].total) == ("21.00", "121.00")
    assert (rows[2].tax_total, rows[2].total) == ("-10.50", "-60.50")
    assert rows[0].generated_at.endswith(("+01:00", "+02:00"))
    assert rows[0].hash == registration_hash(
        SELLER_NIF,
        first.number,
        first.invoice_date,
        "F1",
        "21.00",
        "121.00",
        None,
        rows[0].generated_at,
    )
    assert all(r.status == "pending" for r in rows)
    root = _xml_of(ctx)
    assert _find(root, "RegistroAlta/TipoRectificativa") == ["I"]
    assert _find(root, "FacturasRectificadas/IDFacturaRectificada/NumSerieFactura") == [
        first.number
    ]
    assert _find(root, "DetalleDesglose/CalificacionOperacion") == ["S1", "S1", "S1"]
    assert _find(root, "IDDestinatario/NIF") == ["12345678Z"] * 3
    with ctx.db.read_session() as session:
        assert verify_chain(session, SELLER_NIF).intact


def test_tax_treatments_map_to_breakdown_and_recipient(make_context) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(plugins=("verifactu",))
    invoice(ctx, customer(ctx, country="DE", tax_id="DE136695976", postal_code="10115"))
    invoice(ctx, customer(ctx, country="US", tax_id="12-3456789", postal_code="10001"))
    invoice(ctx, customer(ctx, country="ES", tax_id="12345678Z", postal_code="35001"))
    rows = records(ctx)
    assert [r.payload["tax_lines"][0]["operation"] for r in rows] == ["N2", "N2", "N2"]
    assert [r.payload["tax_lines"][0]["regime"] for r in rows] == ["01", "02", "08"]
    assert [r.tax_total for r in rows] == ["0.00", "0.00", "0.00"]
    root = _xml_of(ctx)
    assert _find(root, "IDOtro/IDType") == ["02", "04"]
    assert _find(root, "IDOtro/ID")[0] == "DE136695976"
    assert not _find(root, "DetalleDesglose/TipoImpositivo")


def test_customer_without_tax_id_gets_f2_and_its_credit_note_r5(make_context) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(plugins=("verifactu",))
    consumer = customer(ctx, tax_id="")
    simplified = invoice(ctx, consumer)
    credit(ctx, simplified)
    rows = records(ctx)
    assert [r.invoice_type for r in rows] == ["F2", "R5"]
    assert rows[1].total == "-121.00"
    root = _xml_of(ctx)
    assert not _find(root, "Destinatarios/IDDestinatario/NombreRazon")


def test_verify_chain_command_reports_the_first_break(make_context) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(plugins=("verifactu",))
    spain = customer(ctx)
    for _ in range(3):
        invoice(ctx, spain)
    runner = CliRunner()
    ok = runner.invoke(verifactu, ["verify-chain"], obj={"facturo_context": ctx})
    assert ok.exit_code == 0, ok.output
    assert "intact: 3 records" in ok.output
    with ctx.db.transaction() as session:
        session.execute(update(ChainRecord).where(ChainRecord.sequence == 2).values(total="999.00"))
    broken = runner.invoke(verifactu, ["verify-chain"], obj={"facturo_context": ctx})
    assert broken.exit_code == 1
    assert "broken at record 2: hash does not match" in broken.output
