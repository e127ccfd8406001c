"""Test support for the VERI*FACTU plugin: issue invoices and credit notes through the core."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from facturo.plugin import (
    Context,
    Document,
    LineSpec,
    create_credit_note,
    create_proforma,
    record_payment,
)
from facturo.testing import make_customer
from facturo_verifactu.models import ChainRecord

_counter = iter(range(1, 1_000_000))


def customer(ctx: Context, **fields: str):  # type: ignore[no-untyped-def]
    """A customer; ``make_customer`` keyword arguments (country, tax_id, postal_code…)."""
    fields.setdefault("email", f"c{next(_counter)}@example.com")
    return make_customer(ctx, **fields)  # type: ignore[arg-type]


def proforma(ctx: Context, who, description: str = "Licencia PrestaImport") -> Document:  # type: ignore[no-untyped-def]
    """An unpaid proforma of one 100.00 line for ``who``."""
    with ctx.db.transaction() as session:
        return create_proforma(
            session, ctx, who, [LineSpec(description=description, unit_price=Decimal("100.00"))]
        )


def pay(ctx: Context, document: Document, txn: str | None = None) -> Document:
    """Pay ``document`` in full through the core; return the numbered invoice."""
    with ctx.db.transaction() as session:
        fresh = session.get(Document, document.id)
        assert fresh is not None
        record_payment(
            session,
            ctx,
            fresh,
            gateway="test",
            gateway_txn_id=txn or f"txn-{document.id}",
            amount=fresh.total,
            currency="EUR",
            paid_at=ctx.now(),
        )
    with ctx.db.read_session() as session:
        paid = session.get(Document, document.id)
        assert paid is not None and paid.number is not None
        return paid


def invoice(ctx: Context, who, description: str = "Licencia PrestaImport") -> Document:  # type: ignore[no-untyped-def]
    """A paid, numbered invoice."""
    return pay(ctx, proforma(ctx, who, description))


def credit(ctx: Context, original: Document, amount: Decimal | None = None) -> Document:
    """A credit note for ``original`` (all of it, or ``amount``)."""
    with ctx.db.transaction() as session:
        fresh = session.get(Document, original.id)
        assert fresh is not None
        note = create_credit_note(session, ctx, fresh, amount, "Devolución")
        session.flush()
        return note


def records(ctx: Context) -> list[ChainRecord]:
    """Every chain record, in chain order."""
    with ctx.db.read_session() as session:
        return list(session.scalars(select(ChainRecord).order_by(ChainRecord.sequence)))
