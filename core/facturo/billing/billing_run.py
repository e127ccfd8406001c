"""The daily billing run: renewal proformas, reminders, suspensions and terminations."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from facturo.billing.collection import collect_renewals
from facturo.billing.dunning import send_reminders, suspend_overdue, terminate_overdue
from facturo.billing.renewals import create_renewals
from facturo.billing.run_report import Progress, RunReport
from facturo.delivery.jobs import last_detail, mark

if TYPE_CHECKING:
    from facturo.context import Context

RUN_DAY_MARK = "billing_run_day"


def billing_run(
    ctx: Context, on: date | None = None, dry_run: bool = False, progress: Progress | None = None
) -> RunReport:
    """Run every step of the billing run for business date ``on`` (default: today)."""
    day = on or ctx.today()
    report = RunReport(on=day, dry_run=dry_run)
    create_renewals(ctx, day, report, progress)
    if not dry_run:
        report.collection = collect_renewals(ctx, day)
    send_reminders(ctx, day, report)
    suspend_overdue(ctx, day, report)
    terminate_overdue(ctx, day, report)
    return report


def scheduled_billing_run(ctx: Context) -> str:
    """The worker's entry: run once a day, at or after ``billing.run_hour`` local time."""
    local_now = ctx.now().astimezone(ctx.settings.zone)
    if local_now.hour < ctx.settings.billing.run_hour:
        return "not yet time"
    today = local_now.date().isoformat()
    if last_detail(ctx, RUN_DAY_MARK) == today:
        return "already ran today"
    report = billing_run(ctx, local_now.date())
    mark(ctx, RUN_DAY_MARK, "ok", today)
    return report.summary()
