"""Server-side login sessions and passkeys (WebAuthn credentials) of customers and staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from facturo.db.base import Base
from facturo.db.types import UTCDateTime, utcnow

#: Exactly one owner column is set, the one ``kind`` names.
OWNER_CHECK = (
    "(kind = 'customer' AND customer_id IS NOT NULL AND staff_id IS NULL) OR "
    "(kind = 'staff' AND staff_id IS NOT NULL AND customer_id IS NULL)"
)


class AuthSession(Base):
    """One login of a customer or a staff user. The browser's cookie holds a random secret;
    only its SHA-256 (``token_hash``) is stored. ``verified`` is False while a second factor
    (or a mandatory enrolment) is still due. Ended by ``revoked_at`` or by the lifetimes."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        CheckConstraint(OWNER_CHECK, name="one_owner"),
        Index("ix_auth_sessions_customer", "customer_id", "revoked_at"),
        Index("ix_auth_sessions_staff", "staff_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    device_hash: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str] = mapped_column(String(30), default="")
    # Set when staff signed in as the customer ("sign in as this customer"): who did it.
    impersonator_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE")
    )


class Passkey(Base):
    """A WebAuthn credential registered by a customer or a staff user."""

    __tablename__ = "passkeys"
    __table_args__ = (CheckConstraint(OWNER_CHECK, name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
