"""A confirmation step for destructive or irreversible actions, without JavaScript.

The pattern every such action follows: GET shows the confirmation page; a POST without
``confirm=yes`` shows it too and changes nothing; only a POST with ``confirm=yes`` (sent by
the page's button, with its CSRF token) carries the action out. The page states the
consequence: the amount, what stops working, what cannot be undone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from facturo.web.rendering import render

CONFIRM_FIELD = "confirm"


def is_confirmed(request: Request, form: Mapping[str, Any]) -> bool:
    """True only for a POST whose form says ``confirm=yes``."""
    return request.method == "POST" and str(form.get(CONFIRM_FIELD, "")) == "yes"


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says and sends.

    ``title`` and ``consequences`` are already translated; ``action`` is the URL the button
    posts to with ``fields`` (hidden) and ``confirm=yes``; ``back`` is where "No" leads."""

    title: str
    consequences: list[str]
    action: str
    button: str
    back: str
    fields: dict[str, str] = field(default_factory=dict)


def confirm_page(
    request: Request, section: str, confirmation: Confirmation, status_code: int = 200
) -> Response:
    """Render the confirmation page inside ``section``'s layout (``client`` or ``admin``)."""
    if section not in ("client", "admin"):
        raise ValueError(f"no confirmation layout for section {section!r}")
    return render(
        request,
        "confirm.html",
        {"layout": f"{section}/layout.html", "confirmation": confirmation},
        status_code,
    )
