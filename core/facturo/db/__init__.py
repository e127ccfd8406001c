"""Database: engine and sessions, the shared MetaData, column types and migrations."""

from __future__ import annotations

from facturo.db.base import Base, metadata
from facturo.db.engine import Database

__all__ = ["Base", "Database", "metadata"]
