"""Tables of the licence plugin (all prefixed ``prestaimport_license_``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, UTCDateTime, utcnow

P = "prestaimport_license_"


class Licence(Base):
    """One shop licence: status ACTIVE / SUSPENDED / REVOKED, owned by a customer."""

    __tablename__ = P + "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LicenceKey(Base):
    """A key of a licence: HMAC lookup value, encrypted copy, hint; CURRENT or REPLACED."""

    __tablename__ = P + "keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey(P + "licences.id"), index=True)
    lookup_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary(200))
    hint: Mapped[str] = mapped_column(String(4))
    state: Mapped[str] = mapped_column(String(16), default="CURRENT")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ShopBindingRow(Base):
    """The shop a licence is bound to (one per licence)."""

    __tablename__ = P + "bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey(P + "licences.id"), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    shop_id: Mapped[str | None] = mapped_column(String(128))
    shop_host: Mapped[str] = mapped_column(String(253), index=True)
    shop_fp: Mapped[str] = mapped_column(String(64), index=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime())
    bound_via: Mapped[str] = mapped_column(String(24))


class ShopMove(Base):
    """A move of a licence to another shop (counts toward the yearly limit and cooldown)."""

    __tablename__ = P + "moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey(P + "licences.id"), index=True)
    old_shop_host: Mapped[str] = mapped_column(String(253))
    actor: Mapped[str] = mapped_column(String(64))
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Supplier(Base):
    """A supplier whose catalog the tool imports; add-on products name it by ``code``. Staff
    name it in both languages: ``name`` (Spanish, the business's language, also signed into
    leases) and ``name_en`` (English; empty when it is the same)."""

    __tablename__ = P + "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")

    def label(self, language: str) -> str:
        """The supplier's name for a reader of ``language``."""
        return self.name_en if language == "en" and self.name_en else self.name


class Addon(Base):
    """One supplier add-on of a licence: its own active flag and expiry."""

    __tablename__ = P + "addons"
    __table_args__ = (UniqueConstraint("licence_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey(P + "licences.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey(P + "suppliers.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProvisionMark(Base):
    """One applied provisioning step (service, action, period): makes redelivery harmless."""

    __tablename__ = P + "provisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    mark: Mapped[str] = mapped_column(String(120), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ValidationLog(Base):
    """One validation request and its answer."""

    __tablename__ = P + "validations"
    __table_args__ = (
        Index("ix_" + P + "validations_licence_id_at", "licence_id", "at"),
        Index("ix_" + P + "validations_at_shop", "at", "shop_host", "app_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    licence_id: Mapped[int | None] = mapped_column(Integer)
    key_hint: Mapped[str] = mapped_column(String(4))
    shop_host: Mapped[str] = mapped_column(String(253))
    install_id: Mapped[str] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(String(24))
    ip: Mapped[str] = mapped_column(String(64))
    app_version: Mapped[str] = mapped_column(String(32), default="", server_default="")


class OfferLink(Base):
    """A one-time renewal payment link for an add-on's renewal proforma, offered in leases.

    The token people get is derived from the row (id and HMAC), never stored; ``used_at`` is
    set once, by one conditional UPDATE, when the link is opened."""

    __tablename__ = P + "offer_links"
    __table_args__ = (
        Index(
            "ix_" + P + "offer_links_licence_id_addon_id", "licence_id", "addon_id", "expires_at"
        ),
        CheckConstraint("expires_at > created_at", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey(P + "licences.id"))
    addon_id: Mapped[int] = mapped_column(ForeignKey(P + "addons.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    epc_payload: Mapped[str] = mapped_column(String(400), default="", server_default="")


# The downloads' tables belong to the same metadata (and migrations) as the ones above.
from .downloads import models as _downloads  # noqa: E402, F401
