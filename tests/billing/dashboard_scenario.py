"""Known data for the dashboard's figures: customers, services with add-ons, invoices and
credit notes across months, payments by two methods with refunds, and unpaid proformas of
every age. Rows are written directly (the figures read rows, not the way they were made).

Today is the test clock's 2026-03-02 (Madrid): the last 12 months run from April 2025.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal as D
from itertools import count
from typing import Any

from facturo.context import Context
from facturo.models import Document, DocumentLine, Payment, Product, Refund, Service
from facturo.testing import make_catalog, make_customer

TODAY = date(2026, 3, 2)
_numbers = count(1)


@dataclass
class Built:
    """What the scenario made: product and customer ids."""

    licence: int
    addon_a: int
    addon_b: int
    customer: int
    other_customer: int


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _doc(
    customer: int, kind: str, day: date | None, subtotal: str, tax: str, **extra: Any
) -> Document:
    n = next(_numbers)
    number = None
    if kind == "invoice":
        number = f"FDASH-{n:05d}"
    elif kind == "credit_note":
        number = f"RDASH-{n:05d}"
    issue = extra.pop("issue_date", day or TODAY)
    return Document(
        kind=kind,
        status=extra.pop(
            "status", {"invoice": "paid", "credit_note": "issued"}.get(kind, "unpaid")
        ),
        reference=f"PDASH-{n:05d}",
        number=number,
        customer_id=customer,
        currency=extra.pop("currency", "EUR"),
        issue_date=issue,
        due_date=extra.pop("due_date", issue),
        invoice_date=day if number else None,
        subtotal=D(subtotal),
        tax_total=D(tax),
        total=D(subtotal) + D(tax),
        **extra,
    )


def _renew_line(service: Service, start: date) -> DocumentLine:
    return DocumentLine(
        position=0,
        service_id=service.id,
        action="renew",
        description="renewal",
        unit_price=service.price,
        amount=service.price,
        tax_rate=D("21.00"),
        period_start=start,
        period_end=start,
    )


def build(ctx: Context) -> Built:
    """Write the scenario's rows (see the module's docstring and the expectations in
    tests/billing/test_analytics.py)."""
    licence, (addon_a, addon_b) = make_catalog(ctx)
    ana = make_customer(ctx)
    luis = make_customer(ctx, email="luis@example.com")
    with ctx.db.transaction() as session:

        def service(
            product: Product, status: str, cycle: str, price: str, due: date | None, **extra: Any
        ) -> Service:
            row = Service(
                customer_id=ana.id,
                product_id=product.id,
                status=status,
                cycle=cycle,
                price=D(price),
                next_due_date=due,
                activated_at=extra.pop(
                    "activated_at", None if status == "pending" else _at(date(2024, 1, 1))
                ),
                **extra,
            )
            session.add(row)
            return row

        s1 = service(licence, "active", "annual", "149.00", date(2026, 4, 15))
        service(licence, "active", "monthly", "15.00", date(2026, 3, 20))
        s3 = service(addon_a, "active", "annual", "39.00", date(2026, 5, 10))
        service(addon_a, "terminated", "annual", "39.00", date(2025, 11, 1))
        service(addon_b, "cancelled", "annual", "29.00", date(2025, 8, 1))
        s6 = service(addon_b, "active", "annual", "29.00", date(2026, 7, 1))
        s7 = service(addon_a, "active", "quarterly", "10.00", date(2026, 6, 30))
        service(licence, "suspended", "annual", "100.00", date(2026, 3, 10))
        service(addon_a, "terminated", "annual", "39.00", date(2024, 12, 1))
        service(addon_b, "cancelled", "annual", "29.00", date(2025, 9, 1), activated_at=None)
        service(licence, "active", "monthly", "15.00", date(2026, 3, 1))
        service(addon_b, "active", "annual", "29.00", date(2026, 5, 31))
        service(licence, "pending", "annual", "149.00", None)
        service(licence, "active", "annual", "500.00", date(2026, 3, 15), currency="USD")
        session.flush()

        def invoice(day: date, subtotal: str, tax: str, *lines: DocumentLine) -> Document:
            doc = _doc(ana.id, "invoice", day, subtotal, tax)
            doc.amount_paid = doc.total
            number, doc.number = doc.number, None  # lines first: an issued document is frozen
            doc.lines.extend(lines)
            session.add(doc)
            session.flush()
            doc.number = number
            return doc

        i0 = invoice(date(2024, 7, 1), "29.00", "6.09", _renew_line(s6, date(2024, 7, 1)))
        i1 = invoice(date(2025, 4, 15), "149.00", "31.29", _renew_line(s1, date(2025, 4, 15)))
        i2 = invoice(date(2025, 5, 10), "39.00", "8.19", _renew_line(s3, date(2025, 5, 10)))
        i3 = invoice(date(2025, 7, 1), "29.00", "6.09", _renew_line(s6, date(2025, 7, 1)))
        i4 = invoice(date(2025, 12, 30), "10.00", "2.10", _renew_line(s7, date(2025, 12, 30)))
        i5 = invoice(date(2026, 1, 20), "100.00", "21.00")
        i6 = invoice(date(2026, 2, 10), "200.00", "42.00")
        session.add(_doc(ana.id, "invoice", date(2026, 2, 11), "80.00", "0.00", currency="USD"))
        session.flush()
        cn1 = _doc(ana.id, "credit_note", date(2026, 2, 20), "-50.00", "-10.50", original_id=i6.id)
        cn2 = _doc(ana.id, "credit_note", date(2026, 3, 1), "-100.00", "-21.00", original_id=i5.id)
        # A renewal still unpaid: its period does not count as renewed.
        pending = _doc(ana.id, "proforma", None, "39.00", "8.19", due_date=date(2026, 3, 1))
        pending.lines.append(_renew_line(s3, date(2026, 3, 1)))
        session.add_all([cn1, cn2, pending])

        # Receivables (the renewal above is the "0-30" bucket's first document, 47.19).
        def unpaid(due: str, total: str, customer: int = luis.id, **extra: Any) -> None:
            session.add(
                _doc(
                    customer,
                    "proforma",
                    None,
                    total,
                    "0.00",
                    due_date=date.fromisoformat(due),
                    issue_date=date(2025, 1, 1),
                    **extra,
                )
            )

        unpaid("2026-03-10", "50.00")
        unpaid("2026-03-02", "121.00", amount_paid=D("21.00"))
        unpaid("2026-01-31", "30.00")
        unpaid("2026-01-30", "40.00", credit_applied=D("10.00"))
        unpaid("2025-12-02", "60.00")
        unpaid("2025-12-01", "70.00")
        unpaid("2025-10-01", "80.00")
        unpaid("2025-10-01", "90.00", status="cancelled")
        unpaid("2025-10-01", "25.00", amount_paid=D("25.00"))
        unpaid("2025-10-01", "95.00", currency="USD")
        session.flush()

        def pay(
            doc: Document, gateway: str, amount: str, day: date, status: str = "applied"
        ) -> Payment:
            row = Payment(
                document_id=doc.id,
                customer_id=doc.customer_id,
                gateway=gateway,
                gateway_txn_id=f"txn-{next(_numbers)}",
                amount=D(amount),
                currency="EUR",
                paid_at=_at(day),
                status=status,
            )
            session.add(row)
            return row

        pay(i0, "transfer", "35.09", date(2024, 7, 1))
        pay(i1, "transfer", "180.29", date(2025, 4, 15))
        pay(i2, "paypal", "47.19", date(2025, 5, 10))
        pay(i3, "transfer", "35.09", date(2025, 7, 1))
        pay(i4, "paypal", "12.10", date(2025, 12, 30))
        p5 = pay(i5, "paypal", "121.00", date(2026, 1, 20))
        p6 = pay(i6, "transfer", "242.00", date(2026, 2, 10))
        pay(i6, "paypal", "99.00", date(2026, 2, 1), status="needs_review")
        # Paid on 31 March 2025 at 23:30 Madrid: before the window's first instant.
        pay(i1, "transfer", "5.00", date(2025, 3, 31)).paid_at = datetime(
            2025, 3, 31, 21, 30, tzinfo=UTC
        )
        session.flush()

        def refund(
            payment: Payment,
            doc: Document,
            note: Document | None,
            gateway: str,
            amount: str,
            status: str,
            day: date,
        ) -> None:
            session.add(
                Refund(
                    payment_id=payment.id,
                    document_id=doc.id,
                    credit_note_id=note.id if note else None,
                    amount=D(amount),
                    currency="EUR",
                    gateway=gateway,
                    status=status,
                    created_at=_at(day),
                )
            )

        refund(p6, i6, cn1, "manual", "60.50", "manual", date(2026, 2, 20))
        refund(p5, i5, cn2, "paypal", "121.00", "completed", date(2026, 3, 1))
        refund(p5, i5, None, "paypal", "10.00", "failed", date(2026, 3, 1))
    return Built(licence.id, addon_a.id, addon_b.id, ana.id, luis.id)
