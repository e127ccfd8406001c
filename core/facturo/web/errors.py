"""Error pages (HTML for people, JSON for the API)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from facturo.web import login_sessions
from facturo.web.rendering import gettext_for, render

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    411: "Length required",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
}


def error_page(request: Request, status: int, detail: str = "") -> Response:
    """An error page in the request's language (JSON under /api)."""
    if request.url.path.startswith("/api"):
        return JSONResponse(
            {
                "errors": [
                    {
                        "code": str(status),
                        "detail": detail or TITLES.get(status, "error"),
                        "field": None,
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


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(
        request, exc.status_code, exc.detail if exc.detail not in TITLES.values() else ""
    )


async def server_error(request: Request, exc: Exception) -> Response:
    return error_page(request, 500)
