"""Retention of the validation log: rows older than ``validation_log_days`` are deleted by a
periodic job, a bounded batch at a time (each batch its own short transaction, so the licence
API's inserts never wait long), oldest first, on the index over ``at``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from facturo.plugin import Context

from .models import ValidationLog
from .settings import config

BATCH = 10_000


def retention_days(ctx: Context) -> int:
    """Days of validation log kept (0 = keep everything)."""
    return config(ctx).validation_log_days


def prune_validation_log(ctx: Context, max_batches: int = 100) -> int:
    """Delete validation-log rows older than the retention, at most ``max_batches`` batches of
    BATCH rows per call (the next run goes on); return how many rows went."""
    days = retention_days(ctx)
    if days <= 0:
        return 0
    cutoff = ctx.now() - timedelta(days=days)
    removed = 0
    for _ in range(max_batches):
        with ctx.db.transaction() as session:
            ids = list(
                session.scalars(
                    select(ValidationLog.id)
                    .where(ValidationLog.at < cutoff)
                    .order_by(ValidationLog.at)
                    .limit(BATCH)
                )
            )
            if not ids:
                break
            session.execute(delete(ValidationLog).where(ValidationLog.id.in_(ids)))
            removed += len(ids)
        if len(ids) < BATCH:
            break
    return removed
