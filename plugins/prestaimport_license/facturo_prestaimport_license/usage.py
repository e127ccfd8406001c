"""Usage insight from the validation log, aggregated in SQL over a bounded window.

Every query reads only the rows of the window (``at`` is indexed; the per-licence queries use
the ``(licence_id, at)`` index, the global ones ``(at, shop_host, app_version)``) and returns
one row per group: the log may hold millions of rows, the pages get a few dozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from .models import Addon, Supplier, ValidationLog

#: The window the charts cover by default, and the longest a page may ask for.
DEFAULT_DAYS = 30
MAX_DAYS = 90
V = ValidationLog


@dataclass(frozen=True)
class Window:
    """The instants ``[start, end)`` the figures cover, and its days (UTC)."""

    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        """Every UTC day of the window, oldest first."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def window(now: datetime, days: int = DEFAULT_DAYS) -> Window:
    """The last ``days`` whole UTC days up to and including today (1 ≤ days ≤ MAX_DAYS)."""
    days = min(max(1, days), MAX_DAYS)
    end = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    return Window(end - timedelta(days=days), end)


@dataclass(frozen=True)
class DayShops:
    """Shops with a valid validation on ``day``."""

    day: date
    shops: int


@dataclass(frozen=True)
class VersionUse:
    """An application version: the shops that ran it and its validations in the window."""

    version: str
    shops: int
    validations: int


@dataclass(frozen=True)
class SupplierUse:
    """Validations of licences holding an active add-on of a supplier, and those licences."""

    code: str
    name: str
    name_en: str
    validations: int
    licences: int

    def label(self, language: str) -> str:
        """The supplier's name for a reader of ``language``."""
        return self.name_en if language == "en" and self.name_en else self.name


@dataclass(frozen=True)
class SharingAlert:
    """A licence validated from more shops than its allowance in the window."""

    licence_id: int
    shops: int
    allowed: int
    last_seen: datetime


def allowed_shops(moves_per_year: int) -> int:
    """How many shops a key may be validated from in a window: its own and one per move the
    licence may make in a year."""
    return 1 + max(0, moves_per_year)


def _scoped(query: Any, span: Window, licence_id: int | None) -> Any:
    """``query`` limited to ``span`` (and to one licence when given)."""
    query = query.where(V.at >= span.start, V.at < span.end)
    if licence_id is not None:
        query = query.where(V.licence_id == licence_id)
    return query


def _day(session: Session) -> Any:
    """The UTC day of ``at`` as SQL (PostgreSQL keeps instants with a zone; SQLite in UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", V.at))
    return func.date(V.at)


def active_shops_by_day(
    session: Session, span: Window, licence_id: int | None = None
) -> list[DayShops]:
    """Distinct shops with a VALID answer per UTC day of ``span`` (days without one: 0)."""
    day = _day(session).label("day")
    query = _scoped(
        select(day, func.count(distinct(V.shop_host))).where(V.code == "VALID", V.shop_host != ""),
        span,
        licence_id,
    ).group_by(day)
    counts = {str(row[0])[:10]: int(row[1]) for row in session.execute(query)}
    return [DayShops(d, counts.get(d.isoformat(), 0)) for d in span.days]


def versions_in_use(
    session: Session, span: Window, licence_id: int | None = None, limit: int = 12
) -> list[VersionUse]:
    """Application versions seen in ``span``, most shops first (at most ``limit``)."""
    shops = func.count(distinct(V.shop_host))
    query = (
        _scoped(select(V.app_version, shops, func.count()), span, licence_id)
        .group_by(V.app_version)
        .order_by(shops.desc(), V.app_version.desc())
        .limit(limit)
    )
    return [VersionUse(str(r[0]), int(r[1]), int(r[2])) for r in session.execute(query)]


def validations_per_supplier(
    session: Session, span: Window, licence_id: int | None = None
) -> list[SupplierUse]:
    """Per supplier: the validations in ``span`` of licences holding its add-on (active), and
    how many such licences validated; most validations first."""
    validations = func.count(V.id)
    query = (
        _scoped(
            select(
                Supplier.code,
                Supplier.name,
                Supplier.name_en,
                validations,
                func.count(distinct(V.licence_id)),
            )
            .join(Addon, Addon.licence_id == V.licence_id)
            .join(Supplier, Supplier.id == Addon.supplier_id)
            .where(Addon.active.is_(True)),
            span,
            licence_id,
        )
        .group_by(Supplier.id, Supplier.code, Supplier.name, Supplier.name_en)
        .order_by(validations.desc(), Supplier.code)
    )
    return [
        SupplierUse(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]))
        for r in session.execute(query)
    ]


def sharing_alerts(
    session: Session,
    span: Window,
    allowed: int,
    licence_id: int | None = None,
    limit: int = 200,
) -> list[SharingAlert]:
    """Licences validated from more than ``allowed`` distinct shops in ``span`` (possible key
    sharing), most shops first."""
    shops = func.count(distinct(V.shop_host))
    query = (
        _scoped(
            select(V.licence_id, shops, func.max(V.at)).where(
                V.licence_id.is_not(None), V.shop_host != ""
            ),
            span,
            licence_id,
        )
        .group_by(V.licence_id)
        .having(shops > allowed)
        .order_by(shops.desc(), V.licence_id)
        .limit(limit)
    )
    alerts = []
    for row in session.execute(query):
        seen = row[2]
        if isinstance(seen, str):  # SQLite's max() of a column returns the stored text
            seen = datetime.fromisoformat(seen)
        if seen.tzinfo is None:
            seen = seen.replace(tzinfo=span.start.tzinfo)
        alerts.append(SharingAlert(int(row[0]), int(row[1]), allowed, seen))
    return alerts
