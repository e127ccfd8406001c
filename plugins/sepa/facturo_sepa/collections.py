"""Pre-notifications and collections: domain logic, no HTTP.

* ``prenotify`` emails each unpaid EUR proforma of a customer with an active mandate once
  (a unique row per proforma), announcing the amount, the date it will be collected on, the
  mandate reference and the creditor id. The collection date is the due date, or the lead
  time (``prenotification_days``) from today when that is later.
* ``build_collection`` puts the pre-notified proformas due by a date into one pain.008 file
  (built and validated against its XSD by sepaxml). The candidate proformas are locked and
  re-checked, and a unique index on the items' ``open_document_id`` keeps a proforma in at
  most one live collection even when two staff users build at once.
* ``mark_sent`` and ``settle``: the file was uploaded; the bank credited it. Settling records
  each debit as a payment through the core (idempotent on the end-to-end id).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from facturo.plugin import (
    BillingError,
    Context,
    Customer,
    Document,
    audit_record,
    enqueue_email,
    record_payment,
)

from .models import Collection, CollectionItem, Mandate, PreNotification
from .settings import PLUGIN

GATEWAY = PLUGIN


class CollectionError(BillingError):
    """A collection that cannot be built or changed; the message says why."""


@dataclass(frozen=True)
class Candidate:
    """A proforma that may be collected on a date."""

    document: Document
    mandate: Mandate
    notice: PreNotification


def _lead_days(ctx: Context) -> int:
    return int(ctx.settings_for(PLUGIN)["prenotification_days"])


def prenotify(session: Session, ctx: Context) -> int:
    """Queue the pre-notification of every unpaid EUR proforma of a customer with an active
    mandate that has none yet; returns how many were queued."""
    notified = select(PreNotification.document_id)
    rows = session.execute(
        select(Document, Mandate)
        .join(Mandate, Mandate.customer_id == Document.customer_id)
        .where(
            Document.kind == "proforma",
            Document.status == "unpaid",
            Document.currency == "EUR",
            Mandate.status == "active",
            Document.id.not_in(notified),
        )
        .order_by(Document.id, Mandate.id.desc())
    )
    seen: set[int] = set()
    settings = ctx.settings_for(PLUGIN)
    count = 0
    for document, mandate in rows:
        if document.id in seen or document.balance <= 0:
            continue
        seen.add(document.id)
        collect_on = max(document.due_date, ctx.today() + timedelta(days=_lead_days(ctx)))
        notice = PreNotification(
            document_id=document.id,
            mandate_id=mandate.id,
            amount=document.balance,
            currency=document.currency,
            collect_on=collect_on,
            sent_at=ctx.now(),
        )
        session.add(notice)
        session.flush()
        customer = session.get(Customer, document.customer_id)
        assert customer is not None
        enqueue_email(
            session,
            ctx,
            "sepa_prenotification",
            customer.email,
            customer.language,
            {
                "customer": customer,
                "document": document,
                "amount": notice.amount,
                "currency": notice.currency,
                "collect_on": collect_on,
                "mandate": mandate,
                "creditor_id": settings["creditor_id"],
                "creditor_name": settings["creditor_name"],
            },
            dedupe_key=f"sepa:prenotify:{document.id}",
            customer_id=customer.id,
        )
        count += 1
    return count


def candidates(session: Session, ctx: Context, scheme: str, collect_on: date) -> list[Candidate]:
    """Pre-notified unpaid proformas collectable on ``collect_on`` under ``scheme``, with an
    active mandate and in no live collection."""
    live = select(CollectionItem.open_document_id).where(
        CollectionItem.open_document_id.is_not(None)
    )
    # A returned debit is not presented again by itself: the customer pays by other means.
    returned = select(CollectionItem.document_id).where(CollectionItem.status == "returned")
    rows = session.execute(
        select(Document, Mandate, PreNotification)
        .join(PreNotification, PreNotification.document_id == Document.id)
        .join(Mandate, Mandate.customer_id == Document.customer_id)
        .where(
            Document.kind == "proforma",
            Document.status == "unpaid",
            Document.currency == "EUR",
            Mandate.status == "active",
            Mandate.scheme == scheme,
            PreNotification.collect_on <= collect_on,
            Document.id.not_in(live),
            Document.id.not_in(returned),
        )
        .order_by(Document.id, Mandate.id.desc())
    )
    found: dict[int, Candidate] = {}
    for document, mandate, notice in rows:
        if document.id not in found and document.balance > 0:
            found[document.id] = Candidate(document, mandate, notice)
    return list(found.values())


def build_collection(
    session: Session,
    ctx: Context,
    scheme: str,
    collect_on: date,
    actor: str,
    document_ids: list[int] | None = None,
) -> Collection:
    """Build and store the pain.008 file of the candidates (``document_ids``: only those).

    Raises CollectionError when the date is not after today or nothing is left to collect.
    """
    from .painxml import Debit, build_pain008

    if collect_on <= ctx.today():
        raise CollectionError("The collection date must be after today.")
    found = candidates(session, ctx, scheme, collect_on)
    if document_ids is not None:
        wanted = set(document_ids)
        found = [c for c in found if c.document.id in wanted]
    ids = sorted(c.document.id for c in found)
    if ids and not ctx.db.is_sqlite:
        # Lock the proformas, then re-read what is live: a concurrent build that committed
        # meanwhile is seen now (the unique index refuses what slips through anyway).
        session.execute(select(Document.id).where(Document.id.in_(ids)).with_for_update())
        taken = set(
            session.scalars(
                select(CollectionItem.open_document_id).where(
                    CollectionItem.open_document_id.in_(ids)
                )
            )
        )
        found = [c for c in found if c.document.id not in taken]
    if not found:
        raise CollectionError("No pre-notified proforma is due for collection by that date.")
    settings = ctx.settings_for(PLUGIN)
    collection = Collection(
        message_id=f"pending-{secrets.token_hex(8)}",
        scheme=scheme,
        collection_date=collect_on,
        status="open",
        total=sum((c.document.balance for c in found), Decimal("0.00")),
        count=len(found),
        xml="",
        created_by=actor,
        created_at=ctx.now(),
    )
    session.add(collection)
    session.flush()
    debits: list[Debit] = []
    for candidate in found:
        document = candidate.document
        item = CollectionItem(
            collection_id=collection.id,
            document_id=document.id,
            open_document_id=document.id,
            mandate_id=candidate.mandate.id,
            end_to_end_id=f"FACSDD-{collection.id}-{document.id}"[:35],
            amount=document.balance,
            currency=document.currency,
            status="pending",
            return_reason="",
        )
        session.add(item)
        debits.append(
            Debit(
                end_to_end_id=item.end_to_end_id,
                amount=item.amount,
                mandate=candidate.mandate,
                description=f"{document.reference} {settings['creditor_name']}",
            )
        )
    session.flush()  # the unique open_document_id is checked here
    try:
        message_id, data = build_pain008(ctx, collection, debits)
    except ValueError as exc:
        raise CollectionError("The file does not validate against the pain.008 schema.") from exc
    collection.message_id = message_id[:35]
    collection.xml = data.decode("utf-8")
    audit_record(
        session,
        actor,
        "sepa.collection_built",
        collection,
        after={"count": collection.count, "total": collection.total, "scheme": scheme},
    )
    return collection


def mark_sent(session: Session, ctx: Context, collection_id: int, actor: str) -> bool:
    """Open → sent (one conditional UPDATE); False when it was not open."""
    done = session.execute(
        update(Collection)
        .where(Collection.id == collection_id, Collection.status == "open")
        .values(status="sent", sent_at=ctx.now())
    )
    changed = bool(getattr(done, "rowcount", 0))
    if changed:
        audit_record(session, actor, "sepa.collection_sent", ("sepa_collection", collection_id))
    return changed


def settle(session: Session, ctx: Context, collection_id: int, actor: str) -> int:
    """Sent → settled: record a payment for each debit not returned (idempotent on the
    end-to-end id, so a repeat records nothing). Returns the payments recorded now."""
    done = session.execute(
        update(Collection)
        .where(Collection.id == collection_id, Collection.status == "sent")
        .values(status="settled", settled_at=ctx.now())
    )
    if not getattr(done, "rowcount", 0):
        raise CollectionError("Only a collection marked as sent can be settled.")
    collection = session.get(Collection, collection_id)
    assert collection is not None
    paid_at = datetime.combine(collection.collection_date, time(12, 0), tzinfo=UTC)
    created = 0
    for item in list(collection.items):
        if item.status != "pending":
            continue
        document = session.get(Document, item.document_id)
        outcome = record_payment(
            session,
            ctx,
            document,
            GATEWAY,
            f"sdd:{item.end_to_end_id}",
            item.amount,
            item.currency,
            paid_at,
            raw={"collection": collection.message_id, "mandate": item.mandate.reference},
            actor=actor,
            value_date=collection.collection_date,
        )
        item.status = "collected"
        item.payment_id = outcome.payment.id
        created += int(outcome.created)
    audit_record(session, actor, "sepa.collection_settled", collection, after={"paid": created})
    return created
