"""A quarter of invoices and credit notes covering every VAT treatment, for the VAT book tests.

Q4 2025: a reverse-charge sale to a German business and an OSS sale to a French consumer.
Q1 2026: domestic sales (with and without a tax id), a reverse-charge sale to Italy, OSS sales
to France and Germany, sales outside the EU and to the Canary Islands, a partial credit of a
domestic invoice of the same quarter, and credit notes of both Q4 2025 invoices (a 349
rectification and an OSS correction). One customer's company name starts with ``=``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

from sqlalchemy import func, select

from facturo.accounts.customers import NewCustomer, create_customer
from facturo.billing.documents import LineSpec, create_credit_note, create_proforma
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.models import Customer, Document
from facturo.testing import Clock

_emails = count(1)
HOSTILE_NAME = '=HYPERLINK("http://x.test")'


def customer(
    ctx: Context, country: str, tax_id: str = "", postal_code: str = "28001", company: str = ""
) -> Customer:
    """A verified customer of ``country``."""
    with ctx.db.transaction() as session:
        return create_customer(
            session,
            ctx,
            NewCustomer(
                email=f"vat{next(_emails)}@example.com",
                password="correct horse battery",
                name="Cliente Prueba",
                company=company,
                country=country,
                tax_id=tax_id,
                postal_code=postal_code,
                address="Street 1",
                city="City",
            ),
            verified=True,
        )


def invoice(ctx: Context, who: Customer, *prices: str) -> Document:
    """A paid, numbered invoice of one line per price, issued on the clock's date."""
    with ctx.db.transaction() as session:
        fresh = session.get(Customer, who.id)
        assert fresh is not None
        proforma = create_proforma(
            session,
            ctx,
            fresh,
            [LineSpec(description=f"Licencia {p}", unit_price=Decimal(p)) for p in prices],
            notify=False,
        )
        record_payment(
            session,
            ctx,
            proforma,
            gateway="test",
            gateway_txn_id=f"vat-{proforma.id}",
            amount=proforma.total,
            currency="EUR",
            paid_at=ctx.now(),
        )
        session.flush()
        assert proforma.number is not None
        return proforma


def credit(ctx: Context, original: Document, amount: str | None = None) -> Document:
    """A credit note of ``original``, all of it or ``amount`` (tax included)."""
    with ctx.db.transaction() as session:
        fresh = session.get(Document, original.id)
        assert fresh is not None
        return create_credit_note(
            session, ctx, fresh, Decimal(amount) if amount else None, "Devolución"
        )


@dataclass
class Scenario:
    documents: dict[str, Document] = field(default_factory=dict)


def build(ctx: Context, clock: Clock) -> Scenario:
    """Issue the documents described in the module docstring."""
    made = Scenario()
    german = customer(ctx, "DE", "DE136695976", company="Shop GmbH")
    french = customer(ctx, "FR")
    clock.set(datetime(2025, 11, 20, 10, 0, tzinfo=UTC))
    made.documents["q4_de_b2b"] = invoice(ctx, german, "300.00")
    made.documents["q4_fr_oss"] = invoice(ctx, french, "80.00")

    clock.set(datetime(2026, 1, 15, 10, 0, tzinfo=UTC))
    spanish = customer(ctx, "ES", "12345678Z", company=HOSTILE_NAME)
    consumer = customer(ctx, "ES")
    italian = customer(ctx, "IT", "IT00743110157", company="Negozio Srl")
    german_consumer = customer(ctx, "DE")
    american = customer(ctx, "US", "12-3456789")
    canarian = customer(ctx, "ES", "B3500000I", postal_code="35001")
    made.documents["es"] = invoice(ctx, spanish, "149.00", "39.99")
    made.documents["es_f2"] = invoice(ctx, consumer, "29.00")
    made.documents["it_b2b"] = invoice(ctx, italian, "149.00")
    made.documents["fr_oss"] = invoice(ctx, french, "19.99", "0.01")
    made.documents["de_oss"] = invoice(ctx, german_consumer, "33.33")
    made.documents["us"] = invoice(ctx, american, "149.00")
    made.documents["canarias"] = invoice(ctx, canarian, "99.00")
    clock.set(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    made.documents["es_credit"] = credit(ctx, made.documents["es"], "50.00")
    made.documents["q4_de_credit"] = credit(ctx, made.documents["q4_de_b2b"])
    made.documents["q4_fr_credit"] = credit(ctx, made.documents["q4_fr_oss"], "24.20")
    made.documents["it_credit"] = credit(ctx, made.documents["it_b2b"], "49.00")
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    made.documents["q2_es"] = invoice(ctx, spanish, "10.00")
    return made


def period_sums(
    ctx: Context, start: datetime, end: datetime, treatment: str | None = None
) -> tuple[Decimal, Decimal]:
    """Σ subtotal and Σ tax of the invoices and credit notes issued from ``start`` to ``end``,
    straight from the documents table (optionally of one tax treatment)."""
    query = select(func.sum(Document.subtotal), func.sum(Document.tax_total)).where(
        Document.kind.in_(("invoice", "credit_note")),
        Document.number.is_not(None),
        Document.invoice_date >= start.date(),
        Document.invoice_date <= end.date(),
    )
    if treatment is not None:
        query = query.where(Document.tax_treatment == treatment)
    with ctx.db.read_session() as session:
        base, tax = session.execute(query).one()
    return Decimal(base or 0).quantize(Decimal("0.01")), Decimal(tax or 0).quantize(Decimal("0.01"))
