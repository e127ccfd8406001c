"""Email delivery: claim due outbox messages, hand them to the ``send_email`` hook, retry.

A worker *claims* due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share
the queue): they become ``sending`` with a new claim token and a lease (``next_attempt_at``)
of ``[delivery] lease_seconds``. While the worker sends, a heartbeat thread extends the lease
of the rows it still holds, so a slow server never lets another worker take them; when the
worker dies the lease runs out and another worker takes the rows within a minute. Every
result is written only where the row still carries the worker's claim token (fencing): a
worker that lost its claim cannot overwrite what the new holder did.

A message is sent outside any transaction. A transport failure schedules a retry with capped
exponential backoff (:mod:`facturo.delivery.retries`) for days; then the message stays
visible to staff as ``failed``, and they can queue every failed message again at once.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from facturo.billing.pdf import document_pdf
from facturo.delivery.messages import build_message
from facturo.delivery.retries import retry_policy
from facturo.models import Document, OutboxMessage

if TYPE_CHECKING:
    from facturo.context import Context

log = logging.getLogger(__name__)
CLAIM_BATCH = 20
WRITE_ATTEMPTS = 5  # a result is written again after a database blip, not lost


def _attachments(ctx: Context, row: OutboxMessage) -> list[tuple[str, str, bytes]]:
    files: list[tuple[str, str, bytes]] = []
    for spec in row.attachments:
        if "document_id" in spec:
            with ctx.db.transaction() as session:
                document = session.get(Document, int(spec["document_id"]))
                if document is None:
                    continue
                pdf = document_pdf(ctx, session, document)
                files.append((f"{document.display_number}.pdf", "application/pdf", pdf))
        else:
            files.append(
                (spec["filename"], spec["content_type"], base64.b64decode(spec["data_b64"]))
            )
    return files


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_claims: int = 0


@dataclass
class Claim:
    """Rows claimed by one worker pass, fenced by ``token``."""

    token: str
    ids: list[int] = field(default_factory=list)


def claim_due(ctx: Context, limit: int = CLAIM_BATCH) -> Claim:
    """Claim up to ``limit`` due messages (pending and due, or ``sending`` whose lease ran
    out) under a new claim token and a lease of ``[delivery] lease_seconds``."""
    now = ctx.now()
    claim = Claim(secrets.token_hex(16))
    with ctx.db.transaction() as session:
        query = (
            select(OutboxMessage.id)
            .where(
                or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim.ids = list(session.execute(query).scalars())
        if claim.ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(claim.ids))
                .values(
                    status="sending",
                    claim_token=claim.token,
                    next_attempt_at=now + _lease(ctx),
                )
            )
    return claim


def _lease(ctx: Context) -> timedelta:
    return timedelta(seconds=ctx.settings.delivery.lease_seconds)


def extend_lease(ctx: Context, token: str, message_id: int | None = None) -> int:
    """Push the lease of rows still held under ``token`` (one row, or all) to now + lease;
    return how many rows this worker still holds."""
    where = [OutboxMessage.claim_token == token, OutboxMessage.status == "sending"]
    if message_id is not None:
        where.append(OutboxMessage.id == message_id)
    with ctx.db.transaction() as session:
        result = session.execute(
            update(OutboxMessage).where(*where).values(next_attempt_at=ctx.now() + _lease(ctx))
        )
        return int(getattr(result, "rowcount", 0))


@contextmanager
def kept_alive(ctx: Context, token: str) -> Iterator[None]:
    """Extend the lease of ``token``'s rows every third of a lease while the block runs."""
    stop = threading.Event()
    interval = ctx.settings.delivery.lease_seconds / 3

    def beat() -> None:
        while not stop.wait(interval):
            try:
                extend_lease(ctx, token)
            except Exception:  # the database is away: the fenced writes will tell
                log.warning("could not extend the lease of claim %s", token, exc_info=True)

    thread = threading.Thread(target=beat, name="facturo-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _fenced_write(ctx: Context, message_id: int, token: str, values: dict[str, Any]) -> bool:
    """Write ``values`` where the row is still ``sending`` under ``token``; False when the
    claim was lost. Retried over a short database outage so a sent message is not resent."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with ctx.db.transaction() as session:
                result = session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == message_id,
                        OutboxMessage.claim_token == token,
                        OutboxMessage.status == "sending",
                    )
                    .values(claim_token=None, **values)
                )
                return bool(getattr(result, "rowcount", 0))
        except OperationalError:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.5 * 2**attempt)
    return False


def deliver_due(ctx: Context, limit: int = CLAIM_BATCH) -> DeliveryReport:
    """Claim due messages and send each once; schedule retries; return what happened."""
    report = DeliveryReport()
    claim = claim_due(ctx, limit)
    if not claim.ids:
        return report
    policy = retry_policy(ctx)
    with kept_alive(ctx, claim.token):
        for message_id in claim.ids:
            # Still ours? (renews this row's lease just before the send)
            if not extend_lease(ctx, claim.token, message_id):
                report.lost_claims += 1
                continue
            with ctx.db.read_session() as session:
                row = session.get(OutboxMessage, message_id)
                if row is None:
                    continue
                session.expunge(row)
            attempts = row.attempts + 1
            try:
                message = build_message(ctx, row, _attachments(ctx, row))
                ctx.hook.send_email(ctx=ctx, message=message)
            except Exception as exc:  # the server did not take it: retry later
                failed = policy.gives_up(attempts)
                values = {
                    "status": "failed" if failed else "pending",
                    "attempts": attempts,
                    "last_error": f"{type(exc).__name__}: {exc}"[:1000],
                    "next_attempt_at": ctx.now() + policy.delay(attempts),
                }
                log.warning(
                    "email %s not sent (attempt %s, %s): %s: %s",
                    message_id,
                    attempts,
                    "given up" if failed else "will retry",
                    type(exc).__name__,
                    exc,
                )
                if not _fenced_write(ctx, message_id, claim.token, values):
                    report.lost_claims += 1
                elif failed:
                    report.failed += 1
                else:
                    report.retried += 1
                continue
            values = {
                "status": "sent",
                "attempts": attempts,
                "sent_at": ctx.now(),
                "last_error": "",
            }
            if _fenced_write(ctx, message_id, claim.token, values):
                report.sent += 1
            else:
                report.lost_claims += 1
                log.warning("sent message %s after its claim was lost", message_id)
    return report


def retry_failed(ctx: Context, message_id: int) -> bool:
    """Put a failed message back in the queue (a staff action); True when it was failed."""
    with ctx.db.transaction() as session:
        return requeue_failed(session, ctx, message_id) == 1


def retry_all_failed(ctx: Context) -> int:
    """Put every failed message back in the queue (a staff action); return how many."""
    with ctx.db.transaction() as session:
        return requeue_failed(session, ctx)


def requeue_failed(session: Session, ctx: Context, message_id: int | None = None) -> int:
    """In ``session``: failed messages (one, or all) become due now with a fresh retry
    count; return how many."""
    where = [OutboxMessage.status == "failed"]
    if message_id is not None:
        where.append(OutboxMessage.id == message_id)
    result = session.execute(
        update(OutboxMessage)
        .where(*where)
        .values(status="pending", attempts=0, next_attempt_at=ctx.now(), claim_token=None)
    )
    return int(getattr(result, "rowcount", 0))
