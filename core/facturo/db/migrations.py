"""Schema migrations: Alembic with the ``core`` branch and one labelled branch per plugin.

Plugins contribute their versions folders through the ``db_migrations()`` hook; their first
revision carries ``branch_labels=("<name>",)`` and ``depends_on`` a core revision, so that
upgrading to ``heads`` brings the core and every enabled plugin up to date in one run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

DB_DIR = Path(__file__).resolve().parent
CORE_VERSIONS = DB_DIR / "versions"


def alembic_config(engine: Engine, plugin_version_dirs: Iterable[str | Path] = ()) -> Config:
    """An Alembic Config over the core versions plus the given plugin version folders."""
    cfg = Config()
    cfg.set_main_option("script_location", str(DB_DIR))
    locations = [str(CORE_VERSIONS), *(str(Path(p)) for p in plugin_version_dirs)]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(
    engine: Engine, plugin_version_dirs: Iterable[str | Path] = (), target: str = "heads"
) -> None:
    """Upgrade the database to ``target`` (default: every head)."""
    cfg = alembic_config(engine, plugin_version_dirs)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, target)


def downgrade(
    engine: Engine, plugin_version_dirs: Iterable[str | Path] = (), target: str = "base"
) -> None:
    """Downgrade the database to ``target`` (default: empty)."""
    cfg = alembic_config(engine, plugin_version_dirs)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, target)


def current_heads(engine: Engine) -> set[str]:
    """The revisions the database is at."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending(engine: Engine, plugin_version_dirs: Iterable[str | Path] = ()) -> bool:
    """True when the database is behind the scripts' heads."""
    script = ScriptDirectory.from_config(alembic_config(engine, plugin_version_dirs))
    current = current_heads(engine)
    applied: set[str] = set()
    if current:
        for revision in script.revision_map.iterate_revisions(
            tuple(current), "base", select_for_downgrade=True
        ):
            applied.add(revision.revision)
    return not set(script.get_heads()) <= applied


def core_head() -> str:
    """The newest core revision (what a plugin's first migration may ``depends_on``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(DB_DIR))
    cfg.set_main_option("version_locations", str(CORE_VERSIONS))
    cfg.set_main_option("path_separator", "space")
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"the core has one head, found {heads}"
    return str(heads[0])
