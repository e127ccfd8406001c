"""Readiness: is this installation able to serve? (``/readyz``)

Three checks, each cheap enough to run on every probe: the database answers, its schema is
at the heads of the core's and every enabled plugin's migrations, and the worker's heartbeat
(written after every pass, see :mod:`facturo.delivery.worker`) is recent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from alembic.script import ScriptDirectory
from sqlalchemy import text

from facturo.db import migrations
from facturo.models import JobRun

if TYPE_CHECKING:
    from facturo.context import Context


@dataclass(frozen=True)
class Check:
    """One readiness check: ``ok`` and, when not, why."""

    ok: bool
    detail: str = ""


@dataclass
class Readiness:
    """Every check by name; ready when all are ok."""

    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "checks": {
                name: {"ok": check.ok, **({"detail": check.detail} if check.detail else {})}
                for name, check in self.checks.items()
            },
            "failed": [name for name, check in self.checks.items() if not check.ok],
        }


class ReadinessProbe:
    """Checks readiness for one Context; the migration scripts are read once."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @cached_property
    def scripts(self) -> ScriptDirectory:
        """The core's and every enabled plugin's migration scripts."""
        config = migrations.alembic_config(self.ctx.db.engine, self.ctx.migration_dirs())
        return ScriptDirectory.from_config(config)

    def check(self) -> Readiness:
        """Run every check (a database error fails the database check, not the probe)."""
        result = Readiness()
        try:
            with self.ctx.db.read_session() as session:
                session.execute(text("SELECT 1"))
                heads = set(session.scalars(text("SELECT version_num FROM alembic_version")))
                heartbeat = session.get(JobRun, "worker")
                beat = heartbeat.last_finished_at if heartbeat else None
        except Exception as exc:  # unreachable, or no schema at all
            detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            result.checks["database"] = Check(False, detail)
            result.checks["migrations"] = Check(False, "database unreachable")
            result.checks["worker"] = Check(False, "database unreachable")
            return result
        result.checks["database"] = Check(True)
        missing = migrations.missing_branches(self.scripts, heads)
        result.checks["migrations"] = (
            Check(True)
            if not missing
            else Check(False, f"not applied: {migrations.describe_pending(missing)}")
        )
        stale_after = self.ctx.settings.operations.worker_stale_seconds
        if beat is None:
            result.checks["worker"] = Check(False, "the worker has never run")
        else:
            age = (self.ctx.now() - beat).total_seconds()
            result.checks["worker"] = (
                Check(True)
                if age <= stale_after
                else Check(False, f"last heartbeat {int(age)} s ago (limit {stale_after} s)")
            )
        return result
