"""Tables of the downloads: releases, their files, and who asked for no release emails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, UTCDateTime, utcnow

P = "prestaimport_license_"


class Release(Base):
    """One published version of the software, with its changelog in both languages."""

    __tablename__ = P + "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    notes_es: Mapped[str] = mapped_column(Text, default="")
    notes_en: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64), default="")

    def notes(self, language: str) -> str:
        """The changelog in ``language`` (Spanish when there is no English text)."""
        return (self.notes_en if language == "en" else "") or self.notes_es


class ReleaseFile(Base):
    """An installer (or any file) of a release, stored under the data folder by its hash."""

    __tablename__ = P + "release_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey(P + "releases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))


class ReleaseEmailOptOut(Base):
    """A customer who turned the "new version available" email off."""

    __tablename__ = P + "release_email_opt_outs"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
