"""Asking again about VAT numbers the checking service could not answer, and re-pricing the
proformas whose answer changed (the ``check_vat_number`` plugin runs it periodically)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facturo.billing.documents import queue_document_email, settle
from facturo.billing.evidence import evidence_of
from facturo.billing.retax import decide_again, pending_vat_checks
from facturo.models import Document

if TYPE_CHECKING:
    from facturo.context import Context


def recheck_pending(ctx: Context) -> int:
    """Ask again about every proforma whose VAT-number check was unknown (one transaction
    each); re-price those whose answer changed. Returns how many were re-priced."""
    with ctx.db.read_session() as session:
        ids = [d.id for d in pending_vat_checks(session)]
    changed = 0
    for document_id in ids:
        with ctx.db.transaction() as session:
            document = session.get(Document, document_id)
            if document is None or document.status != "unpaid" or document.is_issued:
                continue
            evidence = evidence_of(session, document_id)
            if evidence is None or evidence.vat_status != "unknown":
                continue
            if decide_again(session, ctx, document, ctx.today(), actor="system:vat-recheck"):
                changed += 1
                if document.balance == 0 and document.amount_paid + document.credit_applied > 0:
                    settle(session, ctx, document, ctx.now())
                else:
                    queue_document_email(
                        session,
                        ctx,
                        document,
                        "proforma_issued",
                        key=f"proforma_repriced:{document.id}:{document.total}",
                        extra={"repriced": True},
                    )
    return changed
