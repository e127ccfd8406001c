"""Build a running installation from settings: plugins, validated plugin settings, database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from facturo.config import Settings
from facturo.context import Context
from facturo.db import migrations
from facturo.db.engine import Database
from facturo.db.types import utcnow
from facturo.plugin_checks import check_plugins
from facturo.plugins import load_plugins


def create_context(
    settings: Settings,
    extra_plugins: Iterable[tuple[str, object]] = (),
    database: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Context:
    """Load the enabled plugins and return the Context; raises PluginError or ConfigError.

    Plugin mistakes that would pass silently (a hook function without ``@hookimpl``, a
    template hidden by the core's) are reported as ``PluginWarning``; with
    ``[plugins] strict = true`` they raise PluginError."""
    manager = load_plugins(settings.enabled_plugins, extra=extra_plugins)
    ctx = Context(settings, manager, database=database, clock=clock)
    check_plugins(ctx)
    return ctx


def upgrade_database(ctx: Context) -> None:
    """Bring the core and every enabled plugin's schema to their heads."""
    migrations.upgrade(ctx.db.engine, ctx.migration_dirs())


def require_current_schema(ctx: Context) -> None:
    """Refuse to run (``facturo serve``, ``facturo worker``) while the core's or an enabled
    plugin's migrations are pending: raise MigrationError naming each branch."""
    missing = migrations.pending_branches(ctx.db.engine, ctx.migration_dirs())
    if missing:
        raise migrations.MigrationError(
            f"migrations pending: {migrations.describe_pending(missing)}; "
            "run `facturo db upgrade` first"
        )
