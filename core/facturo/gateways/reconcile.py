"""The reconciliation job (a janitor): asks each gateway about what it never told us.

Every run, for every gateway from the ``payment_gateways`` hook:

1. notifications stored but not applied (``received`` or ``error``) for longer than
   ``[gateways] reconcile_after_seconds`` are verified and applied again;
2. payment attempts still pending after that delay (and started within
   ``reconcile_window_hours``) are queried with ``Gateway.query_payment``; a final answer is
   stored and applied through the same pipeline as a notification, with the same event key.

Recording is idempotent (unique constraints on the event key and on the payment's gateway
transaction id), so a late notification and a reconciliation never book the same payment twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select

from facturo.contributions import PeriodicJob
from facturo.gateways.pipeline import record_answer, reprocess_stored
from facturo.gateways.protocol import Gateway
from facturo.models import GatewayNotification

if TYPE_CHECKING:
    from facturo.context import Context

log = logging.getLogger(__name__)
#: Stored notifications looked at per gateway and run.
BATCH = 200

__all__ = ["ReconcileReport", "gateways_of", "reconcile", "reconcile_job"]


@dataclass
class ReconcileReport:
    """Counts of one run, for the job's log line."""

    reapplied: int = 0
    queried: int = 0
    recorded: int = 0
    failures: int = 0

    def __str__(self) -> str:
        return (
            f"reapplied {self.reapplied}, queried {self.queried}, "
            f"recorded {self.recorded}, failures {self.failures}"
        )


def gateways_of(ctx: Context) -> list[Gateway]:
    """Every gateway the enabled plugins provide."""
    found: list[Gateway] = []
    for contributed in ctx.hook.payment_gateways(ctx=ctx):
        found.extend(contributed or [])
    return found


def _stuck_notifications(
    ctx: Context, gateway: str, older_than: object, newer_than: object
) -> list[int]:
    with ctx.db.read_session() as session:
        return list(
            session.scalars(
                select(GatewayNotification.id)
                .where(
                    GatewayNotification.gateway == gateway,
                    GatewayNotification.status.in_(("received", "error")),
                    GatewayNotification.received_at <= older_than,
                    GatewayNotification.received_at >= newer_than,
                )
                .order_by(GatewayNotification.id)
                .limit(BATCH)
            )
        )


def reconcile_gateway(ctx: Context, gateway: Gateway, report: ReconcileReport) -> None:
    """Reapply ``gateway``'s stuck notifications, then query its pending attempts."""
    settings = ctx.settings.gateways
    now = ctx.now()
    before = now - timedelta(seconds=settings.reconcile_after_seconds)
    after = now - timedelta(hours=settings.reconcile_window_hours)
    verify = partial(gateway.verify_notification, ctx)
    apply = partial(gateway.apply_notification, ctx)
    for notification_id in _stuck_notifications(ctx, gateway.name, before, after):
        receipt = reprocess_stored(ctx, notification_id, verify=verify, apply=apply)
        if receipt.status in ("processed", "duplicate", "rejected"):
            report.reapplied += 1
        else:
            report.failures += 1
    for attempt in gateway.pending_attempts(ctx, before, after):
        report.queried += 1
        try:
            answer = gateway.query_payment(ctx, attempt)
            if answer is None:
                continue
            raw, verified = answer
            receipt = record_answer(ctx, gateway.name, raw, verified, apply=apply)
        except Exception:  # one gateway's failure must not stop the others
            log.exception("reconciling %s attempt %s failed", gateway.name, attempt.reference)
            report.failures += 1
            continue
        if receipt.status in ("processed", "duplicate"):
            report.recorded += 1
        else:
            report.failures += 1


def reconcile(ctx: Context) -> ReconcileReport:
    """One reconciliation run over every gateway (see the module docstring)."""
    report = ReconcileReport()
    for gateway in gateways_of(ctx):
        try:
            reconcile_gateway(ctx, gateway, report)
        except Exception:
            log.exception("reconciling gateway %s failed", gateway.name)
            report.failures += 1
    return report


def reconcile_job(ctx: Context) -> PeriodicJob:
    """The worker's periodic job that runs :func:`reconcile`."""
    return PeriodicJob(
        name="gateway_reconcile",
        interval_seconds=ctx.settings.gateways.reconcile_interval_seconds,
        run=lambda c: str(reconcile(c)),
    )
