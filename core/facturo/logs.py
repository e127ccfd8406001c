"""Logging, configured once per process by the long-running commands (``[logging]``).

Every module logs through ``logging.getLogger(__name__)``; :func:`configure_logging` sets the
root handler: plain lines, or one JSON object per line (``format = "json"``) for collectors.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from facturo.config import Settings

HANDLER_NAME = "facturo"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    traceback as ``exc`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> logging.Handler:
    """Install the one root handler described by ``settings.logging`` (replacing a handler
    an earlier call installed, so calling it twice is harmless); return it."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(HANDLER_NAME)
    if settings.logging.format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(settings.logging.level)
    if settings.logging.level != "DEBUG":  # Alembic narrates every schema check at INFO
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler
