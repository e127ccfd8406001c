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
from facturo.web import login_sessions
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
    template, home = section_of_page(request)
    _ = gettext_for(request)
    return render(
        request,
        template,
        {
            "status": status,
            "title": _(TITLES.get(status, "Error")),
            "detail": _(detail) if detail else "",
            "home": home,
        },
        status_code=status,
    )


def section_of_page(request: Request) -> tuple[str, str]:
    """The error template and start page of the section ``request`` is in: the staff layout
    under /admin, the client layout under /client, the plain public one elsewhere. The logged-in
    user of that section is loaded when no guard did (an unknown address), so the page shows
    the section's menu in the user's language; a failing lookup (the database being the very
    error) leaves the page without a menu."""
    path = request.url.path
    for prefix, kind, template in (
        ("/admin", "staff", "admin/error.html"),
        ("/client", "customer", "client/error.html"),
    ):
        if path == prefix or path.startswith(prefix + "/"):
            if getattr(request.state, kind, None) is None and "session" in request.scope:
                try:
                    login = login_sessions.current(request, kind)
                except Exception:  # the error page must render whatever went wrong
                    login = None
                if login is not None:
                    setattr(request.state, kind, login.owner)
            return template, prefix + "/"
    return "error.html", "/"


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
