"""The periodic job closing answered tickets the customer did not answer, after a warning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from facturo.plugin import Context

from .models import Ticket
from .notify import notify_close_warning
from .settings import config


@dataclass(frozen=True)
class AutoCloseReport:
    warned: int
    closed: int


def run_autoclose(ctx: Context) -> AutoCloseReport:
    """Warn the customer of every ticket answered ``auto_close_days - auto_close_warning_days``
    days ago, and close those answered ``auto_close_days`` ago whose warning went out at least
    ``auto_close_warning_days`` ago. A customer reply resets both (the ticket leaves
    "answered"). ``auto_close_days`` 0 disables the job."""
    cfg = config(ctx)
    if cfg.auto_close_days <= 0:
        return AutoCloseReport(0, 0)
    warn_days = min(cfg.auto_close_warning_days, cfg.auto_close_days)
    now = ctx.now()
    warn_before = now - timedelta(days=cfg.auto_close_days - warn_days)
    close_before = now - timedelta(days=cfg.auto_close_days)
    warned = closed = 0
    with ctx.db.transaction() as session:
        answered = session.scalars(
            select(Ticket)
            .where(Ticket.status == "answered", Ticket.answered_at <= warn_before)
            .order_by(Ticket.id)
            .limit(500)
        )
        for ticket in answered:
            if ticket.close_warning_at is None:
                if warn_days > 0:
                    notify_close_warning(session, ctx, ticket, warn_days)
                    ticket.close_warning_at = now
                    warned += 1
                    continue
                ticket.close_warning_at = now
            waited = now - ticket.close_warning_at >= timedelta(days=warn_days)
            assert ticket.answered_at is not None
            if waited and ticket.answered_at <= close_before:
                ticket.status = "closed"
                ticket.closed_at = now
                ticket.updated_at = now
                closed += 1
    return AutoCloseReport(warned, closed)
