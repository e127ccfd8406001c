"""Schema migrations: Alembic with the ``core`` branch and one labelled branch per plugin.

Plugins contribute their versions folders through the ``db_migrations()`` hook; their first
revision carries ``branch_labels=("<name>",)`` and ``depends_on`` a core revision, so that
upgrading to ``heads`` brings the core and every enabled plugin up to date in one run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

DB_DIR = Path(__file__).resolve().parent
CORE_VERSIONS = DB_DIR / "versions"
#: The newest core revision: what a plugin's first migration should ``depends_on`` (exported
#: by :mod:`facturo.plugin`; a test keeps it equal to :func:`core_head`).
CORE_HEAD = "0015_statement_line_insert_guard"


class MigrationError(Exception):
    """The migration scripts do not fit together; the message names the script at fault."""


def check_scripts(version_locations: Iterable[str | Path]) -> None:
    """Check that every ``down_revision`` and ``depends_on`` of the scripts in
    ``version_locations`` names a revision (or branch label) that exists; raise
    MigrationError naming the script and the core revisions otherwise. Scripts are read
    without being imported."""
    scripts: list[tuple[str, dict[str, Any]]] = []
    for location in version_locations:
        for path in sorted(Path(location).glob("*.py")):
            values = _script_values(path)
            if isinstance(values.get("revision"), str):
                scripts.append((path.name, values))
    known = {str(values["revision"]) for _name, values in scripts}
    known |= {label for _name, values in scripts for label in _names(values.get("branch_labels"))}
    for filename, values in scripts:
        for key in ("down_revision", "depends_on"):
            for reference in _names(values.get(key)):
                if reference not in known:
                    raise MigrationError(
                        f"migration {filename}: {key} {reference!r} is not a known revision; "
                        f"core revisions: {', '.join(core_revisions())} "
                        "(a plugin's first migration uses CORE_HEAD from facturo.plugin)"
                    )


def core_revisions() -> list[str]:
    """The core's revision ids, oldest first."""
    found = [_script_values(path).get("revision") for path in sorted(CORE_VERSIONS.glob("*.py"))]
    return [str(revision) for revision in found if isinstance(revision, str)]


def _script_values(path: Path) -> dict[str, Any]:
    """The literal module-level assignments of one script (``CORE_HEAD`` counts as its value)."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        if isinstance(value, ast.Name) and value.id == "CORE_HEAD":
            values[target.id] = CORE_HEAD
            continue
        try:
            values[target.id] = ast.literal_eval(value)
        except ValueError:
            values[target.id] = None
    return values


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list):
        return tuple(str(item) for item in value)
    return ()


def alembic_config(engine: Engine, plugin_version_dirs: Iterable[str | Path] = ()) -> Config:
    """An Alembic Config over the core versions plus the given plugin version folders."""
    cfg = Config()
    cfg.set_main_option("script_location", str(DB_DIR))
    locations = [str(CORE_VERSIONS), *(str(Path(p)) for p in plugin_version_dirs)]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    check_scripts(locations)
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
    return bool(pending_branches(engine, plugin_version_dirs))


def pending_branches(
    engine: Engine, plugin_version_dirs: Iterable[str | Path] = ()
) -> dict[str, str]:
    """Branch (``core`` or a plugin's name) → its head revision, for every branch the
    database has not reached; empty when the schema is current."""
    script = ScriptDirectory.from_config(alembic_config(engine, plugin_version_dirs))
    return missing_branches(script, current_heads(engine))


def missing_branches(script: ScriptDirectory, current: Iterable[str]) -> dict[str, str]:
    """The heads of ``script`` that ``current`` (the database's heads) does not include, by
    branch name."""
    applied: set[str] = set()
    current = tuple(head for head in current if head in _known(script))
    if current:
        for revision in script.revision_map.iterate_revisions(
            current, "base", select_for_downgrade=True
        ):
            applied.add(revision.revision)
    missing: dict[str, str] = {}
    for head in script.get_heads():
        if head not in applied:
            labels = sorted(script.get_revision(head).branch_labels)
            missing[labels[0] if labels else head] = head
    return dict(sorted(missing.items()))


def _known(script: ScriptDirectory) -> set[str]:
    return {revision.revision for revision in script.walk_revisions()}


def describe_pending(missing: dict[str, str]) -> str:
    """``paypal (paypal_0001), core (0006_…)``: what is not applied, for people."""
    return ", ".join(f"{branch} ({head})" for branch, head in missing.items())


def core_head() -> str:
    """The newest core revision (what a plugin's first migration may ``depends_on``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(DB_DIR))
    cfg.set_main_option("version_locations", str(CORE_VERSIONS))
    cfg.set_main_option("path_separator", "space")
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"the core has one head, found {heads}"
    return str(heads[0])
