"""The terms and privacy pages (``[legal]``): a local Markdown or HTML file, an outside URL,
or the built-in summary when neither is configured."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.web.rendering import render
from facturo.web.sections import open_page

PAGES = {"terms": ("terms_url", "terms_file"), "privacy": ("privacy_url", "privacy_file")}


@lru_cache(maxsize=8)
def _html_of(path: str, modified: float) -> Markup:
    """The file as HTML: Markdown rendered (raw HTML in it escaped), HTML as the seller wrote
    it. Cached by modification time."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix.lower() in (".md", ".markdown"):
        return Markup(MarkdownIt("commonmark", {"html": False}).render(text))
    return Markup(text)


@open_page
def legal_page(request: Request) -> Response:
    """The terms or the privacy page."""
    page = request.url.path.rsplit("/", 1)[-1]
    ctx = request.app.state.ctx
    url_key, file_key = PAGES[page]
    legal = ctx.settings.legal
    url = str(getattr(legal, url_key))
    if url and url != f"/public/{page}":
        return RedirectResponse(url, status_code=302)
    path = str(getattr(legal, file_key))
    body = _html_of(path, Path(path).stat().st_mtime) if path and Path(path).is_file() else None
    return render(request, "legal.html", {"page": page, "body": body})


def routes() -> list[BaseRoute]:
    """Routes of the public section."""
    return [Route("/terms", legal_page), Route("/privacy", legal_page)]
