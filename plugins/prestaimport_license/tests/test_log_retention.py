"""The validation log keeps ``validation_log_days`` days: older rows are deleted in batches by
a periodic job; 0 keeps everything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from facturo.plugin import Context
from facturo.testing import Clock
from facturo_prestaimport_license import log_retention
from facturo_prestaimport_license.log_retention import prune_validation_log
from facturo_prestaimport_license.models import ValidationLog
from facturo_prestaimport_license.testing import T0


def _log(ctx: Context, ages_in_days: list[float]) -> None:
    with ctx.db.transaction() as session:
        for n, age in enumerate(ages_in_days):
            session.add(
                ValidationLog(
                    at=T0 - timedelta(days=age),
                    licence_id=1,
                    key_hint=f"{n:04d}",
                    shop_host="shop.example",
                    install_id="i",
                    code="OK",
                    ip="127.0.0.1",
                )
            )


def _kept(ctx: Context) -> list[str]:
    with ctx.db.read_session() as session:
        return sorted(session.scalars(select(ValidationLog.key_hint)))


def test_rows_older_than_the_retention_go_in_batches(
    make_context: Callable[..., Context], clock: Clock, monkeypatch
) -> None:
    clock.set(T0)
    ctx = make_context(
        plugins=("prestaimport_license",),
        overrides={"plugin.prestaimport_license.validation_log_days": 30},
    )
    _log(ctx, [1, 29.9, 30.1, 31, 200, 400])
    monkeypatch.setattr(log_retention, "BATCH", 2)  # three batches for four old rows
    assert prune_validation_log(ctx) == 4
    assert _kept(ctx) == ["0000", "0001"]
    assert prune_validation_log(ctx) == 0


def test_zero_days_keeps_everything(make_context: Callable[..., Context], clock: Clock) -> None:
    clock.set(T0)
    ctx = make_context(
        plugins=("prestaimport_license",),
        overrides={"plugin.prestaimport_license.validation_log_days": 0},
    )
    _log(ctx, [1, 1000])
    assert prune_validation_log(ctx) == 0
    assert len(_kept(ctx)) == 2


def test_the_job_is_scheduled(make_context: Callable[..., Context]) -> None:
    ctx = make_context(plugins=("prestaimport_license",))
    names = [job.name for jobs in ctx.hook.periodic_jobs(ctx=ctx) for job in jobs or []]
    assert "licence_log_retention" in names
