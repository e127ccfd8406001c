"""Renewal proformas ahead of due dates, in bulk.

Idempotent by construction: a renewal is claimed by inserting its natural key
(service, period start) into ``billed_periods`` before its proforma is built, so a second run
for the same date, or a second worker running at the same time on PostgreSQL, finds the claim
taken and creates nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, Table, and_, exists, func, select
from sqlalchemy.orm import Session

from facturo.billing import numbering
from facturo.billing.cycles import period_for
from facturo.billing.documents import settle
from facturo.billing.money import ZERO, to_money
from facturo.billing.renewal_sql import DueService, claim_periods, link_periods
from facturo.billing.run_report import Progress, RunReport
from facturo.billing.taxes import TaxTreatment
from facturo.billing.totals import Totals, compute_totals
from facturo.billing.vat import legends_of, treatment_of
from facturo.db.bulk import bulk_insert, insert_with_ids
from facturo.delivery.messages import EmailStamp, new_message_id
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

if TYPE_CHECKING:
    from facturo.context import Context

CUSTOMERS_PER_BATCH = 1000
DOCUMENTS = cast(Table, Document.__table__)
LINES = cast(Table, DocumentLine.__table__)
AUDITS = cast(Table, AuditEvent.__table__)
EVENTS = cast(Table, OutboxEvent.__table__)
MESSAGES = cast(Table, OutboxMessage.__table__)
EVIDENCE = cast(Table, TaxEvidence.__table__)


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


def _customer_chunks(ctx: Context, day: date) -> Iterator[list[DueService]]:
    """The due services in customer order, CUSTOMERS_PER_BATCH customers at a time.

    One query, streamed (``yield_per``: a server-side cursor on PostgreSQL) by a read session
    of its own, so memory stays flat however many services are due. Paging by customer with
    one query per page made SQLite walk every due service once per page (its index on status
    and due date beats the customer index, then sorts). The run's snapshot may list a service
    that another run bills meanwhile: the claim in ``billed_periods`` decides, not this list.
    """
    query = (
        select(
            Service.id,
            Service.customer_id,
            Service.next_due_date,
            Service.cycle,
            Service.price,
            Service.label,
            Service.product_id,
        )
        .where(*due_filters(ctx, day))
        .order_by(Service.customer_id, Service.next_due_date, Service.id)
        .execution_options(yield_per=5000)
    )
    chunk: list[DueService] = []
    customers = 0
    previous: int | None = None
    with ctx.db.read_session() as session:
        for row in session.execute(query):
            if row.customer_id != previous:
                if customers == CUSTOMERS_PER_BATCH:
                    yield chunk
                    chunk, customers = [], 0
                customers += 1
                previous = row.customer_id
            chunk.append(DueService(*row))  # type: ignore[arg-type]  # due dates are set
    if chunk:
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


CUSTOMER_FIELDS = (
    Customer.id,
    Customer.email,
    Customer.name,
    Customer.company,
    Customer.language,
    Customer.country,
    Customer.tax_id,
    Customer.postal_code,
    Customer.credit_balance,
)


def _credit_holders(session: Session, ctx: Context, ids: list[int]) -> dict[int, Customer]:
    """The customers among ``ids`` whose credit the batch may spend, as entities whose
    balance is written back at flush; locked on PostgreSQL, in one order for every run."""
    if not ids:
        return {}
    query = select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
    if not ctx.db.is_sqlite:  # as billing.credit does
        query = query.with_for_update(key_share=True)
    found = session.scalars(query.execution_options(populate_existing=True))
    return {customer.id: customer for customer in found}


def _product_names(ctx: Context) -> dict[int, tuple[str, str]]:
    with ctx.db.read_session() as session:
        rows = session.execute(select(Product.id, Product.name_es, Product.name_en))
        return {row.id: (row.name_es, row.name_en) for row in rows}


def _bill_chunk(
    session: Session,
    ctx: Context,
    day: date,
    chunk: list[DueService],
    names: dict[int, tuple[str, str]],
    stamp: EmailStamp,
    treatments: dict[tuple[str, str, str], _Treatment],
    report: RunReport,
) -> None:
    won = claim_periods(session, chunk)
    groups = [
        (key, [r for r in items if r.id in won])
        for key, items in groupby(chunk, key=lambda r: (r.customer_id, r.due))
    ]
    groups = [(key, items) for key, items in groups if items]
    if not groups:
        return
    customer_ids = sorted({customer_id for (customer_id, _), _ in groups})
    customers = {
        row.id: row
        for row in session.execute(select(*CUSTOMER_FIELDS).where(Customer.id.in_(customer_ids)))
    }
    holders = _credit_holders(
        session, ctx, [c.id for c in customers.values() if c.credit_balance > 0]
    )
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
        holder = holders.get(customer_id)
        if holder is not None and holder.credit_balance > 0 and totals.total > 0:
            credit = min(holder.credit_balance, totals.total)
            holder.credit_balance -= credit
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
    ids = insert_with_ids(session, DOCUMENTS, documents)
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
    link_periods(session, links)
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
    customer: Row[*tuple[Any, ...]],
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
        "message_id": new_message_id(ctx),
        "attachments": [{"document_id": doc_id}],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


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
