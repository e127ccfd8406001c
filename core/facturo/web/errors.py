"""Error pages (HTML for people, JSON for the API)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
    _ = gettext_for(request)
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": _(TITLES.get(status, "Error")),
            "detail": _(detail) if detail else "",
        },
        status_code=status,
    )


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(
        request, exc.status_code, exc.detail if exc.detail not in TITLES.values() else ""
    )


async def server_error(request: Request, exc: Exception) -> Response:
    return error_page(request, 500)
