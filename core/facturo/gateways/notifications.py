"""The raw log of gateway notifications: stored before anything else is done with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select

from facturo.db.util import insert_ignore
from facturo.models import GatewayNotification

if TYPE_CHECKING:
    from facturo.context import Context

SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization")


def log_notification(
    ctx: Context,
    gateway: str,
    body: str,
    headers: Mapping[str, str],
    remote_addr: str = "",
    event_key: str | None = None,
) -> tuple[int, bool]:
    """Store a notification raw in its own committed transaction; return (id, is_new).

    A repeat of the same ``event_key`` for the same gateway is not stored twice: the first
    row's id is returned with ``is_new`` False. Secret headers are never stored.
    """

    clean = {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}
    with ctx.db.transaction() as session:
        new_id = insert_ignore(
            session,
            GatewayNotification.__table__,
            {
                "gateway": gateway,
                "event_key": event_key,
                "received_at": ctx.now(),
                "remote_addr": remote_addr,
                "headers": clean,
                "body": body,
                "status": "received",
                "detail": "",
            },
            ("gateway", "event_key"),
        )
        if new_id is not None:
            return new_id, True
        existing = session.scalar(
            select(GatewayNotification.id).where(
                GatewayNotification.gateway == gateway, GatewayNotification.event_key == event_key
            )
        )
        assert existing is not None
        return existing, False


def mark_notification(
    ctx: Context, notification_id: int, status: str, detail: str = "", payment_id: int | None = None
) -> None:
    """Record the outcome: processed, rejected (forged or mismatched), duplicate or error."""
    with ctx.db.transaction() as session:
        row = session.get(GatewayNotification, notification_id)
        if row is None:
            return
        row.status = status
        row.detail = detail[:2000]
        row.processed_at = ctx.now()
        if payment_id is not None:
            row.payment_id = payment_id
