"""One pipeline for every gateway's server-to-server messages.

store raw (own committed transaction) → verify → deduplicate (unique ``(gateway, event_key)``)
→ apply with retry (the plugin's booking and the row's new state in ONE transaction) → state.

A message is "received" for the gateway only once its row is committed: when the row cannot be
stored :func:`receive_notification` returns a :class:`Receipt` with ``stored`` False and the
caller answers an error so the gateway retries. A stored message whose booking failed stays
``received`` or ``error`` and the reconciliation job (:mod:`facturo.gateways.reconcile`)
applies it later; booking is idempotent, so a late repeat never books twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from facturo.gateways.notifications import log_notification, mark_notification
from facturo.gateways.protocol import Applied, NotificationRejected, RetryLater, Verified
from facturo.models import GatewayNotification

if TYPE_CHECKING:
    from facturo.context import Context

log = logging.getLogger(__name__)

#: Every state of a stored notification.
STATES = ("received", "processed", "duplicate", "rejected", "error")
#: States after which a repeat of the same event is a duplicate (rejected rows hold no key).
FINAL_STATES = ("processed", "duplicate")
#: How often storing and applying are tried before giving up (the database may be blinking).
ATTEMPTS = 3
BACKOFF_SECONDS = (0.1, 0.4, 1.0)

T = TypeVar("T")
Verify = Callable[[str, Mapping[str, str]], Verified]
Apply = Callable[[Session, Verified], Applied]

__all__ = [
    "FINAL_STATES",
    "STATES",
    "Receipt",
    "receive_notification",
    "record_answer",
    "reprocess_stored",
]


@dataclass(frozen=True)
class Receipt:
    """What became of one message. ``stored`` False means nothing was kept: answer an error.
    ``retry_later`` means verification could not reach what it needed: answer an error too."""

    notification_id: int | None
    status: str
    detail: str = ""
    payment_id: int | None = None
    retry_later: bool = False
    #: True when verification refused the message (forged or unreadable), not its booking.
    refused: bool = False

    @property
    def stored(self) -> bool:
        """True once the raw message is durably stored."""
        return self.notification_id is not None

    @property
    def http_status(self) -> int:
        """200 when stored (whatever happened next), 503 when the sender must retry."""
        return 200 if self.stored and not self.retry_later else 503


def _retrying(what: str, work: Callable[[], T]) -> T:
    """Run ``work``; on a database error try again after a short pause (ATTEMPTS in all)."""
    for attempt in range(ATTEMPTS):
        try:
            return work()
        except IntegrityError:
            raise
        except SQLAlchemyError:
            if attempt == ATTEMPTS - 1:
                raise
            log.warning("%s failed (attempt %d), retrying", what, attempt + 1, exc_info=True)
            time.sleep(BACKOFF_SECONDS[attempt])
    raise AssertionError("unreachable")


def _mark(ctx: Context, notification_id: int, status: str, detail: str) -> None:
    """Best effort: a row left ``received`` is picked up by the reconciliation job anyway."""
    try:
        _retrying(
            "marking a notification",
            lambda: mark_notification(ctx, notification_id, status, detail),
        )
    except SQLAlchemyError:
        log.exception("could not mark notification %s as %s", notification_id, status)


def _release_key(ctx: Context, notification_id: int) -> None:
    try:
        with ctx.db.transaction() as session:
            session.execute(
                update(GatewayNotification)
                .where(GatewayNotification.id == notification_id)
                .values(event_key=None)
            )
    except SQLAlchemyError:
        log.exception("could not release the key of notification %s", notification_id)


def _stored(ctx: Context, notification_id: int) -> tuple[str, str]:
    """(state, raw body) of a stored notification."""
    with ctx.db.read_session() as session:
        row = session.get(GatewayNotification, notification_id)
        return ("", "") if row is None else (row.status, row.body)


def _claim_key(
    ctx: Context, gateway: str, notification_id: int, key: str
) -> tuple[int, str] | None:
    """Give the row its event key; if another row holds it, return (that id, its state)."""
    try:
        with ctx.db.transaction() as session:
            session.execute(
                update(GatewayNotification)
                .where(
                    GatewayNotification.id == notification_id,
                    GatewayNotification.event_key.is_(None),
                )
                .values(event_key=key)
            )
        return None
    except IntegrityError:
        with ctx.db.read_session() as session:
            row = session.execute(
                select(GatewayNotification.id, GatewayNotification.status).where(
                    GatewayNotification.gateway == gateway, GatewayNotification.event_key == key
                )
            ).first()
        if row is None or row.id == notification_id:
            return None
        return int(row.id), str(row.status)


def _apply(ctx: Context, notification_id: int, verified: Verified, apply: Apply) -> Receipt:
    """Book ``verified`` and set the row's state in one transaction, with retries."""

    def work(session: Session) -> Applied:
        applied = apply(session, verified)
        row = session.get(GatewayNotification, notification_id)
        if row is not None:
            if applied.status == "rejected":
                row.event_key = None  # a mismatch must not hold the key of the real outcome
            row.status = applied.status
            row.detail = applied.detail[:2000]
            row.processed_at = ctx.now()
            if applied.payment_id is not None:
                row.payment_id = applied.payment_id
        return applied

    try:
        applied = _retrying("applying a notification", lambda: ctx.db.run(work))
    except SQLAlchemyError as exc:
        log.exception("notification %s stored but not applied", notification_id)
        _mark(ctx, notification_id, "error", f"not applied yet: {type(exc).__name__}")
        return Receipt(notification_id, "error", "stored; will be applied by reconciliation")
    except Exception as exc:
        log.exception("notification %s could not be applied", notification_id)
        _mark(ctx, notification_id, "error", f"{type(exc).__name__}: {exc}")
        return Receipt(notification_id, "error", str(exc))
    return Receipt(notification_id, applied.status, applied.detail, applied.payment_id)


def _apply_verified(
    ctx: Context, gateway: str, notification_id: int, verified: Verified, apply: Apply
) -> Receipt:
    """Deduplicate on the event key, then apply."""
    if verified.event_key:
        try:
            holder = _retrying(
                "claiming an event key",
                lambda: _claim_key(ctx, gateway, notification_id, verified.event_key or ""),
            )
        except SQLAlchemyError:
            log.exception("could not deduplicate notification %s", notification_id)
            return Receipt(notification_id, "received", "stored; will be applied by reconciliation")
        if holder is not None and holder[1] in FINAL_STATES:
            detail = f"same event as notification #{holder[0]}"
            _mark(ctx, notification_id, "duplicate", detail)
            return Receipt(notification_id, "duplicate", detail)
    return _apply(ctx, notification_id, verified, apply)


def _process(
    ctx: Context,
    gateway: str,
    notification_id: int,
    body: str,
    headers: Mapping[str, str],
    verify: Verify,
    apply: Apply,
) -> Receipt:
    try:
        verified = verify(body, headers)
    except NotificationRejected as exc:
        _release_key(ctx, notification_id)  # a forgery must not hold a real event's key
        _mark(ctx, notification_id, "rejected", str(exc))
        return Receipt(notification_id, "rejected", str(exc), refused=True)
    except RetryLater as exc:
        _mark(ctx, notification_id, "error", f"retry later: {exc}")
        return Receipt(notification_id, "error", str(exc), retry_later=True)
    except Exception as exc:
        log.exception("verifying notification %s failed", notification_id)
        _mark(ctx, notification_id, "error", f"{type(exc).__name__}: {exc}")
        return Receipt(notification_id, "error", str(exc))
    return _apply_verified(ctx, gateway, notification_id, verified, apply)


def receive_notification(
    ctx: Context,
    gateway: str,
    body: str,
    headers: Mapping[str, str],
    remote_addr: str,
    *,
    verify: Verify,
    apply: Apply,
    event_key: str | None = None,
) -> Receipt:
    """Store, verify, deduplicate and apply one server-to-server message of ``gateway``.

    ``verify(body, headers)`` returns a :class:`Verified` or raises NotificationRejected /
    RetryLater; ``apply(session, verified)`` books it idempotently inside the transaction that
    also records the row's state. ``event_key`` may deduplicate before verification when the
    sender's id can be trusted to be unique (it is stored, not acted on, until verified).
    Never raises for database errors: see :attr:`Receipt.stored` and :attr:`Receipt.http_status`.
    """
    try:
        notification_id, is_new = _retrying(
            "storing a notification",
            lambda: log_notification(ctx, gateway, body, headers, remote_addr, event_key),
        )
    except SQLAlchemyError:
        log.exception("a %s notification could not be stored; asking the sender to retry", gateway)
        return Receipt(None, "unstored", "the notification could not be stored")
    if not is_new:
        try:
            status, stored_body = _stored(ctx, notification_id)
        except SQLAlchemyError:
            return Receipt(notification_id, "received", "stored earlier")
        if status in FINAL_STATES and stored_body == body:
            return Receipt(notification_id, "duplicate", f"already {status}")
        if stored_body != body:  # same claimed key, other bytes: keep it apart and verify it
            try:
                notification_id, _ = _retrying(
                    "storing a notification",
                    lambda: log_notification(ctx, gateway, body, headers, remote_addr),
                )
            except SQLAlchemyError:
                log.exception("a %s notification could not be stored", gateway)
                return Receipt(None, "unstored", "the notification could not be stored")
    return _process(ctx, gateway, notification_id, body, headers, verify, apply)


def reprocess_stored(
    ctx: Context, notification_id: int, *, verify: Verify, apply: Apply
) -> Receipt:
    """Verify and apply a stored notification again (the reconciliation job's path)."""
    with ctx.db.read_session() as session:
        row = session.get(GatewayNotification, notification_id)
        if row is None:
            return Receipt(None, "unstored", "no such notification")
        gateway, body, headers, status = row.gateway, row.body, dict(row.headers or {}), row.status
    if status in (*FINAL_STATES, "rejected"):
        return Receipt(notification_id, status, "already final")
    return _process(ctx, gateway, notification_id, body, headers, verify, apply)


def record_answer(
    ctx: Context,
    gateway: str,
    raw: str,
    verified: Verified,
    *,
    apply: Apply,
    source: str = "reconcile",
) -> Receipt:
    """Store what the gateway answered to a query, then deduplicate and apply it exactly like a
    notification (the same event key, so a late notification of the same outcome is a
    duplicate). Database errors propagate: the job retries on its next run."""
    notification_id, _ = log_notification(ctx, gateway, raw, {"x-facturo-source": source}, source)
    return _apply_verified(ctx, gateway, notification_id, verified, apply)
