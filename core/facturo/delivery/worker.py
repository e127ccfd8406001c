"""The background worker: delivers the outbox and runs the periodic jobs.

``run_once`` does one pass; ``run_forever`` loops until stopped. Jobs record their last run in
``job_runs`` (shown on the staff dashboard); the worker writes a heartbeat there too.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from facturo.billing.billing_run import scheduled_billing_run
from facturo.billing.collection import renewal_collection_job
from facturo.contributions import PeriodicJob
from facturo.delivery.events import deliver_events
from facturo.delivery.jobs import is_due, mark
from facturo.delivery.mail import deliver_due
from facturo.gateways.reconcile import reconcile_job

if TYPE_CHECKING:
    from facturo.context import Context

log = logging.getLogger(__name__)


def core_jobs(ctx: Context | None = None) -> list[PeriodicJob]:
    """The core's periodic jobs: the daily billing run, the retries of declined renewal
    charges (hourly; each attempt is due on a date, so a day's retries run once) and gateway
    reconciliation."""
    jobs = [
        PeriodicJob(name="billing_run", interval_seconds=3600, run=scheduled_billing_run),
        PeriodicJob(name="renewal_collection", interval_seconds=3600, run=renewal_collection_job),
    ]
    if ctx is not None:
        jobs.append(reconcile_job(ctx))
    return jobs


def all_jobs(ctx: Context) -> list[PeriodicJob]:
    """Core jobs plus every plugin's ``periodic_jobs()``."""
    jobs = core_jobs(ctx)
    for contributed in ctx.hook.periodic_jobs(ctx=ctx):
        jobs.extend(contributed)
    return jobs


@dataclass
class PassReport:
    emails_sent: int = 0
    events_done: int = 0
    jobs_run: list[str] = field(default_factory=list)


def run_once(ctx: Context, jobs: bool = True) -> PassReport:
    """One pass: deliver due events and emails, run due periodic jobs, write the heartbeat."""
    report = PassReport()
    report.events_done = deliver_events(ctx).done
    if jobs:
        for job in all_jobs(ctx):
            if not is_due(ctx, job):
                continue
            started = ctx.now()
            try:
                result = job.run(ctx)
                mark(ctx, job.name, "ok", str(result or ""), started=started)
            except Exception as exc:  # a failing job must not stop the others
                log.exception("job %s failed", job.name)
                mark(ctx, job.name, "error", f"{type(exc).__name__}: {exc}", started=started)
            report.jobs_run.append(job.name)
        report.events_done += deliver_events(ctx).done
    report.emails_sent = deliver_due(ctx).sent
    mark(ctx, "worker", "ok")
    return report


def run_forever(ctx: Context, interval: float = 5.0, stop: threading.Event | None = None) -> None:
    """Loop ``run_once`` every ``interval`` seconds until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            run_once(ctx)
        except Exception:  # keep the worker alive; the error is logged and retried next pass
            log.exception("worker pass failed")
        stop.wait(interval)
