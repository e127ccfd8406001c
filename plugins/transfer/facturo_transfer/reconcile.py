"""Statement import and confirmation: domain logic, no HTTP.

``import_statement`` parses the whole file first (a malformed file raises StatementError
naming the line and nothing is stored), keeps only credit lines not imported before (by their
identity), and proposes a document for each. ``confirm_lines`` turns chosen proposals into
payments, idempotent on the statement line's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import (
    BankStatementEntry,
    Context,
    Document,
    Payment,
    audit_record,
    record_payment,
)
from facturo_transfer.importer import parse_statement
from facturo_transfer.matching import Confidence, MatchProposal, OpenDocument, match_lines
from facturo_transfer.models import StatementEntry, StatementImport
from facturo_transfer.statement import StatementLine

GATEWAY = "transfer"


@dataclass(frozen=True)
class ImportSummary:
    statement: StatementImport
    new_lines: int
    already_imported: int
    debits_ignored: int


def open_documents(session: Session) -> list[OpenDocument]:
    """Unpaid proformas with what is still due."""
    rows = session.scalars(
        select(Document).where(Document.status == "unpaid", Document.kind == "proforma")
    )
    return [OpenDocument(d.id, d.reference, d.balance, d.currency) for d in rows]


def import_statement(
    session: Session, ctx: Context, data: bytes, filename: str, actor: str
) -> ImportSummary:
    """Store the statement's new credit lines with a proposed match each."""
    lines = parse_statement(data)
    file_format = "camt.053" if data.lstrip().startswith(b"<") else "norma43"
    statement = StatementImport(filename=filename[:255], file_format=file_format, uploaded_by=actor)
    session.add(statement)
    session.flush()
    known = set(
        session.scalars(
            select(StatementEntry.identity).where(
                StatementEntry.identity.in_([line.identity for line in lines])
            )
        )
    )
    credits = [line for line in lines if line.is_credit]
    fresh = [line for line in credits if line.identity not in known]
    proposals = match_lines(fresh, open_documents(session))
    by_identity: dict[str, list[MatchProposal]] = {}
    for proposal in proposals:
        by_identity.setdefault(proposal.line.identity, []).append(proposal)
    for line in fresh:
        best = _best(by_identity.get(line.identity, []))
        matched = (
            best is not None
            and best.document_id is not None
            and best.confidence
            in (Confidence.EXACT, Confidence.PARTIAL, Confidence.OVERPAYMENT, Confidence.WEAK)
        )
        session.add(
            StatementEntry(
                import_id=statement.id,
                identity=line.identity,
                booking_date=line.booking_date,
                amount=line.amount,
                currency=line.currency,
                remittance=line.remittance[:2000],
                bank_reference=(line.bank_reference or "")[:200],
                status="proposed" if matched else "unmatched",
                document_id=best.document_id if matched and best is not None else None,
                confidence=str(best.confidence) if best is not None else "none",
                reason=best.reason if best is not None else "",
            )
        )
    statement.line_count = len(fresh)
    # Every movement goes to the other plugins too (a direct-debit plugin reads its returns).
    ctx.hook.on_bank_statement_imported(
        ctx=ctx, session=session, entries=[_entry(line) for line in lines]
    )
    audit_record(
        session,
        actor,
        "transfer.statement_import",
        statement,
        after={"filename": filename, "new_lines": len(fresh)},
    )
    return ImportSummary(
        statement, len(fresh), len(credits) - len(fresh), len(lines) - len(credits)
    )


def _entry(line: StatementLine) -> BankStatementEntry:
    return BankStatementEntry(
        identity=line.identity,
        booking_date=line.booking_date,
        amount=line.amount,
        currency=line.currency,
        direction=line.direction.value,
        remittance=line.remittance,
        end_to_end_id=line.end_to_end_id,
        return_reason=line.return_reason,
        bank_reference=line.bank_reference,
    )


def _best(proposals: list[MatchProposal]) -> MatchProposal | None:
    order = [
        Confidence.EXACT,
        Confidence.PARTIAL,
        Confidence.OVERPAYMENT,
        Confidence.WEAK,
        Confidence.CURRENCY_MISMATCH,
        Confidence.NONE,
    ]
    ranked = sorted(proposals, key=lambda p: order.index(p.confidence))
    return ranked[0] if ranked else None


def confirm_lines(session: Session, ctx: Context, line_ids: list[int], actor: str) -> list[Payment]:
    """Record a payment for each chosen proposed line (the whole line amount: a partial
    payment adds up, an overpayment becomes customer credit). Repeats record nothing."""
    payments: list[Payment] = []
    for entry in session.scalars(
        select(StatementEntry).where(StatementEntry.id.in_(line_ids)).order_by(StatementEntry.id)
    ):
        if entry.status != "proposed" or entry.document_id is None:
            continue
        document = session.get(Document, entry.document_id)
        paid_at = datetime.combine(entry.booking_date, time(12, 0), tzinfo=UTC)
        outcome = record_payment(
            session,
            ctx,
            document,
            GATEWAY,
            f"stmt:{entry.identity}",
            Decimal(entry.amount),
            entry.currency,
            paid_at,
            raw={"remittance": entry.remittance, "bank_reference": entry.bank_reference},
            actor=actor,
            value_date=entry.booking_date,
        )
        entry.status = "confirmed" if outcome.created else "duplicate"
        entry.payment_id = outcome.payment.id
        payments.append(outcome.payment)
    return payments
