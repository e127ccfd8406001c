"""Seeding for ``scale.py``: customers, documents with their lines and payments, licences and
their validation log, written with the core's bulk loader (COPY on PostgreSQL, one executemany
per chunk on SQLite) in chunks, so memory stays flat whatever the size."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

CHUNK = 20_000
BIG_CUSTOMER_DOCUMENTS = 500
PRICES = (Decimal("39.00"), Decimal("49.00"), Decimal("149.00"))
GATEWAYS = ("transfer", "ruralvia", "paypal")
FIRST_NAMES = ("Lucía", "Martín", "Sofía", "Hugo", "Julia", "Pablo", "Valeria", "Álvaro")
LAST_NAMES = ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Núñez")
CITIES = ("Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Murcia", "León")


@dataclass(frozen=True)
class Sizes:
    """How much to seed."""

    customers: int
    documents: int
    validations: int


SEARCH_TERM = "nunez 1999"
LICENCE_BITS = 10**30 + 7
STAFF_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class Seeded:
    """What the measurements need: the customer with many documents, a search term that
    matches few customers, a valid licence key and the staff user."""

    big_customer_id: int
    search_term: str
    licence_key: str
    staff_id: int
    seconds: dict[str, float]


def _chunks(total: int, make: Callable[[int], dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(1, total + 1, CHUNK):
        yield [make(i) for i in range(start, min(start + CHUNK, total + 1))]


def _load(ctx: Any, table: Any, total: int, make: Callable[[int], dict[str, Any]]) -> None:
    from facturo.db.bulk import bulk_insert

    for rows in _chunks(total, make):
        with ctx.db.transaction() as session:
            bulk_insert(session, table, rows)


def _customer_of(document_id: int, customers: int) -> int:
    """Documents 1..500 belong to customer 1 (the big one); the rest spread over the others."""
    if document_id <= BIG_CUSTOMER_DOCUMENTS:
        return 1
    return 2 + document_id % (customers - 1)


def seed(ctx: Any, sizes: Sizes, clock: Callable[[], float]) -> Seeded:
    """Fill an empty, migrated database; return what the measurements use and the seconds
    each table took."""
    from facturo.models import Customer, Document, DocumentLine, Payment
    from facturo.text import fold

    rng = random.Random(2026)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    seconds: dict[str, float] = {}
    tax_breakdown = [{"rate": "21.00", "base": "0.00", "tax": "0.00"}]
    legends: list[str] = []

    def customer(i: int) -> dict[str, Any]:
        name = f"{FIRST_NAMES[i % 8]} {LAST_NAMES[(i // 8) % 8]} {i}"
        company = f"Tienda {i} S.L." if i % 3 == 0 else ""
        email = f"cliente{i}@example.com"
        city = CITIES[i % 8]
        return {
            "id": i,
            "email": email,
            "password_hash": "",
            "language": "es" if i % 4 else "en",
            "name": name,
            "company": company,
            "tax_id": f"B{i:08d}" if company else "",
            "address": f"Calle Mayor {i % 200}",
            "postal_code": f"{28000 + i % 999:05d}",
            "city": city,
            "region": "",
            "country": "ES",
            "phone": "",
            "credit_balance": Decimal("0.00"),
            "disabled": False,
            "totp_last_step": 0,
            "recovery_codes": [],
            "created_at": now - timedelta(days=i % 1500),
            "email_verified_at": now - timedelta(days=i % 1500),
            "search_text": fold(" ".join((name, company, email, f"B{i:08d}", city))),
        }

    def document(i: int) -> dict[str, Any]:
        price = PRICES[i % 3]
        tax = (price * Decimal("0.21")).quantize(Decimal("0.01"))
        issued = date(2021, 1, 1) + timedelta(days=(i * 7) % 2160)
        invoice = i % 4 != 0
        # Written as proformas: lines can only be added to a document not yet issued (a
        # trigger); _issue() then turns three in four into paid invoices, as paying does.
        return {
            "id": i,
            "kind": "proforma",
            "status": "unpaid" if invoice or i % 8 == 0 else "cancelled",
            "reference": f"P-{i:08d}",
            "number": None,
            "customer_id": _customer_of(i, sizes.customers),
            "currency": "EUR",
            "issue_date": issued,
            "due_date": issued + timedelta(days=14),
            "invoice_date": issued if invoice else None,
            "paid_at": datetime.combine(issued, datetime.min.time(), UTC) if invoice else None,
            "subtotal": price,
            "tax_total": tax,
            "total": price + tax,
            "amount_paid": price + tax if invoice else Decimal("0.00"),
            "credit_applied": Decimal("0.00"),
            "refunded_total": Decimal("0.00"),
            "tax_treatment": "domestic",
            "tax_breakdown": tax_breakdown,
            "legends": legends,
            "reason": "",
            "source": "renewal",
            "language": "es",
            "created_at": now,
        }

    def line(i: int) -> dict[str, Any]:
        price = PRICES[i % 3]
        return {
            "id": i,
            "document_id": i,
            "position": 0,
            "description": "Licencia PrestaImport GUI" if i % 3 == 2 else "Proveedor Esprinet",
            "quantity": Decimal("1"),
            "unit_price": price,
            "amount": price,
            "tax_rate": Decimal("21.00"),
        }

    paid_ids = [i for i in range(1, sizes.documents + 1) if i % 4 != 0]

    def payment(n: int) -> dict[str, Any]:
        i = paid_ids[n - 1]
        price = PRICES[i % 3]
        issued = date(2021, 1, 1) + timedelta(days=(i * 7) % 2160)
        return {
            "id": n,
            "document_id": i,
            "customer_id": _customer_of(i, sizes.customers),
            "gateway": GATEWAYS[i % 3],
            "gateway_txn_id": f"TX{i:09d}",
            "amount": price + (price * Decimal("0.21")).quantize(Decimal("0.01")),
            "currency": "EUR",
            "credited": Decimal("0.00"),
            "refunded": Decimal("0.00"),
            "paid_at": datetime.combine(issued, datetime.min.time(), UTC),
            "status": "applied",
            "raw": {},
            "details": {},
            "created_at": now,
        }

    for name, table, total, make in (
        ("customers", Customer.__table__, sizes.customers, customer),
        ("documents", Document.__table__, sizes.documents, document),
        ("document lines", DocumentLine.__table__, sizes.documents, line),
        ("payments", Payment.__table__, len(paid_ids), payment),
    ):
        started = clock()
        _load(ctx, table, total, make)
        seconds[name] = clock() - started
    started = clock()
    _issue(ctx, sizes.documents)
    seconds["issuing"] = clock() - started
    _fix_sequences(ctx)
    licence_key, licence_id = _licence(ctx)
    started = clock()
    _validations(ctx, sizes, licence_id, rng, now)
    seconds["validation log"] = clock() - started
    _fix_sequences(ctx, ("prestaimport_license_validations",))
    staff_id = _staff(ctx)
    started = clock()
    _analyze(ctx)
    seconds["analyze"] = clock() - started
    return Seeded(
        big_customer_id=1,
        search_term=SEARCH_TERM,
        licence_key=licence_key,
        staff_id=staff_id,
        seconds=seconds,
    )


def _validations(
    ctx: Any, sizes: Sizes, licence_id: int, rng: random.Random, now: datetime
) -> None:
    from facturo_prestaimport_license.models import ValidationLog

    codes = ("OK", "OK", "OK", "OK", "EXPIRED", "SHOP_MISMATCH")
    span = 90 * 24 * 3600
    start = now - timedelta(seconds=span)
    step = span / sizes.validations

    def row(i: int) -> dict[str, Any]:
        return {
            "id": i,
            # in time order, as the log is written: index inserts append instead of splitting
            "at": start + timedelta(seconds=i * step),
            "licence_id": licence_id if i % 1000 == 0 else 2 + i % sizes.customers,
            "key_hint": f"{i % 10000:04d}",
            "shop_host": f"shop-{i % 50000}.example",
            "install_id": f"install-{i % 50000}",
            "code": codes[i % 6],
            "ip": f"10.{i % 250}.{(i // 250) % 250}.{i % 7}",
        }

    _load(ctx, ValidationLog.__table__, sizes.validations, row)


def _issue(ctx: Any, documents: int) -> None:
    """Turn documents whose id is not a multiple of 4 into paid invoices numbered F-<id>."""
    from sqlalchemy import text

    postgres = ctx.db.engine.dialect.name == "postgresql"
    number = "'F-' || lpad(id::text, 8, '0')" if postgres else "'F-' || printf('%08d', id)"
    for start in range(1, documents + 1, 100_000):
        with ctx.db.transaction() as session:
            session.execute(
                text(
                    f"UPDATE documents SET kind = 'invoice', status = 'paid', number = {number} "
                    "WHERE id BETWEEN :low AND :high AND id % 4 <> 0"
                ),
                {"low": start, "high": start + 99_999},
            )


def _fix_sequences(
    ctx: Any, tables: tuple[str, ...] = ("customers", "documents", "document_lines", "payments")
) -> None:
    """Move PostgreSQL's id sequences past the ids the bulk load gave explicitly."""
    from sqlalchemy import text

    if ctx.db.engine.dialect.name != "postgresql":
        return
    with ctx.db.transaction() as session:
        for table in tables:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )


def _licence(ctx: Any) -> tuple[str, int]:
    """An active licence of the big customer, through the plugin's own function."""
    from facturo_prestaimport_license.keys import format_key, key_from_bits
    from facturo_prestaimport_license.service import create_licence

    key = key_from_bits(LICENCE_BITS)
    with ctx.db.transaction() as session:
        licence = create_licence(session, ctx, 1, None, key=key)
        return format_key(key), licence.id


def _staff(ctx: Any) -> int:
    from facturo.accounts.customers import create_staff

    with ctx.db.transaction() as session:
        staff, _ = create_staff(session, STAFF_EMAIL, "Admin", "admin", None)
        return int(staff.id)


def _analyze(ctx: Any) -> None:
    """Fresh planner statistics, as autovacuum/ANALYZE would have after a real load."""
    from sqlalchemy import text

    if ctx.db.engine.dialect.name == "postgresql":
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with ctx.db.transaction() as session:
            session.execute(text("ANALYZE"))


def seeded_earlier(ctx: Any) -> Seeded:
    """What ``seed`` returned for the database behind ``ctx``, read back from it."""
    from sqlalchemy import select

    from facturo.models import StaffUser
    from facturo_prestaimport_license.keys import format_key, key_from_bits

    with ctx.db.read_session() as session:
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.email == STAFF_EMAIL))
    if staff_id is None:
        raise SystemExit("--reuse: this database was not seeded by scale.py")
    return Seeded(
        big_customer_id=1,
        search_term=SEARCH_TERM,
        licence_key=format_key(key_from_bits(LICENCE_BITS)),
        staff_id=int(staff_id),
        seconds={},
    )
