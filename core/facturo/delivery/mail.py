"""Email delivery: claim due outbox messages, hand them to the ``send_email`` hook, retry.

Delivery claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the
queue), hands each message to the ``send_email`` hook outside any transaction, and on failure
schedules a retry with exponential backoff; after ``MAX_ATTEMPTS`` the message stays visible as
``failed``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from facturo.billing.pdf import document_pdf
from facturo.delivery.messages import build_message
from facturo.models import Document, OutboxMessage

if TYPE_CHECKING:
    from facturo.context import Context

MAX_ATTEMPTS = 8
BASE_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 6 * 3600
LEASE_SECONDS = 300


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


def claim_due(ctx: Context, limit: int = 50) -> list[int]:
    """Claim up to ``limit`` due messages for this worker (a lease of LEASE_SECONDS)."""
    now = ctx.now()
    with ctx.db.transaction() as session:
        query = (
            select(OutboxMessage.id)
            .where(
                or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(session.execute(query).scalars())
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status="sending", next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
            )
    return ids


def deliver_due(ctx: Context, limit: int = 50) -> DeliveryReport:
    """Send every due message once; schedule retries; return what happened."""
    report = DeliveryReport()
    for message_id in claim_due(ctx, limit):
        with ctx.db.read_session() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None:
                continue
            session.expunge(row)
        try:
            message = build_message(ctx, row, _attachments(ctx, row))
            ctx.hook.send_email(ctx=ctx, message=message)
        except Exception as exc:  # any transport error: keep the message and retry later
            attempts = row.attempts + 1
            failed = attempts >= MAX_ATTEMPTS
            delay = min(BASE_DELAY_SECONDS * 2 ** (attempts - 1), MAX_DELAY_SECONDS)
            with ctx.db.transaction() as session:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id)
                    .values(
                        status="failed" if failed else "pending",
                        attempts=attempts,
                        last_error=f"{type(exc).__name__}: {exc}"[:1000],
                        next_attempt_at=ctx.now() + timedelta(seconds=delay),
                    )
                )
            if failed:
                report.failed += 1
            else:
                report.retried += 1
            continue
        with ctx.db.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(status="sent", attempts=row.attempts + 1, sent_at=ctx.now(), last_error="")
            )
        report.sent += 1
    return report


def retry_failed(ctx: Context, message_id: int) -> bool:
    """Put a failed message back in the queue (a staff action); True when it was failed."""
    with ctx.db.transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=ctx.now())
        )
        return bool(getattr(result, "rowcount", 0))
