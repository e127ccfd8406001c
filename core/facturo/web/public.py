"""The public section's core routes."""

from __future__ import annotations

from starlette.routing import BaseRoute

from facturo.web import legal


def routes() -> list[BaseRoute]:
    """The core's routes of the public section: the terms and privacy pages."""
    return legal.routes()
