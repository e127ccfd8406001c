"""Build a running installation from settings: plugins, validated plugin settings, database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from facturo.config import Settings
from facturo.context import Context
from facturo.db import migrations
from facturo.db.engine import Database
from facturo.db.types import utcnow
from facturo.plugins import load_plugins


def create_context(
    settings: Settings,
    extra_plugins: Iterable[tuple[str, object]] = (),
    database: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Context:
    """Load the enabled plugins and return the Context; raises PluginError or ConfigError."""
    manager = load_plugins(settings.enabled_plugins, extra=extra_plugins)
    return Context(settings, manager, database=database, clock=clock)


def upgrade_database(ctx: Context) -> None:
    """Bring the core and every enabled plugin's schema to their heads."""
    migrations.upgrade(ctx.db.engine, ctx.migration_dirs())
