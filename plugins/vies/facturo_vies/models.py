"""The plugin's tables: every VIES consultation (the proof) and staff overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, UTCDateTime, utcnow

CONSULTATION_STATES = ("valid", "invalid", "unavailable", "error")


class Consultation(Base):
    """One question to VIES and its answer, kept as proof and never changed.

    ``status``: valid / invalid (a VIES answer), unavailable (a fault after which asking again
    makes sense, or a network failure: the answer is unknown), error (a fault that asking
    again will not change, e.g. INVALID_INPUT). ``request_identifier`` is the consultation
    number VIES gives when the requester's VAT number is sent.
    """

    __tablename__ = "vies_consultations"
    __table_args__ = (
        Index("ix_vies_consultations_number_checked", "country", "number", "checked_at"),
        CheckConstraint(
            "status IN ('valid', 'invalid', 'unavailable', 'error')", name="status_known"
        ),
        CheckConstraint("status <> 'valid' OR valid", name="valid_matches"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    number: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(20))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    valid: Mapped[bool | None] = mapped_column(Boolean)
    request_identifier: Mapped[str] = mapped_column(String(64), default="")
    request_date: Mapped[str] = mapped_column(String(40), default="")
    trader_name: Mapped[str] = mapped_column(Text, default="")
    trader_address: Mapped[str] = mapped_column(Text, default="")
    fault_code: Mapped[str] = mapped_column(String(64), default="")
    endpoint: Mapped[str] = mapped_column(String(300), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    request_xml: Mapped[str] = mapped_column(Text, default="")
    response_xml: Mapped[str] = mapped_column(Text, default="")

    @property
    def full_number(self) -> str:
        return f"{self.country}{self.number}"


class Override(Base):
    """A staff decision about a VAT number (valid or invalid) that stands instead of VIES's
    answer until it is revoked; the written reason is required and audited."""

    __tablename__ = "vies_overrides"
    __table_args__ = (
        Index("ix_vies_overrides_number", "country", "number"),
        CheckConstraint("decision IN ('valid', 'invalid')", name="decision_known"),
        CheckConstraint("length(reason) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    number: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
