"""The renewal run writes exactly the rows it wrote before it was made set-based.

A mixed fixture (the benchmark's mix: Spanish, French and German consumers, a German business
with a VAT number, US, Canarias, English-speaking customers, some with credit, one whose
credit pays a renewal in full, a company with markup in its name) is billed, and every row the
run writes is compared, value by value as the database stores it, with a snapshot recorded
from the per-row implementation (``tests/billing/snapshots/renewal_run.json``). Message-IDs
are random: they are checked for form and uniqueness instead.

Set ``FACTURO_RECORD_RENEWAL_SNAPSHOT=1`` to record the snapshot of the current dialect anew.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from facturo.billing import renewals
from facturo.billing.billing_run import billing_run
from facturo.context import Context
from facturo.db.base import metadata
from facturo.models import Customer, OutboxMessage, Service
from facturo.testing import make_customer
from tests.billing.conftest import Billing, active_service, as_rendered, rename

SNAPSHOT = Path(__file__).parent / "snapshots" / "renewal_run.json"
RUN_DAY = date(2026, 3, 2)
TABLES = (
    "documents",
    "document_lines",
    "billed_periods",
    "tax_evidence",
    "outbox_events",
    "outbox_messages",
    "audit_events",
    "number_series",
)
MESSAGE_ID = re.compile(r"<\d+\.\d+\.\d+\.facturo@[^>]+>")
MIX = [("ES", "12345678Z", "28001")] * 6 + [
    ("FR", "", "75001"),
    ("DE", "", "10115"),
    ("DE", "DE136695976", "10115"),
    ("US", "", "10001"),
    ("ES", "12345678Z", "35001"),
]


def _fixture(billing: Billing) -> None:
    ctx = billing.ctx
    products = [billing.licence, *billing.addons]
    prices = ["149.00", "39.00", "29.00"]
    for n in range(26):
        country, tax_id, postal = MIX[n % len(MIX)]
        customer = make_customer(
            ctx,
            email=f"c{n}@example.com",
            country=country,
            tax_id=tax_id,
            postal_code=postal,
            language="en" if n % 4 == 0 else "es",
        )
        with ctx.db.transaction() as session:
            row = session.get(Customer, customer.id)
            assert row is not None
            row.name = f"Cliente Ñú {n}"
            if n % 7 == 0:
                row.credit_balance = Decimal("10.00")
            if n == 5:
                row.credit_balance = Decimal("500.00")  # pays its renewals in full
            if n == 3:
                row.name = 'Ñandú <&> "O\'Brien"  Ürsula'
                row.company = "Acme & Sons"
        for k in range(1 + n % 4):
            product = k % 3
            due = RUN_DAY + timedelta(days=(n * 3 + (k // 2) * 5) % 15)
            label = "shop.example" if (n + k) % 5 == 0 else ""
            active_service(
                ctx, customer, products[product], due, price=prices[product], label=label
            )
        if n % 6 == 1:  # outside the window, and one not active: neither is billed
            active_service(ctx, customer, billing.licence, RUN_DAY + timedelta(days=40))
            sid = active_service(ctx, customer, billing.licence, RUN_DAY + timedelta(days=3))
            with ctx.db.transaction() as session:
                service = session.get(Service, sid)
                assert service is not None
                service.status = "suspended"


def _last_ids(ctx: Context) -> dict[str, int]:
    with ctx.db.read_session() as session:
        return {
            name: int(session.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {name}")) or 0)
            for name in TABLES
        }


def _dump(ctx: Context, after: dict[str, int]) -> dict[str, list[dict[str, str]]]:
    """The rows of TABLES past ``after`` as the database stores them (SQLite: with their
    storage class); the fixture's own rows carry wall-clock instants."""
    sqlite = ctx.db.is_sqlite
    found: dict[str, list[dict[str, str]]] = {}
    with ctx.db.read_session() as session:
        for name in TABLES:
            columns = [c.name for c in metadata.tables[name].columns]
            shown = [
                f"typeof({c}) || ':' || COALESCE(CAST({c} AS TEXT), '')"
                if sqlite
                else f"COALESCE(CAST({c} AS TEXT), 'NULL')"
                for c in columns
            ]
            query = text(f"SELECT {', '.join(shown)} FROM {name} WHERE id > :n ORDER BY id")
            rows = session.execute(query, {"n": after[name]})
            found[name] = [dict(zip(columns, row, strict=True)) for row in rows]
        query = text("SELECT id, CAST(credit_balance AS TEXT) FROM customers ORDER BY id")
        found["customers"] = [{"id": str(i), "credit": c} for i, c in session.execute(query)]
    ids = []
    for row in found["outbox_messages"]:
        ids.append(MESSAGE_ID.search(row["message_id"]))
        row["message_id"] = MESSAGE_ID.sub("<message-id>", row["message_id"])
    assert all(ids) and len({m.group(0) for m in ids if m}) == len(ids)
    return found


def test_run_writes_the_recorded_rows(billing: Billing) -> None:
    ctx = billing.ctx
    _fixture(billing)
    before = _last_ids(ctx)
    report = billing_run(ctx, RUN_DAY)
    assert report.renewal_count > 20
    got = _dump(ctx, before)
    assert billing_run(ctx, RUN_DAY).renewal_count == 0
    assert _dump(ctx, before) == got
    dialect = "sqlite" if ctx.db.is_sqlite else "postgresql"
    recorded: dict[str, Any] = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    if os.environ.get("FACTURO_RECORD_RENEWAL_SNAPSHOT"):
        recorded[dialect] = got
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(recorded, indent=1, ensure_ascii=False, sort_keys=True))
    expected = recorded[dialect]
    for name in [*TABLES, "customers"]:
        assert len(got[name]) == len(expected[name]), name
        for row, want in zip(got[name], expected[name], strict=True):
            assert row == want, name


def test_small_batches_write_the_same_documents(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In batches of 2, 3, 4, 5, 5… customers the run bills every service once, into the
    recorded documents, lines, periods and emails. (The rows a settled proforma adds, its
    invoice's among them, then come between batches, so serial ids differ from the snapshot,
    recorded in one batch.)"""
    ctx = billing.ctx
    monkeypatch.setattr(renewals, "FIRST_BATCH_CUSTOMERS", 2)
    monkeypatch.setattr(renewals, "CUSTOMERS_PER_BATCH", 5)
    _fixture(billing)
    before = _last_ids(ctx)
    billing_run(ctx, RUN_DAY)
    got = _dump(ctx, before)
    assert billing_run(ctx, RUN_DAY).renewal_count == 0
    expected = json.loads(SNAPSHOT.read_text())["sqlite" if ctx.db.is_sqlite else "postgresql"]
    for name in TABLES:
        assert len(got[name]) == len(expected[name]), name
    assert got["customers"] == expected["customers"]  # credit balances

    def proformas(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
        fields = ("reference", "customer_id", "due_date", "total", "credit_applied", "status")
        return sorted(
            tuple(row[f] for f in fields) for row in rows if row["kind"].endswith("proforma")
        )

    assert proformas(got["documents"]) == proformas(expected["documents"])


def test_values_that_look_like_template_markers_are_filled_as_render_email_fills_them(
    billing: Billing,
) -> None:
    """The database fills the email templates with replace(): a customer whose name holds the
    text of a marker gets an email filled in Python instead, still the same as render_email."""
    ctx = billing.ctx
    eve = make_customer(ctx, email="eve@example.com")
    plain = make_customer(ctx, email="plain@example.com", language="en")
    rename(ctx, eve, "Eve QXFACTUROQREFERENCEQX <b>", "QXFACTUROQNAMEQX & Co")
    active_service(ctx, eve, billing.licence, RUN_DAY + timedelta(days=3))
    active_service(ctx, plain, billing.licence, RUN_DAY + timedelta(days=3))
    billing_run(ctx, RUN_DAY)
    with ctx.db.read_session() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.template == "proforma_issued")
            )
        )
        assert len(rows) == 2
        for row in rows:
            _, expected = as_rendered(ctx, session, row)
            assert (row.subject, row.text_body, row.html_body) == expected
