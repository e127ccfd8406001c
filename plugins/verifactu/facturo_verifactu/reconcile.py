"""Reconcile the local chain with what the AEAT holds (query service), month by month.

For each invoice of the month the AEAT's record is compared with what the local chain says it
should hold: the last alta the AEAT accepted (type, totals, huella) and whether an accepted
anulación followed. Invoices with a record still waiting to be sent are left out (the answer
is not in yet). Differences found:

- ``missing_at_aeat``: the chain says the AEAT registered it; the AEAT has nothing;
- ``unknown_locally``: the AEAT holds a record the chain has none of (or only rejected ones);
- ``hash``: the AEAT's huella is not the one of the last accepted record;
- ``amounts``: TipoFactura, CuotaTotal or ImporteTotal differ;
- ``status``: anulled on one side only, or accepted with errors on one side only.

Every run is stored (:class:`Reconciliation`) with its differences, shown to staff; the
periodic job ``verifactu_reconcile`` checks the current and the previous months.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import Context

from .chain import HELD, IN_FLIGHT
from .hashing import format_date
from .models import ChainRecord, Difference, Reconciliation
from .query import HeldRecord
from .sender import CertificateError, QueryError, query_period
from .settings import config
from .submit import make_client

AEAT_STATUS = {"accepted": "Correcto", "accepted_with_errors": "AceptadoConErrores"}


@dataclass(frozen=True)
class Found:
    """One difference between the chain and the AEAT for one invoice."""

    number: str
    issue_date: str
    problem: str
    local_value: str = ""
    aeat_value: str = ""


@dataclass(frozen=True)
class Expected:
    """What the AEAT should hold for one invoice, from the local chain."""

    number: str
    issue_date: str
    present: bool
    status: str = ""
    invoice_type: str | None = None
    tax_total: str | None = None
    total: str | None = None
    hash: str | None = None


def expected_records(rows: list[ChainRecord]) -> tuple[dict[str, Expected], set[str]]:
    """From one month's chain ``rows`` (chain order): what the AEAT should hold per invoice
    number, and the numbers still in flight (left out of the comparison)."""
    by_number: dict[str, list[ChainRecord]] = defaultdict(list)
    for row in rows:
        by_number[row.number].append(row)
    expected: dict[str, Expected] = {}
    in_flight: set[str] = set()
    for number, history in by_number.items():
        day = format_date(history[0].issue_date)
        if any(row.status in IN_FLIGHT for row in history):
            in_flight.add(number)
            continue
        altas = [row for row in history if row.kind == "alta" and row.status in HELD]
        cancelled = [row for row in history if row.kind == "anulacion" and row.status in HELD]
        last_alta = altas[-1] if altas else None
        anulled = bool(cancelled) and (
            last_alta is None or cancelled[-1].sequence > last_alta.sequence
        )
        if last_alta is None and not anulled:
            expected[number] = Expected(number, day, present=False)
            continue
        expected[number] = Expected(
            number,
            day,
            present=True,
            status="Anulado" if anulled else AEAT_STATUS[last_alta.status if last_alta else ""],
            invoice_type=last_alta.invoice_type if last_alta else None,
            tax_total=last_alta.tax_total if last_alta else None,
            total=last_alta.total if last_alta else None,
            hash=last_alta.hash if last_alta else None,
        )
    return expected, in_flight


def _same_amount(left: str | None, right: str | None) -> bool:
    try:
        return Decimal(left or "0") == Decimal(right or "0")
    except InvalidOperation:
        return left == right


def compare(rows: list[ChainRecord], held: list[HeldRecord]) -> list[Found]:
    """The differences between one month's chain ``rows`` and the AEAT's ``held`` records."""
    expected, in_flight = expected_records(rows)
    at_aeat = {record.number: record for record in held}
    found: list[Found] = []
    for number, want in expected.items():
        have = at_aeat.get(number)
        if not want.present:
            if have is not None:
                found.append(Found(number, want.issue_date, "unknown_locally", "", have.status))
            continue
        if have is None:
            found.append(Found(number, want.issue_date, "missing_at_aeat", want.status, ""))
            continue
        if have.status != want.status:
            found.append(Found(number, want.issue_date, "status", want.status, have.status))
        if want.hash is not None and have.hash != want.hash:
            found.append(Found(number, want.issue_date, "hash", want.hash, have.hash or ""))
        if want.invoice_type is not None and (
            have.invoice_type != want.invoice_type
            or not _same_amount(have.tax_total, want.tax_total)
            or not _same_amount(have.total, want.total)
        ):
            found.append(
                Found(
                    number,
                    want.issue_date,
                    "amounts",
                    f"{want.invoice_type} {want.tax_total} / {want.total}",
                    f"{have.invoice_type} {have.tax_total} / {have.total}",
                )
            )
    for number, have in at_aeat.items():
        if number not in expected and number not in in_flight:
            found.append(Found(number, have.issue_date, "unknown_locally", "", have.status))
    return found


def _month_rows(session: Session, issuer_nif: str, year: int, month: int) -> list[ChainRecord]:
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return list(
        session.scalars(
            select(ChainRecord)
            .where(
                ChainRecord.issuer_nif == issuer_nif,
                ChainRecord.issue_date >= start,
                ChainRecord.issue_date < end,
            )
            .order_by(ChainRecord.sequence)
        )
    )


def reconcile_month(
    ctx: Context, year: int, month: int, client: httpx.Client | None = None
) -> Reconciliation:
    """Query the AEAT for ``year``/``month``, compare, and store the run with its differences.

    A failed query is stored too, with status ``error`` and the reason (never raised).
    """
    cfg = config(ctx)
    with ctx.db.read_session() as session:
        rows = _month_rows(session, cfg.issuer_nif, year, month)
        for row in rows:
            session.expunge(row)
    error = ""
    held: list[HeldRecord] = []
    try:
        http = client or make_client(cfg)
    except CertificateError as exc:
        error = str(exc)
    else:
        try:
            held = query_period(
                http, cfg.endpoint_url, cfg.issuer_name, cfg.issuer_nif, year, month
            )
        except QueryError as exc:
            error = str(exc)
        finally:
            if client is None:
                http.close()
    found = [] if error else compare(rows, held)
    with ctx.db.transaction() as session:
        run = Reconciliation(
            issuer_nif=cfg.issuer_nif,
            year=year,
            month=month,
            ran_at=ctx.now(),
            status="error" if error else ("differences" if found else "ok"),
            aeat_records=len(held),
            local_records=len({row.number for row in rows}),
            error=error[:2000],
        )
        session.add(run)
        session.flush()
        session.add_all(
            Difference(
                reconciliation_id=run.id,
                number=item.number,
                issue_date=item.issue_date,
                problem=item.problem,
                local_value=item.local_value,
                aeat_value=item.aeat_value,
            )
            for item in found
        )
        session.flush()
        session.expunge(run)
    return run


def months_back(today: date, count: int) -> list[tuple[int, int]]:
    """``count`` months ending with ``today``'s, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def run_job(ctx: Context) -> str:
    """The periodic job ``verifactu_reconcile``: the last ``reconcile_months`` months."""
    cfg = config(ctx)
    if not cfg.submission_enabled:
        return "submission disabled"
    client = None
    try:
        client = make_client(cfg)
    except CertificateError as exc:
        return f"certificate: {exc}"
    try:
        runs = [
            reconcile_month(ctx, year, month, client)
            for year, month in months_back(ctx.today(), cfg.reconcile_months)
        ]
    finally:
        client.close()
    return ", ".join(f"{run.year}-{run.month:02d}: {run.status}" for run in runs)
