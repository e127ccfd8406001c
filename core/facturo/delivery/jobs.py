"""Job bookkeeping: when each periodic job last ran and how, and the worker's heartbeat,
in ``job_runs`` (shown on the staff dashboard)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from facturo.contributions import PeriodicJob
from facturo.db.util import insert_ignore
from facturo.models import JobRun

if TYPE_CHECKING:
    from facturo.context import Context


def mark(
    ctx: Context, name: str, status: str, detail: str = "", started: datetime | None = None
) -> None:
    """Record a job's run (or the worker heartbeat) in ``job_runs``."""
    with ctx.db.transaction() as session:
        insert_ignore(
            session, JobRun.__table__, {"name": name, "last_status": "", "detail": ""}, ("name",)
        )
        row = session.get(JobRun, name)
        assert row is not None
        if started is not None:
            row.last_started_at = started
        row.last_finished_at = ctx.now()
        row.last_status = status
        row.detail = detail[:2000]


def is_due(ctx: Context, job: PeriodicJob) -> bool:
    """True when ``job`` has never run or its interval has passed since it last started."""
    with ctx.db.read_session() as session:
        row = session.scalar(select(JobRun).where(JobRun.name == job.name))
    if row is None or row.last_started_at is None:
        return True
    return ctx.now() - row.last_started_at >= timedelta(seconds=job.interval_seconds)


def last_detail(ctx: Context, name: str) -> str | None:
    """The detail recorded by the last ``mark`` of ``name``, or None when never marked."""
    with ctx.db.read_session() as session:
        row = session.get(JobRun, name)
        return None if row is None else row.detail
