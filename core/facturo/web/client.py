"""The client section's core routes."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The core's routes of the client section."""
    return []
