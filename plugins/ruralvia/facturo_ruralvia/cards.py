"""Cards saved for renewals: stored from an approved payment that asked for a token, listed
and deleted by their owner, marked unusable when the bank says the reference is dead.

Only the Redsys reference (``Ds_Merchant_Identifier``), the Credential-on-File transaction id
and what people read (brand, last four digits, expiry) are kept, never card data. The card
that renewals are charged to is published to the core as the customer's collection method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from facturo.plugin import (
    Context,
    clear_collection_method,
    insert_ignore,
    set_collection_method,
)

from .config import PLUGIN
from .models import CardAttempt, SavedCard
from .redsys import brand_name, get_field

__all__ = [
    "cards_of",
    "delete_card",
    "mark_unusable",
    "save_card_from",
    "usable_card",
]

#: The reference Redsys returns is at most 40 characters (SIS0541 otherwise).
MAX_IDENTIFIER = 40


def _refresh_method(session: Session, ctx: Context, customer_id: int) -> None:
    """Point the customer's collection method at their newest usable card, or clear it."""
    card = usable_card(session, customer_id)
    if card is None:
        clear_collection_method(session, customer_id, PLUGIN)
    else:
        set_collection_method(session, ctx, customer_id, PLUGIN, card.label)


def save_card_from(
    session: Session, ctx: Context, customer_id: int, order: str, fields: Mapping[str, Any]
) -> SavedCard | None:
    """Store the card of an approved payment that asked for a token (idempotent: a repeated
    notification finds the row by customer and reference). None when no reference came back."""
    identifier = get_field(fields, "Ds_Merchant_Identifier")
    if not identifier or identifier.upper() == "REQUIRED" or len(identifier) > MAX_IDENTIFIER:
        return None
    number = get_field(fields, "Ds_Card_Number") or get_field(fields, "Ds_CardNumber")
    last4 = number[-4:] if len(number) >= 4 and number[-4:].isdigit() else ""
    expiry = get_field(fields, "Ds_ExpiryDate")
    values = {
        "customer_id": customer_id,
        "identifier": identifier,
        "cof_txnid": get_field(fields, "Ds_Merchant_Cof_Txnid")[:40],
        "brand": brand_name(get_field(fields, "Ds_Card_Brand")),
        "last4": last4,
        "expiry": expiry if len(expiry) == 4 and expiry.isdigit() else "",
        "status": "active",
        "status_reason": "",
        "order_number": order,
        "created_at": ctx.now(),
    }
    insert_ignore(session, SavedCard.__table__, values, ("customer_id", "identifier"))
    card = session.scalar(
        select(SavedCard)
        .where(SavedCard.customer_id == customer_id, SavedCard.identifier == identifier)
        .execution_options(populate_existing=True)
    )
    assert card is not None
    if card.status != "active" and card.order_number != order:
        card.status, card.status_reason, card.updated_at = "active", "", ctx.now()
    _refresh_method(session, ctx, customer_id)
    return card


def cards_of(session: Session, customer_id: int) -> list[SavedCard]:
    """The customer's saved cards, newest first."""
    return list(
        session.scalars(
            select(SavedCard)
            .where(SavedCard.customer_id == customer_id)
            .order_by(SavedCard.id.desc())
        )
    )


def usable_card(session: Session, customer_id: int, lock: bool = False) -> SavedCard | None:
    """The newest active card of the customer (locked with ``lock``), or None."""
    query = (
        select(SavedCard)
        .where(SavedCard.customer_id == customer_id, SavedCard.status == "active")
        .order_by(SavedCard.id.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def delete_card(session: Session, ctx: Context, customer_id: int, card_id: int) -> bool:
    """Delete the customer's card ``card_id`` (False when it is not theirs or already gone).
    The row goes, so no renewal can be charged to it again."""
    card = session.scalar(
        select(SavedCard)
        .where(SavedCard.id == card_id, SavedCard.customer_id == customer_id)
        .with_for_update()
    )
    if card is None:
        return False
    session.execute(
        update(CardAttempt).where(CardAttempt.saved_card_id == card.id).values(saved_card_id=None)
    )
    session.execute(delete(SavedCard).where(SavedCard.id == card.id))
    session.flush()
    _refresh_method(session, ctx, customer_id)
    return True


def mark_unusable(session: Session, ctx: Context, card_id: int, reason: str) -> None:
    """The bank says this card's reference can no longer be charged: never use it again."""
    card = session.get(SavedCard, card_id, with_for_update=True)
    if card is None:
        return
    card.status, card.status_reason, card.updated_at = "unusable", reason[:500], ctx.now()
    session.flush()
    _refresh_method(session, ctx, card.customer_id)
