"""A consistent copy of a live SQLite database (``facturo db backup PATH``).

SQLite's online backup API copies the database page by page while other connections keep
reading and writing; the copy is a snapshot of one moment. It is written next to the target
and renamed into place only after ``PRAGMA integrity_check`` passed, so a failed backup never
leaves a half-written file where the last good one was. PostgreSQL is backed up with its own
tools (``pg_dump``/``pg_restore``, see the README's Operations section).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

PAGES_PER_STEP = 1024  # other writers get the database between steps


class BackupError(Exception):
    """The backup cannot be made (not SQLite, target exists, copy damaged)."""


def sqlite_path(database_url: str) -> Path:
    """The file of a ``sqlite:///`` URL; BackupError for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "db backup copies SQLite databases; back PostgreSQL up with pg_dump (see README)"
        )
    return Path(url.database)


def backup_sqlite(database_url: str, target: Path, overwrite: bool = False) -> int:
    """Copy the live SQLite database of ``database_url`` to ``target``; return its size."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists (use --force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as src:
            with closing(sqlite3.connect(partial)) as dest:
                src.backup(dest, pages=PAGES_PER_STEP)
                dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                verdict = dest.execute("PRAGMA integrity_check").fetchone()
        if not verdict or verdict[0] != "ok":
            raise BackupError(f"the copy failed its integrity check: {verdict}")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size
