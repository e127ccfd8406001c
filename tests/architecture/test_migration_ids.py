"""Migration revision ids fit Alembic's version table on PostgreSQL (VARCHAR(32)); a longer id
migrates on SQLite and then breaks every PostgreSQL installation at upgrade time."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REVISION = re.compile(r'^revision = "([^"]+)"', re.MULTILINE)
FOLDERS = [
    REPO / "core" / "facturo" / "db" / "versions",
    *REPO.glob("plugins/*/facturo_*/migrations"),
    *REPO.glob("examples/*/facturo_*/migrations"),
]


def test_every_revision_id_fits_alembics_version_column() -> None:
    found = {
        path.relative_to(REPO).as_posix(): match.group(1)
        for folder in FOLDERS
        for path in sorted(folder.glob("*.py"))
        if (match := REVISION.search(path.read_text(encoding="utf-8")))
    }
    assert len(found) > 10  # the walk found the migrations
    too_long = {path: rev for path, rev in found.items() if len(rev) > 32}
    assert not too_long, f"revision ids over 32 characters: {too_long}"
