"""The ``collect_renewal`` answer of this plugin: charge a renewal proforma to the customer's
saved card as a merchant-initiated transaction and book the answer through the core's
notification pipeline (stored raw, deduplicated, one payment per order)."""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

import httpx
from sqlalchemy.exc import IntegrityError

from facturo.plugin import CollectionResult, Context, Document, Verified, record_answer

from .cards import mark_unusable, usable_card
from .config import PLUGIN, terminal_settings
from .gateway import GATEWAY, event_key
from .mit import MitAnswer, build_mit_request, classify_mit, send_mit
from .models import CardAttempt
from .orders import new_order_number
from .redsys import RedsysError
from .responses import describe_error, describe_response

__all__ = ["collect_renewal", "shared_client"]

log = logging.getLogger(__name__)

_clients: list[httpx.Client] = []
_clients_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """The HTTP client MIT charges are sent with: one per process (thread-safe), so a run of
    many charges reuses its connections and TLS set-up instead of paying them per charge."""
    with _clients_lock:
        if not _clients:
            client = httpx.Client(timeout=30)
            atexit.register(client.close)
            _clients.append(client)
        return _clients[0]


@dataclass(frozen=True)
class _Charge:
    attempt_id: int
    card_id: int
    order: str
    amount: Decimal
    currency: str
    identifier: str
    cof_txnid: str
    reference: str


def _start(ctx: Context, document_id: int) -> _Charge | CollectionResult:
    """Store a pending MIT attempt on the customer's newest usable card (locked, so a card
    being deleted is not picked), or say why there is nothing to charge."""
    settings = terminal_settings(ctx)
    for _ in range(5):
        try:
            with ctx.db.transaction() as session:
                document = session.get(Document, document_id)
                if document is None or not document.is_payable:
                    return CollectionResult("error", detail="the proforma is not payable")
                card = usable_card(session, document.customer_id, lock=True)
                if card is None:
                    return CollectionResult("unusable", detail="no usable saved card")
                attempt = CardAttempt(
                    order_number=new_order_number(12, now=ctx.now()),
                    document_id=document.id,
                    amount=document.balance,
                    currency=document.currency,
                    merchant_code=settings.merchant_code,
                    terminal=settings.terminal,
                    status="pending",
                    response_es="",
                    response_en="",
                    save_card=False,
                    kind="mit",
                    saved_card_id=card.id,
                    created_at=ctx.now(),
                )
                session.add(attempt)
                session.flush()
                return _Charge(
                    attempt.id,
                    card.id,
                    attempt.order_number,
                    attempt.amount,
                    attempt.currency,
                    card.identifier,
                    card.cof_txnid,
                    document.reference,
                )
        except IntegrityError:
            continue  # an order number collision: draw another, never reuse
    return CollectionResult("error", detail="could not draw a free order number")


def _fail_attempt(ctx: Context, charge: _Charge, answer: MitAnswer) -> None:
    """An ``errorCode`` answer decides nothing about money: mark the attempt failed."""
    meaning = describe_error(answer.error_code or "")
    with ctx.db.transaction() as session:
        attempt = session.get(CardAttempt, charge.attempt_id)
        if attempt is not None and attempt.status == "pending":
            attempt.status = "failed"
            attempt.response_code = (answer.error_code or "")[:8]
            attempt.response_es, attempt.response_en = meaning.es, meaning.en
            attempt.updated_at = ctx.now()


def _send(ctx: Context, charge: _Charge) -> MitAnswer | CollectionResult:
    settings = terminal_settings(ctx)
    request = build_mit_request(
        settings,
        order=charge.order,
        amount=charge.amount,
        currency_code=charge.currency,
        identifier=charge.identifier,
        cof_txnid=charge.cof_txnid,
        merchant_data=charge.reference,
    )
    try:
        return send_mit(shared_client(), settings, request)
    except httpx.ConnectError as exc:
        detail = f"the bank could not be reached: {exc}"
        with ctx.db.transaction() as session:
            attempt = session.get(CardAttempt, charge.attempt_id)
            if attempt is not None:
                attempt.status, attempt.updated_at = "failed", ctx.now()
        return CollectionResult("error", charge.order, detail)
    except (httpx.HTTPError, RedsysError) as exc:
        # Sent but unanswered or unreadable: the operation query settles it, never a retry.
        log.warning("MIT %s has no usable answer: %s", charge.order, exc)
        return CollectionResult("unknown", charge.order, f"{type(exc).__name__}: {exc}")


def collect_renewal(
    ctx: Context, document_id: int, attempt: int, charged_on: date
) -> CollectionResult:
    """Charge the proforma's balance to the customer's saved card (see the module docstring)."""
    charge = _start(ctx, document_id)
    if isinstance(charge, CollectionResult):
        return charge
    answer = _send(ctx, charge)
    if isinstance(answer, CollectionResult):
        return answer
    outcome = classify_mit(answer)
    if answer.error_code is not None:
        _fail_attempt(ctx, charge, answer)
        meaning = describe_error(answer.error_code)
        detail = f"{answer.error_code}: {meaning.en}"
        if outcome == "error":
            log.error("MIT %s refused by configuration: %s", charge.order, detail)
    else:
        receipt = record_answer(
            ctx,
            PLUGIN,
            answer.raw,
            Verified(event_key(answer.fields), dict(answer.fields)),
            apply=partial(GATEWAY.apply_notification, ctx),
            source="mit",
        )
        detail = f"{answer.response_code}: {describe_response(answer.response_code).en}"
        if receipt.status not in ("processed", "duplicate"):
            return CollectionResult("unknown", charge.order, f"{receipt.status}: {receipt.detail}")
    if outcome == "unusable":
        with ctx.db.transaction() as session:
            mark_unusable(session, ctx, charge.card_id, detail)
    return CollectionResult(outcome, charge.order, detail)
