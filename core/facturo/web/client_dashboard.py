"""The client dashboard: services, unpaid documents first, plugin panels.

The page is kept rendered per customer, language and impersonation (see
:mod:`facturo.web.page_cache`) under its key: the rows the core's overview is made from
(:func:`facturo.billing.overview.read_overview_rows`, two Core queries), every panel plugin's
``client_dashboard_panel_key`` and the layout's menu and footer links. Each request reads the
key on the event loop (:class:`~facturo.db.reader.PinnedReader`, latest committed data; the
session's and the key's reads go in one round trip once this session has asked for the page,
see :mod:`facturo.web.request_reads`); an equal key answers the stored page with this
session's CSRF token, without leaving the loop.
Otherwise the page is rendered in the threadpool from one snapshot, which the key is read
from again and the page stored under: a page is only ever stored under the key of the data
it shows. A request with one-shot messages, or with a panel plugin that gives no key, is
rendered afresh and not stored.

Nothing on the page depends on the date or time except what the panels' keys hold (the
licence plugin's add-on statuses): anything time-dependent added to the core's part of the
page (a "due in N days") must be worked out into the overview, or the page would go stale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from facturo.billing.overview import (
    Overview,
    OverviewRows,
    ordered_services,
    overview_from,
    read_overview_rows,
)
from facturo.context import Context
from facturo.db.reader import RowReader, SessionReader
from facturo.models import Customer, Service
from facturo.web.client_common import ctx_of, me
from facturo.web.page_cache import PLACEHOLDER, PageCache, fill
from facturo.web.rendering import client_chrome, impersonated, render, request_language
from facturo.web.request_reads import reader_of, remember
from facturo.web.security import csrf_token


def customer_services(session: Session, customer_id: int) -> list[Service]:
    """The customer's services with their product loaded, main services before add-ons."""
    query = (
        select(Service)
        .where(Service.customer_id == customer_id)
        .options(selectinload(Service.product))
        .order_by(Service.id)
    )
    return ordered_services(session.scalars(query))


def pages_of(request: Request) -> PageCache:
    """The dashboards this app has rendered in this process (one per customer, language and
    impersonation), made on first use."""
    state = request.app.state
    pages = getattr(state, "dashboard_pages", None)
    if pages is None:
        pages = state.dashboard_pages = PageCache("client_dashboard")
    return pages


def panel_keys(
    ctx: Context, reader: RowReader, customer_id: int, language: str
) -> tuple[Any, ...] | None:
    """The key of every plugin's dashboard panels, by plugin; None when a plugin that
    contributes panels gives no key (its panels, hence the page, cannot be cached)."""
    hooks = ctx.plugins.hook
    keyed = {impl.plugin_name: impl for impl in hooks.client_dashboard_panel_key.get_hookimpls()}
    arguments = {"ctx": ctx, "reader": reader, "customer_id": customer_id, "language": language}
    keys = []
    for panels in hooks.client_dashboard_panels.get_hookimpls():
        impl = keyed.get(panels.plugin_name)
        if impl is None:
            return None
        value = impl.function(*[arguments[name] for name in impl.argnames])
        if value is None:
            return None
        keys.append((panels.plugin_name, value))
    return tuple(keys)


def page_key(
    request: Request, reader: RowReader, customer_id: int, language: str
) -> tuple[OverviewRows, tuple[Any, ...], tuple[Any, ...]] | None:
    """What the page shows, read through ``reader``: the rows of the overview, the panels'
    keys and the layout's links; None when the page cannot be cached (or the customer is
    gone)."""
    ctx = ctx_of(request)
    rows = read_overview_rows(reader, customer_id)
    if rows is None:
        return None
    keys = panel_keys(ctx, reader, customer_id, language)
    if keys is None:
        return None
    return rows, keys, client_chrome(request, language)


async def dashboard(request: Request) -> Response:
    """Services with status and next due date; unpaid documents (with their pay button)
    first; the panels plugins contribute. Served from the cache when its key (read on the
    event loop, see :class:`~facturo.db.reader.PinnedReader`) is unchanged; otherwise rendered
    in the threadpool."""
    customer = me(request)
    lang = request_language(request)
    slot = (customer.id, lang, impersonated(request))
    if not request.session.get("flash"):
        key = page_key(request, reader_of(request), customer.id, lang)
        remember(request)  # the session's and the key's reads: one round trip next time
        if key is not None:
            body = pages_of(request).get(slot, key)
            if body is not None:
                return HTMLResponse(fill(body, csrf_token(request.session)))
    return await run_in_threadpool(render_dashboard, request, slot)


def render_dashboard(request: Request, slot: tuple[Any, ...]) -> Response:
    """The page rendered in one snapshot with the key read from it, which it is stored under
    (unless there are messages to show or a panel has no key)."""
    ctx = ctx_of(request)
    customer_id, lang = slot[0], slot[1]
    with ctx.db.snapshot_session() as session:
        reader = SessionReader(session)
        rows = read_overview_rows(reader, customer_id)
        if rows is None:  # the guard saw the customer a moment ago
            raise LookupError(f"customer {customer_id} vanished")
        overview = overview_from(customer_id, rows)
        key = None
        if not request.session.get("flash"):
            keys = panel_keys(ctx, reader, customer_id, lang)
            if keys is not None:
                key = (rows, keys, client_chrome(request, lang))
        response = render_page(request, ctx, session, overview, lang, cached=key is not None)
    if key is None:
        return response
    body = bytes(response.body)
    pages_of(request).put(slot, key, body)
    return HTMLResponse(fill(body, csrf_token(request.session)))


def render_page(
    request: Request, ctx: Context, session: Session, overview: Overview, lang: str, cached: bool
) -> HTMLResponse:
    """The dashboard rendered from ``overview`` and the plugins' panels (read in ``session``);
    with the CSRF placeholder instead of the token when the page is to be ``cached``."""
    fresh = session.get(Customer, overview.customer.id)
    panels: list[Any] = []
    for contributed in ctx.hook.client_dashboard_panels(
        ctx=ctx, session=session, customer=fresh, language=lang
    ):
        panels.extend(contributed)
    panels.sort(key=lambda panel: panel.order)
    values: dict[str, Any] = {
        "services": overview.services,
        "documents": overview.documents,
        "panels": panels,
        "customer": overview.customer,
    }
    if cached:
        values["csrf_token"] = PLACEHOLDER
    return render(request, "client/dashboard.html", values)


def routes() -> list[Route]:
    """Dashboard route of the client section."""
    return [Route("/", dashboard, methods=["GET"])]
