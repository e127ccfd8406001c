"""The plugin's tables: imported bank statements and their lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facturo.plugin import Base, Money, UTCDateTime, utcnow

LINE_STATES = ("proposed", "unmatched", "confirmed", "duplicate", "ignored")


class StatementImport(Base):
    """One uploaded statement file."""

    __tablename__ = "transfer_statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(16))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    line_count: Mapped[int] = mapped_column(Integer, default=0)

    lines: Mapped[list[StatementEntry]] = relationship(
        back_populates="statement", order_by="StatementEntry.id"
    )


class StatementEntry(Base):
    """A credit line of a statement; ``identity`` makes a second import of it harmless."""

    __tablename__ = "transfer_statement_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("transfer_statement_imports.id"), index=True)
    identity: Mapped[str] = mapped_column(String(200), unique=True)
    booking_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    remittance: Mapped[str] = mapped_column(Text, default="")
    bank_reference: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    confidence: Mapped[str] = mapped_column(String(24), default="none")
    reason: Mapped[str] = mapped_column(Text, default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))

    statement: Mapped[StatementImport] = relationship(back_populates="lines")
