"""Benchmark the invoice PDF: milliseconds per document with the default renderer, next to
xhtml2pdf rendering a bare one-page HTML table in the same run.

    .venv/bin/python benchmarks/invoice_pdf.py [--count 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

BARE_TABLE = (
    "<html><body><table>"
    + "".join(f"<tr><td>Row {n}</td><td>{n * 3}.00 €</td></tr>" for n in range(20))
    + "</table></body></html>"
)


def timed(work: Callable[[], bytes], count: int) -> tuple[float, float]:
    """(median, mean) milliseconds of ``count`` calls, after one warm-up call."""
    assert work().startswith(b"%PDF")
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), statistics.fmean(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    args = parser.parse_args()

    from facturo.billing.documents import LineSpec, create_proforma
    from facturo.billing.payments import record_payment
    from facturo.bootstrap import create_context, upgrade_database
    from facturo.builtin.pdf import html_to_pdf
    from facturo.config import settings_from_mapping
    from facturo.models import Customer, Document
    from facturo.testing import base_settings_mapping

    with tempfile.TemporaryDirectory(prefix="facturo-pdf-") as tmp:
        now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        settings = settings_from_mapping(
            base_settings_mapping(Path(tmp), f"sqlite:///{tmp}/pdf.db")
        )
        ctx = create_context(settings, clock=lambda: now)
        upgrade_database(ctx)
        with ctx.db.transaction() as session:
            customer = Customer(
                email="ana@example.com",
                name="Ana García Núñez",
                company="Ñandú Electrónica S.L.",
                tax_id="12345678Z",
                address="Calle Mayor 1",
                postal_code="28001",
                city="Madrid",
                country="ES",
                language="es",
            )
            session.add(customer)
            session.flush()
            lines = [
                LineSpec("Licencia PrestaImport anual", Decimal("149.00")),
                LineSpec("Proveedor Ingram", Decimal("39.00")),
                LineSpec("Proveedor Esprinet", Decimal("39.00")),
                LineSpec("Proveedor Techdata", Decimal("29.00")),
            ]
            document = create_proforma(session, ctx, customer, lines)
            record_payment(session, ctx, document, "bench", "1", document.total, "EUR", now)
            document_id = document.id
        with ctx.db.read_session() as session:
            invoice = session.get(Document, document_id)
            assert invoice is not None and invoice.number
            _ = list(invoice.lines), invoice.original

            def render_invoice() -> bytes:
                pdf = ctx.hook.render_invoice(ctx=ctx, document=invoice, fmt="pdf")
                assert pdf is not None
                return bytes(pdf)

            invoice_ms = timed(render_invoice, args.count)
        bare_ms = timed(lambda: html_to_pdf(BARE_TABLE), args.count)
    print(
        f"invoice PDF ({invoice.number}, 4 lines, Spanish): median {invoice_ms[0]:.1f} ms, "
        f"mean {invoice_ms[1]:.1f} ms per document"
    )
    print(f"xhtml2pdf bare one-page table: median {bare_ms[0]:.1f} ms, mean {bare_ms[1]:.1f} ms")
    print(f"target under 100 ms per invoice: {'met' if invoice_ms[0] < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
