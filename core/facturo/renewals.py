"""The billing run: renewal proformas ahead of due dates, reminders, suspension, termination.

Idempotent by construction: a renewal is claimed by inserting its natural key
(service, period start) into ``billed_periods`` before its proforma is built, so a second run
for the same date, or a second worker running at the same time on PostgreSQL, finds the claim
taken and creates nothing; reminders and notices are emails with dedupe keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    Table,
    and_,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from facturo import numbering
from facturo.billing.vat import legends_of, treatment_of
from facturo.cycles import period_for
from facturo.documents import (
    Totals,
    cancel_proforma,
    compute_totals,
    queue_document_email,
    settle,
)
from facturo.mail import EmailStamp
from facturo.models import (
    AuditEvent,
    BilledPeriod,
    Customer,
    Document,
    DocumentLine,
    OutboxEvent,
    OutboxMessage,
    Product,
    Service,
    TaxEvidence,
)
from facturo.money import ZERO, to_money
from facturo.outbox import enqueue_email
from facturo.services import change_status
from facturo.taxes import TaxTreatment

if TYPE_CHECKING:
    from facturo.context import Context

CUSTOMERS_PER_BATCH = 1000
CLAIM_BATCH = 1000
REPORT_SAMPLE = 200
DOCUMENTS = cast(Table, Document.__table__)
LINES = cast(Table, DocumentLine.__table__)
EVIDENCE = cast(Table, TaxEvidence.__table__)
PERIODS = cast(Table, BilledPeriod.__table__)
AUDITS = cast(Table, AuditEvent.__table__)
EVENTS = cast(Table, OutboxEvent.__table__)
MESSAGES = cast(Table, OutboxMessage.__table__)


@dataclass
class RunReport:
    """What a billing run did (or, with ``dry_run``, would do)."""

    on: date
    dry_run: bool = False
    renewals: list[str] = field(default_factory=list)  # the first REPORT_SAMPLE of them
    renewal_count: int = 0
    services_billed: int = 0
    reminders: int = 0
    overdue_notices: int = 0
    suspended: list[int] = field(default_factory=list)
    terminated: list[int] = field(default_factory=list)

    def add_renewal(self, description: str, services: int) -> None:
        """Count one renewal document (keeping only a sample of descriptions in memory)."""
        self.renewal_count += 1
        self.services_billed += services
        if len(self.renewals) < REPORT_SAMPLE:
            self.renewals.append(description)

    def summary(self) -> str:
        verb = "would create" if self.dry_run else "created"
        return (
            f"{self.on}: {verb} {self.renewal_count} renewal documents for "
            f"{self.services_billed} services; {self.reminders} reminders; "
            f"{self.overdue_notices} overdue notices; {len(self.suspended)} suspended; "
            f"{len(self.terminated)} terminated"
        )


Progress = Callable[[int], None]


def billing_run(
    ctx: Context, on: date | None = None, dry_run: bool = False, progress: Progress | None = None
) -> RunReport:
    """Run every step of the billing run for business date ``on`` (default: today)."""
    day = on or ctx.today()
    report = RunReport(on=day, dry_run=dry_run)
    create_renewals(ctx, day, report, progress)
    send_reminders(ctx, day, report)
    suspend_overdue(ctx, day, report)
    terminate_overdue(ctx, day, report)
    return report


def due_filters(ctx: Context, day: date) -> list[Any]:
    """Conditions of a service due for renewal on ``day`` and not yet billed for that period."""
    horizon = day + timedelta(days=ctx.settings.billing.invoice_days_before)
    already = exists().where(
        and_(
            BilledPeriod.service_id == Service.id,
            BilledPeriod.period_start == Service.next_due_date,
        )
    )
    return [
        Service.status == "active",
        Service.next_due_date.is_not(None),
        Service.next_due_date <= horizon,
        ~already,
    ]


def count_due_services(ctx: Context, day: date) -> int:
    """How many services a run on ``day`` would renew (for a progress bar)."""
    with ctx.db.read_session() as session:
        query = select(func.count()).select_from(Service).where(*due_filters(ctx, day))
        return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class _Due:
    id: int
    customer_id: int
    due: date
    cycle: str
    price: Decimal
    label: str
    product_id: int


def _customer_chunks(ctx: Context, day: date) -> Iterator[list[_Due]]:
    """The due services, customer by customer, CUSTOMERS_PER_BATCH customers at a time
    (keyset pagination, so memory stays flat however many services are due)."""
    filters = due_filters(ctx, day)
    last = 0
    while True:
        with ctx.db.read_session() as session:
            ids = list(
                session.scalars(
                    select(Service.customer_id)
                    .where(*filters, Service.customer_id > last)
                    .group_by(Service.customer_id)
                    .order_by(Service.customer_id)
                    .limit(CUSTOMERS_PER_BATCH)
                )
            )
            if not ids:
                return
            rows = session.execute(
                select(
                    Service.id,
                    Service.customer_id,
                    Service.next_due_date,
                    Service.cycle,
                    Service.price,
                    Service.label,
                    Service.product_id,
                )
                .where(*filters, Service.customer_id > last, Service.customer_id <= ids[-1])
                .order_by(Service.customer_id, Service.next_due_date, Service.id)
            )
            chunk = [_Due(*row) for row in rows]  # type: ignore[arg-type]
        last = ids[-1]
        yield chunk


def create_renewals(
    ctx: Context, day: date, report: RunReport, progress: Progress | None = None
) -> None:
    """One renewal proforma per (customer, due date) grouping that customer's due services.

    Works in batches of customers, each batch one transaction of bulk statements: claim the
    periods (``INSERT … ON CONFLICT DO NOTHING RETURNING``: only what this run won is billed),
    reserve a block of proforma references, insert documents, lines, billed-period links,
    ``invoice_created`` events, audit rows and the ``proforma_issued`` emails (PDF attached
    when sent). Customer credit is applied; a proforma it covers fully is settled at once.
    ``progress`` is called with the number of services handled after each batch.
    """
    names = _product_names(ctx)
    stamp = EmailStamp(ctx, "proforma_issued")
    treatments: dict[tuple[str, str, str], _Treatment] = {}
    for chunk in _customer_chunks(ctx, day):
        if report.dry_run:
            for (customer_id, due), items in groupby(chunk, key=lambda r: (r.customer_id, r.due)):
                ids = [item.id for item in items]
                report.add_renewal(f"customer {customer_id} due {due}: services {ids}", len(ids))
        else:
            with ctx.db.transaction() as session:
                _bill_chunk(session, ctx, day, chunk, names, stamp, treatments, report)
        if progress:
            progress(len(chunk))


@dataclass(frozen=True)
class _Treatment:
    """A tax treatment with what a run derives from it, computed once per run: equal
    legends and tax breakdowns are then one shared object each, serialised once per batch."""

    treatment: TaxTreatment
    legends: list[str]
    totals: dict[tuple[Decimal, ...], Totals] = field(default_factory=dict)

    def totals_of(self, amounts: tuple[Decimal, ...]) -> Totals:
        found = self.totals.get(amounts)
        if found is None:
            rate = self.treatment.rate
            found = self.totals[amounts] = compute_totals([(a, rate) for a in amounts])
        return found


_period_for = lru_cache(maxsize=4096)(period_for)
_to_money = lru_cache(maxsize=4096)(to_money)
_NO_HEADERS: dict[str, str] = {}


def _product_names(ctx: Context) -> dict[int, tuple[str, str]]:
    with ctx.db.read_session() as session:
        rows = session.execute(select(Product.id, Product.name_es, Product.name_en))
        return {row.id: (row.name_es, row.name_en) for row in rows}


def _claim(session: Session, chunk: list[_Due]) -> set[int]:
    """Insert the natural keys of ``chunk``'s periods; return the service ids this run won."""
    if _is_postgres(session):
        claimed = session.scalars(
            text(
                "INSERT INTO billed_periods (service_id, period_start) "
                "SELECT * FROM unnest(CAST(:sids AS integer[]), CAST(:starts AS date[])) "
                "ON CONFLICT (service_id, period_start) DO NOTHING RETURNING service_id"
            ),
            {"sids": [r.id for r in chunk], "starts": [r.due for r in chunk]},
        )
        return set(claimed)
    table = PERIODS
    builder = sqlite_insert
    statement = (
        builder(table)
        .on_conflict_do_nothing(index_elements=["service_id", "period_start"])
        .returning(table.c.service_id)
    )
    won: set[int] = set()
    for start in range(0, len(chunk), CLAIM_BATCH):
        part = chunk[start : start + CLAIM_BATCH]
        rows = [{"service_id": r.id, "period_start": r.due, "document_id": None} for r in part]
        won.update(session.execute(statement, rows).scalars())
    return won


def _bill_chunk(
    session: Session,
    ctx: Context,
    day: date,
    chunk: list[_Due],
    names: dict[int, tuple[str, str]],
    stamp: EmailStamp,
    treatments: dict[tuple[str, str, str], _Treatment],
    report: RunReport,
) -> None:
    won = _claim(session, chunk)
    groups = [
        (key, [r for r in items if r.id in won])
        for key, items in groupby(chunk, key=lambda r: (r.customer_id, r.due))
    ]
    groups = [(key, items) for key, items in groups if items]
    if not groups:
        return
    customer_ids = sorted({customer_id for (customer_id, _), _ in groups})
    query = select(Customer).where(Customer.id.in_(customer_ids))
    customers = {c.id: c for c in session.scalars(query)}
    credit_ids = [cid for cid, c in customers.items() if c.credit_balance > 0]
    if credit_ids and not ctx.db.is_sqlite:  # lock the balances we are about to spend
        locked = select(Customer).where(Customer.id.in_(credit_ids)).with_for_update()
        for customer in session.scalars(locked.execution_options(populate_existing=True)):
            customers[customer.id] = customer
    references = numbering.allocate_block(
        session, "proforma", day.year, ctx.settings.billing.proforma_format, len(groups)
    )
    now = ctx.now()
    currency = ctx.settings.currency
    documents: list[dict[str, Any]] = []
    lines_of: list[list[dict[str, Any]]] = []
    checks: list[dict[str, Any] | None] = []
    for ((customer_id, due), items), reference in zip(groups, references, strict=True):
        customer = customers[customer_id]
        tkey = (customer.country, customer.tax_id, customer.postal_code)
        known = treatments.get(tkey)
        if known is None:
            found = treatment_of(ctx, *tkey, day, session)
            legends = legends_of(found, customer.tax_id)
            known = treatments[tkey] = _Treatment(found, legends)
        treatment = known.treatment
        name_index = 1 if customer.language == "en" else 0
        lines: list[dict[str, Any]] = []
        for position, item in enumerate(items):
            name = names[item.product_id][name_index]
            period_start, period_end = _period_for(due, item.cycle)
            amount = _to_money(item.price)
            lines.append(
                {
                    "position": position,
                    "service_id": item.id,
                    "action": "renew",
                    "description": name + (f" — {item.label}" if item.label else ""),
                    "quantity": Decimal("1"),
                    "unit_price": amount,
                    "amount": amount,
                    "tax_rate": treatment.rate,
                    "period_start": period_start,
                    "period_end": period_end,
                }
            )
        totals = known.totals_of(tuple(line["amount"] for line in lines))
        credit = ZERO
        if customer.credit_balance > 0 and totals.total > 0:
            credit = min(customer.credit_balance, totals.total)
            customer.credit_balance -= credit
        documents.append(
            {
                "kind": "proforma",
                "status": "unpaid",
                "reference": reference,
                "customer_id": customer_id,
                "currency": currency,
                "issue_date": day,
                "due_date": due,
                "subtotal": totals.subtotal,
                "tax_total": totals.tax_total,
                "total": totals.total,
                "amount_paid": ZERO,
                "credit_applied": credit,
                "refunded_total": ZERO,
                "tax_treatment": treatment.code,
                "tax_breakdown": totals.breakdown,
                "legends": known.legends,
                "reason": "",
                "source": "renewal",
                "language": customer.language,
                "created_at": now,
            }
        )
        lines_of.append(lines)
        checks.append(_evidence_row(treatment, customer.tax_id, now))
    ids = _insert_documents(session, documents)
    evidence = [{**row, "document_id": i} for i, row in zip(ids, checks, strict=True) if row]
    bulk_insert(session, EVIDENCE, evidence)
    line_rows = []
    links = []
    for doc_id, lines in zip(ids, lines_of, strict=True):
        for line in lines:
            line_rows.append({**line, "document_id": doc_id})
            links.append(
                {"b_doc": doc_id, "b_sid": line["service_id"], "b_start": line["period_start"]}
            )
    bulk_insert(session, LINES, line_rows)
    _link_periods(session, links)
    events = []
    audits = []
    emails = []
    settled = []
    for doc_id, row in zip(ids, documents, strict=True):
        events.append(_event_row(ctx, doc_id, now))
        audits.append(_audit_row(doc_id, "document.create", row, now))
        report.add_renewal(row["reference"], 0)
        if row["credit_applied"] > 0:
            audits.append(
                {
                    **_audit_row(doc_id, "credit.apply", row, now),
                    "after": {"applied": str(row["credit_applied"])},
                }
            )
        if row["total"] - row["credit_applied"] <= 0:
            settled.append(doc_id)
        else:
            emails.append(_email_row(ctx, stamp, doc_id, row, customers[row["customer_id"]], now))
    report.services_billed += len(line_rows)
    # The dedupe keys name documents created just now, so they cannot collide.
    bulk_insert(session, EVENTS, events)
    bulk_insert(session, AUDITS, audits)
    bulk_insert(session, MESSAGES, emails)
    session.flush()  # the customers' credit balances
    for doc_id in settled:
        document = session.get(Document, doc_id)
        assert document is not None
        settle(session, ctx, document, paid_at=now)


def _evidence_row(treatment: TaxTreatment, tax_id: str, now: datetime) -> dict[str, Any] | None:
    """The tax-evidence row of a renewal priced after a VAT-number check (None: no check)."""
    check = treatment.vat_check
    if check is None:
        return None
    return {
        "vat_number": tax_id,
        "vat_status": check.status,
        "vat_reference": check.reference[:64],
        "vat_checked_at": check.checked_at,
        "vat_detail": check.detail,
        "vat_source": check.source[:32],
        "billing_country": "",
        "payment_country": "",
        "payment_source": "",
        "conflict": False,
        "reviewed_by": "",
        "review_note": "",
        "updated_at": now,
    }


def _insert_documents(session: Session, documents: list[dict[str, Any]]) -> list[int]:
    """Insert ``documents``; return their ids in order. Ids are taken first (from the
    sequence on PostgreSQL; on SQLite the write transaction, BEGIN IMMEDIATE, holds the
    database lock, so the ids after the current maximum are ours) and the rows are then
    inserted with them."""
    table = DOCUMENTS
    if _is_postgres(session):
        ids = [
            int(ident)
            for ident in session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('documents', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(documents)},
            )
        ]
    else:
        first = int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
        ids = list(range(first, first + len(documents)))
    rows = [{**row, "id": ident} for row, ident in zip(documents, ids, strict=True)]
    bulk_insert(session, table, rows)
    return ids


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys, every NOT NULL column given): COPY on
    PostgreSQL, executemany elsewhere. For new rows only: no conflict handling."""
    if not rows:
        return
    if not _is_postgres(session):
        _sqlite_executemany(session, table, rows)
        return
    columns = list(rows[0])
    as_json = [isinstance(table.c[name].type, JSON) for name in columns]
    names = ", ".join(f'"{name}"' for name in columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    # JSON values go as text (the server parses them, as it would psycopg's Json); a value
    # object shared by many rows (a legend list, a tax breakdown) is serialised once. Keyed
    # by id(): every row, hence every such object, stays alive until the COPY ends.
    encoded: dict[int, str] = {}

    def dumped(value: Any) -> Any:
        if value is None:
            return None
        found = encoded.get(id(value))
        if found is None:
            found = encoded[id(value)] = json.dumps(value)
        return found

    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        write = copy.write_row
        for row in rows:
            values = [row[name] for name in columns]
            for index, is_json in enumerate(as_json):
                if is_json:
                    values[index] = dumped(values[index])
            write(values)


def _sqlite_executemany(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One DBAPI executemany, each value converted by its column type's own bind processor
    (the same conversion SQLAlchemy applies, without its per-row statement overhead)."""
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    converted: list[list[Any]] = []
    for name in columns:
        column_type = table.c[name].type
        process = column_type._cached_bind_processor(dialect)
        values = [row[name] for row in rows]
        if process is not None:
            if isinstance(column_type, JSON):
                # by id(): an object shared by many rows is serialised once; the rows keep
                # every such object alive meanwhile, so an id cannot be reused
                by_id = {id(v): v for v in values if v is not None}
                done = {key: process(v) for key, v in by_id.items()}
                values = [None if v is None else done[id(v)] for v in values]
            else:  # a run repeats the same dates, instants and amounts a lot
                memo = {v: process(v) for v in set(values) if v is not None}
                values = [None if v is None else memo[v] for v in values]
        converted.append(values)
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
            list(zip(*converted, strict=True)),
        )
    finally:
        cursor.close()


def _link_periods(session: Session, links: list[dict[str, Any]]) -> None:
    """Point each claimed billed period at its document."""
    periods = PERIODS
    if _is_postgres(session):
        session.execute(
            text(
                "UPDATE billed_periods SET document_id = v.doc FROM unnest("
                "CAST(:docs AS integer[]), CAST(:sids AS integer[]), CAST(:starts AS date[])"
                ") AS v(doc, sid, start) "
                "WHERE billed_periods.service_id = v.sid AND billed_periods.period_start = v.start"
            ),
            {
                "docs": [link["b_doc"] for link in links],
                "sids": [link["b_sid"] for link in links],
                "starts": [link["b_start"] for link in links],
            },
        )
        return
    # one DBAPI executemany (dates converted by the column type's own bind processor)
    process = periods.c.period_start.type._cached_bind_processor(session.get_bind().dialect)
    dates: dict[date, Any] = {}
    params = []
    for link in links:
        start = link["b_start"]
        stored = dates.get(start)
        if stored is None:
            stored = dates[start] = process(start) if process else start
        params.append((link["b_doc"], link["b_sid"], stored))
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(
            "UPDATE billed_periods SET document_id = ? WHERE service_id = ? AND period_start = ?",
            params,
        )
    finally:
        cursor.close()


def _event_row(ctx: Context, doc_id: int, now: datetime) -> dict[str, Any]:
    return {
        "dedupe_key": f"invoice_created:{doc_id}",
        "name": "invoice_created",
        "payload": {"document_id": doc_id},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


def _audit_row(doc_id: int, action: str, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "at": now,
        "actor": "system",
        "action": action,
        "entity_type": "Document",
        "entity_id": str(doc_id),
        "before": None,
        "after": {"reference": row["reference"], "total": str(row["total"])},
        "ip": "",
    }


def _email_row(
    ctx: Context,
    stamp: EmailStamp,
    doc_id: int,
    row: dict[str, Any],
    customer: Customer,
    now: datetime,
) -> dict[str, Any]:
    """The ``proforma_issued`` outbox row, exactly as queue_document_email would write it."""

    def build() -> dict[str, Any]:
        fields = {k: v for k, v in row.items() if k != "reference"}
        document = Document(**fields, reference=stamp.marker("reference"))
        person = Customer(
            email=stamp.marker("email"),
            name=stamp.marker("name"),
            company=stamp.marker("company") if customer.company else "",
            language=customer.language,
        )
        return {
            "document": document,
            "customer": person,
            "url": ctx.url("/client/documents/" + stamp.marker("docid")),
        }

    # Every other field is the same for all rows of a run, or follows from these (the tax
    # breakdown and legends from subtotal and treatment).
    key = (
        row["due_date"],
        row["subtotal"],
        row["total"],
        row["credit_applied"],
        row["tax_treatment"],
        row["language"],
        bool(customer.company),
    )
    subject, text, html = stamp.render(
        customer.language,
        key,
        build,
        {
            "reference": row["reference"],
            "email": customer.email,
            "name": customer.name,
            "company": customer.company,
            "docid": str(doc_id),
        },
    )
    return {
        "dedupe_key": f"proforma_issued:{doc_id}",
        "customer_id": customer.id,
        "template": "proforma_issued",
        "to_address": customer.email,
        "reply_to": "",
        "subject": subject,
        "text_body": text,
        "html_body": html,
        "headers": _NO_HEADERS,
        "attachments": [{"document_id": doc_id}],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


def _reminder_candidates(session: Session, day: date, offsets: set[int]) -> list[Document]:
    """Unpaid proformas due ``offset`` days from ``day`` for each offset (negative: overdue),
    excluding those issued on ``day`` itself (their proforma email has just gone out)."""
    if not offsets:
        return []
    due_dates = [day + timedelta(days=offset) for offset in sorted(offsets)]
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.status == "unpaid",
                Document.kind == "proforma",
                Document.due_date.in_(due_dates),
                Document.issue_date < day,
            )
            .order_by(Document.id)
        )
    )


def send_reminders(ctx: Context, day: date, report: RunReport) -> None:
    """Reminders N days before due and overdue notices N days after (each sent once); a
    proforma issued on ``day`` gets no reminder that day (its own email has just been queued)."""
    before = set(ctx.settings.billing.reminder_days_before)
    after = set(ctx.settings.billing.reminder_days_after)
    offsets = before | {-days for days in after}
    with ctx.db.transaction() as session:
        for document in _reminder_candidates(session, day, offsets):
            days_left = (document.due_date - day).days
            if days_left in before:
                report.reminders += 1
                if not report.dry_run:
                    queue_document_email(
                        session,
                        ctx,
                        document,
                        "reminder",
                        key=f"reminder:{document.id}:{days_left}",
                    )
            elif -days_left in after:
                report.overdue_notices += 1
                if not report.dry_run:
                    queue_document_email(
                        session, ctx, document, "overdue", key=f"overdue:{document.id}:{-days_left}"
                    )


def _overdue_services(session, day: date, days: int, status: str) -> list[tuple[Service, Document]]:  # type: ignore[no-untyped-def]
    limit = day - timedelta(days=days)
    rows = session.execute(
        select(Service, Document)
        .join(DocumentLine, DocumentLine.service_id == Service.id)
        .join(Document, Document.id == DocumentLine.document_id)
        .where(
            Service.status == status,
            Document.status == "unpaid",
            Document.due_date <= limit,
            DocumentLine.action == "renew",
        )
        .order_by(Service.id)
    )
    seen: set[int] = set()
    result = []
    for service, document in rows:
        if service.id not in seen:
            seen.add(service.id)
            result.append((service, document))
    return result


def suspend_overdue(ctx: Context, day: date, report: RunReport) -> None:
    """Suspend active services whose renewal is unpaid ``suspend_after_days`` after due."""
    with ctx.db.transaction() as session:
        for service, document in _overdue_services(
            session, day, ctx.settings.billing.suspend_after_days, "active"
        ):
            report.suspended.append(service.id)
            if report.dry_run:
                continue
            change_status(
                session,
                ctx,
                service,
                "suspended",
                "suspend",
                reason="overdue",
                key=f"{document.id}",
            )
            customer = session.get(Customer, service.customer_id)
            assert customer is not None
            enqueue_email(
                session,
                ctx,
                "suspension",
                customer.email,
                customer.language,
                {
                    "customer": customer,
                    "service": service,
                    "product": service.product,
                    "document": document,
                },
                f"suspension:{service.id}:{document.id}",
                customer_id=customer.id,
            )


_ENDED = ("terminated", "cancelled")


def terminate_overdue(ctx: Context, day: date, report: RunReport) -> None:
    """Terminate services still unpaid ``terminate_after_days`` after due and cancel the bill
    once none of its services remain."""
    with ctx.db.transaction() as session:
        touched: dict[int, Document] = {}
        for service, document in _overdue_services(
            session, day, ctx.settings.billing.terminate_after_days, "suspended"
        ):
            report.terminated.append(service.id)
            if report.dry_run:
                continue
            change_status(
                session,
                ctx,
                service,
                "terminated",
                "terminate",
                reason="overdue",
                key=f"{document.id}",
            )
            customer = session.get(Customer, service.customer_id)
            assert customer is not None
            enqueue_email(
                session,
                ctx,
                "termination",
                customer.email,
                customer.language,
                {
                    "customer": customer,
                    "service": service,
                    "product": service.product,
                    "document": document,
                },
                f"termination:{service.id}:{document.id}",
                customer_id=customer.id,
            )
            touched[document.id] = document
        for document in touched.values():
            billed = [
                session.get(Service, line.service_id) for line in document.lines if line.service_id
            ]
            live = [s for s in billed if s is not None and s.status not in _ENDED]
            if not live and document.status == "unpaid" and document.amount_paid == 0:
                cancel_proforma(
                    session, ctx, document, reason="services terminated for non-payment"
                )


def scheduled_billing_run(ctx: Context) -> str:
    """The worker's entry: run once a day, at or after ``billing.run_hour`` local time."""
    from facturo.models import JobRun

    local_now = ctx.now().astimezone(ctx.settings.zone)
    if local_now.hour < ctx.settings.billing.run_hour:
        return "not yet time"
    with ctx.db.read_session() as session:
        row = session.get(JobRun, "billing_run_day")
        if row is not None and row.detail == local_now.date().isoformat():
            return "already ran today"
    report = billing_run(ctx, local_now.date())
    from facturo.worker import mark

    mark(ctx, "billing_run_day", "ok", local_now.date().isoformat())
    return report.summary()
