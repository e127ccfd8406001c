"""The issuer's record chain: append altas and anulaciones in order, rebuild and verify them.

One chain per issuer NIF across every series. Appending locks the issuer's ``ChainHead`` row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the write transaction already serialises
writers), so concurrent invoicing gets strictly consecutive sequence numbers, each record
chained to the one before. It runs inside the transaction that numbers the document: both
commit or neither does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Document, insert_ignore

from . import build
from .hashing import cancellation_hash, format_amount, format_date, registration_hash
from .models import ChainHead, ChainRecord
from .records import (
    CancellationRecord,
    ChainLink,
    ForeignId,
    InvoiceId,
    Recipient,
    Record,
    RegistrationRecord,
    SoftwareSystem,
    TaxLine,
)
from .settings import config


class ChainError(Exception):
    """A record cannot be added (e.g. cancelling what is not an alta of this issuer)."""


def lock_head(ctx: Context, session: Session, issuer_nif: str) -> ChainHead:
    """Return the issuer's chain head, created if missing, locked until the transaction ends."""
    insert_ignore(
        session,
        ChainHead.__table__,
        {"issuer_nif": issuer_nif, "last_sequence": 0},
        ("issuer_nif",),
    )
    query = (
        select(ChainHead)
        .where(ChainHead.issuer_nif == issuer_nif)
        .execution_options(populate_existing=True)
    )
    if not ctx.db.is_sqlite:
        query = query.with_for_update()
    return session.execute(query).scalar_one()


def _generated_at(ctx: Context) -> datetime:
    return ctx.now().astimezone(ctx.settings.zone).replace(microsecond=0)


def _previous(session: Session, head: ChainHead) -> ChainLink | None:
    if head.last_record_id is None:
        return None
    row = session.get(ChainRecord, head.last_record_id)
    assert row is not None
    return ChainLink(InvoiceId(row.issuer_nif, row.number, row.issue_date), row.hash)


def _system_payload(system: SoftwareSystem) -> dict[str, Any]:
    return {
        "producer_name": system.producer_name,
        "producer_nif": system.producer_nif,
        "name": system.name,
        "system_id": system.system_id,
        "version": system.version,
        "installation_number": system.installation_number,
    }


def _recipient_payload(item: Recipient) -> dict[str, Any]:
    if item.foreign_id is not None:
        found = item.foreign_id
        return {
            "name": item.name,
            "country": found.country,
            "id_type": found.id_type,
            "id": found.id,
        }
    return {"name": item.name, "nif": item.nif}


def _line_payload(line: TaxLine) -> dict[str, Any]:
    return {
        "base": format_amount(line.base),
        "operation": line.operation,
        "exemption": line.exemption,
        "rate": None if line.rate is None else str(line.rate),
        "tax_amount": None if line.tax_amount is None else format_amount(line.tax_amount),
        "regime": line.regime,
        "tax": line.tax,
    }


def original_alta(session: Session, issuer_nif: str, number: str) -> ChainRecord | None:
    """The first alta of invoice ``number`` in the issuer's chain, if any."""
    return session.scalar(
        select(ChainRecord)
        .where(
            ChainRecord.issuer_nif == issuer_nif,
            ChainRecord.kind == "alta",
            ChainRecord.number == number,
        )
        .order_by(ChainRecord.sequence)
        .limit(1)
    )


def records_of(session: Session, issuer_nif: str, number: str) -> list[ChainRecord]:
    """Every record (altas, subsanaciones, anulaciones) of invoice ``number``, in chain order."""
    return list(
        session.scalars(
            select(ChainRecord)
            .where(ChainRecord.issuer_nif == issuer_nif, ChainRecord.number == number)
            .order_by(ChainRecord.sequence)
        )
    )


HELD = ("accepted", "accepted_with_errors")
IN_FLIGHT = ("pending", "retry")


def held_by_aeat(rows: list[ChainRecord]) -> bool:
    """True when the AEAT registered an alta of the invoice whose ``rows`` these are."""
    return any(row.kind == "alta" and row.status in HELD for row in rows)


def _append(session: Session, head: ChainHead, record: Record, row: ChainRecord) -> ChainRecord:
    row.issuer_nif = head.issuer_nif
    row.sequence = head.last_sequence + 1
    latest = session.scalar(
        select(func.max(ChainRecord.revision)).where(
            ChainRecord.issuer_nif == head.issuer_nif,
            ChainRecord.kind == row.kind,
            ChainRecord.number == row.number,
        )
    )
    row.revision = 0 if latest is None else latest + 1
    row.previous_hash = record.previous.hash if record.previous else None
    row.hash = record.hash
    row.status = "pending"
    row.attempts = 0
    row.error_description = ""
    session.add(row)
    session.flush()
    head.last_sequence = row.sequence
    head.last_record_id = row.id
    head.last_hash = row.hash
    session.flush()
    return row


def append_alta(ctx: Context, session: Session, document: Document) -> ChainRecord:
    """Add the registro de alta of an issued invoice or credit note to the issuer's chain."""
    return _append_registration(ctx, session, document)


def _append_registration(
    ctx: Context,
    session: Session,
    document: Document,
    *,
    correction: bool = False,
    previous_rejection: Literal["S", "X"] | None = None,
    description: str | None = None,
) -> ChainRecord:
    cfg = config(ctx)
    assert document.number is not None and document.invoice_date is not None
    original: Document | None = document.original if document.kind == "credit_note" else None
    original_row = None
    if original is not None and original.number:
        original_row = original_alta(session, cfg.issuer_nif, original.number)
    kind = build.invoice_type(document, original_row.invoice_type if original_row else None)
    recipients = (build.recipient(document),) if kind not in ("F2", "R5") else ()
    rectified: tuple[InvoiceId, ...] = ()
    if original is not None and original.number and original.invoice_date:
        rectified = (InvoiceId(cfg.issuer_nif, original.number, original.invoice_date),)
    head = lock_head(ctx, session, cfg.issuer_nif)
    record = RegistrationRecord(
        invoice=InvoiceId(cfg.issuer_nif, document.number, document.invoice_date),
        issuer_name=cfg.issuer_name,
        invoice_type=kind,
        description=description or build.description(document),
        tax_lines=build.tax_lines(document),
        tax_total=build.cents(document.tax_total),
        total=build.cents(document.total),
        system=cfg.system,
        generated_at=_generated_at(ctx),
        previous=_previous(session, head),
        recipients=recipients,
        rectification_type="I" if kind.startswith("R") else None,
        rectified=rectified,
        correction=correction,
        previous_rejection=previous_rejection,
    )
    row = ChainRecord(
        document_id=document.id,
        kind="alta",
        invoice_type=kind,
        number=record.invoice.number,
        issue_date=record.invoice.issue_date,
        tax_total=format_amount(record.tax_total),
        total=format_amount(record.total),
        generated_at=record.generated_at.isoformat(),
        payload={
            "issuer_name": record.issuer_name,
            "description": record.description,
            "recipients": [_recipient_payload(r) for r in record.recipients],
            "tax_lines": [_line_payload(line) for line in record.tax_lines],
            "rectification_type": record.rectification_type,
            "rectified": [[r.issuer_nif, r.number, format_date(r.issue_date)] for r in rectified],
            "system": _system_payload(record.system),
            "correction": correction,
            "previous_rejection": previous_rejection,
        },
    )
    return _append(session, head, record, row)


def resend_alta(
    ctx: Context, session: Session, record_id: int, description: str | None = None
) -> ChainRecord:
    """Append a subsanación of the alta ``record_id``: a new chained record of the same
    invoice, rebuilt from the document (``description`` replaces DescripcionOperacion).

    The flags follow what the AEAT holds (Validaciones §6): Subsanacion=S always; RechazoPrevio
    X when the AEAT never registered the invoice (every alta so far rejected), S when it holds
    it and the last attempt was rejected, none when it holds it and the last was accepted (a
    correction of data found wrong later). Raises ChainError for anything but the latest alta
    of a not cancelled invoice whose answer has arrived.
    """
    row = session.get(ChainRecord, record_id)
    if row is None or row.kind != "alta":
        raise ChainError("only a registration record (alta) can be re-sent")
    if description is not None and not 1 <= len(description.strip()) <= 500:
        raise ChainError("the description has 1 to 500 characters")
    lock_head(ctx, session, row.issuer_nif)
    history = records_of(session, row.issuer_nif, row.number)
    if history[-1].id != row.id:
        later = history[-1]
        if later.kind == "anulacion":
            raise ChainError(f"{row.number} is cancelled")
        raise ChainError(f"a newer record of {row.number} exists (#{later.sequence})")
    if row.status in IN_FLIGHT:
        raise ChainError(f"{row.number} is still being sent; wait for the AEAT's answer")
    document = session.get(Document, row.document_id) if row.document_id else None
    if document is None:
        raise ChainError(f"{row.number} has no document to rebuild it from")
    rejection: Literal["S", "X"] | None
    if not held_by_aeat(history):
        rejection = "X"
    else:
        rejection = "S" if row.status == "rejected" else None
    return _append_registration(
        ctx,
        session,
        document,
        correction=True,
        previous_rejection=rejection,
        description=description.strip() if description else None,
    )


def append_cancellation(ctx: Context, session: Session, alta_id: int, reason: str) -> ChainRecord:
    """Add a registro de anulación of the alta ``alta_id`` (an invoice issued in error).

    When the AEAT never registered the invoice (every alta rejected, none waiting to be sent)
    the anulación says so (SinRegistroPrevio=S); after a rejected anulación it is sent again
    with RechazoPrevio=S. Raises ChainError for anything but an alta not yet cancelled.
    """
    if not reason.strip():
        raise ChainError("a cancellation needs a reason")
    alta = session.get(ChainRecord, alta_id)
    if alta is None or alta.kind != "alta":
        raise ChainError("only a registration record (alta) can be cancelled")
    head = lock_head(ctx, session, alta.issuer_nif)
    history = records_of(session, alta.issuer_nif, alta.number)
    cancellations = [row for row in history if row.kind == "anulacion"]
    if cancellations and cancellations[-1].status != "rejected":
        raise ChainError(f"{alta.number} is already cancelled")
    # An alta still waiting to be sent goes out first (chain order), so it may yet be registered.
    in_flight = any(row.kind == "alta" and row.status in IN_FLIGHT for row in history)
    cfg = config(ctx)
    record = CancellationRecord(
        invoice=InvoiceId(alta.issuer_nif, alta.number, alta.issue_date),
        system=cfg.system,
        generated_at=_generated_at(ctx),
        previous=_previous(session, head),
        no_prior_record=not held_by_aeat(history) and not in_flight,
        previous_rejection=bool(cancellations),
    )
    row = ChainRecord(
        document_id=alta.document_id,
        kind="anulacion",
        invoice_type=None,
        number=alta.number,
        issue_date=alta.issue_date,
        generated_at=record.generated_at.isoformat(),
        payload={
            "system": _system_payload(record.system),
            "no_prior_record": record.no_prior_record,
            "previous_rejection": record.previous_rejection,
        },
        reason=reason.strip(),
    )
    return _append(session, head, record, row)


def _system(data: dict[str, Any]) -> SoftwareSystem:
    return SoftwareSystem(**data)


def _recipient(data: dict[str, Any]) -> Recipient:
    if "nif" in data:
        return Recipient(data["name"], nif=data["nif"])
    return Recipient(
        data["name"], foreign_id=ForeignId(data["country"], data["id_type"], data["id"])
    )


def _line(data: dict[str, Any]) -> TaxLine:
    return TaxLine(
        base=Decimal(data["base"]),
        operation=data["operation"],
        exemption=data["exemption"],
        rate=None if data["rate"] is None else Decimal(data["rate"]),
        tax_amount=None if data["tax_amount"] is None else Decimal(data["tax_amount"]),
        regime=data["regime"],
        tax=data["tax"],
    )


def _parse_date(text: str) -> date:
    return datetime.strptime(text, "%d-%m-%Y").date()


def rebuild(row: ChainRecord, previous: ChainRecord | None) -> Record:
    """The record of ``row`` as it was generated (``previous`` is the row before it)."""
    link = None
    if previous is not None:
        link = ChainLink(
            InvoiceId(previous.issuer_nif, previous.number, previous.issue_date), previous.hash
        )
    payload = row.payload
    invoice = InvoiceId(row.issuer_nif, row.number, row.issue_date)
    generated = datetime.fromisoformat(row.generated_at)
    if row.kind == "anulacion":
        return CancellationRecord(
            invoice=invoice,
            system=_system(payload["system"]),
            generated_at=generated,
            previous=link,
            no_prior_record=bool(payload.get("no_prior_record")),
            previous_rejection=bool(payload.get("previous_rejection")),
        )
    assert row.tax_total is not None and row.total is not None and row.invoice_type
    return RegistrationRecord(
        invoice=invoice,
        issuer_name=payload["issuer_name"],
        invoice_type=row.invoice_type,  # type: ignore[arg-type]
        description=payload["description"],
        tax_lines=tuple(_line(item) for item in payload["tax_lines"]),
        tax_total=Decimal(row.tax_total),
        total=Decimal(row.total),
        system=_system(payload["system"]),
        generated_at=generated,
        previous=link,
        recipients=tuple(_recipient(item) for item in payload["recipients"]),
        rectification_type=payload.get("rectification_type"),
        rectified=tuple(
            InvoiceId(nif, number, _parse_date(day)) for nif, number, day in payload["rectified"]
        ),
        correction=bool(payload.get("correction")),
        previous_rejection=payload.get("previous_rejection"),
    )


def stored_hash(row: ChainRecord, previous_hash: str | None) -> str:
    """Recompute the huella of ``row`` from its stored strings, chained to ``previous_hash``."""
    if row.kind == "anulacion":
        return cancellation_hash(
            row.issuer_nif, row.number, row.issue_date, previous_hash, row.generated_at
        )
    assert row.invoice_type and row.tax_total is not None and row.total is not None
    return registration_hash(
        row.issuer_nif,
        row.number,
        row.issue_date,
        row.invoice_type,
        row.tax_total,
        row.total,
        previous_hash,
        row.generated_at,
    )


@dataclass(frozen=True)
class ChainReport:
    """The result of a chain check: ``break_at`` is the first bad sequence number, if any."""

    issuer_nif: str
    records: int
    last_hash: str | None
    break_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.break_at is None


def verify_chain(session: Session, issuer_nif: str) -> ChainReport:
    """Recompute the issuer's whole chain; report the first gap, broken link or wrong hash."""
    rows = session.scalars(
        select(ChainRecord)
        .where(ChainRecord.issuer_nif == issuer_nif)
        .order_by(ChainRecord.sequence)
    )
    previous_hash: str | None = None
    count = 0
    for expected, row in enumerate(rows, start=1):
        count = expected
        if row.sequence != expected:
            return ChainReport(issuer_nif, count, previous_hash, expected, "sequence gap")
        if row.previous_hash != previous_hash:
            return ChainReport(
                issuer_nif, count, previous_hash, expected, "previous hash does not match"
            )
        if stored_hash(row, previous_hash) != row.hash:
            return ChainReport(issuer_nif, count, previous_hash, expected, "hash does not match")
        previous_hash = row.hash
    head = session.scalar(select(ChainHead).where(ChainHead.issuer_nif == issuer_nif))
    if head is not None and (head.last_sequence != count or head.last_hash != previous_hash):
        return ChainReport(
            issuer_nif, count, previous_hash, count + 1, "chain head does not match the records"
        )
    return ChainReport(issuer_nif, count, previous_hash)


def issuers(session: Session) -> list[str]:
    """Every issuer NIF that has a chain."""
    return list(session.scalars(select(ChainHead.issuer_nif).order_by(ChainHead.issuer_nif)))
