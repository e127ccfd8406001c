"""Enqueue after-commit work: hook events and emails. Both commit with the change that causes
them and are made idempotent by a dedupe key with a unique index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from facturo.db.util import insert_ignore
from facturo.delivery.messages import new_message_id, render_email
from facturo.models import OutboxEvent, OutboxMessage

if TYPE_CHECKING:
    from facturo.context import Context


def enqueue_event(
    session: Session, ctx: Context, name: str, payload: Mapping[str, Any], dedupe_key: str
) -> bool:
    """Queue the after-commit event ``name``; False when ``dedupe_key`` was already queued."""
    row_id = insert_ignore(
        session,
        OutboxEvent.__table__,
        {
            "dedupe_key": dedupe_key,
            "name": name,
            "payload": dict(payload),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": ctx.now(),
            "last_error": "",
            "created_at": ctx.now(),
        },
        ("dedupe_key",),
    )
    return row_id is not None


def enqueue_email(
    session: Session,
    ctx: Context,
    template: str,
    to: str,
    language: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    customer_id: int | None = None,
    attachments: Sequence[Mapping[str, Any]] = (),
    reply_to: str = "",
    headers: Mapping[str, str] | None = None,
) -> bool:
    """Render email ``template`` in ``language`` now and queue it; False when already queued.

    The Message-ID (``headers["Message-ID"]`` or a new one) is fixed now, with the row.
    Attachments are ``{"document_id": n}`` (the document's PDF, rendered when sent) or
    ``{"filename", "content_type", "data_b64"}``.
    """

    subject, text, html = render_email(ctx, template, language, context)
    row_id = insert_ignore(
        session,
        OutboxMessage.__table__,
        {
            "dedupe_key": dedupe_key,
            "customer_id": customer_id,
            "template": template,
            "to_address": to,
            "reply_to": reply_to,
            "subject": subject,
            "text_body": text,
            "html_body": html,
            "headers": dict(headers or {}),
            "message_id": (headers or {}).get("Message-ID") or new_message_id(ctx),
            "attachments": [dict(a) for a in attachments],
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": ctx.now(),
            "last_error": "",
            "created_at": ctx.now(),
        },
        ("dedupe_key",),
    )
    return row_id is not None
