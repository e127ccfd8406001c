"""Render pages: the Jinja2 environment with the request's language, CSRF token and menus."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from facturo.billing.consent import consent_text
from facturo.i18n import LANGUAGES, negotiate
from facturo.web.admin_nav import staff_navigation
from facturo.web.security import csrf_token


def request_language(request: Request) -> str:
    """es or en: the session's choice, else the customer's setting, else Accept-Language."""
    chosen = request.session.get("lang") if "session" in request.scope else None
    if chosen in LANGUAGES:
        return str(chosen)
    customer = getattr(request.state, "customer", None)
    if customer is not None and customer.language in LANGUAGES:
        return str(customer.language)
    return negotiate(request.headers.get("accept-language"))


def gettext_for(request: Request) -> Any:
    """The gettext function for the request's language."""
    return request.app.state.ctx.translations(request_language(request)).gettext


def flash(request: Request, message: str, kind: str = "info") -> None:
    """Queue a message for the next page the session sees."""
    request.session.setdefault("flash", []).append({"kind": kind, "message": message})


def impersonated(request: Request) -> bool:
    """True on a customer page that staff opened by signing in as the customer."""
    row = getattr(getattr(request.state, "login", None), "row", None)
    customer = getattr(request.state, "customer", None)
    return customer is not None and getattr(row, "impersonator_id", None) is not None


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with the request's language, CSRF token, user, menus and flashes."""
    ctx = request.app.state.ctx
    lang = request_language(request)
    translations = ctx.translations(lang)
    customer = getattr(request.state, "customer", None)
    staff = getattr(request.state, "staff", None)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "_": translations.gettext,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "csrf_token": csrf_token(request.session) if "session" in request.scope else "",
        "customer": customer,
        "staff": staff,
        "settings": ctx.settings,
        "flashes": request.session.pop("flash", []) if "session" in request.scope else [],
        "client_menu": _menu(ctx, "client", customer) if customer is not None else [],
        "admin_menu": _menu(ctx, "admin", staff) if staff is not None else [],
        "footer_links": _footer(ctx, request.url.path, staff),
        "legal_terms": ctx.settings.legal.terms_url or "/public/terms",
        "legal_privacy": ctx.settings.legal.privacy_url or "/public/privacy",
        "consent_text": consent_text(lang),
        "impersonated": impersonated(request),
    }
    if staff is not None:
        values["admin_nav"] = staff_navigation(
            staff.role, values["admin_menu"], lang, translations.gettext, request.url.path
        )
    values.update(context or {})
    html = ctx.templates.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)


def client_chrome(request: Request, language: str) -> tuple[tuple[str, str], ...]:
    """What the client layout shows around a page beyond the page's own data: the menu and
    footer links the plugins contribute, as (url, text) in ``language``, and the path the
    language switch returns to (a page cached per customer is keyed by it)."""
    ctx = request.app.state.ctx
    customer = getattr(request.state, "customer", None)
    menu = _menu(ctx, "client", customer) if customer is not None else []
    footer = _footer(ctx, request.url.path, None)
    return (
        ("path", request.url.path),
        *((item.url, item.text(language)) for item in menu),
        ("footer", ""),
        *((item.url, item.text(language)) for item in footer),
    )


def _menu(ctx: Any, section: str, user: Any) -> list[Any]:
    items: list[Any] = []
    if section == "client":
        for contributed in ctx.hook.client_menu_items(ctx=ctx, customer=user):
            items.extend(contributed)
    else:
        for contributed in ctx.hook.admin_menu_items(ctx=ctx, staff=user):
            items.extend(item for item in contributed if not item.roles or user.role in item.roles)
    return sorted(items, key=lambda item: item.order)


def _footer(ctx: Any, path: str, staff: Any) -> list[Any]:
    section = "admin" if path.startswith("/admin") else "client"
    if section == "admin" and staff is None:
        return []
    items: list[Any] = []
    for contributed in ctx.hook.footer_links(ctx=ctx, section=section):
        items.extend(
            item
            for item in contributed
            if not item.roles or (staff is not None and staff.role in (*item.roles, "admin"))
        )
    return sorted(items, key=lambda item: item.order)
