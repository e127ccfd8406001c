"""Error pages (HTML for people, JSON for the API), and the one handler that turns every
:class:`~facturo.errors.FacturoError` a handler lets through into its section's answer:
``/api`` answers ``{"errors": [{"code", "detail", "field"}]}`` with the error's 4xx status,
``/admin`` and ``/client`` an error page in that section's layout and the reader's language.
Handlers that can re-render their form with the message next to the field catch the error
themselves; this is the fallback, so a refused operation is never a 500."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from facturo.errors import FacturoError
from facturo.web.rendering import gettext_for, render

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    411: "Length required",
    413: "Too large",
    429: "Too many requests",
    409: "Conflict",
    422: "Unprocessable",
    500: "Something went wrong",
}
LAYOUTS = {"admin": "admin/layout.html", "client": "client/layout.html"}


def section_of(request: Request) -> str:
    """``api``, ``admin``, ``client``, ``public`` or ``""`` (the site root), from the path."""
    first = request.url.path.strip("/").split("/", 1)[0]
    return first if first in ("api", "admin", "client", "public") else ""


def error_page(
    request: Request, status: int, detail: str = "", code: str = "", field: str | None = None
) -> Response:
    """An error page in the request's language and its section's layout (JSON under /api)."""
    if section_of(request) == "api":
        return JSONResponse(
            {
                "errors": [
                    {
                        "code": code or str(status),
                        "detail": detail or TITLES.get(status, "error"),
                        "field": field,
                    }
                ]
            },
            status_code=status,
        )
    _ = gettext_for(request)
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": _(TITLES.get(status, "Error")),
            "detail": _(detail) if detail else "",
            "layout": LAYOUTS.get(section_of(request), "layout.html"),
        },
        status_code=status,
    )


async def facturo_error(request: Request, exc: Exception) -> Response:
    """The section's answer to a FacturoError no handler caught (see the module doc)."""
    assert isinstance(exc, FacturoError)
    status = exc.status if 400 <= exc.status < 500 else 400
    log.info("%s %s refused (%s): %s", request.method, request.url.path, exc.code, exc.detail)
    return error_page(request, status, exc.detail, exc.code, exc.field)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(
        request, exc.status_code, exc.detail if exc.detail not in TITLES.values() else ""
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)
